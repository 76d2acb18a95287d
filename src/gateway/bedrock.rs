//! Claude on Amazon Bedrock, the gateway's part: the binary event stream of
//! a streaming answer, and AWS errors in Anthropic's words.
//!
//! Streams arrive as `application/vnd.amazon.eventstream` frames whose `chunk`
//! events carry the Anthropic stream events base64-encoded. The framing
//! (lengths, CRCs, headers) is `aws-smithy-eventstream`'s. The request, its
//! credential and its signature live below the gateway (`upstream::bedrock`,
//! `cloud::aws`), shared with the probes.
//!
//! Left out on purpose: retries (the gateway decides).

use aws_smithy_eventstream::frame::{write_message_to, DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use base64::Engine as _;
use bytes::BytesMut;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

/// Bedrock's request-id response header.
pub(crate) const REQUEST_ID_HEADER: &str = "x-amzn-requestid";
/// Bedrock's error-type response header (`ThrottlingException:http://...`).
pub(crate) const ERROR_TYPE_HEADER: &str = "x-amzn-errortype";
/// Bytes buffered while waiting for the end of one frame. The event-stream
/// format caps a message at 16 MiB; anything claiming more is not Bedrock.
const MAX_BUFFERED_BYTES: usize = 16 * 1024 * 1024 + 1024;
/// Longest `:exception-type` header [`encode_exception`] writes; the format
/// allows more, but no AWS exception name comes close.
#[cfg(test)]
const MAX_KIND_CHARS: usize = 255;

/// A streaming answer that cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum EventStreamError {
    #[error("malformed Bedrock event stream: {0}")]
    Stream(String),
    #[error("the Bedrock event stream ended in the middle of a frame")]
    Truncated,
}

/// One decoded frame of an InvokeModelWithResponseStream answer.
#[derive(Clone, Debug, PartialEq)]
pub enum BedrockFrame {
    /// An Anthropic stream event (`message_start`, `content_block_delta`, ...).
    Event(Value),
    /// Bedrock failed mid-stream: `kind` is the `:exception-type`
    /// (`throttlingException`, `modelStreamErrorException`, ...).
    Exception { kind: String, message: String },
}

impl BedrockFrame {
    /// An exception as the Anthropic error it amounts to (see [`map_exception`]).
    pub fn as_error(&self) -> Option<MappedError> {
        match self {
            BedrockFrame::Exception { kind, message } => Some(map_exception(kind, message)),
            BedrockFrame::Event(_) => None,
        }
    }
}

/// Turns the bytes of an event-stream body, in chunks of any size, into
/// frames. Frames split across chunks (even a byte at a time) decode once
/// their last byte arrives.
#[derive(Debug, Default)]
pub struct EventStreamDecoder {
    buffer: BytesMut,
    frames: MessageFrameDecoder,
    /// The frame decoder has taken a frame's prelude and waits for the rest.
    mid_frame: bool,
}

impl EventStreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `bytes` and returns every frame they complete. Events of types
    /// other than `chunk` are skipped (forward compatibility); a frame that
    /// fails its checksum or carries a payload that is not the expected JSON
    /// is an error, after which the stream cannot be trusted.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<BedrockFrame>, EventStreamError> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() > MAX_BUFFERED_BYTES {
            return Err(EventStreamError::Stream(format!(
                "a frame larger than {MAX_BUFFERED_BYTES} bytes"
            )));
        }
        let mut out = Vec::new();
        loop {
            let before = self.buffer.len();
            match self
                .frames
                .decode_frame(&mut self.buffer)
                .map_err(|e| EventStreamError::Stream(e.to_string()))?
            {
                DecodedFrame::Complete(message) => {
                    self.mid_frame = false;
                    out.extend(frame(&message)?);
                }
                DecodedFrame::Incomplete => {
                    self.mid_frame |= self.buffer.len() < before;
                    return Ok(out);
                }
            }
        }
    }

    /// Call when the body ended: an error if it stopped inside a frame.
    pub fn finish(&self) -> Result<(), EventStreamError> {
        if self.mid_frame || !self.buffer.is_empty() {
            Err(EventStreamError::Truncated)
        } else {
            Ok(())
        }
    }
}

fn header_str<'m>(message: &'m Message, name: &str) -> Option<&'m str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| h.value().as_string().ok())
        .map(|s| s.as_str())
}

fn frame(message: &Message) -> Result<Option<BedrockFrame>, EventStreamError> {
    match header_str(message, ":message-type") {
        Some("event") => {
            if header_str(message, ":event-type") != Some("chunk") {
                return Ok(None);
            }
            let payload: Value = serde_json::from_slice(message.payload())
                .map_err(|e| EventStreamError::Stream(format!("chunk payload is not JSON: {e}")))?;
            let encoded = payload
                .get("bytes")
                .and_then(Value::as_str)
                .ok_or_else(|| EventStreamError::Stream("chunk payload has no \"bytes\"".into()))?;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| EventStreamError::Stream(format!("chunk bytes are not base64: {e}")))?;
            let event = serde_json::from_slice(&raw)
                .map_err(|e| EventStreamError::Stream(format!("chunk is not a JSON event: {e}")))?;
            Ok(Some(BedrockFrame::Event(event)))
        }
        Some("exception") => Ok(Some(BedrockFrame::Exception {
            kind: header_str(message, ":exception-type")
                .unwrap_or("unknownException")
                .to_string(),
            message: payload_message(message.payload()),
        })),
        // The event-stream protocol's own error frames.
        Some("error") => Ok(Some(BedrockFrame::Exception {
            kind: header_str(message, ":error-code").unwrap_or("error").to_string(),
            message: header_str(message, ":error-message")
                .map(str::to_string)
                .unwrap_or_else(|| payload_message(message.payload())),
        })),
        _ => Ok(None),
    }
}

/// The `message` (or `Message`) of an AWS JSON error payload, else its text.
fn payload_message(payload: &[u8]) -> String {
    let parsed: Option<Value> = serde_json::from_slice(payload).ok();
    parsed
        .as_ref()
        .and_then(|v| v.get("message").or_else(|| v.get("Message")))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(payload).trim().to_string())
}

/// Encodes an Anthropic stream event as Bedrock sends it: a `chunk` event frame
/// whose JSON payload holds the event base64-encoded. Exists for fakes and
/// tests that need a realistic Bedrock stream.
pub fn encode_chunk(event_json: &Value) -> Vec<u8> {
    let bytes = base64::engine::general_purpose::STANDARD.encode(event_json.to_string());
    let payload = json!({ "bytes": bytes }).to_string();
    encode(
        vec![
            Header::new(":event-type", HeaderValue::String("chunk".into())),
            Header::new(":content-type", HeaderValue::String("application/json".into())),
            Header::new(":message-type", HeaderValue::String("event".into())),
        ],
        payload,
    )
}

/// Encodes a mid-stream exception frame (`kind` such as `throttlingException`).
/// Exists for fakes and tests.
#[cfg(test)]
pub(crate) fn encode_exception(kind: &str, message: &str) -> Vec<u8> {
    let kind: String = kind.chars().take(MAX_KIND_CHARS).collect();
    encode(
        vec![
            Header::new(":exception-type", HeaderValue::String(kind.into())),
            Header::new(":content-type", HeaderValue::String("application/json".into())),
            Header::new(":message-type", HeaderValue::String("exception".into())),
        ],
        json!({ "message": message }).to_string(),
    )
}

fn encode(headers: Vec<Header>, payload: String) -> Vec<u8> {
    let mut out = Vec::new();
    write_message_to(&Message::new_from_parts(headers, payload), &mut out)
        // Only over-long headers or a payload over 4 GiB fail; ours are short
        // fixed names and a test-sized payload.
        .expect("small event-stream frames always encode");
    out
}

/// A Bedrock failure in Anthropic's vocabulary, for answering a client that
/// speaks the Anthropic API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedError {
    /// The HTTP status to answer with.
    pub(crate) status: u16,
    /// Anthropic's `error.type` (`rate_limit_error`, `overloaded_error`, ...).
    pub(crate) error_type: &'static str,
    pub(crate) message: String,
    /// The provider's own error name (`ThrottlingException` on Bedrock,
    /// `RESOURCE_EXHAUSTED` on Vertex), when it gave one.
    pub(crate) upstream_type: Option<String>,
    /// `x-amzn-RequestId`.
    pub(crate) request_id: Option<String>,
}

impl MappedError {
    /// The Anthropic error body: `{"type":"error","error":{"type","message"}}`.
    pub(crate) fn to_anthropic_json(&self) -> Value {
        let mut body = json!({
            "type": "error",
            "error": { "type": self.error_type, "message": self.message },
        });
        if let Some(id) = &self.request_id {
            body["request_id"] = Value::String(id.clone());
        }
        body
    }

    /// Whether another provider (or a later try) may succeed: capacity and
    /// server faults, not the request or the credential.
    pub fn is_retryable(&self) -> bool {
        matches!(self.status, 429 | 500..=599)
    }
}

/// Maps a Bedrock HTTP error answer (`{"message": ...}` with `x-amzn-ErrorType`)
/// to the Anthropic status and error type a client expects.
pub(crate) fn error_from_response(status: u16, headers: &HeaderMap, body: &[u8]) -> MappedError {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let body_type = parsed
        .as_ref()
        .and_then(|v| v.get("__type"))
        .and_then(Value::as_str)
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_string());
    let upstream_type = header(ERROR_TYPE_HEADER)
        .map(|t| t.split(':').next().unwrap_or(t).to_string())
        .or(body_type)
        .filter(|t| !t.is_empty());
    let message = payload_message(body);
    let message = if message.is_empty() {
        format!("Bedrock answered HTTP {status}")
    } else {
        message
    };
    let (status_out, error_type) = anthropic_error(upstream_type.as_deref(), status);
    MappedError {
        status: status_out,
        error_type,
        message,
        upstream_type,
        request_id: header(REQUEST_ID_HEADER).map(str::to_string),
    }
}

/// Maps a mid-stream exception frame the same way as an HTTP error.
pub(crate) fn map_exception(kind: &str, message: &str) -> MappedError {
    let (status, error_type) = anthropic_error(Some(kind), 500);
    MappedError {
        status,
        error_type,
        message: message.to_string(),
        upstream_type: Some(kind.to_string()),
        request_id: None,
    }
}

/// AWS error name (either case: HTTP errors say `ThrottlingException`, stream
/// frames `throttlingException`) → Anthropic status and type; unknown names
/// fall back to the HTTP status.
fn anthropic_error(upstream_type: Option<&str>, status: u16) -> (u16, &'static str) {
    let name = upstream_type.unwrap_or_default().to_ascii_lowercase();
    let name = name.trim_end_matches("exception");
    match name {
        "throttling" | "toomanyrequests" | "servicequotaexceeded" => (429, "rate_limit_error"),
        // Capacity, not a fault: Anthropic's own word and status for it.
        "serviceunavailable" | "modelnotready" => (529, "overloaded_error"),
        "accessdenied" => (403, "permission_error"),
        "unrecognizedclient"
        | "expiredtoken"
        | "invalidsignature"
        | "incompletesignature"
        | "missingauthenticationtoken"
        | "invalidclienttokenid"
        | "signaturedoesnotmatch" => (401, "authentication_error"),
        "validation" => (400, "invalid_request_error"),
        "resourcenotfound" => (404, "not_found_error"),
        "modeltimeout" => (504, "timeout_error"),
        "internalserver" | "internalfailure" | "modelstreamerror" | "modelerror" => (500, "api_error"),
        _ => match status {
            400 => (400, "invalid_request_error"),
            401 => (401, "authentication_error"),
            403 => (403, "permission_error"),
            404 => (404, "not_found_error"),
            408 | 504 => (504, "timeout_error"),
            413 => (413, "request_too_large"),
            429 => (429, "rate_limit_error"),
            503 | 529 => (529, "overloaded_error"),
            s => (s, "api_error"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue as HttpHeaderValue;

    #[test]
    fn errors_map_to_anthropic_types() {
        let mut headers = HeaderMap::new();
        headers.insert(
            ERROR_TYPE_HEADER,
            HttpHeaderValue::from_static(
                "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            ),
        );
        headers.insert(REQUEST_ID_HEADER, HttpHeaderValue::from_static("rid-1"));
        let e = error_from_response(
            429,
            &headers,
            br#"{"message":"Too many requests, please wait before trying again."}"#,
        );
        assert_eq!((e.status, e.error_type), (429, "rate_limit_error"));
        assert_eq!(e.upstream_type.as_deref(), Some("ThrottlingException"));
        assert_eq!(e.request_id.as_deref(), Some("rid-1"));
        assert_eq!(e.to_anthropic_json()["error"]["type"], "rate_limit_error");
        assert!(e.is_retryable());

        let cases = [
            ("ServiceUnavailableException", 503, 529, "overloaded_error"),
            ("ModelNotReadyException", 429, 529, "overloaded_error"),
            ("AccessDeniedException", 403, 403, "permission_error"),
            ("UnrecognizedClientException", 403, 401, "authentication_error"),
            ("ExpiredTokenException", 403, 401, "authentication_error"),
            ("ValidationException", 400, 400, "invalid_request_error"),
            ("InternalServerException", 500, 500, "api_error"),
            ("ResourceNotFoundException", 404, 404, "not_found_error"),
        ];
        for (kind, status, want_status, want_type) in cases {
            let body = json!({ "__type": format!("com.amazon.coral.service#{kind}"), "Message": "m" });
            let e = error_from_response(status, &HeaderMap::new(), body.to_string().as_bytes());
            assert_eq!((e.status, e.error_type), (want_status, want_type), "{kind}");
            assert_eq!(e.message, "m");
        }
        let e = error_from_response(502, &HeaderMap::new(), b"<html>bad gateway</html>");
        assert_eq!((e.status, e.error_type), (502, "api_error"));
        let e = map_exception("modelStreamErrorException", "boom");
        assert_eq!((e.status, e.error_type), (500, "api_error"));
        assert!(!map_exception("validationException", "x").is_retryable());
    }

    #[test]
    fn truncated_stream_is_reported() {
        let frame = encode_chunk(&json!({"type": "ping"}));
        let mut d = EventStreamDecoder::new();
        assert!(d.push(&frame[..frame.len() - 1]).unwrap().is_empty());
        assert!(matches!(d.finish(), Err(EventStreamError::Truncated)));
        assert_eq!(d.push(&frame[frame.len() - 1..]).unwrap().len(), 1);
        assert!(d.finish().is_ok());
        let mut d = EventStreamDecoder::new();
        let mut corrupt = frame.clone();
        let last = corrupt.len() - 1;
        corrupt[last] ^= 0xff;
        assert!(matches!(d.push(&corrupt), Err(EventStreamError::Stream(_))));
    }
}
