//! Which provider should serve when the preferred one cannot: shared by the
//! notifier's "Switch to …" action, the engine's automatic switch and the
//! gateway's failover order, so all three agree on what "healthy" means.

use crate::model::{ProviderKind, ProviderReport, State, StatusReport};

/// Where "Switch to ..." leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alternative {
    pub id: String,
    pub name: String,
}

/// The provider to offer instead of `failing` (in `state`): the first in the
/// fallback order that is operational, else the least troubled one that still
/// works (degraded or rate limited), but only when `failing`'s calls fail.
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
    let mut best: Option<&ProviderReport> = None;
    for id in &report.fallback {
        if id == failing {
            continue;
        }
        let Some(candidate) = report.providers.iter().find(|p| &p.id == id) else {
            continue;
        };
        if candidate.kind == ProviderKind::Status || !acceptable(candidate.state) {
            continue;
        }
        // Strictly better only: ties keep the earlier one in the fallback order.
        if best.is_none_or(|b| candidate.state < b.state) {
            best = Some(candidate);
        }
    }
    best.map(|p| Alternative {
        id: p.id.clone(),
        name: p.name.clone(),
    })
}
