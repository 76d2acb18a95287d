//! One call to one upstream provider: the request in its dialect (translated
//! when the client spoke the other protocol), authenticated with the user's
//! credential, and what came back sorted into "serve it", "answer with it" or
//! "try the next provider".

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::time::Instant;

use crate::model::ProbeReport;
use crate::model::ProviderKind;
use crate::upstream::{Auth, Dialect, Generation};

use super::route::Candidate;
use super::translate;
use super::wire::{anthropic, openai, Protocol};

/// Most bytes read from an upstream error answer.
const MAX_ERROR_BODY: usize = 256 * 1024;

/// A `retry-after` at most this long makes a 429 worth sending elsewhere;
/// a longer one (a spent quota) is the user's to see.
pub(crate) const SHORT_RETRY_AFTER_SECS: u64 = 10;

/// The client's request as it arrived. The body is kept as bytes and only
/// parsed whole when it must change (another model, another protocol): a
/// Claude Code request is hundreds of kilobytes that usually go through as is.
#[derive(Debug)]
pub(crate) struct ClientRequest {
    pub(crate) protocol: Protocol,
    pub(crate) raw: Bytes,
    head: Head,
    /// Anthropic headers worth passing on to Anthropic-dialect upstreams.
    pub(crate) anthropic_version: Option<HeaderValue>,
    pub(crate) anthropic_beta: Option<HeaderValue>,
    /// The client spoke the Responses API (`raw` is its body as sent, which
    /// OpenAI's own API gets): answers go back as Responses objects/events.
    pub(crate) responses: Option<ResponsesBody>,
}

/// What a Responses API request becomes for providers that do not speak it.
#[derive(Debug, Default)]
pub(crate) struct ResponsesBody {
    /// The request translated to Chat Completions, made when the first
    /// provider that needs it is tried: a request that OpenAI serves as is
    /// (Codex's, tens of kilobytes of instructions and tools) is never parsed
    /// whole. `Err`: why it cannot be (e.g. `previous_response_id`), so only
    /// OpenAI itself can serve it.
    chat: std::sync::OnceLock<Result<Bytes, translate::TranslateError>>,
}

impl ResponsesBody {
    /// The Chat Completions translation of `raw`, the Responses body.
    fn chat(&self, raw: &[u8]) -> Result<&Bytes, &translate::TranslateError> {
        self.chat
            .get_or_init(|| {
                let value: Value = serde_json::from_slice(raw)
                    .map_err(|e| translate::TranslateError::Invalid(e.to_string()))?;
                let chat = translate::responses_to_chat_request(&value, "")?;
                serde_json::to_vec(&chat)
                    .map(Bytes::from)
                    .map_err(|e| translate::TranslateError::Invalid(e.to_string()))
            })
            .as_ref()
    }

    /// Why the request could not be translated, once a provider needed it.
    pub(crate) fn untranslatable(&self) -> Option<&translate::TranslateError> {
        self.chat.get().and_then(|c| c.as_ref().err())
    }
}

/// Whether `candidate` gets a Responses request as is, at
/// `{base_url}/responses`: OpenAI's own API keeps response state and hosted
/// tools. OpenAI-compatible servers (Gemini, Ollama, OpenRouter, ...) get the
/// Chat Completions translation, which every one of them speaks.
pub(crate) fn native_responses(req: &ClientRequest, candidate: &Candidate) -> bool {
    req.responses.is_some() && candidate.provider.kind == ProviderKind::Openai
}

/// The few fields the gateway reads itself.
#[derive(Debug, Default, serde::Deserialize)]
struct Head {
    model: Option<String>,
    stream: Option<bool>,
    stream_options: Option<HeadStreamOptions>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct HeadStreamOptions {
    include_usage: Option<bool>,
}

/// The body is not a JSON object with the fields' expected types.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    #[error("the body must be a JSON object")]
    NotAnObject,
    #[error("the body is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl ClientRequest {
    /// Reads what routing needs; the whole body is validated as JSON.
    pub(crate) fn parse(protocol: Protocol, raw: Bytes, headers: &HeaderMap) -> Result<Self, BodyError> {
        if raw.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(BodyError::NotAnObject);
        }
        let head: Head = serde_json::from_slice(&raw)?;
        Ok(ClientRequest {
            protocol,
            raw,
            head,
            anthropic_version: headers.get("anthropic-version").cloned(),
            anthropic_beta: headers.get("anthropic-beta").cloned(),
            responses: None,
        })
    }

    pub(crate) fn model(&self) -> Option<&str> {
        self.head.model.as_deref()
    }

    pub(crate) fn stream(&self) -> bool {
        self.head.stream.unwrap_or(false)
    }

    /// An OpenAI client asked for the final usage chunk.
    pub(crate) fn include_usage(&self) -> bool {
        self.head
            .stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }

    fn value(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(&self.raw)
    }
}

/// What goes to the upstream: the client's bytes, or a rewritten body.
pub(crate) use crate::upstream::Body as UpstreamBody;

/// Why a request could not be prepared for a provider (no call was made).
#[derive(Debug, thiserror::Error)]
pub(crate) enum PrepareError {
    #[error("the request cannot be translated for {provider}: {source}")]
    Translate {
        provider: String,
        #[source]
        source: translate::TranslateError,
    },
    #[error("the request body is not valid for its protocol: {0}")]
    Body(#[from] serde_json::Error),
    #[error("no credential for {0}")]
    NoCredential(String),
    #[error(transparent)]
    Build(#[from] crate::upstream::BuildError),
}

/// The body to send to `candidate`, in its dialect's protocol, naming `model`
/// (see [`Candidate::model`]).
pub(crate) fn body_for(
    req: &ClientRequest,
    candidate: &Candidate,
    model: &str,
) -> Result<UpstreamBody, PrepareError> {
    let translate_error = |source| PrepareError::Translate {
        provider: candidate.provider.id.clone(),
        source,
    };
    // The Chat Completions body the rest works from: a Responses request's
    // translation, unless the candidate takes it as is.
    let raw = match &req.responses {
        Some(_) if native_responses(req, candidate) => {
            if req.model() == Some(model) || model.is_empty() {
                return Ok(UpstreamBody::Raw(req.raw.clone()));
            }
            let mut body = req.value()?;
            if let Some(object) = body.as_object_mut() {
                object.insert("model".into(), Value::String(model.to_string()));
            }
            return Ok(UpstreamBody::Json(body));
        }
        Some(responses) => responses
            .chat(&req.raw)
            .map_err(|why| translate_error(why.clone()))?,
        None => &req.raw,
    };
    let mut body = match (req.protocol, candidate.dialect.protocol()) {
        // Bedrock and Vertex follow the public Messages API: no system turns
        // inside `messages` (Claude Code sends them).
        (Protocol::Anthropic, Protocol::Anthropic)
            if matches!(candidate.dialect, Dialect::Bedrock | Dialect::Vertex) =>
        {
            let mut typed: anthropic::MessagesRequest = serde_json::from_slice(raw)?;
            if !translate::fold_system_turns(&mut typed) && (req.model() == Some(model) || model.is_empty()) {
                return Ok(UpstreamBody::Raw(raw.clone()));
            }
            serde_json::to_value(typed)?
        }
        (from, to) if from == to => {
            if req.model() == Some(model) || model.is_empty() {
                return Ok(UpstreamBody::Raw(raw.clone()));
            }
            serde_json::from_slice(raw)?
        }
        (Protocol::Anthropic, _) => {
            let typed: anthropic::MessagesRequest = serde_json::from_slice(raw)?;
            let mut out = translate::anthropic_to_openai_request(&typed, model).map_err(translate_error)?;
            fit_output_limit(&mut out, candidate.provider.kind);
            serde_json::to_value(out)?
        }
        (Protocol::OpenAi, _) => {
            let typed: openai::ChatRequest = serde_json::from_slice(raw)?;
            let out = translate::openai_to_anthropic_request(&typed, model).map_err(translate_error)?;
            serde_json::to_value(out)?
        }
    };
    if let Some(object) = body.as_object_mut() {
        if !model.is_empty() {
            object.insert("model".into(), Value::String(model.to_string()));
        }
    }
    Ok(UpstreamBody::Json(body))
}

/// Most output tokens asked of an OpenAI-dialect provider on a translated
/// request. Claude clients ask for up to 64k (Claude Code: 32k), which gpt-4o
/// (16k) and many local models refuse with a 400 that would end the failover;
/// every current OpenAI chat model accepts 16k.
pub(crate) const TRANSLATED_MAX_OUTPUT: u32 = 16_384;

/// Caps the output limit of a translated request, in the field the upstream
/// reads: OpenAI's own API documents `max_completion_tokens`; Gemini's,
/// Ollama's and llama.cpp's compatibility layers read `max_tokens`.
fn fit_output_limit(req: &mut openai::ChatRequest, kind: ProviderKind) {
    let limit = req
        .max_completion_tokens
        .take()
        .or(req.max_tokens.take())
        .map(|n| n.min(TRANSLATED_MAX_OUTPUT));
    if crate::upstream::output_limit_field(kind) == "max_completion_tokens" {
        req.max_completion_tokens = limit;
    } else {
        req.max_tokens = limit;
    }
}

/// Builds the HTTP request for `candidate` (see [`crate::upstream::generation`]).
pub(crate) fn build(
    client: &reqwest::Client,
    req: &ClientRequest,
    candidate: &Candidate,
    body: &UpstreamBody,
    auth: &Auth,
) -> Result<reqwest::Request, PrepareError> {
    let how = Generation {
        stream: req.stream(),
        anthropic_version: req.anthropic_version.clone(),
        anthropic_beta: req
            .anthropic_beta
            .clone()
            .filter(|_| req.protocol == Protocol::Anthropic),
        responses_api: native_responses(req, candidate),
    };
    Ok(crate::upstream::generation(
        client,
        &candidate.provider,
        candidate.dialect,
        auth,
        body,
        &how,
    )?)
}

/// An upstream answer that is not a success, read and classified.
#[derive(Debug)]
pub(crate) struct Failure {
    /// `None` when there was no HTTP answer (connection error, timeout, broken stream).
    pub(crate) status: Option<u16>,
    pub(crate) headers: HeaderMap,
    /// The answer's body, when there was one.
    pub(crate) body: Vec<u8>,
    /// The same classification a probe would get: the engine's passive signal.
    pub(crate) report: ProbeReport,
}

impl Failure {
    /// Whether another provider should be tried: 5xx, 529, timeouts and
    /// connection errors; 402 (billing: credit balance too low) and 429
    /// (`insufficient_quota`, spend caps, `rate_limit_error`), which say this
    /// account cannot be served here now, not that the request is wrong.
    /// With `failover_on_quota` off (the provider's setting) only a 429 that
    /// says to come back soon moves on, as before. Never 400, 401, 403, 404
    /// or 413: the same request would fail the same way everywhere, and a
    /// rejected key is the user's to see.
    pub(crate) fn retryable(&self, failover_on_quota: bool) -> bool {
        match self.status {
            None => true,
            Some(s) if s >= 500 || s == 408 => true,
            Some(402 | 429) if failover_on_quota => true,
            Some(429) => self
                .report
                .retry_after_secs
                .is_some_and(|secs| secs <= SHORT_RETRY_AFTER_SECS),
            Some(_) => false,
        }
    }

    /// Whether this says something about the provider (the engine should hear
    /// of it): it fails, is overloaded or unreachable, limits the user, or
    /// rejects the key. Not a 400 or 404: with real traffic that is the
    /// request's fault, even though a probe (whose request never changes)
    /// counts any 400 as the account's.
    pub(crate) fn is_provider_failure(&self) -> bool {
        match self.status {
            None => true,
            Some(status) => status >= 500 || matches!(status, 401..=403 | 429),
        }
    }

    /// Scrubs `secrets` from the classification and the body, so a provider
    /// that echoes the key back cannot make the gateway hand it to a client,
    /// a log line or the dashboard.
    pub(crate) fn redact(mut self, secrets: &[&str]) -> Failure {
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            crate::probe::redact_report(&mut self.report, secret);
            if let Ok(text) = std::str::from_utf8(&self.body) {
                if text.contains(secret) {
                    self.body = text.replace(secret, "<redacted>").into_bytes();
                }
            }
        }
        self
    }

    /// A failure without an HTTP answer (or a stream that broke before the client saw a byte).
    pub(crate) fn transport(err: &super::client::CallError, started: Instant) -> Failure {
        Failure {
            status: None,
            headers: HeaderMap::new(),
            body: Vec::new(),
            report: crate::probe::unreachable(
                err.net_failure(),
                Some(crate::probe::classify::root_cause(err)),
                started.elapsed(),
                chrono::Utc::now(),
            ),
        }
    }

    pub(crate) fn broken_stream(message: String, started: Instant) -> Failure {
        Failure {
            status: None,
            headers: HeaderMap::new(),
            body: Vec::new(),
            report: crate::probe::unreachable(
                crate::model::NetFailure::Reset,
                Some(message),
                started.elapsed(),
                chrono::Utc::now(),
            ),
        }
    }

    /// A failure the upstream reported in its stream before any event reached
    /// the client (an `error` event, a Bedrock exception): as if it were the
    /// HTTP answer.
    pub(crate) fn in_stream(
        kind: ProviderKind,
        status: u16,
        error_type: &str,
        message: &str,
        started: Instant,
    ) -> Failure {
        let body =
            serde_json::to_vec(&translate::anthropic_error_body(error_type, message)).unwrap_or_default();
        classified(kind, status, HeaderMap::new(), body, started)
    }
}

/// Reads an unsuccessful answer's body (capped) and classifies it.
/// The body is read until `wait` after the call started.
pub(crate) async fn read_failure(
    kind: ProviderKind,
    response: super::client::UpstreamResponse,
    started: Instant,
    wait: Duration,
) -> Failure {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    let mut response = response;
    let deadline = started + wait;
    while body.len() < MAX_ERROR_BODY {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(MAX_ERROR_BODY);
    classified(kind, status, headers, body, started)
}

fn classified(
    kind: ProviderKind,
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    started: Instant,
) -> Failure {
    let report = crate::probe::classify(
        kind,
        status,
        &headers,
        &body,
        started.elapsed(),
        // Latency is not judged on real calls: a long answer is a long generation.
        Duration::MAX,
        chrono::Utc::now(),
    );
    Failure {
        status: Some(status),
        headers,
        body,
        report,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_answers_about_the_provider_are_health_signals() {
        let failure = |status: u16, body: &str| {
            classified(
                ProviderKind::Anthropic,
                status,
                HeaderMap::new(),
                body.as_bytes().to_vec(),
                Instant::now(),
            )
        };
        let error = |t: &str| format!(r#"{{"type":"error","error":{{"type":"{t}","message":"m"}}}}"#);
        assert!(failure(500, &error("api_error")).is_provider_failure());
        assert!(failure(529, &error("overloaded_error")).is_provider_failure());
        assert!(failure(429, &error("rate_limit_error")).is_provider_failure());
        assert!(failure(401, &error("authentication_error")).is_provider_failure());
        assert!(!failure(400, &error("invalid_request_error")).is_provider_failure());
        assert!(!failure(404, &error("not_found_error")).is_provider_failure());
        assert!(!failure(413, &error("request_too_large")).is_provider_failure());
    }

    fn candidate(kind: &str, base: &str, dialect: Dialect) -> Candidate {
        let text = format!(
            "use_catalog = false\n[[providers]]\nid = \"{kind}\"\nkind = \"{kind}\"\nbase_url = \"{base}\"\nmodel = \"m-{kind}\"\n"
        );
        let provider = crate::config::Config::parse(&text, std::path::Path::new("/x.toml"))
            .expect("valid test config")
            .providers
            .remove(0);
        Candidate {
            provider,
            dialect,
            state: crate::model::State::Operational,
            keep_client_model: true,
        }
    }

    fn responses_request(body: serde_json::Value) -> ClientRequest {
        let raw = Bytes::from(serde_json::to_vec(&body).expect("json"));
        let mut req = ClientRequest::parse(Protocol::OpenAi, raw, &HeaderMap::new()).expect("a JSON object");
        req.responses = Some(ResponsesBody::default());
        req
    }

    #[test]
    fn a_responses_request_is_translated_only_when_a_provider_needs_it() {
        let openai = candidate("openai", "http://127.0.0.1:1/v1", Dialect::OpenAiChat);
        let anthropic = candidate("anthropic", "http://127.0.0.1:2", Dialect::Anthropic);
        let translated = |req: &ClientRequest| req.responses.as_ref().is_some_and(|r| r.chat.get().is_some());

        let req = responses_request(serde_json::json!({
            "model": "gpt-5-codex", "stream": true, "instructions": "Be brief.",
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}]
        }));
        assert_eq!((req.model(), req.stream()), (Some("gpt-5-codex"), true));
        match body_for(&req, &openai, "gpt-5-codex") {
            Ok(UpstreamBody::Raw(raw)) => assert_eq!(raw, req.raw, "OpenAI gets the body as sent"),
            other => panic!("expected the raw body, got {other:?}"),
        }
        assert!(!translated(&req), "served as is: never parsed whole");
        match body_for(&req, &anthropic, "m-anthropic") {
            Ok(UpstreamBody::Json(v)) => {
                assert_eq!(v["model"], "m-anthropic");
                assert_eq!(v["system"], "Be brief.");
                assert_eq!(v["messages"][0]["role"], "user");
            }
            other => panic!("expected a Messages body, got {other:?}"),
        }
        assert!(
            translated(&req),
            "translated for the first provider that needed it"
        );
        assert!(req
            .responses
            .as_ref()
            .is_some_and(|r| r.untranslatable().is_none()));

        // State kept at OpenAI: only OpenAI can serve it, and the reason is kept.
        let req = responses_request(serde_json::json!({
            "model": "gpt-5-codex", "previous_response_id": "resp_1", "input": "and then?"
        }));
        assert!(matches!(
            body_for(&req, &openai, "gpt-5-codex"),
            Ok(UpstreamBody::Raw(_))
        ));
        assert!(
            req.responses
                .as_ref()
                .is_some_and(|r| r.untranslatable().is_none()),
            "not asked yet"
        );
        assert!(matches!(
            body_for(&req, &anthropic, "m-anthropic"),
            Err(PrepareError::Translate { .. })
        ));
        let why = req
            .responses
            .as_ref()
            .and_then(|r| r.untranslatable())
            .map(|e| e.to_string());
        assert!(
            why.is_some_and(|w| w.contains("previous_response_id")),
            "the reason is kept"
        );
    }

    #[test]
    fn translated_output_limits_fit_the_upstream() {
        let mut req: openai::ChatRequest = serde_json::from_value(serde_json::json!({
            "model": "m", "messages": [], "max_completion_tokens": 32000
        }))
        .expect("request");
        fit_output_limit(&mut req, ProviderKind::Openai);
        assert_eq!(
            (req.max_completion_tokens, req.max_tokens),
            (Some(TRANSLATED_MAX_OUTPUT), None)
        );
        fit_output_limit(&mut req, ProviderKind::Ollama);
        assert_eq!(
            (req.max_completion_tokens, req.max_tokens),
            (None, Some(TRANSLATED_MAX_OUTPUT))
        );
        req.max_tokens = Some(100);
        fit_output_limit(&mut req, ProviderKind::Gemini);
        assert_eq!(
            req.max_tokens,
            Some(100),
            "a smaller limit is the client's choice"
        );
    }
}
