//! Claude on Google Vertex AI: `rawPredict` / `streamRawPredict` requests with
//! an access token from a command (`gcloud auth print-access-token`).
//!
//! Vertex takes the Anthropic Messages body with the model moved into the URL
//! and `anthropic_version` pinned, and answers exactly like the Anthropic API
//! (JSON, or SSE when streaming), so only the request differs.
//!
//! Tokens: the provider's `token_command` (default [`VERTEX_TOKEN_COMMAND`]) is
//! run without a shell, with a timeout; its trimmed stdout is the token. Tokens
//! are cached for [`TOKEN_TTL`] (gcloud's live an hour) in a [`TokenSource`]
//! shared by everything that holds the same [`Credentials`], and refreshed
//! early when a request gets a 401 ([`TokenSource::invalidate`]). When the
//! command cannot run, a static access token stored in the keyring under the
//! provider id is the fallback (useful where gcloud is not installed).
//!
//! Left out on purpose: service-account key files and the metadata server
//! (point `token_command` at whatever prints a token, e.g.
//! `gcloud auth application-default print-access-token`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::bedrock::MappedError;
use crate::catalog::VERTEX_TOKEN_COMMAND;
use crate::config::Provider;
use crate::secrets::{Credentials, Secret};

/// The body field that selects Vertex's dialect of the Messages API.
pub const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";
/// Location when neither the config nor `CLOUD_ML_REGION` says: the global
/// endpoint serves every current Claude model and has the best availability.
pub const DEFAULT_REGION: &str = "global";
/// Model the probe looks up when the provider names none.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-5";
/// How long a token is reused. gcloud's tokens live 60 minutes; refreshing
/// at 45 leaves room for clock skew and long streams.
pub const TOKEN_TTL: Duration = Duration::from_secs(45 * 60);
/// How long a failed token command is remembered, so a missing login does not
/// spawn gcloud on every quick re-probe. `invalidate` forgets it at once.
pub const FAILURE_TTL: Duration = Duration::from_secs(60);
/// Longest wait for the token command: gcloud may refresh over the network.
pub const TOKEN_COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
/// Environment variables naming the project, most specific first: Claude
/// Code's own, then Google Cloud's, then gcloud's override.
const PROJECT_ENV: [&str; 3] = [
    "ANTHROPIC_VERTEX_PROJECT_ID",
    "GOOGLE_CLOUD_PROJECT",
    "CLOUDSDK_CORE_PROJECT",
];
/// Claude Code's variable for the Vertex location.
const REGION_ENV: &str = "CLOUD_ML_REGION";
/// Longest piece of the command's stderr kept in an error message.
const MAX_DETAIL_CHARS: usize = 200;

/// Why an access token could not be had. Never carries the command's stdout
/// (the token), only its name and the first line of its stderr.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error(
        "the Vertex token command `{command}` was not found (install the gcloud CLI or set token_command)"
    )]
    NotFound { command: String },
    #[error("the Vertex token command `{command}` could not start: {detail}")]
    Spawn { command: String, detail: String },
    #[error("the Vertex token command `{command}` failed: {detail}")]
    Failed { command: String, detail: String },
    #[error("the Vertex token command `{command}` did not finish within {secs} s")]
    Timeout { command: String, secs: u64 },
    #[error("the Vertex token command `{command}` printed no token")]
    Empty { command: String },
}

#[derive(Debug, thiserror::Error)]
pub enum VertexError {
    #[error("no Google Cloud project for Vertex: set `project` in the config or ANTHROPIC_VERTEX_PROJECT_ID / GOOGLE_CLOUD_PROJECT")]
    NoProject,
    #[error("the request has no \"model\": Vertex needs a model such as claude-sonnet-4-5@20250929")]
    MissingModel,
    #[error("the request body must be a JSON object")]
    NotAnObject,
    #[error("cannot build a Vertex URL for location {region:?}")]
    Endpoint { region: String },
    #[error("cannot build the Vertex request: {0}")]
    Request(#[from] reqwest::Error),
    /// Deliberately carries no part of the token.
    #[error("the Vertex access token contains characters that cannot be sent in an HTTP header")]
    InvalidToken,
    #[error(transparent)]
    Token(#[from] TokenError),
}

/// Where requests for one Vertex provider go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VertexTarget {
    pub project: String,
    pub region: String,
    /// `base_url`, else the regional (or global) `aiplatform` endpoint.
    pub base: Url,
}

impl VertexTarget {
    /// Project: the provider's `project`, else [`PROJECT_ENV`]. Region: its
    /// `region`, else `CLOUD_ML_REGION`, else [`DEFAULT_REGION`]. Without a
    /// project there is nothing to call: [`VertexError::NoProject`].
    pub fn resolve(provider: &Provider, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, VertexError> {
        let project = provider
            .cloud
            .project
            .clone()
            .or_else(|| PROJECT_ENV.iter().find_map(|name| non_empty(env(name))))
            .ok_or(VertexError::NoProject)?;
        let region = provider
            .cloud
            .region
            .clone()
            .or_else(|| non_empty(env(REGION_ENV)))
            .unwrap_or_else(|| DEFAULT_REGION.to_string());
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '_'))
        };
        if !valid(&region) || !valid(&project) {
            return Err(VertexError::Endpoint { region });
        }
        let base = match &provider.base_url {
            Some(base) => base.clone(),
            None => {
                let host = if region == "global" {
                    "https://aiplatform.googleapis.com".to_string()
                } else {
                    format!("https://{region}-aiplatform.googleapis.com")
                };
                Url::parse(&host).map_err(|_| VertexError::Endpoint {
                    region: region.clone(),
                })?
            }
        };
        Ok(VertexTarget {
            project,
            region,
            base,
        })
    }

    /// `{base}/v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:{method}`.
    pub fn model_url(&self, model: &str, method: &str) -> Url {
        crate::http::join_path(
            &self.base,
            &format!(
                "v1/projects/{}/locations/{}/publishers/anthropic/models/{}:{method}",
                self.project,
                self.region,
                encode_model(model)
            ),
        )
    }
}

/// Model ids carry `@version`, which Vertex URLs keep literally; anything
/// outside the unreserved set (a stray space or slash) is encoded.
fn encode_model(model: &str) -> String {
    const MODEL: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'@');
    percent_encoding::utf8_percent_encode(model, MODEL).to_string()
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Builds a `rawPredict` (`stream == false`) or `streamRawPredict` request from
/// an Anthropic Messages request body. The model comes from the body's `model`
/// (set it to the provider's model when re-routing); the body sent keeps
/// everything else, adds `anthropic_version`, and says `stream` only when
/// streaming.
pub fn build_request(
    client: &reqwest::Client,
    target: &VertexTarget,
    token: &Secret,
    body: &Value,
    stream: bool,
) -> Result<reqwest::Request, VertexError> {
    let (model, payload) = vertex_body(body, stream)?;
    let method = if stream { "streamRawPredict" } else { "rawPredict" };
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose().trim()))
        .map_err(|_| VertexError::InvalidToken)?;
    auth.set_sensitive(true);
    let accept = if stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    Ok(client
        .post(target.model_url(&model, method))
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, accept)
        .header(AUTHORIZATION, auth)
        .body(payload)
        .build()?)
}

/// The model id and the bytes Vertex expects for an Anthropic request body.
pub fn vertex_body(body: &Value, stream: bool) -> Result<(String, Vec<u8>), VertexError> {
    let mut object = body.as_object().cloned().ok_or(VertexError::NotAnObject)?;
    let model = match object.remove("model") {
        Some(Value::String(m)) if !m.trim().is_empty() => m.trim().to_string(),
        _ => return Err(VertexError::MissingModel),
    };
    if stream {
        object.insert("stream".into(), Value::Bool(true));
    } else {
        object.remove("stream");
    }
    object
        .entry("anthropic_version")
        .or_insert_with(|| Value::String(ANTHROPIC_VERSION.to_string()));
    let bytes = serde_json::to_vec(&Value::Object(object)).map_err(|_| VertexError::NotAnObject)?;
    Ok((model, bytes))
}

/// The provider's token command, or the default one, as program + arguments.
pub fn token_command(provider: &Provider) -> Vec<String> {
    provider.cloud.token_command.clone().unwrap_or_else(|| {
        VERTEX_TOKEN_COMMAND
            .split_whitespace()
            .map(str::to_string)
            .collect()
    })
}

/// The shared token source for `provider`'s command: one cache per command
/// for everything holding clones of `credentials` (probes and gateway alike).
pub fn token_source(provider: &Provider, credentials: &Credentials) -> TokenSource {
    credentials.token_source(&token_command(provider))
}

/// A token for `provider`: from its command, else (when the command cannot
/// run or fails) a static token stored in the keyring under the provider id.
/// The command's error is returned when there is no fallback.
pub async fn access_token(provider: &Provider, credentials: &Credentials) -> Result<Secret, VertexError> {
    match token_source(provider, credentials).token().await {
        Ok(token) => Ok(token),
        Err(error) => match credentials.resolve(provider).await.secret {
            Some(stored) => Ok(stored),
            None => Err(error),
        },
    }
}

/// Runs a token command at most once per [`TOKEN_TTL`] and hands out the
/// cached token in between. Cheap to clone; clones share the cache, and
/// concurrent callers wait for one run instead of starting several.
#[derive(Clone)]
pub struct TokenSource {
    inner: Arc<TokenInner>,
}

struct TokenInner {
    command: Vec<String>,
    ttl: Duration,
    timeout: Duration,
    /// Bumped by `invalidate`; a cached entry from an older generation is stale.
    generation: AtomicU64,
    state: tokio::sync::Mutex<Option<Cached>>,
}

struct Cached {
    result: Result<Secret, TokenError>,
    at: Instant,
    generation: u64,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("command", &self.inner.command)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    /// A source for `command` (program and arguments) with the default TTL
    /// and timeout.
    pub fn new(command: Vec<String>) -> Self {
        Self::with_limits(command, TOKEN_TTL, TOKEN_COMMAND_TIMEOUT)
    }

    pub fn with_limits(command: Vec<String>, ttl: Duration, timeout: Duration) -> Self {
        TokenSource {
            inner: Arc::new(TokenInner {
                command,
                ttl,
                timeout,
                generation: AtomicU64::new(0),
                state: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// The command, for messages.
    pub fn command(&self) -> String {
        shell_words::join(&self.inner.command)
    }

    /// The cached token, or a fresh one from the command.
    pub async fn token(&self) -> Result<Secret, VertexError> {
        let mut state = self.inner.state.lock().await;
        let generation = self.inner.generation.load(Ordering::SeqCst);
        if let Some(cached) = state.as_ref().filter(|c| c.generation == generation) {
            let ttl = match cached.result {
                Ok(_) => self.inner.ttl,
                Err(_) => FAILURE_TTL.min(self.inner.ttl),
            };
            if cached.at.elapsed() < ttl {
                return cached.result.clone().map_err(VertexError::from);
            }
        }
        let result = run(&self.inner.command, self.inner.timeout).await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, "Vertex token command failed");
        }
        *state = Some(Cached {
            result: result.clone(),
            at: Instant::now(),
            generation,
        });
        result.map_err(VertexError::from)
    }

    /// Forgets the cached token (or failure): call on a 401, so the next
    /// [`TokenSource::token`] runs the command again.
    pub fn invalidate(&self) {
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs the command without a shell and reads the token from its stdout.
async fn run(command: &[String], timeout: Duration) -> Result<Secret, TokenError> {
    let display = shell_words::join(command);
    let Some((program, args)) = command.split_first() else {
        return Err(TokenError::NotFound { command: display });
    };
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TokenError::NotFound { command: display })
        }
        Err(e) => {
            return Err(TokenError::Spawn {
                command: display,
                detail: e.to_string(),
            })
        }
    };
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => {
            return Err(TokenError::Timeout {
                command: display,
                secs: timeout.as_secs().max(1),
            })
        }
        Ok(Err(e)) => {
            return Err(TokenError::Spawn {
                command: display,
                detail: e.to_string(),
            })
        }
        Ok(Ok(output)) => output,
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.chars().take(MAX_DETAIL_CHARS).collect::<String>());
        let detail = match first {
            Some(line) => format!("{} ({line})", exit_words(&output.status)),
            None => exit_words(&output.status),
        };
        return Err(TokenError::Failed {
            command: display,
            detail,
        });
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Wrappers sometimes print a banner first; the token is the last line.
    match stdout.lines().map(str::trim).rfind(|l| !l.is_empty()) {
        Some(token) => Ok(Secret::new(token)),
        None => Err(TokenError::Empty { command: display }),
    }
}

fn exit_words(status: &std::process::ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => "killed by a signal".to_string(),
    }
}

/// Maps a Vertex error answer to the Anthropic status and type a client
/// expects. Model errors arrive already in Anthropic's envelope and keep their
/// type; Google's `{"error":{"code","message","status"}}` is mapped by status.
pub fn error_from_response(status: u16, body: &[u8]) -> MappedError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body).trim().to_string();
            if text.is_empty() {
                format!("Vertex AI answered HTTP {status}")
            } else {
                text
            }
        });
    let anthropic_type = error.and_then(|e| e.get("type")).and_then(Value::as_str);
    let google_status = error
        .and_then(|e| e.get("status"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let known = anthropic_type.and_then(|t| {
        [
            "invalid_request_error",
            "authentication_error",
            "billing_error",
            "permission_error",
            "not_found_error",
            "request_too_large",
            "rate_limit_error",
            "api_error",
            "timeout_error",
            "overloaded_error",
        ]
        .into_iter()
        .find(|k| *k == t)
    });
    let (status_out, error_type) = match (known, status) {
        (Some("overloaded_error"), _) => (529, "overloaded_error"),
        (Some(t), s) => (s, t),
        (None, 400) => (400, "invalid_request_error"),
        (None, 401) => (401, "authentication_error"),
        (None, 403) => (403, "permission_error"),
        (None, 404) => (404, "not_found_error"),
        (None, 408 | 504) => (504, "timeout_error"),
        (None, 413) => (413, "request_too_large"),
        (None, 429) => (429, "rate_limit_error"),
        (None, 503 | 529) => (529, "overloaded_error"),
        (None, s) => (s, "api_error"),
    };
    MappedError {
        status: status_out,
        error_type,
        message,
        upstream_type: google_status,
        request_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;
    use std::path::Path;

    fn provider() -> Provider {
        Config::parse("", Path::new("x"))
            .unwrap()
            .provider("vertex")
            .unwrap()
            .clone()
    }

    #[test]
    fn target_defaults_and_urls() {
        let mut p = provider();
        assert!(matches!(
            VertexTarget::resolve(&p, &|_| None),
            Err(VertexError::NoProject)
        ));
        let env = |n: &str| (n == "GOOGLE_CLOUD_PROJECT").then(|| "proj-1".to_string());
        let t = VertexTarget::resolve(&p, &env).unwrap();
        assert_eq!((t.project.as_str(), t.region.as_str()), ("proj-1", "global"));
        assert_eq!(
            t.model_url("claude-sonnet-4-5@20250929", "rawPredict").as_str(),
            "https://aiplatform.googleapis.com/v1/projects/proj-1/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
        );
        p.cloud.region = Some("us-east5".into());
        p.cloud.project = Some("cfg-proj".into());
        let t = VertexTarget::resolve(&p, &env).unwrap();
        assert_eq!(t.project, "cfg-proj");
        assert_eq!(t.base.as_str(), "https://us-east5-aiplatform.googleapis.com/");
        let t = VertexTarget::resolve(&provider(), &|n| match n {
            "ANTHROPIC_VERTEX_PROJECT_ID" => Some("claude-proj".into()),
            "GOOGLE_CLOUD_PROJECT" => Some("other".into()),
            "CLOUD_ML_REGION" => Some("europe-west1".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            (t.project.as_str(), t.region.as_str()),
            ("claude-proj", "europe-west1")
        );
    }

    #[test]
    fn body_keeps_stream_only_when_streaming() {
        let req = json!({"model": "claude-x@1", "stream": true, "max_tokens": 5, "messages": []});
        let (model, bytes) = vertex_body(&req, true).unwrap();
        assert_eq!(model, "claude-x@1");
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["anthropic_version"], ANTHROPIC_VERSION);
        assert_eq!(body["stream"], true);
        assert!(body.get("model").is_none());
        let (_, bytes) = vertex_body(&req, false).unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert!(body.get("stream").is_none());
        assert!(matches!(
            vertex_body(&json!({}), false),
            Err(VertexError::MissingModel)
        ));
    }

    #[test]
    fn default_command_is_gcloud() {
        assert_eq!(
            token_command(&provider()),
            ["gcloud", "auth", "print-access-token"]
        );
    }

    #[test]
    fn google_and_anthropic_errors_map() {
        let e = error_from_response(
            429,
            br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
        );
        assert_eq!(
            (e.status, e.error_type, e.message.as_str()),
            (429, "rate_limit_error", "Quota exceeded")
        );
        assert_eq!(e.upstream_type.as_deref(), Some("RESOURCE_EXHAUSTED"));
        let e = error_from_response(
            529,
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert_eq!((e.status, e.error_type), (529, "overloaded_error"));
        let e = error_from_response(503, b"no healthy upstream");
        assert_eq!(
            (e.status, e.error_type, e.message.as_str()),
            (529, "overloaded_error", "no healthy upstream")
        );
        let e = error_from_response(
            401,
            br#"{"error":{"code":401,"message":"bad","status":"UNAUTHENTICATED"}}"#,
        );
        assert_eq!((e.status, e.error_type), (401, "authentication_error"));
    }
}
