//! The local HTTP server: every endpoint and its status codes, the event
//! stream, the security guards (Host, token, Origin, body cap), secrets never
//! leaving in a response, `/metrics`, the token file and `bind`.
//!
//! The engine and the checker run for real against fake providers and a fake
//! status page on 127.0.0.1 (wiremock); keys live in an in-memory secret store
//! (the real keyring has its own tests). Most requests go through `oneshot`;
//! the event stream and graceful shutdown use a real socket.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use switchboard::check::Checker;
use switchboard::config::Config;
use switchboard::credentials::Credentials;
use switchboard::engine::{Engine, EngineHandle, Event, SystemClock};
use switchboard::health::IncidentRecord;
use switchboard::metrics::{self, Metrics};
use switchboard::model::{NetFailure, State};
use switchboard::secrets::{self, Secret, SecretError, SecretStore};
use switchboard::server::{self, AppState, ServerError, Token, BODY_LIMIT, TOKEN_HEADER};
use switchboard::status::PageFetch;
use switchboard::store;
use tower::ServiceExt;
use wiremock::matchers::{header as has_header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The `Host` a browser sends for the default listen address.
const HOST: &str = "127.0.0.1:7461";
const ORIGIN: &str = "http://127.0.0.1:7461";

/// Keys the fake OpenAI accepts and refuses. Neither may ever appear in a response.
const GOOD_KEY: &str = "sk-proj-GOODKEY-7f3a9c1e5b2d4068";
const BAD_KEY: &str = "sk-proj-BADKEY-0c4e8a2f6b1d3957";

/// How long to wait for the engine or a stream before failing the test.
const WAIT: Duration = Duration::from_secs(10);

/// A Statuspage summary with the Claude API component, all green.
fn page_green() -> Value {
    json!({
        "page": {"id": "tymt9n04zgry", "name": "Claude", "url": "https://status.claude.com",
                 "time_zone": "Etc/UTC", "updated_at": "2026-11-24T09:58:12.104Z"},
        "components": [
            {"id": "k8w3r06qmzrp", "name": "Claude API (api.anthropic.com)", "status": "operational",
             "group": false, "group_id": null, "position": 3, "only_show_if_degraded": false,
             "showcase": true, "created_at": "2023-07-11T15:16:54.014Z",
             "updated_at": "2026-11-20T08:01:00.000Z", "page_id": "tymt9n04zgry",
             "description": null, "start_date": null}
        ],
        "incidents": [],
        "scheduled_maintenances": [],
        "status": {"indicator": "none", "description": "All Systems Operational"}
    })
}

fn config_text(fake: &str) -> String {
    format!(
        r#"use_catalog = false
preferred = "anthropic"
fallback = ["anthropic", "openai", "ollama"]

[check]
interval_secs = 3600
timeout_secs = 5
failures_to_open = 1
successes_to_close = 1

[[providers]]
id = "anthropic"
kind = "anthropic"
name = "Claude API"
base_url = "{fake}/anthropic"
status_page = "{fake}/page/api/v2/summary.json"
status_format = "statuspage"
components = ["k8w3r06qmzrp"]
api_key_env = "ANTHROPIC_API_KEY"

[[providers]]
id = "openai"
kind = "openai"
name = "OpenAI"
base_url = "{fake}/openai/v1"
api_key_env = "OPENAI_API_KEY"
# The catalog entry has the real status page; tests stay off the internet.
status_format = "none"

[[providers]]
id = "ollama"
kind = "ollama"
name = "Ollama"
base_url = "{fake}/ollama"
"#
    )
}

/// One fake server for every provider and the status page (paths keep them apart).
async fn fake_providers() -> MockServer {
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/page/api/v2/summary.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_green()))
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path("/openai/v1/models"))
        .and(has_header("authorization", format!("Bearer {GOOD_KEY}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"object": "list", "data": [{"id": "gpt-4o", "object": "model"}]})),
        )
        .with_priority(1)
        .mount(&fake)
        .await;
    // Any other key: a 401 that echoes the key, as some providers do.
    Mock::given(method("GET"))
        .and(path("/openai/v1/models"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "message": format!("Incorrect API key provided: {BAD_KEY}."),
            "type": "invalid_request_error", "code": "invalid_api_key"}})))
        .with_priority(5)
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path("/ollama/api/tags"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"models": []})))
        .mount(&fake)
        .await;
    fake
}

struct Fixture {
    dir: tempfile::TempDir,
    _fake: MockServer,
    engine: EngineHandle,
    secrets: Arc<secrets::MemoryStore>,
    state: AppState,
    token: String,
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture::with_store(None).await
    }

    /// `keyring`: a store to use instead of the in-memory one (to simulate a broken keyring).
    async fn with_store(keyring: Option<Arc<dyn SecretStore>>) -> Fixture {
        let fake = fake_providers().await;
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config_text(&fake.uri())).unwrap();
        let config = Config::load(&config_path).unwrap();
        let memory = Arc::new(secrets::MemoryStore::default());
        let store: Arc<dyn SecretStore> = keyring.unwrap_or_else(|| memory.clone());
        let credentials = Credentials::new(store, Arc::new(|_| None));
        let checker = Checker::new(credentials.clone()).unwrap();
        let (engine, _task) = Engine::spawn(config, Arc::new(checker), Arc::new(SystemClock));
        let metrics = Arc::new(Metrics::new());
        metrics::spawn_metrics(&engine, metrics.clone());
        let token = Arc::new(Token::load_or_create(dir.path()).unwrap());
        let state = AppState::new(engine.clone(), credentials, token.clone(), metrics);
        let fixture = Fixture {
            _fake: fake,
            engine,
            secrets: memory,
            state,
            token: token.as_str().to_string(),
            dir,
        };
        fixture.first_round().await;
        fixture
    }

    /// Waits for the engine's first round (the one it runs at start-up): the
    /// report moves with each provider's answer, so until every provider has
    /// been checked once.
    async fn first_round(&self) {
        let mut rx = self.engine.watch_status();
        tokio::time::timeout(
            WAIT,
            rx.wait_for(|r| {
                r.providers.iter().any(|p| p.status_page.is_some())
                    && r.providers.iter().all(|p| p.summary != "not checked yet")
            }),
        )
        .await
        .expect("the engine's first round did not finish")
        .unwrap();
    }

    fn app(&self) -> Router {
        server::router(self.state.clone())
    }

    async fn send(&self, req: Request<Body>) -> Resp {
        send(self.app(), req).await
    }

    async fn get(&self, uri: &str) -> Resp {
        self.send(get(uri)).await
    }

    /// A mutating request as the dashboard sends it: token, same Origin, JSON.
    async fn mutate(&self, method: Method, uri: &str, body: Option<Value>) -> Resp {
        self.send(self.mutation(method, uri, body.map(|b| b.to_string())))
            .await
    }

    fn mutation(&self, method: Method, uri: &str, body: Option<String>) -> Request<Body> {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN)
            .header(TOKEN_HEADER, &self.token);
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        b.body(body.map_or_else(Body::empty, Body::from)).unwrap()
    }
}

fn get(uri: &str) -> Request<Body> {
    Request::builder()
        .uri(uri)
        .header(header::HOST, HOST)
        .body(Body::empty())
        .unwrap()
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The `{"error": "..."}` message, checking the error shape on the way.
    fn error(&self, status: StatusCode) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.content_type(), "application/json");
        self.json()["error"]
            .as_str()
            .expect("an error message")
            .to_string()
    }
}

async fn send(app: Router, req: Request<Body>) -> Resp {
    let res = app.oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        body,
    }
}

fn assert_no_secret(what: &str, text: &str) {
    for key in [GOOD_KEY, BAD_KEY] {
        assert!(!text.contains(key), "{what} contains an API key:\n{text}");
    }
}

#[tokio::test]
async fn status_has_the_status_json_shape() {
    let f = Fixture::new().await;
    let r = f.get("/api/status").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), "application/json");
    let body = r.json();
    assert_eq!(body, serde_json::to_value(&*f.engine.status()).unwrap());
    for key in ["checked_at", "preferred", "overall", "providers"] {
        assert!(body.get(key).is_some(), "missing {key}");
    }
    let anthropic = &body["providers"][0];
    for key in [
        "id",
        "name",
        "state",
        "since",
        "summary",
        "confirmed_by_status_page",
        "probe",
        "status_page",
    ] {
        assert!(anthropic.get(key).is_some(), "missing providers[].{key}");
    }
    assert_eq!(anthropic["id"], "anthropic");
    assert_eq!(anthropic["probe"], Value::Null, "no key, so no probe");
    assert_eq!(anthropic["status_page"]["indicator"], "none");
    assert_eq!(body["providers"][2]["state"], "operational");
}

#[tokio::test]
async fn dashboard_is_embedded_with_the_token() {
    let f = Fixture::new().await;
    for uri in ["/", "/index.html"] {
        let r = f.get(uri).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.content_type(), "text/html; charset=utf-8");
        assert_eq!(r.headers[header::CACHE_CONTROL], "no-cache");
        let html = r.text();
        assert!(
            html.contains(&format!(
                r#"<meta name="switchboard-token" content="{}">"#,
                f.token
            )),
            "{html}"
        );
        assert!(!html.contains(r#"<meta name="switchboard-token" content="">"#));
    }
    // Every other file in ui/ is served as it is on disk, with its type.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui");
    let mut files = vec![root.clone()];
    let mut served = 0;
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let rel = p
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "index.html" {
            continue;
        }
        let r = f.get(&format!("/{rel}")).await;
        assert_eq!(r.status, StatusCode::OK, "/{rel}");
        // (A mismatch right after editing ui/ only means the test binary is older.)
        assert!(
            r.body == std::fs::read(&p).unwrap(),
            "/{rel} differs from ui/{rel}"
        );
        assert_eq!(r.headers[header::CACHE_CONTROL], "no-cache");
        if rel.ends_with(".js") {
            assert_eq!(r.content_type(), "text/javascript; charset=utf-8", "/{rel}");
        }
        if rel.ends_with(".css") {
            assert_eq!(r.content_type(), "text/css; charset=utf-8", "/{rel}");
        }
        served += 1;
    }
    assert!(served > 0, "ui/ holds no assets besides index.html");
    let r = f.get("/no-such-file.js").await;
    assert!(r.error(StatusCode::NOT_FOUND).contains("/no-such-file.js"));
    r.headers
        .get(header::X_FRAME_OPTIONS)
        .expect("security headers on errors too");
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let f = Fixture::new().await;
    f.get("/api/nope").await.error(StatusCode::NOT_FOUND);
    let r = f.mutate(Method::DELETE, "/api/status", None).await;
    assert!(r.error(StatusCode::METHOD_NOT_ALLOWED).contains("DELETE"));
    f.get("/api/preferred")
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn check_now_returns_a_new_report() {
    let f = Fixture::new().await;
    let before = f.engine.status().checked_at;
    let r = f.mutate(Method::POST, "/api/check", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    let checked: chrono::DateTime<Utc> = body["checked_at"].as_str().unwrap().parse().unwrap();
    assert!(checked > before);
    assert_eq!(body["providers"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn preferred_is_set_saved_and_validated() {
    let f = Fixture::new().await;
    let r = f
        .mutate(Method::PUT, "/api/preferred", Some(json!({"id": "openai"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["preferred"], "openai");
    assert_eq!(f.engine.status().preferred.as_deref(), Some("openai"));
    let saved = std::fs::read_to_string(f.dir.path().join("config.toml")).unwrap();
    assert!(saved.contains(r#"preferred = "openai""#), "{saved}");

    let r = f
        .mutate(Method::PUT, "/api/preferred", Some(json!({"id": "gpt"})))
        .await;
    let msg = r.error(StatusCode::BAD_REQUEST);
    assert!(msg.contains("anthropic, openai, ollama"), "{msg}");

    let r = f
        .send(f.mutation(Method::PUT, "/api/preferred", Some("{\"id\":".into())))
        .await;
    assert!(r.error(StatusCode::BAD_REQUEST).contains(r#"{"id":"openai"}"#));

    let r = f
        .mutate(Method::PUT, "/api/preferred", Some(json!({"name": "openai"})))
        .await;
    r.error(StatusCode::BAD_REQUEST);

    let mut req = f.mutation(Method::PUT, "/api/preferred", None);
    *req.body_mut() = Body::from(r#"{"id":"openai"}"#);
    f.send(req).await.error(StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn fallback_and_auto_switch_are_set() {
    let f = Fixture::new().await;
    let r = f
        .mutate(
            Method::PUT,
            "/api/fallback",
            Some(json!({"order": ["ollama", "openai"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["fallback"], json!(["ollama", "openai"]));
    assert_eq!(f.engine.status().fallback, ["ollama", "openai"]);

    let r = f
        .mutate(
            Method::PUT,
            "/api/fallback",
            Some(json!({"order": ["ollama", "nope"]})),
        )
        .await;
    assert!(r.error(StatusCode::BAD_REQUEST).contains("\"nope\""));
    let r = f
        .mutate(
            Method::PUT,
            "/api/fallback",
            Some(json!({"order": ["ollama", "ollama"]})),
        )
        .await;
    assert!(r.error(StatusCode::BAD_REQUEST).contains("twice"));

    let r = f
        .mutate(Method::PUT, "/api/auto_switch", Some(json!({"enabled": true})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["auto_switch"], true);
    assert!(f.engine.status().auto_switch);
    let r = f
        .mutate(Method::PUT, "/api/auto_switch", Some(json!({"enabled": "yes"})))
        .await;
    r.error(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn history_windows_and_missing_store() {
    let f = Fixture::new().await;
    let msg = f
        .get("/api/history?since=24h")
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE);
    assert!(msg.contains("history"), "{msg}");

    let history = Arc::new(store::MemoryStore::new());
    let detected = Utc::now() - chrono::Duration::hours(2);
    let incident = IncidentRecord {
        model: None,
        state: State::Outage,
        started_at: detected - chrono::Duration::minutes(1),
        detected_at: detected,
        acknowledged_at: Some(detected + chrono::Duration::minutes(12)),
        ended_at: Some(detected + chrono::Duration::minutes(40)),
        cause: "HTTP 500 api_error: Internal server error".into(),
        request_id: Some("req_011CSHoEeqs5C35K2UUqR7Fy".into()),
    };
    store::HistoryStore::upsert_incident(&*history, "anthropic", &incident).unwrap();
    let app = server::router(f.state.clone().with_history(history));
    let r = send(app.clone(), get("/api/history?since=24h")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    let ids: Vec<&str> = body["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["anthropic", "openai", "ollama"]);
    assert_eq!(body["providers"][0]["incidents"].as_array().unwrap().len(), 1);
    assert_eq!(body["providers"][0]["detection_lead_minutes"], 12);
    let r = send(app.clone(), get("/api/history?since=30m")).await;
    assert_eq!(
        r.json()["providers"][0]["incidents"],
        json!([]),
        "ended before the window"
    );
    for since in ["30m", "24h", "7d", "30d", "90d"] {
        let r = send(app.clone(), get(&format!("/api/history?since={since}"))).await;
        assert_eq!(r.status, StatusCode::OK, "{since}: {}", r.text());
        assert_eq!(r.content_type(), "application/json");
    }
    let r = send(app.clone(), get("/api/history")).await;
    assert_eq!(r.status, StatusCode::OK, "default window: {}", r.text());
    let r = send(app, get("/api/history?since=1y")).await;
    let msg = r.error(StatusCode::BAD_REQUEST);
    assert!(msg.contains("30m, 24h, 7d, 30d, 90d"), "{msg}");
}

#[tokio::test]
async fn credentials_are_stored_tested_and_never_echoed() {
    let f = Fixture::new().await;
    let mut seen = String::new();

    let r = f
        .mutate(
            Method::PUT,
            "/api/credentials/openai",
            Some(json!({"api_key": format!("  {GOOD_KEY}\n")})),
        )
        .await;
    seen += &r.text();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["stored"], true);
    assert_eq!(body["test"]["ok"], true, "{body}");
    assert_eq!(body["test"]["state"], "operational");
    assert_eq!(body["test"]["http_status"], 200);
    assert!(body["test"]["summary"].is_string());
    assert_eq!(
        f.secrets.get("openai").unwrap().unwrap(),
        Secret::new(GOOD_KEY),
        "stored trimmed"
    );

    let r = f
        .mutate(
            Method::PUT,
            "/api/credentials/openai",
            Some(json!({"api_key": BAD_KEY})),
        )
        .await;
    seen += &r.text();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    assert_eq!(body["test"]["ok"], false, "{body}");
    assert_eq!(body["test"]["state"], "auth_error");
    assert_eq!(body["test"]["http_status"], 401);

    // What else a client could read while the (echoing) bad key is in use.
    for uri in ["/api/status", "/metrics"] {
        let r = f.get(uri).await;
        assert_eq!(r.status, StatusCode::OK);
        seen += &r.text();
    }

    let r = f
        .mutate(
            Method::PUT,
            "/api/credentials/ollama",
            Some(json!({"api_key": BAD_KEY})),
        )
        .await;
    seen += &r.text();
    assert!(r.error(StatusCode::BAD_REQUEST).contains("needs no API key"));
    let r = f
        .mutate(
            Method::PUT,
            "/api/credentials/nope",
            Some(json!({"api_key": BAD_KEY})),
        )
        .await;
    seen += &r.text();
    assert!(r
        .error(StatusCode::NOT_FOUND)
        .contains("anthropic, openai, ollama"));
    let r = f
        .mutate(
            Method::PUT,
            "/api/credentials/openai",
            Some(json!({"api_key": "   "})),
        )
        .await;
    assert!(r.error(StatusCode::BAD_REQUEST).contains("empty"));
    let r = f
        .mutate(
            Method::PUT,
            "/api/credentials/openai",
            Some(json!({"api_key": format!("{GOOD_KEY}\n{BAD_KEY}")})),
        )
        .await;
    seen += &r.text();
    r.error(StatusCode::BAD_REQUEST);
    // A body of the wrong shape: the message must not quote it.
    let r = f
        .mutate(
            Method::PUT,
            "/api/credentials/openai",
            Some(json!({"key": BAD_KEY, "api_key": [BAD_KEY]})),
        )
        .await;
    seen += &r.text();
    r.error(StatusCode::BAD_REQUEST);
    assert_no_secret("the responses", &seen);

    let r = f.mutate(Method::DELETE, "/api/credentials/openai", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), json!({"deleted": true}));
    assert!(f.secrets.get("openai").unwrap().is_none());
    assert_eq!(
        f.engine.status().providers[1].credential,
        switchboard::model::CredentialSource::None,
        "re-checked after the delete"
    );
    let r = f.mutate(Method::DELETE, "/api/credentials/openai", None).await;
    assert_eq!(r.json(), json!({"deleted": false}));
    f.mutate(Method::DELETE, "/api/credentials/nope", None)
        .await
        .error(StatusCode::NOT_FOUND);
}

/// A keyring that cannot be reached (no Secret Service).
struct BrokenKeyring;

impl SecretStore for BrokenKeyring {
    fn get(&self, _: &str) -> Result<Option<Secret>, SecretError> {
        Err(SecretError::Unavailable("no session bus".into()))
    }
    fn set(&self, _: &str, _: &Secret) -> Result<(), SecretError> {
        Err(SecretError::Unavailable("no session bus".into()))
    }
    fn delete(&self, _: &str) -> Result<bool, SecretError> {
        Err(SecretError::Locked("collection is locked".into()))
    }
}

#[tokio::test]
async fn keyring_failures_are_503_with_the_reason() {
    let f = Fixture::with_store(Some(Arc::new(BrokenKeyring))).await;
    let r = f
        .mutate(
            Method::PUT,
            "/api/credentials/openai",
            Some(json!({"api_key": GOOD_KEY})),
        )
        .await;
    let msg = r.error(StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        msg.contains("no session bus") && msg.contains("Secret Service"),
        "{msg}"
    );
    assert_no_secret("the error", &msg);
    let r = f.mutate(Method::DELETE, "/api/credentials/openai", None).await;
    assert!(r.error(StatusCode::SERVICE_UNAVAILABLE).contains("locked"));
}

#[tokio::test]
async fn host_must_be_a_loopback_name() {
    let f = Fixture::new().await;
    for uri in ["/", "/api/status", "/api/events", "/metrics", "/app.js"] {
        let req = Request::builder()
            .uri(uri)
            .header(header::HOST, "evil.example:7461")
            .body(Body::empty())
            .unwrap();
        let msg = f.send(req).await.error(StatusCode::FORBIDDEN);
        assert!(msg.contains("DNS rebinding"), "{uri}: {msg}");
    }
    // Even with the token: a rebinding page never gets to mutate.
    let mut req = f.mutation(Method::POST, "/api/check", None);
    req.headers_mut()
        .insert(header::HOST, "evil.example".parse().unwrap());
    req.headers_mut().remove(header::ORIGIN);
    f.send(req).await.error(StatusCode::FORBIDDEN);
    // No Host at all.
    let req = Request::builder().uri("/api/status").body(Body::empty()).unwrap();
    f.send(req).await.error(StatusCode::FORBIDDEN);

    for host in ["localhost:7461", "[::1]:7461", "dash.localhost", "127.0.0.1"] {
        let req = Request::builder()
            .uri("/api/status")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap();
        assert_eq!(f.send(req).await.status, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn mutations_need_the_token_and_the_same_origin() {
    let f = Fixture::new().await;
    let body = || Some(json!({"enabled": true}).to_string());

    let mut req = f.mutation(Method::PUT, "/api/auto_switch", body());
    req.headers_mut().remove(TOKEN_HEADER);
    let msg = f.send(req).await.error(StatusCode::UNAUTHORIZED);
    assert!(msg.contains(TOKEN_HEADER) && msg.contains("token"), "{msg}");

    let mut req = f.mutation(Method::PUT, "/api/auto_switch", body());
    req.headers_mut()
        .insert(TOKEN_HEADER, "0".repeat(64).parse().unwrap());
    f.send(req).await.error(StatusCode::UNAUTHORIZED);

    for origin in [
        "http://evil.example",
        "null",
        "https://127.0.0.1:7461",
        "http://127.0.0.1:9999",
    ] {
        let mut req = f.mutation(Method::PUT, "/api/auto_switch", body());
        req.headers_mut().insert(header::ORIGIN, origin.parse().unwrap());
        let msg = f.send(req).await.error(StatusCode::FORBIDDEN);
        assert!(msg.contains("another web site"), "{origin}: {msg}");
    }

    // Same origin plus token: accepted. No Origin (curl) plus token: accepted.
    let r = f.send(f.mutation(Method::PUT, "/api/auto_switch", body())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mut req = f.mutation(Method::PUT, "/api/auto_switch", body());
    req.headers_mut().remove(header::ORIGIN);
    assert_eq!(f.send(req).await.status, StatusCode::OK);
    assert!(f.engine.status().auto_switch);

    // Every mutating endpoint is guarded.
    for (m, uri) in [
        (Method::POST, "/api/check"),
        (Method::PUT, "/api/preferred"),
        (Method::PUT, "/api/fallback"),
        (Method::PUT, "/api/credentials/openai"),
        (Method::DELETE, "/api/credentials/openai"),
    ] {
        let mut req = f.mutation(m.clone(), uri, body());
        req.headers_mut().remove(TOKEN_HEADER);
        f.send(req).await.error(StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused() {
    let f = Fixture::new().await;
    let big = json!({"id": "openai", "pad": "x".repeat(BODY_LIMIT)}).to_string();
    // Streamed without a Content-Length: the extractor's limit.
    let r = f
        .send(f.mutation(Method::PUT, "/api/preferred", Some(big.clone())))
        .await;
    assert!(r.error(StatusCode::PAYLOAD_TOO_LARGE).contains("65536"));
    // Announced by Content-Length: refused before any handler runs.
    let mut req = f.mutation(Method::PUT, "/api/credentials/openai", Some(big.clone()));
    req.headers_mut().insert(header::CONTENT_LENGTH, big.len().into());
    f.send(req).await.error(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(f.engine.status().preferred.as_deref(), Some("anthropic"));
    // Just under the cap is fine.
    let fits = json!({"id": "openai", "pad": "x".repeat(BODY_LIMIT - 100)}).to_string();
    let r = f
        .send(f.mutation(Method::PUT, "/api/preferred", Some(fits)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn metrics_expose_every_family_per_provider() {
    let f = Fixture::new().await;
    let r = f
        .mutate(
            Method::PUT,
            "/api/credentials/openai",
            Some(json!({"api_key": GOOD_KEY})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // The metrics task runs behind the engine's events.
    let mut text = String::new();
    for _ in 0..100 {
        let r = f.get("/metrics").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.content_type().starts_with("application/openmetrics-text"));
        text = r.text();
        if text.contains(r#"switchboard_probe_results_total{provider="openai",class="ok"} 1"#) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for line in [
        r#"switchboard_provider_state{provider="ollama",state="operational"} 1"#,
        r#"switchboard_provider_state{provider="ollama",state="outage"} 0"#,
        r#"switchboard_provider_state{provider="openai",state="operational"} 1"#,
        r#"switchboard_probe_results_total{provider="openai",class="ok"} 1"#,
        r#"switchboard_probe_results_total{provider="ollama",class="ok"} 2"#,
        r#"switchboard_status_page_fetches_total{provider="anthropic",result="read"} 2"#,
        r#"switchboard_probe_latency_seconds_count{provider="ollama"} 2"#,
        r#"switchboard_incidents_total{provider="anthropic",state="outage"} 0"#,
        r#"switchboard_incidents_total{provider="openai",state="auth_error"} 0"#,
        "# TYPE switchboard_probe_latency_seconds histogram",
        "switchboard_last_check_timestamp_seconds ",
        "# EOF",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    let states = text
        .lines()
        .filter(|l| l.starts_with(r#"switchboard_provider_state{provider="anthropic""#))
        .count();
    assert_eq!(states, State::ALL.len(), "all seven states, always");
    assert!(
        !text.contains("result=\"unreachable\""),
        "no page was unreachable:\n{text}"
    );
    assert_no_secret("/metrics", &text);
}

#[test]
fn metrics_count_incidents_lead_and_pages() {
    let m = Metrics::new();
    let detected = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
    let incident = IncidentRecord {
        model: None,
        state: State::Outage,
        started_at: detected - chrono::Duration::seconds(60),
        detected_at: detected,
        acknowledged_at: None,
        ended_at: None,
        cause: "HTTP 500 api_error".into(),
        request_id: None,
    };
    m.observe(&Event::IncidentOpened {
        id: "anthropic".into(),
        incident: incident.clone(),
    });
    m.observe(&Event::IncidentAcknowledged {
        id: "anthropic".into(),
        incident: IncidentRecord {
            acknowledged_at: Some(detected + chrono::Duration::minutes(4)),
            ..incident
        },
    });
    let text = m.encode().unwrap();
    assert!(
        text.contains(r#"switchboard_incidents_total{provider="anthropic",state="outage"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"switchboard_detection_lead_seconds{provider="anthropic"} 240.0"#),
        "{text}"
    );

    // The words `PageFetch::page` uses are what tells the three results apart.
    let unreachable = PageFetch::Unreachable {
        failure: NetFailure::Timeout,
        message: "operation timed out".into(),
    };
    let unreadable = PageFetch::Unreadable {
        reason: "HTTP 403 with an HTML page (a bot challenge?)".into(),
    };
    assert_eq!(metrics::page_result(&unreachable.page()), "unreachable");
    assert_eq!(metrics::page_result(&unreadable.page()), "unreadable");
}

/// `promtool check metrics` and other classic-format readers ask for
/// `text/plain`: they get counter families named with `_total` (else they see
/// `_total` samples of an undeclared metric, "no help text") and no `# EOF`.
/// Prometheus, which names OpenMetrics too, keeps getting OpenMetrics.
#[tokio::test]
async fn metrics_in_the_classic_text_format_for_clients_that_ask() {
    let f = Fixture::new().await;
    let mut text = String::new();
    for _ in 0..100 {
        let mut req = get("/metrics");
        req.headers_mut()
            .insert(header::ACCEPT, "text/plain;version=0.0.4".parse().unwrap());
        let r = f.send(req).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.content_type(), "text/plain; version=0.0.4; charset=utf-8");
        text = r.text();
        if text.contains(r#"switchboard_probe_results_total{provider="ollama",class="ok"}"#) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for line in [
        "# HELP switchboard_probe_results_total Provider probes by result class",
        "# TYPE switchboard_probe_results_total counter",
        "# TYPE switchboard_incidents_total counter",
        "# TYPE switchboard_status_page_fetches_total counter",
        "# TYPE switchboard_provider_state gauge",
        "# TYPE switchboard_probe_latency_seconds histogram",
        r#"switchboard_probe_results_total{provider="ollama",class="ok"}"#,
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(!text.contains("# EOF"), "{text}");
    assert!(
        !text.contains("# TYPE switchboard_probe_results counter"),
        "{text}"
    );

    let mut req = get("/metrics");
    req.headers_mut().insert(
        header::ACCEPT,
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
            .parse()
            .unwrap(),
    );
    let r = f.send(req).await;
    assert!(r.content_type().starts_with("application/openmetrics-text"));
    assert!(r.text().contains("# TYPE switchboard_probe_results counter"));
    assert!(r.text().ends_with("# EOF\n"));
}

/// The alert annotations read `switchboard_incident_info`: it must name the
/// incident's cause and request id while it is open, and vanish when it closes.
#[test]
fn metrics_name_the_open_incident_until_it_closes() {
    let m = Metrics::new();
    let detected = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
    let incident = IncidentRecord {
        model: None,
        state: State::Outage,
        started_at: detected - chrono::Duration::seconds(10),
        detected_at: detected,
        acknowledged_at: None,
        ended_at: None,
        cause: "HTTP 500 api_error: Internal server error".into(),
        request_id: Some("req_011CVxTfQkUnMHu5pXZXhGmA".into()),
    };
    let info = r#"switchboard_incident_info{provider="anthropic",cause="HTTP 500 api_error: Internal server error",request_id="req_011CVxTfQkUnMHu5pXZXhGmA"} 1"#;
    m.observe(&Event::IncidentOpened {
        id: "anthropic".into(),
        incident: incident.clone(),
    });
    let text = m.encode().unwrap();
    assert!(text.contains(info), "{text}");

    // A second incident of the same provider replaces the first one's words.
    let again = IncidentRecord {
        cause: "HTTP 529 overloaded_error: Overloaded".into(),
        request_id: None,
        ..incident.clone()
    };
    m.observe(&Event::IncidentOpened {
        id: "anthropic".into(),
        incident: again.clone(),
    });
    let text = m.encode().unwrap();
    assert!(!text.contains(info), "{text}");
    assert!(
        text.contains(r#"switchboard_incident_info{provider="anthropic",cause="HTTP 529 overloaded_error: Overloaded",request_id=""} 1"#),
        "{text}"
    );

    m.observe(&Event::IncidentClosed {
        id: "anthropic".into(),
        incident: IncidentRecord {
            ended_at: Some(detected + chrono::Duration::minutes(3)),
            ..again
        },
    });
    let text = m.encode().unwrap();
    assert!(
        !text.contains("switchboard_incident_info{"),
        "closed incidents leave no info series:\n{text}"
    );
    assert!(
        text.contains(r#"switchboard_incidents_total{provider="anthropic",state="outage"} 2"#),
        "{text}"
    );
}

/// Reads server-sent events from a streaming response, skipping keep-alive comments.
struct Events {
    res: reqwest::Response,
    buf: String,
}

impl Events {
    /// The next event's fields (`event`, `data`, `retry`...).
    async fn next(&mut self) -> Vec<(String, String)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let fields: Vec<(String, String)> = block
                    .lines()
                    .filter(|l| !l.is_empty() && !l.starts_with(':'))
                    .map(|l| {
                        let (k, v) = l.split_once(':').unwrap_or((l, ""));
                        (k.to_string(), v.strip_prefix(' ').unwrap_or(v).to_string())
                    })
                    .collect();
                if !fields.is_empty() {
                    return fields;
                }
                continue;
            }
            let chunk = tokio::time::timeout(WAIT, self.res.chunk())
                .await
                .expect("no event in time")
                .unwrap()
                .expect("the stream ended");
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stream_changes_and_end_on_shutdown() {
    let f = Fixture::new().await;
    let listener = server::bind("127.0.0.1:0".parse().unwrap(), false).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(server::serve(listener, f.state.clone(), async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    let res = client
        .get(format!("http://{addr}/api/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut events = Events {
        res,
        buf: String::new(),
    };
    let first = events.next().await;
    assert_eq!(field(&first, "event"), Some("status"));
    assert_eq!(field(&first, "retry"), Some("3000"));
    let report: Value = serde_json::from_str(field(&first, "data").unwrap()).unwrap();
    assert_eq!(report, serde_json::to_value(&*f.engine.status()).unwrap());
    assert_eq!(report["preferred"], "anthropic");

    // A change made through the API reaches the stream; so does a stored key's check.
    let put = |uri: String, body: Value| {
        client
            .put(uri)
            .header(TOKEN_HEADER, &f.token)
            .header("origin", format!("http://{addr}"))
            .json(&body)
            .send()
    };
    let r = put(format!("http://{addr}/api/preferred"), json!({"id": "openai"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let next = events.next().await;
    assert_eq!(field(&next, "event"), Some("status"));
    assert_eq!(field(&next, "retry"), None, "retry is sent once");
    let report: Value = serde_json::from_str(field(&next, "data").unwrap()).unwrap();
    assert_eq!(report["preferred"], "openai");

    let r = put(
        format!("http://{addr}/api/credentials/openai"),
        json!({"api_key": BAD_KEY}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let mut data = String::new();
    while !data.contains("auth_error") {
        let ev = events.next().await;
        data = field(&ev, "data").unwrap().to_string();
        assert_no_secret("an event", &data);
    }

    // Graceful shutdown ends the open stream instead of waiting for it.
    stop.send(()).unwrap();
    tokio::time::timeout(WAIT, server)
        .await
        .expect("the server did not stop with an event stream open")
        .unwrap()
        .unwrap();
    let rest = tokio::time::timeout(WAIT, async {
        while let Ok(Some(_)) = events.res.chunk().await {}
    })
    .await;
    assert!(rest.is_ok(), "the event stream did not end");
}

#[test]
fn token_file_is_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("switchboard");
    let token = Token::load_or_create(&config_dir).unwrap();
    let file = config_dir.join(server::TOKEN_FILE);
    assert_eq!(token.path(), file);
    assert_eq!(token.as_str().len(), 64);
    assert!(token.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), token.as_str());
    assert!(!format!("{token:?}").contains(token.as_str()));

    let again = Token::load_or_create(&config_dir).unwrap();
    assert_eq!(again.as_str(), token.as_str(), "reused, not regenerated");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        // A token others could read is replaced, privately.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let repaired = Token::load_or_create(&config_dir).unwrap();
        assert_ne!(repaired.as_str(), token.as_str());
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), repaired.as_str());
    }

    // A file that holds no token is replaced too.
    std::fs::write(&file, "not a token\n").unwrap();
    let fresh = Token::load_or_create(&config_dir).unwrap();
    assert_eq!(fresh.as_str().len(), 64);
    // No temp files left behind.
    let names: Vec<_> = std::fs::read_dir(&config_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [server::TOKEN_FILE]);
}

#[tokio::test]
async fn bind_refuses_a_non_loopback_address_unless_allowed() {
    let err = server::bind("0.0.0.0:0".parse().unwrap(), false)
        .await
        .unwrap_err();
    assert!(matches!(err, ServerError::NotLoopback(_)));
    let msg = err.to_string();
    assert!(
        msg.contains("0.0.0.0") && msg.contains("--allow-remote") && msg.contains("keys"),
        "{msg}"
    );
    server::bind("0.0.0.0:0".parse().unwrap(), true).await.unwrap();
    let taken = server::bind("127.0.0.1:0".parse().unwrap(), false).await.unwrap();
    let err = server::bind(taken.local_addr().unwrap(), false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another `switchboard watch`"), "{err}");
}

#[tokio::test]
async fn remote_mode_accepts_ip_hosts_but_not_names() {
    let f = Fixture::new().await;
    let app = server::router(f.state.clone().allow_remote("0.0.0.0:7461".parse().unwrap()));
    let req = |host: &str| {
        Request::builder()
            .uri("/metrics")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        send(app.clone(), req("10.1.2.3:7461")).await.status,
        StatusCode::OK
    );
    send(app, req("evil.example:7461"))
        .await
        .error(StatusCode::FORBIDDEN);
}

/// `/api/gateway` with the gateway running and some traffic behind it.
fn gateway_state(f: &Fixture, gateway: server::GatewayInfo) -> Router {
    server::router(f.state.clone().with_gateway(gateway))
}

#[tokio::test]
async fn gateway_reports_where_it_listens_and_its_traffic_per_provider() {
    let f = Fixture::new().await;
    // Keys the gateway would use upstream: none may reach the answer.
    f.secrets.set("openai", &Secret::new(GOOD_KEY)).unwrap();
    f.secrets.set("anthropic", &Secret::new(BAD_KEY)).unwrap();
    let traffic = Arc::new(switchboard::traffic::Traffic::default());
    traffic.failed("anthropic", "HTTP 500 api_error: Internal server error".into());
    traffic.served("openai", true);
    traffic.served("openai", false);
    let app = gateway_state(
        &f,
        server::GatewayInfo {
            enabled: true,
            listen: Some("127.0.0.1:7462".parse().unwrap()),
            error: None,
            traffic,
        },
    );
    let r = send(app, get("/api/gateway")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.content_type(), "application/json");
    let body = r.json();
    assert_eq!(body["enabled"], true);
    assert_eq!(body["running"], true);
    assert_eq!(body["listen"], "127.0.0.1:7462");
    assert_eq!(body["error"], Value::Null);

    let openai = &body["providers"]["openai"];
    assert_eq!(
        (&openai["requests"], &openai["failovers"], &openai["errors"]),
        (&json!(2), &json!(1), &json!(0)),
        "{body}"
    );
    let served_at = openai["last_request_at"].as_str().expect("last_request_at");
    chrono::DateTime::parse_from_rfc3339(served_at).expect("RFC 3339");
    assert!(
        openai.get("last_error").is_none(),
        "no error, no last_error: {body}"
    );

    let anthropic = &body["providers"]["anthropic"];
    assert_eq!(
        (
            &anthropic["requests"],
            &anthropic["failovers"],
            &anthropic["errors"]
        ),
        (&json!(0), &json!(0), &json!(1)),
        "{body}"
    );
    assert_eq!(
        anthropic["last_error"],
        "HTTP 500 api_error: Internal server error"
    );
    let failed_at = anthropic["last_error_at"].as_str().expect("last_error_at");
    chrono::DateTime::parse_from_rfc3339(failed_at).expect("RFC 3339");
    assert!(anthropic.get("last_request_at").is_none(), "never served: {body}");

    // Counters and words only: no key, no dashboard token.
    let text = r.text();
    assert_no_secret("/api/gateway", &text);
    assert!(
        !text.contains(&f.token),
        "/api/gateway contains the dashboard token"
    );
}

#[tokio::test]
async fn gateway_off_and_gateway_not_running_say_so() {
    let f = Fixture::new().await;
    // The default: disabled, nothing counted.
    let body = f.get("/api/gateway").await.json();
    assert_eq!(
        body,
        json!({"enabled": false, "listen": null, "running": false, "error": null, "providers": {}})
    );

    // Enabled, but the port was taken: no address, the reason instead.
    let why = "cannot listen on 127.0.0.1:7462: Address already in use (os error 98)";
    let app = gateway_state(
        &f,
        server::GatewayInfo {
            enabled: true,
            listen: None,
            error: Some(why.into()),
            traffic: Arc::default(),
        },
    );
    let body = send(app, get("/api/gateway")).await.json();
    assert_eq!(
        body,
        json!({"enabled": true, "listen": null, "running": false, "error": why, "providers": {}})
    );
}
