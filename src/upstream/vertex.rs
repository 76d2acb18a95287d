//! Claude on Google Vertex AI: `rawPredict` / `streamRawPredict` requests,
//! and the access token they carry.
//!
//! Vertex takes the Anthropic Messages body with the model moved into the URL
//! and `anthropic_version` pinned, and answers exactly like the Anthropic API
//! (JSON, or SSE when streaming), so only the request differs. Where it goes
//! and the token command are `cloud::google`'s; when the command cannot run,
//! a static access token stored in the keyring under the provider id is the
//! fallback (useful where gcloud is not installed).

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

pub(crate) use crate::cloud::google::VertexTarget;
use crate::cloud::google::{token_command, TokenSource, VertexError};
use crate::config::Provider;
use crate::credentials::Credentials;
use crate::secrets::Secret;

/// The body field that selects Vertex's dialect of the Messages API.
pub(crate) const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// Builds a `rawPredict` (`stream == false`) or `streamRawPredict` request from
/// an Anthropic Messages request body. The model comes from the body's `model`
/// (set it to the provider's model when re-routing); the body sent keeps
/// everything else, adds `anthropic_version`, and says `stream` only when
/// streaming.
pub(crate) fn build_request(
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
pub(crate) fn vertex_body(body: &Value, stream: bool) -> Result<(String, Vec<u8>), VertexError> {
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

/// The shared token source for `provider`'s command: one cache per command
/// for everything holding clones of `credentials` (probes and gateway alike).
pub(crate) fn token_source(provider: &Provider, credentials: &Credentials) -> TokenSource {
    credentials.tokens().source(&token_command(provider))
}

/// A token for `provider`: from its command, else (when the command cannot
/// run or fails) a static token stored in the keyring under the provider id.
/// The command's error is returned when there is no fallback.
pub(crate) async fn access_token(
    provider: &Provider,
    credentials: &Credentials,
) -> Result<Secret, VertexError> {
    match token_source(provider, credentials).token().await {
        Ok(token) => Ok(token),
        Err(error) => match credentials.resolve(provider).await.secret {
            Some(stored) => Ok(stored),
            None => Err(error),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
