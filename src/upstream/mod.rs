//! "Send this body to this provider": the HTTP request for one call to one
//! upstream provider (URL by the kind's `base_url` convention, auth headers,
//! SigV4 signing), shared by the gateway, the probes and the inference checks.
//!
//! The caller brings a body already in the provider's dialect and an [`Auth`]
//! it resolved from `credentials`; [`generation`] returns a `reqwest::Request`
//! ready to send. Bedrock (`bedrock.rs`) and Vertex (`vertex.rs`) have their
//! own builders because the model moves from the body into the URL.
//!
//! Adding a request kind (for the inference checks: Gemini's native
//! `generateContent`, say) means a [`Dialect`] or an endpoint here, not a new
//! builder in the caller.
//!
//! Left out on purpose: translating between protocols and reading answers
//! (the gateway), classifying them (`probe::classify`), and sending.

pub(crate) mod bedrock;
pub(crate) mod models;
pub(crate) mod vertex;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

use crate::cloud::aws::BedrockAuth;
use crate::cloud::google::{VertexError, VertexTarget};
use crate::config::Provider;
use crate::http::join_path;
use crate::model::ProviderKind;
use crate::secrets::Secret;

use bedrock::BedrockError;

/// `anthropic-version` sent when the caller passes none (an OpenAI client,
/// a probe, an inference check).
pub(crate) const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Which wire protocol a body is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Anthropic Messages API (`POST /v1/messages`).
    Anthropic,
    /// OpenAI Chat Completions API (`POST /v1/chat/completions`).
    OpenAi,
}

/// How one provider kind is spoken to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// The Anthropic Messages API at `{base_url}/v1/messages`.
    Anthropic,
    /// Claude on Amazon Bedrock (InvokeModel, event-stream framing).
    Bedrock,
    /// Claude on Google Vertex AI (rawPredict, SSE like Anthropic).
    Vertex,
    /// OpenAI Chat Completions, also spoken by Gemini, OpenRouter, Ollama and llama.cpp.
    OpenAiChat,
}

impl Dialect {
    /// `None` for status-only surfaces: nothing can be sent to a status page.
    pub(crate) fn of(kind: ProviderKind) -> Option<Dialect> {
        match kind {
            ProviderKind::Anthropic => Some(Dialect::Anthropic),
            ProviderKind::Bedrock => Some(Dialect::Bedrock),
            ProviderKind::Vertex => Some(Dialect::Vertex),
            ProviderKind::Openai
            | ProviderKind::OpenaiCompatible
            | ProviderKind::Gemini
            | ProviderKind::Ollama => Some(Dialect::OpenAiChat),
            ProviderKind::Status => None,
        }
    }

    /// The request and response body format this dialect uses.
    pub(crate) fn protocol(self) -> Protocol {
        match self {
            Dialect::Anthropic | Dialect::Bedrock | Dialect::Vertex => Protocol::Anthropic,
            Dialect::OpenAiChat => Protocol::OpenAi,
        }
    }
}

/// The credential a dialect needs, resolved by the caller.
pub(crate) enum Auth {
    Key(Option<Secret>),
    Bedrock(BedrockAuth),
    Vertex(VertexTarget, Secret),
}

impl Auth {
    /// Every secret value in it, to scrub from what the upstream echoes back.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match self {
            Auth::Key(key) => key.iter().map(|k| k.expose().trim()).collect(),
            Auth::Bedrock(b) => b.secrets(),
            Auth::Vertex(_, token) => vec![token.expose().trim()],
        }
    }
}

/// A JSON body in the provider's dialect: bytes as they arrived (a client's
/// request passed through untouched), or a value the caller built or rewrote.
#[derive(Debug)]
pub(crate) enum Body {
    Raw(Bytes),
    Json(Value),
}

impl Body {
    pub(crate) fn value(&self) -> Result<Value, serde_json::Error> {
        match self {
            Body::Raw(raw) => serde_json::from_slice(raw),
            Body::Json(v) => Ok(v.clone()),
        }
    }

    pub(crate) fn attach(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, BuildError> {
        let bytes = match self {
            Body::Raw(raw) => raw.clone(),
            Body::Json(v) => Bytes::from(serde_json::to_vec(v)?),
        };
        Ok(builder.header(CONTENT_TYPE, "application/json").body(bytes))
    }
}

/// How a generation is asked for, beyond its body.
#[derive(Debug, Default)]
pub(crate) struct Generation {
    /// Ask for a stream (SSE, or Bedrock's event stream).
    pub(crate) stream: bool,
    /// Anthropic dialect: the `anthropic-version` to pin (default [`ANTHROPIC_VERSION`]).
    pub(crate) anthropic_version: Option<HeaderValue>,
    /// Anthropic dialect: `anthropic-beta` features to pass on.
    pub(crate) anthropic_beta: Option<HeaderValue>,
    /// OpenAI dialect: the body is a Responses API request for OpenAI's own
    /// API (`{base_url}/responses`), not Chat Completions.
    pub(crate) responses_api: bool,
}

/// Why a request could not be built (no call was made).
#[derive(Debug, thiserror::Error)]
pub(crate) enum BuildError {
    #[error("the request body is not valid for its protocol: {0}")]
    Body(#[from] serde_json::Error),
    #[error("{0} has no base_url")]
    NoBaseUrl(String),
    #[error("no credential for {0}")]
    NoCredential(String),
    #[error("the stored key for {0} cannot be sent in an HTTP header; set it again")]
    InvalidKey(String),
    #[error(transparent)]
    Bedrock(#[from] BedrockError),
    #[error(transparent)]
    Vertex(#[from] VertexError),
    #[error("cannot build the request: {0}")]
    Http(#[from] reqwest::Error),
}

fn sensitive(value: String, provider: &str) -> Result<HeaderValue, BuildError> {
    let mut v = HeaderValue::from_str(&value).map_err(|_| BuildError::InvalidKey(provider.to_string()))?;
    v.set_sensitive(true);
    Ok(v)
}

/// Anthropic's key header (`x-api-key`) and version pin (`anthropic-version`,
/// [`ANTHROPIC_VERSION`] unless the caller passes one). No key header when
/// `key` is `None`.
fn anthropic_headers(
    provider: &str,
    key: Option<&Secret>,
    version: Option<HeaderValue>,
) -> Result<HeaderMap, BuildError> {
    let mut headers = HeaderMap::new();
    if let Some(key) = key {
        headers.insert(
            HeaderName::from_static("x-api-key"),
            sensitive(key.expose().trim().to_string(), provider)?,
        );
    }
    headers.insert(
        HeaderName::from_static("anthropic-version"),
        version.unwrap_or_else(|| HeaderValue::from_static(ANTHROPIC_VERSION)),
    );
    Ok(headers)
}

/// `Authorization: Bearer {key}`: OpenAI and everything that speaks its API.
fn bearer(provider: &str, key: &Secret) -> Result<HeaderValue, BuildError> {
    sensitive(format!("Bearer {}", key.expose().trim()), provider)
}

/// Google's API-key header for its native API (Gemini's `generateContent` and
/// model list): in a header, never in `?key=`, where a URL could print it.
fn google_key(provider: &str, key: &Secret) -> Result<(HeaderName, HeaderValue), BuildError> {
    Ok((
        HeaderName::from_static("x-goog-api-key"),
        sensitive(key.expose().trim().to_string(), provider)?,
    ))
}

/// Where an OpenAI-dialect provider takes chat completions, by its kind's
/// `base_url` convention (see DESIGN "Configuration").
pub(crate) fn chat_url(provider: &Provider, base: &url::Url) -> url::Url {
    match provider.kind {
        ProviderKind::Gemini => join_path(base, "v1beta/openai/chat/completions"),
        ProviderKind::Ollama => join_path(base, "v1/chat/completions"),
        _ => join_path(base, "chat/completions"),
    }
}

/// The OpenAI-dialect field that limits output tokens, in the spelling
/// `kind` reads: OpenAI's own API documents `max_completion_tokens` (and
/// refuses `max_tokens` on its reasoning models); Gemini's, Ollama's and
/// llama.cpp's compatibility layers read `max_tokens`. One rule for the
/// gateway's translated requests and the inference checks.
pub(crate) fn output_limit_field(kind: ProviderKind) -> &'static str {
    if kind == ProviderKind::Openai {
        "max_completion_tokens"
    } else {
        "max_tokens"
    }
}

/// Gemini's native `generateContent` for `model` (the inference check's
/// request: the OpenAI compatibility layer would hide Gemini's own error
/// shapes), with the key in `x-goog-api-key`.
pub(crate) fn gemini_generate(
    client: &reqwest::Client,
    provider: &Provider,
    key: &Secret,
    model: &str,
    body: &Body,
) -> Result<reqwest::Request, BuildError> {
    let base = provider
        .base_url
        .as_ref()
        .ok_or_else(|| BuildError::NoBaseUrl(provider.id.clone()))?;
    let model = model.trim().trim_start_matches("models/");
    let segment: String = url::form_urlencoded::byte_serialize(model.as_bytes()).collect();
    let url = join_path(base, &format!("v1beta/models/{segment}:generateContent"));
    let (name, value) = google_key(&provider.id, key)?;
    let builder = client
        .post(url)
        .header(ACCEPT, "application/json")
        .header(name, value);
    Ok(body.attach(builder)?.build()?)
}

/// Builds the request that asks `provider` (spoken to in `dialect`) to
/// generate from `body`, authorised by `auth`. A Bedrock or Vertex body names
/// its model in `model`; signing comes last, over exactly what is sent.
pub(crate) fn generation(
    client: &reqwest::Client,
    provider: &Provider,
    dialect: Dialect,
    auth: &Auth,
    body: &Body,
    how: &Generation,
) -> Result<reqwest::Request, BuildError> {
    let p = provider;
    let accept = if how.stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    match (dialect, auth) {
        (Dialect::Bedrock, Auth::Bedrock(a)) => {
            Ok(bedrock::build_request(client, p, a, &body.value()?, how.stream)?)
        }
        (Dialect::Vertex, Auth::Vertex(target, token)) => Ok(vertex::build_request(
            client,
            target,
            token,
            &body.value()?,
            how.stream,
        )?),
        (Dialect::Anthropic, Auth::Key(key)) => {
            let base = p
                .base_url
                .as_ref()
                .ok_or_else(|| BuildError::NoBaseUrl(p.id.clone()))?;
            let key = key
                .as_ref()
                .ok_or_else(|| BuildError::NoCredential(p.id.clone()))?;
            let mut headers = anthropic_headers(&p.id, Some(key), how.anthropic_version.clone())?;
            if let Some(beta) = how.anthropic_beta.clone() {
                headers.insert(HeaderName::from_static("anthropic-beta"), beta);
            }
            headers.insert(ACCEPT, HeaderValue::from_static(accept));
            Ok(body
                .attach(client.post(join_path(base, "v1/messages")).headers(headers))?
                .build()?)
        }
        (Dialect::OpenAiChat, Auth::Key(key)) => {
            let base = p
                .base_url
                .as_ref()
                .ok_or_else(|| BuildError::NoBaseUrl(p.id.clone()))?;
            let url = if how.responses_api {
                join_path(base, "responses")
            } else {
                chat_url(p, base)
            };
            let mut builder = body.attach(client.post(url).header(ACCEPT, accept))?;
            if let Some(key) = key {
                builder = builder.header(AUTHORIZATION, bearer(&p.id, key)?);
            }
            Ok(builder.build()?)
        }
        _ => Err(BuildError::NoCredential(p.id.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(kind: &str, base: &str) -> Provider {
        let text = format!(
            "use_catalog = false\n[[providers]]\nid = \"p\"\nkind = \"{kind}\"\nbase_url = \"{base}\"\n"
        );
        crate::config::Config::parse(&text, std::path::Path::new("/x.toml"))
            .expect("valid test config")
            .providers
            .remove(0)
    }

    #[test]
    fn chat_urls_follow_each_kinds_base_url_convention() {
        let cases = [
            (
                "openai",
                "https://api.openai.com/v1",
                "https://api.openai.com/v1/chat/completions",
            ),
            (
                "openai-compatible",
                "http://127.0.0.1:8080/v1",
                "http://127.0.0.1:8080/v1/chat/completions",
            ),
            (
                "gemini",
                "https://generativelanguage.googleapis.com",
                "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions",
            ),
            (
                "ollama",
                "http://127.0.0.1:11434",
                "http://127.0.0.1:11434/v1/chat/completions",
            ),
        ];
        for (kind, base, want) in cases {
            let p = provider(kind, base);
            let base = p.base_url.clone().expect("base_url");
            assert_eq!(chat_url(&p, &base).as_str(), want, "{kind}");
        }
    }
}
