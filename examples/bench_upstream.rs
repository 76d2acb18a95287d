//! The fast fake upstream of `bench/gateway.sh`: answers like Anthropic and
//! OpenAI, instantly, on 127.0.0.1, so a benchmark measures what sits between
//! the client and the provider and nothing else.
//!
//! - `POST /v1/messages`: an Anthropic message; with `"stream": true` an SSE
//!   stream of 10 events (`message_start` … `message_stop`), one chunk each.
//! - `POST /v1/chat/completions` (and `/chat/completions`): an OpenAI chat
//!   completion; with `"stream": true` 8 `data:` chunks then `data: [DONE]`.
//! - `POST /v1/responses` (and `/responses`): an OpenAI Responses API object;
//!   with `"stream": true` its typed SSE events (`response.created` …
//!   `response.completed`, 4 text deltas), one chunk each.
//! - `GET /v1/models`, `/models`: a model list (the probes of both kinds).
//!
//! Prints its address (`127.0.0.1:PORT`) on the first line of stdout, then
//! serves until killed.
//!
//! ```text
//! cargo run --release --example bench_upstream -- --listen 127.0.0.1:0 --threads 1
//! ```

use std::convert::Infallible;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[derive(Default)]
struct Counters {
    messages: AtomicU64,
    chat: AtomicU64,
    responses: AtomicU64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(async {
        let counters = Arc::new(Counters::default());
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .route("/v1/chat/completions", post(chat))
            .route("/chat/completions", post(chat))
            .route("/v1/responses", post(responses))
            .route("/responses", post(responses))
            .route("/v1/models", get(models))
            .route("/models", get(models))
            .route("/counters", get(counters_json))
            .with_state(counters);
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        let addr = listener.local_addr()?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{addr}")?;
        out.flush()?;
        drop(out);
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}

/// Whether the JSON request asks for a stream. A real parse: the gateway's
/// translation may reorder or reformat the fields.
fn wants_stream(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("stream").and_then(serde_json::Value::as_bool))
        .unwrap_or(false)
}

fn json(body: &'static str, request_id_header: &'static str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(
        request_id_header,
        HeaderValue::from_static("req_bench0000000000000000"),
    );
    res
}

fn sse(events: &'static [&'static str], request_id_header: &'static str) -> Response {
    // One body frame (one HTTP chunk) per event, as a provider streams them.
    let stream = futures::stream::iter(
        events
            .iter()
            .map(|e| Ok::<_, Infallible>(Bytes::from_static(e.as_bytes()))),
    );
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        request_id_header,
        HeaderValue::from_static("req_bench0000000000000000"),
    );
    res
}

async fn messages(State(c): State<Arc<Counters>>, body: Bytes) -> Response {
    c.messages.fetch_add(1, Ordering::Relaxed);
    if wants_stream(&body) {
        sse(ANTHROPIC_EVENTS, "request-id")
    } else {
        json(ANTHROPIC_MESSAGE, "request-id")
    }
}

async fn chat(State(c): State<Arc<Counters>>, body: Bytes) -> Response {
    c.chat.fetch_add(1, Ordering::Relaxed);
    if wants_stream(&body) {
        sse(OPENAI_CHUNKS, "x-request-id")
    } else {
        json(OPENAI_COMPLETION, "x-request-id")
    }
}

async fn responses(State(c): State<Arc<Counters>>, body: Bytes) -> Response {
    c.responses.fetch_add(1, Ordering::Relaxed);
    if wants_stream(&body) {
        sse(RESPONSES_EVENTS, "x-request-id")
    } else {
        json(RESPONSES_OBJECT, "x-request-id")
    }
}

async fn models() -> Response {
    json(MODELS, "request-id")
}

async fn counters_json(State(c): State<Arc<Counters>>) -> Response {
    let body = format!(
        r#"{{"messages":{},"chat_completions":{},"responses":{}}}"#,
        c.messages.load(Ordering::Relaxed),
        c.chat.load(Ordering::Relaxed),
        c.responses.load(Ordering::Relaxed)
    );
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

const MODELS: &str = r#"{"object":"list","data":[{"type":"model","object":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z","created":1759104000,"owned_by":"anthropic"},{"type":"model","object":"model","id":"gpt-4.1","display_name":"GPT-4.1","created_at":"2025-04-14T00:00:00Z","created":1744588800,"owned_by":"system"}],"has_more":false,"first_id":"claude-sonnet-4-5-20250929","last_id":"gpt-4.1"}"#;

const ANTHROPIC_MESSAGE: &str = r#"{"id":"msg_01BenchBenchBenchBenchBench","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello! How can I help you today?"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":10,"service_tier":"standard"}}"#;

const ANTHROPIC_EVENTS: &[&str] = &[
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01BenchBenchBenchBenchBench\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1,\"service_tier\":\"standard\"}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: ping\ndata: {\"type\":\"ping\"}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello!\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" How can I\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" help you\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" today?\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":10}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
];

const OPENAI_COMPLETION: &str = r#"{"id":"chatcmpl-BenchBenchBenchBenchBenchBench","object":"chat.completion","created":1764000000,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":10,"total_tokens":22},"service_tier":"default","system_fingerprint":"fp_bench"}"#;

const OPENAI_CHUNKS: &[&str] = &[
    "data: {\"id\":\"chatcmpl-Bench\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_bench\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-Bench\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_bench\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello!\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-Bench\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_bench\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" How can I\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-Bench\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_bench\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" help you\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-Bench\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_bench\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" today?\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-Bench\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_bench\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n",
    "data: {\"id\":\"chatcmpl-Bench\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"gpt-4.1-2025-04-14\",\"system_fingerprint\":\"fp_bench\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":10,\"total_tokens\":22}}\n\n",
    "data: [DONE]\n\n",
];

const RESPONSES_OBJECT: &str = r#"{"id":"resp_bench0000000000000000","object":"response","created_at":1764000000,"status":"completed","error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":64,"model":"gpt-4.1-2025-04-14","output":[{"type":"message","id":"msg_bench0000000000000000","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hello! How can I help you today?","annotations":[]}]}],"parallel_tool_calls":true,"previous_response_id":null,"store":false,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":0},"output_tokens":10,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":22},"metadata":{}}"#;

const RESPONSES_EVENTS: &[&str] = &[
    "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_bench0000000000000000\",\"object\":\"response\",\"created_at\":1764000000,\"status\":\"in_progress\",\"model\":\"gpt-4.1-2025-04-14\",\"output\":[],\"usage\":null}}\n\n",
    "event: response.in_progress\ndata: {\"type\":\"response.in_progress\",\"sequence_number\":1,\"response\":{\"id\":\"resp_bench0000000000000000\",\"object\":\"response\",\"created_at\":1764000000,\"status\":\"in_progress\",\"model\":\"gpt-4.1-2025-04-14\",\"output\":[],\"usage\":null}}\n\n",
    "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":2,\"output_index\":0,\"item\":{\"type\":\"message\",\"id\":\"msg_bench0000000000000000\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}}\n\n",
    "event: response.content_part.added\ndata: {\"type\":\"response.content_part.added\",\"sequence_number\":3,\"item_id\":\"msg_bench0000000000000000\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\",\"annotations\":[]}}\n\n",
    "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"item_id\":\"msg_bench0000000000000000\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hello!\"}\n\n",
    "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":5,\"item_id\":\"msg_bench0000000000000000\",\"output_index\":0,\"content_index\":0,\"delta\":\" How can I\"}\n\n",
    "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":6,\"item_id\":\"msg_bench0000000000000000\",\"output_index\":0,\"content_index\":0,\"delta\":\" help you\"}\n\n",
    "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":7,\"item_id\":\"msg_bench0000000000000000\",\"output_index\":0,\"content_index\":0,\"delta\":\" today?\"}\n\n",
    "event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"sequence_number\":8,\"item_id\":\"msg_bench0000000000000000\",\"output_index\":0,\"content_index\":0,\"text\":\"Hello! How can I help you today?\"}\n\n",
    "event: response.content_part.done\ndata: {\"type\":\"response.content_part.done\",\"sequence_number\":9,\"item_id\":\"msg_bench0000000000000000\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"Hello! How can I help you today?\",\"annotations\":[]}}\n\n",
    "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":10,\"output_index\":0,\"item\":{\"type\":\"message\",\"id\":\"msg_bench0000000000000000\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hello! How can I help you today?\",\"annotations\":[]}]}}\n\n",
    "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":11,\"response\":{\"id\":\"resp_bench0000000000000000\",\"object\":\"response\",\"created_at\":1764000000,\"status\":\"completed\",\"model\":\"gpt-4.1-2025-04-14\",\"output\":[{\"type\":\"message\",\"id\":\"msg_bench0000000000000000\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hello! How can I help you today?\",\"annotations\":[]}]}],\"usage\":{\"input_tokens\":12,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":10,\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":22}}}\n\n",
];
