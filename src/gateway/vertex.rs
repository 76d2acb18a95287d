//! Claude on Google Vertex AI, the gateway's part: Vertex's error answers in
//! Anthropic's words. The request (`upstream::vertex`) and the token
//! (`cloud::google`) live below the gateway, shared with the probes.

use serde_json::Value;

use super::bedrock::MappedError;

/// Maps a Vertex error answer to the Anthropic status and type a client
/// expects. Model errors arrive already in Anthropic's envelope and keep their
/// type; Google's `{"error":{"code","message","status"}}` is mapped by status.
pub(crate) fn error_from_response(status: u16, body: &[u8]) -> MappedError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body).trim().to_string();
            if text.is_empty() {
                format!("Vertex AI answered HTTP {status}")
            } else {
                text
            }
        });
    let anthropic_type = error.and_then(|e| e.get("type")).and_then(Value::as_str);
    let google_status = error
        .and_then(|e| e.get("status"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let known = anthropic_type.and_then(|t| {
        [
            "invalid_request_error",
            "authentication_error",
            "billing_error",
            "permission_error",
            "not_found_error",
            "request_too_large",
            "rate_limit_error",
            "api_error",
            "timeout_error",
            "overloaded_error",
        ]
        .into_iter()
        .find(|k| *k == t)
    });
    let (status_out, error_type) = match (known, status) {
        (Some("overloaded_error"), _) => (529, "overloaded_error"),
        (Some(t), s) => (s, t),
        (None, 400) => (400, "invalid_request_error"),
        (None, 401) => (401, "authentication_error"),
        (None, 403) => (403, "permission_error"),
        (None, 404) => (404, "not_found_error"),
        (None, 408 | 504) => (504, "timeout_error"),
        (None, 413) => (413, "request_too_large"),
        (None, 429) => (429, "rate_limit_error"),
        (None, 503 | 529) => (529, "overloaded_error"),
        (None, s) => (s, "api_error"),
    };
    MappedError {
        status: status_out,
        error_type,
        message,
        upstream_type: google_status,
        request_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_and_anthropic_errors_map() {
        let e = error_from_response(
            429,
            br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#,
        );
        assert_eq!(
            (e.status, e.error_type, e.message.as_str()),
            (429, "rate_limit_error", "Quota exceeded")
        );
        assert_eq!(e.upstream_type.as_deref(), Some("RESOURCE_EXHAUSTED"));
        let e = error_from_response(
            529,
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert_eq!((e.status, e.error_type), (529, "overloaded_error"));
        let e = error_from_response(503, b"no healthy upstream");
        assert_eq!(
            (e.status, e.error_type, e.message.as_str()),
            (529, "overloaded_error", "no healthy upstream")
        );
        let e = error_from_response(
            401,
            br#"{"error":{"code":401,"message":"bad","status":"UNAUTHENTICATED"}}"#,
        );
        assert_eq!((e.status, e.error_type), (401, "authentication_error"));
    }
}
