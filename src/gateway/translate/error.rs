//! Error bodies: building them in either protocol, and re-expressing an
//! upstream's error in the client's protocol.
//!
//! Clients branch on the HTTP status first (the official SDKs map it to an
//! exception class) and on the error `type` second, so a translated error
//! keeps the upstream status and message and picks the type the client's
//! protocol uses for that status.

use serde_json::{json, Value};

use crate::gateway::wire::Protocol;

/// Longest upstream error text (non-JSON bodies, e.g. a proxy's HTML page)
/// kept in a translated message: enough to diagnose, not a page of markup.
const MAX_ERROR_MESSAGE_CHARS: usize = 1000;

/// An Anthropic error body: `{"type":"error","error":{"type":..,"message":..}}`.
pub fn anthropic_error_body(error_type: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type, "message": message}})
}

/// An OpenAI error body: `{"error":{"message":..,"type":..,"param":null,"code":..}}`,
/// with `param` and `code` present as `null` like api.openai.com's.
pub fn openai_error_body(message: &str, error_type: &str, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": error_type, "param": null, "code": code}})
}

/// The error `type` each protocol uses for an HTTP status, as
/// `(anthropic, openai)`, so the gateway's own errors and translated ones
/// read like the real APIs': e.g. 429 is `rate_limit_error` /
/// `rate_limit_exceeded`, 529 is `overloaded_error` / `server_error`.
/// OpenAI's finer distinction lives in `code`, see
/// [`openai_error_code_for_status`].
pub fn error_types_for_status(status: u16) -> (&'static str, &'static str) {
    match status {
        401 => ("authentication_error", "invalid_request_error"),
        402 => ("billing_error", "insufficient_quota"),
        403 => ("permission_error", "invalid_request_error"),
        404 => ("not_found_error", "invalid_request_error"),
        413 => ("request_too_large", "invalid_request_error"),
        429 => ("rate_limit_error", "rate_limit_exceeded"),
        503 | 529 => ("overloaded_error", "server_error"),
        504 => ("timeout_error", "server_error"),
        500..=599 => ("api_error", "server_error"),
        _ => ("invalid_request_error", "invalid_request_error"),
    }
}

/// The HTTP status an Anthropic error `type` stands for: the way back from
/// [`error_types_for_status`], for errors that arrive inside a stream (where
/// the HTTP status was already 200).
pub fn status_for_anthropic_error(error_type: &str) -> u16 {
    match error_type {
        "overloaded_error" => 529,
        "rate_limit_error" => 429,
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" => 403,
        "timeout_error" => 504,
        _ => 500,
    }
}

/// The OpenAI error `code` that goes with a status, where OpenAI sets one
/// (`invalid_api_key` on 401, `rate_limit_exceeded` on 429, ...).
pub fn openai_error_code_for_status(status: u16) -> Option<&'static str> {
    match status {
        401 => Some("invalid_api_key"),
        402 => Some("insufficient_quota"),
        429 => Some("rate_limit_exceeded"),
        _ => None,
    }
}

/// What could be read from an upstream error body.
#[derive(Debug, Default)]
struct UpstreamError {
    /// The protocol the body was written in, when recognisable.
    protocol: Option<Protocol>,
    kind: Option<String>,
    message: Option<String>,
    code: Option<String>,
    request_id: Option<String>,
}

/// Re-expresses an upstream error response in the client's protocol `to`,
/// keeping its message, so a client of one protocol served by a provider of
/// the other gets an error body its SDK can parse.
///
/// `body` may be an Anthropic or OpenAI error body, an array of them (as
/// Google's endpoints send), `{"error":"text"}`, `{"message":..}` /
/// `{"detail":..}`, or not JSON at all (its text, shortened, becomes the
/// message). A body already in the client's protocol keeps its own type and
/// code; otherwise they follow `status` ([`error_types_for_status`]).
pub fn translate_error_body(status: u16, body: &[u8], to: Protocol) -> Value {
    let upstream = parse_upstream_error(body);
    let message = upstream
        .message
        .clone()
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| format!("upstream returned HTTP {status}"));
    let same_protocol = upstream.protocol == Some(to);
    let (anthropic_type, openai_type) = error_types_for_status(status);
    match to {
        Protocol::Anthropic => {
            let kind = upstream
                .kind
                .filter(|kind| same_protocol && !kind.is_empty())
                .unwrap_or_else(|| anthropic_type.to_owned());
            let mut body = anthropic_error_body(&kind, &message);
            if let (true, Some(id), Some(map)) = (same_protocol, upstream.request_id, body.as_object_mut()) {
                map.insert("request_id".into(), Value::String(id));
            }
            body
        }
        Protocol::OpenAi => {
            let (kind, code) = if same_protocol {
                (
                    upstream
                        .kind
                        .filter(|kind| !kind.is_empty())
                        .unwrap_or_else(|| openai_type.to_owned()),
                    upstream.code,
                )
            } else {
                (
                    openai_type.to_owned(),
                    openai_error_code_for_status(status).map(str::to_owned),
                )
            };
            openai_error_body(&message, &kind, code.as_deref())
        }
    }
}

fn parse_upstream_error(body: &[u8]) -> UpstreamError {
    let text = String::from_utf8_lossy(body);
    let Ok(value) = serde_json::from_str::<Value>(text.trim()) else {
        return UpstreamError {
            message: Some(shorten(text.trim())),
            ..UpstreamError::default()
        };
    };
    // Google's endpoints wrap the error object in an array.
    let value = match value {
        Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
        other => other,
    };
    let string = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let error = value.get("error");
    match error {
        Some(detail @ Value::Object(_)) => {
            // OpenAI's error objects always carry a `type`; Google's carry
            // `status` instead and belong to neither protocol.
            let protocol = if value.get("type").and_then(Value::as_str) == Some("error") {
                Some(Protocol::Anthropic)
            } else if detail.get("type").is_some_and(Value::is_string) {
                Some(Protocol::OpenAi)
            } else {
                None
            };
            UpstreamError {
                protocol,
                kind: string(detail.get("type")),
                message: string(detail.get("message")).map(|m| shorten(&m)),
                code: match detail.get("code") {
                    Some(Value::String(code)) => Some(code.clone()),
                    Some(Value::Number(code)) => Some(code.to_string()),
                    _ => None,
                },
                request_id: string(value.get("request_id")),
            }
        }
        Some(Value::String(message)) => UpstreamError {
            message: Some(shorten(message)),
            ..UpstreamError::default()
        },
        _ => UpstreamError {
            message: string(value.get("message"))
                .or_else(|| string(value.get("detail")))
                .or_else(|| Some(value.to_string()))
                .map(|m| shorten(&m)),
            ..UpstreamError::default()
        },
    }
}

/// `text` cut to [`MAX_ERROR_MESSAGE_CHARS`] characters plus "…".
fn shorten(text: &str) -> String {
    crate::text::ellipsize(text, MAX_ERROR_MESSAGE_CHARS + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_overload_becomes_openai_server_error_with_message() {
        let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
        assert_eq!(
            translate_error_body(529, body, Protocol::OpenAi),
            openai_error_body("Overloaded", "server_error", None)
        );
        // Same protocol: type and request id kept.
        assert_eq!(
            translate_error_body(529, body, Protocol::Anthropic),
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}, "request_id": "req_1"})
        );
    }

    #[test]
    fn openai_rate_limit_becomes_anthropic_rate_limit_error() {
        let body = br#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
        assert_eq!(
            translate_error_body(429, body, Protocol::Anthropic),
            anthropic_error_body("rate_limit_error", "Rate limit reached")
        );
        assert_eq!(
            translate_error_body(429, body, Protocol::OpenAi),
            openai_error_body("Rate limit reached", "requests", Some("rate_limit_exceeded"))
        );
    }

    #[test]
    fn text_and_odd_json_bodies_keep_their_message() {
        let html = "<html>bad gateway</html>";
        assert_eq!(
            translate_error_body(502, html.as_bytes(), Protocol::Anthropic),
            anthropic_error_body("api_error", html)
        );
        assert_eq!(
            translate_error_body(401, b"", Protocol::OpenAi),
            openai_error_body(
                "upstream returned HTTP 401",
                "invalid_request_error",
                Some("invalid_api_key")
            )
        );
        let google = br#"[{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}]"#;
        assert_eq!(
            translate_error_body(429, google, Protocol::Anthropic)["error"]["message"],
            "Quota exceeded"
        );
        assert_eq!(
            translate_error_body(400, br#"{"detail":"bad"}"#, Protocol::OpenAi)["error"]["message"],
            "bad"
        );
    }

    #[test]
    fn long_messages_are_shortened_on_a_char_boundary() {
        let long = "é".repeat(MAX_ERROR_MESSAGE_CHARS + 5);
        let body = translate_error_body(500, long.as_bytes(), Protocol::OpenAi);
        let message = body["error"]["message"].as_str().unwrap();
        assert_eq!(message.chars().count(), MAX_ERROR_MESSAGE_CHARS + 1);
    }
}
