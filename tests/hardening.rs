//! Regression tests for the security review of issue 16, each named after the
//! hole it pins: web pages spending credits through the gateway, the remote
//! dashboard handing out its token, config values that killed the engine,
//! unbounded buffers, status-page text growing history, and the small ones.
//!
//! Every peer is a fake on 127.0.0.1 that records what it was sent.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use switchboard::check::Checker;
use switchboard::config::Config;
use switchboard::credentials::Credentials;
use switchboard::engine::{Engine, EngineHandle, SystemClock};
use switchboard::gateway;
use switchboard::secrets::{MemoryStore, Secret, SecretStore};
use switchboard::server::HostPolicy;
use switchboard::traffic::Traffic;

const ANTHROPIC_KEY: &str = "sk-ant-api03-hardening-0001";
const OPENAI_KEY: &str = "sk-proj-hardening-0002";

/// An upstream that records every request and answers with `answer`.
#[derive(Clone)]
struct Upstream {
    seen: Arc<Mutex<Vec<String>>>,
    addr: SocketAddr,
}

impl Upstream {
    /// Generation calls received (the model-list probes left out).
    fn calls(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|p| !p.split(' ').next().unwrap_or("").ends_with("/models"))
            .cloned()
            .collect()
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

type Answer = fn(&str) -> Response;

async fn upstream(answer: Answer) -> Upstream {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .fallback(
            |State((seen, answer)): State<(Arc<Mutex<Vec<String>>>, Answer)>, request: Request| async move {
                let path = request.uri().path().to_string();
                // The key the gateway added, to prove it is never the client's.
                let key = request
                    .headers()
                    .get("x-api-key")
                    .or_else(|| request.headers().get("authorization"))
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                seen.lock().unwrap().push(format!("{path} {key}"));
                answer(&path)
            },
        )
        .with_state((seen.clone(), answer));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Upstream { seen, addr }
}

fn anthropic_ok(path: &str) -> Response {
    if path.ends_with("/models") {
        return axum::Json(json!({"data": [], "has_more": false, "first_id": null, "last_id": null}))
            .into_response();
    }
    axum::Json(json!({
        "id": "msg_01hardening", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": "hello"}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 5, "output_tokens": 1}
    }))
    .into_response()
}

fn openai_ok(path: &str) -> Response {
    if path.ends_with("/models") {
        return axum::Json(json!({"object": "list", "data": []})).into_response();
    }
    axum::Json(json!({
        "id": "chatcmpl-hardening", "object": "chat.completion", "created": 1_764_000_000,
        "model": "gpt-4.1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
    }))
    .into_response()
}

struct Gw {
    url: String,
    #[allow(dead_code)]
    engine: EngineHandle,
    anthropic: Upstream,
    openai: Upstream,
    _dir: tempfile::TempDir,
}

fn credentials() -> Credentials {
    let store = Arc::new(MemoryStore::default());
    store.set("anthropic", &Secret::new(ANTHROPIC_KEY)).unwrap();
    store.set("openai", &Secret::new(OPENAI_KEY)).unwrap();
    let env: HashMap<String, String> = HashMap::new();
    Credentials::new(store, Arc::new(move |name| env.get(name).cloned()))
}

/// The real engine and gateway router over two recording upstreams.
async fn start_gateway(extra: &str, anthropic: Answer) -> Gw {
    start_gateway_with(r#"["anthropic", "openai"]"#, extra, anthropic).await
}

async fn start_gateway_with(fallback: &str, extra: &str, anthropic: Answer) -> Gw {
    let anthropic = upstream(anthropic).await;
    let openai = upstream(openai_ok).await;
    let text = format!(
        r#"use_catalog = false
preferred = "anthropic"
fallback = {fallback}

[check]
interval_secs = 3600

{extra}

[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "{a}"
status_format = "none"

[[providers]]
id = "openai"
kind = "openai"
base_url = "{o}/v1"
model = "gpt-4.1"
status_format = "none"
"#,
        a = anthropic.url(),
        o = openai.url(),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    let creds = credentials();
    let checker = Checker::new(creds.clone()).unwrap();
    let (engine, _task) = Engine::spawn(config, Arc::new(checker), Arc::new(SystemClock));
    engine.check_now().await.unwrap();
    let router = gateway::router(
        engine.clone(),
        creds,
        Arc::new(Traffic::default()),
        HostPolicy::loopback(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(gateway::serve(listener, router, std::future::pending()));
    Gw {
        url: format!("http://{addr}"),
        engine,
        anthropic,
        openai,
        _dir: dir,
    }
}

fn message_request() -> Value {
    json!({
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 32000,
        "messages": [{"role": "user", "content": "spend the user's credits"}]
    })
}

// ------------------------------------------------- 1. gateway and web pages

#[tokio::test]
async fn gateway_refuses_cross_origin_text_plain_post() {
    let gw = start_gateway("", anthropic_ok).await;
    let client = reqwest::Client::new();
    let body = message_request().to_string();
    // What a page's `fetch(..., {mode: "no-cors", body})` sends.
    let r = client
        .post(format!("{}/v1/messages", gw.url))
        .header("content-type", "text/plain;charset=UTF-8")
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "no-cors")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["type"], "error");
    assert_eq!(e["error"]["type"], "permission_error");
    // A form POST (no Origin from an old browser) is refused for its type.
    let r = client
        .post(format!("{}/v1/chat/completions", gw.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("model=gpt-4.1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["type"], "invalid_request_error", "OpenAI-shaped: {e}");
    // A same-site page on another local port is another origin.
    let r = client
        .post(format!("{}/v1/messages", gw.url))
        .header("content-type", "application/json")
        .header("origin", "http://127.0.0.1:8000")
        .header("sec-fetch-site", "same-site")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(gw.anthropic.calls().is_empty(), "{:?}", gw.anthropic.calls());
    assert!(gw.openai.calls().is_empty(), "{:?}", gw.openai.calls());

    // An API client (no Origin, JSON) still goes through: the fake counts.
    let r = client
        .post(format!("{}/v1/messages", gw.url))
        .header("content-type", "application/json")
        .header("anthropic-version", "2023-06-01")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(gw.anthropic.calls().len(), 1);
}

#[tokio::test]
async fn gateway_allows_a_listed_origin_and_checks_the_configured_token() {
    let gw = start_gateway(
        "[gateway]\nallowed_origins = [\"http://localhost:3000\"]\ntoken = \"gw-token-0123456789abcdef\"\n",
        anthropic_ok,
    )
    .await;
    let client = reqwest::Client::new();
    let send = |origin: Option<&'static str>, key: Option<&'static str>| {
        let mut r = client
            .post(format!("{}/v1/messages", gw.url))
            .header("content-type", "application/json")
            .json(&message_request());
        if let Some(o) = origin {
            r = r.header("origin", o).header("sec-fetch-site", "same-site");
        }
        if let Some(k) = key {
            r = r.header("x-api-key", k);
        }
        r.send()
    };
    // Claude Code sends its own key: with a token configured it is compared, and refused.
    let r = send(None, Some("sk-ant-client-own-key")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = send(None, None).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(gw.anthropic.calls().is_empty());
    let r = send(Some("http://localhost:3000"), Some("gw-token-0123456789abcdef"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = client
        .post(format!("{}/v1/messages", gw.url))
        .header("authorization", "Bearer gw-token-0123456789abcdef")
        .json(&message_request())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let calls = gw.anthropic.calls();
    assert_eq!(calls.len(), 2);
    // Upstream gets the keyring's key, never the gateway token.
    assert!(calls.iter().all(|c| c.ends_with(ANTHROPIC_KEY)), "{calls:?}");
}

// ------------------------------------------------- 3. the engine cannot die silently

/// A check source that panics on the rounds `panics` says, and otherwise
/// reports every provider operational: the test-only way into a crash,
/// through the engine's ordinary seam (no hook in production code).
struct Crashing {
    rounds: std::sync::atomic::AtomicUsize,
    panics: fn(usize) -> bool,
}

impl switchboard::check::CheckSource for Crashing {
    fn run_round<'a>(
        &'a self,
        providers: &'a [&'a switchboard::config::Provider],
        _check: &'a switchboard::config::CheckConfig,
        _fetch_pages: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> futures::future::BoxFuture<'a, switchboard::check::Round> {
        let n = self.rounds.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let panics = (self.panics)(n);
        Box::pin(async move {
            if panics {
                panic!("overflow when adding duration to instant (injected, round {n})");
            }
            switchboard::check::Round {
                at: now,
                checks: providers
                    .iter()
                    .map(|p| switchboard::check::ProviderCheck {
                        id: p.id.clone(),
                        credential: switchboard::model::CredentialSource::NotNeeded,
                        keyring_error: None,
                        probe: None,
                        page: None,
                    })
                    .collect(),
                offline: false,
            }
        })
    }
}

fn status_only_config() -> Config {
    Config::parse(
        "use_catalog = false\n[[providers]]\nid = \"s\"\nkind = \"status\"\nstatus_format = \"none\"\n",
        std::path::Path::new("/tmp/hardening.toml"),
    )
    .unwrap()
}

#[tokio::test]
async fn engine_panic_is_restarted_and_shown_in_api_status() {
    let source = Crashing {
        rounds: Default::default(),
        panics: |n| n == 0,
    };
    let (engine, task) = Engine::spawn(status_only_config(), Arc::new(source), Arc::new(SystemClock));
    // The first round crashes; the supervisor restarts and the next round works.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while engine.status().engine_error.is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the crash was never reported"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let report = engine.check_now().await.expect("the restarted engine answers");
    let error = report.engine_error.clone().unwrap();
    assert!(
        error.contains("crashed") && error.contains("injected, round 0"),
        "{error}"
    );
    assert!(!task.is_finished());

    // `/api/status` carries it, so the dashboard shows it.
    let token =
        Arc::new(switchboard::server::Token::load_or_create(tempfile::tempdir().unwrap().path()).unwrap());
    let state = switchboard::server::AppState::new(
        engine.clone(),
        credentials(),
        token,
        Arc::new(switchboard::metrics::Metrics::new()),
    );
    let response = tower::ServiceExt::oneshot(
        switchboard::server::router(state),
        axum::http::Request::get("/api/status")
            .header("host", "127.0.0.1:7461")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        json["engine_error"].as_str().unwrap().contains("restarted"),
        "{json}"
    );
    engine.shutdown().await;
    task.await.expect("a clean shutdown after the restart");
}

#[tokio::test(start_paused = true)]
async fn engine_that_keeps_crashing_ends_its_task_with_the_panic() {
    let source = Crashing {
        rounds: Default::default(),
        panics: |_| true,
    };
    let (_engine, task) = Engine::spawn(status_only_config(), Arc::new(source), Arc::new(SystemClock));
    let ended = tokio::time::timeout(Duration::from_secs(600), task)
        .await
        .expect("the supervisor gave up");
    assert!(ended.unwrap_err().is_panic());
}

// ------------------------------------------------- 2. the remote dashboard

/// A server over a quiet engine whose config lives in a temp dir (mutations write it).
async fn server_state(
    remote: bool,
) -> (
    switchboard::server::AppState,
    Arc<switchboard::server::Token>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "use_catalog = false\n[[providers]]\nid = \"a\"\nkind = \"status\"\nstatus_format = \"none\"\n\
         [[providers]]\nid = \"b\"\nkind = \"status\"\nstatus_format = \"none\"\n",
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    let source = Crashing {
        rounds: Default::default(),
        panics: |_| false,
    };
    let (engine, _task) = Engine::spawn(config, Arc::new(source), Arc::new(SystemClock));
    let token = Arc::new(switchboard::server::Token::load_or_create(dir.path()).unwrap());
    let mut state = switchboard::server::AppState::new(
        engine,
        credentials(),
        token.clone(),
        Arc::new(switchboard::metrics::Metrics::new()),
    );
    if remote {
        state = state.allow_remote("0.0.0.0:7461".parse().unwrap());
    }
    (state, token, dir)
}

/// A request as it arrives from `peer` (what `serve`'s `ConnectInfo` records).
async fn from_peer(
    state: &switchboard::server::AppState,
    peer: &str,
    request: axum::http::request::Builder,
    body: &str,
) -> (StatusCode, String) {
    let mut request = request.body(axum::body::Body::from(body.to_string())).unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    let response = tower::ServiceExt::oneshot(switchboard::server::router(state.clone()), request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn remote_dashboard_does_not_hand_out_the_token() {
    let (state, token, _dir) = server_state(true).await;
    let get = || axum::http::Request::get("/").header("host", "10.0.0.2:7461");
    let (status, html) = from_peer(&state, "10.0.0.5:50000", get(), "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(token.as_str()), "the token went to a network peer");
    assert!(html.contains(r#"<meta name="switchboard-read-only""#), "{html}");
    // This machine still gets the full dashboard.
    let (_, html) = from_peer(&state, "127.0.0.1:50000", get(), "").await;
    assert!(html.contains(token.as_str()));
    let (_, html) = from_peer(&state, "[::1]:50000", get(), "").await;
    assert!(html.contains(token.as_str()));
}

#[tokio::test]
async fn remote_mutation_without_origin_is_refused() {
    let (state, token, _dir) = server_state(true).await;
    let put = |origin: Option<&str>| {
        let mut r = axum::http::Request::put("/api/auto_switch")
            .header("host", "10.0.0.2:7461")
            .header("content-type", "application/json")
            .header(switchboard::server::TOKEN_HEADER, token.as_str());
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r
    };
    let body = r#"{"enabled":true}"#;
    let (status, text) = from_peer(&state, "10.0.0.5:50000", put(None), body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(!state.engine.status().auto_switch);
    let (status, text) = from_peer(&state, "10.0.0.5:50000", put(Some("http://10.0.0.2:7461")), body).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(state.engine.status().auto_switch);
    // A loopback peer (a script on the same machine) keeps working without Origin.
    let body = r#"{"enabled":false}"#;
    let put_local = axum::http::Request::put("/api/auto_switch")
        .header("host", "127.0.0.1:7461")
        .header("content-type", "application/json")
        .header(switchboard::server::TOKEN_HEADER, token.as_str());
    let (status, text) = from_peer(&state, "127.0.0.1:40000", put_local, body).await;
    assert_eq!(status, StatusCode::OK, "{text}");
}

#[tokio::test]
async fn loopback_only_server_behaves_as_before() {
    // Without --allow-remote nothing changes: full page, token + no Origin accepted.
    let (state, token, _dir) = server_state(false).await;
    let request = axum::http::Request::get("/").header("host", "127.0.0.1:7461");
    let mut request = request.body(axum::body::Body::empty()).unwrap();
    request.extensions_mut().clear();
    let response = tower::ServiceExt::oneshot(switchboard::server::router(state.clone()), request)
        .await
        .unwrap();
    let html = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    assert!(String::from_utf8_lossy(&html).contains(token.as_str()));
}

// ------------------------------------------------- 4. unbounded gateway buffers

/// Bytes a hostile upstream body has produced so far (one counter per test).
static STREAM_SENT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static WHOLE_SENT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Up to 512 MiB of `x` in 1 MiB chunks, after `head`, counting what was taken.
fn endless(head: &'static str, sent: &'static std::sync::atomic::AtomicUsize) -> Body {
    let chunk = Bytes::from(vec![b'x'; 1 << 20]);
    let head =
        futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from_static(head.as_bytes())) });
    let tail = futures::stream::iter((0..512).map(move |_| {
        sent.fetch_add(chunk.len(), std::sync::atomic::Ordering::SeqCst);
        Ok::<_, std::io::Error>(chunk.clone())
    }));
    Body::from_stream(futures::StreamExt::chain(head, tail))
}

fn anthropic_huge_sse_line(path: &str) -> Response {
    if path.ends_with("/models") {
        return anthropic_ok(path);
    }
    const START: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\nevent: content_block_delta\ndata: ";
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(endless(START, &STREAM_SENT))
        .unwrap()
}

fn anthropic_huge_answer(path: &str) -> Response {
    if path.ends_with("/models") {
        return anthropic_ok(path);
    }
    Response::builder()
        .header("content-type", "application/json")
        .body(endless(
            "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"",
            &WHOLE_SENT,
        ))
        .unwrap()
}

#[tokio::test]
async fn gateway_sse_line_without_newline_is_capped_with_a_clean_error() {
    let gw = start_gateway_with(r#"["anthropic"]"#, "", anthropic_huge_sse_line).await;
    let mut body = message_request();
    body["stream"] = json!(true);
    let r = reqwest::Client::new()
        .post(format!("{}/v1/messages", gw.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = tokio::time::timeout(Duration::from_secs(60), r.text())
        .await
        .expect("the stream ended")
        .unwrap();
    // The client's stream ends with a well-formed Anthropic error event.
    assert!(
        text.starts_with("event: message_start"),
        "{}",
        &text[..text.len().min(300)]
    );
    let last = text.trim_end().rsplit("\n\n").next().unwrap();
    assert!(last.starts_with("event: error\ndata: "), "{last}");
    let error: Value = serde_json::from_str(last.trim_start_matches("event: error\ndata: ")).unwrap();
    assert_eq!(error["type"], "error");
    assert!(
        error["error"]["message"].as_str().unwrap().contains("4 MiB"),
        "{error}"
    );
    assert!(
        text.len() < 64 * 1024,
        "the huge line reached the client: {} bytes",
        text.len()
    );
    // The gateway stopped reading: the upstream produced little of its 512 MiB.
    let sent = STREAM_SENT.load(std::sync::atomic::Ordering::SeqCst);
    assert!(sent < 64 << 20, "the gateway read {} MiB", sent >> 20);
}

#[tokio::test]
async fn gateway_huge_non_stream_answer_is_capped_with_a_clean_error() {
    let gw = start_gateway_with(r#"["anthropic"]"#, "", anthropic_huge_answer).await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/messages", gw.url))
        .json(&message_request())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_server_error(), "{}", r.status());
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["type"], "error", "Anthropic-shaped: {e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("limit"), "{e}");
    let sent = WHOLE_SENT.load(std::sync::atomic::Ordering::SeqCst);
    assert!(sent < 96 << 20, "the gateway read {} MiB", sent >> 20);
}

// ------------------------------------------------- 5. status-page text and history

#[tokio::test]
async fn huge_incident_text_over_many_rounds_keeps_the_history_db_small() {
    let mut feed: Value =
        serde_json::from_str(include_str!("fixtures/status/claude_api_degraded.json")).unwrap();
    let huge = "Elevated errors ".repeat(1 << 16); // 1 MiB
    feed["status"]["description"] = json!(huge);
    feed["incidents"][0]["name"] = json!(huge);
    let feed = Arc::new(feed.to_string());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page = listener.local_addr().unwrap();
    let app = Router::new().fallback(move || {
        let feed = feed.clone();
        async move { ([("content-type", "application/json")], feed.as_str().to_string()) }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "use_catalog = false\n[check]\ninterval_secs = 3600\n[[providers]]\nid = \"claude\"\nkind = \"status\"\n\
             status_page = \"http://{page}/api/v2/summary.json\"\nstatus_format = \"statuspage\"\n\
             components = [\"k8w3r06qmzrp\"]\n"
        ),
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    let checker = Checker::new(credentials()).unwrap();
    let (engine, _task) = Engine::spawn(config, Arc::new(checker), Arc::new(SystemClock));
    let db_path = dir.path().join("history.sqlite3");
    let store = Arc::new(switchboard::store::SqliteStore::open(&db_path).unwrap());
    let _recorder = switchboard::store::spawn_recorder(&engine, store.clone(), Duration::from_secs(3600));
    const ROUNDS: usize = 30;
    for _ in 0..ROUNDS {
        let report = engine.check_now().await.unwrap();
        let p = &report.providers[0];
        let page = p.status_page.as_ref().expect("the page was read");
        assert!(
            page.incidents[0].name.ends_with('…'),
            "the incident name was not cut"
        );
        // What the API and the dashboard show is capped too.
        assert!(p.summary.len() < 4096, "summary of {} bytes", p.summary.len());
        let shown = serde_json::to_string(p).unwrap().len();
        assert!(shown < 64 * 1024, "provider report of {shown} bytes");
    }
    let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    use switchboard::store::HistoryStore as _;
    while store.checks(None, epoch).unwrap().len() < ROUNDS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the recorder did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rows = store.checks(None, epoch).unwrap();
    // The words are stored once, then only when they change.
    assert!(!rows[0].summary.is_empty());
    assert!(
        rows[1..].iter().all(|r| r.summary.is_empty()),
        "summary repeated every round"
    );
    let on_disk: u64 = ["", "-wal"]
        .iter()
        .filter_map(|ext| std::fs::metadata(format!("{}{ext}", db_path.display())).ok())
        .map(|m| m.len())
        .sum();
    assert!(
        on_disk < 1 << 20,
        "history grew to {on_disk} bytes over {ROUNDS} rounds"
    );
}

// ------------------------------------------------- 6. the small ones

#[test]
fn tool_call_index_u32_max_then_a_new_call_is_an_error_event_not_a_panic() {
    use switchboard::gateway::translate::ChunksToEvents;
    use switchboard::gateway::wire::{anthropic as a, openai as o};
    let chunk = |call: Value| -> o::ChatChunk {
        serde_json::from_value(json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "x",
            "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": null}]
        }))
        .unwrap()
    };
    let mut translator = ChunksToEvents::new("c");
    let first = translator.push(&chunk(json!({
        "index": u32::MAX, "id": "call_a", "type": "function",
        "function": {"name": "get_weather", "arguments": "{}"}
    })));
    assert!(!first.iter().any(|e| matches!(e, a::StreamEvent::Error { .. })));
    // No index and a new id: the next slot would be u32::MAX + 1.
    let events = translator.push(&chunk(json!({
        "id": "call_b", "type": "function", "function": {"name": "other", "arguments": "{}"}
    })));
    let error = events
        .iter()
        .find_map(|e| match e {
            a::StreamEvent::Error { error } => Some(error),
            _ => None,
        })
        .expect("an error event");
    assert!(error.message.contains("tool calls"), "{}", error.message);
}

fn anthropic_stream_error_echoing_the_key(path: &str) -> Response {
    if path.ends_with("/models") {
        return anthropic_ok(path);
    }
    let body = format!(
        "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{{\"input_tokens\":5,\"output_tokens\":1}}}}}}\n\n\
         event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"api_error\",\"message\":\"upstream rejected x-api-key {ANTHROPIC_KEY}\"}}}}\n\n"
    );
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn stream_error_echoing_the_key_is_redacted() {
    let gw = start_gateway_with(r#"["anthropic"]"#, "", anthropic_stream_error_echoing_the_key).await;
    let mut body = message_request();
    body["stream"] = json!(true);
    let r = reqwest::Client::new()
        .post(format!("{}/v1/messages", gw.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains("event: error"), "{text}");
    assert!(text.contains("<redacted>"), "{text}");
    assert!(
        !text.contains(ANTHROPIC_KEY),
        "the key reached the client: {text}"
    );
}

#[tokio::test]
async fn status_page_escape_sequences_do_not_reach_the_terminal() {
    let mut feed: Value =
        serde_json::from_str(include_str!("fixtures/status/claude_api_degraded.json")).unwrap();
    let hostile = "Elevated errors\u{1b}[2J\u{1b}]0;pwned\u{7}\nFORGED 2026-01-01 all good\r\u{9b}31m";
    feed["incidents"][0]["name"] = json!(hostile);
    feed["status"]["description"] = json!(hostile);
    let feed = Arc::new(feed.to_string());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let page = listener.local_addr().unwrap();
    let app = Router::new().fallback(move || {
        let feed = feed.clone();
        async move { ([("content-type", "application/json")], feed.as_str().to_string()) }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "use_catalog = false\n[[providers]]\nid = \"claude\"\nkind = \"status\"\n\
             status_page = \"http://{page}/api/v2/summary.json\"\nstatus_format = \"statuspage\"\n\
             components = [\"k8w3r06qmzrp\"]\n"
        ),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("switchboard"));
    cmd.args(["status"])
        .env("SWITCHBOARD_CONFIG", &config)
        .env("XDG_CONFIG_HOME", dir.path().join("xdg-config"))
        .env("XDG_DATA_HOME", dir.path().join("xdg-data"))
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Elevated errors"), "{stdout}");
    assert!(
        !stdout.chars().any(|c| c.is_control() && c != '\n'),
        "control characters: {stdout:?}"
    );
    assert!(
        !stdout.lines().any(|l| l.starts_with("FORGED")),
        "a forged line: {stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains('\u{1b}'),
        "colour or escapes in a non-terminal log: {stderr:?}"
    );
}

#[cfg(unix)]
#[test]
fn history_db_is_created_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("history.sqlite3");
    let store = switchboard::store::SqliteStore::open(&path).unwrap();
    use switchboard::store::HistoryStore as _;
    store.record_checks(&[]).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "history.sqlite3 is {mode:o}");
    for ext in ["-wal", "-shm"] {
        if let Ok(m) = std::fs::metadata(format!("{}{ext}", path.display())) {
            assert_eq!(
                m.permissions().mode() & 0o077,
                0,
                "{ext} is {:o}",
                m.permissions().mode()
            );
        }
    }
    // A database an older version created 0644 is narrowed on the next open.
    drop(store);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = switchboard::store::SqliteStore::open(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[tokio::test]
async fn dashboard_responses_carry_a_strict_content_security_policy() {
    let (state, _token, _dir) = server_state(false).await;
    for path in ["/", "/app.js", "/api/status"] {
        let request = axum::http::Request::get(path).header("host", "127.0.0.1:7461");
        let (status, _) = from_peer(&state, "127.0.0.1:1", request, "").await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let request = axum::http::Request::get("/")
        .header("host", "127.0.0.1:7461")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(switchboard::server::router(state), request)
        .await
        .unwrap();
    let csp = response.headers()["content-security-policy"].to_str().unwrap();
    assert_eq!(csp, switchboard::server::CONTENT_SECURITY_POLICY);
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    // The Tauri window has one too (it was `null`).
    let tauri: Value = serde_json::from_str(include_str!("../src-tauri/tauri.conf.json")).unwrap();
    let window_csp = tauri["app"]["security"]["csp"]
        .as_str()
        .expect("a CSP in tauri.conf.json");
    assert!(
        window_csp.contains("script-src 'self'") && !window_csp.contains("unsafe"),
        "{window_csp}"
    );
}

/// Trickles a request head one header a half second (a slowloris) and returns
/// how long the server kept the connection open.
async fn slowloris(addr: SocketAddr, give_up: Duration) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = tokio::time::Instant::now();
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    while started.elapsed() < give_up {
        if socket.write_all(b"X-Slow: 1\r\n").await.is_err() {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(500), socket.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            // A 408 before the close is fine; keep reading until it closes.
            Ok(Ok(_)) => {}
            Err(_) => {}
        }
    }
    started.elapsed()
}

#[tokio::test]
async fn slowloris_socket_is_closed_in_bounded_time_on_both_servers() {
    let (state, _token, _dir) = server_state(false).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dashboard = listener.local_addr().unwrap();
    tokio::spawn(switchboard::server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    let gw = start_gateway("", anthropic_ok).await;
    let gateway: SocketAddr = gw.url.trim_start_matches("http://").parse().unwrap();
    let bound = switchboard::serve::HEADER_READ_TIMEOUT + Duration::from_secs(5);
    let (d, g) = tokio::join!(
        slowloris(dashboard, Duration::from_secs(60)),
        slowloris(gateway, Duration::from_secs(60))
    );
    assert!(d < bound, "the dashboard held a slowloris for {d:?}");
    assert!(g < bound, "the gateway held a slowloris for {g:?}");
}

#[tokio::test]
async fn hundreds_of_idle_sockets_do_not_stop_the_dashboard() {
    let (state, _token, _dir) = server_state(false).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(switchboard::server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    // More idle sockets than the cap: they never send a byte.
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let started = tokio::time::Instant::now();
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/api/status"))
        .timeout(Duration::from_secs(40))
        .send()
        .await
        .expect("the dashboard answered");
    assert_eq!(r.status(), StatusCode::OK);
    let waited = started.elapsed();
    assert!(
        waited < switchboard::serve::HEADER_READ_TIMEOUT * 2 + Duration::from_secs(5),
        "{waited:?}"
    );
    drop(idle);
}

#[tokio::test]
async fn connection_cap_queues_clients_instead_of_taking_descriptors() {
    // A tiny cap and timeout: 10 idle sockets hold the 4 slots until they time
    // out, then a real request is served. No more than 4 are open server-side.
    let (state, _token, _dir) = server_state(false).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = switchboard::serve::Limits {
        header_read_timeout: Duration::from_secs(1),
        max_connections: 4,
    };
    tokio::spawn(switchboard::server::serve_with(
        listener,
        state,
        limits,
        std::future::pending(),
    ));
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let started = tokio::time::Instant::now();
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/api/status"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("served once the idle sockets timed out");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    drop(idle);
}

#[tokio::test]
async fn idle_keep_alive_connection_is_closed_in_bounded_time() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (state, _token, _dir) = server_state(false).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = switchboard::serve::Limits {
        header_read_timeout: Duration::from_secs(1),
        max_connections: 4,
    };
    tokio::spawn(switchboard::server::serve_with(
        listener,
        state,
        limits,
        std::future::pending(),
    ));
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let n = socket.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Then silence: the connection must not be kept for ever.
    let started = tokio::time::Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "an idle keep-alive connection was held for 20 s");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
