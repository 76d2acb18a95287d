//! Codex's session logs: `<CODEX_HOME>/sessions/YYYY/MM/DD/rollout-*.jsonl`.
//!
//! A failed turn is an `event_msg` whose payload (`task_complete` in Codex
//! 0.17x, `error` in others) carries an `error` object, or the error fields
//! themselves, with `codex_error_info`: a word (`internal_server_error`,
//! `usage_limit_exceeded`, `server_overloaded`, `unauthorized`, ...) or an
//! object carrying the HTTP status (`{"http_connection_failed":
//! {"http_status_code": 503}}`). The model comes from `turn_context` lines.
//!
//! The error's `message` is free text that may quote the user's key prefix
//! or URL: only a request id is taken from it, by its fixed wording.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{Agent, AgentError, LogLine};

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: Option<String>,
    timestamp: Option<DateTime<Utc>>,
    payload: Option<Payload>,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: Option<String>,
    model: Option<String>,
    error: Option<ErrorFields>,
    codex_error_info: Option<Value>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct ErrorFields {
    codex_error_info: Option<Value>,
    message: Option<String>,
}

/// Reads one line; `None` for every line that is not an API error or a model.
pub fn parse(line: &[u8]) -> Option<LogLine> {
    let entry: Entry = serde_json::from_slice(line).ok()?;
    let payload = entry.payload?;
    match entry.kind.as_deref()? {
        "turn_context" => payload
            .model
            .filter(|m| !m.is_empty())
            .map(|m| LogLine::Model(super::clip(&m))),
        "event_msg" => {
            let (info, message) = match payload.error {
                Some(e) => (e.codex_error_info, e.message),
                None if payload.kind.as_deref() == Some("error") => {
                    (payload.codex_error_info, payload.message)
                }
                None => return None,
            };
            let (http_status, error_type) = status_of(info.as_ref()?)?;
            Some(LogLine::Error(AgentError {
                agent: Agent::Codex,
                at: entry.timestamp?,
                http_status,
                error_type: Some(error_type),
                request_id: message.as_deref().and_then(request_id_in),
                model: None,
            }))
        }
        _ => None,
    }
}

/// The HTTP status and the error's name from `codex_error_info`. Words
/// without a status get the one Codex maps them from; errors that are the
/// user's own (context window, bad request, sandbox) are `None`.
fn status_of(info: &Value) -> Option<(Option<u16>, String)> {
    match info {
        Value::String(word) => {
            let status = match word.as_str() {
                "internal_server_error" => 500,
                "server_overloaded" => 503,
                "usage_limit_exceeded" | "rate_limit_exceeded" => 429,
                "unauthorized" => 401,
                _ => return None,
            };
            Some((Some(status), word.clone()))
        }
        Value::Object(map) => {
            let (name, inner) = map.iter().next()?;
            let status = inner
                .get("http_status_code")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok());
            // A stream that broke without a status is the network's or the
            // provider's; without a status it cannot be told apart: skip it.
            Some((Some(status?), super::clip(name)))
        }
        _ => None,
    }
}

/// Codex ends its error messages with ", request id: <id>".
fn request_id_in(message: &str) -> Option<String> {
    let (_, rest) = message.rsplit_once("request id: ")?;
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .collect();
    (!id.is_empty()).then(|| super::clip(&id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_complete_with_a_word() {
        let line = br#"{"timestamp":"2026-12-07T02:32:34.273Z","ordinal":9,"type":"event_msg","payload":{"type":"task_complete","turn_id":"01","last_agent_message":null,"error":{"message":"We're currently experiencing high demand, which may cause temporary errors.","codex_error_info":"internal_server_error"},"duration_ms":128}}"#;
        let Some(LogLine::Error(e)) = parse(line) else {
            panic!("not an error")
        };
        assert_eq!(e.http_status, Some(500));
        assert_eq!(e.error_type.as_deref(), Some("internal_server_error"));
        assert_eq!(e.request_id, None);
    }

    #[test]
    fn task_complete_with_a_status_and_request_id() {
        let line = br#"{"timestamp":"2026-12-07T02:32:34Z","type":"event_msg","payload":{"type":"task_complete","error":{"message":"unexpected status 401 Unauthorized: Incorrect API key provided: sk-test. You can find your API key at https://x, url: http://127.0.0.1:1/v1/responses, request id: req_codex401","codex_error_info":{"http_connection_failed":{"http_status_code":401}}}}}"#;
        let Some(LogLine::Error(e)) = parse(line) else {
            panic!("not an error")
        };
        assert_eq!(e.http_status, Some(401));
        assert_eq!(e.error_type.as_deref(), Some("http_connection_failed"));
        assert_eq!(e.request_id.as_deref(), Some("req_codex401"));
        assert!(!format!("{e:?}").contains("sk-test"));
    }

    #[test]
    fn error_events_and_turn_context() {
        let line = br#"{"timestamp":"2026-12-07T02:00:00Z","type":"event_msg","payload":{"type":"error","message":"stream disconnected","codex_error_info":{"response_stream_disconnected":{"http_status_code":502}}}}"#;
        let Some(LogLine::Error(e)) = parse(line) else {
            panic!("not an error")
        };
        assert_eq!(e.http_status, Some(502));
        let ctx = br#"{"timestamp":"2026-12-07T02:00:00Z","type":"turn_context","payload":{"cwd":"/x","model":"gpt-5-codex"}}"#;
        assert_eq!(parse(ctx), Some(LogLine::Model("gpt-5-codex".into())));
    }

    #[test]
    fn the_users_own_errors_and_other_lines_are_skipped() {
        for line in [
            &br#"{"timestamp":"2026-12-07T02:00:00Z","type":"event_msg","payload":{"type":"task_complete","error":{"codex_error_info":"context_window_exceeded"}}}"#[..],
            br#"{"timestamp":"2026-12-07T02:00:00Z","type":"event_msg","payload":{"type":"error","codex_error_info":{"response_stream_disconnected":{"http_status_code":null}}}}"#,
            br#"{"timestamp":"2026-12-07T02:00:00Z","type":"event_msg","payload":{"type":"task_complete","last_agent_message":"done"}}"#,
            br#"{"timestamp":"2026-12-07T02:00:00Z","type":"response_item","payload":{"type":"message","role":"user","content":[]}}"#,
            br#"{"type":"event_msg","payload":{"type":"task_complete","error":{"codex_error_info":"internal_server_error"}}}"#,
            br#"{"timestamp":"2026-12-07T02:00:00Z","type":"event_msg","payload":{"error":{"codex_error_info":{"x":{"http_status_code":99999}}}}}"#,
            b"\xff\xfe",
        ] {
            assert_eq!(parse(line), None, "{}", String::from_utf8_lossy(line));
        }
    }
}
