//! The recorder: an engine subscriber that writes every finished round and
//! every incident change to a [`HistoryStore`], and runs compaction.
//!
//! It decides nothing about health: it stores what the engine published. The
//! database is touched only inside `spawn_blocking`, one call at a time, so
//! rows land in event order and the async runtime never waits on the disk.
//! Failures are logged and the recorder carries on: losing history must never
//! take monitoring down with it. While writes fail (a full disk), the engine
//! is told, and publishes `history_paused` until a write succeeds again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::MissedTickBehavior;
use tracing::{debug, error, info, warn};

use super::{CheckRow, HistoryStore, StoreError, RETENTION};
use crate::engine::{EngineHandle, Event, HistoryReporter};
use crate::model::{HistoryPaused, StatusReport};

/// How often the recorder compacts (downsampling and retention). Rows only
/// become due a bucket at a time, so more often would find nothing to do.
pub const COMPACT_INTERVAL: Duration = Duration::from_secs(3600);

/// Longest summary stored with a check ("HTTP 500 api_error: Internal server
/// error", a status page's incident name). Longer text is cut with `…`.
pub(crate) const MAX_SUMMARY_CHARS: usize = 300;

/// Starts recording `engine`'s events into `store`; compacts at once and then
/// every `compact_every` ([`COMPACT_INTERVAL`] in production). The task ends
/// when the engine and every handle on it are gone.
///
/// Incidents left open by a previous run (the process was killed during an
/// outage) are closed first, at the last check recorded for them: a fresh
/// engine never resumes them, so they would otherwise stay "ongoing" forever.
pub fn spawn_recorder(
    engine: &EngineHandle,
    store: Arc<dyn HistoryStore>,
    compact_every: Duration,
) -> tokio::task::JoinHandle<()> {
    // Subscribe before spawning, so nothing published from here on is missed.
    let events = engine.subscribe();
    let health = Health {
        reporter: engine.history_reporter(),
        paused: None,
    };
    tokio::spawn(record(events, store, health, compact_every))
}

/// Whether the history is being written, as last told to the engine.
struct Health {
    reporter: HistoryReporter,
    paused: Option<HistoryPaused>,
}

impl Health {
    /// Tells the engine when writes start failing, when the reason changes,
    /// and when they work again; nothing while the state stays the same.
    async fn note(&mut self, outcome: Result<(), String>) {
        let outcome = outcome.map_err(|reason| crate::text::ellipsize(&reason, MAX_SUMMARY_CHARS));
        let next = match (outcome, &self.paused) {
            (Ok(()), None) => return,
            (Ok(()), Some(_)) => None,
            (Err(reason), Some(p)) if p.reason == reason => return,
            (Err(reason), Some(p)) => Some(HistoryPaused {
                since: p.since,
                reason,
            }),
            (Err(reason), None) => Some(HistoryPaused {
                since: Utc::now(),
                reason,
            }),
        };
        self.paused = next.clone();
        self.reporter.set(next).await;
    }
}

async fn record(
    mut events: tokio::sync::broadcast::Receiver<Event>,
    store: Arc<dyn HistoryStore>,
    mut health: Health,
    compact_every: Duration,
) {
    let outcome = on_store(&store, "close interrupted incidents", |s| {
        close_interrupted(s, Utc::now())
    })
    .await;
    health.note(outcome).await;
    // `interval` panics on zero; its first tick is immediate.
    let mut compaction = tokio::time::interval(compact_every.max(Duration::from_secs(1)));
    compaction.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_summaries = HashMap::new();
    let mut last_probes = HashMap::new();
    loop {
        tokio::select! {
            _ = compaction.tick() => {
                let outcome = on_store(&store, "compact", |s| s.compact(Utc::now())).await;
                health.note(outcome).await;
            }
            event = events.recv() => match event {
                Ok(Event::CheckFinished { report }) => {
                    let rows = check_rows(&report, &mut last_summaries, &mut last_probes);
                    if !rows.is_empty() {
                        let outcome = on_store(&store, "record checks", move |s| s.record_checks(&rows)).await;
                        health.note(outcome).await;
                    }
                }
                Ok(
                    Event::IncidentOpened { id, incident }
                    | Event::IncidentAcknowledged { id, incident }
                    | Event::IncidentClosed { id, incident },
                ) => {
                    let outcome =
                        on_store(&store, "record an incident", move |s| s.upsert_incident(&id, &incident)).await;
                    health.note(outcome).await;
                }
                Ok(_) => {}
                Err(RecvError::Lagged(missed)) => {
                    warn!(missed, "history recorder fell behind: some events were not recorded");
                }
                Err(RecvError::Closed) => break,
            },
        }
    }
    debug!("history recorder stopped");
}

/// One row per provider that this round actually observed (a probe answered
/// or failed, or its status page was read). A provider with neither (no key,
/// no page) has nothing to record: its `unknown` is not an observation; nor
/// has one whose probe is the one already recorded (`last_probes`: it was
/// still being checked while the others' answers came in).
///
/// The summary is stored only when it differs from the provider's previous
/// row in this run (an empty summary means "unchanged"), and cut to
/// [`MAX_SUMMARY_CHARS`]: status-page words repeat every round and must not
/// grow the database with them.
fn check_rows(
    report: &StatusReport,
    last: &mut HashMap<String, String>,
    last_probes: &mut HashMap<String, DateTime<Utc>>,
) -> Vec<CheckRow> {
    report
        .providers
        .iter()
        .filter(|p| p.probe.is_some() || p.status_page.is_some())
        .filter(|p| match &p.probe {
            Some(probe) => last_probes.insert(p.id.clone(), probe.at) != Some(probe.at),
            None => true,
        })
        .map(|p| {
            let summary = crate::text::ellipsize(&p.summary, MAX_SUMMARY_CHARS);
            let summary = match last.get(&p.id) {
                Some(previous) if *previous == summary => String::new(),
                _ => {
                    last.insert(p.id.clone(), summary.clone());
                    summary
                }
            };
            CheckRow {
                provider: p.id.clone(),
                at: report.checked_at,
                state: p.state,
                latency_ms: p.probe.as_ref().and_then(|r| r.latency_ms),
                http_status: p.probe.as_ref().and_then(|r| r.http_status),
                summary,
            }
        })
        .collect()
}

/// Ends incidents that have no end: the previous process stopped during them.
/// Each ends at the last check recorded for its provider (not before it was
/// detected), the last moment we know it was going on.
fn close_interrupted(store: &dyn HistoryStore, now: DateTime<Utc>) -> Result<(), StoreError> {
    let horizon = chrono::TimeDelta::from_std(RETENTION)
        .ok()
        .and_then(|r| now.checked_sub_signed(r))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    for row in store.incidents(None, horizon)? {
        if row.record.ended_at.is_some() {
            continue;
        }
        let last_seen = store
            .checks(Some(&row.provider), row.record.started_at)?
            .last()
            .map_or(row.record.detected_at, |c| c.at.max(row.record.detected_at));
        let mut record = row.record;
        record.ended_at = Some(last_seen);
        info!(provider = %row.provider, started_at = %record.started_at, "closing an incident interrupted by a restart");
        store.upsert_incident(&row.provider, &record)?;
    }
    Ok(())
}

/// Runs `job` on the blocking pool and logs its failure; never panics.
/// Returns the failure in words (for `history_paused`).
async fn on_store<F>(store: &Arc<dyn HistoryStore>, what: &'static str, job: F) -> Result<(), String>
where
    F: FnOnce(&dyn HistoryStore) -> Result<(), StoreError> + Send + 'static,
{
    let store = Arc::clone(store);
    match tokio::task::spawn_blocking(move || job(store.as_ref())).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            error!(error = %e, "history: could not {what}");
            Err(e.to_string())
        }
        Err(e) => {
            error!(error = %e, "history: the task to {what} failed");
            Err(format!("the task to {what} failed"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::IncidentRecord;
    use crate::model::State;
    use crate::store::MemoryStore;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn interrupted_incident_ends_at_its_last_check() {
        let store = MemoryStore::new();
        let open = IncidentRecord {
            model: None,
            state: State::Outage,
            started_at: at("2026-11-24T10:00:00Z"),
            detected_at: at("2026-11-24T10:00:10Z"),
            acknowledged_at: None,
            ended_at: None,
            cause: "HTTP 500".into(),
            request_id: None,
        };
        store.upsert_incident("anthropic", &open).unwrap();
        let other = IncidentRecord {
            started_at: at("2026-11-24T10:05:00Z"),
            detected_at: at("2026-11-24T10:05:00Z"),
            ..open.clone()
        };
        store.upsert_incident("openai", &other).unwrap();
        let check = |t: &str| CheckRow {
            provider: "anthropic".into(),
            at: at(t),
            state: State::Outage,
            latency_ms: None,
            http_status: Some(500),
            summary: "HTTP 500".into(),
        };
        store
            .record_checks(&[check("2026-11-24T10:01:00Z"), check("2026-11-24T10:02:00Z")])
            .unwrap();

        close_interrupted(&store, at("2026-11-24T12:00:00Z")).unwrap();
        let rows = store.incidents(None, at("2026-11-24T00:00:00Z")).unwrap();
        assert_eq!(rows[0].record.ended_at, Some(at("2026-11-24T10:02:00Z")));
        assert_eq!(
            rows[1].record.ended_at,
            Some(at("2026-11-24T10:05:00Z")),
            "no checks: detection"
        );
    }
}
