//! The history report: uptime over fixed windows, a timeline and the incidents
//! of a chosen window, per provider. One shape for `GET /api/history` and
//! `switchboard history --json`; built here so both say the same.
//!
//! Also the `24h` / `7d` / `30m` parser that both front ends use for `since`.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{
    max_gap_for, timeline, uptime, CheckRow, HistoryStore, IncidentRow, Segment, StoreError, BUCKET,
    DOWNSAMPLE_AFTER,
};

/// The uptime windows every report carries, with their JSON names.
pub const UPTIME_WINDOWS: [(&str, Duration); 3] = [
    ("24h", Duration::from_secs(24 * 3600)),
    ("7d", Duration::from_secs(7 * 24 * 3600)),
    ("30d", Duration::from_secs(30 * 24 * 3600)),
];

/// The longest `since` accepted: a year. History keeps less (`RETENTION`), but
/// asking for more is not an error worth making; only absurd values are.
const MAX_SINCE: Duration = Duration::from_secs(366 * 24 * 3600);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryReport {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub providers: Vec<ProviderHistory>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderHistory {
    pub id: String,
    pub name: String,
    /// Over the fixed windows ending now, whatever `since` is.
    pub uptime: Uptime,
    /// Over `[since, until]`; time without data is absent.
    pub timeline: Vec<Segment>,
    /// Incidents overlapping `[since, until]`, oldest first.
    pub incidents: Vec<IncidentRow>,
    /// Total minutes we detected the window's incidents before the status page
    /// acknowledged them; `None` when the page acknowledged none of them.
    pub detection_lead_minutes: Option<i64>,
}

/// Uptime percentages (0..=100); `None` is "no data in that window".
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Uptime {
    #[serde(rename = "24h")]
    pub day: Option<f64>,
    #[serde(rename = "7d")]
    pub week: Option<f64>,
    #[serde(rename = "30d")]
    pub month: Option<f64>,
}

/// [`history_report_with`] for the default check interval (60 s). Callers that
/// know the configured interval should pass its [`max_gap_for`] instead.
pub fn history_report(
    store: &dyn HistoryStore,
    providers: &[(String, String)],
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<HistoryReport, StoreError> {
    let default_interval = crate::config::CheckConfig::default().interval;
    history_report_with(store, providers, since, now, max_gap_for(default_interval))
}

/// The report for `providers` (id, display name), in that order.
///
/// `max_gap` is how long a check may hold ([`max_gap_for`] the check
/// interval). Windows reaching back past [`DOWNSAMPLE_AFTER`] mostly hold one
/// row per [`BUCKET`], so there a check may hold for a whole bucket: that is
/// the data's resolution, and a 7-day bar cannot show a 5-minute gap anyway.
pub fn history_report_with(
    store: &dyn HistoryStore,
    providers: &[(String, String)],
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    max_gap: Duration,
) -> Result<HistoryReport, StoreError> {
    let coarse_gap = max_gap.max(BUCKET);
    let gap_for = |from: DateTime<Utc>| {
        if from < back(now, DOWNSAMPLE_AFTER) {
            coarse_gap
        } else {
            max_gap
        }
    };
    let longest = UPTIME_WINDOWS
        .iter()
        .map(|(_, d)| back(now, *d))
        .min()
        .unwrap_or(now);
    // One row further back than any window: the check that holds into it.
    let read_from = back(since.min(longest), coarse_gap);

    // One read of the stores' time-ordered rows, split by provider.
    let mut by_provider: HashMap<String, Vec<CheckRow>> = HashMap::new();
    for row in store.checks(None, read_from)? {
        by_provider.entry(row.provider.clone()).or_default().push(row);
    }
    let mut out = Vec::with_capacity(providers.len());
    for (id, name) in providers {
        let checks = by_provider.remove(id).unwrap_or_default();
        let incidents = store.incidents(Some(id), since)?;
        let [day, week, month] = UPTIME_WINDOWS.map(|(_, window)| {
            let from = back(now, window);
            uptime(&checks, from, now, gap_for(from))
        });
        let leads: Vec<i64> = incidents.iter().filter_map(|i| i.lead_minutes).collect();
        out.push(ProviderHistory {
            id: id.clone(),
            name: name.clone(),
            uptime: Uptime { day, week, month },
            timeline: timeline(&checks, since, now, gap_for(since)),
            detection_lead_minutes: (!leads.is_empty()).then(|| leads.iter().sum()),
            incidents,
        });
    }
    Ok(HistoryReport {
        since,
        until: now,
        providers: out,
    })
}

/// `t - d`, saturating at the earliest time instead of panicking.
fn back(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| t.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinceError {
    #[error("expected a number and a unit (m, h, d or w), like 30m, 24h or 7d; got {0:?}")]
    Syntax(String),
    #[error("{0:?} is an empty window: use at least 1m")]
    Zero(String),
    #[error("{0:?} is too long: history keeps 90 days, and at most 366d is accepted")]
    TooLong(String),
}

/// Parses a look-back like `30m`, `24h`, `7d` or `2w` (one whole number, one unit).
pub fn parse_since(text: &str) -> Result<Duration, SinceError> {
    let s = text.trim();
    let syntax = || SinceError::Syntax(text.to_string());
    let digits = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(syntax)?;
    let (number, unit) = s.split_at(digits);
    let n: u64 = number.parse().map_err(|_| syntax())?;
    let unit_secs = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 24 * 3600,
        "w" => 7 * 24 * 3600,
        _ => return Err(syntax()),
    };
    if n == 0 {
        return Err(SinceError::Zero(text.to_string()));
    }
    match n.checked_mul(unit_secs).map(Duration::from_secs) {
        Some(d) if d <= MAX_SINCE => Ok(d),
        _ => Err(SinceError::TooLong(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_the_documented_forms() {
        assert_eq!(parse_since("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_since("24h"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse_since("7d"), Ok(Duration::from_secs(7 * 86400)));
        assert_eq!(parse_since("90d"), Ok(Duration::from_secs(90 * 86400)));
        assert_eq!(parse_since(" 2w "), Ok(Duration::from_secs(14 * 86400)));
    }

    #[test]
    fn since_rejects_garbage_clearly() {
        for bad in [
            "",
            "h",
            "24",
            "24x",
            "-1h",
            "1.5h",
            "24 h",
            "1h30m",
            "yesterday",
            "24H",
        ] {
            assert!(
                matches!(parse_since(bad), Err(SinceError::Syntax(_))),
                "{bad:?} -> {:?}",
                parse_since(bad)
            );
        }
        assert!(matches!(parse_since("0h"), Err(SinceError::Zero(_))));
        assert!(matches!(parse_since("400d"), Err(SinceError::TooLong(_))));
        assert!(matches!(
            parse_since("99999999999999999999d"),
            Err(SinceError::Syntax(_))
        ));
        assert!(matches!(
            parse_since("9999999999999999d"),
            Err(SinceError::TooLong(_))
        ));
        let msg = parse_since("soon").unwrap_err().to_string();
        assert!(msg.contains("24h") && msg.contains("\"soon\""), "{msg}");
    }
}
