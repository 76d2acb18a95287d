//! Ollama: `GET {base_url}/api/tags`, no auth (`base_url` is
//! `http://127.0.0.1:11434`). `/api/tags` rather than `/api/version` because it
//! also proves the model store is readable, and its errors come as `{error}`.

use reqwest::header::HeaderMap;
use url::Url;

use super::{join, Endpoint, InvalidKey};
use crate::secrets::Secret;

pub(crate) struct Ollama;

impl Endpoint for Ollama {
    fn url(&self, base: &Url) -> Url {
        join(base, "api/tags", &[])
    }

    /// Ollama has no keys; one passed anyway is not sent anywhere.
    fn headers(&self, _key: Option<&Secret>) -> Result<HeaderMap, InvalidKey> {
        Ok(HeaderMap::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_and_no_auth() {
        let url = |base: &str| Ollama.url(&Url::parse(base).unwrap()).to_string();
        assert_eq!(url("http://127.0.0.1:11434"), "http://127.0.0.1:11434/api/tags");
        assert_eq!(url("http://host:1/ollama/"), "http://host:1/ollama/api/tags");
        assert!(Ollama.headers(Some(&Secret::new("k"))).unwrap().is_empty());
    }
}
