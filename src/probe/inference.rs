//! Inference checks: the smallest real generation each protocol allows, sent
//! to one model, to see the outages a model list cannot (a model answering
//! `500 api_error` after 12 s while `GET /v1/models` answers 200).
//!
//! One user message of one word, one output token, no tools, no system
//! prompt, not streamed. The request is built by the same builders the
//! gateway uses ([`crate::upstream`]), so Bedrock (InvokeModel) and Vertex
//! (rawPredict) are covered with the credentials a gateway call would use.
//! The answer is classified by the probes' table ([`super::classify`]) with
//! the time to first byte as its latency, and its reported usage priced
//! ([`super::prices`]).
//!
//! Left out on purpose: when to check and whether the budget allows it (the
//! engine, with `health::budget`), and the state over time (`health`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tokio::time::{timeout_at, Instant};

use super::{setup_report, unreachable, Cut};
use crate::cloud::google::{TokenError, VertexError, VertexTarget};
use crate::config::{CheckConfig, Provider};
use crate::credentials::Credentials;
use crate::model::{NetFailure, ProbeClass, ProbeReport, ProviderKind};
use crate::secrets::Secret;
use crate::upstream::{self, Auth, Body, Dialect, Generation};

/// The user message of every check: one word, so the input is a handful of tokens.
pub(crate) const PROMPT: &str = "Hi";

/// Tokens an answer reported using.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// One inference check of one model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelCheck {
    pub model: String,
    pub report: ProbeReport,
    /// What the answer said it used (`None`: an error, or no usage reported).
    pub usage: Option<Usage>,
    /// US dollars this check cost: from `usage`, or the estimate when a
    /// success reported none; 0 for an error (errors are not billed).
    pub cost_usd: f64,
}

/// The request body for `model` in `kind`'s own protocol.
pub(crate) fn request_body(kind: ProviderKind, model: &str) -> Value {
    let user = json!([{"role": "user", "content": PROMPT}]);
    match kind {
        ProviderKind::Anthropic | ProviderKind::Bedrock | ProviderKind::Vertex => json!({
            "model": model,
            "max_tokens": 1,
            "messages": user,
        }),
        ProviderKind::Gemini => json!({
            "contents": [{"role": "user", "parts": [{"text": PROMPT}]}],
            "generationConfig": {"maxOutputTokens": 1},
        }),
        ProviderKind::Openai
        | ProviderKind::OpenaiCompatible
        | ProviderKind::Ollama
        | ProviderKind::Status => {
            let mut body = json!({"model": model, "messages": user});
            body[upstream::output_limit_field(kind)] = json!(1);
            body
        }
    }
}

/// The tokens a successful answer of `kind` reports using.
pub(crate) fn usage(kind: ProviderKind, body: &[u8]) -> Option<Usage> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let n = |v: &Value, key: &str| v.get(key).and_then(Value::as_u64);
    match kind {
        ProviderKind::Anthropic | ProviderKind::Bedrock | ProviderKind::Vertex => {
            let u = v.get("usage")?;
            Some(Usage {
                input_tokens: n(u, "input_tokens")?,
                output_tokens: n(u, "output_tokens").unwrap_or(0),
            })
        }
        ProviderKind::Gemini => {
            let u = v.get("usageMetadata")?;
            Some(Usage {
                input_tokens: n(u, "promptTokenCount")?,
                // Thinking tokens are billed as output.
                output_tokens: n(u, "candidatesTokenCount").unwrap_or(0)
                    + n(u, "thoughtsTokenCount").unwrap_or(0),
            })
        }
        _ => {
            let u = v.get("usage")?;
            Some(Usage {
                input_tokens: n(u, "prompt_tokens")?,
                output_tokens: n(u, "completion_tokens").unwrap_or(0),
            })
        }
    }
}

/// Checks `model` at `provider` once. `None` when no request can be made:
/// a status surface, or no credential at all (as for probes, the page and
/// the model list decide then).
pub async fn check_model(
    client: &reqwest::Client,
    provider: &Provider,
    credentials: &Credentials,
    key: Option<&Secret>,
    model: &str,
    check: &CheckConfig,
    started_at: DateTime<Utc>,
) -> Option<ModelCheck> {
    let body = Body::Json(request_body(provider.kind, model));
    let how = Generation::default();
    let (request, secrets): (Result<reqwest::Request, ProbeReport>, Vec<String>) = match provider.kind {
        ProviderKind::Status => return None,
        ProviderKind::Bedrock => {
            let env = credentials.env().clone();
            let (owned, key_owned) = (provider.clone(), key.cloned());
            let auth = tokio::task::spawn_blocking(move || {
                crate::cloud::aws::resolve_auth_with(&owned, key_owned, &*env)
            })
            .await
            .ok()
            .flatten()?;
            let secrets = auth.secrets().into_iter().map(str::to_string).collect();
            let auth = Auth::Bedrock(auth);
            (
                build(client, provider, Dialect::Bedrock, &auth, &body, &how)
                    .map_err(|e| not_built(e, started_at)),
                secrets,
            )
        }
        ProviderKind::Vertex => {
            let target = match VertexTarget::resolve(provider, &**credentials.env()) {
                Ok(target) => target,
                Err(VertexError::NoProject) => return None,
                Err(e) => {
                    return Some(failed(
                        model,
                        setup_report("invalid_config", e.to_string(), started_at),
                    ))
                }
            };
            let source = upstream::vertex::token_source(provider, credentials);
            let token = match (source.token().await, key) {
                (Ok(token), _) => token,
                (Err(_), Some(stored)) => stored.clone(),
                (Err(VertexError::Token(TokenError::NotFound { .. })), None) => return None,
                (Err(e), None) => {
                    return Some(failed(
                        model,
                        setup_report("token_command_failed", e.to_string(), started_at),
                    ))
                }
            };
            let secrets = vec![token.expose().trim().to_string()];
            let auth = Auth::Vertex(target, token);
            (
                build(client, provider, Dialect::Vertex, &auth, &body, &how)
                    .map_err(|e| not_built(e, started_at)),
                secrets,
            )
        }
        ProviderKind::Gemini => {
            let key = key?;
            let request = upstream::gemini_generate(client, provider, key, model, &body)
                .map_err(|e| setup_report("invalid_key", e.to_string(), started_at));
            (request, vec![key.expose().trim().to_string()])
        }
        ProviderKind::Anthropic
        | ProviderKind::Openai
        | ProviderKind::OpenaiCompatible
        | ProviderKind::Ollama => {
            if provider.needs_key() && key.is_none() {
                return None;
            }
            let dialect = Dialect::of(provider.kind)?;
            let auth = Auth::Key(key.cloned());
            let secrets = auth.secrets().into_iter().map(str::to_string).collect();
            (
                build(client, provider, dialect, &auth, &body, &how).map_err(|e| not_built(e, started_at)),
                secrets,
            )
        }
    };
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let (mut report, body) = match request {
        Ok(request) => send_first_byte(client, request, provider.kind, check, started_at).await,
        Err(report) => (report, Vec::new()),
    };
    for secret in &secrets {
        super::redact_report(&mut report, secret.trim());
    }
    let usage = (report.class == ProbeClass::Ok || report.class == ProbeClass::Slow)
        .then(|| usage(provider.kind, &body))
        .flatten();
    let price = super::prices::price(provider, model);
    let cost_usd = match (&report.class, usage) {
        (_, Some(u)) => price.cost(u.input_tokens, u.output_tokens),
        (ProbeClass::Ok | ProbeClass::Slow, None) => price.per_check(),
        _ => 0.0,
    };
    tracing::debug!(provider = %provider.id, %model, class = ?report.class, cost_usd, "inference check finished");
    Some(ModelCheck {
        model: model.to_string(),
        report,
        usage,
        cost_usd,
    })
}

fn build(
    client: &reqwest::Client,
    provider: &Provider,
    dialect: Dialect,
    auth: &Auth,
    body: &Body,
    how: &Generation,
) -> Result<reqwest::Request, upstream::BuildError> {
    upstream::generation(client, provider, dialect, auth, body, how)
}

/// A request that could not be built is the user's setup to fix (a key that
/// cannot travel in a header, a body the cloud builder refuses).
fn not_built(e: upstream::BuildError, at: DateTime<Utc>) -> ProbeReport {
    setup_report("invalid_request", e.to_string(), at)
}

fn failed(model: &str, report: ProbeReport) -> ModelCheck {
    ModelCheck {
        model: model.to_string(),
        report,
        usage: None,
        cost_usd: 0.0,
    }
}

/// Sends one check; its latency is the time to the first byte of the
/// answer (the headers), which is what a user waits before anything
/// happens. Returns the report and the (capped) body, for the usage.
async fn send_first_byte(
    client: &reqwest::Client,
    request: reqwest::Request,
    kind: ProviderKind,
    check: &CheckConfig,
    at: DateTime<Utc>,
) -> (ProbeReport, Vec<u8>) {
    let start = Instant::now();
    let deadline = start + check.timeout;
    let mut response = match timeout_at(deadline, client.execute(request)).await {
        Err(_) => {
            let detail = super::no_answer_within(check.timeout);
            return (
                unreachable(NetFailure::Timeout, Some(detail), start.elapsed(), at),
                Vec::new(),
            );
        }
        Ok(Err(e)) => return (super::transport_error(&e, start.elapsed(), at), Vec::new()),
        Ok(Ok(response)) => response,
    };
    let first_byte: Duration = start.elapsed();
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    let (body, cut) = super::read_capped(&mut response, deadline).await;
    if let Some(cut) = cut.filter(|_| (200..300).contains(&status)) {
        let (failure, cause) = match &cut {
            Cut::Timeout => (NetFailure::Timeout, super::no_answer_within(check.timeout)),
            Cut::Transport(e) => (crate::http::net_failure(e), super::classify::root_cause(e)),
        };
        let detail = format!("{cause} (while reading the HTTP {status} body)");
        return (unreachable(failure, Some(detail), start.elapsed(), at), body);
    }
    let report = super::classify(kind, status, &headers, &body, first_byte, check.slow, at);
    (report, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_ask_for_one_token_in_each_protocol() {
        let a = request_body(ProviderKind::Anthropic, "claude-haiku-4-5");
        assert_eq!(a["max_tokens"], 1);
        assert!(a.get("system").is_none() && a.get("tools").is_none());
        let o = request_body(ProviderKind::Openai, "gpt-4o-mini");
        assert_eq!(o["max_completion_tokens"], 1);
        assert!(o.get("max_tokens").is_none());
        let c = request_body(ProviderKind::OpenaiCompatible, "llama");
        assert_eq!(c["max_tokens"], 1);
        let g = request_body(ProviderKind::Gemini, "gemini-2.5-flash");
        assert_eq!(g["generationConfig"]["maxOutputTokens"], 1);
    }

    #[test]
    fn usage_is_read_in_each_protocol() {
        let a = br#"{"usage":{"input_tokens":8,"output_tokens":1}}"#;
        assert_eq!(
            usage(ProviderKind::Anthropic, a),
            Some(Usage {
                input_tokens: 8,
                output_tokens: 1
            })
        );
        let o = br#"{"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}"#;
        assert_eq!(usage(ProviderKind::Openai, o).map(|u| u.input_tokens), Some(9));
        let g =
            br#"{"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":1,"thoughtsTokenCount":3}}"#;
        assert_eq!(usage(ProviderKind::Gemini, g).map(|u| u.output_tokens), Some(4));
        assert_eq!(usage(ProviderKind::Anthropic, b"not json"), None);
    }
}
