//! Anthropic: `GET {base_url}/v1/models?limit=1`, the cheapest call that checks
//! the key (`x-api-key`) and costs no tokens. `base_url` follows
//! `ANTHROPIC_BASE_URL`: no `/v1` (`https://api.anthropic.com`).

use reqwest::header::{HeaderMap, HeaderValue};
use url::Url;

use super::{join, secret_header, Endpoint, InvalidKey};
use crate::secrets::Secret;

/// The API version every Anthropic request must pin.
pub(crate) const ANTHROPIC_VERSION: &str = "2023-06-01";

pub(crate) struct Anthropic;

impl Endpoint for Anthropic {
    fn url(&self, base: &Url) -> Url {
        // One model is enough to prove the list answers; it keeps the body tiny.
        join(base, "v1/models", &[("limit", "1")])
    }

    fn headers(&self, key: Option<&Secret>) -> Result<HeaderMap, InvalidKey> {
        let mut headers = HeaderMap::new();
        headers.insert("anthropic-version", HeaderValue::from_static(ANTHROPIC_VERSION));
        if let Some(key) = key {
            headers.insert("x-api-key", secret_header(key.expose())?);
        }
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_follows_the_anthropic_convention() {
        let url = |base: &str| Anthropic.url(&Url::parse(base).unwrap()).to_string();
        assert_eq!(
            url("https://api.anthropic.com"),
            "https://api.anthropic.com/v1/models?limit=1"
        );
        assert_eq!(
            url("http://127.0.0.1:9000/prefix"),
            "http://127.0.0.1:9000/prefix/v1/models?limit=1"
        );
        assert_eq!(
            url("http://127.0.0.1:9000/prefix/"),
            "http://127.0.0.1:9000/prefix/v1/models?limit=1"
        );
    }

    #[test]
    fn headers_carry_key_and_version_and_hide_the_key() {
        let h = Anthropic.headers(Some(&Secret::new("sk-ant-xyz"))).unwrap();
        assert_eq!(h["x-api-key"], "sk-ant-xyz");
        assert!(h["x-api-key"].is_sensitive());
        assert_eq!(h["anthropic-version"], "2023-06-01");
        assert!(!format!("{h:?}").contains("sk-ant-xyz"));
    }
}
