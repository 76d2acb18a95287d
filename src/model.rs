//! The shared vocabulary: provider states, probe outcomes, status-page views and
//! the report that `status --json`, the JSON API and the tray all read.
//!
//! Everything here is plain data. Deciding *which* state applies lives in
//! `probe::classify`, `status` and `health`; this module only names things.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A provider's health, in DESIGN's vocabulary.
///
/// Variants are declared from best to worst so that `Ord` ranks severity:
/// `max()` over a set of states is the worst one, which is what the tray colour
/// and the CLI exit code follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Operational,
    /// We cannot tell: the user's own network is down. Never alarms.
    Offline,
    Unknown,
    RateLimited,
    Degraded,
    /// The user's key or account is the problem, not the provider.
    AuthError,
    Outage,
}

impl State {
    pub const ALL: [State; 7] = [
        State::Operational,
        State::Offline,
        State::Unknown,
        State::RateLimited,
        State::Degraded,
        State::AuthError,
        State::Outage,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Operational => "operational",
            State::Offline => "offline",
            State::Unknown => "unknown",
            State::RateLimited => "rate_limited",
            State::Degraded => "degraded",
            State::AuthError => "auth_error",
            State::Outage => "outage",
        }
    }

    /// Words for people (menus, tables, notifications).
    pub fn label(self) -> &'static str {
        match self {
            State::Operational => "operational",
            State::Offline => "offline (your network)",
            State::Unknown => "unknown",
            State::RateLimited => "rate limited",
            State::Degraded => "degraded",
            State::AuthError => "credential problem",
            State::Outage => "outage",
        }
    }

    /// Monitoring-plugin exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    pub fn exit_code(self) -> u8 {
        match self {
            State::Operational => 0,
            State::Degraded | State::RateLimited => 1,
            State::Outage | State::AuthError => 2,
            State::Unknown | State::Offline => 3,
        }
    }

    /// States that make the user's calls fail (what an outage notification is for).
    pub fn is_failing(self) -> bool {
        matches!(self, State::Outage | State::AuthError)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a probe did not get an HTTP response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetFailure {
    Timeout,
    Dns,
    Refused,
    Reset,
    Tls,
    Other,
}

impl NetFailure {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            NetFailure::Timeout => "timed out",
            NetFailure::Dns => "DNS lookup failed",
            NetFailure::Refused => "connection refused",
            NetFailure::Reset => "connection reset",
            NetFailure::Tls => "TLS handshake failed",
            NetFailure::Other => "connection failed",
        }
    }
}

/// The kind of quota behind a 429, because "slow down" and "out of credit"
/// need different reactions from the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaKind {
    /// Requests or tokens per minute: waiting helps.
    RateLimit,
    /// Billing quota exhausted (`insufficient_quota`): waiting does not help.
    InsufficientQuota,
    /// Gemini's `RESOURCE_EXHAUSTED`.
    ResourceExhausted,
}

/// What one probe result means, per DESIGN's classification table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum ProbeClass {
    Ok,
    Slow,
    Auth,
    RateLimited {
        retry_after_secs: Option<u64>,
        quota: QuotaKind,
    },
    Overloaded,
    /// A 5xx (or another status the provider should never send to a valid probe).
    ServerError,
    /// No HTTP response at all. Counts towards `offline` when every provider fails this way.
    Unreachable {
        failure: NetFailure,
    },
}

impl ProbeClass {
    /// The state this single result implies, before any hysteresis.
    pub fn state(&self) -> State {
        match self {
            ProbeClass::Ok => State::Operational,
            ProbeClass::Slow | ProbeClass::Overloaded => State::Degraded,
            ProbeClass::Auth => State::AuthError,
            ProbeClass::RateLimited { .. } => State::RateLimited,
            ProbeClass::ServerError | ProbeClass::Unreachable { .. } => State::Outage,
        }
    }

    pub fn is_unreachable(&self) -> bool {
        matches!(self, ProbeClass::Unreachable { .. })
    }
}

/// One probe, as shown in `status --json` under `probe`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeReport {
    pub ok: bool,
    pub http_status: Option<u16>,
    pub error_type: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    /// How long the call took; `None` when nothing was timed (an error read
    /// from a coding agent's session log), shown as no latency at all.
    pub latency_ms: Option<u64>,
    pub at: DateTime<Utc>,
    /// Seconds from `retry-after` (or Gemini's `RetryInfo`), when the provider sent one.
    pub retry_after_secs: Option<u64>,
    #[serde(flatten)]
    pub class: ProbeClass,
}

impl ProbeReport {
    /// One line a person can read: "HTTP 500 api_error: Internal server error".
    pub fn summary(&self) -> String {
        let detail = match (&self.error_type, &self.message) {
            (Some(t), Some(m)) => format!("{t}: {m}"),
            (Some(t), None) => t.clone(),
            (None, Some(m)) => m.clone(),
            (None, None) => String::new(),
        };
        match (&self.class, self.http_status) {
            (ProbeClass::Ok, _) => match self.latency_ms {
                Some(ms) => format!("OK in {ms} ms"),
                None => "OK".to_string(),
            },
            (ProbeClass::Slow, _) => match self.latency_ms {
                Some(ms) => format!("slow: answered in {ms} ms"),
                None => "slow".to_string(),
            },
            (ProbeClass::Unreachable { failure }, _) => match &self.message {
                Some(m) => format!("{}: {m}", failure.describe()),
                None => failure.describe().to_string(),
            },
            (_, Some(code)) if detail.is_empty() => format!("HTTP {code}"),
            (_, Some(code)) => format!("HTTP {code} {detail}"),
            (_, None) => detail,
        }
    }
}

/// A status page's overall indicator (Statuspage `status.indicator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    None,
    Minor,
    Major,
    Critical,
    Maintenance,
    /// The page did not answer with its feed (bot challenge, HTML, 403...).
    #[serde(other)]
    Unknown,
}

impl Indicator {
    pub(crate) fn state(self) -> State {
        match self {
            Indicator::None => State::Operational,
            Indicator::Minor | Indicator::Maintenance => State::Degraded,
            Indicator::Major | Indicator::Critical => State::Outage,
            Indicator::Unknown => State::Unknown,
        }
    }
}

/// A component's status, accepting both Statuspage and incident.io words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
    /// incident.io's name for `major_outage`.
    FullOutage,
    UnderMaintenance,
    #[serde(other)]
    Unknown,
}

impl ComponentStatus {
    pub(crate) fn state(self) -> State {
        match self {
            ComponentStatus::Operational => State::Operational,
            ComponentStatus::DegradedPerformance
            | ComponentStatus::PartialOutage
            | ComponentStatus::UnderMaintenance => State::Degraded,
            ComponentStatus::MajorOutage | ComponentStatus::FullOutage => State::Outage,
            ComponentStatus::Unknown => State::Unknown,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
            ComponentStatus::FullOutage => "full_outage",
            ComponentStatus::UnderMaintenance => "under_maintenance",
            ComponentStatus::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// Stable id on the page (names change over time; ids do not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub status: ComponentStatus,
    /// Name of the group row this component sits under, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub name: String,
    /// investigating | identified | monitoring | ... (free text across page formats).
    pub status: String,
    /// none | minor | major | critical | maintenance, or the page's own word.
    pub impact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// Component names (or ids) this incident affects, when the page says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// `false` when the incident names only models the provider does not use
    /// ("not your models"): shown on its card, never alarmed. Set by
    /// `status::verdict` for one provider's view; a page as read says `true`.
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub relevant: bool,
}

fn yes() -> bool {
    true
}

fn is_yes(b: &bool) -> bool {
    *b
}

/// What a status page says, normalised across formats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageStatus {
    pub indicator: Indicator,
    pub description: String,
    pub components: Vec<Component>,
    /// Unresolved incidents.
    pub incidents: Vec<Incident>,
    /// Scheduled or in-progress maintenance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintenances: Vec<Incident>,
}

impl PageStatus {
    /// The view of a page that could not be read as a feed: `unknown`, never an outage.
    pub(crate) fn unknown(description: impl Into<String>) -> Self {
        PageStatus {
            indicator: Indicator::Unknown,
            description: description.into(),
            components: Vec::new(),
            incidents: Vec::new(),
            maintenances: Vec::new(),
        }
    }
}

/// What a provider is and how it is spoken to: the config's `kind`, and
/// `kind` in `status --json` (same spelling).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    Anthropic,
    Openai,
    OpenaiCompatible,
    Gemini,
    Ollama,
    Bedrock,
    Vertex,
    /// Status page only: no probe.
    Status,
}

impl ProviderKind {
    /// The spelling used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Openai => "openai",
            ProviderKind::OpenaiCompatible => "openai-compatible",
            ProviderKind::Gemini => "gemini",
            ProviderKind::Ollama => "ollama",
            ProviderKind::Bedrock => "bedrock",
            ProviderKind::Vertex => "vertex",
            ProviderKind::Status => "status",
        }
    }
}

/// A spelling that is not a provider kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider kind {0:?}")]
pub struct UnknownKind(pub String);

impl std::str::FromStr for ProviderKind {
    type Err = UnknownKind;

    /// The config file's spelling, as [`ProviderKind::as_str`] writes it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const ALL: [ProviderKind; 8] = [
            ProviderKind::Anthropic,
            ProviderKind::Openai,
            ProviderKind::OpenaiCompatible,
            ProviderKind::Gemini,
            ProviderKind::Ollama,
            ProviderKind::Bedrock,
            ProviderKind::Vertex,
            ProviderKind::Status,
        ];
        ALL.into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

/// The format of a status page's feed (config `status_format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatusFormat {
    Statuspage,
    Incidentio,
    GoogleCloud,
    AwsHealth,
    None,
    /// Work it out from the URL and the first answer.
    Detect,
}

/// One provider in `status --json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderReport {
    pub id: String,
    pub name: String,
    pub state: State,
    pub since: Option<DateTime<Utc>>,
    pub summary: String,
    pub confirmed_by_status_page: bool,
    pub probe: Option<ProbeReport>,
    pub status_page: Option<PageStatus>,
    /// Where the credential came from: keyring | env | none | unavailable (keyring error).
    pub credential: CredentialSource,
    /// `anthropic`, `openai`, ..., `status` (config `kind`): tells a client
    /// which providers can serve requests and which are status surfaces only.
    pub(crate) kind: ProviderKind,
    /// The environment variable a key may come from (config `api_key_env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) api_key_env: Option<String>,
    /// The page a person opens to read more (status page URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status_url: Option<String>,
    /// API errors the user's own coding agent hit recently (`[passive]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) agent_errors: Option<AgentErrors>,
    /// A local model server (Ollama) that has never answered: shown as
    /// `unknown`, and left out of `overall` (and so the exit code).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) not_running: bool,
    /// The models the user relies on, each with its own state (see
    /// DESIGN "Inference checks and per-model health").
    #[serde(default)]
    pub models: Vec<ModelReport>,
    /// The inference checks' setting and budget (`None` for status surfaces).
    #[serde(default)]
    pub inference: Option<InferenceStatus>,
}

/// One model of one provider in `status --json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    pub id: String,
    /// The model's own state from its inference checks; `unknown` until one ran.
    pub state: State,
    pub summary: String,
    /// The last inference check of this model (`null` when none ran).
    pub probe: Option<ProbeReport>,
    /// Listed because gateway traffic used it in the last 24 h, not `models`.
    #[serde(default)]
    pub seen_in_traffic: bool,
}

/// The inference checks as they stand: on or off, the month's spend
/// against the budget, and the interval in use (stretched by the budget).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InferenceStatus {
    pub enabled: bool,
    pub spent_usd_month: f64,
    pub budget_usd_month: f64,
    /// The budget is spent: checks stopped until the month ends.
    pub stopped: bool,
    /// Seconds between two checks of one model.
    pub interval_secs: u64,
}

/// What turning the inference checks on would cost (`GET /api/inference`),
/// shown before the user consents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct InferenceEstimate {
    pub(crate) enabled: bool,
    pub(crate) interval_secs: u64,
    pub(crate) budget_usd_month: f64,
    /// Every model of every provider that would be checked, every `interval_secs`.
    pub(crate) total_usd_month: f64,
    pub(crate) providers: Vec<ProviderEstimate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ProviderEstimate {
    pub(crate) id: String,
    pub(crate) models: Vec<ModelEstimate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ModelEstimate {
    pub(crate) id: String,
    /// US dollars a month at `interval_secs`, by the price table.
    pub(crate) usd_month: f64,
    /// The price table does not list it: the conservative price was used.
    pub(crate) unknown_price: bool,
}

impl InferenceStatus {
    /// "inference checks: $0.12 of $1.00 this month, every 60 s per model",
    /// or "reachability only" when they are off.
    pub fn describe(&self) -> String {
        if !self.enabled {
            return "reachability only (inference checks off)".to_string();
        }
        let head = format!(
            "inference checks: ${:.2} of ${:.2} this month",
            self.spent_usd_month, self.budget_usd_month
        );
        if self.stopped {
            format!("{head}, stopped: budget reached")
        } else {
            format!("{head}, every {} s per model", self.interval_secs)
        }
    }
}

/// A coding agent whose session logs Switchboard reads (`[passive]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agent {
    ClaudeCode,
    Codex,
}

impl Agent {
    /// How the dashboard and notifications name the source.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Agent::ClaudeCode => "Claude Code",
            Agent::Codex => "Codex",
        }
    }
}

/// The errors a provider's users hit in their own agent sessions lately:
/// what the dashboard card shows as "seen in your Claude Code sessions".
/// Only error fields: never a prompt, an answer or a path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AgentErrors {
    pub(crate) agent: Agent,
    /// Errors within the last `window_secs`.
    pub(crate) count: u32,
    pub(crate) window_secs: u64,
    pub(crate) last_at: DateTime<Utc>,
    pub(crate) last_status: Option<u16>,
    pub(crate) last_error_type: Option<String>,
    pub(crate) last_request_id: Option<String>,
    /// The model of the failing session, when its log names one.
    pub(crate) model: Option<String>,
    /// "seen in your Claude Code sessions: 3 × HTTP 500 api_error in the last 5 min".
    pub(crate) summary: String,
}

/// Which session logs are read (config `[passive]`), for the tray and dashboard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassiveSettings {
    pub claude_code: bool,
    pub codex: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialSource {
    Keyring,
    Env,
    None,
    /// The provider needs no key (Ollama, status-only surfaces).
    NotNeeded,
    /// The keyring could not be read (locked, no Secret Service) and no env var was set.
    Unavailable,
}

/// The whole picture: `status --json`, `GET /api/status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub checked_at: DateTime<Utc>,
    pub preferred: Option<String>,
    /// Order for switching and the gateway (config `fallback`).
    #[serde(default)]
    pub fallback: Vec<String>,
    #[serde(default)]
    pub auto_switch: bool,
    /// Which coding agents' session logs are read (config `[passive]`).
    #[serde(default)]
    pub(crate) passive: PassiveSettings,
    /// Why the config file on disk was not applied (file, line, key); the
    /// engine keeps running on the last good config meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) config_error: Option<String>,
    /// Set after the engine task crashed and its supervisor restarted it:
    /// when, how often, and the panic message. Monitoring goes on, but the
    /// user must see that something broke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_error: Option<String>,
    /// Set while the history database refuses writes (a full disk, a file
    /// made read-only or locked by another program): monitoring goes on, but
    /// nothing is recorded until writes succeed again, which clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_paused: Option<HistoryPaused>,
    pub overall: State,
    pub providers: Vec<ProviderReport>,
}

/// Why and since when the history is not being recorded (`history_paused`
/// in `/api/status`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPaused {
    /// When the first write failed.
    pub since: DateTime<Utc>,
    /// What the last failed write said ("database or disk is full").
    pub reason: String,
}

impl StatusReport {
    /// Worst state over the providers shown (`operational` when none are).
    /// A local server that is not running does not count: a fresh install
    /// without Ollama is not worse off for it. Shown alone, it is all there is.
    pub(crate) fn worst(providers: &[ProviderReport]) -> State {
        let counted = providers.iter().filter(|p| !p.not_running).map(|p| p.state).max();
        counted
            .or_else(|| providers.iter().map(|p| p.state).max())
            .unwrap_or(State::Operational)
    }
}

/// A duration the way people say it: "45 s", "12 min", "1 h 5 min", "2 d 3 h".
/// Shared by notifications, the tray header and the CLI so they agree.
pub fn duration_words(d: chrono::TimeDelta) -> String {
    let secs = d.num_seconds().max(0);
    let (days, hours, mins) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{mins} min"),
        3600..86_400 if mins == 0 => format!("{hours} h"),
        3600..86_400 => format!("{hours} h {mins} min"),
        _ if hours == 0 => format!("{days} d"),
        _ => format!("{days} d {hours} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_order_matches_design() {
        // outage > auth_error > degraded > rate_limited > unknown > offline > operational
        let mut sorted = State::ALL;
        sorted.sort();
        assert_eq!(sorted, State::ALL);
        assert!(State::Outage > State::AuthError);
        assert!(State::Offline > State::Operational);
    }

    #[test]
    fn exit_codes_follow_plugin_convention() {
        let codes: Vec<u8> = State::ALL.iter().map(|s| s.exit_code()).collect();
        assert_eq!(codes, vec![0, 3, 3, 1, 1, 2, 2]);
    }

    #[test]
    fn incident_io_words_deserialize() {
        let s: ComponentStatus = serde_json::from_str("\"full_outage\"").unwrap();
        assert_eq!(s.state(), State::Outage);
        let s: ComponentStatus = serde_json::from_str("\"something_new\"").unwrap();
        assert_eq!(s, ComponentStatus::Unknown);
    }
}
