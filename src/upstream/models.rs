//! The model list of the kinds spoken to with an API key: a `GET` that is the
//! cheapest authenticated call (it proves the API answers and takes the key,
//! and costs no tokens). The probes send it. Each kind's convention, under the
//! user's `base_url`:
//!
//! - Anthropic: `{base_url}/v1/models?limit=1` with `x-api-key` and
//!   `anthropic-version`; `base_url` follows `ANTHROPIC_BASE_URL`, without `/v1`.
//!   One model is enough to prove the list answers; it keeps the body tiny.
//! - OpenAI and OpenAI-compatible servers: `{base_url}/models`, with
//!   `Authorization: Bearer` only when there is a key (a local llama.cpp or vLLM
//!   has none); `base_url` follows `OPENAI_BASE_URL` and ends in `/v1`. OpenRouter
//!   is the exception to the path: its `/models` is public and lists every model
//!   (megabytes), so it would prove nothing about the key; its `/key` is tiny and
//!   checks it.
//! - Gemini (AI Studio keys): `{base_url}/v1beta/models?pageSize=1` with
//!   `x-goog-api-key`. The key goes in a header, never in `?key=`, so it cannot
//!   end up in a URL that an error message or a log line might print.
//! - Ollama: `{base_url}/api/tags`, no auth (a key passed anyway is not sent).
//!   `/api/tags` rather than `/api/version` because it also proves the model
//!   store is readable, and its errors come as `{error}`.
//!
//! Bedrock and Vertex need more than a key: their model lists are
//! `bedrock::model_list` and `vertex::model_list`.

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use url::Url;

use super::{anthropic_headers, bearer, google_key, BuildError};
use crate::config::Provider;
use crate::model::ProviderKind;
use crate::secrets::Secret;

/// OpenRouter's API host; see the module header for why it gets another path.
const OPENROUTER_HOST: &str = "openrouter.ai";

/// Whether `kind` has a model list asked for with (at most) an API key.
pub(crate) fn listed(kind: ProviderKind) -> bool {
    match kind {
        ProviderKind::Anthropic
        | ProviderKind::Openai
        | ProviderKind::OpenaiCompatible
        | ProviderKind::Gemini
        | ProviderKind::Ollama => true,
        ProviderKind::Bedrock | ProviderKind::Vertex | ProviderKind::Status => false,
    }
}

/// The model-list URL for `kind` under `base` (see the module header).
fn url(kind: ProviderKind, base: &Url) -> Url {
    match kind {
        ProviderKind::Anthropic => join(base, "v1/models", &[("limit", "1")]),
        ProviderKind::Gemini => join(base, "v1beta/models", &[("pageSize", "1")]),
        ProviderKind::Ollama => join(base, "api/tags", &[]),
        _ if base.host_str() == Some(OPENROUTER_HOST) => join(base, "key", &[]),
        _ => join(base, "models", &[]),
    }
}

/// The headers carrying `key` for `kind`'s model list, and its version pin.
fn headers(provider: &Provider, key: Option<&Secret>) -> Result<HeaderMap, BuildError> {
    let mut headers = HeaderMap::new();
    match (provider.kind, key) {
        (ProviderKind::Anthropic, key) => headers = anthropic_headers(&provider.id, key, None)?,
        (ProviderKind::Gemini, Some(key)) => {
            let (name, value) = google_key(&provider.id, key)?;
            headers.insert(name, value);
        }
        // Ollama has no keys; one passed anyway is not sent anywhere.
        (ProviderKind::Ollama, _) => {}
        (_, Some(key)) => {
            headers.insert(AUTHORIZATION, bearer(&provider.id, key)?);
        }
        (_, None) => {}
    }
    Ok(headers)
}

/// The model-list request for `provider`, carrying `key` (`None` for a
/// keyless OpenAI-compatible server or Ollama).
pub(crate) fn model_list(
    client: &reqwest::Client,
    provider: &Provider,
    key: Option<&Secret>,
) -> Result<reqwest::Request, BuildError> {
    if !listed(provider.kind) {
        return Err(BuildError::NoCredential(provider.id.clone()));
    }
    let base = provider
        .base_url
        .as_ref()
        .ok_or_else(|| BuildError::NoBaseUrl(provider.id.clone()))?;
    Ok(client
        .get(url(provider.kind, base))
        .headers(headers(provider, key)?)
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .build()?)
}

/// `base` with `path` appended below its own path (see [`crate::http::join_path`]),
/// keeping the base URL's own query (proxies such as Azure's need their
/// `api-version`), and `query` appended.
pub(crate) fn join(base: &Url, path: &str, query: &[(&str, &str)]) -> Url {
    let mut url = crate::http::join_path(base, path);
    url.set_query(base.query());
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    url
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

    fn request(kind: &str, base: &str, key: Option<&str>) -> reqwest::Request {
        let client = reqwest::Client::new();
        let key = key.map(Secret::new);
        model_list(&client, &provider(kind, base), key.as_ref()).expect("request builds")
    }

    fn url_of(kind: &str, base: &str) -> String {
        request(kind, base, Some("k")).url().to_string()
    }

    #[test]
    fn join_keeps_prefixes_and_handles_slashes() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            join(&u("http://h:1"), "v1/models", &[]).as_str(),
            "http://h:1/v1/models"
        );
        assert_eq!(
            join(&u("http://h:1/"), "/v1/models", &[]).as_str(),
            "http://h:1/v1/models"
        );
        assert_eq!(
            join(&u("http://h:1/p"), "v1/models", &[]).as_str(),
            "http://h:1/p/v1/models"
        );
        assert_eq!(
            join(&u("http://h:1/p//"), "v1/models", &[]).as_str(),
            "http://h:1/p/v1/models"
        );
        assert_eq!(
            join(&u("http://h:1/p?tenant=a#frag"), "models", &[("limit", "1")]).as_str(),
            "http://h:1/p/models?tenant=a&limit=1"
        );
    }

    #[test]
    fn model_lists_exist_only_for_keyed_kinds() {
        for kind in [ProviderKind::Bedrock, ProviderKind::Vertex, ProviderKind::Status] {
            assert!(!listed(kind), "{kind:?}");
        }
        for kind in [
            ProviderKind::Anthropic,
            ProviderKind::Openai,
            ProviderKind::OpenaiCompatible,
            ProviderKind::Gemini,
            ProviderKind::Ollama,
        ] {
            assert!(listed(kind), "{kind:?}");
        }
    }

    #[test]
    fn anthropic_url_follows_the_anthropic_convention() {
        assert_eq!(
            url_of("anthropic", "https://api.anthropic.com"),
            "https://api.anthropic.com/v1/models?limit=1"
        );
        assert_eq!(
            url_of("anthropic", "http://127.0.0.1:9000/prefix"),
            "http://127.0.0.1:9000/prefix/v1/models?limit=1"
        );
        assert_eq!(
            url_of("anthropic", "http://127.0.0.1:9000/prefix/"),
            "http://127.0.0.1:9000/prefix/v1/models?limit=1"
        );
    }

    #[test]
    fn anthropic_headers_carry_key_and_version_and_hide_the_key() {
        let r = request("anthropic", "https://api.anthropic.com", Some(" sk-ant-xyz\n"));
        let h = r.headers();
        assert_eq!(r.method(), reqwest::Method::GET);
        assert_eq!(h["x-api-key"], "sk-ant-xyz", "trimmed");
        assert!(h["x-api-key"].is_sensitive());
        assert_eq!(h["anthropic-version"], "2023-06-01");
        assert_eq!(h[ACCEPT], "application/json");
        assert!(!format!("{h:?}").contains("sk-ant-xyz"));
    }

    #[test]
    fn openai_url_follows_the_openai_convention() {
        assert_eq!(
            url_of("openai", "https://api.openai.com/v1"),
            "https://api.openai.com/v1/models"
        );
        assert_eq!(
            url_of("openai", "https://api.openai.com/v1/"),
            "https://api.openai.com/v1/models"
        );
        assert_eq!(
            url_of("openai-compatible", "http://127.0.0.1:8080/proxy/v1"),
            "http://127.0.0.1:8080/proxy/v1/models"
        );
        assert_eq!(
            url_of("openai-compatible", "https://openrouter.ai/api/v1"),
            "https://openrouter.ai/api/v1/key"
        );
    }

    #[test]
    fn openai_bearer_only_with_a_key() {
        let r = request("openai", "https://api.openai.com/v1", Some("sk-proj-abc"));
        assert_eq!(r.headers()[AUTHORIZATION], "Bearer sk-proj-abc");
        assert!(r.headers()[AUTHORIZATION].is_sensitive());
        let keyless = request("openai-compatible", "http://127.0.0.1:8080/v1", None);
        assert!(keyless.headers().get(AUTHORIZATION).is_none());
    }

    #[test]
    fn gemini_url_follows_the_gemini_convention() {
        assert_eq!(
            url_of("gemini", "https://generativelanguage.googleapis.com"),
            "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1"
        );
        assert_eq!(
            url_of("gemini", "http://127.0.0.1:9/g/"),
            "http://127.0.0.1:9/g/v1beta/models?pageSize=1"
        );
    }

    #[test]
    fn gemini_key_goes_in_a_sensitive_header_not_the_url() {
        let r = request(
            "gemini",
            "https://generativelanguage.googleapis.com",
            Some("AIzaSyXYZ"),
        );
        assert_eq!(r.headers()["x-goog-api-key"], "AIzaSyXYZ");
        assert!(r.headers()["x-goog-api-key"].is_sensitive());
        assert!(r.headers().get(AUTHORIZATION).is_none());
        assert!(!r.url().as_str().contains("key="));
    }

    #[test]
    fn ollama_url_and_no_auth() {
        assert_eq!(
            url_of("ollama", "http://127.0.0.1:11434"),
            "http://127.0.0.1:11434/api/tags"
        );
        assert_eq!(
            url_of("ollama", "http://host:1/ollama/"),
            "http://host:1/ollama/api/tags"
        );
        let r = request("ollama", "http://127.0.0.1:11434", Some("k"));
        assert!(r.headers().get(AUTHORIZATION).is_none());
        assert_eq!(r.headers().len(), 1, "only Accept: {:?}", r.headers());
    }

    #[test]
    fn a_key_that_cannot_travel_in_a_header_builds_no_request() {
        let client = reqwest::Client::new();
        for kind in ["anthropic", "openai", "gemini"] {
            let p = provider(kind, "http://127.0.0.1:9/v1");
            let err = model_list(&client, &p, Some(&Secret::new("sk-a\nbc"))).unwrap_err();
            assert!(matches!(err, BuildError::InvalidKey(_)), "{kind}: {err:?}");
            assert!(!err.to_string().contains("sk-a"), "{kind}: {err}");
        }
    }
}
