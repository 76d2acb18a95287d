//! [`HistoryStore`] in memory: for tests, and for "no history yet" (the CLI
//! reports over an empty one). Same behaviour as the SQLite store, including
//! millisecond timestamps; the contract suite in `tests/store.rs` holds both to it.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use super::{
    bucket_start, compaction_cutoffs, downsample, from_ms, is_raw, to_ms, truncate_ms, CheckRow,
    HistoryStore, IncidentRow, StoreError,
};
use crate::health::IncidentRecord;

/// Rows keyed like the SQLite primary keys: (provider, time in ms).
#[derive(Default)]
struct Tables {
    checks: BTreeMap<(String, i64), CheckRow>,
    incidents: BTreeMap<(String, i64), IncidentRecord>,
    spend: BTreeMap<String, f64>,
}

#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn truncate_record(r: &IncidentRecord) -> IncidentRecord {
    IncidentRecord {
        started_at: truncate_ms(r.started_at),
        detected_at: truncate_ms(r.detected_at),
        acknowledged_at: r.acknowledged_at.map(truncate_ms),
        ended_at: r.ended_at.map(truncate_ms),
        ..r.clone()
    }
}

impl HistoryStore for MemoryStore {
    fn inference_spent(&self, month: &str) -> Result<f64, StoreError> {
        Ok(self.lock().spend.get(month).copied().unwrap_or(0.0))
    }

    fn add_inference_spent(&self, month: &str, usd: f64) -> Result<(), StoreError> {
        let mut t = self.lock();
        *t.spend.entry(month.to_string()).or_insert(0.0) += usd;
        while t.spend.len() > super::SPEND_MONTHS_KEPT {
            let Some(oldest) = t.spend.keys().next().cloned() else {
                break;
            };
            t.spend.remove(&oldest);
        }
        Ok(())
    }

    fn record_checks(&self, rows: &[CheckRow]) -> Result<(), StoreError> {
        let mut t = self.lock();
        for r in rows {
            let row = CheckRow {
                at: truncate_ms(r.at),
                ..r.clone()
            };
            t.checks.insert((r.provider.clone(), to_ms(r.at)), row);
        }
        Ok(())
    }

    fn upsert_incident(&self, provider: &str, incident: &IncidentRecord) -> Result<(), StoreError> {
        self.lock().incidents.insert(
            (provider.to_string(), to_ms(incident.started_at)),
            truncate_record(incident),
        );
        Ok(())
    }

    fn checks(&self, provider: Option<&str>, since: DateTime<Utc>) -> Result<Vec<CheckRow>, StoreError> {
        let t = self.lock();
        let mut rows: Vec<CheckRow> = t
            .checks
            .iter()
            .filter(|((p, at), _)| provider.is_none_or(|want| want == p) && *at >= to_ms(since))
            .map(|(_, r)| r.clone())
            .collect();
        rows.sort_by(|a, b| (a.at, &a.provider).cmp(&(b.at, &b.provider)));
        Ok(rows)
    }

    fn incidents(
        &self,
        provider: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<IncidentRow>, StoreError> {
        let t = self.lock();
        let mut rows: Vec<IncidentRow> = t
            .incidents
            .iter()
            .filter(|((p, _), r)| {
                provider.is_none_or(|want| want == p) && r.ended_at.is_none_or(|end| end >= since)
            })
            .map(|((p, _), r)| IncidentRow::new(p.clone(), r.clone()))
            .collect();
        rows.sort_by(|a, b| (a.record.started_at, &a.provider).cmp(&(b.record.started_at, &b.provider)));
        Ok(rows)
    }

    fn compact(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let (retain_from, raw_from) = compaction_cutoffs(now);
        let retain_time = from_ms(retain_from)?;
        let mut t = self.lock();
        t.checks.retain(|(_, at), _| *at >= retain_from);
        t.incidents
            .retain(|_, r| r.ended_at.is_none_or(|end| end >= retain_time));

        // The same plan as the SQLite store: per provider, from the first bucket
        // with an unmerged row up to the cut-off.
        let mut pending: BTreeMap<String, i64> = BTreeMap::new();
        for (p, at) in t.checks.keys() {
            if *at < raw_from && is_raw(*at) {
                let first = pending.entry(p.clone()).or_insert(*at);
                *first = (*first).min(*at);
            }
        }
        for (provider, first) in pending {
            let range = (provider.clone(), bucket_start(first))..(provider.clone(), raw_from);
            let keys: Vec<(String, i64)> = t.checks.range(range).map(|(k, _)| k.clone()).collect();
            let rows: Vec<CheckRow> = keys.iter().filter_map(|k| t.checks.remove(k)).collect();
            for row in downsample(&rows) {
                t.checks.insert((provider.clone(), to_ms(row.at)), row);
            }
        }
        Ok(())
    }
}
