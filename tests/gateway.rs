//! The failover gateway end to end, in process: the real engine (probing the
//! fakes), the real gateway router on a loopback port, and fake upstreams on
//! 127.0.0.1 that speak each protocol the way the real APIs do (status codes,
//! error bodies, SSE event sequences, Bedrock event-stream frames) and record
//! what they were sent.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use switchboard::check::Checker;
use switchboard::config::Config;
use switchboard::credentials::Credentials;
use switchboard::engine::{Engine, EngineHandle, SystemClock};
use switchboard::gateway::{self, bedrock, PROVIDER_HEADER};
use switchboard::model::State as Health;
use switchboard::net::HostPolicy;
use switchboard::secrets::{MemoryStore, Secret, SecretStore};
use switchboard::traffic::Traffic;

const ANTHROPIC_KEY: &str = "sk-ant-api03-gatewaytest-0001";
const OPENAI_KEY: &str = "sk-proj-gatewaytest-0002";
const CLIENT_KEY: &str = "sk-ant-client-dummy-key";

// ---------------------------------------------------------------- fakes

/// What a fake upstream does with the next calls.
#[derive(Clone, Debug)]
enum Mode {
    Healthy,
    /// Answer every call (probes included) with this status and body.
    Status(u16, Value, Vec<(&'static str, &'static str)>),
    /// Generation calls only fail; probes pass.
    CallsFail(u16, Value),
    /// Stream two events, then drop the connection.
    DieMidStream,
}

#[derive(Clone, Debug)]
struct Seen {
    path: String,
    headers: HeaderMap,
    body: Value,
}

#[derive(Clone)]
struct Fake {
    mode: Arc<Mutex<Mode>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    addr: SocketAddr,
}

impl Fake {
    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// Generation calls received (probes left out).
    fn calls(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| !s.path.contains("models") || s.path.contains(":"))
            .filter(|s| !s.path.ends_with("/models") && !s.path.contains("foundation-models"))
            .cloned()
            .collect()
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

type Handler = fn(&Mode, &Seen) -> Response;

async fn start_fake(handler: Handler) -> Fake {
    let fake = Fake {
        mode: Arc::new(Mutex::new(Mode::Healthy)),
        seen: Arc::new(Mutex::new(Vec::new())),
        addr: "127.0.0.1:0".parse().unwrap(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = (fake.clone(), handler);
    let app = Router::new().fallback(
        |State((fake, handler)): State<(Fake, Handler)>, request: Request| async move {
            let path = request.uri().path().to_string();
            let headers = request.headers().clone();
            let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
                .await
                .unwrap_or_default();
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let seen = Seen { path, headers, body };
            fake.seen.lock().unwrap().push(seen.clone());
            let mode = fake.mode.lock().unwrap().clone();
            handler(&mode, &seen)
        },
    );
    tokio::spawn(async move { axum::serve(listener, app.with_state(state)).await });
    Fake { addr, ..fake }
}

fn sse(events: &[(Option<&str>, String)]) -> String {
    events
        .iter()
        .map(|(name, data)| match name {
            Some(n) => format!("event: {n}\ndata: {data}\n\n"),
            None => format!("data: {data}\n\n"),
        })
        .collect()
}

fn sse_response(text: String) -> Response {
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from(text))
        .unwrap()
}

/// A body that sends `head` and then fails, like a connection reset mid-stream.
fn dying_stream(head: String) -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from(head)),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "upstream died",
        )),
    ];
    let stream = futures::stream::iter(chunks).then(|c| async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        c
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

use futures::StreamExt as _;

fn status_response(status: u16, body: &Value, headers: &[(&'static str, &'static str)]) -> Response {
    let mut r = (StatusCode::from_u16(status).unwrap(), axum::Json(body.clone())).into_response();
    for (k, v) in headers {
        r.headers_mut().insert(*k, v.parse().unwrap());
    }
    r
}

fn api_error_500() -> Value {
    json!({"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"})
}

/// The Anthropic stream events of a short text answer.
fn anthropic_text_events(model: &str) -> Vec<(Option<&'static str>, String)> {
    vec![
        (Some("message_start"), json!({"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":model,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}).to_string()),
        (Some("content_block_start"), json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}).to_string()),
        (Some("ping"), json!({"type":"ping"}).to_string()),
        (Some("content_block_delta"), json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}).to_string()),
        (Some("content_block_delta"), json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}}).to_string()),
        (Some("content_block_stop"), json!({"type":"content_block_stop","index":0}).to_string()),
        (Some("message_delta"), json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}).to_string()),
        (Some("message_stop"), json!({"type":"message_stop"}).to_string()),
    ]
}

fn anthropic_message(model: &str) -> Value {
    json!({"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":model,
           "content":[{"type":"text","text":"Hello world"}],"stop_reason":"end_turn","stop_sequence":null,
           "usage":{"input_tokens":25,"output_tokens":15}})
}

fn anthropic_fake(mode: &Mode, seen: &Seen) -> Response {
    if seen.path == "/v1/models" {
        return match mode {
            Mode::Status(s, b, h) => status_response(*s, b, h),
            _ => axum::Json(json!({"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"}],"has_more":false,"first_id":"claude-sonnet-4-5","last_id":"claude-sonnet-4-5"})).into_response(),
        };
    }
    if seen.path == "/v1/messages/count_tokens" {
        return axum::Json(json!({"input_tokens": 2095})).into_response();
    }
    let model = seen.body["model"].as_str().unwrap_or("claude").to_string();
    let stream = seen.body["stream"].as_bool().unwrap_or(false);
    match mode {
        Mode::Status(s, b, h) => status_response(*s, b, h),
        Mode::CallsFail(s, b) => status_response(*s, b, &[("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy")]),
        Mode::DieMidStream => dying_stream(sse(&anthropic_text_events(&model)[..4])),
        Mode::Healthy if stream => sse_response(sse(&anthropic_text_events(&model))),
        Mode::Healthy => {
            let mut r = axum::Json(anthropic_message(&model)).into_response();
            r.headers_mut()
                .insert("request-id", "req_healthy".parse().unwrap());
            r
        }
    }
}

/// An OpenAI stream as api.openai.com sends it: a role chunk, content, then
/// tool-call deltas whose arguments are split mid-JSON, the finish reason,
/// a usage chunk with empty `choices`, and `[DONE]`.
fn openai_tool_stream(model: &str) -> String {
    let chunk = |delta: Value, finish: Value| {
        json!({"id":"chatcmpl-AbC123","object":"chat.completion.chunk","created":1732500000,"model":model,
               "system_fingerprint":"fp_abc","choices":[{"index":0,"delta":delta,"logprobs":null,"finish_reason":finish}]})
        .to_string()
    };
    let mut events = vec![
        (
            None,
            chunk(
                json!({"role":"assistant","content":null,"refusal":null}),
                Value::Null,
            ),
        ),
        (
            None,
            chunk(
                json!({"tool_calls":[{"index":0,"id":"call_Wz8rT2","type":"function","function":{"name":"get_weather","arguments":""}}]}),
                Value::Null,
            ),
        ),
    ];
    for part in ["{\"ci", "ty\": \"Pa", "ris\", \"unit\"", ": \"celsius\"}"] {
        events.push((
            None,
            chunk(
                json!({"tool_calls":[{"index":0,"function":{"arguments":part}}]}),
                Value::Null,
            ),
        ));
    }
    events.push((None, chunk(json!({}), json!("tool_calls"))));
    events.push((None, json!({"id":"chatcmpl-AbC123","object":"chat.completion.chunk","created":1732500000,"model":model,"choices":[],"usage":{"prompt_tokens":80,"completion_tokens":18,"total_tokens":98}}).to_string()));
    events.push((None, "[DONE]".to_string()));
    sse(&events)
}

fn openai_text_stream(model: &str) -> String {
    let chunk = |delta: Value, finish: Value| {
        json!({"id":"chatcmpl-AbC124","object":"chat.completion.chunk","created":1732500000,"model":model,
               "choices":[{"index":0,"delta":delta,"finish_reason":finish}]})
        .to_string()
    };
    sse(&[
        (None, chunk(json!({"role":"assistant","content":""}), Value::Null)),
        (None, chunk(json!({"content":"Hello"}), Value::Null)),
        (None, chunk(json!({"content":" world"}), Value::Null)),
        (None, chunk(json!({}), json!("stop"))),
        (None, "[DONE]".to_string()),
    ])
}

fn openai_fake(mode: &Mode, seen: &Seen) -> Response {
    if seen.path == "/v1/models" {
        return match mode {
            Mode::Status(s, b, h) => status_response(*s, b, h),
            _ => axum::Json(json!({"object":"list","data":[{"id":"gpt-4.1","object":"model","created":1744316542,"owned_by":"system"}]})).into_response(),
        };
    }
    let model = seen.body["model"].as_str().unwrap_or("gpt").to_string();
    let stream = seen.body["stream"].as_bool().unwrap_or(false);
    let wants_tools = seen.body.get("tools").is_some();
    match mode {
        Mode::Status(s, b, h) => status_response(*s, b, h),
        Mode::CallsFail(s, b) => status_response(*s, b, &[]),
        Mode::DieMidStream => {
            // Two whole events and half of the third.
            let full = openai_text_stream(&model);
            let two = full.match_indices("\n\n").nth(1).unwrap().0 + 2;
            dying_stream(full[..two + 40].to_string())
        }
        Mode::Healthy if seen.path == "/v1/responses" => openai_responses_answer(&model, stream),
        Mode::Healthy if stream && wants_tools => sse_response(openai_tool_stream(&model)),
        Mode::Healthy if stream => sse_response(openai_text_stream(&model)),
        Mode::Healthy => axum::Json(json!({
            "id":"chatcmpl-AbC125","object":"chat.completion","created":1732500000,"model":model,
            "choices":[{"index":0,"message":{"role":"assistant","content":"Hello world","refusal":null},"logprobs":null,"finish_reason":"stop"}],
            "usage":{"prompt_tokens":20,"completion_tokens":2,"total_tokens":22}
        }))
        .into_response(),
    }
}

/// OpenAI's own Responses API: a text answer, whole or as typed events.
fn openai_responses_answer(model: &str, stream: bool) -> Response {
    let item = json!({"id":"msg_67c","type":"message","status":"completed","role":"assistant",
                      "content":[{"type":"output_text","text":"Hello world","annotations":[]}]});
    let done = json!({"id":"resp_67c","object":"response","created_at":1741476542,"status":"completed",
                      "model":model,"output":[item.clone()],
                      "usage":{"input_tokens":36,"output_tokens":2,"total_tokens":38}});
    if !stream {
        return axum::Json(done).into_response();
    }
    let mut started = done.clone();
    started["status"] = json!("in_progress");
    started["output"] = json!([]);
    let events = [
        (
            "response.created",
            json!({"type":"response.created","sequence_number":0,"response":started}),
        ),
        (
            "response.output_item.added",
            json!({"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"id":"msg_67c","type":"message","status":"in_progress","role":"assistant","content":[]}}),
        ),
        (
            "response.output_text.delta",
            json!({"type":"response.output_text.delta","sequence_number":2,"item_id":"msg_67c","output_index":0,"content_index":0,"delta":"Hello world"}),
        ),
        (
            "response.output_item.done",
            json!({"type":"response.output_item.done","sequence_number":3,"output_index":0,"item":item}),
        ),
        (
            "response.completed",
            json!({"type":"response.completed","sequence_number":4,"response":done}),
        ),
    ];
    sse_response(sse(&events.map(|(n, d)| (Some(n), d.to_string()))))
}

// ---------------------------------------------------------------- harness

struct Gw {
    url: String,
    engine: EngineHandle,
    traffic: Arc<Traffic>,
    anthropic: Fake,
    openai: Fake,
    _dir: tempfile::TempDir,
}

fn credentials(env: HashMap<String, String>) -> Credentials {
    let store = Arc::new(MemoryStore::default());
    store.set("anthropic", &Secret::new(ANTHROPIC_KEY)).unwrap();
    store.set("openai", &Secret::new(OPENAI_KEY)).unwrap();
    Credentials::new(store, Arc::new(move |name| env.get(name).cloned()))
}

async fn start_gateway(extra: &str, env: HashMap<String, String>) -> Gw {
    let anthropic = start_fake(anthropic_fake).await;
    let openai = start_fake(openai_fake).await;
    let text = two_providers(extra, &anthropic, &openai);
    start_with(&text, anthropic, openai, env).await
}

/// The config of [`start_gateway`]: Anthropic preferred, OpenAI second, both at fakes.
fn two_providers(extra: &str, anthropic: &Fake, openai: &Fake) -> String {
    format!(
        r#"
use_catalog = false
preferred = "anthropic"
{extra}

[check]
interval_secs = 3600
confirm_secs = 1
failures_to_open = 2

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
    )
}

/// The real engine on config `text`, its first round done (so the route plan
/// sees real states), with the credentials the gateway gets and the config's
/// directory (which must outlive the test).
async fn engine_with(
    text: &str,
    env: HashMap<String, String>,
) -> (EngineHandle, Credentials, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap();
    let creds = credentials(env);
    let checker = Checker::new(creds.clone()).unwrap();
    let (engine, _task) = Engine::spawn(config, Arc::new(checker), Arc::new(SystemClock));
    engine.check_now().await.unwrap();
    (engine, creds, dir)
}

async fn start_with(text: &str, anthropic: Fake, openai: Fake, env: HashMap<String, String>) -> Gw {
    let (engine, creds, dir) = engine_with(text, env).await;
    let traffic = Arc::new(Traffic::default());
    let router = gateway::router(engine.clone(), creds, traffic.clone(), HostPolicy::loopback()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(gateway::serve(listener, router, std::future::pending()));
    Gw {
        url: format!("http://{addr}"),
        engine,
        traffic,
        anthropic,
        openai,
        _dir: dir,
    }
}

/// A Claude Code–style streamed request with a tool.
fn claude_code_request() -> Value {
    json!({
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 32000,
        "stream": true,
        "system": [
            {"type":"text","text":"You are Claude Code, Anthropic's official CLI for Claude."},
            {"type":"text","text":"Use tools when they help.","cache_control":{"type":"ephemeral"}}
        ],
        "messages": [
            {"role":"user","content":[{"type":"text","text":"What's the weather in Paris?","cache_control":{"type":"ephemeral"}}]}
        ],
        "tools": [{
            "name":"get_weather",
            "description":"Current weather for a city",
            "input_schema":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}
        }],
        "metadata": {"user_id":"user_abc_account__session_123"}
    })
}

async fn post(gw: &Gw, path: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", gw.url))
        .header("x-api-key", CLIENT_KEY)
        .header("authorization", format!("Bearer {CLIENT_KEY}"))
        .header("anthropic-version", "2023-06-01")
        .header("anthropic-beta", "interleaved-thinking-2025-05-14")
        .json(body)
        .send()
        .await
        .unwrap()
}

/// (event name, data) pairs of an SSE body.
fn parse_sse(text: &str) -> Vec<(Option<String>, String)> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = Some(n.to_string());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            (name, data)
        })
        .collect()
}

fn provider_header(r: &reqwest::Response) -> String {
    r.headers()
        .get(PROVIDER_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn claude_code_stream_with_tools_fails_over_to_openai_as_a_valid_anthropic_stream() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    gw.anthropic.set(Mode::CallsFail(500, api_error_500()));

    let r = post(&gw, "/v1/messages?beta=true", &claude_code_request()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), "openai");
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let events = parse_sse(&r.text().await.unwrap());
    let names: Vec<_> = events
        .iter()
        .map(|(n, _)| n.clone().unwrap_or_default())
        .collect();
    assert_eq!(names.first().map(String::as_str), Some("message_start"));
    assert_eq!(names.last().map(String::as_str), Some("message_stop"));
    for (name, data) in &events {
        let v: Value = serde_json::from_str(data).unwrap();
        assert_eq!(
            v["type"].as_str(),
            name.as_deref(),
            "event name matches the data's type"
        );
    }
    let start = events
        .iter()
        .map(|(_, d)| serde_json::from_str::<Value>(d).unwrap())
        .find(|v| v["type"] == "content_block_start" && v["content_block"]["type"] == "tool_use")
        .expect("a tool_use block");
    assert_eq!(start["content_block"]["name"], "get_weather");
    assert_eq!(start["content_block"]["id"], "call_Wz8rT2");
    let index = start["index"].clone();
    let args: String = events
        .iter()
        .map(|(_, d)| serde_json::from_str::<Value>(d).unwrap())
        .filter(|v| v["type"] == "content_block_delta" && v["index"] == index)
        .map(|v| v["delta"]["partial_json"].as_str().unwrap().to_string())
        .collect();
    let input: Value = serde_json::from_str(&args).unwrap();
    assert_eq!(input, json!({"city":"Paris","unit":"celsius"}));
    let delta = events
        .iter()
        .map(|(_, d)| serde_json::from_str::<Value>(d).unwrap())
        .find(|v| v["type"] == "message_delta")
        .unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");
    assert_eq!(delta["usage"]["output_tokens"], 18);

    // Anthropic was tried with the stored key, not the client's.
    let tried = gw.anthropic.calls();
    assert_eq!(tried.len(), 1);
    assert_eq!(tried[0].headers["x-api-key"], ANTHROPIC_KEY);
    assert_eq!(
        tried[0].headers["anthropic-beta"],
        "interleaved-thinking-2025-05-14"
    );
    assert_eq!(
        tried[0].body["model"], "claude-sonnet-4-5-20250929",
        "the client's model for its own provider"
    );
    // OpenAI got a translated request with its configured model and key.
    let sent = gw.openai.calls();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/v1/chat/completions");
    assert_eq!(sent[0].headers["authorization"], format!("Bearer {OPENAI_KEY}"));
    assert!(sent[0].headers.get("x-api-key").is_none());
    assert_eq!(sent[0].body["model"], "gpt-4.1");
    assert_eq!(sent[0].body["stream"], true);
    assert_eq!(sent[0].body["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(sent[0].body["messages"][0]["role"], "system");
    assert!(sent[0].body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .contains("You are Claude Code"));
    let t = gw.traffic.snapshot();
    assert_eq!((t["openai"].requests, t["openai"].failovers), (1, 1));
    assert_eq!(t["anthropic"].errors, 1);
    assert!(t["anthropic"].last_error.as_deref().unwrap().contains("500"));
    // The same counters on /metrics.
    let metrics = switchboard::metrics::Metrics::new().with_gateway(gw.traffic.clone());
    let text = metrics.encode().unwrap();
    assert!(
        text.contains("switchboard_gateway_requests_total{provider=\"openai\"} 1"),
        "{text}"
    );
    assert!(text.contains("switchboard_gateway_failovers_total{provider=\"openai\"} 1"));
    assert!(text.contains("switchboard_gateway_upstream_errors_total{provider=\"anthropic\"} 1"));
    assert!(!text.contains(OPENAI_KEY) && !text.contains(ANTHROPIC_KEY));
}

#[tokio::test]
async fn healthy_preferred_is_passed_through_untouched() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    let mut body = claude_code_request();
    body["stream"] = json!(false);
    body["model"] = json!("claude-opus-4-1");
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), "anthropic");
    assert_eq!(r.headers()["request-id"], "req_healthy");
    let got: Value = r.json().await.unwrap();
    assert_eq!(got, anthropic_message("claude-opus-4-1"));
    let sent = gw.anthropic.calls();
    assert_eq!(
        sent[0].body, body,
        "the body reaches Anthropic as the client wrote it"
    );
    assert!(gw.openai.calls().is_empty());

    // The same through a stream: every event, in order.
    let r = post(&gw, "/v1/messages", &claude_code_request()).await;
    let events = parse_sse(&r.text().await.unwrap());
    let expected: Vec<_> = anthropic_text_events("claude-sonnet-4-5-20250929")
        .into_iter()
        .map(|(n, d)| (n.map(str::to_string), serde_json::from_str::<Value>(&d).unwrap()))
        .collect();
    let got: Vec<_> = events
        .into_iter()
        .map(|(n, d)| (n, serde_json::from_str::<Value>(&d).unwrap()))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn an_upstream_dying_mid_stream_ends_with_an_error_event_and_no_splice() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    gw.anthropic.set(Mode::DieMidStream);
    let r = post(&gw, "/v1/messages", &claude_code_request()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), "anthropic");
    let events = parse_sse(&r.text().await.unwrap());
    let names: Vec<_> = events.iter().map(|(n, _)| n.clone().unwrap()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "error"
        ],
        "what was sent, once, then a proper error event"
    );
    let error: Value = serde_json::from_str(&events[4].1).unwrap();
    assert_eq!(error["type"], "error");
    assert!(error["error"]["message"].as_str().unwrap().contains("mid-stream"));
    assert!(
        gw.openai.calls().is_empty(),
        "never retried after bytes were sent"
    );

    // The same for an OpenAI client of an OpenAI upstream.
    gw.engine.set_preferred("openai").await.unwrap();
    gw.openai.set(Mode::DieMidStream);
    let r = post(
        &gw,
        "/v1/chat/completions",
        &json!({"model":"gpt-4.1","stream":true,"messages":[{"role":"user","content":"hi"}]}),
    )
    .await;
    let events = parse_sse(&r.text().await.unwrap());
    let last: Value = serde_json::from_str(&events.last().unwrap().1).unwrap();
    assert!(last["error"]["message"].as_str().unwrap().contains("mid-stream"));
    assert!(events.iter().all(|(_, d)| d != "[DONE]"));
    let contents: String = events[..events.len() - 1]
        .iter()
        .filter_map(|(_, d)| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(str::to_string))
        .collect();
    assert_eq!(contents, "Hello", "the text before the break, not repeated");

    // A Responses client of a translated Anthropic stream: `response.failed`.
    gw.engine.set_preferred("anthropic").await.unwrap();
    let r = post(&gw, "/v1/responses", &codex_style_request(true)).await;
    assert_eq!(provider_header(&r), "anthropic");
    let events = parse_sse(&r.text().await.unwrap());
    let (name, data) = events.last().unwrap();
    assert_eq!(name.as_deref(), Some("response.failed"));
    let failed: Value = serde_json::from_str(data).unwrap();
    assert_eq!(failed["type"], "response.failed");
    assert_eq!(failed["sequence_number"], events.len() - 1);
    assert_eq!(failed["response"]["status"], "failed");
    assert!(failed["response"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("mid-stream"));
    assert_eq!(failed["response"]["output"][0]["content"][0]["text"], "Hello");
}

#[tokio::test]
async fn a_provider_in_outage_is_skipped_without_a_call() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    gw.anthropic.set(Mode::Status(
        503,
        json!({"type":"error","error":{"type":"api_error","message":"upstream connect error"}}),
        vec![],
    ));
    gw.engine.check_now().await.unwrap();
    gw.engine.check_now().await.unwrap();
    let state = |gw: &Gw| {
        gw.engine
            .status()
            .providers
            .iter()
            .find(|p| p.id == "anthropic")
            .unwrap()
            .state
    };
    assert_eq!(state(&gw), Health::Outage);
    let r = post(
        &gw,
        "/v1/chat/completions",
        &json!({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}),
    )
    .await;
    assert_eq!(provider_header(&r), "openai");
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["choices"][0]["message"]["content"], "Hello world");
    assert!(gw.anthropic.calls().is_empty());
    assert_eq!(
        gw.traffic.snapshot()["openai"].failovers,
        1,
        "a failover even though the preferred provider was not called"
    );
    let skipped = &gw.traffic.snapshot()["anthropic"];
    assert_eq!(skipped.skipped, 1);
    let why = skipped.last_skip.as_deref().unwrap_or_default();
    assert!(why.starts_with("outage reported by the engine"), "{why}");
}

#[tokio::test]
async fn client_errors_are_answered_not_retried_and_short_429s_move_on() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    let invalid = json!({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fz"});
    gw.anthropic.set(Mode::CallsFail(400, invalid.clone()));
    let mut body = claude_code_request();
    body["stream"] = json!(false);
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!(r.status(), 400);
    assert_eq!(provider_header(&r), "anthropic");
    assert_eq!(r.json::<Value>().await.unwrap(), invalid);
    assert!(gw.openai.calls().is_empty());

    // A 400 to an OpenAI client is an OpenAI error.
    let r = post(
        &gw,
        "/v1/chat/completions",
        &json!({"model":"x","messages":[{"role":"user","content":"hi"}]}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["type"], "invalid_request_error");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("max_tokens: Field required"));

    // 429 with a short retry-after: the next provider serves.
    gw.anthropic.set(Mode::Status(
        429,
        json!({"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}),
        vec![("retry-after", "3")],
    ));
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), "openai");
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["type"], "message");
    assert_eq!(m["content"][0]["text"], "Hello world");

    // 429 without one (a spent quota, a usage cap): another provider serves
    // (see quota_and_billing_errors_fail_over_unless_the_provider_says_not).
    gw.anthropic.set(Mode::CallsFail(
        429,
        json!({"type":"error","error":{"type":"rate_limit_error","message":"You have reached your specified API usage limits."}}),
    ));
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), "openai");

    // A provider that echoes the key back: the client never sees it.
    gw.anthropic.set(Mode::CallsFail(
        401,
        json!({"type":"error","error":{"type":"authentication_error","message":format!("invalid x-api-key: {ANTHROPIC_KEY}")}}),
    ));
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!(r.status(), 401);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("authentication_error") && !text.contains(ANTHROPIC_KEY),
        "{text}"
    );
    let r = post(
        &gw,
        "/v1/chat/completions",
        &json!({"model":"x","messages":[{"role":"user","content":"hi"}]}),
    )
    .await;
    let text = r.text().await.unwrap();
    assert!(!text.contains(ANTHROPIC_KEY), "{text}");
    let traffic = serde_json::to_string(&gw.traffic.snapshot()).unwrap();
    assert!(!traffic.contains(ANTHROPIC_KEY));
}

#[tokio::test]
async fn failed_calls_reach_the_engine_before_the_next_round() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    let state = |gw: &Gw| {
        gw.engine
            .status()
            .providers
            .iter()
            .find(|p| p.id == "anthropic")
            .unwrap()
            .state
    };
    assert_eq!(state(&gw), Health::Operational);
    // Anthropic starts failing everything; the next round is an hour away.
    gw.anthropic.set(Mode::Status(
        500,
        api_error_500(),
        vec![("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy")],
    ));
    let mut body = claude_code_request();
    body["stream"] = json!(false);
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!(provider_header(&r), "openai");
    // The failed call counts once and asks for a confirmation probe at once.
    let mut waited = 0;
    while state(&gw) != Health::Outage && waited < 100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    assert_eq!(
        state(&gw),
        Health::Outage,
        "outage declared from real traffic + one probe"
    );
    let p = gw.engine.status();
    let a = p.providers.iter().find(|p| p.id == "anthropic").unwrap();
    assert!(a.summary.contains("500"), "{}", a.summary);
}

#[tokio::test]
async fn openai_clients_are_served_by_anthropic_with_translated_streams() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    let r = post(
        &gw,
        "/v1/chat/completions",
        &json!({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},
                "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}),
    )
    .await;
    assert_eq!(provider_header(&r), "anthropic");
    let events = parse_sse(&r.text().await.unwrap());
    assert_eq!(events.last().unwrap().1, "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    assert!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk"));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str().map(str::to_string))
        .collect();
    assert_eq!(text, "Hello world");
    assert!(chunks.iter().any(|c| c["choices"][0]["finish_reason"] == "stop"));
    let usage = chunks
        .iter()
        .find(|c| c["usage"].is_object())
        .expect("usage chunk");
    assert_eq!(usage["usage"]["completion_tokens"], 15);
    let sent = gw.anthropic.calls();
    assert_eq!(sent[0].body["system"], "Be brief.");
    assert_eq!(sent[0].headers["x-api-key"], ANTHROPIC_KEY);
    assert_eq!(sent[0].headers["anthropic-version"], "2023-06-01");
}

#[tokio::test]
async fn models_and_refusals() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    let models: Value = reqwest::get(format!("{}/v1/models", gw.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["object"], "list");
    let ids: Vec<_> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"gpt-4.1"), "{ids:?}");
    assert!(models["data"][0]["type"] == "model" && models["has_more"] == false);

    // DNS rebinding: a page whose name resolves to 127.0.0.1.
    let r = reqwest::Client::new()
        .post(format!("{}/v1/messages", gw.url))
        .header("host", "attacker.example")
        .json(&claude_code_request())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(gw
        .anthropic
        .calls()
        .iter()
        .all(|c| !c.path.ends_with("/v1/messages")));

    // Claude Code sizes its context with count_tokens: answered by Anthropic.
    let r = post(&gw, "/v1/messages/count_tokens", &claude_code_request()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), "anthropic");
    assert_eq!(r.json::<Value>().await.unwrap()["input_tokens"], 2095);
    let counted = gw.anthropic.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(counted.path, "/v1/messages/count_tokens");
    assert_eq!(counted.headers["x-api-key"], ANTHROPIC_KEY);

    let r = reqwest::Client::new()
        .post(format!("{}/v1/messages", gw.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["type"],
        "invalid_request_error"
    );
}

#[tokio::test]
async fn every_provider_failing_returns_the_last_error_in_the_clients_protocol() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    gw.anthropic.set(Mode::CallsFail(
        529,
        json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}),
    ));
    gw.openai.set(Mode::CallsFail(503, json!({"error":{"message":"The server is overloaded or not ready yet.","type":"server_error","param":null,"code":null}})));
    let mut body = claude_code_request();
    body["stream"] = json!(false);
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!(r.status(), 503);
    assert_eq!(provider_header(&r), "openai");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["type"], "error");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("overloaded"),
        "{e}"
    );
    let t = gw.traffic.snapshot();
    assert_eq!((t["anthropic"].errors, t["openai"].errors), (1, 1));
}

// ---------------------------------------------------------------- Bedrock and Vertex

fn bedrock_fake(mode: &Mode, seen: &Seen) -> Response {
    if seen.path.ends_with("/foundation-models") {
        return axum::Json(json!({"modelSummaries":[]})).into_response();
    }
    if let Mode::Status(status, body, headers) = mode {
        return status_response(*status, body, headers);
    }
    let auth = seen
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        || !auth.contains("/us-west-2/bedrock/aws4_request")
    {
        return status_response(
            403,
            &json!({"message":"The security token included in the request is invalid."}),
            &[(
                "x-amzn-ErrorType",
                "UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/",
            )],
        );
    }
    if seen.body["anthropic_version"] != "bedrock-2023-05-31" || seen.body.get("model").is_some() {
        return status_response(
            400,
            &json!({"message":"Malformed input request"}),
            &[("x-amzn-ErrorType", "ValidationException:")],
        );
    }
    let mut frames = Vec::new();
    for (_, data) in anthropic_text_events("claude-sonnet-4-5") {
        frames.extend(bedrock::encode_chunk(&serde_json::from_str(&data).unwrap()));
    }
    Response::builder()
        .header("content-type", "application/vnd.amazon.eventstream")
        .header("x-amzn-RequestId", "4c9b5e36-6b5b-4d3f-9c6b-000000000001")
        .body(Body::from(frames))
        .unwrap()
}

fn vertex_fake(mode: &Mode, seen: &Seen) -> Response {
    let auth = seen
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != "Bearer ya29.vertex-test-token" {
        return status_response(
            401,
            &json!({"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}),
            &[],
        );
    }
    if !seen.path.ends_with(":rawPredict") && !seen.path.ends_with(":streamRawPredict") {
        return axum::Json(json!({"name":"publishers/anthropic/models/claude-sonnet-4-5"})).into_response();
    }
    if let Mode::Status(status, body, headers) = mode {
        return status_response(*status, body, headers);
    }
    if seen.body["anthropic_version"] != "vertex-2023-10-16" || seen.body.get("model").is_some() {
        return status_response(
            400,
            &json!({"error":{"code":400,"message":"bad body","status":"INVALID_ARGUMENT"}}),
            &[],
        );
    }
    sse_response(sse(&anthropic_text_events("claude-sonnet-4-5")))
}

/// A gateway whose fallback runs anthropic → bedrock → vertex → openai, with
/// AWS credentials in the environment and a Vertex token command.
struct CloudGw {
    gw: Gw,
    bedrock: Fake,
    vertex: Fake,
    _dir: tempfile::TempDir,
}

async fn start_cloud_gateway() -> CloudGw {
    let anthropic = start_fake(anthropic_fake).await;
    let openai = start_fake(openai_fake).await;
    let bedrock_fake = start_fake(bedrock_fake).await;
    let vertex_fake = start_fake(vertex_fake).await;
    let dir = tempfile::tempdir().unwrap();
    let token_script = dir.path().join("print-token");
    std::fs::write(&token_script, "#!/bin/sh\necho ya29.vertex-test-token\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let text = format!(
        r#"
use_catalog = false
preferred = "anthropic"
fallback = ["anthropic", "bedrock", "vertex", "openai"]

[check]
interval_secs = 3600

[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "{a}"
status_format = "none"

[[providers]]
id = "bedrock"
kind = "bedrock"
base_url = "{b}"
region = "us-west-2"
model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
status_format = "none"

[[providers]]
id = "vertex"
kind = "vertex"
base_url = "{v}"
project = "my-project"
region = "us-east5"
token_command = "{t}"
model = "claude-sonnet-4-5@20250929"
status_format = "none"

[[providers]]
id = "openai"
kind = "openai"
base_url = "{o}/v1"
model = "gpt-4.1"
status_format = "none"
"#,
        a = anthropic.url(),
        b = bedrock_fake.url(),
        v = vertex_fake.url(),
        o = openai.url(),
        t = token_script.display(),
    );
    let env: HashMap<String, String> = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ),
        ("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEXAMPLE"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let gw = start_with(&text, anthropic, openai, env).await;
    CloudGw {
        gw,
        bedrock: bedrock_fake,
        vertex: vertex_fake,
        _dir: dir,
    }
}

#[tokio::test]
async fn claude_code_keeps_talking_to_claude_through_bedrock_and_vertex() {
    let CloudGw {
        gw,
        bedrock: bedrock_fake,
        vertex: vertex_fake,
        _dir,
    } = start_cloud_gateway().await;
    gw.anthropic.set(Mode::CallsFail(500, api_error_500()));

    let r = post(&gw, "/v1/messages", &claude_code_request()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), "bedrock");
    let events = parse_sse(&r.text().await.unwrap());
    let text: String = events
        .iter()
        .map(|(_, d)| serde_json::from_str::<Value>(d).unwrap())
        .filter_map(|v| v["delta"]["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(text, "Hello world");
    assert_eq!(events.last().unwrap().0.as_deref(), Some("message_stop"));
    let sent = bedrock_fake.calls();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body["system"],
        claude_code_request()["system"],
        "a body without system turns goes as sent"
    );
    assert_eq!(
        sent[0].path,
        "/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream"
    );
    assert_eq!(sent[0].headers["x-amz-security-token"], "IQoJb3JpZ2luX2VjEXAMPLE");
    assert!(sent[0].headers.get("x-amz-date").is_some());

    // Claude Code 2.1's system turns inside `messages`: Bedrock follows the
    // public API, so they are folded into the user turn they stand in.
    let mut with_system_turn = claude_code_request();
    with_system_turn["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "system", "content": "Be brief.", "output_config": {"effort": "low"}}));
    let r = post(&gw, "/v1/messages", &with_system_turn).await;
    assert_eq!(
        (r.status().as_u16(), provider_header(&r)),
        (200, "bedrock".into())
    );
    let sent = bedrock_fake.calls();
    let messages = sent.last().unwrap().body["messages"].as_array().unwrap().clone();
    assert!(messages.iter().all(|m| m["role"] != "system"), "{messages:?}");
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0]["content"].as_array().unwrap().last().unwrap()["text"],
        "<system>\nBe brief.\n</system>"
    );

    // Vertex, when it is next in line: the token comes from the command.
    gw.engine
        .set_fallback(vec!["anthropic".into(), "vertex".into(), "openai".into()])
        .await
        .unwrap();
    let r = post(&gw, "/v1/messages", &claude_code_request()).await;
    assert_eq!(provider_header(&r), "vertex");
    let events = parse_sse(&r.text().await.unwrap());
    assert_eq!(events.last().unwrap().0.as_deref(), Some("message_stop"));
    let sent = vertex_fake.calls();
    assert_eq!(
        sent.last().unwrap().path,
        "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
    );
    assert_eq!(sent.last().unwrap().body["stream"], true);
}

#[tokio::test]
async fn bedrock_and_vertex_errors_reach_an_anthropic_client_in_its_own_envelope() {
    let CloudGw {
        gw,
        bedrock,
        vertex,
        _dir,
    } = start_cloud_gateway().await;
    gw.engine
        .set_fallback(vec!["bedrock".into(), "vertex".into()])
        .await
        .unwrap();
    gw.engine.set_preferred("bedrock").await.unwrap();
    let mut body = claude_code_request();
    body["stream"] = json!(false);

    // A client error stays with the client: Bedrock's words, Anthropic's envelope.
    bedrock.set(Mode::Status(
        400,
        json!({"message": "messages.1.content: Field required"}),
        vec![
            (
                "x-amzn-ErrorType",
                "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            ),
            ("x-amzn-RequestId", "2f0a7c1e-bedrock-request"),
        ],
    ));
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!(
        (r.status().as_u16(), provider_header(&r)),
        (400, "bedrock".into())
    );
    let e: Value = r.json().await.unwrap();
    assert_eq!(
        e,
        json!({
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "messages.1.content: Field required"},
            "request_id": "2f0a7c1e-bedrock-request",
        })
    );
    assert!(vertex.calls().is_empty(), "a 400 is not failed over");

    // Google's envelope from Vertex (the only provider left after Bedrock
    // is throttled): a 403 PERMISSION_DENIED is Anthropic's permission_error.
    bedrock.set(Mode::Status(
        429,
        json!({"message": "Too many requests, please wait before trying again."}),
        vec![(
            "x-amzn-ErrorType",
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
        )],
    ));
    vertex.set(Mode::Status(
        403,
        json!({"error": {"code": 403, "message": "Permission 'aiplatform.endpoints.predict' denied on resource", "status": "PERMISSION_DENIED"}}),
        vec![],
    ));
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!((r.status().as_u16(), provider_header(&r)), (403, "vertex".into()));
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["type"], "error");
    assert_eq!(e["error"]["type"], "permission_error");
    assert_eq!(
        e["error"]["message"],
        "Permission 'aiplatform.endpoints.predict' denied on resource"
    );

    // Vertex's model errors come in Anthropic's envelope already: passed on as they are.
    let overloaded = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    vertex.set(Mode::Status(529, overloaded.clone(), vec![]));
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!((r.status().as_u16(), provider_header(&r)), (529, "vertex".into()));
    assert_eq!(r.json::<Value>().await.unwrap(), overloaded);

    // Throttled everywhere: the last answer, Bedrock's 429 when it is last in line.
    gw.engine
        .set_fallback(vec!["vertex".into(), "bedrock".into()])
        .await
        .unwrap();
    gw.engine.set_preferred("vertex").await.unwrap();
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!(
        (r.status().as_u16(), provider_header(&r)),
        (429, "bedrock".into())
    );
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["type"], "rate_limit_error");
    assert_eq!(
        e["error"]["message"],
        "Too many requests, please wait before trying again."
    );
}

// ---------------------------------------------------------------- Responses API

/// A Codex-style Responses request: developer instructions, a user message,
/// a function tool plus hosted tools the gateway cannot carry.
fn codex_style_request(stream: bool) -> Value {
    json!({
        "model": "gpt-5-codex",
        "stream": stream,
        "store": false,
        "include": ["reasoning.encrypted_content"],
        "reasoning": {"summary": "auto"},
        "tool_choice": "auto",
        "parallel_tool_calls": true,
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "You are a coding agent."}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "weather?"}]}
        ],
        "tools": [
            {"type": "function", "name": "get_weather", "description": "Weather", "strict": false,
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
            {"type": "web_search", "external_web_access": false}
        ]
    })
}

#[tokio::test]
async fn responses_stream_is_served_by_anthropic_as_typed_events() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    let r = post(&gw, "/v1/responses", &codex_style_request(true)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), "anthropic");
    let events = parse_sse(&r.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_deref().unwrap_or("")).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let data: Vec<Value> = events
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    for (i, (name, d)) in names.iter().zip(&data).enumerate() {
        assert_eq!(d["type"], *name);
        assert_eq!(d["sequence_number"], i);
    }
    let done = &data[9]["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["output"][0]["content"][0]["text"], "Hello world");
    assert_eq!(done["usage"]["output_tokens"], 15);
    assert_eq!(done["usage"]["input_tokens"], 25);
    let sent = gw.anthropic.calls();
    assert_eq!(sent[0].body["system"], "You are a coding agent.");
    let tools: Vec<&str> = sent[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, ["get_weather"], "hosted tools stay at OpenAI");
}

/// A plain Codex-style Responses request's answer, served by `provider`: a
/// completed response object with the fakes' text.
async fn whole_response_served_by(gw: &Gw, provider: &str) -> Value {
    let r = post(gw, "/v1/responses", &codex_style_request(false)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), provider);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["object"], "response");
    assert!(body["id"].as_str().unwrap().starts_with("resp_"), "{body}");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["output"][0]["type"], "message");
    assert_eq!(body["output"][0]["content"][0]["text"], "Hello world");
    body
}

#[tokio::test]
async fn a_whole_responses_answer_is_served_by_anthropic_as_a_response_object() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    let body = whole_response_served_by(&gw, "anthropic").await;
    assert_eq!(body["usage"]["input_tokens"], 25);
    assert_eq!(body["usage"]["output_tokens"], 15);
    assert_eq!(body["usage"]["total_tokens"], 40);
    assert_eq!(gw.anthropic.calls()[0].path, "/v1/messages");
}

#[tokio::test]
async fn responses_go_to_openai_as_they_are_state_included() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    gw.anthropic.set(Mode::CallsFail(500, api_error_500()));
    let request = codex_style_request(true);
    let r = post(&gw, "/v1/responses", &request).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), "openai");
    let events = parse_sse(&r.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_deref().unwrap_or("")).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.output_item.added",
            "response.output_text.delta",
            "response.output_item.done",
            "response.completed",
        ]
    );
    let sent = gw.openai.calls();
    let native = sent.last().unwrap();
    assert_eq!(native.path, "/v1/responses");
    let mut want = request.clone();
    want["model"] = json!("gpt-4.1"); // openai's `model`: it is not the preferred provider
    assert_eq!(
        native.body, want,
        "OpenAI gets the request unchanged, hosted tools included"
    );
    assert_eq!(native.headers["authorization"], format!("Bearer {OPENAI_KEY}"));

    // State kept at OpenAI: only it can serve this; Anthropic is passed by.
    let mut stateful = codex_style_request(false);
    stateful["previous_response_id"] = json!("resp_abc");
    let r = post(&gw, "/v1/responses", &stateful).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), "openai");
    assert_eq!(r.json::<Value>().await.unwrap()["object"], "response");
    let why = gw.traffic.snapshot()["anthropic"]
        .last_skip
        .clone()
        .unwrap_or_default();
    assert!(why.contains("previous_response_id"), "{why}");
}

#[tokio::test]
async fn responses_fail_over_to_chat_completions_servers_and_need_no_state() {
    let anthropic = start_fake(anthropic_fake).await;
    let openai = start_fake(openai_fake).await;
    let text = two_provider_config(&anthropic.url(), &openai.url(), "", "")
        .replace(r#"kind = "openai""#, r#"kind = "openai-compatible""#);
    let gw = start_with(&text, anthropic, openai, HashMap::new()).await;
    gw.anthropic.set(Mode::CallsFail(500, api_error_500()));
    let body = whole_response_served_by(&gw, "openai").await;
    assert!(body["usage"]["total_tokens"].as_u64().unwrap() > 0, "{body}");
    let sent = gw.openai.calls();
    let chat = sent.last().unwrap();
    assert!(chat.path.ends_with("/chat/completions"), "{}", chat.path);
    assert_eq!(chat.body["messages"][0]["role"], "system");

    // Nobody in this route keeps response state: a clear 400, no call made.
    let calls = gw.openai.calls().len();
    let mut stateful = codex_style_request(false);
    stateful["previous_response_id"] = json!("resp_abc");
    let r = post(&gw, "/v1/responses", &stateful).await;
    assert_eq!(r.status(), 400);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("previous_response_id"),
        "{error}"
    );
    assert_eq!(gw.openai.calls().len(), calls);
}

#[tokio::test]
async fn head_anywhere_and_websocket_upgrades_are_answered_at_once() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    let client = reqwest::Client::new();
    for path in ["/api/hello", "/", "/v1/messages"] {
        let r = client.head(format!("{}{path}", gw.url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "HEAD {path}");
    }
    let r = client
        .get(format!("{}/v1/responses", gw.url))
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405, "no upgrade: the client falls back to HTTP");
    assert!(gw.anthropic.calls().is_empty() && gw.openai.calls().is_empty());
}

/// The gateway's own dispatch (no axum router): an unknown path, a known one
/// asked with the wrong method and a body over the cap each get an error in
/// the protocol of the path, and none reaches a provider.
#[tokio::test]
async fn unknown_paths_wrong_methods_and_oversized_bodies_are_answered_in_the_clients_protocol() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    let client = reqwest::Client::new();

    let r = client
        .post(format!("{}/v1/complete", gw.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error["type"], "error", "Anthropic's shape: {error}");
    assert_eq!(error["error"]["type"], "not_found_error");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/v1/complete"));

    let r = client
        .get(format!("{}/v1/chat/completions", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    let error: Value = r.json().await.unwrap();
    assert_eq!(
        error["error"]["type"], "invalid_request_error",
        "OpenAI's shape: {error}"
    );
    assert!(error.get("type").is_none(), "OpenAI's shape: {error}");

    let r = client
        .post(format!("{}/v1/models", gw.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET");

    // Over the 32 MiB cap: refused before any provider is asked.
    let big = format!(
        r#"{{"model":"x","max_tokens":1,"messages":[],"pad":"{}"}}"#,
        "a".repeat(33 << 20)
    );
    let r = client
        .post(format!("{}/v1/messages", gw.url))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error["error"]["type"], "request_too_large", "{error}");
    assert!(gw.anthropic.calls().is_empty() && gw.openai.calls().is_empty());
}

// ---------------------------------------------------------------- quota, hangs, skips

fn two_provider_config(
    anthropic_base: &str,
    openai_base: &str,
    extra_anthropic: &str,
    gateway: &str,
) -> String {
    format!(
        r#"
use_catalog = false
preferred = "anthropic"
fallback = ["anthropic", "openai"]

[check]
interval_secs = 3600
confirm_secs = 1
failures_to_open = 2
timeout_secs = 1

[gateway]
{gateway}

[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "{anthropic_base}"
status_format = "none"
{extra_anthropic}

[[providers]]
id = "openai"
kind = "openai"
base_url = "{openai_base}/v1"
model = "gpt-4.1"
status_format = "none"
"#
    )
}

#[tokio::test]
async fn quota_and_billing_errors_fail_over_unless_the_provider_says_not() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    let mut body = claude_code_request();
    body["stream"] = json!(false);
    let billing = json!({"type":"error","error":{"type":"billing_error","message":"Your credit balance is too low to access the Anthropic API."}});
    for (status, error) in [
        (402, billing.clone()),
        (
            429,
            json!({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}),
        ),
        (
            429,
            json!({"type":"error","error":{"type":"rate_limit_error","message":"rate limited"}}),
        ),
    ] {
        gw.anthropic.set(Mode::CallsFail(status, error));
        let r = post(&gw, "/v1/messages", &body).await;
        assert_eq!(
            (r.status().as_u16(), provider_header(&r)),
            (200, "openai".into()),
            "after {status}"
        );
    }
    // 404 is about the request: it stays with the client.
    gw.anthropic.set(Mode::CallsFail(
        404,
        json!({"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}),
    ));
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!(
        (r.status().as_u16(), provider_header(&r)),
        (404, "anthropic".into())
    );

    // failover_on_quota = false: the old behaviour, the 402 goes to the client.
    let anthropic = start_fake(anthropic_fake).await;
    let openai = start_fake(openai_fake).await;
    let text = two_provider_config(&anthropic.url(), &openai.url(), "failover_on_quota = false", "");
    let gw = start_with(&text, anthropic, openai, HashMap::new()).await;
    gw.anthropic.set(Mode::CallsFail(402, billing));
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!(
        (r.status().as_u16(), provider_header(&r)),
        (402, "anthropic".into())
    );
    assert!(gw.openai.calls().is_empty());
}

#[tokio::test]
async fn a_hung_upstream_is_abandoned_at_the_headers_timeout_and_count_tokens_estimates() {
    // Accepts connections (the kernel's backlog) and never answers.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_url = format!("http://{}", hung.local_addr().unwrap());
    let anthropic = start_fake(anthropic_fake).await;
    let openai = start_fake(openai_fake).await;
    let text = two_provider_config(&hung_url, &openai.url(), "", "headers_timeout_secs = 1");
    let gw = start_with(&text, anthropic, openai, HashMap::new()).await;
    let started = std::time::Instant::now();
    let r = post(&gw, "/v1/messages", &claude_code_request()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), "openai");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "abandoned after the 1 s headers timeout, not the default"
    );
    let events = parse_sse(&r.text().await.unwrap());
    assert_eq!(events.last().unwrap().0.as_deref(), Some("message_stop"));

    // count_tokens: the only Anthropic API hangs, so the gateway estimates.
    let r = post(&gw, "/v1/messages/count_tokens", &claude_code_request()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[gateway::ESTIMATE_HEADER], "estimate");
    let count: Value = r.json().await.unwrap();
    assert_eq!(count["estimated"], true);
    let tokens = count["input_tokens"].as_u64().unwrap();
    let size = claude_code_request().to_string().len() as u64;
    assert!(tokens > size / 8 && tokens < size, "{tokens} for {size} bytes");
    drop(hung);
}

#[tokio::test]
async fn count_tokens_fails_over_between_anthropic_apis() {
    let anthropic = start_fake(anthropic_fake).await;
    let openai = start_fake(openai_fake).await;
    let second = start_fake(anthropic_fake).await;
    let text = format!(
        "{}\n[[providers]]\nid = \"anthropic-2\"\nkind = \"anthropic\"\nbase_url = \"{}\"\nstatus_format = \"none\"\napi_key_env = \"SECOND_KEY\"\n",
        two_provider_config("http://127.0.0.1:9", &openai.url(), "", ""),
        second.url()
    )
    .replace(
        r#"fallback = ["anthropic", "openai"]"#,
        r#"fallback = ["anthropic", "openai", "anthropic-2"]"#,
    );
    let env = HashMap::from([("SECOND_KEY".to_string(), "sk-ant-second".to_string())]);
    let gw = start_with(&text, anthropic, openai, env).await;
    let r = post(&gw, "/v1/messages/count_tokens", &claude_code_request()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(provider_header(&r), "anthropic-2");
    assert!(r.headers().get(gateway::ESTIMATE_HEADER).is_none());
    assert_eq!(r.json::<Value>().await.unwrap()["input_tokens"], 2095);
}

#[tokio::test]
async fn skipped_providers_and_their_causes_are_in_the_traffic_report() {
    let gw = start_gateway(r#"fallback = ["anthropic", "openai"]"#, HashMap::new()).await;
    gw.anthropic.set(Mode::CallsFail(500, api_error_500()));
    // A document fetched from a URL: nothing OpenAI can read.
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": [
        {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
        {"type": "text", "text": "Summarise"}]}]});
    let r = post(&gw, "/v1/messages", &body).await;
    assert_eq!(
        r.status(),
        500,
        "Anthropic's own error: nobody else could take it"
    );
    let traffic = gw.traffic.snapshot();
    let openai = &traffic["openai"];
    assert_eq!(openai.skipped, 1);
    let why = openai.last_skip.as_deref().unwrap();
    assert!(
        why.contains("cannot be translated") && why.contains("document"),
        "{why}"
    );
    assert!(gw.openai.calls().is_empty());
}

/// Collects what a `tracing` subscriber writes, for tests that read the log.
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_client_retrying_through_a_failing_upstream_writes_one_warning_not_one_per_request() {
    let anthropic = start_fake(anthropic_fake).await;
    let openai = start_fake(openai_fake).await;
    // The engine keeps the provider in the plan (no outage opens from these
    // few failures), so every request really calls it and fails over.
    let text = two_provider_config(&anthropic.url(), &openai.url(), "", "").replace(
        "failures_to_open = 2",
        "failures_to_open = 100\nwindow_failures = 100\nwindow_checks = 100",
    );
    let gw = start_with(&text, anthropic, openai, HashMap::new()).await;
    let log = LogCapture::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test's runtime has one thread: the gateway's tasks log through this too.
    let _default = tracing::subscriber::set_default(subscriber);
    gw.anthropic.set(Mode::CallsFail(500, api_error_500()));
    let mut body = claude_code_request();
    body["stream"] = json!(false);
    for _ in 0..8 {
        let r = post(&gw, "/v1/messages", &body).await;
        assert_eq!(provider_header(&r), "openai");
    }
    assert_eq!(
        gw.anthropic.calls().len(),
        8,
        "every request tried anthropic first"
    );
    assert_eq!(
        gw.traffic.snapshot()["anthropic"].errors,
        8,
        "every failure is counted"
    );
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let warnings = text.matches("gateway call failed").count();
    assert_eq!(
        warnings, 1,
        "one warning for the run of failures, not one per request:\n{text}"
    );
    assert!(text.contains("HTTP 500"), "the warning says what failed:\n{text}");
}

/// An Anthropic client's POST of `body` to `path`, as raw HTTP/1.1 that
/// closes the connection after the answer.
fn raw_post(addr: SocketAddr, path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\n\
         x-api-key: {CLIENT_KEY}\r\nanthropic-version: 2023-06-01\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// One whole HTTP/1.1 exchange over a plain blocking socket: the test's own
/// runtime is held up for as long as it takes. The status code and the raw
/// rest (headers and body).
fn blocking_post(addr: SocketAddr, path: &str, body: &Value) -> (u16, String) {
    use std::io::{Read, Write};
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    // Long enough for a loaded machine; a gateway that shares the blocked
    // runtime never answers, and the read fails here instead of hanging.
    socket.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    socket
        .write_all(raw_post(addr, path, &body.to_string()).as_bytes())
        .unwrap();
    let mut answer = String::new();
    socket
        .read_to_string(&mut answer)
        .expect("the gateway answers while the runtime that started it is blocked");
    let (status_line, rest) = answer.split_once("\r\n").unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    (status, rest.to_string())
}

/// Until nothing accepts on `addr` any more (the gateway's thread let go of
/// its socket), or panics after 10 s.
async fn until_closed(addr: SocketAddr) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "{addr} still accepts");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The running app serves the gateway on a thread of its own
/// (`serve_on_own_thread`): a failover (Anthropic's 500 served by OpenAI,
/// translated) completes while every worker of the runtime that started it is
/// busy (here: blocked outright, on a one-thread runtime), and both ways of
/// stopping it (the shutdown signal, aborting its task) let go of the port.
#[tokio::test(flavor = "current_thread")]
async fn the_gateway_on_its_own_thread_fails_over_while_the_runtime_that_started_it_is_blocked() {
    // The fakes need a runtime of their own: this test blocks its runtime.
    let fakes = tokio::runtime::Runtime::new().unwrap();
    let anthropic = fakes.spawn(start_fake(anthropic_fake)).await.unwrap();
    let openai = fakes.spawn(start_fake(openai_fake)).await.unwrap();
    anthropic.set(Mode::CallsFail(500, api_error_500()));
    let text = two_providers(r#"fallback = ["anthropic", "openai"]"#, &anthropic, &openai);
    let (engine, creds, _dir) = engine_with(&text, HashMap::new()).await;
    let traffic = Arc::new(Traffic::default());
    let start = || async {
        let router = gateway::router(
            engine.clone(),
            creds.clone(),
            traffic.clone(),
            HostPolicy::loopback(),
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = gateway::serve_on_own_thread(listener, router, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
        (addr, stop, task)
    };

    let (addr, stop, task) = start().await;
    let (status, rest) = blocking_post(
        addr,
        "/v1/messages",
        &json!({"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"Say hi"}]}),
    );
    assert_eq!(status, 200, "{rest}");
    assert!(
        rest.to_ascii_lowercase()
            .contains(&format!("{PROVIDER_HEADER}: openai")),
        "served by the fallback:\n{rest}"
    );
    assert!(
        rest.contains(r#""type":"message""#),
        "an Anthropic message:\n{rest}"
    );
    assert_eq!(anthropic.calls().len(), 1, "Anthropic was tried first");
    assert_eq!(openai.calls().len(), 1, "then OpenAI, translated");
    assert_eq!(openai.calls()[0].path, "/v1/chat/completions");

    // The shutdown signal: the task ends once the thread has stopped.
    stop.send(()).unwrap();
    task.await.unwrap();
    until_closed(addr).await;

    // Aborting the task stops the gateway too, like aborting a `serve` task.
    let (addr, _stop, task) = start().await;
    assert!(std::net::TcpStream::connect(addr).is_ok());
    task.abort();
    until_closed(addr).await;
    fakes.shutdown_background();
}

/// `events` as HTTP/1.1 chunks, one event each, as a provider streams them.
fn chunked(events: &[String]) -> String {
    events
        .iter()
        .map(|e| format!("{:x}\r\n{e}\r\n", e.len()))
        .collect()
}

/// An Anthropic upstream that writes each answer in as few `write`s as
/// possible, so what arrives together is known: a model list to a GET; to a
/// POST, the head and the first `burst` of `events` (one HTTP chunk each) in
/// one write, then, once `rest` is notified, the others and the end in a second.
async fn start_burst_upstream(
    events: Vec<String>,
    burst: usize,
    rest: Arc<tokio::sync::Notify>,
) -> SocketAddr {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (events, rest) = (events.clone(), rest.clone());
            tokio::spawn(async move {
                let Some((head, _)) = crate::common::read_request(&mut socket).await else {
                    return;
                };
                if head.starts_with("GET") {
                    let models = json!({"data":[{"type":"model","id":"claude-sonnet-4-5"}],"has_more":false});
                    let body = models.to_string();
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                    return;
                }
                let first = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nrequest-id: req_burst\r\n\
                     transfer-encoding: chunked\r\nconnection: close\r\n\r\n{}",
                    chunked(&events[..burst])
                );
                let _ = socket.write_all(first.as_bytes()).await;
                rest.notified().await;
                let last = format!("{}0\r\n\r\n", chunked(&events[burst..]));
                let _ = socket.write_all(last.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

/// The chunks of an HTTP/1.1 chunked body, in order (the empty last one left out).
fn body_chunks(mut body: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(size.trim(), 16).expect("a hex chunk size");
        if size == 0 {
            return chunks;
        }
        chunks.push(rest[..size].to_string());
        body = &rest[size + 2..];
    }
}

/// A stream's events that arrive together leave the gateway together, in
/// one write (one HTTP chunk), head included; and with bytes in hand it never
/// waits for more: the client has the first burst while the upstream still
/// holds the rest back. Before, each event was a write of its own, one
/// wake-up of the client each.
#[tokio::test]
async fn stream_events_that_arrive_together_leave_in_one_write_and_none_waits_for_the_next() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let events: Vec<String> = anthropic_text_events("claude-sonnet-4-5")
        .into_iter()
        .map(|(name, data)| format!("event: {}\ndata: {data}\n\n", name.unwrap_or_default()))
        .collect();
    let burst = 4;
    let rest = Arc::new(tokio::sync::Notify::new());
    let upstream = start_burst_upstream(events.clone(), burst, rest.clone()).await;
    let text = format!(
        r#"
use_catalog = false
preferred = "anthropic"

[check]
interval_secs = 3600

[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "http://{upstream}"
status_format = "none"
"#
    );
    let (engine, creds, _dir) = engine_with(&text, HashMap::new()).await;
    let router = gateway::router(engine, creds, Arc::default(), HostPolicy::loopback()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _gateway = gateway::serve_on_own_thread(listener, router, std::future::pending())
        .await
        .unwrap();

    let body = json!({"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,
                      "messages":[{"role":"user","content":"Say hello"}]})
    .to_string();
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket
        .write_all(raw_post(addr, "/v1/messages", &body).as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    let burst_seen = tokio::time::timeout(Duration::from_secs(10), async {
        while !String::from_utf8_lossy(&answer).contains("\"Hello\"") {
            let mut chunk = [0u8; 8192];
            let n = socket.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the gateway closed before the first burst");
            answer.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
    assert!(
        burst_seen.is_ok(),
        "the events in hand reach the client before the upstream sends more:\n{}",
        String::from_utf8_lossy(&answer)
    );
    rest.notify_one();
    tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer))
        .await
        .expect("the stream ends")
        .unwrap();

    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let chunks = body_chunks(body);
    let events_of = |text: &str| -> Vec<(Option<String>, Value)> {
        parse_sse(text)
            .into_iter()
            .map(|(n, d)| (n, serde_json::from_str(&d).unwrap()))
            .collect()
    };
    assert_eq!(
        chunks.iter().map(|c| events_of(c)).collect::<Vec<_>>(),
        vec![
            events_of(&events[..burst].concat()),
            events_of(&events[burst..].concat())
        ],
        "two writes, as the upstream's two; got {} chunks:\n{chunks:#?}",
        chunks.len()
    );
}
