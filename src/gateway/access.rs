//! Who may use the gateway: the guard that keeps web pages from spending the
//! user's credits.
//!
//! The gateway adds the user's keys to whatever it forwards, so a request it
//! accepts costs money. A page on any site can aim a "simple" request at
//! `http://127.0.0.1:7462` (a `text/plain` fetch, `mode: "no-cors"`, a form
//! POST, `navigator.sendBeacon`): the browser sends it without a CORS
//! preflight, and the page only loses the answer, not the spend. This guard
//! refuses, before any handler runs:
//!
//! 1. a request carrying an `Origin` that `[gateway] allowed_origins` does
//!    not list (API clients such as Claude Code and the SDKs send none);
//! 2. a request whose `Sec-Fetch-Site` says another site or origin made it
//!    (`same-site`, `cross-site`) unless its `Origin` is allowed;
//! 3. a `POST` whose `Content-Type` is not JSON: a browser cannot send
//!    `application/json` cross-origin without a preflight, which (2) and the
//!    absent CORS headers refuse;
//! 4. when `[gateway] token` is set, a request that does not present it as
//!    `Authorization: Bearer …` or `x-api-key`. The clients' own key headers
//!    are only compared here, never forwarded: upstream keys come from the
//!    keyring alone.
//!
//! The rules are read from the engine's current config on every request, so
//! a reload applies at once. Left out: the `Host` check (see `handler`), CORS
//! (there is none: an allowed origin gets its answer only through a
//! same-origin proxy or a non-browser client).

use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};

use super::translate;
use super::wire::Protocol;
use crate::config::GatewayConfig;
use crate::engine::EngineHandle;

/// Request header browsers add to say which site made the request.
const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// Why a request was refused; each maps to an HTTP status and a protocol error.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A web page (by `Origin` or `Sec-Fetch-Site`) that is not allowed.
    WebPage(String),
    /// A POST body that is not declared JSON.
    NotJson(String),
    /// `[gateway] token` is set and the request does not carry it.
    Token { given: bool },
}

/// Every gateway request is asked here before routing (by the gateway's
/// door, see `handler::door`): the answer to send instead, when refused.
pub(super) fn refusal<B>(engine: &EngineHandle, request: &Request<B>) -> Option<Response> {
    let config = engine.current_config();
    let refusal = check(&config.gateway, request.method(), request.headers()).err()?;
    tracing::warn!(path = %request.uri().path(), "gateway request refused: {}", message(&refusal));
    Some(refusal_response(protocol_of_path(request.uri().path()), &refusal))
}

/// The decision, pure: config and request head in, refusal out.
pub(crate) fn check(config: &GatewayConfig, method: &Method, headers: &HeaderMap) -> Result<(), Refusal> {
    let origin = headers
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or("<not text>"));
    let allowed = origin.is_some_and(|o| origin_allowed(config, o));
    if let Some(o) = origin {
        if !allowed {
            return Err(Refusal::WebPage(format!("Origin {o:?}")));
        }
    }
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        let site = site.to_str().unwrap_or("");
        let own = site.eq_ignore_ascii_case("none") || site.eq_ignore_ascii_case("same-origin");
        if !own && !allowed {
            return Err(Refusal::WebPage(format!("Sec-Fetch-Site {site:?}")));
        }
    }
    if *method == Method::POST && !is_json(headers) {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("<not text>").to_string())
            .unwrap_or_else(|| "none".to_string());
        return Err(Refusal::NotJson(ct));
    }
    if let Some(token) = &config.token {
        let presented = presented_tokens(headers);
        if !presented.iter().any(|t| constant_time_eq(t, token.as_bytes())) {
            return Err(Refusal::Token {
                given: !presented.is_empty(),
            });
        }
    }
    Ok(())
}

fn origin_allowed(config: &GatewayConfig, origin: &str) -> bool {
    let origin = origin.trim().trim_end_matches('/');
    config
        .allowed_origins
        .iter()
        .any(|a| a.eq_ignore_ascii_case(origin))
}

/// `application/json`, parameters (`; charset=utf-8`) allowed.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// What the client sent in the two headers clients use for a key.
fn presented_tokens(headers: &HeaderMap) -> Vec<&[u8]> {
    let mut out = Vec::new();
    if let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let auth = auth.trim();
        if let Some((scheme, value)) = auth.split_once(' ') {
            if scheme.eq_ignore_ascii_case("bearer") {
                out.push(value.trim().as_bytes());
            }
        }
    }
    if let Some(key) = headers.get("x-api-key") {
        out.push(key.as_bytes());
    }
    out
}

/// Compares in time independent of where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

fn message(refusal: &Refusal) -> String {
    match refusal {
        Refusal::WebPage(what) => format!(
            "refused: this request comes from a web page ({what}). The gateway spends your API credits, so \
             web pages may only use it when their origin is listed in [gateway] allowed_origins"
        ),
        Refusal::NotJson(ct) => {
            format!("the request body must be JSON with Content-Type: application/json (got {ct})")
        }
        Refusal::Token { given: true } => {
            "the gateway token does not match [gateway] token in Switchboard's config".to_string()
        }
        Refusal::Token { given: false } => {
            "this gateway needs the token from [gateway] token in Switchboard's \
             config, sent as `Authorization: Bearer <token>` or `x-api-key: <token>`"
                .to_string()
        }
    }
}

fn refusal_response(protocol: Protocol, refusal: &Refusal) -> Response {
    let (status, error_type) = match refusal {
        Refusal::WebPage(_) => (StatusCode::FORBIDDEN, "permission_error"),
        Refusal::NotJson(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request_error"),
        Refusal::Token { .. } => (StatusCode::UNAUTHORIZED, "authentication_error"),
    };
    let text = message(refusal);
    let body = match protocol {
        Protocol::Anthropic => translate::anthropic_error_body(error_type, &text),
        Protocol::OpenAi => translate::openai_error_body(&text, error_type, None),
    };
    (status, axum::Json(body)).into_response()
}

/// The protocol a request most likely speaks, by its path: for the errors
/// the gateway answers before (or without) an endpoint.
pub(super) fn protocol_of_path(path: &str) -> Protocol {
    if path.contains("chat/completions") || path.contains("/responses") {
        Protocol::OpenAi
    } else {
        Protocol::Anthropic
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn config(origins: &[&str], token: Option<&str>) -> GatewayConfig {
        let mut text = String::from("[gateway]\n");
        text.push_str(&format!(
            "allowed_origins = [{}]\n",
            origins
                .iter()
                .map(|o| format!("{o:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if let Some(t) = token {
            text.push_str(&format!("token = {t:?}\n"));
        }
        crate::config::Config::parse(&text, std::path::Path::new("/tmp/c.toml"))
            .unwrap()
            .gateway
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const JSON: (&str, &str) = ("content-type", "application/json");

    #[test]
    fn api_clients_without_origin_pass() {
        let c = config(&[], None);
        assert_eq!(check(&c, &Method::POST, &headers(&[JSON])), Ok(()));
        let charset = headers(&[("content-type", "Application/JSON; charset=utf-8")]);
        assert_eq!(check(&c, &Method::POST, &charset), Ok(()));
        assert_eq!(check(&c, &Method::GET, &headers(&[])), Ok(()));
        let typed = headers(&[JSON, ("sec-fetch-site", "none")]);
        assert_eq!(check(&c, &Method::POST, &typed), Ok(()));
    }

    #[test]
    fn access_refuses_text_plain_and_forms_from_web_pages() {
        let c = config(&[], None);
        let h = headers(&[
            ("content-type", "text/plain;charset=UTF-8"),
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(matches!(check(&c, &Method::POST, &h), Err(Refusal::WebPage(_))));
        // Even without Origin, text/plain and forms are refused.
        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            let h = headers(&[("content-type", ct)]);
            assert!(
                matches!(check(&c, &Method::POST, &h), Err(Refusal::NotJson(_))),
                "{ct}"
            );
        }
        assert!(matches!(
            check(&c, &Method::POST, &headers(&[])),
            Err(Refusal::NotJson(_))
        ));
    }

    #[test]
    fn gateway_refuses_web_pages_unless_their_origin_is_allowed() {
        let c = config(&["http://localhost:3000"], None);
        let ok = headers(&[
            JSON,
            ("origin", "http://localhost:3000"),
            ("sec-fetch-site", "same-site"),
        ]);
        assert_eq!(check(&c, &Method::POST, &ok), Ok(()));
        let other = headers(&[JSON, ("origin", "http://localhost:3001")]);
        assert!(matches!(
            check(&c, &Method::POST, &other),
            Err(Refusal::WebPage(_))
        ));
        let null = headers(&[JSON, ("origin", "null")]);
        assert!(matches!(
            check(&c, &Method::POST, &null),
            Err(Refusal::WebPage(_))
        ));
        // A browser that sends Sec-Fetch-Site but no Origin (a GET from another site).
        let site = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(matches!(check(&c, &Method::GET, &site), Err(Refusal::WebPage(_))));
    }

    #[test]
    fn gateway_token_is_compared_with_bearer_or_x_api_key() {
        let c = config(&[], Some("s3cret-gateway-token"));
        let none = headers(&[JSON]);
        assert_eq!(
            check(&c, &Method::POST, &none),
            Err(Refusal::Token { given: false })
        );
        let wrong = headers(&[JSON, ("x-api-key", "sk-ant-real-key")]);
        assert_eq!(
            check(&c, &Method::POST, &wrong),
            Err(Refusal::Token { given: true })
        );
        let bearer = headers(&[JSON, ("authorization", "Bearer s3cret-gateway-token")]);
        assert_eq!(check(&c, &Method::POST, &bearer), Ok(()));
        let key = headers(&[JSON, ("x-api-key", "s3cret-gateway-token")]);
        assert_eq!(check(&c, &Method::GET, &key), Ok(()));
    }

    #[test]
    fn gateway_token_and_origins_are_validated() {
        let bad = crate::config::Config::parse(
            "[gateway]\nallowed_origins = [\"http://x.example/path\"]\n",
            std::path::Path::new("/tmp/c.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            bad.contains("gateway.allowed_origins[0]") && bad.contains("line 2"),
            "{bad}"
        );
        let short = crate::config::Config::parse(
            "[gateway]\ntoken = \"short\"\n",
            std::path::Path::new("/tmp/c.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(short.contains("gateway.token"), "{short}");
        assert!(!format!("{:?}", config(&[], Some("s3cret-gateway-token"))).contains("s3cret"));
    }
}
