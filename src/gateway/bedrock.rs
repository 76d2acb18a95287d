//! Claude on Amazon Bedrock: credentials, request building and signing, the
//! binary event stream, and AWS errors in Anthropic's words.
//!
//! Bedrock speaks the Anthropic Messages body almost verbatim: the model moves
//! from the body to the URL (`/model/{id}/invoke`), `stream` becomes a choice of
//! endpoint (`invoke-with-response-stream`), and `anthropic_version` pins the
//! Bedrock dialect. Answers are the Anthropic JSON as is; streams arrive as
//! `application/vnd.amazon.eventstream` frames whose `chunk` events carry the
//! Anthropic stream events base64-encoded. The framing (lengths, CRCs, headers)
//! is `aws-smithy-eventstream`'s; the signature is `aws-sigv4`'s.
//!
//! Credentials, in order: a Bedrock API key (keyring account = provider id, else
//! the provider's `api_key_env`, `AWS_BEARER_TOKEN_BEDROCK` in the catalog) sent
//! as a bearer token; else AWS access keys from the environment; else the shared
//! credentials file. Every environment read goes through the caller's
//! [`EnvLookup`], so tests never touch the process environment.
//!
//! Left out on purpose: SSO, `credential_process`, instance roles and other
//! AWS SDK credential providers (use environment variables exported by
//! `aws configure export-credentials`), and retries (the gateway decides).

use std::path::PathBuf;
use std::time::SystemTime;

use aws_smithy_eventstream::frame::{write_message_to, DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use base64::Engine as _;
use bytes::BytesMut;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue as HttpHeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE,
};
use serde_json::{json, Value};
use url::Url;

use crate::config::Provider;
use crate::secrets::{Credentials, Secret};

/// The body field that selects Bedrock's dialect of the Messages API.
pub const ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";
/// Content type of a streaming answer (and `accept` of a streaming request).
pub const EVENT_STREAM_CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";
/// Bedrock's request-id response header.
pub const REQUEST_ID_HEADER: &str = "x-amzn-requestid";
/// Bedrock's error-type response header (`ThrottlingException:http://...`).
pub const ERROR_TYPE_HEADER: &str = "x-amzn-errortype";
/// The SigV4 service name of both the runtime and the control plane.
const SIGNING_SERVICE: &str = "bedrock";
/// Region when neither the config nor `AWS_REGION` / `AWS_DEFAULT_REGION` says.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Profile read from the shared credentials file when `AWS_PROFILE` is unset.
const DEFAULT_PROFILE: &str = "default";
/// Bytes buffered while waiting for the end of one frame. The event-stream
/// format caps a message at 16 MiB; anything claiming more is not Bedrock.
const MAX_BUFFERED_BYTES: usize = 16 * 1024 * 1024 + 1024;
/// Longest `:exception-type` header [`encode_exception`] writes; the format
/// allows more, but no AWS exception name comes close.
const MAX_KIND_CHARS: usize = 255;

#[derive(Debug, thiserror::Error)]
pub enum BedrockError {
    #[error("the request has no \"model\": Bedrock needs a model id such as anthropic.claude-sonnet-4-5-20250929-v1:0")]
    MissingModel,
    #[error("the request body must be a JSON object")]
    NotAnObject,
    #[error("cannot build a Bedrock URL from region {region:?} and base {base:?}")]
    Endpoint { region: String, base: String },
    #[error("cannot build the Bedrock request: {0}")]
    Request(#[from] reqwest::Error),
    /// Deliberately carries no part of the key.
    #[error("the stored Bedrock API key contains characters that cannot be sent in an HTTP header (a pasted line break?); set it again")]
    InvalidKey,
    #[error("cannot sign the Bedrock request: {0}")]
    Signing(String),
    #[error("malformed Bedrock event stream: {0}")]
    Stream(String),
    #[error("the Bedrock event stream ended in the middle of a frame")]
    Truncated,
}

/// AWS access keys for SigV4. The secret parts never print.
#[derive(Clone)]
pub struct AwsCredentials {
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Option<Secret>,
    source: AwsCredentialSource,
}

/// Where AWS access keys were found, to tell the user which ones are in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AwsCredentialSource {
    Environment,
    SharedFile { path: PathBuf, profile: String },
}

impl AwsCredentials {
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: Secret,
        session_token: Option<Secret>,
        source: AwsCredentialSource,
    ) -> Self {
        AwsCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key,
            session_token,
            source,
        }
    }

    /// The key id: an identifier, not a secret (AWS prints it in consoles and logs).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub fn has_session_token(&self) -> bool {
        self.session_token.is_some()
    }

    pub fn source(&self) -> &AwsCredentialSource {
        &self.source
    }
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key)
            .field("session_token", &self.session_token)
            .field("source", &self.source)
            .finish()
    }
}

/// How a Bedrock request is authorised.
#[derive(Clone, Debug)]
pub enum BedrockCredential {
    /// A Bedrock API key, sent as `Authorization: Bearer`.
    ApiKey(Secret),
    /// AWS access keys, used to sign the request with SigV4.
    Aws(AwsCredentials),
}

/// A credential plus the region it is used in: SigV4 signs the region into
/// every signature, and the default endpoints are named after it.
#[derive(Clone, Debug)]
pub struct BedrockAuth {
    pub region: String,
    pub credential: BedrockCredential,
}

impl BedrockAuth {
    /// The secret strings this auth could put on the wire, for scrubbing
    /// anything a server echoes back.
    pub fn secrets(&self) -> Vec<&str> {
        match &self.credential {
            BedrockCredential::ApiKey(key) => vec![key.expose()],
            BedrockCredential::Aws(aws) => {
                let mut out = vec![aws.secret_access_key.expose()];
                out.extend(aws.session_token.as_ref().map(Secret::expose));
                out
            }
        }
    }
}

/// The region for `provider`: its `region` key, else `AWS_REGION`, else
/// `AWS_DEFAULT_REGION` (the AWS CLI's and SDKs' order), else [`DEFAULT_REGION`].
pub fn region(provider: &Provider, env: &dyn Fn(&str) -> Option<String>) -> String {
    provider
        .cloud
        .region
        .clone()
        .or_else(|| non_empty(env("AWS_REGION")))
        .or_else(|| non_empty(env("AWS_DEFAULT_REGION")))
        .unwrap_or_else(|| DEFAULT_REGION.to_string())
}

/// The runtime endpoint (InvokeModel): `base_url` when set (a proxy, a VPC
/// endpoint, a test fake), else `https://bedrock-runtime.{region}.amazonaws.com`.
pub fn runtime_base(provider: &Provider, region: &str) -> Result<Url, BedrockError> {
    base_or(provider, region, "bedrock-runtime")
}

/// The control-plane endpoint (ListFoundationModels): `base_url` when set, else
/// `https://bedrock.{region}.amazonaws.com`. A custom `base_url` serves both
/// planes, which is what proxies and fakes do.
pub fn control_base(provider: &Provider, region: &str) -> Result<Url, BedrockError> {
    base_or(provider, region, "bedrock")
}

fn base_or(provider: &Provider, region: &str, host: &str) -> Result<Url, BedrockError> {
    if let Some(base) = &provider.base_url {
        return Ok(base.clone());
    }
    let valid = !region.is_empty() && region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let error = || BedrockError::Endpoint {
        region: region.to_string(),
        base: host.to_string(),
    };
    if !valid {
        return Err(error());
    }
    Url::parse(&format!("https://{host}.{region}.amazonaws.com")).map_err(|_| error())
}

/// Resolves the credential for `provider` through the keyring and the caller's
/// environment. `None` when there is none at all (the provider is not used).
/// Keyring and file reads block, so they run on the blocking pool.
pub async fn resolve_auth(provider: &Provider, credentials: &Credentials) -> Option<BedrockAuth> {
    let key = credentials.resolve(provider).await.secret;
    let env = credentials.env().clone();
    let provider = provider.clone();
    tokio::task::spawn_blocking(move || resolve_auth_with(&provider, key, &*env))
        .await
        .ok()
        .flatten()
}

/// [`resolve_auth`] once the API key (keyring or `api_key_env`) is known:
/// the key wins, then AWS access keys.
pub fn resolve_auth_with(
    provider: &Provider,
    api_key: Option<Secret>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<BedrockAuth> {
    let credential = match api_key.filter(|k| !k.expose().trim().is_empty()) {
        Some(key) => BedrockCredential::ApiKey(key),
        None => BedrockCredential::Aws(aws_credentials(env)?),
    };
    Some(BedrockAuth {
        region: region(provider, env),
        credential,
    })
}

/// AWS access keys from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
/// `AWS_SESSION_TOKEN`, else from the shared credentials file
/// (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`), profile
/// `AWS_PROFILE` or `default`. Reads a small file: call off the async threads.
pub fn aws_credentials(env: &dyn Fn(&str) -> Option<String>) -> Option<AwsCredentials> {
    if let (Some(id), Some(secret)) = (
        non_empty(env("AWS_ACCESS_KEY_ID")),
        non_empty(env("AWS_SECRET_ACCESS_KEY")),
    ) {
        return Some(AwsCredentials::new(
            id,
            Secret::new(secret),
            non_empty(env("AWS_SESSION_TOKEN")).map(Secret::new),
            AwsCredentialSource::Environment,
        ));
    }
    let path = non_empty(env("AWS_SHARED_CREDENTIALS_FILE"))
        .map(PathBuf::from)
        .or_else(|| {
            non_empty(env("HOME"))
                .or_else(|| non_empty(env("USERPROFILE")))
                .map(|home| PathBuf::from(home).join(".aws").join("credentials"))
        })?;
    let profile = non_empty(env("AWS_PROFILE")).unwrap_or_else(|| DEFAULT_PROFILE.to_string());
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::debug!(path = %path.display(), error = %e, "cannot read the AWS credentials file");
            }
            return None;
        }
    };
    let (id, secret, token) = profile_keys(&text, &profile)?;
    Some(AwsCredentials::new(
        id,
        Secret::new(secret),
        token.map(Secret::new),
        AwsCredentialSource::SharedFile { path, profile },
    ))
}

/// The access keys of `[profile]` in an AWS credentials file (INI: `key = value`
/// lines under `[name]` headers, `#` and `;` comments). Both the key id and the
/// secret must be present.
fn profile_keys(text: &str, profile: &str) -> Option<(String, String, Option<String>)> {
    let (mut id, mut secret, mut token) = (None, None, None);
    let mut in_profile = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = non_empty(Some(value.trim().to_string()));
        match key.trim().to_ascii_lowercase().as_str() {
            "aws_access_key_id" => id = value,
            "aws_secret_access_key" => secret = value,
            "aws_session_token" => token = value,
            _ => {}
        }
    }
    Some((id?, secret?, token))
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Builds an InvokeModel (`stream == false`) or InvokeModelWithResponseStream
/// request from an Anthropic Messages request body, authorised by `auth`.
///
/// The model id comes from the body's `model` (set it to the provider's model
/// when re-routing). The body sent is the request without `model` and `stream`,
/// plus `anthropic_version`; anything else passes through, so a caller that
/// wants `anthropic-beta` features puts them in the body as `anthropic_beta`.
pub fn build_request(
    client: &reqwest::Client,
    provider: &Provider,
    auth: &BedrockAuth,
    body: &Value,
    stream: bool,
) -> Result<reqwest::Request, BedrockError> {
    let (model, payload) = bedrock_body(body)?;
    let action = if stream {
        "invoke-with-response-stream"
    } else {
        "invoke"
    };
    let base = runtime_base(provider, &auth.region)?;
    let url = crate::http::join_path(&base, &format!("model/{}/{action}", encode_segment(&model)));
    let accept = if stream {
        EVENT_STREAM_CONTENT_TYPE
    } else {
        "application/json"
    };
    let mut request = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, accept)
        .body(payload)
        .build()?;
    authorize(&mut request, auth)?;
    Ok(request)
}

/// The model id and the bytes Bedrock expects for an Anthropic request body.
pub fn bedrock_body(body: &Value) -> Result<(String, Vec<u8>), BedrockError> {
    let mut object = body.as_object().cloned().ok_or(BedrockError::NotAnObject)?;
    let model = match object.remove("model") {
        Some(Value::String(m)) if !m.trim().is_empty() => m.trim().to_string(),
        _ => return Err(BedrockError::MissingModel),
    };
    object.remove("stream");
    object
        .entry("anthropic_version")
        .or_insert_with(|| Value::String(ANTHROPIC_VERSION.to_string()));
    // Serialising a `Value` cannot fail: its keys are strings.
    let bytes = serde_json::to_vec(&Value::Object(object)).map_err(|_| BedrockError::NotAnObject)?;
    Ok((model, bytes))
}

/// Percent-encodes one path segment: model ids and ARNs carry `:` and `/`
/// (`anthropic.claude-...-v1:0`, inference-profile ARNs), which Bedrock wants
/// encoded, and which SigV4 then encodes once more in the canonical request.
fn encode_segment(segment: &str) -> String {
    /// Everything but RFC 3986's unreserved characters.
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Adds the credential to a built request: a bearer header for an API key, a
/// SigV4 signature over the exact method, URL, headers and body bytes otherwise.
/// Call it last: a header added afterwards is not covered by the signature.
pub fn authorize(request: &mut reqwest::Request, auth: &BedrockAuth) -> Result<(), BedrockError> {
    match &auth.credential {
        BedrockCredential::ApiKey(key) => {
            let mut value = HttpHeaderValue::from_str(&format!("Bearer {}", key.expose().trim()))
                .map_err(|_| BedrockError::InvalidKey)?;
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
            Ok(())
        }
        BedrockCredential::Aws(aws) => sign(request, aws, &auth.region, SystemTime::now()),
    }
}

/// SigV4 with service `bedrock`, at `time`.
fn sign(
    request: &mut reqwest::Request,
    aws: &AwsCredentials,
    region: &str,
    time: SystemTime,
) -> Result<(), BedrockError> {
    use aws_sigv4::http_request::{sign as sigv4_sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;

    let identity = aws_credential_types::Credentials::new(
        aws.access_key_id.clone(),
        aws.secret_access_key.expose().to_string(),
        aws.session_token.as_ref().map(|t| t.expose().to_string()),
        None,
        "switchboard",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SIGNING_SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| BedrockError::Signing(e.to_string()))?
        .into();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_string(), value.to_str().ok()?.to_string())))
        .collect();
    let body = request.body().and_then(|b| b.as_bytes()).unwrap_or_default();
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.url().as_str(),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| BedrockError::Signing(e.to_string()))?;
    let (instructions, _signature) = sigv4_sign(signable, &params)
        .map_err(|e| BedrockError::Signing(e.to_string()))?
        .into_parts();
    let (signed_headers, _params) = instructions.into_parts();
    for header in signed_headers {
        let name = HeaderName::from_static(header.name());
        let mut value =
            HttpHeaderValue::from_str(header.value()).map_err(|e| BedrockError::Signing(e.to_string()))?;
        value.set_sensitive(header.sensitive() || name == AUTHORIZATION);
        request.headers_mut().insert(name, value);
    }
    Ok(())
}

/// One decoded frame of an InvokeModelWithResponseStream answer.
#[derive(Clone, Debug, PartialEq)]
pub enum BedrockFrame {
    /// An Anthropic stream event (`message_start`, `content_block_delta`, ...).
    Event(Value),
    /// Bedrock failed mid-stream: `kind` is the `:exception-type`
    /// (`throttlingException`, `modelStreamErrorException`, ...).
    Exception { kind: String, message: String },
}

impl BedrockFrame {
    /// An exception as the Anthropic error it amounts to (see [`map_exception`]).
    pub fn as_error(&self) -> Option<MappedError> {
        match self {
            BedrockFrame::Exception { kind, message } => Some(map_exception(kind, message)),
            BedrockFrame::Event(_) => None,
        }
    }
}

/// Turns the bytes of an event-stream body, in chunks of any size, into
/// frames. Frames split across chunks (even a byte at a time) decode once
/// their last byte arrives.
#[derive(Debug, Default)]
pub struct EventStreamDecoder {
    buffer: BytesMut,
    frames: MessageFrameDecoder,
    /// The frame decoder has taken a frame's prelude and waits for the rest.
    mid_frame: bool,
}

impl EventStreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `bytes` and returns every frame they complete. Events of types
    /// other than `chunk` are skipped (forward compatibility); a frame that
    /// fails its checksum or carries a payload that is not the expected JSON
    /// is an error, after which the stream cannot be trusted.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<BedrockFrame>, BedrockError> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() > MAX_BUFFERED_BYTES {
            return Err(BedrockError::Stream(format!(
                "a frame larger than {MAX_BUFFERED_BYTES} bytes"
            )));
        }
        let mut out = Vec::new();
        loop {
            let before = self.buffer.len();
            match self
                .frames
                .decode_frame(&mut self.buffer)
                .map_err(|e| BedrockError::Stream(e.to_string()))?
            {
                DecodedFrame::Complete(message) => {
                    self.mid_frame = false;
                    out.extend(frame(&message)?);
                }
                DecodedFrame::Incomplete => {
                    self.mid_frame |= self.buffer.len() < before;
                    return Ok(out);
                }
            }
        }
    }

    /// Call when the body ended: an error if it stopped inside a frame.
    pub fn finish(&self) -> Result<(), BedrockError> {
        if self.mid_frame || !self.buffer.is_empty() {
            Err(BedrockError::Truncated)
        } else {
            Ok(())
        }
    }
}

fn header_str<'m>(message: &'m Message, name: &str) -> Option<&'m str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| h.value().as_string().ok())
        .map(|s| s.as_str())
}

fn frame(message: &Message) -> Result<Option<BedrockFrame>, BedrockError> {
    match header_str(message, ":message-type") {
        Some("event") => {
            if header_str(message, ":event-type") != Some("chunk") {
                return Ok(None);
            }
            let payload: Value = serde_json::from_slice(message.payload())
                .map_err(|e| BedrockError::Stream(format!("chunk payload is not JSON: {e}")))?;
            let encoded = payload
                .get("bytes")
                .and_then(Value::as_str)
                .ok_or_else(|| BedrockError::Stream("chunk payload has no \"bytes\"".into()))?;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| BedrockError::Stream(format!("chunk bytes are not base64: {e}")))?;
            let event = serde_json::from_slice(&raw)
                .map_err(|e| BedrockError::Stream(format!("chunk is not a JSON event: {e}")))?;
            Ok(Some(BedrockFrame::Event(event)))
        }
        Some("exception") => Ok(Some(BedrockFrame::Exception {
            kind: header_str(message, ":exception-type")
                .unwrap_or("unknownException")
                .to_string(),
            message: payload_message(message.payload()),
        })),
        // The event-stream protocol's own error frames.
        Some("error") => Ok(Some(BedrockFrame::Exception {
            kind: header_str(message, ":error-code").unwrap_or("error").to_string(),
            message: header_str(message, ":error-message")
                .map(str::to_string)
                .unwrap_or_else(|| payload_message(message.payload())),
        })),
        _ => Ok(None),
    }
}

/// The `message` (or `Message`) of an AWS JSON error payload, else its text.
fn payload_message(payload: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(payload).ok();
    parsed
        .as_ref()
        .and_then(|v| v.get("message").or_else(|| v.get("Message")))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(payload).trim().to_string())
}

/// Encodes an Anthropic stream event as Bedrock sends it: a `chunk` event frame
/// whose JSON payload holds the event base64-encoded. Exists for fakes and
/// tests that need a realistic Bedrock stream.
pub fn encode_chunk(event_json: &Value) -> Vec<u8> {
    let bytes = base64::engine::general_purpose::STANDARD.encode(event_json.to_string());
    let payload = json!({ "bytes": bytes }).to_string();
    encode(
        vec![
            Header::new(":event-type", HeaderValue::String("chunk".into())),
            Header::new(":content-type", HeaderValue::String("application/json".into())),
            Header::new(":message-type", HeaderValue::String("event".into())),
        ],
        payload,
    )
}

/// Encodes a mid-stream exception frame (`kind` such as `throttlingException`).
/// Exists for fakes and tests.
pub fn encode_exception(kind: &str, message: &str) -> Vec<u8> {
    let kind: String = kind.chars().take(MAX_KIND_CHARS).collect();
    encode(
        vec![
            Header::new(":exception-type", HeaderValue::String(kind.into())),
            Header::new(":content-type", HeaderValue::String("application/json".into())),
            Header::new(":message-type", HeaderValue::String("exception".into())),
        ],
        json!({ "message": message }).to_string(),
    )
}

fn encode(headers: Vec<Header>, payload: String) -> Vec<u8> {
    let mut out = Vec::new();
    write_message_to(&Message::new_from_parts(headers, payload), &mut out)
        // Only over-long headers or a payload over 4 GiB fail; ours are short
        // fixed names and a test-sized payload.
        .expect("small event-stream frames always encode");
    out
}

/// A Bedrock failure in Anthropic's vocabulary, for answering a client that
/// speaks the Anthropic API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedError {
    /// The HTTP status to answer with.
    pub status: u16,
    /// Anthropic's `error.type` (`rate_limit_error`, `overloaded_error`, ...).
    pub error_type: &'static str,
    pub message: String,
    /// The provider's own error name (`ThrottlingException` on Bedrock,
    /// `RESOURCE_EXHAUSTED` on Vertex), when it gave one.
    pub upstream_type: Option<String>,
    /// `x-amzn-RequestId`.
    pub request_id: Option<String>,
}

impl MappedError {
    /// The Anthropic error body: `{"type":"error","error":{"type","message"}}`.
    pub fn to_anthropic_json(&self) -> Value {
        let mut body = json!({
            "type": "error",
            "error": { "type": self.error_type, "message": self.message },
        });
        if let Some(id) = &self.request_id {
            body["request_id"] = Value::String(id.clone());
        }
        body
    }

    /// Whether another provider (or a later try) may succeed: capacity and
    /// server faults, not the request or the credential.
    pub fn is_retryable(&self) -> bool {
        matches!(self.status, 429 | 500..=599)
    }
}

/// Maps a Bedrock HTTP error answer (`{"message": ...}` with `x-amzn-ErrorType`)
/// to the Anthropic status and error type a client expects.
pub fn error_from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> MappedError {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let body_type = parsed
        .as_ref()
        .and_then(|v| v.get("__type"))
        .and_then(Value::as_str)
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_string());
    let upstream_type = header(ERROR_TYPE_HEADER)
        .map(|t| t.split(':').next().unwrap_or(t).to_string())
        .or(body_type)
        .filter(|t| !t.is_empty());
    let message = payload_message(body);
    let message = if message.is_empty() {
        format!("Bedrock answered HTTP {status}")
    } else {
        message
    };
    let (status_out, error_type) = anthropic_error(upstream_type.as_deref(), status);
    MappedError {
        status: status_out,
        error_type,
        message,
        upstream_type,
        request_id: header(REQUEST_ID_HEADER).map(str::to_string),
    }
}

/// Maps a mid-stream exception frame the same way as an HTTP error.
pub fn map_exception(kind: &str, message: &str) -> MappedError {
    let (status, error_type) = anthropic_error(Some(kind), 500);
    MappedError {
        status,
        error_type,
        message: message.to_string(),
        upstream_type: Some(kind.to_string()),
        request_id: None,
    }
}

/// AWS error name (either case: HTTP errors say `ThrottlingException`, stream
/// frames `throttlingException`) → Anthropic status and type; unknown names
/// fall back to the HTTP status.
fn anthropic_error(upstream_type: Option<&str>, status: u16) -> (u16, &'static str) {
    let name = upstream_type.unwrap_or_default().to_ascii_lowercase();
    let name = name.trim_end_matches("exception");
    match name {
        "throttling" | "toomanyrequests" | "servicequotaexceeded" => (429, "rate_limit_error"),
        // Capacity, not a fault: Anthropic's own word and status for it.
        "serviceunavailable" | "modelnotready" => (529, "overloaded_error"),
        "accessdenied" => (403, "permission_error"),
        "unrecognizedclient"
        | "expiredtoken"
        | "invalidsignature"
        | "incompletesignature"
        | "missingauthenticationtoken"
        | "invalidclienttokenid"
        | "signaturedoesnotmatch" => (401, "authentication_error"),
        "validation" => (400, "invalid_request_error"),
        "resourcenotfound" => (404, "not_found_error"),
        "modeltimeout" => (504, "timeout_error"),
        "internalserver" | "internalfailure" | "modelstreamerror" | "modelerror" => (500, "api_error"),
        _ => match status {
            400 => (400, "invalid_request_error"),
            401 => (401, "authentication_error"),
            403 => (403, "permission_error"),
            404 => (404, "not_found_error"),
            408 | 504 => (504, "timeout_error"),
            413 => (413, "request_too_large"),
            429 => (429, "rate_limit_error"),
            503 | 529 => (529, "overloaded_error"),
            s => (s, "api_error"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    fn provider() -> Provider {
        Config::parse("", Path::new("x"))
            .unwrap()
            .provider("bedrock")
            .unwrap()
            .clone()
    }

    #[test]
    fn region_order_is_config_then_env_then_default() {
        let mut p = provider();
        assert_eq!(region(&p, &|_| None), "us-east-1");
        let env = |n: &str| match n {
            "AWS_DEFAULT_REGION" => Some("eu-west-1".to_string()),
            "AWS_REGION" => Some("eu-central-1".to_string()),
            _ => None,
        };
        assert_eq!(region(&p, &env), "eu-central-1");
        assert_eq!(
            region(&p, &|n| (n == "AWS_DEFAULT_REGION").then(|| "eu-west-1".into())),
            "eu-west-1"
        );
        p.cloud.region = Some("ap-northeast-1".into());
        assert_eq!(region(&p, &env), "ap-northeast-1");
        assert_eq!(
            runtime_base(&p, "ap-northeast-1").unwrap().as_str(),
            "https://bedrock-runtime.ap-northeast-1.amazonaws.com/"
        );
        assert_eq!(
            control_base(&p, "ap-northeast-1").unwrap().as_str(),
            "https://bedrock.ap-northeast-1.amazonaws.com/"
        );
        assert!(runtime_base(&p, "evil.com/x").is_err());
    }

    #[test]
    fn credentials_file_profiles() {
        let text = "\
# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secretdefault

[work]
aws_access_key_id=AKIDWORK
aws_secret_access_key=secretwork
aws_session_token = tok
[broken]
aws_access_key_id = AKIDONLY
";
        assert_eq!(
            profile_keys(text, "default"),
            Some(("AKIDDEFAULT".into(), "secretdefault".into(), None))
        );
        assert_eq!(
            profile_keys(text, "work"),
            Some(("AKIDWORK".into(), "secretwork".into(), Some("tok".into())))
        );
        assert_eq!(profile_keys(text, "broken"), None);
        assert_eq!(profile_keys(text, "missing"), None);
    }

    #[test]
    fn api_key_wins_and_nothing_means_none() {
        let p = provider();
        let env = |n: &str| match n {
            "AWS_ACCESS_KEY_ID" => Some("AKID".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("SECRET".to_string()),
            _ => None,
        };
        let auth = resolve_auth_with(&p, Some(Secret::new("bedrock-key")), &env).unwrap();
        assert!(matches!(auth.credential, BedrockCredential::ApiKey(_)));
        let auth = resolve_auth_with(&p, None, &env).unwrap();
        assert!(matches!(auth.credential, BedrockCredential::Aws(_)));
        assert!(resolve_auth_with(&p, None, &|_| None).is_none());
        assert!(!format!("{auth:?}").contains("SECRET"));
    }

    #[test]
    fn body_drops_model_and_stream_and_pins_the_version() {
        let (model, bytes) = bedrock_body(&json!({
            "model": "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "stream": true,
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "hi"}],
        }))
        .unwrap();
        assert_eq!(model, "anthropic.claude-sonnet-4-5-20250929-v1:0");
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["anthropic_version"], ANTHROPIC_VERSION);
        assert!(body.get("model").is_none() && body.get("stream").is_none());
        assert_eq!(body["max_tokens"], 10);
        assert!(matches!(
            bedrock_body(&json!({"max_tokens": 1})),
            Err(BedrockError::MissingModel)
        ));
        assert!(matches!(
            bedrock_body(&json!([1])),
            Err(BedrockError::NotAnObject)
        ));
        assert_eq!(
            encode_segment("arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.x-v1:0"),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.anthropic.x-v1%3A0"
        );
    }

    #[test]
    fn errors_map_to_anthropic_types() {
        let mut headers = HeaderMap::new();
        headers.insert(
            ERROR_TYPE_HEADER,
            HttpHeaderValue::from_static(
                "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            ),
        );
        headers.insert(REQUEST_ID_HEADER, HttpHeaderValue::from_static("rid-1"));
        let e = error_from_response(
            429,
            &headers,
            br#"{"message":"Too many requests, please wait before trying again."}"#,
        );
        assert_eq!((e.status, e.error_type), (429, "rate_limit_error"));
        assert_eq!(e.upstream_type.as_deref(), Some("ThrottlingException"));
        assert_eq!(e.request_id.as_deref(), Some("rid-1"));
        assert_eq!(e.to_anthropic_json()["error"]["type"], "rate_limit_error");
        assert!(e.is_retryable());

        let cases = [
            ("ServiceUnavailableException", 503, 529, "overloaded_error"),
            ("ModelNotReadyException", 429, 529, "overloaded_error"),
            ("AccessDeniedException", 403, 403, "permission_error"),
            ("UnrecognizedClientException", 403, 401, "authentication_error"),
            ("ExpiredTokenException", 403, 401, "authentication_error"),
            ("ValidationException", 400, 400, "invalid_request_error"),
            ("InternalServerException", 500, 500, "api_error"),
            ("ResourceNotFoundException", 404, 404, "not_found_error"),
        ];
        for (kind, status, want_status, want_type) in cases {
            let body = json!({ "__type": format!("com.amazon.coral.service#{kind}"), "Message": "m" });
            let e = error_from_response(status, &HeaderMap::new(), body.to_string().as_bytes());
            assert_eq!((e.status, e.error_type), (want_status, want_type), "{kind}");
            assert_eq!(e.message, "m");
        }
        let e = error_from_response(502, &HeaderMap::new(), b"<html>bad gateway</html>");
        assert_eq!((e.status, e.error_type), (502, "api_error"));
        let e = map_exception("modelStreamErrorException", "boom");
        assert_eq!((e.status, e.error_type), (500, "api_error"));
        assert!(!map_exception("validationException", "x").is_retryable());
    }

    #[test]
    fn truncated_stream_is_reported() {
        let frame = encode_chunk(&json!({"type": "ping"}));
        let mut d = EventStreamDecoder::new();
        assert!(d.push(&frame[..frame.len() - 1]).unwrap().is_empty());
        assert!(matches!(d.finish(), Err(BedrockError::Truncated)));
        assert_eq!(d.push(&frame[frame.len() - 1..]).unwrap().len(), 1);
        assert!(d.finish().is_ok());
        let mut d = EventStreamDecoder::new();
        let mut corrupt = frame.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 0xff;
        assert!(matches!(d.push(&corrupt), Err(BedrockError::Stream(_))));
    }
}
