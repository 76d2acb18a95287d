//! The tally behind "seen in your Claude Code sessions: 3 × HTTP 500
//! api_error in the last 5 min": recent API errors from the user's own
//! coding-agent sessions, per provider. The engine owns one per provider;
//! health decisions are the health machine's, this only counts for display.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};

use crate::model::{Agent, AgentErrors, ProbeReport};

/// How far back the card counts.
pub(crate) const WINDOW: Duration = Duration::minutes(5);
/// Entries kept; a storm of errors is still "many", and memory stays flat.
const MAX_KEPT: usize = 64;

#[derive(Clone, Debug)]
struct Seen {
    agent: Agent,
    at: DateTime<Utc>,
    status: Option<u16>,
    error_type: Option<String>,
    request_id: Option<String>,
    model: Option<String>,
}

/// Recent agent errors of one provider.
#[derive(Clone, Debug, Default)]
pub(crate) struct AgentErrorTally {
    seen: VecDeque<Seen>,
    /// The newest error as an observation (see [`AgentErrorTally::latest`]).
    last: Option<ProbeReport>,
}

impl AgentErrorTally {
    pub(crate) fn push(&mut self, agent: Agent, model: Option<String>, report: &ProbeReport) {
        if self.seen.len() == MAX_KEPT {
            self.seen.pop_front();
        }
        self.seen.push_back(Seen {
            agent,
            at: report.at,
            status: report.http_status,
            error_type: report.error_type.clone(),
            request_id: report.request_id.clone(),
            model,
        });
        if self.last.as_ref().is_none_or(|l| l.at <= report.at) {
            self.last = Some(report.clone());
        }
    }

    /// The newest error while it is within the window: for a provider
    /// Switchboard cannot probe, the freshest evidence of how it answers.
    pub(crate) fn latest(&self, now: DateTime<Utc>) -> Option<ProbeReport> {
        self.last.clone().filter(|l| now - l.at <= WINDOW)
    }

    /// What the card shows at `now`, or `None` when nothing is recent.
    pub(crate) fn report(&self, now: DateTime<Utc>) -> Option<AgentErrors> {
        let recent: Vec<&Seen> = self.seen.iter().filter(|s| now - s.at <= WINDOW).collect();
        let last = *recent.iter().max_by_key(|s| s.at)?;
        let same_agent = recent.iter().filter(|s| s.agent == last.agent);
        let count = u32::try_from(same_agent.count()).unwrap_or(u32::MAX);
        let what = match (last.status, &last.error_type) {
            (Some(s), Some(t)) => format!("HTTP {s} {t}"),
            (Some(s), None) => format!("HTTP {s}"),
            (None, Some(t)) => t.clone(),
            (None, None) => "API error".to_string(),
        };
        Some(AgentErrors {
            agent: last.agent,
            count,
            window_secs: WINDOW.num_seconds().unsigned_abs(),
            last_at: last.at,
            last_status: last.status,
            last_error_type: last.error_type.clone(),
            last_request_id: last.request_id.clone(),
            model: last.model.clone(),
            summary: format!(
                "seen in your {} sessions: {count} × {what} in the last {} min",
                last.agent.label(),
                WINDOW.num_minutes()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProbeClass;

    fn report(at: DateTime<Utc>) -> ProbeReport {
        ProbeReport {
            ok: false,
            http_status: Some(500),
            error_type: Some("api_error".into()),
            message: None,
            request_id: Some(format!("req_{}", at.timestamp())),
            latency_ms: Some(0),
            at,
            retry_after_secs: None,
            class: ProbeClass::ServerError,
        }
    }

    #[test]
    fn counts_the_window_and_names_the_last() {
        let now = Utc::now();
        let mut t = AgentErrorTally::default();
        assert_eq!(t.report(now), None);
        t.push(Agent::ClaudeCode, None, &report(now - Duration::minutes(9)));
        assert_eq!(t.report(now), None, "older than the window");
        for s in [3, 2, 1] {
            t.push(
                Agent::ClaudeCode,
                Some("claude-sonnet-4-5".into()),
                &report(now - Duration::seconds(s)),
            );
        }
        let r = t.report(now).expect("recent");
        assert_eq!(r.count, 3);
        assert_eq!(
            r.last_request_id,
            Some(format!("req_{}", (now - Duration::seconds(1)).timestamp()))
        );
        assert_eq!(
            r.summary,
            "seen in your Claude Code sessions: 3 × HTTP 500 api_error in the last 5 min"
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let now = Utc::now();
        let mut t = AgentErrorTally::default();
        for _ in 0..10_000 {
            t.push(Agent::Codex, None, &report(now));
        }
        assert_eq!(t.seen.len(), MAX_KEPT);
        assert_eq!(t.report(now).map(|r| r.count), Some(MAX_KEPT as u32));
    }
}
