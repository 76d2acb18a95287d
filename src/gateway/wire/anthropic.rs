//! Anthropic Messages API wire types: the `POST /v1/messages` request, the
//! non-streaming response, the streaming events and the error body.
//!
//! The types follow what the API and its clients actually put on the wire:
//! optional fields are skipped when absent (except `stop_reason` and
//! `stop_sequence`, which the API always sends, as `null` when unset), unknown
//! fields are kept in `extra` maps so a body can be re-serialised after, say,
//! rewriting `model` without losing what Claude Code sent (`thinking`,
//! `context_management`, `cache_control` ...), and block, delta and source
//! kinds added to the API later deserialise into `Other` variants instead of
//! failing the whole request.
//!
//! Deliberately left out: validation (the upstream provider validates) and any
//! knowledge of the OpenAI protocol (see [`crate::gateway::translate`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Fields this crate does not model, kept so that a pass-through loses nothing.
pub(crate) type Extra = Map<String, Value>;

/// Body of `POST /v1/messages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest {
    pub(crate) model: String,
    /// Required by the API; the translation from OpenAI fills in a default
    /// when the OpenAI request has none.
    pub(crate) max_tokens: u32,
    pub(crate) messages: Vec<Message>,
    /// A string, or text blocks (Claude Code sends blocks with `cache_control`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) system: Option<Content>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tools: Option<Vec<Tool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<ToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stop_sequences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) metadata: Option<Metadata>,
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Message {
    pub(crate) role: Role,
    pub(crate) content: Content,
    /// Per-turn fields: Claude Code 2.1.x sends `output_config` on its
    /// system turns (beta `per-turn-control-2026-07-01`).
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

impl Message {
    /// A turn without per-turn fields.
    pub(crate) fn new(role: Role, content: Content) -> Self {
        Message {
            role,
            content,
            extra: Extra::new(),
        }
    }
}

/// Who wrote a message. The public Messages docs know only `user` and
/// `assistant` (the system prompt is a top-level field, tool results are user
/// blocks), but Claude Code (2.1.x) also sends `system` turns inside
/// `messages`, e.g. `[user, system, assistant, user]`; refusing them made
/// every translated provider unreachable for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Role {
    User,
    Assistant,
    /// A system turn in the middle of the conversation.
    System,
}

/// Message content, the `system` field and `tool_result` content all take the
/// same shape on the wire: either a plain string or an array of blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

impl Content {
    /// The content as blocks, a plain string becoming one text block, so
    /// callers handle one shape.
    pub(crate) fn to_blocks(&self) -> Vec<ContentBlock> {
        match self {
            Content::Text(text) => vec![ContentBlock::text(text)],
            Content::Blocks(blocks) => blocks.clone(),
        }
    }
}

/// A content block of a message, a response or a `tool_result`.
///
/// Block types this crate does not model (`document`, `server_tool_use`,
/// `web_search_tool_result`, ...) deserialise into [`ContentBlock::Other`]
/// with their JSON intact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    Text {
        text: String,
        /// `cache_control`, `citations`, ...
        #[serde(flatten)]
        extra: Extra,
    },
    Image {
        source: ImageSource,
        #[serde(flatten)]
        extra: Extra,
    },
    ToolUse {
        id: String,
        name: String,
        /// Always a JSON object on the wire.
        input: Value,
        #[serde(flatten)]
        extra: Extra,
    },
    ToolResult {
        tool_use_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Content>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_error: Option<bool>,
        #[serde(flatten)]
        extra: Extra,
    },
    Thinking {
        thinking: String,
        /// Absent in the `content_block_start` of a streamed thinking block:
        /// the signature follows as a `signature_delta`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
        #[serde(flatten)]
        extra: Extra,
    },
    RedactedThinking {
        data: String,
        #[serde(flatten)]
        extra: Extra,
    },
    /// Any block type not modelled above, or a modelled type whose fields do
    /// not match (kept rather than rejected; upstream will judge it).
    #[serde(untagged)]
    Other(Value),
}

impl ContentBlock {
    /// A text block without extra fields.
    pub(crate) fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text {
            text: text.into(),
            extra: Extra::new(),
        }
    }

    /// A `tool_use` block without extra fields.
    pub(crate) fn tool_use(id: impl Into<String>, name: impl Into<String>, input: Value) -> Self {
        ContentBlock::ToolUse {
            id: id.into(),
            name: name.into(),
            input,
            extra: Extra::new(),
        }
    }

    /// A `tool_result` block without `is_error` or extra fields.
    pub(crate) fn tool_result(tool_use_id: impl Into<String>, content: Option<Content>) -> Self {
        ContentBlock::ToolResult {
            tool_use_id: tool_use_id.into(),
            content,
            is_error: None,
            extra: Extra::new(),
        }
    }

    /// An image block without extra fields.
    pub(crate) fn image(source: ImageSource) -> Self {
        ContentBlock::Image {
            source,
            extra: Extra::new(),
        }
    }
}

/// Where an image block's bytes come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource {
    Base64 {
        media_type: String,
        data: String,
    },
    Url {
        url: String,
    },
    /// `file` (Files API) and anything newer.
    #[serde(untagged)]
    Other(Value),
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tool {
    pub(crate) name: String,
    /// Absent (or `custom`) for client tools; set for server tools such as
    /// `web_search_20250305`, which carry no `input_schema`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    /// JSON Schema of the tool input; absent only on server tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) input_schema: Option<Value>,
    /// `cache_control`, server-tool settings, ...
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// How the model must use the tools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ToolChoice {
    /// The model decides.
    Auto {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must call some tool.
    Any {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must call the named tool.
    Tool {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must not call tools.
    None,
}

/// Request metadata; only `user_id` is defined by the API.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user_id: Option<String>,
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// Response of a non-streaming `POST /v1/messages`, and the `message` of a
/// `message_start` event (then with empty `content` and null `stop_reason`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesResponse {
    pub(crate) id: String,
    /// Always `"message"`.
    #[serde(rename = "type", default = "message_type")]
    pub(crate) kind: String,
    pub(crate) role: Role,
    pub(crate) model: String,
    pub(crate) content: Vec<ContentBlock>,
    /// Sent as `null` while streaming has not ended.
    pub(crate) stop_reason: Option<StopReason>,
    /// Sent as `null` unless a stop sequence matched.
    #[serde(default)]
    pub(crate) stop_sequence: Option<String>,
    pub(crate) usage: Usage,
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

fn message_type() -> String {
    MESSAGE_TYPE.to_owned()
}

/// The `type` of every [`MessagesResponse`].
pub(crate) const MESSAGE_TYPE: &str = "message";

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence,
    ToolUse,
    PauseTurn,
    Refusal,
    /// A reason added to the API after this crate (e.g.
    /// `model_context_window_exceeded`).
    #[serde(untagged)]
    Other(String),
}

/// Token counts of a response. `input_tokens` excludes cached tokens, which
/// the API reports separately (unlike OpenAI's `prompt_tokens`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cache_creation_input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cache_read_input_tokens: Option<u64>,
    /// `service_tier`, `server_tool_use`, `cache_creation` breakdown, ...
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// One Server-Sent Event of a streaming response; the SSE `event:` name is
/// [`StreamEvent::event_name`] and equals the data's `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    MessageStart {
        message: MessagesResponse,
    },
    ContentBlockStart {
        index: usize,
        content_block: ContentBlock,
    },
    ContentBlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: MessageDelta,
        #[serde(default)]
        usage: DeltaUsage,
    },
    MessageStop,
    Ping,
    Error {
        error: ErrorDetail,
    },
}

impl StreamEvent {
    /// The SSE `event:` name that goes with this event, so encoders need not
    /// serialise the event to find its `type`.
    pub(crate) fn event_name(&self) -> &'static str {
        match self {
            StreamEvent::MessageStart { .. } => "message_start",
            StreamEvent::ContentBlockStart { .. } => "content_block_start",
            StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
            StreamEvent::ContentBlockStop { .. } => "content_block_stop",
            StreamEvent::MessageDelta { .. } => "message_delta",
            StreamEvent::MessageStop => "message_stop",
            StreamEvent::Ping => "ping",
            StreamEvent::Error { .. } => "error",
        }
    }
}

/// The change carried by a `content_block_delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockDelta {
    TextDelta {
        text: String,
    },
    /// A fragment of a `tool_use` block's input JSON; the fragments of one
    /// block concatenate to the whole object.
    InputJsonDelta {
        partial_json: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    SignatureDelta {
        signature: String,
    },
    /// `citations_delta` and anything newer.
    #[serde(untagged)]
    Other(Value),
}

/// The top-level changes of a `message_delta` event. Both fields are always
/// sent, as `null` when unset.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MessageDelta {
    #[serde(default)]
    pub(crate) stop_reason: Option<StopReason>,
    #[serde(default)]
    pub(crate) stop_sequence: Option<String>,
}

/// Usage of a `message_delta` event: cumulative `output_tokens`, and
/// optionally the input counts. They are optional because clients (the
/// official SDKs) overwrite the counts of `message_start` with whatever is
/// present here, so a zero we do not mean must not be sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeltaUsage {
    #[serde(default)]
    pub(crate) output_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cache_creation_input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cache_read_input_tokens: Option<u64>,
    #[serde(flatten)]
    pub(crate) extra: Extra,
}

/// The `error` object of an error body or `error` stream event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// `invalid_request_error`, `overloaded_error`, ...
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub message: String,
}

/// Body of an error response: `{"type":"error","error":{...},"request_id":...}`.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ErrorBody {
    /// Always `"error"`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) error: ErrorDetail,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_and_block_types_survive_a_round_trip() {
        let body = json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 32000,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}},
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}
            ]}],
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "context_management": {"edits": []}
        });
        let req: MessagesRequest = serde_json::from_value(body.clone()).unwrap();
        let Content::Blocks(blocks) = &req.messages[0].content else {
            panic!("blocks expected")
        };
        assert!(
            matches!(&blocks[0], ContentBlock::Text { extra, .. } if extra.contains_key("cache_control"))
        );
        assert!(matches!(&blocks[1], ContentBlock::Other(v) if v["type"] == "document"));
        assert!(req.extra.contains_key("thinking"));
        assert_eq!(serde_json::to_value(&req).unwrap(), body);
    }

    #[test]
    fn response_sends_null_stop_fields_and_unknown_stop_reasons_parse() {
        let body = json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [], "stop_reason": "model_context_window_exceeded",
            "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 2}
        });
        let resp: MessagesResponse = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(
            resp.stop_reason,
            Some(StopReason::Other("model_context_window_exceeded".into()))
        );
        assert_eq!(serde_json::to_value(&resp).unwrap(), body);
    }

    #[test]
    fn event_name_matches_serialised_type() {
        let events = [
            StreamEvent::ContentBlockStop { index: 0 },
            StreamEvent::MessageStop,
            StreamEvent::Ping,
            StreamEvent::MessageDelta {
                delta: MessageDelta::default(),
                usage: DeltaUsage::default(),
            },
            StreamEvent::Error {
                error: ErrorDetail {
                    kind: "overloaded_error".into(),
                    message: "Overloaded".into(),
                },
            },
        ];
        for event in events {
            let value = serde_json::to_value(&event).unwrap();
            assert_eq!(value["type"], event.event_name());
        }
    }

    #[test]
    fn tool_choice_none_is_a_tagged_object() {
        let value = serde_json::to_value(ToolChoice::None).unwrap();
        assert_eq!(value, json!({"type": "none"}));
        let back: ToolChoice = serde_json::from_value(json!({"type": "any"})).unwrap();
        assert_eq!(
            back,
            ToolChoice::Any {
                disable_parallel_tool_use: None
            }
        );
    }
}
