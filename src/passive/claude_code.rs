//! Claude Code's session logs: `<config dir>/projects/<cwd>/<session>.jsonl`.
//!
//! An API error is an `assistant` entry with `isApiErrorMessage: true`,
//! `apiErrorStatus`, `requestId`, `timestamp` and Claude Code's own word for
//! the error in `error` (`server_error`, `rate_limit`, `authentication_failed`,
//! `billing_error`); some versions also write `apiErrorType`. Its
//! `message.model` is `<synthetic>`: the model that failed is the one of the
//! session's earlier answers, which arrive here as [`LogLine::Model`].
//!
//! Only the fields below are deserialized; the message content, prompts and
//! tool results in the same line are skipped by serde without being kept.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Agent, AgentError, LogLine};

/// The placeholder model of entries Claude Code wrote itself.
const SYNTHETIC_MODEL: &str = "<synthetic>";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(rename = "type")]
    kind: Option<String>,
    timestamp: Option<DateTime<Utc>>,
    #[serde(default)]
    is_api_error_message: bool,
    api_error_status: Option<u16>,
    api_error_type: Option<String>,
    request_id: Option<String>,
    /// Claude Code's own classification of the error (`server_error`, ...).
    /// Other entries may carry an `error` of another shape: accept anything.
    error: Option<serde_json::Value>,
    message: Option<Message>,
}

#[derive(Deserialize)]
struct Message {
    model: Option<String>,
}

/// Reads one line; `None` for every line that is not an API error or an answer.
pub fn parse(line: &[u8]) -> Option<LogLine> {
    let entry: Entry = serde_json::from_slice(line).ok()?;
    if entry.kind.as_deref() != Some("assistant") {
        return None;
    }
    let model = entry
        .message
        .and_then(|m| m.model)
        .filter(|m| m != SYNTHETIC_MODEL && !m.is_empty());
    if !entry.is_api_error_message {
        return model.map(|m| LogLine::Model(super::clip(&m)));
    }
    let claude_word = entry.error.as_ref().and_then(|e| e.as_str()).map(str::to_string);
    Some(LogLine::Error(AgentError {
        agent: Agent::ClaudeCode,
        at: entry.timestamp?,
        http_status: entry.api_error_status,
        error_type: entry.api_error_type.or(claude_word).map(|t| super::clip(&t)),
        request_id: entry.request_id.map(|r| super::clip(&r)),
        model,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_entry_as_written_by_claude_code_2_1() {
        let line = br#"{"parentUuid":"24","isSidechain":false,"type":"assistant","uuid":"3e","timestamp":"2026-12-07T02:32:29.556Z","message":{"id":"4d","container":null,"model":"<synthetic>","role":"assistant","stop_reason":"stop_sequence","type":"message","usage":{"input_tokens":0,"output_tokens":0},"content":[{"type":"text","text":"API Error: 500 Internal server error. SECRET-PROMPT-WORDS"}],"context_management":null},"requestId":"req_011CWfakeRequestId01","error":"server_error","isApiErrorMessage":true,"apiErrorStatus":500,"userType":"external","cwd":"/home/u/secret-project","sessionId":"7e","version":"2.1.197"}"#;
        let Some(LogLine::Error(e)) = parse(line) else {
            panic!("not an error")
        };
        assert_eq!(e.http_status, Some(500));
        assert_eq!(e.error_type.as_deref(), Some("server_error"));
        assert_eq!(e.request_id.as_deref(), Some("req_011CWfakeRequestId01"));
        assert_eq!(e.model, None, "<synthetic> is not a model");
        assert!(!format!("{e:?}").contains("SECRET") && !format!("{e:?}").contains("secret-project"));
    }

    #[test]
    fn the_documented_api_error_type_wins_over_claude_codes_word() {
        let line = br#"{"type":"assistant","timestamp":"2026-12-07T01:56:46.884Z","message":{"model":"<synthetic>","role":"assistant","content":[]},"requestId":"req_1","error":"server_error","isApiErrorMessage":true,"apiErrorStatus":529,"apiErrorType":"overloaded_error"}"#;
        let Some(LogLine::Error(e)) = parse(line) else {
            panic!("not an error")
        };
        assert_eq!(e.error_type.as_deref(), Some("overloaded_error"));
        assert_eq!(e.http_status, Some(529));
    }

    #[test]
    fn answers_name_the_sessions_model_and_other_lines_are_skipped() {
        let answer = br#"{"type":"assistant","timestamp":"2026-12-07T02:32:29Z","message":{"model":"claude-sonnet-4-5","content":[{"type":"text","text":"hi"}]}}"#;
        assert_eq!(parse(answer), Some(LogLine::Model("claude-sonnet-4-5".into())));
        for line in [
            &br#"{"type":"user","message":{"role":"user","content":"x"}}"#[..],
            br#"{"type":"queue-operation","operation":"enqueue","content":"x"}"#,
            br#"not json"#,
            br#"{"type":"assistant","isApiErrorMessage":true,"apiErrorStatus":500}"#, // no timestamp
            br#"{"type":"assistant","isApiErrorMessage":"yes"}"#,
            br#"[]"#,
            b"",
        ] {
            assert_eq!(parse(line), None, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn future_fields_are_ignored_and_odd_error_shapes_accepted() {
        let line = br#"{"type":"assistant","timestamp":"2026-12-07T02:00:00Z","newField":{"deep":[1,2]},"error":{"kind":"x"},"isApiErrorMessage":true,"apiErrorStatus":503,"requestId":"req_2"}"#;
        let Some(LogLine::Error(e)) = parse(line) else {
            panic!("not an error")
        };
        assert_eq!((e.http_status, e.error_type), (Some(503), None));
    }
}
