//! What a notification says: pure functions from an incident and the latest
//! [`StatusReport`] (which carries every enabled provider's name, kind, state,
//! probe and credential source) to a [`Notice`] (title, body, action).
//!
//! No I/O and no clock: the words are decided here and unit-tested; showing them
//! is `desktop`'s job, and deciding *whether* to show them is `tracker`'s.

use chrono::TimeDelta;

use crate::config::NotificationConfig;
use crate::health::IncidentRecord;
use crate::model::{Agent, CredentialSource, ProviderKind, ProviderReport, State, StatusReport};
pub use crate::routing::{healthiest_alternative, Alternative};

/// The action key of "Switch to …" (what the notification server
/// sends back in `ActionInvoked`).
pub const SWITCH_ACTION: &str = "switch";

/// A cause longer than this is cut: a notification is a glance, and a proxy's
/// error page can be long. The dashboard and `status` show the full text.
const MAX_CAUSE_CHARS: usize = 200;

/// Joins the parts of a body on one line (notification servers wrap it).
const SEPARATOR: &str = " · ";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    /// An incident began: outage, or degraded / rate limited when
    /// `[notifications] degraded = true`.
    OutageBegan,
    /// An announced incident ended.
    OutageEnded,
    /// The provider refused the user's key or account (`auth_error`): the user
    /// must act, and it is not the provider's outage.
    CredentialProblem,
    /// An announced credential problem ended.
    CredentialFixed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    /// The provider the notice is about (its id).
    pub(crate) provider: String,
    /// The incident's state (for an ending notice, the worst state it reached).
    pub(crate) state: State,
    pub summary: String,
    pub body: String,
    /// The healthiest alternative, offered as an action; only when the
    /// preferred provider fails and a better one exists.
    pub switch_to: Option<Alternative>,
}

impl Notice {
    /// Whether the notice asks for attention now (critical urgency): the
    /// user's calls are failing.
    pub(crate) fn is_urgent(&self) -> bool {
        match self.kind {
            NoticeKind::OutageBegan => self.state == State::Outage,
            NoticeKind::CredentialProblem => true,
            NoticeKind::OutageEnded | NoticeKind::CredentialFixed => false,
        }
    }

    /// The label of the switch action, when there is one.
    pub fn action_label(&self) -> Option<String> {
        self.switch_to.as_ref().map(|a| format!("Switch to {}", a.name))
    }
}

/// Whether an incident in `state` is announced at all: failures always,
/// degraded and rate limited only when the user asked for them.
pub(crate) fn announces(state: State, settings: &NotificationConfig) -> bool {
    match state {
        State::Outage | State::AuthError => true,
        State::Degraded | State::RateLimited => settings.degraded,
        State::Operational | State::Offline | State::Unknown => false,
    }
}

/// The notice for an incident that began (or, see `tracker`, escalated into an
/// announced state).
///
/// Outage: "Claude API: outage" / "HTTP 500 api_error: Internal server error ·
/// request req_… · not yet on the status page". Credential problem:
/// "Anthropic rejected your key" / "authentication_error: invalid x-api-key —
/// update it with `switchboard key set anthropic`".
pub fn began(id: &str, incident: &IncidentRecord, report: &StatusReport) -> Notice {
    let current = report.providers.iter().find(|p| p.id == id);
    let name = display_name(id, current);
    let switch_to = if report.preferred.as_deref() == Some(id) {
        healthiest_alternative(id, incident.state, report)
    } else {
        None
    };
    if incident.state == State::AuthError {
        return Notice {
            kind: NoticeKind::CredentialProblem,
            provider: id.to_string(),
            state: incident.state,
            summary: format!("{} rejected your key", vendor(current, &name)),
            body: credential_body(id, incident, current),
            switch_to,
        };
    }
    let failing_probe = current.and_then(|p| p.probe.as_ref()).filter(|probe| !probe.ok);
    let mut parts = vec![shorten(&incident.cause)];
    let request_id = incident
        .request_id
        .clone()
        .or_else(|| failing_probe.and_then(|p| p.request_id.clone()));
    if let Some(r) = request_id {
        parts.push(format!("request {r}"));
    }
    if incident.state == State::RateLimited {
        // From a header: too large for a TimeDelta is not worth a panic.
        let wait = failing_probe
            .and_then(|p| p.retry_after_secs)
            .and_then(|secs| i64::try_from(secs).ok())
            .and_then(TimeDelta::try_seconds);
        if let Some(wait) = wait {
            parts.push(format!("retry after {}", format_duration(wait)));
        }
    }
    // Only a failing probe can be ahead of the page; a page-only incident *is*
    // the page's word, and a passing probe with a troubled page says so in the cause.
    if failing_probe.is_some() || incident.model.is_some() {
        let acknowledged =
            incident.acknowledged_at.is_some() || current.is_some_and(|p| p.confirmed_by_status_page);
        parts.push(
            if acknowledged {
                "confirmed by the status page"
            } else {
                "not yet on the status page"
            }
            .to_string(),
        );
    }
    Notice {
        kind: NoticeKind::OutageBegan,
        provider: id.to_string(),
        state: incident.state,
        summary: match &incident.model {
            // Which model fails, not just which provider.
            Some(model) => format!("{name} ({model}): {}", incident.state.label()),
            None => format!("{name}: {}", incident.state.label()),
        },
        body: parts.join(SEPARATOR),
        switch_to,
    }
}

/// The notice for an announced incident that ended. `announced` is the kind of
/// the notice that began it, so that a fixed key is not called a recovery.
///
/// "Claude API recovered" / "after 12 min (outage: HTTP 500 api_error: …) ·
/// detected 9 min before the status page".
pub(crate) fn ended(
    id: &str,
    incident: &IncidentRecord,
    announced: NoticeKind,
    report: &StatusReport,
) -> Notice {
    let current = report.providers.iter().find(|p| p.id == id);
    let name = display_name(id, current);
    let lasted = incident
        .ended_at
        .map(|end| format_duration(end - incident.started_at));
    if announced == NoticeKind::CredentialProblem {
        return Notice {
            kind: NoticeKind::CredentialFixed,
            provider: id.to_string(),
            state: incident.state,
            summary: format!("{} accepts your key again", vendor(current, &name)),
            body: match lasted {
                Some(d) => format!("{name} works again, after {d}"),
                None => format!("{name} works again"),
            },
            switch_to: None,
        };
    }
    let what = format!("{}: {}", incident.state.label(), shorten(&incident.cause));
    let mut body = match lasted {
        Some(d) => format!("after {d} ({what})"),
        None => format!("({what})"),
    };
    // Page-only incidents are acknowledged when they open, so "never" can only
    // be said of one we found by probing.
    match incident.lead_minutes() {
        Some(0) => {}
        Some(n) => body.push_str(&format!("{SEPARATOR}detected {n} min before the status page")),
        None => body.push_str(&format!("{SEPARATOR}the status page never reported it")),
    }
    Notice {
        kind: NoticeKind::OutageEnded,
        provider: id.to_string(),
        state: incident.state,
        summary: format!("{name} recovered"),
        body,
        switch_to: None,
    }
}

pub(crate) use crate::model::duration_words as format_duration;

fn credential_body(id: &str, incident: &IncidentRecord, current: Option<&ProviderReport>) -> String {
    let probe = current.and_then(|p| p.probe.as_ref()).filter(|p| !p.ok);
    let detail = match probe.map(|p| (&p.error_type, &p.message)) {
        Some((Some(t), Some(m))) => format!("{t}: {m}"),
        Some((Some(t), None)) => t.clone(),
        _ => incident.cause.clone(),
    };
    let env = current.and_then(|p| p.api_key_env.as_deref());
    // The keyring wins over the variable, so storing a key fixes both cases.
    // Without a key of ours, the rejection came from the user's own agent
    // session: their login there is what needs renewing.
    let agent = current
        .filter(|p| !matches!(p.credential, CredentialSource::Keyring | CredentialSource::Env))
        .and_then(|p| p.agent_errors.as_ref())
        .map(|seen| seen.agent);
    let advice = match (current.map(|p| p.credential), env) {
        _ if agent == Some(Agent::ClaudeCode) => "run /login in Claude Code".to_string(),
        _ if agent == Some(Agent::Codex) => "run `codex login` again".to_string(),
        (Some(CredentialSource::Env), Some(var)) => {
            format!("update ${var}, or store a key with `switchboard key set {id}`")
        }
        _ => format!("update it with `switchboard key set {id}`"),
    };
    format!("{} — {advice}", shorten(&detail))
}

/// The provider's name, or its id when the report no longer has it.
fn display_name(id: &str, current: Option<&ProviderReport>) -> String {
    current.map_or_else(|| id.to_string(), |p| p.name.clone())
}

/// Who issued the key, by the provider's kind: "Anthropic rejected your key"
/// reads better than the product name, and is right for every provider of
/// that kind. Others (OpenAI-compatible servers) go by their name.
const VENDORS: [(ProviderKind, &str); 5] = [
    (ProviderKind::Anthropic, "Anthropic"),
    (ProviderKind::Openai, "OpenAI"),
    (ProviderKind::Gemini, "Google"),
    (ProviderKind::Vertex, "Google Cloud"),
    (ProviderKind::Bedrock, "AWS"),
];

fn vendor(current: Option<&ProviderReport>, name: &str) -> String {
    current
        .and_then(|p| VENDORS.iter().find(|(kind, _)| *kind == p.kind))
        .map_or(name, |(_, vendor)| vendor)
        .to_string()
}

fn shorten(text: &str) -> String {
    crate::text::ellipsize(text.trim(), MAX_CAUSE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ProbeClass, ProbeReport};
    use chrono::{DateTime, Utc};

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + TimeDelta::seconds(secs)
    }

    fn probe(status: u16, etype: &str, message: &str, class: ProbeClass) -> ProbeReport {
        ProbeReport {
            ok: class == ProbeClass::Ok,
            http_status: Some(status),
            error_type: (!etype.is_empty()).then(|| etype.to_string()),
            message: (!message.is_empty()).then(|| message.to_string()),
            request_id: (status >= 500).then(|| "req_probe".to_string()),
            latency_ms: Some(120),
            at: t(0),
            retry_after_secs: None,
            class,
        }
    }

    fn provider(
        id: &str,
        kind: &str,
        name: &str,
        state: State,
        probe: Option<ProbeReport>,
    ) -> ProviderReport {
        ProviderReport {
            id: id.into(),
            name: name.into(),
            state,
            since: None,
            summary: probe.as_ref().map(|p| p.summary()).unwrap_or_default(),
            confirmed_by_status_page: false,
            probe,
            status_page: None,
            credential: CredentialSource::Keyring,
            kind: kind.parse().expect("a provider kind"),
            api_key_env: (kind == "anthropic").then(|| "ANTHROPIC_API_KEY".to_string()),
            status_url: None,
            agent_errors: None,
            not_running: false,
            models: Vec::new(),
            inference: None,
        }
    }

    fn ok() -> Option<ProbeReport> {
        Some(probe(200, "", "", ProbeClass::Ok))
    }

    fn server_error() -> Option<ProbeReport> {
        Some(probe(
            500,
            "api_error",
            "Internal server error",
            ProbeClass::ServerError,
        ))
    }

    /// Claude failing with a 500; the others as given.
    fn report(openai: State, ollama: State) -> StatusReport {
        let providers = vec![
            provider(
                "anthropic",
                "anthropic",
                "Claude API",
                State::Outage,
                server_error(),
            ),
            provider("claude-ai", "status", "claude.ai", State::Operational, None),
            provider("openai", "openai", "OpenAI API", openai, ok()),
            provider("ollama", "ollama", "Ollama (local)", ollama, ok()),
            provider("bedrock", "bedrock", "Amazon Bedrock", State::Operational, ok()),
        ];
        StatusReport {
            checked_at: t(0),
            preferred: Some("anthropic".into()),
            fallback: vec![
                "anthropic".into(),
                "claude-ai".into(),
                "openai".into(),
                "ollama".into(),
            ],
            auto_switch: false,
            passive: Default::default(),
            config_error: None,
            engine_error: None,
            history_paused: None,
            overall: State::Outage,
            providers,
        }
    }

    fn incident(state: State, cause: &str) -> IncidentRecord {
        IncidentRecord {
            model: None,
            state,
            started_at: t(0),
            detected_at: t(10),
            acknowledged_at: None,
            ended_at: None,
            cause: cause.into(),
            request_id: Some("req_011CSHoEeqs5C35K2UUqR7Fy".into()),
        }
    }

    const CAUSE_500: &str = "HTTP 500 api_error: Internal server error";

    #[test]
    fn outage_began_names_status_type_message_request_and_page() {
        let n = began(
            "anthropic",
            &incident(State::Outage, CAUSE_500),
            &report(State::Operational, State::Operational),
        );
        assert_eq!(n.kind, NoticeKind::OutageBegan);
        assert_eq!(n.summary, "Claude API: outage");
        assert_eq!(
            n.body,
            "HTTP 500 api_error: Internal server error · request req_011CSHoEeqs5C35K2UUqR7Fy · \
             not yet on the status page"
        );
        assert!(n.is_urgent());
        assert_eq!(n.action_label().as_deref(), Some("Switch to OpenAI API"));
    }

    #[test]
    fn outage_began_says_when_the_page_agrees() {
        let mut inc = incident(State::Outage, CAUSE_500);
        inc.acknowledged_at = Some(t(10));
        let n = began("anthropic", &inc, &report(State::Operational, State::Operational));
        assert!(n.body.ends_with("· confirmed by the status page"), "{}", n.body);

        // The report's flag counts too (the page agreed in this very round).
        let mut r = report(State::Operational, State::Operational);
        r.providers[0].confirmed_by_status_page = true;
        let n = began("anthropic", &incident(State::Outage, CAUSE_500), &r);
        assert!(n.body.ends_with("confirmed by the status page"), "{}", n.body);
    }

    #[test]
    fn request_id_falls_back_to_the_failing_probe() {
        let mut inc = incident(State::Outage, CAUSE_500);
        inc.request_id = None;
        let n = began("anthropic", &inc, &report(State::Operational, State::Operational));
        assert!(n.body.contains("request req_probe"), "{}", n.body);
    }

    #[test]
    fn page_only_incident_has_no_page_remark_and_no_request() {
        let mut r = report(State::Operational, State::Operational);
        r.providers[1].state = State::Outage;
        let mut inc = incident(State::Outage, "status page: Major outage");
        inc.request_id = None;
        let n = began("claude-ai", &inc, &r);
        assert_eq!(n.summary, "claude.ai: outage");
        assert_eq!(n.body, "status page: Major outage");
        assert_eq!(n.switch_to, None, "claude.ai is not the preferred provider");
    }

    #[test]
    fn degraded_and_rate_limited_are_named_and_not_urgent() {
        let mut r = report(State::Operational, State::Operational);
        r.providers[0].probe = Some(probe(
            529,
            "overloaded_error",
            "Overloaded",
            ProbeClass::Overloaded,
        ));
        let mut inc = incident(State::Degraded, "HTTP 529 overloaded_error: Overloaded");
        inc.request_id = None;
        let n = began("anthropic", &inc, &r);
        assert_eq!(n.summary, "Claude API: degraded");
        assert_eq!(
            n.body,
            "HTTP 529 overloaded_error: Overloaded · request req_probe · not yet on the status page"
        );
        assert!(!n.is_urgent());

        let mut limited = probe(
            429,
            "rate_limit_error",
            "slow down",
            ProbeClass::RateLimited {
                retry_after_secs: Some(90),
                quota: crate::model::QuotaKind::RateLimit,
            },
        );
        limited.retry_after_secs = Some(90);
        r.providers[0].probe = Some(limited);
        let n = began(
            "anthropic",
            &incident(State::RateLimited, "HTTP 429 rate_limit_error: slow down"),
            &r,
        );
        assert_eq!(n.summary, "Claude API: rate limited");
        assert!(n.body.contains("retry after 1 min"), "{}", n.body);
    }

    #[test]
    fn credential_problem_blames_the_key_not_the_provider() {
        let mut r = report(State::Operational, State::Operational);
        r.providers[0].state = State::AuthError;
        r.providers[0].probe = Some(probe(
            401,
            "authentication_error",
            "invalid x-api-key",
            ProbeClass::Auth,
        ));
        let inc = incident(
            State::AuthError,
            "HTTP 401 authentication_error: invalid x-api-key",
        );
        let n = began("anthropic", &inc, &r);
        assert_eq!(n.kind, NoticeKind::CredentialProblem);
        assert_eq!(n.summary, "Anthropic rejected your key");
        assert_eq!(
            n.body,
            "authentication_error: invalid x-api-key — update it with `switchboard key set anthropic`"
        );
        assert!(!n.summary.contains("outage") && !n.body.contains("outage"));
        assert!(n.is_urgent());
        // The user's calls fail all the same: offer the way out.
        assert_eq!(n.switch_to.map(|a| a.id).as_deref(), Some("openai"));

        // A key from the environment: say which variable.
        r.providers[0].credential = CredentialSource::Env;
        let n = began("anthropic", &inc, &r);
        assert!(
            n.body
                .ends_with("update $ANTHROPIC_API_KEY, or store a key with `switchboard key set anthropic`"),
            "{}",
            n.body
        );

        // Without a probe in the report, the incident's cause is the detail.
        r.providers[0].probe = None;
        let n = began("anthropic", &inc, &r);
        assert!(
            n.body
                .starts_with("HTTP 401 authentication_error: invalid x-api-key — "),
            "{}",
            n.body
        );
    }

    #[test]
    fn a_login_rejected_in_claude_code_says_run_login_and_names_the_source() {
        let mut r = report(State::AuthError, State::Operational);
        let seen = crate::passive::AgentError {
            agent: Agent::ClaudeCode,
            at: t(0),
            http_status: Some(401),
            error_type: Some("authentication_failed".into()),
            request_id: Some("req_401".into()),
            model: None,
        };
        let probe = seen.to_report().expect("401 counts");
        let mut tally = crate::agent_errors::AgentErrorTally::default();
        tally.push(Agent::ClaudeCode, None, &probe);
        r.providers[0].credential = CredentialSource::None;
        r.providers[0].probe = Some(probe.clone());
        r.providers[0].agent_errors = tally.report(t(1));
        let n = began("anthropic", &incident(State::AuthError, &probe.summary()), &r);
        assert!(n.body.contains("seen in your Claude Code session"), "{}", n.body);
        assert!(n.body.ends_with("run /login in Claude Code"), "{}", n.body);

        let outage = seen_outage();
        let n = began("anthropic", &incident(State::Outage, &outage), &r);
        assert!(
            n.body
                .contains("seen in your Claude Code session, request req_500"),
            "{}",
            n.body
        );
    }

    fn seen_outage() -> String {
        crate::passive::AgentError {
            agent: Agent::ClaudeCode,
            at: t(0),
            http_status: Some(500),
            error_type: Some("server_error".into()),
            request_id: Some("req_500".into()),
            model: None,
        }
        .to_report()
        .expect("500 counts")
        .summary()
    }

    #[test]
    fn vendors_by_kind() {
        let r = report(State::Operational, State::Operational);
        assert_eq!(vendor(Some(&r.providers[2]), "OpenAI API"), "OpenAI");
        assert_eq!(vendor(Some(&r.providers[4]), "Amazon Bedrock"), "AWS");
        let proxy = provider("proxy", "openai-compatible", "My Proxy", State::Outage, None);
        assert_eq!(vendor(Some(&proxy), "My Proxy"), "My Proxy");
        assert_eq!(vendor(None, "gone"), "gone");
    }

    #[test]
    fn outage_ended_carries_duration_and_cause() {
        let mut inc = incident(State::Outage, CAUSE_500);
        inc.ended_at = Some(t(12 * 60 + 40));
        let r = report(State::Operational, State::Operational);
        let n = ended("anthropic", &inc, NoticeKind::OutageBegan, &r);
        assert_eq!(n.kind, NoticeKind::OutageEnded);
        assert_eq!(n.summary, "Claude API recovered");
        assert_eq!(
            n.body,
            "after 12 min (outage: HTTP 500 api_error: Internal server error) · \
             the status page never reported it"
        );
        assert!(!n.is_urgent());
        assert_eq!(n.switch_to, None);

        inc.acknowledged_at = Some(t(10 + 9 * 60));
        let n = ended("anthropic", &inc, NoticeKind::OutageBegan, &r);
        assert!(
            n.body.ends_with("· detected 9 min before the status page"),
            "{}",
            n.body
        );
        inc.acknowledged_at = Some(t(10));
        let n = ended("anthropic", &inc, NoticeKind::OutageBegan, &r);
        assert!(n.body.ends_with("Internal server error)"), "{}", n.body);
    }

    #[test]
    fn credential_fixed_is_not_a_recovery() {
        let mut inc = incident(
            State::AuthError,
            "HTTP 401 authentication_error: invalid x-api-key",
        );
        inc.ended_at = Some(t(45));
        let n = ended(
            "anthropic",
            &inc,
            NoticeKind::CredentialProblem,
            &report(State::Operational, State::Operational),
        );
        assert_eq!(n.kind, NoticeKind::CredentialFixed);
        assert_eq!(n.summary, "Anthropic accepts your key again");
        assert_eq!(n.body, "Claude API works again, after 45 s");
    }

    #[test]
    fn alternative_is_the_first_operational_in_fallback_order() {
        let alt = |openai, ollama| {
            healthiest_alternative("anthropic", State::Outage, &report(openai, ollama)).map(|a| a.id)
        };
        assert_eq!(
            alt(State::Operational, State::Operational).as_deref(),
            Some("openai")
        );
        // Skips the status-only claude.ai (first after anthropic) and a failing openai.
        assert_eq!(alt(State::Outage, State::Operational).as_deref(), Some("ollama"));
        // Operational beats an earlier degraded one...
        assert_eq!(
            alt(State::Degraded, State::Operational).as_deref(),
            Some("ollama")
        );
        // ...and a degraded one beats nothing at all.
        assert_eq!(alt(State::Degraded, State::AuthError).as_deref(), Some("openai"));
        assert_eq!(
            alt(State::Degraded, State::RateLimited).as_deref(),
            Some("ollama")
        );
        // Nobody knows that unknown or offline providers work; failing ones don't.
        assert_eq!(alt(State::Unknown, State::Offline), None);
        assert_eq!(alt(State::Outage, State::AuthError), None);
        // bedrock is operational but not in the fallback order.
    }

    #[test]
    fn alternative_respects_disabled_and_degraded_origins() {
        // A disabled provider is not in the report, even when the fallback names it.
        let mut r = report(State::Degraded, State::Operational);
        r.providers.retain(|p| p.id != "ollama");
        assert_eq!(
            healthiest_alternative("anthropic", State::Outage, &r).map(|a| a.id),
            Some("openai".into())
        );
        // From a degraded provider, only an operational one is an improvement.
        assert_eq!(healthiest_alternative("anthropic", State::Degraded, &r), None);
        let r = report(State::Operational, State::Operational);
        assert_eq!(
            healthiest_alternative("anthropic", State::Degraded, &r).map(|a| a.name),
            Some("OpenAI API".into())
        );
    }

    #[test]
    fn only_the_preferred_provider_gets_an_action() {
        let mut r = report(State::Operational, State::Operational);
        r.preferred = Some("openai".into());
        let n = began("anthropic", &incident(State::Outage, CAUSE_500), &r);
        assert_eq!(n.switch_to, None);
        assert_eq!(n.action_label(), None);
    }

    #[test]
    fn which_states_are_announced() {
        let quiet = NotificationConfig {
            enabled: true,
            degraded: false,
        };
        let loud = NotificationConfig {
            enabled: true,
            degraded: true,
        };
        for s in State::ALL {
            let failing = matches!(s, State::Outage | State::AuthError);
            let troubled = matches!(s, State::Degraded | State::RateLimited);
            assert_eq!(announces(s, &quiet), failing, "{s}");
            assert_eq!(announces(s, &loud), failing || troubled, "{s}");
        }
    }

    #[test]
    fn durations_read_like_people_say_them() {
        let d = |s: i64| format_duration(TimeDelta::seconds(s));
        assert_eq!(d(0), "0 s");
        assert_eq!(d(45), "45 s");
        assert_eq!(d(59), "59 s");
        assert_eq!(d(60), "1 min");
        assert_eq!(d(12 * 60 + 59), "12 min");
        assert_eq!(d(3599), "59 min");
        assert_eq!(d(3600), "1 h");
        assert_eq!(d(3600 + 5 * 60), "1 h 5 min");
        assert_eq!(d(23 * 3600 + 59 * 60), "23 h 59 min");
        assert_eq!(d(86_400), "1 d");
        assert_eq!(d(86_400 + 3 * 3600 + 20 * 60), "1 d 3 h");
        assert_eq!(d(-5), "0 s", "clock skew is not a negative duration");
    }

    #[test]
    fn long_causes_are_cut() {
        let long = format!("HTTP 502 {}", "x".repeat(500));
        let n = began(
            "anthropic",
            &incident(State::Outage, &long),
            &report(State::Operational, State::Operational),
        );
        let cause = n.body.split(SEPARATOR).next().unwrap();
        assert_eq!(cause.chars().count(), MAX_CAUSE_CHARS);
        assert!(cause.ends_with('…'));
    }

    #[test]
    fn unknown_provider_falls_back_to_its_id() {
        let n = began(
            "gone",
            &incident(State::Outage, CAUSE_500),
            &report(State::Operational, State::Operational),
        );
        assert_eq!(n.summary, "gone: outage");
    }
}
