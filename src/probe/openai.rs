//! OpenAI and OpenAI-compatible servers: `GET {base_url}/models` with
//! `Authorization: Bearer`. `base_url` follows `OPENAI_BASE_URL` and ends in `/v1`
//! (`https://api.openai.com/v1`, `http://127.0.0.1:8080/v1`).
//!
//! A compatible server without a configured key (a local llama.cpp or vLLM) is
//! probed without an `Authorization` header. OpenRouter is the one exception to
//! the path: its `/models` is public and lists every model (megabytes), so it
//! would prove nothing about the key; its `/key` endpoint is tiny and checks it.

use reqwest::header::{HeaderMap, AUTHORIZATION};
use url::Url;

use super::{join, secret_header, Endpoint, InvalidKey};
use crate::secrets::Secret;

/// OpenRouter's API host; see the module header for why it gets another path.
const OPENROUTER_HOST: &str = "openrouter.ai";

pub(crate) struct OpenAi;

impl Endpoint for OpenAi {
    fn url(&self, base: &Url) -> Url {
        if base.host_str() == Some(OPENROUTER_HOST) {
            join(base, "key", &[])
        } else {
            join(base, "models", &[])
        }
    }

    fn headers(&self, key: Option<&Secret>) -> Result<HeaderMap, InvalidKey> {
        let mut headers = HeaderMap::new();
        if let Some(key) = key {
            headers.insert(AUTHORIZATION, secret_header(&format!("Bearer {}", key.expose()))?);
        }
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_follows_the_openai_convention() {
        let url = |base: &str| OpenAi.url(&Url::parse(base).unwrap()).to_string();
        assert_eq!(
            url("https://api.openai.com/v1"),
            "https://api.openai.com/v1/models"
        );
        assert_eq!(
            url("https://api.openai.com/v1/"),
            "https://api.openai.com/v1/models"
        );
        assert_eq!(
            url("http://127.0.0.1:8080/proxy/v1"),
            "http://127.0.0.1:8080/proxy/v1/models"
        );
        assert_eq!(
            url("https://openrouter.ai/api/v1"),
            "https://openrouter.ai/api/v1/key"
        );
    }

    #[test]
    fn bearer_only_with_a_key() {
        let h = OpenAi.headers(Some(&Secret::new("sk-proj-abc"))).unwrap();
        assert_eq!(h[AUTHORIZATION], "Bearer sk-proj-abc");
        assert!(h[AUTHORIZATION].is_sensitive());
        assert!(OpenAi.headers(None).unwrap().is_empty());
    }
}
