//! Passive signals from the user's own coding agents: the API errors that
//! Claude Code and Codex write into their local session logs.
//!
//! These are the user's real requests, so they are the earliest and most
//! personal signal there is, and the only one for people who log in with a
//! subscription and have no API key for Switchboard to probe with.
//!
//! Privacy is the design constraint. The session logs also hold prompts,
//! answers, tool output and file contents; the parsers ([`claude_code`],
//! [`codex`]) deserialize only the handful of error fields into
//! [`AgentError`] and skip everything else unread, so nothing else can leave
//! this module: not into the engine, the history, the logs or the API.
//!
//! Owns: where each agent keeps its logs, the line parsers, the file
//! follower ([`follow`]) and the task that turns errors into engine
//! observations ([`spawn`]). Leaves to the engine: damping, health and
//! incidents (the observation goes through the same path as the gateway's).

pub mod claude_code;
pub mod codex;
pub mod follow;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::{Config, PassiveConfig};
use crate::engine::EngineHandle;
pub use crate::model::Agent;
use crate::model::PassiveSettings;
use crate::model::{ProbeClass, ProbeReport, QuotaKind};

/// One API error an agent hit: the only thing the parsers return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentError {
    pub(crate) agent: Agent,
    pub(crate) at: DateTime<Utc>,
    pub http_status: Option<u16>,
    /// The provider's error type (`api_error`, `overloaded_error`) or, when the
    /// agent records only its own wording, that word (`server_error`,
    /// `usage_limit_exceeded`).
    pub error_type: Option<String>,
    pub request_id: Option<String>,
    /// The model of the session, when the log names one.
    pub model: Option<String>,
}

/// What one log line means to us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogLine {
    /// An API error (its `model` is filled in by the follower from the session).
    Error(AgentError),
    /// The session's model, from a successful answer or a turn's settings.
    Model(String),
}

/// Lines longer than this are skipped unread: an error entry is a few KiB;
/// a huge line is a pasted file or tool output, never an error we need.
pub const MAX_LINE: usize = 1 << 20;

/// Longest field value kept from a log line (ids, model names, error words).
const MAX_FIELD: usize = 128;

/// Field values from a user's file are bounded and stripped of control
/// characters before they reach the engine, the terminal or the dashboard.
fn clip(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(MAX_FIELD).collect()
}

/// On start, errors older than this are history, not news: the follower reads
/// the recent tail of existing sessions but reports only errors this fresh.
pub(crate) const FRESH_WINDOW: Duration = Duration::from_secs(10 * 60);

/// Where an agent keeps its session logs, given the environment the user
/// runs it with (`CLAUDE_CONFIG_DIR`, `CODEX_HOME`) and the home directory.
pub(crate) fn log_root(
    agent: Agent,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<PathBuf>,
) -> Option<PathBuf> {
    match agent {
        Agent::ClaudeCode => env("CLAUDE_CONFIG_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| home.map(|h| h.join(".claude")))
            .map(|d| d.join("projects")),
        Agent::Codex => env("CODEX_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| home.map(|h| h.join(".codex")))
            .map(|d| d.join("sessions")),
    }
}

/// The providers one agent's error counts for. Claude Code talks to Bedrock
/// or Vertex when its environment (or its settings file) says so.
pub(crate) fn targets(agent: Agent, claude_backend: ClaudeBackend) -> &'static [&'static str] {
    match (agent, claude_backend) {
        (Agent::ClaudeCode, ClaudeBackend::Anthropic) => &["anthropic", "claude-code"],
        (Agent::ClaudeCode, ClaudeBackend::Bedrock) => &["bedrock", "claude-code"],
        (Agent::ClaudeCode, ClaudeBackend::Vertex) => &["vertex", "claude-code"],
        (Agent::Codex, _) => &["openai"],
    }
}

/// Which API Claude Code is configured to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum ClaudeBackend {
    #[default]
    Anthropic,
    Bedrock,
    Vertex,
}

impl ClaudeBackend {
    /// From Claude Code's switches (`CLAUDE_CODE_USE_BEDROCK=1`,
    /// `CLAUDE_CODE_USE_VERTEX=1`), looked up in the process environment and
    /// then in the `env` table of Claude Code's `settings.json`.
    pub(crate) fn detect(env: &dyn Fn(&str) -> Option<String>, settings_json: Option<&[u8]>) -> Self {
        #[derive(serde::Deserialize)]
        struct Settings {
            #[serde(default)]
            env: HashMap<String, serde_json::Value>,
        }
        let settings: HashMap<String, serde_json::Value> = settings_json
            .and_then(|b| serde_json::from_slice::<Settings>(b).ok())
            .map(|s| s.env)
            .unwrap_or_default();
        let on = |name: &str| {
            let value = env(name).or_else(|| {
                settings.get(name).map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            });
            value.is_some_and(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "True" | "yes"))
        };
        if on("CLAUDE_CODE_USE_BEDROCK") {
            ClaudeBackend::Bedrock
        } else if on("CLAUDE_CODE_USE_VERTEX") {
            ClaudeBackend::Vertex
        } else {
            ClaudeBackend::Anthropic
        }
    }
}

impl AgentError {
    /// The observation the engine receives, or `None` for errors that say
    /// nothing about the provider's health (a 400 for a too-long prompt, a
    /// 404 for a model name typo, an error without a status).
    pub(crate) fn to_report(&self) -> Option<ProbeReport> {
        let status = self.http_status?;
        let class = match status {
            401..=403 => ProbeClass::Auth,
            429 => ProbeClass::RateLimited {
                retry_after_secs: None,
                quota: if self.is_usage_limit() {
                    QuotaKind::InsufficientQuota
                } else {
                    QuotaKind::RateLimit
                },
            },
            529 => ProbeClass::Overloaded,
            500..=599 => ProbeClass::ServerError,
            _ => return None,
        };
        let mut message = format!("seen in your {} session", self.agent.label());
        if let Some(id) = &self.request_id {
            message.push_str(&format!(", request {id}"));
        }
        match (&class, self.agent) {
            (ProbeClass::Auth, Agent::ClaudeCode) => message.push_str(" (key or login rejected: run /login)"),
            (ProbeClass::RateLimited { .. }, _) => message.push_str(" (your usage limit, not an outage)"),
            _ => {}
        }
        Some(ProbeReport {
            ok: false,
            http_status: Some(status),
            error_type: self.error_type.clone(),
            message: Some(message),
            request_id: self.request_id.clone(),
            // Read from a log: nothing was timed.
            latency_ms: None,
            at: self.at,
            retry_after_secs: None,
            class,
        })
    }

    fn is_usage_limit(&self) -> bool {
        self.error_type
            .as_deref()
            .is_some_and(|t| matches!(t, "usage_limit_exceeded" | "insufficient_quota" | "billing_error"))
    }
}

/// Starts following the session logs of the agents the config turns on, and
/// keeps following the config: turning `[passive]` on or off applies without
/// a restart. Errors become engine observations through
/// [`EngineHandle::report_passive`].
pub(crate) fn spawn(engine: &EngineHandle, roots: Roots) -> JoinHandle<()> {
    tokio::spawn(run(engine.clone(), roots))
}

/// The directories to follow (absent when there is no home directory).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Roots {
    pub(crate) claude_code: Option<PathBuf>,
    pub(crate) codex: Option<PathBuf>,
}

impl Roots {
    /// Where this user's agents keep their logs (their own variables honoured).
    pub(crate) fn system() -> Self {
        let home = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
        let env = |name: &str| std::env::var(name).ok();
        Roots {
            claude_code: log_root(Agent::ClaudeCode, &env, home.clone()),
            codex: log_root(Agent::Codex, &env, home),
        }
    }

    pub(crate) fn get(&self, agent: Agent) -> Option<&PathBuf> {
        match agent {
            Agent::ClaudeCode => self.claude_code.as_ref(),
            Agent::Codex => self.codex.as_ref(),
        }
    }
}

/// What the dashboard shows before asking for consent: per agent, whether its
/// logs exist here, whether reading them is on, and exactly what is read.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct AgentLogInfo {
    pub(crate) agent: Agent,
    pub(crate) enabled: bool,
    /// The agent's log directory exists on this machine.
    pub(crate) found: bool,
    /// The files read (a glob).
    pub(crate) reads: Option<String>,
    /// The only fields kept from them.
    pub(crate) fields: &'static [&'static str],
}

/// The fields that leave a session log; everything else in it is skipped unread.
pub(crate) const FIELDS_KEPT: &[&str] = &["HTTP status", "error type", "request id", "time", "model"];

/// [`AgentLogInfo`] for both agents.
pub(crate) fn info(settings: PassiveSettings, roots: &Roots) -> Vec<AgentLogInfo> {
    [Agent::ClaudeCode, Agent::Codex]
        .into_iter()
        .map(|agent| {
            let root = roots.get(agent);
            AgentLogInfo {
                agent,
                enabled: match agent {
                    Agent::ClaudeCode => settings.claude_code,
                    Agent::Codex => settings.codex,
                },
                found: root.and_then(|r| r.parent()).is_some_and(|d| d.is_dir()),
                reads: root.map(|r| match agent {
                    Agent::ClaudeCode => format!("{}/**/*.jsonl", r.display()),
                    Agent::Codex => format!("{}/**/rollout-*.jsonl", r.display()),
                }),
                fields: FIELDS_KEPT,
            }
        })
        .collect()
}

/// The follow loop, with the roots given (tests point them at temp dirs).
pub(crate) async fn run(engine: EngineHandle, roots: Roots) {
    let mut configs = engine.watch_config();
    let (tx, mut rx) = mpsc::channel::<AgentError>(256);
    let mut running: HashMap<Agent, JoinHandle<()>> = HashMap::new();
    let mut backend = ClaudeBackend::Anthropic;
    loop {
        let config: Arc<Config> = configs.borrow_and_update().clone();
        let wanted = wanted(&config.passive, &roots);
        running.retain(|agent, task| {
            let keep = wanted.iter().any(|(a, _)| a == agent);
            if !keep {
                task.abort();
                tracing::info!(agent = agent.label(), "stopped reading session logs");
            }
            keep
        });
        for (agent, root) in wanted {
            if running.contains_key(&agent) {
                continue;
            }
            if agent == Agent::ClaudeCode {
                let settings = root
                    .parent()
                    .and_then(|d| std::fs::read(d.join("settings.json")).ok());
                backend = ClaudeBackend::detect(&|n| std::env::var(n).ok(), settings.as_deref());
            }
            tracing::info!(agent = agent.label(), root = %root.display(), "reading API errors from session logs");
            running.insert(agent, tokio::spawn(follow::follow(agent, root, tx.clone())));
        }
        tokio::select! {
            changed = configs.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            Some(error) = rx.recv() => {
                let Some(report) = error.to_report() else { continue };
                for id in targets(error.agent, backend) {
                    engine.report_passive(id, error.agent, error.model.clone(), report.clone());
                }
            }
        }
    }
    for task in running.into_values() {
        task.abort();
    }
}

fn wanted(config: &PassiveConfig, roots: &Roots) -> Vec<(Agent, PathBuf)> {
    let mut out = Vec::new();
    if config.claude_code {
        if let Some(r) = &roots.claude_code {
            out.push((Agent::ClaudeCode, r.clone()));
        }
    }
    if config.codex {
        if let Some(r) = &roots.codex {
            out.push((Agent::Codex, r.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |n| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string())
    }

    #[test]
    fn log_roots_honour_the_agents_own_variables() {
        let home = Some(PathBuf::from("/home/u"));
        assert_eq!(
            log_root(Agent::ClaudeCode, &env_of(&[]), home.clone()),
            Some(PathBuf::from("/home/u/.claude/projects"))
        );
        assert_eq!(
            log_root(
                Agent::ClaudeCode,
                &env_of(&[("CLAUDE_CONFIG_DIR", "/cfg")]),
                home.clone()
            ),
            Some(PathBuf::from("/cfg/projects"))
        );
        assert_eq!(
            log_root(Agent::Codex, &env_of(&[]), home.clone()),
            Some(PathBuf::from("/home/u/.codex/sessions"))
        );
        assert_eq!(
            log_root(Agent::Codex, &env_of(&[("CODEX_HOME", "/c")]), home),
            Some(PathBuf::from("/c/sessions"))
        );
    }

    #[test]
    fn claude_backend_from_env_or_settings() {
        assert_eq!(
            ClaudeBackend::detect(&env_of(&[]), None),
            ClaudeBackend::Anthropic
        );
        assert_eq!(
            ClaudeBackend::detect(&env_of(&[("CLAUDE_CODE_USE_BEDROCK", "1")]), None),
            ClaudeBackend::Bedrock
        );
        let settings = br#"{"env": {"CLAUDE_CODE_USE_VERTEX": "1"}, "model": "opus"}"#;
        assert_eq!(
            ClaudeBackend::detect(&env_of(&[]), Some(settings)),
            ClaudeBackend::Vertex
        );
        assert_eq!(
            ClaudeBackend::detect(&env_of(&[]), Some(b"not json")),
            ClaudeBackend::Anthropic
        );
        assert_eq!(
            targets(Agent::ClaudeCode, ClaudeBackend::Vertex),
            &["vertex", "claude-code"]
        );
        assert_eq!(targets(Agent::Codex, ClaudeBackend::Bedrock), &["openai"]);
    }

    fn error(status: Option<u16>, error_type: Option<&str>) -> AgentError {
        AgentError {
            agent: Agent::ClaudeCode,
            at: Utc::now(),
            http_status: status,
            error_type: error_type.map(str::to_string),
            request_id: Some("req_1".into()),
            model: None,
        }
    }

    #[test]
    fn statuses_map_to_the_design_table() {
        let class = |s, t| error(s, t).to_report().map(|r| r.class);
        assert_eq!(class(Some(500), Some("api_error")), Some(ProbeClass::ServerError));
        assert_eq!(class(Some(503), None), Some(ProbeClass::ServerError));
        assert_eq!(class(Some(529), None), Some(ProbeClass::Overloaded));
        assert_eq!(class(Some(401), None), Some(ProbeClass::Auth));
        assert!(matches!(
            class(Some(429), Some("usage_limit_exceeded")),
            Some(ProbeClass::RateLimited {
                quota: QuotaKind::InsufficientQuota,
                ..
            })
        ));
        assert_eq!(
            class(Some(400), None),
            None,
            "the request's fault, not the provider's"
        );
        assert_eq!(class(Some(404), None), None);
        assert_eq!(class(None, Some("server_error")), None);
        let r = error(Some(401), None).to_report().expect("auth");
        assert!(r.summary().contains("/login"), "{}", r.summary());
        let r = error(Some(500), Some("api_error")).to_report().expect("500");
        assert_eq!(r.request_id.as_deref(), Some("req_1"));
        assert!(r.summary().contains("Claude Code"), "{}", r.summary());
    }

    /// Regression: the card of an agent's error said "Latency 0 ms"; a line
    /// read from a log was never timed, so it carries no latency at all.
    #[test]
    fn an_agent_error_has_no_latency() {
        let r = error(Some(500), Some("api_error")).to_report().expect("500");
        assert_eq!(r.latency_ms, None);
        let json = serde_json::to_value(&r).expect("json");
        assert!(json["latency_ms"].is_null(), "{json}");
        assert!(
            json.as_object().is_some_and(|o| o.contains_key("latency_ms")),
            "{json}"
        );
    }
}
