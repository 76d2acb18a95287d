//! Non-streaming response translation, and the mappings (ids, stop reasons,
//! usage, tool arguments) the streaming translators share.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::RAW_ARGUMENTS_KEY;
use crate::gateway::wire::anthropic as a;
use crate::gateway::wire::openai as o;

/// Prefix of OpenAI completion ids.
const OPENAI_ID_PREFIX: &str = "chatcmpl-";
/// Prefix of Anthropic message ids.
const ANTHROPIC_ID_PREFIX: &str = "msg_";

/// `chatcmpl-X` -> `msg_X`: clients and logs recognise the id's protocol by
/// its prefix, and the suffix keeps it traceable to the upstream response.
pub fn openai_id_to_anthropic(id: &str) -> String {
    let suffix = id.strip_prefix(OPENAI_ID_PREFIX).unwrap_or(id);
    format!("{ANTHROPIC_ID_PREFIX}{suffix}")
}

/// `msg_X` -> `chatcmpl-X`, the inverse of [`openai_id_to_anthropic`].
pub fn anthropic_id_to_openai(id: &str) -> String {
    let suffix = id.strip_prefix(ANTHROPIC_ID_PREFIX).unwrap_or(id);
    format!("{OPENAI_ID_PREFIX}{suffix}")
}

/// An OpenAI tool-call id as an Anthropic tool id, which must match
/// `[A-Za-z0-9_-]+`: other characters become `_`, so ids from servers with
/// looser ids (and the same ids in later tool results) are accepted, and
/// stay accepted if the conversation later fails over to Anthropic. `None`
/// for an empty id.
pub(super) fn anthropic_tool_id(id: &str) -> Option<String> {
    if id.is_empty() {
        return None;
    }
    Some(
        id.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect(),
    )
}

/// Turns OpenAI tool-call arguments (JSON text produced by a model, so not
/// guaranteed valid) into an Anthropic `input`, which must be an object.
/// Empty text is `{}` (some servers send that for calls without
/// parameters); an object is kept; anything else, valid JSON or not, is kept
/// as text under [`RAW_ARGUMENTS_KEY`] so nothing is lost and nothing panics.
pub fn parse_tool_arguments(arguments: &str) -> Value {
    let trimmed = arguments.trim();
    if trimmed.is_empty() {
        return json!({});
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(object @ Value::Object(_)) => object,
        _ => json!({ RAW_ARGUMENTS_KEY: arguments }),
    }
}

/// OpenAI `finish_reason` -> Anthropic `stop_reason`. A message that called
/// tools stops with `tool_use` whatever the server said (several
/// OpenAI-compatible servers report `stop`), because Claude clients run tools
/// on `tool_use`. `stop` cannot tell a stop sequence from a natural end, so
/// it is `end_turn`. A refusal is `refusal`.
pub fn stop_reason_from_openai(
    finish_reason: Option<&o::FinishReason>,
    called_tools: bool,
    refused: bool,
) -> a::StopReason {
    match finish_reason {
        Some(o::FinishReason::Length) => a::StopReason::MaxTokens,
        Some(o::FinishReason::ContentFilter) => a::StopReason::Refusal,
        _ if called_tools => a::StopReason::ToolUse,
        Some(o::FinishReason::ToolCalls | o::FinishReason::FunctionCall) => a::StopReason::ToolUse,
        _ if refused => a::StopReason::Refusal,
        _ => a::StopReason::EndTurn,
    }
}

/// Anthropic `stop_reason` -> OpenAI `finish_reason`. `end_turn`,
/// `stop_sequence` and `pause_turn` are all `stop`; a refusal is
/// `content_filter`; running out of context is `length`.
pub fn finish_reason_from_anthropic(
    stop_reason: Option<&a::StopReason>,
    called_tools: bool,
) -> o::FinishReason {
    match stop_reason {
        Some(a::StopReason::MaxTokens) => o::FinishReason::Length,
        Some(a::StopReason::ToolUse) => o::FinishReason::ToolCalls,
        Some(a::StopReason::Refusal) => o::FinishReason::ContentFilter,
        Some(a::StopReason::Other(reason)) if reason == "model_context_window_exceeded" => {
            o::FinishReason::Length
        }
        None if called_tools => o::FinishReason::ToolCalls,
        _ => o::FinishReason::Stop,
    }
}

/// Anthropic usage -> OpenAI usage. OpenAI's `prompt_tokens` counts every
/// input token, so it is input + cache writes + cache reads, with the reads
/// repeated in `prompt_tokens_details.cached_tokens`.
pub fn usage_to_openai(usage: &a::Usage) -> o::ChatUsage {
    let cached = usage.cache_read_input_tokens;
    let prompt_tokens = usage
        .input_tokens
        .saturating_add(usage.cache_creation_input_tokens.unwrap_or(0))
        .saturating_add(cached.unwrap_or(0));
    o::ChatUsage {
        prompt_tokens,
        completion_tokens: usage.output_tokens,
        total_tokens: prompt_tokens.saturating_add(usage.output_tokens),
        prompt_tokens_details: cached.map(|cached_tokens| o::PromptTokensDetails {
            cached_tokens: Some(cached_tokens),
            extra: o::Extra::new(),
        }),
        completion_tokens_details: None,
        extra: o::Extra::new(),
    }
}

/// OpenAI usage -> Anthropic usage, the inverse of [`usage_to_openai`]:
/// cached tokens move out of `input_tokens` into `cache_read_input_tokens`.
/// Cache writes cannot be told apart and stay in `input_tokens`.
pub fn usage_to_anthropic(usage: &o::ChatUsage) -> a::Usage {
    let cached = usage
        .prompt_tokens_details
        .as_ref()
        .and_then(|details| details.cached_tokens);
    a::Usage {
        input_tokens: usage.prompt_tokens.saturating_sub(cached.unwrap_or(0)),
        output_tokens: usage.completion_tokens,
        cache_creation_input_tokens: None,
        cache_read_input_tokens: cached,
        extra: a::Extra::new(),
    }
}

/// Translates an OpenAI completion into an Anthropic message: the first
/// choice's text (or refusal) becomes a text block, its tool calls
/// `tool_use` blocks with parsed arguments (see [`parse_tool_arguments`]).
/// Other choices are ignored: Anthropic clients never ask for several.
pub fn openai_to_anthropic_response(resp: &o::ChatResponse) -> a::MessagesResponse {
    let choice = resp.choices.first();
    let message = choice.map(|choice| &choice.message);
    let mut content = Vec::new();
    let text = message.and_then(|m| m.content.as_deref()).unwrap_or("");
    if !text.is_empty() {
        content.push(a::ContentBlock::text(text));
    }
    let refusal = message
        .and_then(|m| m.refusal.as_deref())
        .filter(|r| !r.is_empty());
    if let Some(refusal) = refusal {
        content.push(a::ContentBlock::text(refusal));
    }
    let calls = message.and_then(|m| m.tool_calls.as_deref()).unwrap_or_default();
    content.extend(calls.iter().map(|call| {
        a::ContentBlock::tool_use(
            anthropic_tool_id(&call.id).unwrap_or_default(),
            call.function.name.clone(),
            parse_tool_arguments(&call.function.arguments),
        )
    }));
    let stop_reason = stop_reason_from_openai(
        choice.and_then(|c| c.finish_reason.as_ref()),
        !calls.is_empty(),
        refusal.is_some(),
    );
    a::MessagesResponse {
        id: openai_id_to_anthropic(&resp.id),
        kind: a::MESSAGE_TYPE.to_owned(),
        role: a::Role::Assistant,
        model: resp.model.clone(),
        content,
        stop_reason: Some(stop_reason),
        stop_sequence: None,
        usage: resp.usage.as_ref().map(usage_to_anthropic).unwrap_or_default(),
        extra: a::Extra::new(),
    }
}

/// Translates an Anthropic message into an OpenAI completion with one
/// choice: text blocks concatenated into `content` (`null` when there is
/// none, as OpenAI sends beside tool calls), `tool_use` blocks into
/// `tool_calls` with `input` serialised as `arguments`. Thinking and server
/// tool blocks are dropped. `created` is the current time.
pub fn anthropic_to_openai_response(resp: &a::MessagesResponse) -> o::ChatResponse {
    let mut text = String::new();
    let mut calls = Vec::new();
    for block in &resp.content {
        match block {
            a::ContentBlock::Text { text: t, .. } => text.push_str(t),
            a::ContentBlock::ToolUse { id, name, input, .. } => {
                calls.push(o::ToolCall::function(id, name, input.to_string()))
            }
            _ => {}
        }
    }
    let finish_reason = finish_reason_from_anthropic(resp.stop_reason.as_ref(), !calls.is_empty());
    o::ChatResponse {
        id: anthropic_id_to_openai(&resp.id),
        object: o::CHAT_COMPLETION_OBJECT.to_owned(),
        created: unix_now(),
        model: resp.model.clone(),
        choices: vec![o::Choice {
            index: 0,
            message: o::ResponseMessage {
                role: o::ChatRole::Assistant,
                content: (!text.is_empty()).then_some(text),
                tool_calls: (!calls.is_empty()).then_some(calls),
                refusal: None,
                extra: o::Extra::new(),
            },
            logprobs: None,
            finish_reason: Some(finish_reason),
        }],
        usage: Some(usage_to_openai(&resp.usage)),
        system_fingerprint: None,
        extra: o::Extra::new(),
    }
}

/// Seconds since the Unix epoch, for OpenAI's `created`; 0 if the clock is
/// before 1970 (a value clients ignore rather than a reason to fail).
pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_that_are_not_an_object_are_kept_as_text() {
        assert_eq!(parse_tool_arguments(""), json!({}));
        assert_eq!(parse_tool_arguments(" {\"a\":1} "), json!({"a": 1}));
        assert_eq!(
            parse_tool_arguments("{\"a\":"),
            json!({ RAW_ARGUMENTS_KEY: "{\"a\":" })
        );
        assert_eq!(parse_tool_arguments("[1]"), json!({ RAW_ARGUMENTS_KEY: "[1]" }));
    }

    #[test]
    fn tool_ids_keep_to_anthropic_characters() {
        assert_eq!(anthropic_tool_id("call_Ab-9").as_deref(), Some("call_Ab-9"));
        assert_eq!(anthropic_tool_id("fc:1.2/x").as_deref(), Some("fc_1_2_x"));
        assert_eq!(anthropic_tool_id(""), None);
    }

    #[test]
    fn ids_swap_prefixes_both_ways() {
        assert_eq!(openai_id_to_anthropic("chatcmpl-abc"), "msg_abc");
        assert_eq!(anthropic_id_to_openai("msg_abc"), "chatcmpl-abc");
        assert_eq!(openai_id_to_anthropic("gen-1"), "msg_gen-1");
    }

    #[test]
    fn tool_calls_win_over_a_stop_finish_reason() {
        assert_eq!(
            stop_reason_from_openai(Some(&o::FinishReason::Stop), true, false),
            a::StopReason::ToolUse
        );
        assert_eq!(
            stop_reason_from_openai(Some(&o::FinishReason::Length), true, false),
            a::StopReason::MaxTokens
        );
    }

    #[test]
    fn cached_tokens_move_between_prompt_and_cache_read() {
        let usage = a::Usage {
            input_tokens: 10,
            output_tokens: 5,
            cache_creation_input_tokens: Some(3),
            cache_read_input_tokens: Some(100),
            extra: a::Extra::new(),
        };
        let openai = usage_to_openai(&usage);
        assert_eq!(
            (
                openai.prompt_tokens,
                openai.completion_tokens,
                openai.total_tokens
            ),
            (113, 5, 118)
        );
        let back = usage_to_anthropic(&openai);
        assert_eq!((back.input_tokens, back.cache_read_input_tokens), (13, Some(100)));
    }
}
