//! What went through the gateway, per provider: the dashboard's "Gateway"
//! panel and `/api/gateway`. Counters since the process started; the history
//! store keeps health, not traffic.
//!
//! A module of its own, below the gateway, the server and the metrics: the
//! gateway writes the counters, the other two read them, and none of the three
//! imports another for it.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Per-provider counters. Written by the gateway only; read by the server.
#[derive(Debug, Default)]
pub struct Traffic {
    inner: Mutex<BTreeMap<String, ProviderTraffic>>,
    /// (provider, cause) pairs already logged: each skip cause is logged once.
    logged: Mutex<HashSet<(String, String)>>,
    /// Per provider, the models used and when each was last reported to the engine.
    models: Mutex<BTreeMap<String, BTreeMap<String, DateTime<Utc>>>>,
    /// Per provider: when a failed call was last logged, and how many
    /// failures went unlogged since.
    failure_logs: Mutex<BTreeMap<String, (Instant, u64)>>,
}

/// A provider's failed calls are logged at most this often: a client that
/// keeps sending while an upstream is down would otherwise write one warning
/// per request (about 1,000 lines a minute in the soak); the counters and the
/// dashboard still see every one.
const FAILURE_LOG_EVERY: Duration = Duration::from_secs(60);

/// A model used again is reported to the engine at most this often: it
/// keeps the model watched for 24 h, so once an hour is plenty, and the
/// engine's command queue is not fed one message per request.
const MODEL_REPORT_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// Most (provider, model) pairs remembered; past it the oldest is forgotten.
const MAX_MODELS_REMEMBERED: usize = 256;

/// Most distinct skip causes remembered for logging once; past it, causes are
/// logged again rather than the set growing without bound (a cause can name a
/// request's feature, so their number is not fixed).
const MAX_LOGGED_CAUSES: usize = 1024;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProviderTraffic {
    /// Requests this provider answered (including its own 4xx answers).
    pub requests: u64,
    /// Of those, how many it served because an earlier provider was down or failed.
    pub failovers: u64,
    /// Upstream calls to it that failed (5xx, 529, timeout, connection error, broken stream).
    pub errors: u64,
    /// Words for the last failure ("HTTP 500 api_error: Internal server error").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) last_error_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) last_request_at: Option<DateTime<Utc>>,
    /// Requests that passed this provider by without calling it.
    pub skipped: u64,
    /// Why the last of those did ("no credential for openai", "the request
    /// cannot be translated ...", "outage reported by the engine ...").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_skip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) last_skip_at: Option<DateTime<Utc>>,
}

impl Traffic {
    /// Records that a request to provider `id` used `model` (served or
    /// failed). Returns whether the engine should hear of it now (first use,
    /// or the last report is older than [`MODEL_REPORT_EVERY`]).
    pub(crate) fn used_model(&self, id: &str, model: &str) -> bool {
        self.used_model_at(id, model, Utc::now())
    }

    fn used_model_at(&self, id: &str, model: &str, now: DateTime<Utc>) -> bool {
        let mut models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        // Looked up by reference: every gateway request asks, and almost
        // always the answer is "reported recently".
        let last = models.get(id).and_then(|m| m.get(model)).copied();
        if last.is_some_and(|at| now - at < MODEL_REPORT_EVERY) {
            return false;
        }
        if last.is_none() && models.values().map(BTreeMap::len).sum::<usize>() >= MAX_MODELS_REMEMBERED {
            let oldest = models
                .iter()
                .flat_map(|(id, m)| m.iter().map(move |(model, at)| (*at, id, model)))
                .min()
                .map(|(_, id, model)| (id.clone(), model.clone()));
            if let Some((id, model)) = oldest {
                if let Some(m) = models.get_mut(&id) {
                    m.remove(&model);
                    if m.is_empty() {
                        models.remove(&id);
                    }
                }
            }
        }
        models
            .entry(id.to_string())
            .or_default()
            .insert(model.to_string(), now);
        true
    }

    pub fn served(&self, id: &str, failover: bool) {
        self.with(id, |t| {
            t.requests += 1;
            t.failovers += u64::from(failover);
            t.last_request_at = Some(Utc::now());
        });
    }

    /// Counts a failed upstream call. Returns `Some(n)` when the caller should
    /// log it, `n` being the failures left unlogged since the last log line
    /// (at most one line per provider per [`FAILURE_LOG_EVERY`]).
    pub fn failed(&self, id: &str, why: String) -> Option<u64> {
        self.with(id, |t| {
            t.errors += 1;
            t.last_error = Some(why);
            t.last_error_at = Some(Utc::now());
        });
        self.failure_to_log(id, Instant::now())
    }

    fn failure_to_log(&self, id: &str, now: Instant) -> Option<u64> {
        let mut logs = self.failure_logs.lock().unwrap_or_else(|e| e.into_inner());
        match logs.get_mut(id) {
            Some((at, unlogged)) if now.saturating_duration_since(*at) < FAILURE_LOG_EVERY => {
                *unlogged += 1;
                None
            }
            Some((at, unlogged)) => {
                *at = now;
                Some(std::mem::take(unlogged))
            }
            None => {
                logs.insert(id.to_string(), (now, 0));
                Some(0)
            }
        }
    }

    /// A request passed provider `id` by, for `why`. Returns whether this
    /// cause is new for the provider (the caller logs it then, once).
    pub(crate) fn skipped(&self, id: &str, why: &str) -> bool {
        self.with(id, |t| {
            t.skipped += 1;
            if t.last_skip.as_deref() != Some(why) {
                t.last_skip = Some(why.to_string());
            }
            t.last_skip_at = Some(Utc::now());
        });
        let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        if logged.len() >= MAX_LOGGED_CAUSES {
            logged.clear();
        }
        logged.insert((id.to_string(), why.to_string()))
    }

    /// A copy of every provider's counters, by id.
    pub fn snapshot(&self) -> BTreeMap<String, ProviderTraffic> {
        self.inner.lock().map(|m| m.clone()).unwrap_or_default()
    }

    fn with(&self, id: &str, f: impl FnOnce(&mut ProviderTraffic)) {
        // A poisoned lock only means a panic elsewhere mid-update of counters.
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(id) {
            Some(t) => f(t),
            None => f(map.entry(id.to_string()).or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_provider() {
        let t = Traffic::default();
        t.served("openai", true);
        t.served("openai", false);
        assert_eq!(t.failed("anthropic", "HTTP 500 api_error".into()), Some(0));
        let s = t.snapshot();
        assert_eq!(
            (s["openai"].requests, s["openai"].failovers, s["openai"].errors),
            (2, 1, 0)
        );
        assert_eq!(s["anthropic"].errors, 1);
        assert_eq!(s["anthropic"].last_error.as_deref(), Some("HTTP 500 api_error"));
    }

    #[test]
    fn a_model_is_reported_on_first_use_then_hourly_and_at_most_256_are_remembered() {
        let t = Traffic::default();
        let start = Utc::now();
        let at = |minutes| start + chrono::Duration::minutes(minutes);
        assert!(t.used_model_at("anthropic", "claude-sonnet-4-5", at(0)));
        assert!(!t.used_model_at("anthropic", "claude-sonnet-4-5", at(59)));
        assert!(
            t.used_model_at("openai", "claude-sonnet-4-5", at(1)),
            "per provider"
        );
        assert!(
            t.used_model_at("anthropic", "claude-opus-4-1", at(2)),
            "per model"
        );
        assert!(
            t.used_model_at("anthropic", "claude-sonnet-4-5", at(61)),
            "an hour on"
        );
        assert!(!t.used_model_at("anthropic", "claude-sonnet-4-5", at(62)));
        // Full: a new pair pushes out the pair reported longest ago
        // ("openai" at minute 1), and only that one.
        for i in 0..MAX_MODELS_REMEMBERED - 3 {
            assert!(t.used_model_at("ollama", &format!("m{i}"), at(3)));
        }
        assert!(t.used_model_at("ollama", "one-more", at(4)));
        let remembered = |id: &str, model: &str| {
            t.models
                .lock()
                .expect("lock")
                .get(id)
                .is_some_and(|m| m.contains_key(model))
        };
        assert!(!remembered("openai", "claude-sonnet-4-5"));
        assert!(
            !t.models.lock().expect("lock").contains_key("openai"),
            "no empty provider left"
        );
        assert!(remembered("anthropic", "claude-opus-4-1") && remembered("ollama", "one-more"));
        assert!(!t.used_model_at("anthropic", "claude-sonnet-4-5", at(63)));
        assert_eq!(
            t.models
                .lock()
                .expect("lock")
                .values()
                .map(BTreeMap::len)
                .sum::<usize>(),
            MAX_MODELS_REMEMBERED
        );
    }

    #[test]
    fn skip_causes_are_counted_every_time_and_new_only_once() {
        let t = Traffic::default();
        assert!(t.skipped("openai", "no credential for openai"));
        assert!(!t.skipped("openai", "no credential for openai"));
        assert!(t.skipped("ollama", "no credential for openai"), "per provider");
        assert!(t.skipped("openai", "the request cannot be translated"));
        let s = t.snapshot();
        assert_eq!(s["openai"].skipped, 3);
        assert_eq!(
            s["openai"].last_skip.as_deref(),
            Some("the request cannot be translated")
        );
        assert!(s["openai"].last_skip_at.is_some());
    }

    #[test]
    fn failures_are_counted_every_time_and_logged_once_a_minute_per_provider() {
        let t = Traffic::default();
        let start = Instant::now();
        assert_eq!(
            t.failure_to_log("anthropic", start),
            Some(0),
            "the first is logged"
        );
        for s in 1..=30 {
            assert_eq!(
                t.failure_to_log("anthropic", start + Duration::from_secs(s)),
                None
            );
        }
        assert_eq!(
            t.failure_to_log("openai", start + Duration::from_secs(5)),
            Some(0),
            "per provider"
        );
        assert_eq!(
            t.failure_to_log("anthropic", start + FAILURE_LOG_EVERY + Duration::from_secs(1)),
            Some(30),
            "the next line says how many went unlogged"
        );
        assert_eq!(
            t.failure_to_log("anthropic", start + FAILURE_LOG_EVERY + Duration::from_secs(2)),
            None
        );
        for _ in 0..3 {
            t.failed("ollama", "connection refused".into());
        }
        assert_eq!(t.snapshot()["ollama"].errors, 3, "counters see every failure");
    }
}
