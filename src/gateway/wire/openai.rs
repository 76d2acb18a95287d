//! OpenAI Chat Completions wire types: the `POST /v1/chat/completions`
//! request, the non-streaming response, the streamed chunks and the error body.
//!
//! The types follow what api.openai.com sends, so that clients written against
//! it (the official SDKs, tools that index `choices[0]`) see familiar bodies:
//! a response message always carries `content` (null beside tool calls) and
//! `refusal`; a chunk choice always carries `finish_reason` (null until the
//! end); other optional fields are skipped when absent. Unknown fields are
//! kept in `extra` maps, so OpenAI-compatible servers' extensions
//! (`reasoning_content`, `seed`, `response_format`, ...) survive a pass-through.
//!
//! Deliberately left out: validation, and the legacy Completions and newer
//! Responses APIs.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Fields this crate does not model, kept so that a pass-through loses nothing.
pub(crate) type Extra = Map<String, Value>;

/// The `data:` payload that ends an OpenAI stream (not JSON).
#[cfg(test)]
pub(crate) const STREAM_DONE: &str = "[DONE]";

/// The `object` of a [`ChatResponse`].
pub(crate) const CHAT_COMPLETION_OBJECT: &str = "chat.completion";

/// The `object` of a [`ChatChunk`].
pub(crate) const CHAT_COMPLETION_CHUNK_OBJECT: &str = "chat.completion.chunk";

/// Body of `POST /v1/chat/completions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub(crate) model: String,
    pub(crate) messages: Vec<ChatMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tools: Option<Vec<ToolDef>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<ToolChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) parallel_tool_calls: Option<bool>,
    /// Deprecated by OpenAI in favour of `max_completion_tokens` but still
    /// what most OpenAI-compatible servers and older clients use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_completion_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stop: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stream_options: Option<StreamOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) n: Option<u32>,
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// One message of a request. A single struct for every role (rather than an
/// enum) because clients are loose about which fields go with which role, and
/// a loose request that api.openai.com accepts must parse here too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ChatMessage {
    pub(crate) role: ChatRole,
    /// Always serialised: `null` on an assistant message that only calls tools.
    #[serde(default)]
    pub(crate) content: Option<MessageContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// Assistant messages only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tool_calls: Option<Vec<ToolCall>>,
    /// Tool messages only: the id of the call this message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tool_call_id: Option<String>,
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

impl ChatMessage {
    /// A message of `role` with `content` and nothing else.
    pub(crate) fn new(role: ChatRole, content: Option<MessageContent>) -> Self {
        ChatMessage {
            role,
            content,
            name: None,
            tool_calls: None,
            tool_call_id: None,
            extra: Extra::new(),
        }
    }

    /// A `tool` message answering `tool_call_id`.
    pub(crate) fn tool(tool_call_id: impl Into<String>, content: MessageContent) -> Self {
        ChatMessage {
            tool_call_id: Some(tool_call_id.into()),
            ..ChatMessage::new(ChatRole::Tool, Some(content))
        }
    }
}

/// Author of a message. `developer` replaces `system` for OpenAI's reasoning
/// models; `function` is the legacy form of `tool`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ChatRole {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    Function,
}

/// Message content: a string, or an array of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum MessageContent {
    Text(String),
    Parts(Vec<ContentPart>),
}

/// One part of an array content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ContentPart {
    Text {
        text: String,
    },
    ImageUrl {
        image_url: ImageUrl,
    },
    /// Assistant messages only.
    Refusal {
        refusal: String,
    },
    /// `input_audio`, `file` and anything newer.
    #[serde(untagged)]
    Other(Value),
}

impl ContentPart {
    /// A text part.
    pub(crate) fn text(text: impl Into<String>) -> Self {
        ContentPart::Text { text: text.into() }
    }
}

/// An image reference: an `http(s)` URL or a `data:` URL with base64 bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ImageUrl {
    pub(crate) url: String,
    /// `auto`, `low` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
}

/// A tool call made by the assistant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ToolCall {
    pub(crate) id: String,
    /// Always `"function"`.
    #[serde(rename = "type", default = "function_type")]
    pub(crate) kind: String,
    pub(crate) function: FunctionCall,
}

impl ToolCall {
    /// A function call with `arguments` already serialised to JSON text.
    pub(crate) fn function(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        ToolCall {
            id: id.into(),
            kind: function_type(),
            function: FunctionCall {
                name: name.into(),
                arguments: arguments.into(),
            },
        }
    }
}

/// The `type` of function tools, tool calls and named tool choices.
pub(crate) const FUNCTION_TYPE: &str = "function";

fn function_type() -> String {
    FUNCTION_TYPE.to_owned()
}

/// Name and arguments of a function call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FunctionCall {
    pub(crate) name: String,
    /// JSON text, as the model produced it: not guaranteed to parse.
    #[serde(default)]
    pub(crate) arguments: String,
}

/// A tool definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ToolDef {
    /// `"function"`; `"custom"` for free-form tools, which have no `function`.
    #[serde(rename = "type", default = "function_type")]
    pub(crate) kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) function: Option<FunctionDef>,
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// A function tool's name, description and JSON Schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FunctionDef {
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) parameters: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) strict: Option<bool>,
}

/// `tool_choice`: a mode string or a named function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum ToolChoice {
    Mode(ToolChoiceMode),
    Named(NamedToolChoice),
    /// `allowed_tools`, `custom` and anything newer.
    Other(Value),
}

/// The string forms of `tool_choice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ToolChoiceMode {
    None,
    Auto,
    Required,
}

/// `{"type":"function","function":{"name":...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct NamedToolChoice {
    #[serde(rename = "type", default = "function_type")]
    pub(crate) kind: String,
    pub(crate) function: FunctionName,
}

impl NamedToolChoice {
    /// Forces a call of function `name`.
    pub(crate) fn function(name: impl Into<String>) -> Self {
        NamedToolChoice {
            kind: function_type(),
            function: FunctionName { name: name.into() },
        }
    }
}

/// The name of a function, in a named tool choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FunctionName {
    pub(crate) name: String,
}

/// `stop`: one string or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Stop {
    One(String),
    Many(Vec<String>),
}

/// `stream_options`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct StreamOptions {
    /// Asks for a final chunk, with empty `choices`, that carries `usage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) include_usage: Option<bool>,
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// Response of a non-streaming request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub(crate) id: String,
    /// Always `"chat.completion"`.
    #[serde(default)]
    pub(crate) object: String,
    /// Unix seconds.
    #[serde(default)]
    pub(crate) created: u64,
    pub(crate) model: String,
    pub(crate) choices: Vec<Choice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) usage: Option<ChatUsage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) system_fingerprint: Option<String>,
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// One choice of a response (clients ask for one unless they set `n`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    pub(crate) index: u32,
    pub(crate) message: ResponseMessage,
    /// api.openai.com always sends it, `null` unless asked for.
    #[serde(default)]
    pub(crate) logprobs: Option<Value>,
    #[serde(default)]
    pub(crate) finish_reason: Option<FinishReason>,
}

/// The assistant message of a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ResponseMessage {
    #[serde(default = "assistant_role")]
    pub(crate) role: ChatRole,
    /// Always serialised: `null` when the model only called tools. Read from
    /// an array of parts too (Mistral's reasoning models), keeping the text.
    #[serde(default, deserialize_with = "text_or_parts")]
    pub(crate) content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tool_calls: Option<Vec<ToolCall>>,
    /// Always serialised: `null` unless the model refused.
    #[serde(default)]
    pub(crate) refusal: Option<String>,
    /// `annotations`, `reasoning_content`, ...
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// Why generation stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    /// Legacy `functions` API.
    FunctionCall,
    /// Servers' own values (e.g. `eos`, `error`).
    #[serde(untagged)]
    Other(String),
}

/// Token counts. `prompt_tokens` includes cached tokens, which
/// `prompt_tokens_details.cached_tokens` breaks out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatUsage {
    #[serde(default)]
    pub(crate) prompt_tokens: u64,
    #[serde(default)]
    pub(crate) completion_tokens: u64,
    #[serde(default)]
    pub(crate) total_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) prompt_tokens_details: Option<PromptTokensDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) completion_tokens_details: Option<Value>,
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// Breakdown of `prompt_tokens`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct PromptTokensDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cached_tokens: Option<u64>,
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// One `data:` payload of a streaming response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// The same for every chunk of one stream.
    pub(crate) id: String,
    /// Always `"chat.completion.chunk"`.
    #[serde(default)]
    pub(crate) object: String,
    #[serde(default)]
    pub(crate) created: u64,
    #[serde(default)]
    pub(crate) model: String,
    /// Empty in the final usage chunk.
    #[serde(default)]
    pub(crate) choices: Vec<ChunkChoice>,
    /// Only in the final chunk, and only when the request set
    /// `stream_options.include_usage` (some servers send it anyway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) usage: Option<ChatUsage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) system_fingerprint: Option<String>,
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// One choice of a chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ChunkChoice {
    #[serde(default)]
    pub(crate) index: u32,
    #[serde(default)]
    pub(crate) delta: Delta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) logprobs: Option<Value>,
    /// Always serialised: `null` until the last content chunk.
    #[serde(default)]
    pub(crate) finish_reason: Option<FinishReason>,
}

/// What a chunk adds to the message.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct Delta {
    /// `assistant`, in the first chunk only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<ChatRole>,
    /// Read from an array of parts too, like [`ResponseMessage::content`].
    #[serde(
        default,
        deserialize_with = "text_or_parts",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tool_calls: Option<Vec<ToolCallDelta>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) refusal: Option<String>,
    /// `reasoning_content` and other server extensions.
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// A fragment of a tool call. The first fragment of a call carries `id`,
/// `type` and `function.name`; the following ones only `index` and a piece of
/// `function.arguments`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct ToolCallDelta {
    /// Which call of the message this fragment belongs to. Always sent by
    /// api.openai.com; missing from some compatible servers (Gemini's), which
    /// send each call whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) function: Option<FunctionCallDelta>,
}

/// Name and arguments fragment of a tool call delta.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct FunctionCallDelta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) arguments: Option<String>,
}

/// The `error` object of an error body. `param` and `code` are always sent,
/// as `null` when unset.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ErrorDetail {
    pub message: String,
    /// `invalid_request_error`, `server_error`, ...
    #[serde(rename = "type", default)]
    pub(crate) kind: String,
    #[serde(default, deserialize_with = "string_or_number")]
    pub(crate) param: Option<String>,
    /// `invalid_api_key`, `rate_limit_exceeded`, ... Some compatible servers
    /// send a number (the HTTP status); it is read as its decimal text.
    #[serde(default, deserialize_with = "string_or_number")]
    pub(crate) code: Option<String>,
}

/// Body of an error response: `{"error":{...}}`. Also the `data:` payload of
/// an error in the middle of a stream.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) error: ErrorDetail,
}

fn assistant_role() -> ChatRole {
    ChatRole::Assistant
}

/// Reads message text given as a string, or as an array of parts whose
/// `text` parts are concatenated (other parts, e.g. `thinking`, are skipped).
/// Anything else reads as no text rather than failing the whole body.
fn text_or_parts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(text)) => Some(text),
        Some(Value::Array(parts)) => Some(
            parts
                .iter()
                .filter(|part| part.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect(),
        ),
        _ => None,
    })
}

/// Reads a string, a number (as its text) or null.
#[cfg(test)]
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn real_tool_call_response_parses_and_reserialises_with_nulls() {
        let body = json!({
            "id": "chatcmpl-abc", "object": "chat.completion", "created": 1700000000,
            "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "message": {
                "role": "assistant", "content": null, "refusal": null, "annotations": [],
                "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]
            }, "logprobs": null, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0}},
            "service_tier": "default", "system_fingerprint": "fp_1"
        });
        let resp: ChatResponse = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(serde_json::to_value(&resp).unwrap(), body);
    }

    #[test]
    fn tool_choice_forms() {
        let cases = [
            (json!("auto"), ToolChoice::Mode(ToolChoiceMode::Auto)),
            (json!("required"), ToolChoice::Mode(ToolChoiceMode::Required)),
            (
                json!({"type": "function", "function": {"name": "f"}}),
                ToolChoice::Named(NamedToolChoice::function("f")),
            ),
        ];
        for (value, choice) in cases {
            assert_eq!(
                serde_json::from_value::<ToolChoice>(value.clone()).unwrap(),
                choice
            );
            assert_eq!(serde_json::to_value(&choice).unwrap(), value);
        }
    }

    #[test]
    fn lenient_forms_of_compatible_servers_parse() {
        let chunk: ChatChunk = serde_json::from_value(json!({
            "id": "x", "choices": [{"delta": {
                "content": [{"type": "thinking", "thinking": []}, {"type": "text", "text": "hi"}],
                "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{}"}}]
            }}]
        }))
        .unwrap();
        let delta = &chunk.choices[0].delta;
        assert_eq!(delta.content.as_deref(), Some("hi"));
        assert_eq!(delta.tool_calls.as_ref().unwrap()[0].index, None);
        let resp: ChatResponse = serde_json::from_value(json!({
            "id": "x", "model": "m", "choices": [{"message": {"content": "ok"}}]
        }))
        .unwrap();
        assert_eq!(resp.choices[0].message.role, ChatRole::Assistant);
    }

    #[test]
    fn error_code_may_be_a_number() {
        let body: ErrorBody =
            serde_json::from_value(json!({"error": {"message": "slow down", "code": 429}})).unwrap();
        assert_eq!(body.error.code.as_deref(), Some("429"));
        assert_eq!(body.error.kind, "");
    }

    #[test]
    fn chunk_keeps_null_finish_reason_and_skips_absent_delta_fields() {
        let chunk = ChatChunk {
            id: "chatcmpl-1".into(),
            object: CHAT_COMPLETION_CHUNK_OBJECT.into(),
            created: 1,
            model: "m".into(),
            choices: vec![ChunkChoice {
                index: 0,
                delta: Delta {
                    content: Some("hi".into()),
                    ..Delta::default()
                },
                logprobs: None,
                finish_reason: None,
            }],
            usage: None,
            system_fingerprint: None,
            extra: Extra::new(),
        };
        assert_eq!(
            serde_json::to_value(&chunk).unwrap(),
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                "model": "m", "choices": [{"index": 0, "delta": {"content": "hi"},
                "finish_reason": null}]})
        );
    }
}
