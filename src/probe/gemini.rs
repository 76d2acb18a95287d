//! Google Gemini (AI Studio keys): `GET {base_url}/v1beta/models?pageSize=1` with
//! `x-goog-api-key`. `base_url` is `https://generativelanguage.googleapis.com`.
//!
//! The key goes in a header, never in `?key=`, so it cannot end up in a URL that
//! an error message or a log line might print.

use reqwest::header::HeaderMap;
use url::Url;

use super::{join, secret_header, Endpoint, InvalidKey};
use crate::secrets::Secret;

pub(crate) struct Gemini;

impl Endpoint for Gemini {
    fn url(&self, base: &Url) -> Url {
        join(base, "v1beta/models", &[("pageSize", "1")])
    }

    fn headers(&self, key: Option<&Secret>) -> Result<HeaderMap, InvalidKey> {
        let mut headers = HeaderMap::new();
        if let Some(key) = key {
            headers.insert("x-goog-api-key", secret_header(key.expose())?);
        }
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_follows_the_gemini_convention() {
        let url = |base: &str| Gemini.url(&Url::parse(base).unwrap()).to_string();
        assert_eq!(
            url("https://generativelanguage.googleapis.com"),
            "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1"
        );
        assert_eq!(
            url("http://127.0.0.1:9/g/"),
            "http://127.0.0.1:9/g/v1beta/models?pageSize=1"
        );
    }

    #[test]
    fn key_goes_in_a_sensitive_header_not_the_url() {
        let h = Gemini.headers(Some(&Secret::new("AIzaSyXYZ"))).unwrap();
        assert_eq!(h["x-goog-api-key"], "AIzaSyXYZ");
        assert!(h["x-goog-api-key"].is_sensitive());
        let url = Gemini.url(&Url::parse("https://generativelanguage.googleapis.com").unwrap());
        assert!(!url.as_str().contains("key="));
    }
}
