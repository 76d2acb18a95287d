//! Issue 11, item 8a: every provider and every model's inference check on its
//! own deadline. The replay showed checks running as one round that waited for
//! its slowest member, so one provider answering after 12 s stretched every
//! provider's cadence. Here the real engine and checker run against fakes on
//! 127.0.0.1 (one of which hangs), counting what the other fake receives
//! meanwhile; and, on paused time, a failed model-list probe asks for the
//! inference check at once, with `confirm_secs` spacing and no storm.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{json, Value};
use switchboard::check::{CheckSource, Checker, InferenceJob, InferenceResult, ProviderCheck, Round};
use switchboard::config::{CheckConfig, Config, Provider};
use switchboard::credentials::Credentials;
use switchboard::engine::{Clock, Engine, EngineHandle, SystemClock};
use switchboard::model::{CredentialSource, ProbeClass, ProbeReport, State};
use switchboard::probe::inference::{ModelCheck, Usage};
use switchboard::secrets::{EnvLookup, MemoryStore};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = "sk-schedule-test";

/// How long the slow fake takes to answer.
const HANG: Duration = Duration::from_secs(8);

/// A fake endpoint that answers `body` after `delay` and notes when each
/// request arrived (and, for POSTs, for which model).
#[derive(Clone)]
struct Recorder {
    arrivals: Arc<Mutex<Vec<(Instant, String)>>>,
    delay: HashMap<String, Duration>,
    body: fn(&str) -> Value,
}

impl Recorder {
    fn new(body: fn(&str) -> Value, delay: &[(&str, Duration)]) -> Recorder {
        Recorder {
            arrivals: Arc::default(),
            delay: delay.iter().map(|(m, d)| (m.to_string(), *d)).collect(),
            body,
        }
    }

    /// Arrival times of requests for `what` ("" for the model list).
    fn times(&self, what: &str) -> Vec<Instant> {
        self.arrivals
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, m)| m == what)
            .map(|(t, _)| *t)
            .collect()
    }
}

impl Respond for Recorder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let model = serde_json::from_slice::<Value>(&req.body)
            .ok()
            .and_then(|b| b["model"].as_str().map(str::to_string))
            .unwrap_or_default();
        self.arrivals
            .lock()
            .unwrap()
            .push((Instant::now(), model.clone()));
        let mut answer = ResponseTemplate::new(200).set_body_json((self.body)(&model));
        if let Some(d) = self.delay.get(&model) {
            answer = answer.set_delay(*d);
        }
        answer
    }
}

fn anthropic_models(_: &str) -> Value {
    json!({"data": [{"id": "claude-haiku-4-5-20251001", "type": "model", "display_name": "Claude Haiku 4.5",
                     "created_at": "2025-10-01T00:00:00Z"}],
           "has_more": false, "first_id": "claude-haiku-4-5-20251001", "last_id": "claude-haiku-4-5-20251001"})
}

fn openai_models(_: &str) -> Value {
    json!({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "created": 1721172741,
                                       "owned_by": "system"}]})
}

fn anthropic_message(model: &str) -> Value {
    json!({"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": model,
           "content": [{"type": "text", "text": "Hi"}], "stop_reason": "max_tokens", "stop_sequence": null,
           "usage": {"input_tokens": 8, "output_tokens": 1}})
}

fn engine(text: &str) -> EngineHandle {
    let config = Config::parse(text, Path::new("/nonexistent/switchboard-schedule.toml")).expect("config");
    let config = Config { path: None, ..config };
    let env: EnvLookup = Arc::new(|name| (name == "K").then(|| KEY.to_string()));
    let checker = Checker::new(Credentials::new(Arc::new(MemoryStore::default()), env)).unwrap();
    Engine::spawn(config, Arc::new(checker), Arc::new(SystemClock)).0
}

/// Waits (real time) until `recorder` has seen a request for `what`; returns when.
async fn first_arrival(recorder: &Recorder, what: &str) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(t) = recorder.times(what).first() {
            return *t;
        }
        assert!(Instant::now() < deadline, "no request for {what:?} arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Samples `read` from the published report every 100 ms until `until`, and
/// returns the distinct values seen.
async fn sample<T: Ord>(
    handle: &EngineHandle,
    until: Instant,
    read: impl Fn(&EngineHandle) -> Option<T>,
) -> BTreeSet<T> {
    let mut seen = BTreeSet::new();
    while Instant::now() < until {
        if let Some(v) = read(handle) {
            seen.insert(v);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen
}

/// The bug the replay exposed: with `interval_secs = 1`, provider A's probe
/// hanging 8 s held every other provider's probe for 8 s too (one request to
/// B during A's hang instead of about eight), and the report did not move.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_hanging_8s_holds_up_no_other_providers_probes() {
    let slow = MockServer::start().await;
    let a = Recorder::new(anthropic_models, &[("", HANG)]);
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(a.clone())
        .mount(&slow)
        .await;
    let fast = MockServer::start().await;
    let b = Recorder::new(openai_models, &[]);
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(b.clone())
        .mount(&fast)
        .await;
    let handle = engine(&format!(
        "use_catalog = false\n[check]\ninterval_secs = 1\ntimeout_secs = 20\nslow_ms = 30000\n\
         [[providers]]\nid = \"a\"\nkind = \"anthropic\"\nbase_url = \"{}\"\napi_key_env = \"K\"\n\
         [[providers]]\nid = \"b\"\nkind = \"openai\"\nbase_url = \"{}/v1\"\napi_key_env = \"K\"\n",
        slow.uri(),
        fast.uri()
    ));
    let hang_began = first_arrival(&a, "").await;
    let hang_ends = hang_began + HANG;
    // While A hangs, the report keeps moving with B's answers.
    let b_probes = sample(&handle, hang_ends - Duration::from_millis(300), |h| {
        let report = h.status();
        let b = report.providers.iter().find(|p| p.id == "b")?;
        b.probe.as_ref().map(|p| p.at)
    })
    .await;
    let a_answered = handle
        .status()
        .providers
        .iter()
        .find(|p| p.id == "a")
        .is_some_and(|p| p.probe.is_some());
    assert!(!a_answered, "A's first probe is still hanging");
    let during = b
        .times("")
        .iter()
        .filter(|t| **t > hang_began && **t < hang_ends)
        .count();
    // About 8 at one a second; the old round-based engine sent 0 or 1.
    assert!(during >= 4, "B got {during} probes during A's 8 s hang");
    assert!(
        b_probes.len() >= 3,
        "the report showed {} distinct B probes during A's hang",
        b_probes.len()
    );
    // A's own cadence resumes once it answers, and its latency is what it was.
    tokio::time::sleep(HANG / 2).await;
    let report = handle.status();
    let a_report = report.providers.iter().find(|p| p.id == "a").unwrap();
    let latency = a_report.probe.as_ref().expect("A answered").latency_ms;
    assert!(latency.is_some_and(|ms| ms >= 7_900), "{latency:?}");
    assert_eq!(
        report.providers.iter().find(|p| p.id == "b").unwrap().state,
        State::Operational
    );
    assert!(a.times("").len() >= 2, "A was probed again after its hang");
    handle.shutdown().await;
}

/// The same for inference checks: one model answering after 8 s holds up no
/// other model's checks (nor the model list's probes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_hanging_8s_holds_up_no_other_models_checks() {
    let server = MockServer::start().await;
    let list = Recorder::new(anthropic_models, &[]);
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(list.clone())
        .mount(&server)
        .await;
    let messages = Recorder::new(anthropic_message, &[("claude-opus-4-1", HANG)]);
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(messages.clone())
        .mount(&server)
        .await;
    // Prices of zero: the budget never stretches the 1 s interval.
    let handle = engine(&format!(
        "use_catalog = false\n[check]\ninterval_secs = 1\ntimeout_secs = 20\nslow_ms = 30000\n\
         [[providers]]\nid = \"anthropic\"\nkind = \"anthropic\"\nbase_url = \"{}\"\napi_key_env = \"K\"\n\
         models = [\"claude-opus-4-1\", \"claude-haiku-4-5\"]\nprice_in_per_mtok = 0.0\nprice_out_per_mtok = 0.0\n\
         [inference]\nenabled = true\ninterval_secs = 1\nmonthly_budget_usd = 1.0\n",
        server.uri()
    ));
    let hang_began = first_arrival(&messages, "claude-opus-4-1").await;
    let hang_ends = hang_began + HANG;
    let haiku_rows = sample(&handle, hang_ends - Duration::from_millis(300), |h| {
        let report = h.status();
        let m = report.providers[0]
            .models
            .iter()
            .find(|m| m.id == "claude-haiku-4-5")?;
        m.probe.as_ref().map(|p| p.at)
    })
    .await;
    let within = |times: Vec<Instant>| {
        times
            .iter()
            .filter(|t| **t > hang_began && **t < hang_ends)
            .count()
    };
    let haiku = within(messages.times("claude-haiku-4-5"));
    let probes = within(list.times(""));
    assert!(haiku >= 4, "haiku got {haiku} checks during opus's 8 s");
    assert!(
        probes >= 4,
        "the model list got {probes} probes during opus's 8 s"
    );
    assert!(
        haiku_rows.len() >= 3,
        "the report showed {} distinct haiku checks",
        haiku_rows.len()
    );
    assert_eq!(
        within(messages.times("claude-opus-4-1")),
        0,
        "opus is not asked again while its check is in flight"
    );
    handle.shutdown().await;
}

// ---------------------------------------------------------------------------
// Paused time, scripted checks: what asks for an inference check, and when.

/// Probes fail while `failing` says so; every inference check passes and
/// its virtual second is noted.
struct Scripted {
    start: tokio::time::Instant,
    failing: fn(u64) -> bool,
    probes: Mutex<Vec<u64>>,
    checks: Mutex<Vec<u64>>,
    count: AtomicUsize,
}

fn report(ok: bool, at: DateTime<Utc>) -> ProbeReport {
    ProbeReport {
        ok,
        http_status: Some(if ok { 200 } else { 500 }),
        error_type: (!ok).then(|| "api_error".to_string()),
        message: (!ok).then(|| "Internal server error".to_string()),
        request_id: (!ok).then(|| "req_011CSHoEeqs5C35K2UUqR7Fy".to_string()),
        latency_ms: Some(200),
        at,
        retry_after_secs: None,
        class: if ok {
            ProbeClass::Ok
        } else {
            ProbeClass::ServerError
        },
    }
}

impl CheckSource for Scripted {
    fn run_round<'a>(
        &'a self,
        providers: &'a [&'a Provider],
        _check: &'a CheckConfig,
        _fetch_pages: bool,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Round> {
        Box::pin(async move {
            let secs = self.start.elapsed().as_secs();
            self.probes.lock().unwrap().push(secs);
            Round {
                at: now,
                checks: providers
                    .iter()
                    .map(|p| ProviderCheck {
                        id: p.id.clone(),
                        credential: CredentialSource::Env,
                        keyring_error: None,
                        probe: Some(report(!(self.failing)(secs), now)),
                        page: None,
                        not_running: false,
                    })
                    .collect(),
                offline: false,
            }
        })
    }

    fn run_inference<'a>(
        &'a self,
        jobs: &'a [InferenceJob],
        _check: &'a CheckConfig,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Vec<InferenceResult>> {
        Box::pin(async move {
            jobs.iter()
                .map(|job| {
                    self.count.fetch_add(1, Ordering::SeqCst);
                    self.checks.lock().unwrap().push(self.start.elapsed().as_secs());
                    InferenceResult {
                        provider: job.provider.id.clone(),
                        check: ModelCheck {
                            model: job.model.clone(),
                            report: report(true, now),
                            usage: Some(Usage {
                                input_tokens: 8,
                                output_tokens: 1,
                            }),
                            cost_usd: 0.0,
                        },
                    }
                })
                .collect()
        })
    }
}

struct VirtualClock {
    base: DateTime<Utc>,
    start: tokio::time::Instant,
}

impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        self.base + chrono::Duration::from_std(self.start.elapsed()).unwrap()
    }
}

const SCRIPTED: &str = r#"
use_catalog = false
[check]
interval_secs = 60
confirm_secs = 10

[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "http://127.0.0.1:1"
models = ["claude-opus-4-1"]

[inference]
enabled = true
interval_secs = 600
monthly_budget_usd = 100.0
"#;

async fn settle_until(start: tokio::time::Instant, secs: u64) {
    tokio::time::sleep_until(start + Duration::from_secs(secs)).await;
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

/// A failed zero-token probe asks for the model's inference check at once
/// (not at the next confirmation or interval), and again at most every
/// `confirm_secs`; a stream of failing gateway calls asks no more often.
#[tokio::test(start_paused = true)]
async fn a_failed_probe_asks_for_the_inference_check_at_once_with_confirm_spacing() {
    let start = tokio::time::Instant::now();
    let source = Arc::new(Scripted {
        start,
        failing: |t| (60..90).contains(&t),
        probes: Mutex::default(),
        checks: Mutex::default(),
        count: AtomicUsize::new(0),
    });
    let config = Config::parse(SCRIPTED, Path::new("/nonexistent/switchboard-schedule.toml")).unwrap();
    let config = Config { path: None, ..config };
    let clock = Arc::new(VirtualClock {
        base: DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
        start,
    });
    let (handle, _task) = Engine::spawn(config, source.clone(), clock);
    settle_until(start, 200).await;
    let checks = source.checks.lock().unwrap().clone();
    let probes = source.probes.lock().unwrap().clone();
    // 0 s: the first check. 60 s: the probe fails, the model is asked in the
    // same second (its interval is 600 s). 70 s: the confirmation probe
    // fails too, and asks again, confirm_secs after the last.
    assert_eq!(checks, vec![0, 60, 70], "probes at {probes:?}");
    assert!(probes.contains(&60) && probes.contains(&70), "{probes:?}");
    assert_eq!(handle.status().providers[0].state, State::Operational);

    // Failing gateway calls every second for 30 s: forced checks stay at
    // least confirm_secs apart.
    let before = source.count.load(Ordering::SeqCst);
    for _ in 0..30 {
        handle.report_failure("anthropic", report(false, Utc::now()));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    settle_until(start, 231).await;
    let checks = source.checks.lock().unwrap().clone();
    let forced: Vec<u64> = checks.iter().copied().filter(|t| *t >= 200).collect();
    assert_eq!(forced.len(), source.count.load(Ordering::SeqCst) - before);
    assert!((2..=4).contains(&forced.len()), "forced checks at {forced:?}");
    assert!(
        forced.windows(2).all(|w| w[1] - w[0] >= 10),
        "forced checks closer than confirm_secs: {forced:?}"
    );
    handle.shutdown().await;
}
