//! Uptime and timeline arithmetic over stored checks. Pure: rows in, numbers
//! out, no store and no clock, so a scripted timeline pins every rule.
//!
//! The rules, shared by [`uptime`] and [`timeline`]:
//!
//! - **Time-weighted.** A check's state holds from its time until the next
//!   check of that provider, but for at most `max_gap` (use [`max_gap_for`] the
//!   check interval). Beyond that, the time is "no data": Switchboard was not
//!   running, or the machine slept, and nothing is claimed about it.
//! - **Clipped** to the window `[from, to]`: a check before `from` still counts
//!   for the part of its span inside the window.
//! - **Up and down.** DOWN is `outage`. UP is `operational`, `degraded` and
//!   `rate_limited` (the provider answers). `auth_error` (the user's key),
//!   `offline` (the user's network) and `unknown` (we cannot tell) are left out
//!   of the denominator: they say nothing about the provider.
//! - Gaps are **omitted** from the timeline, not shown as `unknown`: "we were not
//!   watching" and "we watched and could not tell" are different things, and a
//!   UI draws an absent segment as empty.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::CheckRow;
use crate::model::State;

/// A check holds for at most this many check intervals: one missed round (a
/// slow probe, a confirmation re-probe shifting the schedule) is not a gap,
/// three are.
pub const MAX_GAP_CHECKS: u32 = 3;

/// The `max_gap` for a check interval: [`MAX_GAP_CHECKS`] intervals.
pub fn max_gap_for(interval: Duration) -> Duration {
    interval.saturating_mul(MAX_GAP_CHECKS)
}

/// A stretch of time in one state, for drawing a timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub state: State,
}

/// Percentage (0..=100) of the watched time in `[from, to]` that the provider
/// was up, by the rules in the module docs. `None` when no time in the window
/// counts (no checks, or only excluded states).
///
/// `checks` are one provider's, in any order.
pub fn uptime(checks: &[CheckRow], from: DateTime<Utc>, to: DateTime<Utc>, max_gap: Duration) -> Option<f64> {
    let (mut up, mut down) = (0i64, 0i64);
    for span in spans(checks, from, to, max_gap) {
        let ms = (span.to - span.from).num_milliseconds();
        match span.state {
            State::Outage => down += ms,
            State::Operational | State::Degraded | State::RateLimited => up += ms,
            State::AuthError | State::Offline | State::Unknown => {}
        }
    }
    let total = up + down;
    (total > 0).then(|| up as f64 * 100.0 / total as f64)
}

/// The states of `[from, to]` as segments, oldest first, consecutive spans of
/// the same state merged; time without data is left out (see module docs).
///
/// `checks` are one provider's, in any order.
pub fn timeline(
    checks: &[CheckRow],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    max_gap: Duration,
) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for span in spans(checks, from, to, max_gap) {
        match out.last_mut() {
            Some(last) if last.state == span.state && last.to == span.from => last.to = span.to,
            _ => out.push(span),
        }
    }
    out
}

/// Each check's span `[at, min(next check, at + max_gap))`, clipped to the
/// window, empty spans dropped.
fn spans(
    checks: &[CheckRow],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    max_gap: Duration,
) -> impl Iterator<Item = Segment> {
    let mut sorted: Vec<&CheckRow> = checks.iter().collect();
    sorted.sort_by_key(|c| c.at);
    let gap = TimeDelta::from_std(max_gap).unwrap_or(TimeDelta::MAX);
    let mut out = Vec::with_capacity(sorted.len());
    for (i, check) in sorted.iter().enumerate() {
        let held = check
            .at
            .checked_add_signed(gap)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let end = match sorted.get(i + 1) {
            Some(next) => held.min(next.at),
            None => held,
        };
        let (start, end) = (check.at.max(from), end.min(to));
        if start < end {
            out.push(Segment {
                from: start,
                to: end,
                state: check.state,
            });
        }
    }
    out.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn min(m: i64) -> DateTime<Utc> {
        t0() + TimeDelta::minutes(m)
    }

    fn check(m: i64, state: State) -> CheckRow {
        CheckRow {
            provider: "anthropic".into(),
            at: min(m),
            state,
            latency_ms: Some(100),
            http_status: None,
            summary: String::new(),
        }
    }

    /// One check a minute for `minutes`, in `state_at(minute)`.
    fn every_minute(minutes: i64, state_at: impl Fn(i64) -> State) -> Vec<CheckRow> {
        (0..minutes).map(|m| check(m, state_at(m))).collect()
    }

    fn pct(checks: &[CheckRow], from: i64, to: i64) -> Option<f64> {
        uptime(checks, min(from), min(to), max_gap_for(MINUTE))
    }

    fn assert_close(got: Option<f64>, want: f64) {
        let got = got.expect("some uptime");
        assert!((got - want).abs() < 1e-9, "got {got}, want {want}");
    }

    #[test]
    fn thirty_minute_outage_in_a_day() {
        let day = every_minute(1440, |m| {
            if (600..630).contains(&m) {
                State::Outage
            } else {
                State::Operational
            }
        });
        // 1410 of 1440 minutes up.
        assert_close(pct(&day, 0, 1440), 97.916_666_666_666_67);
        assert_close(pct(&day, 0, 1440), 1410.0 / 1440.0 * 100.0);
    }

    #[test]
    fn degraded_and_rate_limited_count_as_up() {
        let hour = every_minute(60, |m| match m % 3 {
            0 => State::Degraded,
            1 => State::RateLimited,
            _ => State::Operational,
        });
        assert_close(pct(&hour, 0, 60), 100.0);
    }

    #[test]
    fn auth_error_offline_and_unknown_leave_the_denominator() {
        // 60 min: 30 up, 10 down, 20 excluded -> 30 / 40.
        let hour = every_minute(60, |m| match m {
            0..=29 => State::Operational,
            30..=39 => State::Outage,
            40..=46 => State::AuthError,
            47..=53 => State::Offline,
            _ => State::Unknown,
        });
        assert_close(pct(&hour, 0, 60), 75.0);
        let only_excluded = every_minute(60, |_| State::AuthError);
        assert_eq!(pct(&only_excluded, 0, 60), None);
    }

    #[test]
    fn gaps_longer_than_max_gap_are_no_data() {
        // Up 0..10 (checks every minute), nothing until 70, then down 70..80.
        let mut checks = every_minute(10, |_| State::Operational);
        checks.extend((70..80).map(|m| check(m, State::Outage)));
        // The check at 9 holds 3 minutes (max gap), not 61: 12 up, 10 down.
        assert_close(pct(&checks, 0, 80), 12.0 / 22.0 * 100.0);
        // A gap shorter than max_gap is bridged.
        let bridged = vec![check(0, State::Operational), check(2, State::Outage)];
        assert_close(pct(&bridged, 0, 3), 2.0 / 3.0 * 100.0);
    }

    #[test]
    fn window_clips_and_a_check_before_it_holds_in() {
        let checks = vec![check(-1, State::Outage), check(1, State::Operational)];
        // The outage at -1 covers 0..1 of the window, the check at 1 covers 1..4.
        assert_close(pct(&checks, 0, 10), 75.0);
        assert_eq!(pct(&checks, 20, 30), None, "nothing in the window");
        assert_eq!(pct(&[], 0, 30), None);
    }

    #[test]
    fn order_of_rows_does_not_matter() {
        let mut checks = every_minute(30, |m| if m < 10 { State::Outage } else { State::Operational });
        let want = pct(&checks, 0, 30);
        checks.reverse();
        assert_eq!(pct(&checks, 0, 30), want);
    }

    #[test]
    fn timeline_merges_runs_and_omits_gaps() {
        let mut checks = every_minute(10, |m| if m < 5 { State::Operational } else { State::Outage });
        checks.extend((20..25).map(|m| check(m, State::Outage)));
        let segs = timeline(&checks, min(0), min(30), max_gap_for(MINUTE));
        assert_eq!(
            segs,
            vec![
                Segment {
                    from: min(0),
                    to: min(5),
                    state: State::Operational
                },
                // The check at 9 holds until 12 (max gap); 12..20 has no data.
                Segment {
                    from: min(5),
                    to: min(12),
                    state: State::Outage
                },
                Segment {
                    from: min(20),
                    to: min(27),
                    state: State::Outage
                },
            ]
        );
    }

    #[test]
    fn timeline_is_clipped_to_the_window() {
        let checks = every_minute(60, |_| State::Operational);
        let segs = timeline(&checks, min(10), min(20), max_gap_for(MINUTE));
        assert_eq!(
            segs,
            vec![Segment {
                from: min(10),
                to: min(20),
                state: State::Operational
            }]
        );
        assert!(timeline(&checks, min(20), min(10), max_gap_for(MINUTE)).is_empty());
    }

    #[test]
    fn max_gap_is_three_intervals() {
        assert_eq!(max_gap_for(MINUTE), Duration::from_secs(180));
    }
}
