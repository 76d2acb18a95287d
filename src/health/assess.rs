//! One moment's assessment for one provider: combine a probe result and what the
//! status page says, per DESIGN's "Combining" rules. Pure; no history.
//!
//! Hysteresis, flap damping and incidents are `machine`'s job; offline detection
//! needs every provider at once and lives in `check`.

use crate::model::{ProbeReport, State};
use crate::status::PageVerdict;

/// The raw state of one provider at one check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assessment {
    pub state: State,
    pub(crate) summary: String,
    /// The status page reports trouble too (meaningful when `state` is not operational).
    pub(crate) confirmed_by_status_page: bool,
}

/// Combines a probe (if one ran) with the page's verdict (if the provider has a page).
///
/// A failing probe wins: the page lags. A passing probe with a troubled page gives
/// `degraded` with the page's words. Without a probe the page decides.
pub(crate) fn assess(probe: Option<&ProbeReport>, page: Option<&PageVerdict>) -> Assessment {
    let page_trouble = page.filter(|v| matches!(v.state, State::Degraded | State::Outage));
    let page_words = |v: &PageVerdict| {
        v.cause
            .clone()
            .unwrap_or_else(|| format!("status page reports {}", v.state.label()))
    };
    match probe {
        Some(p) if p.class.state() != State::Operational => Assessment {
            state: p.class.state(),
            summary: p.summary(),
            confirmed_by_status_page: page_trouble.is_some(),
        },
        Some(p) => match page_trouble {
            Some(v) => Assessment {
                state: State::Degraded,
                summary: format!("status page: {}", page_words(v)),
                confirmed_by_status_page: true,
            },
            None => Assessment {
                state: State::Operational,
                summary: p.summary(),
                confirmed_by_status_page: false,
            },
        },
        None => match page {
            Some(v) => Assessment {
                state: v.state,
                summary: match v.state {
                    State::Operational => v
                        .cause
                        .clone()
                        .unwrap_or_else(|| "status page: all operational".to_string()),
                    State::Unknown => v
                        .cause
                        .clone()
                        .unwrap_or_else(|| "status page unreadable".to_string()),
                    _ => format!("status page: {}", page_words(v)),
                },
                confirmed_by_status_page: page_trouble.is_some(),
            },
            None => Assessment {
                state: State::Unknown,
                summary: "not checked: no credential and no status page".to_string(),
                confirmed_by_status_page: false,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NetFailure, ProbeClass};
    use chrono::Utc;

    fn probe(class: ProbeClass, status: Option<u16>) -> ProbeReport {
        ProbeReport {
            ok: class == ProbeClass::Ok,
            http_status: status,
            error_type: (status == Some(500)).then(|| "api_error".to_string()),
            message: (status == Some(500)).then(|| "Internal server error".to_string()),
            request_id: None,
            latency_ms: Some(120),
            at: Utc::now(),
            retry_after_secs: None,
            class,
        }
    }

    fn page(state: State, cause: Option<&str>) -> PageVerdict {
        PageVerdict {
            state,
            cause: cause.map(str::to_string),
        }
    }

    #[test]
    fn failing_probe_wins_over_a_green_page() {
        let a = assess(
            Some(&probe(ProbeClass::ServerError, Some(500))),
            Some(&page(State::Operational, None)),
        );
        assert_eq!(a.state, State::Outage);
        assert!(!a.confirmed_by_status_page);
        assert_eq!(a.summary, "HTTP 500 api_error: Internal server error");
    }

    #[test]
    fn failing_probe_with_troubled_page_is_confirmed() {
        let a = assess(
            Some(&probe(ProbeClass::ServerError, Some(500))),
            Some(&page(State::Degraded, Some("Elevated error rates"))),
        );
        assert_eq!(a.state, State::Outage);
        assert!(a.confirmed_by_status_page);
    }

    #[test]
    fn passing_probe_with_troubled_page_is_degraded_in_the_pages_words() {
        let a = assess(
            Some(&probe(ProbeClass::Ok, Some(200))),
            Some(&page(State::Outage, Some("Elevated error rates on Claude Opus"))),
        );
        assert_eq!(a.state, State::Degraded);
        assert_eq!(a.summary, "status page: Elevated error rates on Claude Opus");
        assert!(a.confirmed_by_status_page);
    }

    #[test]
    fn passing_probe_ignores_an_unreadable_page() {
        let a = assess(
            Some(&probe(ProbeClass::Ok, Some(200))),
            Some(&page(State::Unknown, None)),
        );
        assert_eq!(a.state, State::Operational);
    }

    #[test]
    fn without_a_probe_the_page_decides() {
        assert_eq!(
            assess(None, Some(&page(State::Outage, Some("x")))).state,
            State::Outage
        );
        assert_eq!(
            assess(None, Some(&page(State::Unknown, None))).state,
            State::Unknown
        );
        assert_eq!(assess(None, None).state, State::Unknown);
    }

    #[test]
    fn unreachable_probe_is_an_outage_here() {
        let a = assess(
            Some(&probe(
                ProbeClass::Unreachable {
                    failure: NetFailure::Refused,
                },
                None,
            )),
            None,
        );
        assert_eq!(a.state, State::Outage);
        assert_eq!(a.summary, "connection refused");
    }
}
