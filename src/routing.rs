//! Which provider should serve when the preferred one cannot: one ordering,
//! [`healthiest_first`], shared by the notifier's "Switch to …" action, the
//! engine's automatic switch and the gateway's failover order, so all three
//! agree on what "healthiest" means.
//!
//! The rule: the user's order (preferred, then `fallback`), stably sorted by
//! health rank, best first:
//!
//! 1. `operational`;
//! 2. `rate_limited`, then `degraded` (they answer, with trouble);
//! 3. `unknown` and `offline` (nobody knows that they work);
//! 4. `outage` and `auth_error` (their calls fail; still last resorts for the
//!    gateway, as the report may be a minute old).
//!
//! Ties keep the user's order. The provider in use (the gateway's preferred)
//! keeps its place at the front unless its calls fail: DESIGN sends requests
//! to the preferred provider until it is in outage, not as soon as another
//! one looks better. So the gateway's first alternative is the provider the
//! "Switch to …" notice names, whenever the notice names one.

use crate::model::{ProviderKind, ProviderReport, State, StatusReport};

/// Where "Switch to ..." leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alternative {
    pub(crate) id: String,
    pub(crate) name: String,
}

/// A state's rank as a place to send requests: lower is better (see the module header).
fn health_rank(state: State) -> u8 {
    match state {
        State::Operational => 0,
        State::RateLimited => 1,
        State::Degraded => 2,
        State::Unknown | State::Offline => 3,
        State::AuthError | State::Outage => 4,
    }
}

/// `candidates`, given in the user's order, healthiest first: by
/// [`health_rank`] of `state`, ties in the user's order. A candidate for which
/// `in_use` holds stays first while its calls do not fail.
pub(crate) fn healthiest_first<T>(
    mut candidates: Vec<T>,
    state: impl Fn(&T) -> State,
    in_use: impl Fn(&T) -> bool,
) -> Vec<T> {
    // A stable sort: the user's order within each rank.
    candidates.sort_by_key(|c| {
        let s = state(c);
        if in_use(c) && !s.is_failing() {
            (0, 0)
        } else {
            (1, health_rank(s))
        }
    });
    candidates
}

/// The provider to offer instead of `failing` (in `state`): the healthiest in
/// the fallback order by [`healthiest_first`], when it is an improvement:
/// operational, or, when `failing`'s calls fail, at least degraded or rate
/// limited (it still works).
///
/// Candidates are the report's providers (the enabled ones) that can serve
/// requests (not `kind = "status"`: nothing can be sent to a status page) with
/// a known state; `unknown` and `offline` are not offered, as nobody knows
/// they work.
pub fn healthiest_alternative(failing: &str, state: State, report: &StatusReport) -> Option<Alternative> {
    let acceptable = |s: State| {
        if state.is_failing() {
            matches!(s, State::Operational | State::Degraded | State::RateLimited)
        } else {
            s == State::Operational
        }
    };
    let candidates: Vec<&ProviderReport> = report
        .fallback
        .iter()
        .filter(|id| *id != failing)
        .filter_map(|id| report.providers.iter().find(|p| &p.id == id))
        .filter(|p| p.kind != ProviderKind::Status)
        .collect();
    let best = healthiest_first(candidates, |p| p.state, |_| false)
        .into_iter()
        .next()
        .filter(|p| acceptable(p.state))?;
    Some(Alternative {
        id: best.id.clone(),
        name: best.name.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranked(states: &[(&'static str, State)], in_use: &str) -> Vec<&'static str> {
        healthiest_first(states.to_vec(), |c| c.1, |c| c.0 == in_use)
            .into_iter()
            .map(|c| c.0)
            .collect()
    }

    #[test]
    fn operational_then_troubled_then_unknown_then_failing_in_the_users_order() {
        let states = [
            ("a", State::Outage),
            ("b", State::Unknown),
            ("c", State::Degraded),
            ("d", State::AuthError),
            ("e", State::RateLimited),
            ("f", State::Operational),
            ("g", State::Degraded),
            ("h", State::Offline),
        ];
        assert_eq!(ranked(&states, ""), ["f", "e", "c", "g", "b", "h", "a", "d"]);
    }

    #[test]
    fn the_provider_in_use_stays_first_until_it_fails() {
        let states = [("a", State::Degraded), ("b", State::Operational)];
        assert_eq!(ranked(&states, "a"), ["a", "b"]);
        let states = [("a", State::Unknown), ("b", State::Operational)];
        assert_eq!(ranked(&states, "a"), ["a", "b"]);
        let states = [("a", State::Outage), ("b", State::Degraded)];
        assert_eq!(ranked(&states, "a"), ["b", "a"]);
    }
}
