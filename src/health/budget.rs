//! The monthly budget of the inference checks: what they spent this calendar
//! month (UTC), whether the cap is reached, and how far the interval must
//! stretch so the projected month stays inside it. Pure: the engine feeds it
//! spends with timestamps; persistence goes through the [`SpendLedger`] seam
//! (the history database implements it), so the total survives restarts.
//!
//! Left out on purpose: prices (`probe::prices`) and scheduling (the engine).

use std::time::Duration;

use chrono::{DateTime, Datelike, TimeZone, Utc};

/// Where the month's spend is kept between runs. Implemented by the history
/// store; `None` in the engine means "in memory only" (tests, `status`).
pub trait SpendLedger: Send + Sync {
    /// US dollars recorded for `month` (`"2026-12"`); 0 when none.
    fn spent(&self, month: &str) -> f64;
    /// Adds `usd` to the month's spend.
    fn add_spent(&self, month: &str, usd: f64);
}

/// The spend of one month against a cap.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Budget {
    month: String,
    spent_usd: f64,
    limit_usd: f64,
}

/// The month key of `at`: `"2026-12"`.
pub fn month_of(at: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", at.year(), at.month())
}

/// The first instant of the month after `at`'s.
fn next_month_start(at: DateTime<Utc>) -> DateTime<Utc> {
    let (y, m) = if at.month() == 12 {
        (at.year() + 1, 1)
    } else {
        (at.year(), at.month() + 1)
    };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .single()
        .unwrap_or(at + chrono::Duration::days(31))
}

impl Budget {
    /// A budget for `at`'s month that has already spent `spent_usd`.
    pub(crate) fn new(limit_usd: f64, at: DateTime<Utc>, spent_usd: f64) -> Budget {
        Budget {
            month: month_of(at),
            spent_usd: spent_usd.max(0.0),
            limit_usd,
        }
    }

    pub(crate) fn month(&self) -> &str {
        &self.month
    }

    pub(crate) fn spent_usd(&self) -> f64 {
        self.spent_usd
    }

    pub(crate) fn limit_usd(&self) -> f64 {
        self.limit_usd
    }

    pub(crate) fn set_limit(&mut self, limit_usd: f64) {
        self.limit_usd = limit_usd;
    }

    /// Starts a new month at 0 when `at` is in a later month than the
    /// budget's. Returns whether it rolled over.
    pub(crate) fn roll(&mut self, at: DateTime<Utc>) -> bool {
        let month = month_of(at);
        if month == self.month {
            return false;
        }
        self.month = month;
        self.spent_usd = 0.0;
        true
    }

    /// Adds one check's cost, spent at `at` (rolling over first).
    pub(crate) fn add(&mut self, at: DateTime<Utc>, usd: f64) {
        self.roll(at);
        if usd.is_finite() && usd > 0.0 {
            self.spent_usd += usd;
        }
    }

    /// The cap is reached: checks stop until the month ends (or the cap rises).
    pub(crate) fn exhausted(&self) -> bool {
        self.spent_usd >= self.limit_usd
    }

    /// The interval between checks of each model: `base`, or longer when
    /// checking every model (`cost_per_round` US dollars for one check of
    /// each) every `base` for the rest of the month would spend more than
    /// what is left. Never shorter than `base`.
    pub(crate) fn interval(&self, base: Duration, cost_per_round: f64, at: DateTime<Utc>) -> Duration {
        let left = self.limit_usd - self.spent_usd;
        if cost_per_round <= 0.0 || !cost_per_round.is_finite() {
            return base;
        }
        let remaining = (next_month_start(at) - at).to_std().unwrap_or(Duration::ZERO);
        if left <= 0.0 {
            return remaining.max(base);
        }
        // Rounds affordable with what is left, spread over what is left of the month.
        let rounds = left / cost_per_round;
        let stretched =
            Duration::from_secs_f64((remaining.as_secs_f64() / rounds).min(remaining.as_secs_f64()));
        stretched.max(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn spend_accumulates_and_stops_at_the_cap() {
        let mut b = Budget::new(1.0, at("2026-12-07T00:00:00Z"), 0.0);
        b.add(at("2026-12-07T00:01:00Z"), 0.6);
        assert!(!b.exhausted());
        b.add(at("2026-12-07T00:02:00Z"), 0.4);
        assert!(b.exhausted());
    }

    #[test]
    fn a_new_month_starts_at_zero() {
        let mut b = Budget::new(1.0, at("2026-12-31T23:59:00Z"), 1.0);
        assert!(b.exhausted());
        b.add(at("2027-01-01T00:00:30Z"), 0.01);
        assert_eq!(b.month(), "2027-01");
        assert!((b.spent_usd() - 0.01).abs() < 1e-12);
        assert!(!b.exhausted());
    }

    #[test]
    fn the_interval_stretches_only_when_the_month_would_overspend() {
        let base = Duration::from_secs(60);
        // 30 days left (April 1st), $1 left; 0.00001/round × 43200 rounds = $0.43: fits.
        let b = Budget::new(1.0, at("2026-04-01T00:00:00Z"), 0.0);
        assert_eq!(b.interval(base, 0.00001, at("2026-04-01T00:00:00Z")), base);
        // Sonnet: $0.000045/round → $1.94 at 60 s; stretched to about 117 s.
        let i = b.interval(base, 0.000045, at("2026-04-01T00:00:00Z"));
        assert!(
            i > Duration::from_secs(110) && i < Duration::from_secs(120),
            "{i:?}"
        );
        // Half spent, half the month left: the same stretch.
        let half = Budget::new(1.0, at("2026-04-16T00:00:00Z"), 0.5);
        let j = half.interval(base, 0.000045, at("2026-04-16T00:00:00Z"));
        assert!(
            j > Duration::from_secs(110) && j < Duration::from_secs(120),
            "{j:?}"
        );
    }
}
