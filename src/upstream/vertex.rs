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
use crate::cloud::google::{token_command, TokenSource, VertexError, DEFAULT_MODEL};
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

/// Google's header naming the project that quota and permission checks use.
const USER_PROJECT_HEADER: &str = "x-goog-user-project";

/// The probe's request: `GET {base}/v1/publishers/anthropic/models/{model}`
/// (Model Garden's publisher-model lookup) with the access token and
/// `x-goog-user-project: {project}`. Free, and it checks the token, that the
/// Vertex AI API answers at the configured location, and (through the quota
/// project header) that the token may use the configured project, without
/// sending a prompt. The model is the provider's, without its `@version`.
///
/// Why not `rawPredict`: it costs tokens. Why the header: without it, calls
/// with a gcloud user token are billed to gcloud's own project, which fails
/// for reasons that say nothing about the user's.
pub(crate) fn model_list(
    client: &reqwest::Client,
    provider: &Provider,
    target: &VertexTarget,
    token: &Secret,
) -> Result<reqwest::Request, VertexError> {
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose().trim()))
        .map_err(|_| VertexError::InvalidToken)?;
    auth.set_sensitive(true);
    let project = HeaderValue::from_str(&target.project).map_err(|_| VertexError::NoProject)?;
    Ok(client
        .get(model_list_url(provider, target))
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .header(AUTHORIZATION, auth)
        .header(USER_PROJECT_HEADER, project)
        .build()?)
}

/// [`model_list`]'s URL: the publisher model the gateway would call.
fn model_list_url(provider: &Provider, target: &VertexTarget) -> url::Url {
    let model = provider.model.as_deref().unwrap_or(DEFAULT_MODEL);
    let model = model.split('@').next().unwrap_or(model);
    let mut url = super::models::join(&target.base, "v1/publishers/anthropic/models", &[]);
    if let Ok(mut segments) = url.path_segments_mut() {
        // Pushed as a segment, so the model id cannot add path levels.
        segments.push(model);
    }
    url
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

#[cfg(test)]
mod model_list_tests {
    use super::*;
    use crate::config::Config;
    use std::path::Path;

    #[test]
    fn url_names_the_unversioned_model_under_the_base() {
        let p = Config::parse("", Path::new("x"))
            .unwrap()
            .provider("vertex")
            .unwrap()
            .clone();
        let env = |n: &str| (n == "GOOGLE_CLOUD_PROJECT").then(|| "proj".to_string());
        let target = VertexTarget::resolve(&p, &env).unwrap();
        assert_eq!(
            model_list_url(&p, &target).as_str(),
            "https://aiplatform.googleapis.com/v1/publishers/anthropic/models/claude-sonnet-4-5"
        );
        let r = model_list(&reqwest::Client::new(), &p, &target, &Secret::new("ya29.tok")).unwrap();
        assert_eq!(r.headers()["authorization"], "Bearer ya29.tok");
        assert!(r.headers()["authorization"].is_sensitive());
        assert_eq!(r.headers()[USER_PROJECT_HEADER], "proj");
    }
}
