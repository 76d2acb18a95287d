//! Google Vertex AI: `GET {base}/v1/publishers/anthropic/models/{model}`
//! (Model Garden's publisher-model lookup) with the access token and
//! `x-goog-user-project: {project}`. Free, and it checks the token, that the
//! Vertex AI API answers at the configured location, and (through the quota
//! project header) that the token may use the configured project, without
//! sending a prompt. The model is the provider's, without its `@version`.
//!
//! Why not `rawPredict`: it costs tokens. Why the header: without it, calls with
//! a gcloud user token are billed to gcloud's own project, which fails for
//! reasons that say nothing about the user's.

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION};
use url::Url;

use crate::cloud::google::{VertexError, VertexTarget, DEFAULT_MODEL};
use crate::config::Provider;
use crate::secrets::Secret;
use crate::upstream::models::join;

/// Google's header naming the project that quota and permission checks use.
const USER_PROJECT_HEADER: &str = "x-goog-user-project";

/// The probe URL: the publisher model the gateway would call.
pub(crate) fn url(provider: &Provider, target: &VertexTarget) -> Url {
    let model = provider.model.as_deref().unwrap_or(DEFAULT_MODEL);
    let model = model.split('@').next().unwrap_or(model);
    let mut url = join(&target.base, "v1/publishers/anthropic/models", &[]);
    if let Ok(mut segments) = url.path_segments_mut() {
        // Pushed as a segment, so the model id cannot add path levels.
        segments.push(model);
    }
    url
}

pub(crate) fn request(
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
        .get(url(provider, target))
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .header(AUTHORIZATION, auth)
        .header(USER_PROJECT_HEADER, project)
        .build()?)
}

#[cfg(test)]
mod tests {
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
            url(&p, &target).as_str(),
            "https://aiplatform.googleapis.com/v1/publishers/anthropic/models/claude-sonnet-4-5"
        );
        let r = request(&reqwest::Client::new(), &p, &target, &Secret::new("ya29.tok")).unwrap();
        assert_eq!(r.headers()["authorization"], "Bearer ya29.tok");
        assert!(r.headers()["authorization"].is_sensitive());
        assert_eq!(r.headers()[USER_PROJECT_HEADER], "proj");
    }
}
