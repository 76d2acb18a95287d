//! Provider probes: the cheapest authenticated call that proves an API answers
//! and costs no tokens, and the classification of what came back.
//!
//! The kinds spoken to with an API key are probed with their model list, whose
//! request (URL by the kind's `base_url` convention, headers carrying the key)
//! is built in `upstream::models`, next to the gateway's and the inference
//! checks' requests. Sending, timing, reading a capped body and classifying are
//! shared: [`classify`] is pure (status, headers, body, latency → [`ProbeReport`]).
//!
//! The cloud kinds are probed through [`probe_with_credentials`], because a
//! single key is not enough for them: Bedrock signs with SigV4 or sends a
//! Bedrock API key, Vertex needs a project and a token from a command. Their
//! requests (`upstream::bedrock::model_list`, `upstream::vertex::model_list`)
//! and credentials (`cloud`) are the ones the gateway uses too, so a probe
//! proves what a gateway call would use.
//!
//! Left out on purpose: deciding a provider's state over time and "offline" when
//! every provider is unreachable at once (`health`).
//!
//! The key is only ever read into a sensitive header value. It is scrubbed from
//! anything the provider echoes back, so no report, log or error can carry it.

pub(crate) mod classify;
mod error_body;
pub mod inference;
pub mod prices;

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::{timeout_at, Instant};
use url::Url;

use crate::cloud::aws::AwsError;
use crate::cloud::google::{TokenError, VertexError, VertexTarget};
use crate::config::{CheckConfig, Provider};
use crate::credentials::Credentials;
use crate::model::ProviderKind;
use crate::model::{NetFailure, ProbeClass, ProbeReport};
use crate::secrets::Secret;
use crate::upstream::bedrock::BedrockError;
use crate::upstream::{models, BuildError};

pub use classify::{classify, transport_error, unreachable};

/// Most body bytes read from one answer. Probe answers are a few kilobytes; the
/// cap keeps a misbehaving server (or a wrong `base_url` serving a big file)
/// from costing memory or time. What fits is classified; the rest is ignored.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Stands in for the key wherever a provider echoed it back.
const REDACTED: &str = "<redacted>";

/// The stored key cannot travel in an HTTP header. Deliberately carries no part
/// of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the stored key contains characters that cannot be sent in an HTTP header (a pasted line break?); set it again")]
pub(crate) struct InvalidKey;

/// Probes `provider` once with `key`. `None` when its kind has no probe here
/// (status-only; Bedrock and Vertex, which need [`probe_with_credentials`]),
/// when a key is needed and missing (the status page decides then), or when
/// the provider has no `base_url` (validated configs always give probed kinds one).
///
/// Otherwise always a report: a transport failure is
/// [`ProbeClass::Unreachable`] with no HTTP status. The whole call, body
/// included, is bounded by `check.timeout`; `started_at` becomes the report's `at`.
pub async fn probe(
    client: &reqwest::Client,
    provider: &Provider,
    key: Option<&Secret>,
    check: &CheckConfig,
    started_at: DateTime<Utc>,
) -> Option<ProbeReport> {
    // Status-only surfaces have nothing to probe; Bedrock (SigV4) and Vertex
    // (a command-issued token) need `probe_with_credentials`.
    if !models::listed(provider.kind) {
        return None;
    }
    if provider.needs_key() && key.is_none() {
        return None;
    }
    provider.base_url.as_ref()?;
    let request = models::model_list(client, provider, key).map_err(|e| match e {
        BuildError::InvalidKey(_) => invalid_key_report(InvalidKey, started_at),
        BuildError::Http(e) => transport_error(&e, Duration::ZERO, started_at),
        other => setup_report("invalid_config", other.to_string(), started_at),
    });
    let secrets: Vec<&str> = key.map(|k| k.expose()).into_iter().collect();
    Some(execute(client, provider, request, &secrets, check, started_at).await)
}

/// [`probe`] for every kind, the cloud ones included: `key` is what
/// [`Credentials::resolve`] found for `provider` (a Bedrock API key, a static
/// Vertex token from the keyring), and `credentials` supplies the rest (AWS
/// access keys, the Vertex project and token command, through its environment).
///
/// `None`, as for [`probe`], when the provider has no usable credential at
/// all: no Bedrock key nor AWS access keys; no Vertex project, or a token
/// command that is not installed and no stored token. A token command that
/// runs and fails is the user's credential problem: an `auth` report naming it.
pub(crate) async fn probe_with_credentials(
    client: &reqwest::Client,
    provider: &Provider,
    credentials: &Credentials,
    key: Option<&Secret>,
    check: &CheckConfig,
    started_at: DateTime<Utc>,
) -> Option<ProbeReport> {
    match provider.kind {
        ProviderKind::Bedrock => {
            let env = credentials.env().clone();
            let (owned, key_owned) = (provider.clone(), key.cloned());
            // The AWS credentials file is read from disk: off the async threads.
            let auth = tokio::task::spawn_blocking(move || {
                crate::cloud::aws::resolve_auth_with(&owned, key_owned, &*env)
            })
            .await
            .ok()
            .flatten()?;
            let request = crate::upstream::bedrock::model_list(client, provider, &auth)
                .map_err(|e| setup_report(bedrock_setup_error_type(&e), e.to_string(), started_at));
            Some(execute(client, provider, request, &auth.secrets(), check, started_at).await)
        }
        ProviderKind::Vertex => {
            let target = match VertexTarget::resolve(provider, &**credentials.env()) {
                Ok(target) => target,
                Err(VertexError::NoProject) => return None,
                Err(e) => return Some(setup_report("invalid_config", e.to_string(), started_at)),
            };
            let source = crate::upstream::vertex::token_source(provider, credentials);
            let token = match (source.token().await, key) {
                (Ok(token), _) => token,
                (Err(_), Some(stored)) => stored.clone(),
                (Err(VertexError::Token(TokenError::NotFound { .. })), None) => return None,
                (Err(e), None) => {
                    return Some(setup_report("token_command_failed", e.to_string(), started_at))
                }
            };
            let request = crate::upstream::vertex::model_list(client, provider, &target, &token)
                .map_err(|e| setup_report("invalid_key", e.to_string(), started_at));
            let report = execute(client, provider, request, &[token.expose()], check, started_at).await;
            if report.http_status == Some(401) {
                // Revoked or expired early: the next round asks the command again.
                source.invalidate();
            }
            Some(report)
        }
        _ => probe(client, provider, key, check, started_at).await,
    }
}

/// The report's `error_type` for a probe that could not be prepared.
fn bedrock_setup_error_type(err: &BedrockError) -> &'static str {
    match err {
        BedrockError::Auth(AwsError::InvalidKey) => "invalid_key",
        BedrockError::Endpoint { .. } => "invalid_config",
        _ => "signing_failed",
    }
}

/// A model server on this machine (Ollama, a local llama.cpp): its answer says
/// nothing about the user's network, so it never counts towards `offline`.
/// Decided by kind, not address alone, so that fakes on loopback in tests still
/// stand for remote providers.
pub(crate) fn is_local_provider(p: &Provider) -> bool {
    match p.kind {
        ProviderKind::Ollama => true,
        ProviderKind::OpenaiCompatible => p.base_url.as_ref().is_some_and(is_local),
        _ => false,
    }
}

/// Whether a URL points at this machine.
pub(crate) fn is_local(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Sends a prepared probe (or takes the report that says why none could be
/// prepared), scrubs `secrets` from the report and logs the outcome.
async fn execute(
    client: &reqwest::Client,
    provider: &Provider,
    request: Result<reqwest::Request, ProbeReport>,
    secrets: &[&str],
    check: &CheckConfig,
    at: DateTime<Utc>,
) -> ProbeReport {
    let mut report = match request {
        Ok(request) => send(client, request, provider.kind, secrets, check, at).await,
        Err(report) => report,
    };
    for secret in secrets {
        redact_report(&mut report, secret.trim());
    }
    tracing::debug!(
        provider = %provider.id,
        class = ?report.class,
        http_status = ?report.http_status,
        latency_ms = ?report.latency_ms,
        "probe finished"
    );
    report
}

/// Sends one probe and classifies the answer (or its absence).
async fn send(
    client: &reqwest::Client,
    request: reqwest::Request,
    kind: ProviderKind,
    secrets: &[&str],
    check: &CheckConfig,
    at: DateTime<Utc>,
) -> ProbeReport {
    let start = Instant::now();
    let deadline = start + check.timeout;

    let mut response = match timeout_at(deadline, client.execute(request)).await {
        Err(_) => {
            return unreachable(
                NetFailure::Timeout,
                Some(no_answer_within(check.timeout)),
                start.elapsed(),
                at,
            )
        }
        Ok(Err(e)) => return transport_error(&e, start.elapsed(), at),
        Ok(Ok(response)) => response,
    };
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    let (mut body, cut) = read_capped(&mut response, deadline).await;
    let latency = start.elapsed();

    // A success is only a success once its body has arrived. An error status is
    // decisive on its own, so a cut-off error body is classified with what came.
    if let Some(cut) = cut.filter(|_| (200..300).contains(&status)) {
        let (failure, cause) = match &cut {
            Cut::Timeout => (NetFailure::Timeout, no_answer_within(check.timeout)),
            Cut::Transport(e) => (crate::http::net_failure(e), classify::root_cause(e)),
        };
        let detail = format!("{cause} (while reading the HTTP {status} body)");
        return unreachable(failure, Some(detail), latency, at);
    }
    for secret in secrets {
        body = redact_bytes(body, secret.trim().as_bytes());
    }
    classify(kind, status, &headers, &body, latency, check.slow, at)
}

/// Why a body stopped before its end.
enum Cut {
    Timeout,
    Transport(reqwest::Error),
}

/// Reads the body up to [`MAX_BODY_BYTES`] or `deadline`, whichever comes first.
/// Returns what arrived, and why it stopped early if it did (reaching the cap is
/// not a failure: the answer is long enough to classify).
async fn read_capped(response: &mut reqwest::Response, deadline: Instant) -> (Vec<u8>, Option<Cut>) {
    let mut body = Vec::new();
    loop {
        match timeout_at(deadline, response.chunk()).await {
            Err(_) => return (body, Some(Cut::Timeout)),
            Ok(Err(e)) => return (body, Some(Cut::Transport(e))),
            Ok(Ok(None)) => return (body, None),
            Ok(Ok(Some(chunk))) => {
                let room = MAX_BODY_BYTES - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= MAX_BODY_BYTES {
                    return (body, None);
                }
            }
        }
    }
}

fn no_answer_within(timeout: Duration) -> String {
    if timeout.subsec_millis() == 0 {
        format!("no complete answer within {} s", timeout.as_secs())
    } else {
        format!("no complete answer within {} ms", timeout.as_millis())
    }
}

/// A key that cannot be sent is the user's credential problem, found before any
/// request: `Auth`, with no HTTP status.
fn invalid_key_report(err: InvalidKey, at: DateTime<Utc>) -> ProbeReport {
    setup_report("invalid_key", err.to_string(), at)
}

/// A probe that could not be prepared (a key that cannot travel in a header, a
/// failing token command, a request that cannot be signed): the user must act
/// on their credentials or config, so `Auth`, with no HTTP status.
fn setup_report(error_type: &str, message: String, at: DateTime<Utc>) -> ProbeReport {
    ProbeReport {
        ok: false,
        http_status: None,
        error_type: Some(error_type.to_string()),
        message: Some(message),
        request_id: None,
        latency_ms: Some(0),
        at,
        retry_after_secs: None,
        class: ProbeClass::Auth,
    }
}

/// Replaces every occurrence of `secret` in `body`, before the body is parsed
/// and truncated (truncation could otherwise keep a recognisable part of it).
fn redact_bytes(body: Vec<u8>, secret: &[u8]) -> Vec<u8> {
    if secret.is_empty() || body.len() < secret.len() {
        return body;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(secret) {
            out.extend_from_slice(REDACTED.as_bytes());
            i += secret.len();
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

/// Scrubs the key from every text field: headers (request ids) and transport
/// errors reach the report without passing through [`redact_bytes`].
/// Replaces `secret` wherever a provider echoed it into `report`.
pub(crate) fn redact_report(report: &mut ProbeReport, secret: &str) {
    if secret.is_empty() {
        return;
    }
    for text in [
        &mut report.error_type,
        &mut report.message,
        &mut report.request_id,
    ]
    .into_iter()
    .flatten()
    {
        if text.contains(secret) {
            *text = text.replace(secret, REDACTED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_cannot_travel_is_an_auth_report_without_the_key() {
        assert!(!InvalidKey.to_string().contains("sk-"));
        let report = invalid_key_report(InvalidKey, Utc::now());
        assert_eq!(report.class, ProbeClass::Auth);
        assert_eq!(report.http_status, None);
    }

    #[test]
    fn redaction_covers_body_and_report() {
        let body = br#"{"error":{"message":"bad key sk-secret-1 (sk-secret-1)"}}"#.to_vec();
        assert_eq!(
            redact_bytes(body, b"sk-secret-1"),
            br#"{"error":{"message":"bad key <redacted> (<redacted>)"}}"#.to_vec()
        );
        assert_eq!(
            redact_bytes(b"short".to_vec(), b"longer-than-body"),
            b"short".to_vec()
        );
        let mut report = invalid_key_report(InvalidKey, Utc::now());
        report.message = Some("echo sk-secret-1".into());
        report.request_id = Some("sk-secret-1".into());
        redact_report(&mut report, "sk-secret-1");
        assert_eq!(report.message.as_deref(), Some("echo <redacted>"));
        assert_eq!(report.request_id.as_deref(), Some("<redacted>"));
    }

    #[test]
    fn timeout_words() {
        assert_eq!(
            no_answer_within(Duration::from_secs(30)),
            "no complete answer within 30 s"
        );
        assert_eq!(
            no_answer_within(Duration::from_millis(1500)),
            "no complete answer within 1500 ms"
        );
    }
}
