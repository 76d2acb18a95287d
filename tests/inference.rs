//! Inference checks and per-model health (DESIGN "Inference checks and
//! per-model health"): the exact request each kind sends, checked by fakes
//! on 127.0.0.1; the seed case (model list 200, one model's
//! `POST /v1/messages` 500 `api_error` after 12 s) with the checks off and
//! on; and the budget on the running engine (paused time, scripted checks):
//! spend from usage, kept across a restart, stretching the interval, stopping
//! at the cap without alarming, and starting over in a new month.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{json, Value};
use switchboard::check::{self, CheckSource, Checker, InferenceJob, InferenceResult, ProviderCheck, Round};
use switchboard::config::{CheckConfig, Config, Provider};
use switchboard::credentials::Credentials;
use switchboard::engine::{Clock, Engine, EngineHandle, Event};
use switchboard::health::budget::SpendLedger;
use switchboard::model::{CredentialSource, InferenceStatus, ProbeClass, ProbeReport, State};
use switchboard::probe::inference::{check_model, ModelCheck, Usage};
use switchboard::secrets::EnvLookup;
use switchboard::secrets::MemoryStore;
use switchboard::store::{HistoryStore, Ledger};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk-inference-test-DO-NOT-LEAK";

fn env_of(pairs: &[(&str, &str)]) -> EnvLookup {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Arc::new(move |name| map.get(name).cloned())
}

fn credentials(env: &[(&str, &str)]) -> Credentials {
    Credentials::new(Arc::new(MemoryStore::default()), env_of(env))
}

fn config(text: &str) -> Config {
    Config::parse(text, Path::new("/nonexistent/switchboard-test.toml")).expect("test config")
}

fn check_config() -> CheckConfig {
    CheckConfig {
        slow: Duration::from_secs(8),
        ..CheckConfig::default()
    }
}

fn body_of(req: &Request) -> Value {
    serde_json::from_slice(&req.body).unwrap_or(Value::Null)
}

/// No tools, no system prompt, and exactly one short user message.
fn minimal_messages(body: &Value) -> bool {
    body.get("tools").is_none()
        && body.get("system").is_none()
        && body.get("stream").is_none()
        && body["messages"].as_array().is_some_and(|m| {
            m.len() == 1 && m[0]["role"] == "user" && m[0]["content"].as_str().is_some_and(|c| c.len() < 8)
        })
}

fn anthropic_ok(model: &str) -> Value {
    json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": "Hello"}], "stop_reason": "max_tokens", "stop_sequence": null,
        "usage": {"input_tokens": 8, "output_tokens": 1}
    })
}

async fn run_one(provider: &Provider, creds: &Credentials, model: &str) -> ModelCheck {
    let key = creds.resolve(provider).await.secret;
    check_model(
        &reqwest::Client::new(),
        provider,
        creds,
        key.as_ref(),
        model,
        &check_config(),
        Utc::now(),
    )
    .await
    .expect("a check ran")
}

fn assert_ok(c: &ModelCheck, usage: Usage) {
    assert_eq!(c.report.class, ProbeClass::Ok, "{:?}", c.report);
    assert_eq!(c.usage, Some(usage));
    let text = format!("{:?}", c.report);
    assert!(!text.contains(KEY));
}

#[tokio::test]
async fn anthropic_check_is_one_token_with_the_key_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .and(|req: &Request| {
            let b = body_of(req);
            b["model"] == "claude-haiku-4-5" && b["max_tokens"] == 1 && minimal_messages(&b)
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(anthropic_ok("claude-haiku-4-5")))
        .expect(1)
        .mount(&server)
        .await;
    let cfg = config(&format!(
        "use_catalog = false\n[[providers]]\nid = \"a\"\nkind = \"anthropic\"\nbase_url = \"{}\"\napi_key_env = \"K\"\n",
        server.uri()
    ));
    let creds = credentials(&[("K", KEY)]);
    let c = run_one(&cfg.providers[0], &creds, "claude-haiku-4-5").await;
    assert_ok(
        &c,
        Usage {
            input_tokens: 8,
            output_tokens: 1,
        },
    );
    // 8 × $1/M + 1 × $5/M.
    assert!((c.cost_usd - 0.000013).abs() < 1e-12, "{}", c.cost_usd);
}

fn openai_ok() -> Value {
    json!({
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "created": 1741570283,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9}
    })
}

#[tokio::test]
async fn openai_checks_use_the_limit_field_each_server_reads() {
    let server = MockServer::start().await;
    // OpenAI's own API: max_completion_tokens, never max_tokens.
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(|req: &Request| {
            let b = body_of(req);
            b["model"] == "gpt-4o-mini"
                && b["max_completion_tokens"] == 1
                && b.get("max_tokens").is_none()
                && minimal_messages(&b)
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_ok()))
        .expect(1)
        .mount(&server)
        .await;
    // A compatible server (llama.cpp, vLLM): max_tokens.
    Mock::given(method("POST"))
        .and(path("/compat/v1/chat/completions"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(|req: &Request| {
            let b = body_of(req);
            b["max_tokens"] == 1 && b.get("max_completion_tokens").is_none() && minimal_messages(&b)
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_ok()))
        .expect(1)
        .mount(&server)
        .await;
    let cfg = config(&format!(
        "use_catalog = false\n\
         [[providers]]\nid = \"o\"\nkind = \"openai\"\nbase_url = \"{0}/v1\"\napi_key_env = \"K\"\n\
         [[providers]]\nid = \"c\"\nkind = \"openai-compatible\"\nbase_url = \"{0}/compat/v1\"\napi_key_env = \"K\"\n",
        server.uri()
    ));
    let creds = credentials(&[("K", KEY)]);
    let usage = Usage {
        input_tokens: 8,
        output_tokens: 1,
    };
    let openai = run_one(&cfg.providers[0], &creds, "gpt-4o-mini").await;
    assert_ok(&openai, usage);
    // 8 × $0.15/M + 1 × $0.60/M.
    assert!((openai.cost_usd - 0.0000018).abs() < 1e-12, "{}", openai.cost_usd);
    // A server on this machine costs nothing.
    let local = run_one(&cfg.providers[1], &creds, "llama-3.1-8b").await;
    assert_ok(&local, usage);
    assert_eq!(local.cost_usd, 0.0);
}

#[tokio::test]
async fn gemini_check_is_generate_content_with_max_output_tokens_1() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-2.5-flash:generateContent"))
        .and(header("x-goog-api-key", KEY))
        .and(|req: &Request| {
            let b = body_of(req);
            b["generationConfig"]["maxOutputTokens"] == 1
                && b.get("tools").is_none()
                && b.get("systemInstruction").is_none()
                && b["contents"].as_array().is_some_and(|c| c.len() == 1 && c[0]["role"] == "user")
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "candidates": [{"content": {"parts": [{"text": "Hi"}], "role": "model"}, "finishReason": "MAX_TOKENS"}],
            "usageMetadata": {"promptTokenCount": 2, "candidatesTokenCount": 1, "totalTokenCount": 3},
            "modelVersion": "gemini-2.5-flash"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let cfg = config(&format!(
        "use_catalog = false\n[[providers]]\nid = \"g\"\nkind = \"gemini\"\nbase_url = \"{}\"\napi_key_env = \"K\"\n",
        server.uri()
    ));
    let creds = credentials(&[("K", KEY)]);
    let c = run_one(&cfg.providers[0], &creds, "gemini-2.5-flash").await;
    assert_ok(
        &c,
        Usage {
            input_tokens: 2,
            output_tokens: 1,
        },
    );
}

#[tokio::test]
async fn bedrock_check_is_invoke_model_with_max_tokens_1() {
    let server = MockServer::start().await;
    let model = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
    Mock::given(method("POST"))
        .and(path(
            "/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke",
        ))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(|req: &Request| {
            let b = body_of(req);
            b["max_tokens"] == 1
                && b.get("model").is_none()
                && b["anthropic_version"] == "bedrock-2023-05-31"
                && minimal_messages(&b)
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(anthropic_ok(model)))
        .expect(1)
        .mount(&server)
        .await;
    let cfg = config(&format!(
        "use_catalog = false\n[[providers]]\nid = \"bedrock\"\nkind = \"bedrock\"\nbase_url = \"{}\"\n\
         region = \"us-east-1\"\napi_key_env = \"K\"\n",
        server.uri()
    ));
    let creds = credentials(&[("K", KEY)]);
    let c = run_one(&cfg.providers[0], &creds, model).await;
    assert_ok(
        &c,
        Usage {
            input_tokens: 8,
            output_tokens: 1,
        },
    );
}

#[tokio::test]
async fn vertex_check_is_raw_predict_with_max_tokens_1() {
    let server = MockServer::start().await;
    let model = "claude-sonnet-4-5@20250929";
    Mock::given(method("POST"))
        .and(path(format!(
            "/v1/projects/proj-123/locations/us-east5/publishers/anthropic/models/{model}:rawPredict"
        )))
        .and(header("authorization", "Bearer ya29.inference-test"))
        .and(|req: &Request| {
            let b = body_of(req);
            b["max_tokens"] == 1 && b.get("model").is_none() && minimal_messages(&b)
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(anthropic_ok(model)))
        .expect(1)
        .mount(&server)
        .await;
    let cfg = config(&format!(
        "use_catalog = false\n[[providers]]\nid = \"vertex\"\nkind = \"vertex\"\nbase_url = \"{}\"\n\
         region = \"us-east5\"\nproject = \"proj-123\"\ntoken_command = \"echo ya29.inference-test\"\n",
        server.uri()
    ));
    let creds = credentials(&[]);
    let c = run_one(&cfg.providers[0], &creds, model).await;
    assert_ok(
        &c,
        Usage {
            input_tokens: 8,
            output_tokens: 1,
        },
    );
    // 8 × $3/M + 1 × $15/M.
    assert!((c.cost_usd - 0.000039).abs() < 1e-12, "{}", c.cost_usd);
}

/// The seed case: the model list answers 200 while one model's messages
/// answer `500 api_error` after 12 s (a real 12 s delay, once).
#[tokio::test]
async fn model_500_after_12s_is_invisible_to_reachability_and_an_outage_with_inference() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "claude-opus-4-1-20250805", "type": "model", "display_name": "Claude Opus 4.1",
                      "created_at": "2025-08-05T00:00:00Z"}],
            "has_more": true, "first_id": "claude-opus-4-1-20250805", "last_id": "claude-opus-4-1-20250805"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(|req: &Request| body_of(req)["model"] == "claude-opus-4-1")
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy")
                .set_body_json(json!({"type": "error",
                    "error": {"type": "api_error", "message": "Internal server error"},
                    "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}))
                .set_delay(Duration::from_secs(12)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(|req: &Request| body_of(req)["model"] == "claude-haiku-4-5")
        .respond_with(ResponseTemplate::new(200).set_body_json(anthropic_ok("claude-haiku-4-5")))
        .expect(1)
        .mount(&server)
        .await;
    let cfg = config(&format!(
        "use_catalog = false\n[[providers]]\nid = \"anthropic\"\nkind = \"anthropic\"\nbase_url = \"{}\"\n\
         api_key_env = \"K\"\nmodels = [\"claude-opus-4-1\", \"claude-haiku-4-5\"]\n",
        server.uri()
    ));
    let checker = Checker::new(credentials(&[("K", KEY)])).unwrap();
    let providers: Vec<&Provider> = cfg.enabled_providers().collect();
    let now = Utc::now();
    let round = checker.run(&providers, &cfg.check, true, now).await;

    // Off: reachability only, and it says so.
    let off = InferenceStatus {
        enabled: false,
        spent_usd_month: 0.0,
        budget_usd_month: 1.0,
        stopped: false,
        interval_secs: 60,
    };
    let report = check::one_shot_report_with(&cfg, &providers, &round, &[], Some(off));
    let p = &report.providers[0];
    assert_eq!(p.state, State::Operational, "{}", p.summary);
    let inference = p.inference.as_ref().expect("inference block");
    assert!(!inference.enabled);
    assert!(
        inference.describe().contains("reachability only"),
        "{}",
        inference.describe()
    );
    assert_eq!(p.models.len(), 2);
    assert!(
        p.models
            .iter()
            .all(|m| m.summary == "not checked (inference checks off)"),
        "each model row says why it was not checked: {:?}",
        p.models
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["providers"][0]["inference"]["enabled"], false);
    assert_eq!(json["providers"][0]["models"][0]["seen_in_traffic"], false);

    // On: the failing model is an outage with its 12 s latency; the other is fine.
    let jobs: Vec<InferenceJob> = cfg.providers[0]
        .watched_models()
        .into_iter()
        .map(|model| InferenceJob {
            provider: cfg.providers[0].clone(),
            model,
        })
        .collect();
    let results = checker.inference(&jobs, &cfg.check, now).await;
    let on = InferenceStatus {
        enabled: true,
        ..inference.clone()
    };
    let report = check::one_shot_report_with(&cfg, &providers, &round, &results, Some(on));
    let p = &report.providers[0];
    assert_eq!(p.state, State::Outage);
    assert!(!p.confirmed_by_status_page);
    assert!(
        p.summary
            .starts_with("claude-opus-4-1: HTTP 500 api_error: Internal server error"),
        "{}",
        p.summary
    );
    assert!(p.summary.ends_with("; 1 other model OK"), "{}", p.summary);
    let opus = p.models.iter().find(|m| m.id == "claude-opus-4-1").unwrap();
    assert_eq!(opus.state, State::Outage);
    let probe = opus.probe.as_ref().unwrap();
    assert!(probe.latency_ms >= Some(12_000), "{:?}", probe.latency_ms);
    assert_eq!(probe.http_status, Some(500));
    assert_eq!(probe.request_id.as_deref(), Some("req_011CSHoEeqs5C35K2UUqR7Fy"));
    let haiku = p.models.iter().find(|m| m.id == "claude-haiku-4-5").unwrap();
    assert_eq!(haiku.state, State::Operational);
    // The model list itself still answered.
    assert_eq!(p.probe.as_ref().unwrap().http_status, Some(200));
    assert_eq!(report.overall.exit_code(), 2);
}

// ---------------------------------------------------------------------------
// The budget on the running engine: paused time, scripted checks.

/// Every probe passes; every inference check answers as `answer` says, at a
/// fixed cost, and is counted.
struct Scripted {
    answer: Box<dyn Fn(&str) -> ProbeClass + Send + Sync>,
    cost: f64,
    checks: AtomicUsize,
    /// Virtual second of every inference check, per model.
    times: Mutex<Vec<(u64, String)>>,
    start: tokio::time::Instant,
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
            Round {
                at: now,
                checks: providers
                    .iter()
                    .map(|p| ProviderCheck {
                        id: p.id.clone(),
                        credential: CredentialSource::Env,
                        keyring_error: None,
                        probe: Some(report(ProbeClass::Ok, now)),
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
                    self.checks.fetch_add(1, Ordering::SeqCst);
                    self.times
                        .lock()
                        .unwrap()
                        .push((self.start.elapsed().as_secs(), job.model.clone()));
                    let class = (self.answer)(&job.model);
                    let ok = class == ProbeClass::Ok;
                    InferenceResult {
                        provider: job.provider.id.clone(),
                        check: ModelCheck {
                            model: job.model.clone(),
                            report: report(class, now),
                            usage: ok.then_some(Usage {
                                input_tokens: 8,
                                output_tokens: 1,
                            }),
                            cost_usd: if ok { self.cost } else { 0.0 },
                        },
                    }
                })
                .collect()
        })
    }
}

fn report(class: ProbeClass, at: DateTime<Utc>) -> ProbeReport {
    let ok = class == ProbeClass::Ok;
    ProbeReport {
        ok,
        http_status: Some(if ok { 200 } else { 500 }),
        error_type: (!ok).then(|| "api_error".to_string()),
        message: (!ok).then(|| "Internal server error".to_string()),
        request_id: None,
        latency_ms: Some(300),
        at,
        retry_after_secs: None,
        class,
    }
}

struct FixedClock {
    base: DateTime<Utc>,
    start: tokio::time::Instant,
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.base + chrono::Duration::from_std(self.start.elapsed()).unwrap()
    }
}

const ENGINE_CONFIG: &str = r#"
use_catalog = false
[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "http://127.0.0.1:1"
models = ["claude-opus-4-1", "claude-haiku-4-5"]

[inference]
enabled = true
interval_secs = 60
monthly_budget_usd = 0.01
"#;

fn start_engine(text: &str, at: &str, source: Arc<Scripted>, ledger: Arc<dyn HistoryStore>) -> EngineHandle {
    let cfg = Config {
        path: None,
        ..config(text)
    };
    let clock = Arc::new(FixedClock {
        base: DateTime::parse_from_rfc3339(at).unwrap().with_timezone(&Utc),
        start: tokio::time::Instant::now(),
    });
    let ledger: Arc<dyn SpendLedger> = Arc::new(Ledger(ledger));
    Engine::spawn_with_ledger(cfg, source, clock, Some(ledger)).0
}

fn scripted(cost: f64, answer: impl Fn(&str) -> ProbeClass + Send + Sync + 'static) -> Arc<Scripted> {
    Arc::new(Scripted {
        answer: Box::new(answer),
        cost,
        checks: AtomicUsize::new(0),
        times: Mutex::new(Vec::new()),
        start: tokio::time::Instant::now(),
    })
}

async fn settle(secs: u64) {
    tokio::time::sleep(Duration::from_secs(secs)).await;
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

fn inference_of(h: &EngineHandle) -> InferenceStatus {
    h.status().providers[0]
        .inference
        .clone()
        .expect("inference block")
}

#[tokio::test(start_paused = true)]
async fn spend_accumulates_survives_a_restart_and_stops_at_the_cap_without_alarming() {
    let db: Arc<dyn HistoryStore> = Arc::new(switchboard::store::MemoryStore::new());
    // $0.001 a check, 2 models: $0.002 a round against $0.01.
    let source = scripted(0.001, |_| ProbeClass::Ok);
    let h = start_engine(ENGINE_CONFIG, "2026-11-24T09:00:00Z", source.clone(), db.clone());
    let mut events = h.subscribe();
    settle(1).await;
    assert_eq!(source.checks.load(Ordering::SeqCst), 2);
    let i = inference_of(&h);
    assert!((i.spent_usd_month - 0.002).abs() < 1e-9, "{i:?}");
    assert!(i.enabled && !i.stopped);
    // The per-model rows are there, with the model's own state.
    let models = &h.status().providers[0].models;
    assert_eq!(models.len(), 2);
    assert!(models.iter().all(|m| m.state == State::Operational));
    h.shutdown().await;
    settle(1).await;
    assert!((db.inference_spent("2026-11").unwrap() - 0.002).abs() < 1e-9);

    // Restart: the month's spend is read back, and checks go on until the cap.
    let source = scripted(0.001, |_| ProbeClass::Ok);
    let h = start_engine(ENGINE_CONFIG, "2026-11-24T09:05:00Z", source.clone(), db.clone());
    settle(1).await;
    assert!((inference_of(&h).spent_usd_month - 0.004).abs() < 1e-9);
    // The interval stretched: $0.006 left for ~6 days at $0.002 a round.
    assert!(inference_of(&h).interval_secs > 60, "{:?}", inference_of(&h));
    settle(3 * 24 * 3600).await;
    let i = inference_of(&h);
    let checks = source.checks.load(Ordering::SeqCst);
    assert!(i.stopped, "{i:?}");
    assert!(
        i.spent_usd_month >= 0.01 - 1e-9 && i.spent_usd_month < 0.0125,
        "{i:?}"
    );
    assert!(
        i.describe().contains("stopped: budget reached"),
        "{}",
        i.describe()
    );
    // Stopped means stopped: nothing more is sent, and the provider is fine.
    settle(24 * 3600).await;
    assert_eq!(source.checks.load(Ordering::SeqCst), checks);
    assert_eq!(h.status().providers[0].state, State::Operational);
    while let Ok(e) = events.try_recv() {
        assert!(!matches!(e, Event::IncidentOpened { .. }), "{e:?}");
    }
    // /metrics: the gauge the shipped alert rule expects, and the spend.
    let metrics = switchboard::metrics::Metrics::new();
    metrics.observe_report(&h.status());
    let text = metrics.encode().unwrap();
    assert!(
        text.contains(r#"switchboard_inference_budget_exhausted{provider="anthropic"} 1"#),
        "{text}"
    );
    assert!(text.contains("switchboard_inference_spent_usd 0.01"), "{text}");
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_new_month_starts_the_budget_over() {
    let db: Arc<dyn HistoryStore> = Arc::new(switchboard::store::MemoryStore::new());
    db.add_inference_spent("2026-11", 0.01).unwrap();
    let source = scripted(0.001, |_| ProbeClass::Ok);
    // 10 minutes before the month ends, with November's budget spent.
    let h = start_engine(ENGINE_CONFIG, "2026-11-30T23:50:00Z", source.clone(), db.clone());
    settle(1).await;
    assert!(inference_of(&h).stopped);
    assert_eq!(source.checks.load(Ordering::SeqCst), 0);
    settle(15 * 60).await;
    let i = inference_of(&h);
    assert!(!i.stopped, "{i:?}");
    assert!(i.spent_usd_month > 0.0 && i.spent_usd_month < 0.005, "{i:?}");
    assert!(source.checks.load(Ordering::SeqCst) > 0);
    assert!(db.inference_spent("2026-12").unwrap() > 0.0);
    assert!((db.inference_spent("2026-11").unwrap() - 0.01).abs() < 1e-9);
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_model_opens_an_outage_that_names_it() {
    let db: Arc<dyn HistoryStore> = Arc::new(switchboard::store::MemoryStore::new());
    let text = ENGINE_CONFIG.replace("0.01", "5.0");
    let source = scripted(0.00001, |model| {
        if model == "claude-opus-4-1" {
            ProbeClass::ServerError
        } else {
            ProbeClass::Ok
        }
    });
    let h = start_engine(&text, "2026-11-24T09:00:00Z", source.clone(), db);
    let mut events = h.subscribe();
    // First check at 0 s, confirmation at 10 s (failures_to_open = 2).
    settle(15).await;
    let p = h.status().providers[0].clone();
    assert_eq!(p.state, State::Outage, "{}", p.summary);
    assert!(
        p.summary.starts_with("claude-opus-4-1: HTTP 500"),
        "{}",
        p.summary
    );
    assert!(p.summary.contains("1 other model OK"), "{}", p.summary);
    assert!(!p.confirmed_by_status_page);
    let opus = p.models.iter().find(|m| m.id == "claude-opus-4-1").unwrap();
    let haiku = p.models.iter().find(|m| m.id == "claude-haiku-4-5").unwrap();
    assert_eq!(opus.state, State::Outage);
    assert_eq!(haiku.state, State::Operational);
    // The confirmation re-checked the failing model only, within confirm_secs.
    let times = source.times.lock().unwrap().clone();
    assert!(times.contains(&(10, "claude-opus-4-1".to_string())), "{times:?}");
    assert!(
        !times.contains(&(10, "claude-haiku-4-5".to_string())),
        "{times:?}"
    );
    let mut opened = None;
    while let Ok(e) = events.try_recv() {
        if let Event::IncidentOpened { incident, .. } = e {
            opened = Some(incident);
        }
    }
    let incident = opened.expect("an incident opened");
    assert!(incident.cause.contains("claude-opus-4-1"), "{}", incident.cause);
    assert_eq!(incident.model.as_deref(), Some("claude-opus-4-1"));
    // The notification says which model, and that the page has not said so.
    let notice = switchboard::notify::notice::began("anthropic", &incident, &h.status());
    assert!(notice.summary.contains("(claude-opus-4-1)"), "{}", notice.summary);
    assert!(
        notice.body.contains("not yet on the status page"),
        "{}",
        notice.body
    );
    // History keeps the model.
    let dir = tempfile::tempdir().unwrap();
    let db = switchboard::store::SqliteStore::open(dir.path().join("h.sqlite3")).unwrap();
    db.upsert_incident("anthropic", &incident).unwrap();
    let rows = db.incidents(Some("anthropic"), incident.started_at).unwrap();
    assert_eq!(rows[0].record.model.as_deref(), Some("claude-opus-4-1"));
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_model_seen_in_gateway_traffic_is_watched_and_checked() {
    let db: Arc<dyn HistoryStore> = Arc::new(switchboard::store::MemoryStore::new());
    let text = ENGINE_CONFIG.replace("0.01", "5.0");
    let source = scripted(0.00001, |_| ProbeClass::Ok);
    let h = start_engine(&text, "2026-11-24T09:00:00Z", source.clone(), db);
    settle(1).await;
    h.report_model_used("anthropic", "claude-sonnet-4-5-20250929");
    settle(61).await;
    let models = h.status().providers[0].models.clone();
    let seen = models
        .iter()
        .find(|m| m.id == "claude-sonnet-4-5-20250929")
        .expect("the traffic model is listed");
    assert!(seen.seen_in_traffic);
    assert_eq!(seen.state, State::Operational);
    assert!(models.iter().filter(|m| !m.seen_in_traffic).count() == 2);
    let times = source.times.lock().unwrap().clone();
    assert!(
        times.iter().any(|(_, m)| m == "claude-sonnet-4-5-20250929"),
        "{times:?}"
    );
    h.shutdown().await;
}

// ---------------------------------------------------------------------------
// Elevated errors: the error-rate rule on the running engine, real checks
// against a fake on 127.0.0.1.

/// Answers every other `POST /v1/messages` for one model with Anthropic's
/// `500 api_error` (the first one fails), the others with a real 1-token
/// answer: a 50 % error rate that never fails twice in a row.
struct EveryOtherFails {
    calls: AtomicUsize,
    model: &'static str,
}

impl wiremock::Respond for EveryOtherFails {
    fn respond(&self, _req: &Request) -> ResponseTemplate {
        if self.calls.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
            ResponseTemplate::new(500)
                .insert_header("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy")
                .set_body_json(json!({"type": "error",
                    "error": {"type": "api_error", "message": "Internal server error"},
                    "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}))
        } else {
            ResponseTemplate::new(200).set_body_json(anthropic_ok(self.model))
        }
    }
}

/// Issue 11 (elevated error rates): one model failing every other check
/// never makes two failures in a row, yet after 3 of its last 5 checks
/// failed the provider is in an outage that names the model and says it is
/// intermittent; the other model stays operational, and the outage does not
/// close and reopen while the errors go on.
#[tokio::test]
async fn every_other_check_failing_opens_an_intermittent_outage_naming_the_model() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "claude-sonnet-4-5-20250929", "type": "model", "display_name": "Claude Sonnet 4.5",
                      "created_at": "2025-09-29T00:00:00Z"}],
            "has_more": false, "first_id": "claude-sonnet-4-5-20250929", "last_id": "claude-sonnet-4-5-20250929"
        })))
        .mount(&server)
        .await;
    let sonnet_calls = Arc::new(EveryOtherFails {
        calls: AtomicUsize::new(0),
        model: "claude-sonnet-4-5",
    });
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(|req: &Request| body_of(req)["model"] == "claude-sonnet-4-5")
        .respond_with(EveryOtherFailsShared(sonnet_calls.clone()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(|req: &Request| body_of(req)["model"] == "claude-haiku-4-5")
        .respond_with(ResponseTemplate::new(200).set_body_json(anthropic_ok("claude-haiku-4-5")))
        .mount(&server)
        .await;
    let cfg = config(&format!(
        "use_catalog = false\n[check]\ninterval_secs = 1\nconfirm_secs = 1\n\
         [[providers]]\nid = \"anthropic\"\nkind = \"anthropic\"\nbase_url = \"{}\"\nstatus_format = \"none\"\n\
         api_key_env = \"K\"\nmodels = [\"claude-sonnet-4-5\", \"claude-haiku-4-5\"]\n\
         [inference]\nenabled = true\ninterval_secs = 1\nmonthly_budget_usd = 100\n",
        server.uri()
    ));
    let cfg = Config { path: None, ..cfg };
    let checker = Checker::new(credentials(&[("K", KEY)])).unwrap();
    let (h, _task) = Engine::spawn(cfg, Arc::new(checker), Arc::new(switchboard::engine::SystemClock));
    let mut events = h.subscribe();
    let mut opened = Vec::new();
    let mut closed = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while opened.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        while let Ok(e) = events.try_recv() {
            match e {
                Event::IncidentOpened { incident, .. } => opened.push(incident),
                Event::IncidentClosed { .. } => closed += 1,
                _ => {}
            }
        }
    }
    let p = h.status().providers[0].clone();
    assert_eq!(p.state, State::Outage, "{}", p.summary);
    assert_eq!(opened.len(), 1, "{opened:?}");
    let incident = &opened[0];
    assert_eq!(incident.model.as_deref(), Some("claude-sonnet-4-5"));
    assert!(
        incident
            .cause
            .starts_with("3 of the last 5 checks failed: claude-sonnet-4-5: HTTP 500 api_error"),
        "{}",
        incident.cause
    );
    assert_eq!(
        incident.request_id.as_deref(),
        Some("req_011CSHoEeqs5C35K2UUqR7Fy")
    );
    assert!(!p.confirmed_by_status_page);
    // The model list answered throughout; only alternate calls failed.
    assert_eq!(p.probe.as_ref().unwrap().http_status, Some(200));
    let calls = sonnet_calls.calls.load(Ordering::SeqCst);
    assert!(calls >= 5, "three failures need five calls, got {calls}");
    let sonnet = p.models.iter().find(|m| m.id == "claude-sonnet-4-5").unwrap();
    let haiku = p.models.iter().find(|m| m.id == "claude-haiku-4-5").unwrap();
    assert_eq!(sonnet.state, State::Outage, "{}", sonnet.summary);
    assert!(
        sonnet.summary.contains("of the last 5 checks failed"),
        "{}",
        sonnet.summary
    );
    assert_eq!(haiku.state, State::Operational, "{}", haiku.summary);

    // The errors go on: the outage holds, no close and reopen.
    tokio::time::sleep(Duration::from_secs(5)).await;
    while let Ok(e) = events.try_recv() {
        match e {
            Event::IncidentOpened { incident, .. } => opened.push(incident),
            Event::IncidentClosed { .. } => closed += 1,
            _ => {}
        }
    }
    assert!(
        sonnet_calls.calls.load(Ordering::SeqCst) >= calls + 3,
        "checks went on"
    );
    assert_eq!((opened.len(), closed), (1, 0), "{opened:?}");
    assert_eq!(h.status().providers[0].state, State::Outage);
    h.shutdown().await;
}

/// Shares the counter with the test, which reads how many calls were made.
struct EveryOtherFailsShared(Arc<EveryOtherFails>);

impl wiremock::Respond for EveryOtherFailsShared {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.0.respond(req)
    }
}
