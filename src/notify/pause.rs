//! "Pause notifications" (tray menu: 1 hour / until tomorrow / resume) as a
//! pure value. The notifier checks it for every notice; nothing here reads a clock.
//!
//! "Until tomorrow" means 08:00 local time on the next day, except between
//! midnight and 04:00, when someone still up means *this* morning: pausing at
//! 23:30 or at 01:30 both end at the coming 08:00, pausing at 07:00 ends the day
//! after. A fixed time of day is easier to predict than "24 hours from now".

use chrono::{DateTime, Days, LocalResult, NaiveTime, TimeDelta, TimeZone, Timelike, Utc};

/// How long "Pause for 1 hour" lasts.
pub(crate) const ONE_HOUR: TimeDelta = TimeDelta::hours(1);
/// Local hour at which "until tomorrow" ends.
pub(crate) const MORNING_HOUR: u32 = 8;
/// Before this local hour, "tomorrow" is still the coming morning (see the module docs).
pub(crate) const NIGHT_ENDS_HOUR: u32 = 4;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pause {
    #[default]
    None,
    Until(DateTime<Utc>),
}

impl Pause {
    pub fn for_one_hour(now: DateTime<Utc>) -> Pause {
        Pause::Until(now + ONE_HOUR)
    }

    /// Until the next morning at 08:00 local time (see the module docs).
    pub fn until_tomorrow(now: DateTime<Utc>) -> Pause {
        Pause::until_morning_in(now, &chrono::Local)
    }

    /// [`Pause::until_tomorrow`] in a given time zone (tests use fixed offsets).
    pub(crate) fn until_morning_in<Tz: TimeZone>(now: DateTime<Utc>, tz: &Tz) -> Pause {
        let local = now.with_timezone(tz);
        let mut day = local.date_naive();
        if local.hour() >= NIGHT_ENDS_HOUR {
            day = day.checked_add_days(Days::new(1)).unwrap_or(day);
        }
        let morning = NaiveTime::from_hms_opt(MORNING_HOUR, 0, 0).unwrap_or(NaiveTime::MIN);
        let wanted = day.and_time(morning);
        let end = match tz.from_local_datetime(&wanted) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            // Clocks went back: the first 08:00 of the two.
            LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
            // Clocks went forward over 08:00 (no zone does that, but be total):
            // an hour later is the same wall-clock morning.
            LocalResult::None => tz
                .from_local_datetime(&(wanted + ONE_HOUR))
                .earliest()
                .map_or(now + TimeDelta::hours(24), |t| t.with_timezone(&Utc)),
        };
        Pause::Until(end)
    }

    pub(crate) fn is_paused(&self, now: DateTime<Utc>) -> bool {
        match self {
            Pause::None => false,
            Pause::Until(end) => now < *end,
        }
    }

    /// When the pause ends, if it is still on at `now` (for the tray's "paused until 08:00").
    pub fn ends_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Pause::Until(end) if now < *end => Some(*end),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn none_is_never_paused() {
        assert!(!Pause::None.is_paused(utc("2026-11-24T10:00:00Z")));
        assert_eq!(Pause::default(), Pause::None);
        assert_eq!(Pause::None.ends_at(utc("2026-11-24T10:00:00Z")), None);
    }

    #[test]
    fn one_hour_ends_after_an_hour() {
        let now = utc("2026-11-24T10:00:00Z");
        let p = Pause::for_one_hour(now);
        assert!(p.is_paused(now));
        assert!(p.is_paused(now + TimeDelta::minutes(59)));
        assert!(!p.is_paused(now + TimeDelta::minutes(60)));
        assert_eq!(p.ends_at(now), Some(now + ONE_HOUR));
        assert_eq!(p.ends_at(now + ONE_HOUR), None);
    }

    #[test]
    fn until_tomorrow_ends_at_the_next_local_morning() {
        let berlin = FixedOffset::east_opt(3600).unwrap();
        // 23:30 local on the 24th -> 08:00 local on the 25th.
        let p = Pause::until_morning_in(utc("2026-11-24T22:30:00Z"), &berlin);
        assert_eq!(p, Pause::Until(utc("2026-11-25T07:00:00Z")));
        // 10:00 local -> tomorrow 08:00, not today's (already past).
        let p = Pause::until_morning_in(utc("2026-11-24T09:00:00Z"), &berlin);
        assert_eq!(p, Pause::Until(utc("2026-11-25T07:00:00Z")));
        // 07:00 local: "tomorrow" is the next day, not in an hour.
        let p = Pause::until_morning_in(utc("2026-11-24T06:00:00Z"), &berlin);
        assert_eq!(p, Pause::Until(utc("2026-11-25T07:00:00Z")));
        // 01:30 local on the 25th: still the night of the 24th -> 08:00 on the 25th.
        let p = Pause::until_morning_in(utc("2026-11-25T00:30:00Z"), &berlin);
        assert_eq!(p, Pause::Until(utc("2026-11-25T07:00:00Z")));
    }

    #[test]
    fn until_tomorrow_uses_the_local_date_not_utc() {
        // 20:00 in New York is already the next day in UTC.
        let new_york = FixedOffset::west_opt(5 * 3600).unwrap();
        let p = Pause::until_morning_in(utc("2026-11-25T01:00:00Z"), &new_york);
        assert_eq!(p, Pause::Until(utc("2026-11-25T13:00:00Z")));
    }

    #[test]
    fn until_tomorrow_in_the_system_zone_is_within_a_day() {
        let now = utc("2026-11-24T12:00:00Z");
        let end = Pause::until_tomorrow(now).ends_at(now).unwrap();
        assert!(end > now && end <= now + TimeDelta::hours(32), "{end}");
    }
}
