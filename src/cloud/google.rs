//! Google Cloud for Claude on Vertex AI: where requests go (project, location,
//! endpoint) and the access token, printed by a command
//! (`gcloud auth print-access-token`) and cached.
//!
//! Tokens: the provider's `token_command` (default [`VERTEX_TOKEN_COMMAND`]) is
//! run without a shell, with a timeout; its trimmed stdout is the token. Tokens
//! are cached for [`TOKEN_TTL`] (gcloud's live an hour) in a [`TokenSource`];
//! a [`TokenCache`] hands out one source per command, so everything sharing it
//! (the probes and the gateway, through `Credentials`) runs the command once per
//! token lifetime. [`TokenSource::invalidate`] refreshes early after a 401.
//!
//! Left out on purpose: service-account key files and the metadata server
//! (point `token_command` at whatever prints a token, e.g.
//! `gcloud auth application-default print-access-token`), and the static
//! token fallback from the keyring (`upstream::vertex::access_token`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use url::Url;

use super::non_empty;
use crate::catalog::VERTEX_TOKEN_COMMAND;
use crate::config::Provider;
use crate::secrets::Secret;

/// Location when neither the config nor `CLOUD_ML_REGION` says: the global
/// endpoint serves every current Claude model and has the best availability.
pub(crate) const DEFAULT_REGION: &str = "global";
/// Model the probe looks up when the provider names none.
pub(crate) const DEFAULT_MODEL: &str = "claude-sonnet-4-5";
/// How long a token is reused. gcloud's tokens live 60 minutes; refreshing
/// at 45 leaves room for clock skew and long streams.
pub(crate) const TOKEN_TTL: Duration = Duration::from_secs(45 * 60);
/// How long a failed token command is remembered, so a missing login does not
/// spawn gcloud on every quick re-probe. `invalidate` forgets it at once.
pub(crate) const FAILURE_TTL: Duration = Duration::from_secs(60);
/// Longest wait for the token command: gcloud may refresh over the network.
pub(crate) const TOKEN_COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
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
pub(crate) enum TokenError {
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
pub(crate) enum VertexError {
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
pub(crate) struct VertexTarget {
    pub(crate) project: String,
    pub(crate) region: String,
    /// `base_url`, else the regional (or global) `aiplatform` endpoint.
    pub(crate) base: Url,
}

impl VertexTarget {
    /// Project: the provider's `project`, else [`PROJECT_ENV`]. Region: its
    /// `region`, else `CLOUD_ML_REGION`, else [`DEFAULT_REGION`]. Without a
    /// project there is nothing to call: [`VertexError::NoProject`].
    pub(crate) fn resolve(
        provider: &Provider,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, VertexError> {
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
    pub(crate) fn model_url(&self, model: &str, method: &str) -> Url {
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

/// The provider's token command, or the default one, as program + arguments.
pub(crate) fn token_command(provider: &Provider) -> Vec<String> {
    provider.cloud.token_command.clone().unwrap_or_else(|| {
        VERTEX_TOKEN_COMMAND
            .split_whitespace()
            .map(str::to_string)
            .collect()
    })
}

/// One [`TokenSource`] per token command, shared by every clone: the probes
/// and the gateway hold clones of the same `Credentials`, so `gcloud` runs
/// once per token lifetime, not once each.
#[derive(Clone, Default)]
pub(crate) struct TokenCache {
    sources: Arc<Mutex<HashMap<Vec<String>, TokenSource>>>,
}

impl TokenCache {
    /// The shared source for `command` (program and arguments).
    pub(crate) fn source(&self, command: &[String]) -> TokenSource {
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        sources
            .entry(command.to_vec())
            .or_insert_with(|| TokenSource::new(command.to_vec()))
            .clone()
    }
}

/// Runs a token command at most once per [`TOKEN_TTL`] and hands out the
/// cached token in between. Cheap to clone; clones share the cache, and
/// concurrent callers wait for one run instead of starting several.
#[derive(Clone)]
pub(crate) struct TokenSource {
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
    pub(crate) fn new(command: Vec<String>) -> Self {
        Self::with_limits(command, TOKEN_TTL, TOKEN_COMMAND_TIMEOUT)
    }

    pub(crate) fn with_limits(command: Vec<String>, ttl: Duration, timeout: Duration) -> Self {
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
    #[allow(dead_code)] // No message names it yet.
    pub(crate) fn command(&self) -> String {
        shell_words::join(&self.inner.command)
    }

    /// The cached token, or a fresh one from the command.
    pub(crate) async fn token(&self) -> Result<Secret, VertexError> {
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
    pub(crate) fn invalidate(&self) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
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
    fn default_command_is_gcloud() {
        assert_eq!(
            token_command(&provider()),
            ["gcloud", "auth", "print-access-token"]
        );
    }
}
