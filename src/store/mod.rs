//! History: every check and every incident, kept so the dashboard and
//! `switchboard history` can show uptime, a timeline and how far ahead of the
//! status page Switchboard was.
//!
//! This module owns the [`HistoryStore`] seam (one trait, one file per
//! implementation: [`SqliteStore`] on disk, [`MemoryStore`] for tests and for
//! "no history yet"), the retention policy ([`RETENTION`], downsampling after
//! [`DOWNSAMPLE_AFTER`] into [`BUCKET`]s), the pure arithmetic over stored rows
//! ([`uptime`], [`timeline`]), the report served by `GET /api/history`
//! ([`history_report`]) and the [`spawn_recorder`] task that feeds the store
//! from engine events.
//!
//! It deliberately leaves out deciding health (the engine does), HTTP (the
//! server only calls [`history_report`]) and printing (the CLI).
//!
//! Timestamps are stored with millisecond precision, in both implementations,
//! so that a record read back equals what any store would return.

mod memory;
mod recorder;
mod report;
mod sqlite;
mod uptime;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::health::budget::SpendLedger;
use crate::health::IncidentRecord;
use crate::model::State;

pub use memory::MemoryStore;
pub use recorder::{spawn_recorder, COMPACT_INTERVAL};
pub use report::{
    history_report, history_report_with, parse_since, HistoryReport, ProviderHistory, SinceError, Uptime,
    UPTIME_WINDOWS,
};
pub use sqlite::SqliteStore;
pub use uptime::{max_gap_for, timeline, uptime, Segment, MAX_GAP_CHECKS};

/// How long checks and finished incidents are kept: a quarter is enough to
/// compare this month with the two before, and bounds the file (about 100k
/// check rows for 7 providers).
pub const RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

/// Checks older than this are downsampled: the last day is shown minute by
/// minute, older days only need to show that something happened and when.
pub const DOWNSAMPLE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// One downsampled row stands for this much time: 144 rows a day per provider
/// instead of 1440, and still finer than a pixel of a 7-day timeline.
pub const BUCKET: Duration = Duration::from_secs(10 * 60);

/// [`BUCKET`] in the stores' time unit.
const BUCKET_MS: i64 = BUCKET.as_millis() as i64;

/// One check of one provider, as the engine concluded it (after hysteresis).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRow {
    /// Provider id (`anthropic`), not its display name: names can be edited.
    pub provider: String,
    /// When the round ran. A downsampled row carries its bucket's start.
    pub at: DateTime<Utc>,
    /// The engine's state for the provider after this check. In a downsampled
    /// row, the worst state of its bucket.
    pub state: State,
    /// Probe latency (the largest of the bucket once downsampled).
    pub latency_ms: Option<u64>,
    pub http_status: Option<u16>,
    /// The engine's words for the state ("HTTP 500 api_error: Internal server error").
    /// Empty when unchanged since the provider's previous row (the recorder
    /// stores words only when they change, see `recorder::check_rows`).
    pub summary: String,
}

/// One incident of one provider, with how far ahead of the status page we were.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRow {
    pub provider: String,
    #[serde(flatten)]
    pub record: IncidentRecord,
    /// Minutes between our detection and the status page's acknowledgement
    /// (`IncidentRecord::lead_minutes`), `None` while the page has not said anything.
    pub lead_minutes: Option<i64>,
}

impl IncidentRow {
    pub fn new(provider: impl Into<String>, record: IncidentRecord) -> Self {
        IncidentRow {
            provider: provider.into(),
            lead_minutes: record.lead_minutes(),
            record,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("history database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create the history directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the history database {path} readable by its owner only: {source}")]
    Private {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the history database has schema version {found}, newer than this switchboard knows ({supported}); \
         upgrade switchboard or move the file away"
    )]
    TooNew { found: i64, supported: i64 },
    #[error("the history database holds a timestamp out of range ({0} ms)")]
    BadTimestamp(i64),
}

/// Where history is kept. One trait so the engine's recorder, the server and
/// the tests do not care whether it is a file or memory.
///
/// Every implementation must behave the same; `tests/store.rs` runs one
/// contract suite against each.
pub trait HistoryStore: Send + Sync {
    /// Writes one round's rows atomically: after a crash either the whole round
    /// is there or none of it. A row with the same provider and time replaces
    /// the old one (a retried write is harmless).
    fn record_checks(&self, rows: &[CheckRow]) -> Result<(), StoreError>;

    /// Inserts or replaces the incident keyed by (`provider`, `started_at`): the
    /// engine sends the same incident when it opens, is acknowledged and closes.
    fn upsert_incident(&self, provider: &str, incident: &IncidentRecord) -> Result<(), StoreError>;

    /// Checks at or after `since`, oldest first (then by provider), of one
    /// provider or of all.
    fn checks(&self, provider: Option<&str>, since: DateTime<Utc>) -> Result<Vec<CheckRow>, StoreError>;

    /// Incidents overlapping `[since, now]`: still open, or ended at or after
    /// `since`. Oldest start first (then by provider).
    fn incidents(&self, provider: Option<&str>, since: DateTime<Utc>)
        -> Result<Vec<IncidentRow>, StoreError>;

    /// Applies the retention policy as of `now`: checks in whole buckets older
    /// than [`DOWNSAMPLE_AFTER`] become one row per provider per [`BUCKET`]
    /// (see [`downsample`]); checks and finished incidents older than
    /// [`RETENTION`] are deleted. Idempotent: running it twice changes nothing.
    fn compact(&self, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// US dollars the inference checks spent in `month` (`"2026-12"`); 0 when none.
    fn inference_spent(&self, month: &str) -> Result<f64, StoreError>;

    /// Adds `usd` to the inference checks' spend of `month` (additive, so
    /// `switchboard status --inference` and a running `watch` both count).
    /// Months are kept [`SPEND_MONTHS_KEPT`] back, older ones dropped.
    fn add_inference_spent(&self, month: &str, usd: f64) -> Result<(), StoreError>;
}

/// Months of inference spend kept: this one and the two before, for "what
/// did last month cost".
pub(crate) const SPEND_MONTHS_KEPT: usize = 3;

/// The engine's [`SpendLedger`] over a history store: the month's spend
/// survives restarts. A failing write is logged; the engine's in-memory
/// total still stops the checks at the cap.
pub struct Ledger(pub std::sync::Arc<dyn HistoryStore>);

impl SpendLedger for Ledger {
    fn spent(&self, month: &str) -> f64 {
        self.0.inference_spent(month).unwrap_or_else(|e| {
            tracing::warn!("cannot read the inference spend: {e}");
            0.0
        })
    }

    fn add_spent(&self, month: &str, usd: f64) {
        if let Err(e) = self.0.add_inference_spent(month, usd) {
            tracing::warn!("cannot record the inference spend: {e}");
        }
    }
}

/// `$XDG_DATA_HOME/switchboard/history.sqlite3` (the platform's data dir elsewhere).
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "switchboard").map(|d| d.data_dir().join("history.sqlite3"))
}

/// Merges checks into one row per [`BUCKET`]: the bucket's worst state (so an
/// outage never disappears from an old timeline), with the words and HTTP
/// status of the first check in that state, and the largest latency.
///
/// `rows` are one provider's, oldest first. A bucket that is already one row at
/// its start comes back unchanged, which makes compaction idempotent.
///
/// Uptime over downsampled days is therefore pessimistic by at most one bucket
/// per state change: trouble is rounded up to whole buckets.
pub(crate) fn downsample(rows: &[CheckRow]) -> Vec<CheckRow> {
    let mut out: Vec<CheckRow> = Vec::new();
    let mut current: Option<i64> = None;
    for row in rows {
        let start = bucket_start(to_ms(row.at));
        match out.last_mut() {
            Some(merged) if current == Some(start) => {
                if row.state > merged.state {
                    merged.state = row.state;
                    merged.http_status = row.http_status;
                    // An empty summary means "unchanged": keep the words we have.
                    if !row.summary.is_empty() {
                        merged.summary.clone_from(&row.summary);
                    }
                }
                merged.latency_ms = merged.latency_ms.max(row.latency_ms);
            }
            _ => {
                current = Some(start);
                out.push(CheckRow {
                    at: from_ms(start).unwrap_or(row.at),
                    ..row.clone()
                });
            }
        }
    }
    out
}

/// Milliseconds since the epoch: the stores' time unit.
fn to_ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or(StoreError::BadTimestamp(ms))
}

/// `at` truncated to the stores' precision.
fn truncate_ms(at: DateTime<Utc>) -> DateTime<Utc> {
    from_ms(to_ms(at)).unwrap_or(at)
}

fn bucket_start(ms: i64) -> i64 {
    ms.div_euclid(BUCKET_MS) * BUCKET_MS
}

/// The two limits [`HistoryStore::compact`] applies at `now`, in milliseconds:
/// rows before the first are deleted, rows before the second (a bucket
/// boundary, so only whole buckets are merged) are downsampled.
fn compaction_cutoffs(now: DateTime<Utc>) -> (i64, i64) {
    let now = to_ms(now);
    let retain_from = now.saturating_sub(RETENTION.as_millis() as i64);
    let raw_from = bucket_start(now.saturating_sub(DOWNSAMPLE_AFTER.as_millis() as i64));
    (retain_from, raw_from)
}

/// Whether a row still needs downsampling: a merged row sits at its bucket's start.
fn is_raw(ms: i64) -> bool {
    ms.rem_euclid(BUCKET_MS) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn row(t: &str, state: State, latency: u64, summary: &str) -> CheckRow {
        CheckRow {
            provider: "anthropic".into(),
            at: at(t),
            state,
            latency_ms: Some(latency),
            http_status: Some(200),
            summary: summary.into(),
        }
    }

    #[test]
    fn downsample_keeps_worst_state_first_words_and_max_latency() {
        let rows = vec![
            row("2026-11-24T10:00:30Z", State::Operational, 100, "OK"),
            row("2026-11-24T10:01:30Z", State::Degraded, 900, "slow"),
            row("2026-11-24T10:02:30Z", State::Outage, 300, "HTTP 500 first"),
            row("2026-11-24T10:03:30Z", State::Outage, 200, "HTTP 500 second"),
            row("2026-11-24T10:10:30Z", State::Operational, 120, "OK"),
        ];
        let merged = downsample(&rows);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].at, at("2026-11-24T10:00:00Z"));
        assert_eq!(merged[0].state, State::Outage);
        assert_eq!(merged[0].summary, "HTTP 500 first");
        assert_eq!(merged[0].latency_ms, Some(900));
        assert_eq!(merged[1].at, at("2026-11-24T10:10:00Z"));
        assert_eq!(downsample(&merged), merged, "idempotent");
        assert!(!is_raw(to_ms(merged[1].at)));
    }

    #[test]
    fn cutoffs_are_whole_buckets() {
        let (retain, raw) = compaction_cutoffs(at("2026-11-24T10:07:00Z"));
        assert_eq!(raw, to_ms(at("2026-11-23T10:00:00Z")));
        assert_eq!(retain, to_ms(at("2026-08-26T10:07:00Z")));
    }

    #[test]
    fn default_path_is_in_the_data_dir() {
        let p = default_path().unwrap();
        assert!(p.ends_with("switchboard/history.sqlite3"), "{}", p.display());
    }
}
