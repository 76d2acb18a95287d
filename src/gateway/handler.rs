//! The gateway's HTTP side: the endpoints, and the failover loop that walks the
//! route plan until a provider serves the request.
//!
//! The rule that keeps output honest: a provider is committed to as soon as a
//! byte of its answer goes to the client. Before that, any retryable failure
//! (an error status, a dead connection, an error as the stream's first event)
//! moves on to the next provider; after it, a failure ends the stream with an
//! error event and is never retried, so no answer is ever duplicated or spliced.

use std::future::Future as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use serde_json::{json, Value};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::access::protocol_of_path;
use super::client::UpstreamResponse;
use super::keys::Keys;
use super::relay::{Broken, EventSource, UpstreamEvent, Writer};
use super::route::{self, Candidate, Dialect};
use super::translate;
use super::upstream::{self, ClientRequest, Failure, PrepareError};
use super::wire::{anthropic, openai, Protocol};
use crate::config::GatewayConfig;
use crate::engine::EngineHandle;
use crate::net::HostPolicy;
use crate::traffic::Traffic;
use crate::upstream::{vertex, Auth};

/// Names the provider that served (or, on an error, the last one tried).
pub const PROVIDER_HEADER: &str = "x-switchboard-provider";

/// Upstream headers passed back to the client when the protocols match.
const FORWARDED_HEADERS: &[&str] = &["retry-after", "request-id", "x-request-id"];

/// Shared by every request.
pub(crate) struct Gateway {
    pub(super) engine: EngineHandle,
    pub(super) keys: Keys,
    pub(super) client: super::client::UpstreamClient,
    pub(super) traffic: Arc<Traffic>,
    pub(super) hosts: HostPolicy,
    pub(super) plans: Plans,
}

/// The route plans of the config and engine report in use, per client
/// protocol: built again only when either changes (a reload, a check round),
/// not per request, which would copy every candidate provider's settings.
#[derive(Default)]
pub(super) struct Plans {
    latest: std::sync::Mutex<Vec<CachedPlan>>,
}

struct CachedPlan {
    /// Held, so their addresses identify them while cached.
    config: Arc<crate::config::Config>,
    report: Arc<crate::model::StatusReport>,
    protocol: Protocol,
    plan: Arc<[Candidate]>,
}

impl Plans {
    fn get(
        &self,
        config: &Arc<crate::config::Config>,
        report: &Arc<crate::model::StatusReport>,
        protocol: Protocol,
    ) -> Arc<[Candidate]> {
        let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(hit) = latest.iter().find(|c| {
            c.protocol == protocol && Arc::ptr_eq(&c.config, config) && Arc::ptr_eq(&c.report, report)
        }) {
            return hit.plan.clone();
        }
        let plan: Arc<[Candidate]> = route::plan(config, report, protocol).into();
        latest.retain(|c| c.protocol != protocol);
        latest.push(CachedPlan {
            config: config.clone(),
            report: report.clone(),
            protocol,
            plan: plan.clone(),
        });
        plan
    }
}

impl Gateway {
    /// Answers one request: the door, then the endpoint its method and path
    /// name. Takes the shared state by `Arc`, as hyper wants a future that
    /// owns what it uses.
    pub(super) async fn answer(self: Arc<Self>, request: hyper::Request<Incoming>) -> Response {
        if let Some(turned_away) = self.door(&request) {
            return turned_away;
        }
        let (parts, body) = request.into_parts();
        let endpoint = match Endpoint::of(parts.uri.path()) {
            Some(e) => e,
            None => return not_found(parts.uri.path()),
        };
        match (endpoint, parts.method) {
            (Endpoint::Models, Method::GET) => self.models(),
            (Endpoint::Responses, Method::GET) => responses_websocket(),
            (endpoint, Method::POST) if endpoint != Endpoint::Models => {
                let protocol = endpoint.protocol();
                let body = match read_body(body, protocol).await {
                    Ok(b) => b,
                    Err(response) => return *response,
                };
                let headers = &parts.headers;
                match endpoint {
                    Endpoint::Responses => self.responses(headers, body).await,
                    Endpoint::CountTokens => self.count_tokens(headers, body).await,
                    _ => self.handle(protocol, headers, body).await,
                }
            }
            (endpoint, _) => method_not_allowed(endpoint),
        }
    }

    /// Every gateway request passes this door before its endpoint, and is
    /// turned away in this order: a `Host` that is not this machine (DNS
    /// rebinding, as the dashboard refuses it); what [`super::access`]
    /// refuses (web pages, non-JSON bodies, a missing client token); then
    /// `HEAD` on any path is answered at once (Claude Code checks
    /// connectivity with `HEAD /api/hello` at start; an empty 200 says
    /// "reachable", whatever the path).
    fn door(&self, request: &hyper::Request<Incoming>) -> Option<Response> {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !self.hosts.allows(host) {
            return Some(error_response(
                protocol_of_path(request.uri().path()),
                StatusCode::FORBIDDEN,
                "permission_error",
                "this gateway only answers requests addressed to localhost",
                None,
            ));
        }
        if let Some(refused) = super::access::refusal(&self.engine, request) {
            return Some(refused);
        }
        (request.method() == Method::HEAD).then(|| StatusCode::OK.into_response())
    }
}

/// The gateway's endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Messages,
    ChatCompletions,
    Responses,
    CountTokens,
    Models,
}

impl Endpoint {
    fn of(path: &str) -> Option<Endpoint> {
        Some(match path {
            "/v1/messages" => Endpoint::Messages,
            "/v1/chat/completions" => Endpoint::ChatCompletions,
            "/v1/responses" => Endpoint::Responses,
            "/v1/messages/count_tokens" => Endpoint::CountTokens,
            "/v1/models" => Endpoint::Models,
            _ => return None,
        })
    }

    /// The protocol of the endpoint's requests and errors.
    fn protocol(self) -> Protocol {
        match self {
            Endpoint::ChatCompletions | Endpoint::Responses => Protocol::OpenAi,
            Endpoint::Messages | Endpoint::CountTokens | Endpoint::Models => Protocol::Anthropic,
        }
    }

    /// The methods it answers, for `Allow`.
    fn method(self) -> &'static str {
        match self {
            Endpoint::Models => "GET",
            Endpoint::Responses => "GET, POST",
            _ => "POST",
        }
    }
}

/// A request body, read whole under [`super::BODY_LIMIT`]; or the answer
/// that says why it could not be (413 in the client's protocol when too
/// large, 400 when the client stopped sending it).
async fn read_body(body: Incoming, protocol: Protocol) -> Result<Bytes, Box<Response>> {
    match http_body_util::Limited::new(body, super::BODY_LIMIT)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(Box::new(error_response(
            protocol,
            StatusCode::PAYLOAD_TOO_LARGE,
            error_type(protocol, StatusCode::PAYLOAD_TOO_LARGE),
            &format!(
                "the request body is larger than the gateway accepts ({} MiB)",
                super::BODY_LIMIT / (1024 * 1024)
            ),
            None,
        ))),
        Err(e) => Err(Box::new(error_response(
            protocol,
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            &format!("the request body could not be read: {e}"),
            None,
        ))),
    }
}

/// The error `type` the client's protocol uses for `status`.
fn error_type(protocol: Protocol, status: StatusCode) -> &'static str {
    let (anthropic, openai) = translate::error_types_for_status(status.as_u16());
    match protocol {
        Protocol::Anthropic => anthropic,
        Protocol::OpenAi => openai,
    }
}

/// A known path asked with a method it does not answer.
fn method_not_allowed(endpoint: Endpoint) -> Response {
    let allow = endpoint.method();
    let mut response = error_response(
        endpoint.protocol(),
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        &format!("this endpoint answers {allow} only"),
        None,
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// `GET /v1/responses`: the Codex CLI first tries a WebSocket upgrade here
/// (seven times) before it falls back to HTTP; a plain refusal at once lets
/// it fall back without the waits.
fn responses_websocket() -> Response {
    error_response(
        Protocol::OpenAi,
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        "the Switchboard gateway serves the Responses API over HTTP POST only (no WebSocket)",
        None,
    )
}

impl Gateway {
    /// `POST /v1/responses` (OpenAI Responses API): passed as is to OpenAI,
    /// translated to Chat Completions for any other provider (when one is
    /// tried, see [`upstream::ResponsesBody`]), served like
    /// `/v1/chat/completions` (same route, same failover), answered as Responses
    /// objects and events. See [`translate::responses_to_chat_request`] for what
    /// is carried.
    async fn responses(&self, headers: &HeaderMap, body: Bytes) -> Response {
        // `model` and `stream` have the same names and meaning in both APIs.
        let mut req = match parse(Protocol::OpenAi, body, headers) {
            Ok(r) => r,
            Err(response) => return *response,
        };
        req.responses = Some(upstream::ResponsesBody::default());
        self.serve(req).await
    }

    /// `POST /v1/messages/count_tokens` (Claude Code may ask it to size its
    /// context): answered by the Anthropic APIs of the route in order, failing
    /// over like a generation (an error status, a dead or hung connection moves
    /// on; the client's own 4xx is answered). Only Anthropic counts Claude tokens
    /// (Bedrock and Vertex are not asked); when none can answer, an estimate
    /// (about four bytes of text a token) is returned, marked as such with
    /// `"estimated": true` and the [`ESTIMATE_HEADER`] header.
    async fn count_tokens(&self, headers: &HeaderMap, body: Bytes) -> Response {
        let req = match parse(Protocol::Anthropic, body, headers) {
            Ok(r) => r,
            Err(response) => return *response,
        };
        let (config, plan) = self.plan(Protocol::Anthropic);
        let wait = config.gateway.headers_timeout;
        let mut tried = Vec::new();
        for candidate in plan.iter().filter(|c| c.dialect == Dialect::Anthropic) {
            let id = &candidate.provider.id;
            let auth = match self.auth(candidate).await {
                Ok(a) => a,
                Err(why) => {
                    self.skipped(id, &why);
                    continue;
                }
            };
            let request = upstream::build(
                self.client.builder(),
                &req,
                candidate,
                &upstream::UpstreamBody::Raw(req.raw.clone()),
                &auth,
            )
            .map(|mut r| {
                let url = crate::http::join_path(r.url(), "count_tokens");
                *r.url_mut() = url;
                r
            });
            let Ok(request) = request else { continue };
            let answer = match tokio::time::timeout(wait, self.client.send(request)).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    tried.push(format!("{id}: {}", crate::probe::classify::root_cause(&e)));
                    continue;
                }
                Err(_) => {
                    tried.push(format!("{id}: no answer within {} s", wait.as_secs()));
                    continue;
                }
            };
            let status = answer.status();
            if status.is_server_error() || matches!(status.as_u16(), 402 | 408 | 429) {
                tried.push(format!("{id}: HTTP {}", status.as_u16()));
                continue;
            }
            let read = super::limits::read_capped(answer, super::limits::MAX_COUNT_TOKENS_BYTES);
            let Ok(Ok(bytes)) = tokio::time::timeout(wait, read).await else {
                tried.push(format!("{id}: the answer broke off"));
                continue;
            };
            return json_answer(status, id, &HeaderMap::new(), &[])
                .body(Body::from(bytes))
                .unwrap_or_else(|_| internal_error(Protocol::Anthropic));
        }
        if !tried.is_empty() {
            warn!(
                "count_tokens: no Anthropic API answered ({}); estimating",
                tried.join("; ")
            );
        }
        let estimate = translate::estimate_tokens(&req.raw);
        let mut response = axum::Json(json!({"input_tokens": estimate, "estimated": true})).into_response();
        response
            .headers_mut()
            .insert(ESTIMATE_HEADER, HeaderValue::from_static("estimate"));
        response
    }

    /// `GET /v1/models`: one list both SDKs can read (OpenAI's `object`/`owned_by`
    /// and Anthropic's `type`/`display_name`/`has_more` side by side), naming the
    /// model each serving provider is configured with.
    fn models(&self) -> Response {
        let mut seen = Vec::new();
        let data: Vec<Value> = self
            .plan(Protocol::Anthropic)
            .1
            .iter()
            .filter_map(|c| {
                let model = c.provider.model.clone()?;
                if seen.contains(&model) {
                    return None;
                }
                seen.push(model.clone());
                Some(json!({
                    "id": model,
                    "object": "model",
                    "type": "model",
                    "created": 0,
                    "created_at": "1970-01-01T00:00:00Z",
                    "owned_by": c.provider.id,
                    "display_name": format!("{} on {}", model, c.provider.name),
                }))
            })
            .collect();
        let first = data.first().and_then(|m| m.get("id")).cloned();
        let last = data.last().and_then(|m| m.get("id")).cloned();
        axum::Json(json!({
            "object": "list",
            "data": data,
            "has_more": false,
            "first_id": first,
            "last_id": last,
        }))
        .into_response()
    }
}

/// Set on a `count_tokens` answer the gateway estimated itself.
pub const ESTIMATE_HEADER: &str = "x-switchboard-token-count";

/// Any other path: an error in the protocol the client most likely speaks.
fn not_found(path: &str) -> Response {
    error_response(
        protocol_of_path(path),
        StatusCode::NOT_FOUND,
        "not_found_error",
        &format!("the Switchboard gateway has no endpoint {path}; it serves /v1/messages, /v1/chat/completions, /v1/responses and /v1/models"),
        None,
    )
}

/// The client's request, or the 400 that says why it is not one.
fn parse(protocol: Protocol, body: Bytes, headers: &HeaderMap) -> Result<ClientRequest, Box<Response>> {
    ClientRequest::parse(protocol, body, headers).map_err(|e| {
        Box::new(error_response(
            protocol,
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            &e.to_string(),
            None,
        ))
    })
}

impl Gateway {
    /// The config in use and the providers to try, from the engine's latest report.
    fn plan(&self, protocol: Protocol) -> (Arc<crate::config::Config>, Arc<[Candidate]>) {
        let config = self.engine.current_config();
        let report = self.engine.status();
        let plan = self.plans.get(&config, &report, protocol);
        (config, plan)
    }

    async fn handle(&self, protocol: Protocol, headers: &HeaderMap, body: Bytes) -> Response {
        match parse(protocol, body, headers) {
            Ok(req) => self.serve(req).await,
            Err(response) => *response,
        }
    }

    /// Records that a request passed provider `id` by, and logs the cause at
    /// the default level the first time it is seen for that provider (the
    /// dashboard shows the latest through `/api/gateway`).
    fn skipped(&self, id: &str, why: &str) {
        if self.traffic.skipped(id, why) {
            warn!(provider = %id, "gateway skips {id}: {why}");
        }
    }

    /// Walks the route plan until a provider serves `req`.
    async fn serve(&self, req: ClientRequest) -> Response {
        let protocol = req.protocol;
        let (config, plan) = self.plan(protocol);
        // Providers the engine reports failing go last (see route::plan): the
        // ones put behind a healthy provider are skipped for this request
        // unless everything before them fails.
        if plan.first().is_some_and(|c| !c.state.is_failing()) {
            for c in plan.iter().filter(|c| c.state.is_failing()) {
                self.skipped(
                    &c.provider.id,
                    &format!(
                        "{} reported by the engine: tried only after the healthy providers",
                        c.state.as_str()
                    ),
                );
            }
        }
        let mut last: Option<(String, Failure)> = None;
        let mut skipped: Vec<String> = Vec::new();
        for candidate in plan.iter() {
            let id = candidate.provider.id.clone();
            // Served by anyone but the preferred provider: it was down or failed.
            let failover = config.preferred.as_deref() != Some(id.as_str());
            let outcome = self.attempt(&req, candidate, failover, &config.gateway).await;
            if !matches!(outcome, Attempt::Skip(_)) {
                // The model the user relies on: watched for 24 h (DESIGN "models").
                if let Some(model) = candidate.model(req.model()) {
                    if self.traffic.used_model(&id, model) {
                        self.engine.report_model_used(&id, model);
                    }
                }
            }
            match outcome {
                Attempt::Served(response) => return response,
                Attempt::Skip(why) => {
                    self.skipped(&id, &why);
                    skipped.push(format!("{id}: {why}"));
                }
                Attempt::Failed(failure) => {
                    let retry = failure.retryable(candidate.provider.failover_on_quota);
                    let words = failure.report.summary();
                    let log = self.traffic.failed(&id, words.clone());
                    if failure.is_provider_failure() {
                        self.engine.report_failure(&id, failure.report.clone());
                    }
                    if failure.status == Some(401) {
                        self.keys.invalidate(&id);
                    }
                    if !retry {
                        // The provider's own answer about this request: give it to the client.
                        self.traffic.served(&id, failover);
                        return self.failure_response(&req, candidate, &failure);
                    }
                    log_failed_call(
                        &id,
                        log,
                        format_args!("gateway call failed ({words}); trying the next provider"),
                    );
                    last = Some((id, failure));
                }
            }
        }
        // A Responses request no OpenAI API could take as is, and no other
        // provider could take translated.
        let untranslatable = req.responses.as_ref().and_then(|r| r.untranslatable());
        match (last, untranslatable) {
            (Some((id, failure)), _) => {
                let candidate = plan.iter().find(|c| c.provider.id == id);
                match candidate {
                    Some(c) => self.failure_response(&req, c, &failure),
                    None => error_response(
                        protocol,
                        StatusCode::BAD_GATEWAY,
                        "api_error",
                        &failure.report.summary(),
                        Some(&id),
                    ),
                }
            }
            (None, Some(why)) => error_response(
                protocol,
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                &format!("{why}; no OpenAI API in the route could take it as is"),
                None,
            ),
            (None, None) => {
                let why = if skipped.is_empty() {
                    "no provider that can serve requests is enabled (check `preferred` and `fallback`)"
                        .to_string()
                } else {
                    format!("no provider could take the request ({})", skipped.join("; "))
                };
                error_response(protocol, StatusCode::SERVICE_UNAVAILABLE, "api_error", &why, None)
            }
        }
    }

    /// One provider's try.
    async fn attempt(
        &self,
        req: &ClientRequest,
        candidate: &Candidate,
        failover: bool,
        limits: &GatewayConfig,
    ) -> Attempt {
        let p = &candidate.provider;
        let auth = match self.auth(candidate).await {
            Ok(a) => a,
            Err(why) => return Attempt::Skip(why),
        };
        let model = candidate.model(req.model()).unwrap_or_default().to_string();
        let body = match upstream::body_for(req, candidate, &model) {
            Ok(b) => b,
            Err(e) => return Attempt::Skip(e.to_string()),
        };
        let request = match upstream::build(self.client.builder(), req, candidate, &body, &auth) {
            Ok(r) => r,
            Err(e) => return Attempt::Skip(e.to_string()),
        };
        let started = Instant::now();
        // A stream's headers come at once from a healthy upstream; a whole
        // answer's only with the finished generation.
        let wait = if req.stream() {
            limits.headers_timeout
        } else {
            limits.total_timeout
        };
        let response = match tokio::time::timeout(wait, self.client.send(request)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Attempt::Failed(Failure::transport(&e, started)),
            Err(_) => {
                return Attempt::Failed(Failure::broken_stream(
                    format!("no answer within {} s", wait.as_secs()),
                    started,
                ))
            }
        };
        if !response.status().is_success() {
            if response.status().as_u16() == 401 && candidate.dialect == Dialect::Vertex {
                vertex::token_source(p, self.keys.credentials()).invalidate();
            }
            let failure = upstream::read_failure(p.kind, response, started, limits.headers_timeout).await;
            return Attempt::Failed(failure.redact(&auth.secrets()));
        }
        if req.stream() {
            let redactor = super::redact::Redactor::new(&auth.secrets());
            self.stream(req, candidate, response, started, failover, limits, redactor)
                .await
        } else {
            self.whole(req, candidate, response, started, failover, limits)
                .await
        }
    }

    async fn auth(&self, candidate: &Candidate) -> Result<Auth, String> {
        let p = &candidate.provider;
        match candidate.dialect {
            Dialect::Bedrock => self
                .keys
                .bedrock(p)
                .await
                .map(Auth::Bedrock)
                .ok_or_else(|| "no Bedrock API key or AWS credentials".to_string()),
            Dialect::Vertex => {
                let target = vertex::VertexTarget::resolve(p, &**self.keys.credentials().env())
                    .map_err(|e| e.to_string())?;
                let token = vertex::access_token(p, self.keys.credentials())
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Auth::Vertex(target, token))
            }
            Dialect::Anthropic | Dialect::OpenAiChat => {
                let key = self.keys.get(p).await;
                if key.is_none() && p.needs_key() {
                    return Err(PrepareError::NoCredential(p.id.clone()).to_string());
                }
                Ok(Auth::Key(key))
            }
        }
    }

    /// A non-streamed answer: read whole, then translated if needed.
    async fn whole(
        &self,
        req: &ClientRequest,
        candidate: &Candidate,
        response: UpstreamResponse,
        started: Instant,
        failover: bool,
        limits: &GatewayConfig,
    ) -> Attempt {
        let id = &candidate.provider.id;
        let upstream_headers = response.headers().clone();
        let remaining = limits.total_timeout.saturating_sub(started.elapsed());
        let read = super::limits::read_capped(response, super::limits::MAX_ANSWER_BYTES);
        let bytes = match tokio::time::timeout(remaining, read).await {
            Ok(Ok(b)) => b,
            Ok(Err(super::limits::ReadError::Transport(e))) => {
                return Attempt::Failed(Failure::transport(&e, started))
            }
            Ok(Err(e @ super::limits::ReadError::TooLarge { .. })) => {
                return Attempt::Failed(Failure::broken_stream(e.to_string(), started))
            }
            Err(_) => {
                return Attempt::Failed(Failure::broken_stream(
                    "the answer did not finish in time".into(),
                    started,
                ))
            }
        };
        let upstream_protocol = candidate.dialect.protocol();
        let body = if req.responses.is_some() && !upstream::native_responses(req, candidate) {
            responses_whole(upstream_protocol, &bytes)
        } else if upstream_protocol == req.protocol {
            Ok(bytes)
        } else {
            translate_whole(req.protocol, &bytes)
        };
        let body = match body {
            Ok(body) => body,
            Err(e) => {
                return Attempt::Failed(Failure::broken_stream(format!("unreadable answer: {e}"), started))
            }
        };
        self.traffic.served(id, failover);
        info!(provider = %id, failover, ms = started.elapsed().as_millis() as u64, "gateway served");
        let forwarded = if upstream_protocol == req.protocol {
            FORWARDED_HEADERS
        } else {
            &[]
        };
        Attempt::Served(
            json_answer(StatusCode::OK, id, &upstream_headers, forwarded)
                .body(Body::from(body))
                .unwrap_or_else(|_| internal_error(req.protocol)),
        )
    }

    /// A streamed answer: wait for the first event (still free to fail over),
    /// then commit and relay the rest from a task.
    #[allow(clippy::too_many_arguments)]
    async fn stream(
        &self,
        req: &ClientRequest,
        candidate: &Candidate,
        response: UpstreamResponse,
        started: Instant,
        failover: bool,
        limits: &GatewayConfig,
        redactor: super::redact::Redactor,
    ) -> Attempt {
        let model = candidate.model(req.model()).unwrap_or_default();
        let id = candidate.provider.id.clone();
        let mut source = EventSource::new(response, candidate.dialect, limits.idle_timeout);
        let deadline = started + limits.total_timeout;
        let total_secs = limits.total_timeout.as_secs();
        let first = match source.next().await {
            Ok(Some(UpstreamEvent::Error {
                status,
                error_type,
                message,
            })) => {
                return Attempt::Failed(redactor.failure(Failure::in_stream(
                    candidate.provider.kind,
                    status,
                    &error_type,
                    &redactor.text(&message),
                    started,
                )))
            }
            Ok(Some(event)) => event,
            Ok(None) => {
                return Attempt::Failed(Failure::broken_stream(
                    "the stream ended before its first event".into(),
                    started,
                ))
            }
            Err(e) => return Attempt::Failed(Failure::broken_stream(e.0, started)),
        };
        self.traffic.served(&id, failover);
        info!(provider = %id, failover, "gateway streaming");
        let writer = if upstream::native_responses(req, candidate) {
            Writer::responses_pass()
        } else if req.responses.is_some() {
            Writer::responses(candidate.dialect.protocol(), model)
        } else {
            Writer::new(
                req.protocol,
                candidate.dialect.protocol(),
                model,
                req.include_usage(),
            )
        };
        let mut relay = Relay {
            source,
            writer,
            out: BytesMut::with_capacity(RELAY_BUFFER),
            deadline,
            total_secs,
            id,
            kind: candidate.provider.kind,
            started,
            redactor,
            engine: self.engine.clone(),
            traffic: self.traffic.clone(),
            ended: false,
        };
        relay.writer.write(first, &mut relay.out);
        // Before the head is sent, so what is ready leaves with it. The body
        // is polled by the connection's own task: no relay task and no
        // channel between them.
        relay.gather().await;
        let body = futures::stream::unfold(relay, |mut relay| async move {
            let bytes = relay.next_bytes().await?;
            Some((Ok::<_, std::io::Error>(bytes), relay))
        });
        let response = Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-cache")
            .header(PROVIDER_HEADER, provider_value(&candidate.provider.id))
            .body(Body::from_stream(body));
        Attempt::Served(response.unwrap_or_else(|_| internal_error(req.protocol)))
    }

    /// The response for a provider's failure, in the client's protocol.
    fn failure_response(&self, req: &ClientRequest, candidate: &Candidate, failure: &Failure) -> Response {
        let id = &candidate.provider.id;
        if let Some(mapped) = cloud_error(req, candidate, failure) {
            let status = StatusCode::from_u16(mapped.status).unwrap_or(StatusCode::BAD_GATEWAY);
            return json_answer(status, id, &failure.headers, &["retry-after"])
                .body(Body::from(mapped.to_anthropic_json().to_string()))
                .unwrap_or_else(|_| internal_error(Protocol::Anthropic));
        }
        let status = failure
            .status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::BAD_GATEWAY);
        // Bedrock's and Google's envelopes were mapped above: what passes as
        // is here is the upstream's own answer in the client's protocol.
        let same = candidate.dialect.protocol() == req.protocol;
        if same && failure.status.is_some() && serde_json::from_slice::<Value>(&failure.body).is_ok() {
            return json_answer(status, id, &failure.headers, FORWARDED_HEADERS)
                .body(Body::from(failure.body.clone()))
                .unwrap_or_else(|_| internal_error(req.protocol));
        }
        let message = format!("{}: {}", candidate.provider.name, failure.report.summary());
        let mut response = error_response(
            req.protocol,
            status,
            error_type(req.protocol, status),
            &message,
            Some(id),
        );
        if let Some(v) = failure.headers.get(header::RETRY_AFTER) {
            response.headers_mut().insert(header::RETRY_AFTER, v.clone());
        }
        response
    }
}

/// Bedrock's `{"message"}` with `x-amzn-ErrorType`, and Google's
/// `{"error":{"code","status"}}` from Vertex, in Anthropic's words for an
/// Anthropic client: the status and type their error names map to
/// (`ThrottlingException` is a 429 `rate_limit_error`,
/// `ServiceUnavailableException` a 529 `overloaded_error`). `None` for a
/// Vertex answer already in Anthropic's envelope (model errors) and every
/// other case.
fn cloud_error(
    req: &ClientRequest,
    candidate: &Candidate,
    failure: &Failure,
) -> Option<super::bedrock::MappedError> {
    let code = failure.status?;
    if req.protocol != Protocol::Anthropic {
        return None;
    }
    match candidate.dialect {
        Dialect::Bedrock => Some(super::bedrock::error_from_response(
            code,
            &failure.headers,
            &failure.body,
        )),
        Dialect::Vertex => {
            let envelope = serde_json::from_slice::<Value>(&failure.body).ok();
            if envelope.is_some_and(|v| v["type"] == "error" && v["error"]["type"].is_string()) {
                return None;
            }
            Some(super::vertex::error_from_response(code, &failure.body))
        }
        Dialect::Anthropic | Dialect::OpenAiChat => None,
    }
}

/// A JSON answer on behalf of provider `id`, carrying the upstream's headers
/// named in `forwarded`.
fn json_answer(
    status: StatusCode,
    id: &str,
    upstream: &HeaderMap,
    forwarded: &[&str],
) -> axum::http::response::Builder {
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(PROVIDER_HEADER, provider_value(id));
    for name in forwarded {
        if let Some(v) = upstream.get(*name) {
            builder = builder.header(*name, v.clone());
        }
    }
    builder
}

/// Logs a failed upstream call as [`Traffic::failed`] asks: a warning at most
/// once a minute per provider (saying how many went unlogged), debug otherwise.
fn log_failed_call(id: &str, unlogged: Option<u64>, what: std::fmt::Arguments<'_>) {
    match unlogged {
        Some(0) => warn!(provider = %id, "{what}"),
        Some(more) => {
            warn!(provider = %id, "{what} ({more} more failed calls to {id} since the last warning)")
        }
        None => debug!(provider = %id, "{what}"),
    }
}

enum Attempt {
    /// Committed: this is the client's response.
    Served(Response),
    /// The provider failed; see [`Failure::retryable`] for what happens next.
    Failed(Failure),
    /// The provider could not be asked (no credential, untranslatable request).
    Skip(String),
}

/// One committed stream: upstream events in, the client's bytes out. It is
/// the response body, so it runs when the client's connection asks for
/// bytes; a client that goes away drops it, and with it the upstream call.
struct Relay {
    source: EventSource,
    writer: Writer,
    /// Encoded events not yet handed to the connection.
    out: BytesMut,
    deadline: Instant,
    total_secs: u64,
    id: String,
    kind: crate::model::ProviderKind,
    started: Instant,
    redactor: super::redact::Redactor,
    engine: EngineHandle,
    traffic: Arc<Traffic>,
    /// The stream's end was written (or found): nothing more to send.
    ended: bool,
}

impl Relay {
    /// The client's next bytes: every event that is ready, written as one
    /// buffer; `None` after the end.
    async fn next_bytes(&mut self) -> Option<Bytes> {
        // An event the client's protocol has no words for writes nothing:
        // wait for the next one rather than end the body.
        while self.out.is_empty() && !self.ended {
            let next = match tokio::time::timeout_at(self.deadline, self.source.next()).await {
                Ok(next) => next,
                Err(_) => Err(Broken(format!(
                    "the stream ran past the total limit of {} s ([gateway] total_timeout_secs)",
                    self.total_secs
                ))),
            };
            self.take(next);
            self.gather().await;
        }
        (!self.out.is_empty()).then(|| self.out.split().freeze())
    }

    /// Writes one upstream event (or the end) into `out`.
    fn take(&mut self, next: Result<Option<UpstreamEvent>, Broken>) {
        match next {
            Ok(Some(event @ UpstreamEvent::Error { .. })) => self.end(Ok(Some(event))),
            Ok(Some(event)) => self.writer.write(event, &mut self.out),
            end => self.end(end),
        }
    }

    /// Adds to `out` every event the upstream connection has received
    /// already, so events that arrived together leave in one write.
    ///
    /// That connection is a task of its own that hands its frames over one
    /// at a time, each after it has run again: ten events read in one
    /// `recvfrom` reach the relay in ten turns, and taking only what was
    /// handed over left them in ten writes, ten wake-ups of the client
    /// (measured: 11 `writev` per proxied stream of 10 events, now 1). So
    /// the relay lets the runtime turn, for as long as each turn brings
    /// another event; a turn that brings none means the rest is still on
    /// the network. A turn costs one `epoll_wait` that does not wait, far
    /// less than a write and the client's wake-up it saves.
    async fn gather(&mut self) {
        let mut turned = false;
        loop {
            let mut took = false;
            while !self.ended && self.out.len() < GATHER_MAX {
                let Some(next) = self.source.next_ready() else {
                    break;
                };
                self.take(next);
                took = true;
            }
            if self.ended || self.out.len() >= GATHER_MAX || (turned && !took) {
                return;
            }
            one_turn().await;
            turned = true;
        }
    }

    /// The stream is over: the client's end, or the error event that says
    /// why not, and the failure reported as for any other call.
    fn end(&mut self, next: Result<Option<UpstreamEvent>, Broken>) {
        self.ended = true;
        let started = self.started;
        let failure = match next {
            Ok(None) if self.writer.complete() => {
                self.writer.finish(&mut self.out);
                None
            }
            Ok(None) => Some((
                502,
                "the upstream stream ended before the answer was complete".to_string(),
                None,
            )),
            Ok(Some(UpstreamEvent::Error {
                status,
                error_type,
                message,
            })) => {
                // The upstream may echo the key it was sent: never pass it on.
                let message = self.redactor.text(&message);
                let failure = Failure::in_stream(self.kind, status, &error_type, &message, started);
                Some((status, message, Some(self.redactor.failure(failure))))
            }
            Err(e) => Some((502, e.0.clone(), Some(Failure::broken_stream(e.0, started)))),
            Ok(Some(_)) => None,
        };
        if let Some((status, message, report)) = failure {
            let id = &self.id;
            let log = self.traffic.failed(id, message.clone());
            log_failed_call(
                id,
                log,
                format_args!("stream failed after the first bytes: {message}"),
            );
            if let Some(f) = report.filter(Failure::is_provider_failure) {
                self.engine.report_failure(id, f.report);
            }
            let error = self
                .writer
                .error(status, &format!("{id} failed mid-stream: {message}"));
            self.out.extend_from_slice(&error);
        }
    }
}

/// The most a stream gathers into one write: a flood of events still leaves
/// in writes the client can start on.
const GATHER_MAX: usize = 64 * 1024;

/// The relay's first output buffer. Each write hands the client what was
/// gathered and keeps the rest of the buffer, so a short answer's stream
/// (a few KiB) is written without growing it: from empty it was copied into a
/// new buffer at each doubling.
const RELAY_BUFFER: usize = 8 * 1024;

/// Resolves after one turn of the runtime: every task that could run has
/// run, and the I/O driver was asked (without waiting) what has arrived.
///
/// `tokio::task::yield_now` defers its wake-up to exactly that point, but
/// resolves on its second poll whenever that comes; a stream body is polled
/// again within the same turn (hyper's connection re-polls a body that was
/// pending, to see whether it can write again), so here the turn is over
/// only when the deferred wake-up has really come.
async fn one_turn() {
    struct Turned {
        done: AtomicBool,
        task: std::task::Waker,
    }
    impl std::task::Wake for Turned {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.done.store(true, Ordering::Release);
            self.task.wake_by_ref();
        }
    }
    let mut yield_now = std::pin::pin!(tokio::task::yield_now());
    let mut turned: Option<Arc<Turned>> = None;
    std::future::poll_fn(|cx| match &turned {
        Some(t) if t.done.load(Ordering::Acquire) => Poll::Ready(()),
        Some(_) => Poll::Pending,
        None => {
            let t = Arc::new(Turned {
                done: AtomicBool::new(false),
                task: cx.waker().clone(),
            });
            let waker = std::task::Waker::from(t.clone());
            // Pending: the wake-up is deferred to the end of this turn.
            let _ = yield_now.as_mut().poll(&mut Context::from_waker(&waker));
            turned = Some(t);
            Poll::Pending
        }
    })
    .await
}

fn translate_whole(client: Protocol, bytes: &[u8]) -> Result<Bytes, serde_json::Error> {
    let out = match client {
        Protocol::Anthropic => {
            let upstream: openai::ChatResponse = serde_json::from_slice(bytes)?;
            serde_json::to_vec(&translate::openai_to_anthropic_response(&upstream))?
        }
        Protocol::OpenAi => {
            let upstream: anthropic::MessagesResponse = serde_json::from_slice(bytes)?;
            serde_json::to_vec(&translate::anthropic_to_openai_response(&upstream))?
        }
    };
    Ok(Bytes::from(out))
}

/// A whole answer for a Responses API client served through Chat
/// Completions: read as a Chat Completions answer (Anthropic's translated to
/// one as a struct, not written out and read again), written as a Responses
/// object.
fn responses_whole(upstream: Protocol, bytes: &[u8]) -> Result<Bytes, serde_json::Error> {
    let chat = match upstream {
        Protocol::OpenAi => serde_json::from_slice::<openai::ChatResponse>(bytes)?,
        Protocol::Anthropic => {
            let upstream: anthropic::MessagesResponse = serde_json::from_slice(bytes)?;
            translate::anthropic_to_openai_response(&upstream)
        }
    };
    Ok(Bytes::from(serde_json::to_vec(
        &translate::chat_to_responses_response(&chat),
    )?))
}

fn provider_value(id: &str) -> HeaderValue {
    HeaderValue::from_str(id).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

/// An error body in `protocol`'s own shape, so the client's SDK raises its usual error.
pub(crate) fn error_response(
    protocol: Protocol,
    status: StatusCode,
    error_type: &str,
    message: &str,
    provider: Option<&str>,
) -> Response {
    let body = match protocol {
        Protocol::Anthropic => translate::anthropic_error_body(error_type, message),
        Protocol::OpenAi => translate::openai_error_body(message, error_type, None),
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(id) = provider {
        response.headers_mut().insert(PROVIDER_HEADER, provider_value(id));
    }
    response
}

fn internal_error(protocol: Protocol) -> Response {
    error_response(
        protocol,
        StatusCode::INTERNAL_SERVER_ERROR,
        "api_error",
        "the gateway could not build its response",
        None,
    )
}
