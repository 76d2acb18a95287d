//! OpenAI Responses API (`POST /v1/responses`, what the Codex CLI and the
//! newer SDKs speak) <-> Chat Completions: the request, the whole response and
//! the typed stream events.
//!
//! The gateway keeps no conversation state, so a Responses request is served
//! statelessly: its `input` items become Chat Completions messages, and the
//! Chat Completions answer (from an OpenAI-dialect provider, or from an
//! Anthropic one through the Chat <-> Messages translation) becomes Responses
//! output items. Rules (the other directions are tabled in the parent module):
//! - `instructions` -> a leading system message; `developer`/`system` input
//!   messages -> system messages in place.
//! - `message` items -> messages (`input_text`/`output_text` -> text,
//!   `input_image` -> image, `input_file` with inline data -> file part);
//!   `function_call` items -> the assistant's `tool_calls` (consecutive calls
//!   join one assistant message), `function_call_output` -> `tool` messages;
//!   `custom_tool_call(_output)` (free-form tools) -> the same, their text as
//!   `{"input": ...}`.
//! - Dropped: `reasoning` items (encrypted for OpenAI only), `store`,
//!   `include`, `reasoning`, `prompt_cache_key`, `client_metadata`, `metadata`,
//!   `truncation`, and tools other than `function` and `custom` (hosted tools
//!   such as `web_search`, and `namespace` groups, run at OpenAI only).
//! - Refused (400, nothing else can serve them statelessly):
//!   `previous_response_id`, `conversation`, `item_reference` items, hosted
//!   tool call items (`local_shell_call`, `web_search_call`, ...).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{TranslateError, DEFAULT_MAX_TOKENS};
use crate::gateway::wire::openai as o;

/// Name of the Responses API in errors.
const RESPONSES_API: &str = "OpenAI Chat Completions (from the Responses API)";

/// Translates a Responses request body into a Chat Completions request for
/// `model` (empty: keep the request's). A stream asks for the usage chunk,
/// which `response.completed` reports.
pub fn responses_to_chat_request(body: &Value, model: &str) -> Result<o::ChatRequest, TranslateError> {
    let obj = body
        .as_object()
        .ok_or_else(|| TranslateError::Invalid("the body must be a JSON object".into()))?;
    for stateful in ["previous_response_id", "conversation"] {
        if obj.get(stateful).is_some_and(|v| !v.is_null()) {
            return Err(TranslateError::Unsupported {
                feature: format!(
                    "`{stateful}` (this gateway keeps no response state: send the whole conversation in `input`, with `store: false`)"
                ),
                target: RESPONSES_API,
            });
        }
    }
    let mut messages = Vec::new();
    if let Some(text) = obj
        .get("instructions")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        messages.push(o::ChatMessage::new(
            o::ChatRole::System,
            Some(o::MessageContent::Text(text.to_owned())),
        ));
    }
    match obj.get("input") {
        Some(Value::String(text)) => messages.push(o::ChatMessage::new(
            o::ChatRole::User,
            Some(o::MessageContent::Text(text.clone())),
        )),
        Some(Value::Array(items)) => {
            for item in items {
                input_item(item, &mut messages)?;
            }
        }
        Some(Value::Null) | None => {}
        Some(_) => {
            return Err(TranslateError::Invalid(
                "`input` must be a string or an array".into(),
            ))
        }
    }

    let tools: Vec<o::ToolDef> = obj
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(tool_def)
        .collect();
    let tool_choice = if tools.is_empty() {
        None
    } else {
        obj.get("tool_choice").and_then(tool_choice)
    };
    let stream = obj.get("stream").and_then(Value::as_bool);
    let mut extra = o::Extra::new();
    if let Some(format) = obj
        .get("text")
        .and_then(|t| t.get("format"))
        .and_then(response_format)
    {
        extra.insert("response_format".into(), format);
    }
    let model = if model.is_empty() {
        obj.get("model").and_then(Value::as_str).unwrap_or_default()
    } else {
        model
    };
    Ok(o::ChatRequest {
        model: model.to_owned(),
        messages,
        parallel_tool_calls: (!tools.is_empty())
            .then(|| obj.get("parallel_tool_calls").and_then(Value::as_bool))
            .flatten(),
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice,
        max_tokens: None,
        max_completion_tokens: obj
            .get("max_output_tokens")
            .and_then(Value::as_u64)
            .map(|n| u32::try_from(n).unwrap_or(DEFAULT_MAX_TOKENS)),
        temperature: obj.get("temperature").and_then(Value::as_f64),
        top_p: obj.get("top_p").and_then(Value::as_f64),
        stop: None,
        stream,
        stream_options: (stream == Some(true)).then(|| o::StreamOptions {
            include_usage: Some(true),
            extra: o::Extra::new(),
        }),
        user: obj
            .get("safety_identifier")
            .or_else(|| obj.get("user"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        n: None,
        extra,
    })
}

fn item_type(item: &Value) -> &str {
    item.get("type").and_then(Value::as_str).unwrap_or("message")
}

fn str_field<'a>(item: &'a Value, key: &str) -> &'a str {
    item.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn input_item(item: &Value, out: &mut Vec<o::ChatMessage>) -> Result<(), TranslateError> {
    match item_type(item) {
        "message" => {
            let role = match str_field(item, "role") {
                "user" => o::ChatRole::User,
                "assistant" => o::ChatRole::Assistant,
                "system" => o::ChatRole::System,
                "developer" => o::ChatRole::Developer,
                other => return Err(TranslateError::Invalid(format!("a message with role `{other}`"))),
            };
            let content = message_content(item.get("content"))?;
            // Chat Completions models know `system` everywhere; `developer`
            // only on OpenAI's newest. System it is, in place.
            let role = if role == o::ChatRole::Developer {
                o::ChatRole::System
            } else {
                role
            };
            out.push(o::ChatMessage::new(role, content));
        }
        "function_call" => push_call(
            out,
            o::ToolCall::function(
                str_field(item, "call_id"),
                str_field(item, "name"),
                str_field(item, "arguments"),
            ),
        ),
        "custom_tool_call" => push_call(
            out,
            o::ToolCall::function(
                str_field(item, "call_id"),
                str_field(item, "name"),
                json!({"input": str_field(item, "input")}).to_string(),
            ),
        ),
        "function_call_output" | "custom_tool_call_output" => {
            let output = match item.get("output") {
                Some(Value::String(text)) => text.clone(),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n"),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            out.push(o::ChatMessage::tool(
                str_field(item, "call_id"),
                o::MessageContent::Text(output),
            ));
        }
        // Reasoning is encrypted for OpenAI's own models; another model can
        // neither read nor needs it.
        "reasoning" => {}
        other => {
            return Err(TranslateError::Unsupported {
                feature: format!("a `{other}` input item"),
                target: RESPONSES_API,
            })
        }
    }
    Ok(())
}

/// Consecutive calls are one assistant turn, also after the turn's text.
fn push_call(out: &mut Vec<o::ChatMessage>, call: o::ToolCall) {
    if let Some(last) = out.last_mut().filter(|m| m.role == o::ChatRole::Assistant) {
        last.tool_calls.get_or_insert_with(Vec::new).push(call);
        return;
    }
    out.push(o::ChatMessage {
        tool_calls: Some(vec![call]),
        ..o::ChatMessage::new(o::ChatRole::Assistant, None)
    });
}

fn message_content(content: Option<&Value>) -> Result<Option<o::MessageContent>, TranslateError> {
    let parts = match content {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => return Ok(Some(o::MessageContent::Text(text.clone()))),
        Some(Value::Array(parts)) => parts,
        Some(_) => {
            return Err(TranslateError::Invalid(
                "message content must be a string or an array".into(),
            ))
        }
    };
    let mut out = Vec::new();
    for part in parts {
        match item_type(part) {
            "input_text" | "output_text" | "text" => out.push(o::ContentPart::text(str_field(part, "text"))),
            "refusal" => out.push(o::ContentPart::text(str_field(part, "refusal"))),
            "input_image" => {
                let Some(url) = part.get("image_url").and_then(Value::as_str) else {
                    return Err(TranslateError::Unsupported {
                        feature: "an image stored at OpenAI (file_id)".into(),
                        target: RESPONSES_API,
                    });
                };
                out.push(o::ContentPart::ImageUrl {
                    image_url: o::ImageUrl {
                        url: url.to_owned(),
                        detail: part.get("detail").and_then(Value::as_str).map(str::to_owned),
                    },
                });
            }
            "input_file" if part.get("file_data").is_some() => {
                let mut file = Map::new();
                for key in ["filename", "file_data"] {
                    if let Some(v) = part.get(key) {
                        file.insert(key.into(), v.clone());
                    }
                }
                out.push(o::ContentPart::Other(json!({"type": "file", "file": file})));
            }
            other => {
                return Err(TranslateError::Unsupported {
                    feature: format!("an `{other}` content part"),
                    target: RESPONSES_API,
                })
            }
        }
    }
    // One text part is the plain string most servers expect.
    if let [o::ContentPart::Text { text }] = out.as_slice() {
        return Ok(Some(o::MessageContent::Text(text.clone())));
    }
    Ok(Some(o::MessageContent::Parts(out)))
}

/// `function` tools as they are; `custom` (free-form text input) tools as a
/// function taking `{"input": string}`; hosted tools dropped.
fn tool_def(tool: &Value) -> Option<o::ToolDef> {
    let (parameters, strict) = match item_type(tool) {
        "function" => (
            tool.get("parameters")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            tool.get("strict").and_then(Value::as_bool),
        ),
        "custom" => (
            json!({"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]}),
            None,
        ),
        _ => return None,
    };
    Some(o::ToolDef {
        kind: o::FUNCTION_TYPE.to_owned(),
        function: Some(o::FunctionDef {
            name: str_field(tool, "name").to_owned(),
            description: tool.get("description").and_then(Value::as_str).map(str::to_owned),
            parameters: Some(parameters),
            strict,
        }),
        extra: o::Extra::new(),
    })
}

fn tool_choice(choice: &Value) -> Option<o::ToolChoice> {
    match choice {
        Value::String(mode) => match mode.as_str() {
            "auto" => Some(o::ToolChoice::Mode(o::ToolChoiceMode::Auto)),
            "none" => Some(o::ToolChoice::Mode(o::ToolChoiceMode::None)),
            "required" => Some(o::ToolChoice::Mode(o::ToolChoiceMode::Required)),
            _ => None,
        },
        Value::Object(_) if matches!(item_type(choice), "function" | "custom") => Some(o::ToolChoice::Named(
            o::NamedToolChoice::function(str_field(choice, "name")),
        )),
        _ => None,
    }
}

/// `text.format` -> `response_format` (the Responses API flattens the schema).
fn response_format(format: &Value) -> Option<Value> {
    match item_type(format) {
        "json_object" => Some(json!({"type": "json_object"})),
        "json_schema" => Some(json!({
            "type": "json_schema",
            "json_schema": {
                "name": format.get("name").cloned().unwrap_or_else(|| json!("output")),
                "schema": format.get("schema").cloned().unwrap_or_else(|| json!({})),
                "strict": format.get("strict").cloned().unwrap_or(Value::Null),
            }
        })),
        _ => None,
    }
}

/// `chatcmpl-X` / `msg_X` -> `resp_X`.
fn response_id(chat_id: &str) -> String {
    let bare = chat_id
        .strip_prefix("chatcmpl-")
        .or_else(|| chat_id.strip_prefix("msg_"))
        .unwrap_or(chat_id);
    format!("resp_{bare}")
}

// The answer's side is written as typed structs serialized straight into the
// client's bytes: a `Value` built first costs a key string and a map node per
// field, and a stream writes about a dozen of these objects (measured: 584
// allocations per translated stream of ten upstream events before, see the
// README's allocation table). Every struct lists its fields in name order,
// the order a `Value` map writes them in, so the bytes are the ones the
// `Value`s wrote and no client sees a difference.

/// A Responses object: `response.*` events carry one, and a whole
/// (non-streamed) answer is one.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResponseObject {
    created_at: u64,
    error: Option<ResponseError>,
    id: String,
    incomplete_details: Option<Incomplete>,
    model: String,
    object: &'static str,
    output: Vec<OutputItem>,
    /// What a request without these fields gets from OpenAI; the gateway
    /// does not echo the request's tools.
    parallel_tool_calls: bool,
    status: &'static str,
    tool_choice: &'static str,
    tools: [u8; 0],
    usage: Option<ResponseUsage>,
}

impl ResponseObject {
    fn new(id: &str, created: u64, model: &str, status: &'static str, output: Vec<OutputItem>) -> Self {
        ResponseObject {
            created_at: created,
            error: None,
            id: id.to_owned(),
            incomplete_details: None,
            model: model.to_owned(),
            object: "response",
            output,
            parallel_tool_calls: true,
            status,
            tool_choice: "auto",
            tools: [],
            usage: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct ResponseError {
    code: String,
    message: String,
}

/// Why an answer is `incomplete`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct Incomplete {
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct ResponseUsage {
    input_tokens: u64,
    input_tokens_details: CachedTokens,
    output_tokens: u64,
    output_tokens_details: ReasoningTokens,
    total_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct CachedTokens {
    cached_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct ReasoningTokens {
    reasoning_tokens: u64,
}

/// One output item: the assistant's text, or a function call.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
enum OutputItem {
    Message(MessageItem),
    Call(CallItem),
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct MessageItem {
    /// Empty while the item is in progress and has no text yet.
    content: Vec<OutputText>,
    id: String,
    role: &'static str,
    status: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct CallItem {
    arguments: String,
    call_id: String,
    id: String,
    name: String,
    status: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// An `output_text` content part (no annotations are carried).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct OutputText {
    annotations: [u8; 0],
    text: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl OutputText {
    fn new(text: &str) -> Self {
        OutputText {
            annotations: [],
            text: text.to_owned(),
            kind: "output_text",
        }
    }
}

fn message_item(id: &str, text: &str, status: &'static str) -> OutputItem {
    let content = if status == "in_progress" && text.is_empty() {
        Vec::new()
    } else {
        vec![OutputText::new(text)]
    };
    OutputItem::Message(MessageItem {
        content,
        id: id.to_owned(),
        role: "assistant",
        status,
        kind: "message",
    })
}

fn call_item(id: &str, call_id: &str, name: &str, arguments: &str, status: &'static str) -> OutputItem {
    OutputItem::Call(CallItem {
        arguments: arguments.to_owned(),
        call_id: call_id.to_owned(),
        id: id.to_owned(),
        name: name.to_owned(),
        status,
        kind: "function_call",
    })
}

fn usage(usage: Option<&o::ChatUsage>) -> Option<ResponseUsage> {
    let u = usage?;
    let cached = u
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cached_tokens)
        .unwrap_or(0);
    let reasoning = u
        .completion_tokens_details
        .as_ref()
        .and_then(|d| d.get("reasoning_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Some(ResponseUsage {
        input_tokens: u.prompt_tokens,
        input_tokens_details: CachedTokens {
            cached_tokens: cached,
        },
        output_tokens: u.completion_tokens,
        output_tokens_details: ReasoningTokens {
            reasoning_tokens: reasoning,
        },
        total_tokens: if u.total_tokens > 0 {
            u.total_tokens
        } else {
            u.prompt_tokens + u.completion_tokens
        },
    })
}

/// `status` and `incomplete_details` from a finish reason.
fn status(finish: Option<&o::FinishReason>) -> (&'static str, Option<Incomplete>) {
    match finish {
        Some(o::FinishReason::Length) => (
            "incomplete",
            Some(Incomplete {
                reason: "max_output_tokens",
            }),
        ),
        Some(o::FinishReason::ContentFilter) => (
            "incomplete",
            Some(Incomplete {
                reason: "content_filter",
            }),
        ),
        _ => ("completed", None),
    }
}

/// A whole Chat Completions answer as a Responses object.
pub fn chat_to_responses_response(resp: &o::ChatResponse) -> ResponseObject {
    let id = response_id(&resp.id);
    let choice = resp.choices.first();
    let mut output = Vec::new();
    if let Some(message) = choice.map(|c| &c.message) {
        if let Some(text) = message.content.as_deref().filter(|t| !t.is_empty()) {
            output.push(message_item(&format!("msg_{}", &id[5..]), text, "completed"));
        }
        for (i, call) in message.tool_calls.iter().flatten().enumerate() {
            output.push(call_item(
                &format!("fc_{}_{i}", &id[5..]),
                &call.id,
                &call.function.name,
                &call.function.arguments,
                "completed",
            ));
        }
    }
    let (state, incomplete) = status(choice.and_then(|c| c.finish_reason.as_ref()));
    ResponseObject {
        incomplete_details: incomplete,
        usage: usage(resp.usage.as_ref()),
        ..ResponseObject::new(&id, resp.created, &resp.model, state, output)
    }
}

/// One Responses stream event: its `type` (also the SSE event name) and data.
pub type ResponsesEvent = (&'static str, EventData);

/// A Responses stream event's data, serialized into the stream as it is.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum EventData {
    /// `response.created`, `.in_progress`, `.completed`, `.incomplete`, `.failed`.
    Response(ResponseEvent),
    /// `response.output_item.added` and `.done`.
    Item(ItemEvent),
    /// `response.content_part.added` and `.done`.
    Part(PartEvent),
    /// `response.output_text.delta`, `response.function_call_arguments.delta`.
    Delta(Delta),
    /// `response.output_text.done`.
    TextDone(TextDone),
    /// `response.function_call_arguments.done`.
    ArgumentsDone(ArgumentsDone),
}

impl EventData {
    /// As a JSON value (tests read events this way; the stream serializes
    /// the event itself).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Numbers the event: the caller's running count.
    fn sequence(mut self, number: u64) -> Self {
        match &mut self {
            EventData::Response(e) => e.sequence_number = number,
            EventData::Item(e) => e.sequence_number = number,
            EventData::Part(e) => e.sequence_number = number,
            EventData::Delta(e) => e.sequence_number = number,
            EventData::TextDone(e) => e.sequence_number = number,
            EventData::ArgumentsDone(e) => e.sequence_number = number,
        }
        self
    }

    /// The event's `type`.
    fn kind(&self) -> &'static str {
        match self {
            EventData::Response(e) => e.kind,
            EventData::Item(e) => e.kind,
            EventData::Part(e) => e.kind,
            EventData::Delta(e) => e.kind,
            EventData::TextDone(e) => e.kind,
            EventData::ArgumentsDone(e) => e.kind,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ResponseEvent {
    response: ResponseObject,
    sequence_number: u64,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ItemEvent {
    item: OutputItem,
    output_index: usize,
    sequence_number: u64,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PartEvent {
    content_index: u32,
    item_id: String,
    output_index: usize,
    part: OutputText,
    sequence_number: u64,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// A delta event: one per upstream chunk.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Delta {
    #[serde(skip_serializing_if = "Option::is_none")]
    content_index: Option<u32>,
    delta: String,
    item_id: String,
    /// Always empty (`[]`) on text deltas: no log probabilities are carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    logprobs: Option<[u8; 0]>,
    output_index: usize,
    sequence_number: u64,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TextDone {
    content_index: u32,
    item_id: String,
    logprobs: [u8; 0],
    output_index: usize,
    sequence_number: u64,
    text: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ArgumentsDone {
    arguments: String,
    item_id: String,
    output_index: usize,
    sequence_number: u64,
    #[serde(rename = "type")]
    kind: &'static str,
}

fn response_event(kind: &'static str, response: ResponseObject) -> EventData {
    EventData::Response(ResponseEvent {
        response,
        sequence_number: 0,
        kind,
    })
}

fn item_event(kind: &'static str, output_index: usize, item: OutputItem) -> EventData {
    EventData::Item(ItemEvent {
        item,
        output_index,
        sequence_number: 0,
        kind,
    })
}

fn part_event(kind: &'static str, item_id: &str, output_index: usize, text: &str) -> EventData {
    EventData::Part(PartEvent {
        content_index: 0,
        item_id: item_id.to_owned(),
        output_index,
        part: OutputText::new(text),
        sequence_number: 0,
        kind,
    })
}

/// Chat Completions chunks -> Responses stream events: `response.created`,
/// `response.in_progress`, then per output item `response.output_item.added`,
/// its deltas (`response.output_text.delta`,
/// `response.function_call_arguments.delta`), its `.done` events and
/// `response.output_item.done`, and last `response.completed` with the whole
/// response and its usage. Items are closed at the end of the answer (text
/// also when a tool call begins), in output order.
#[derive(Debug, Default)]
pub struct ChunksToResponses {
    id: String,
    created: u64,
    model: String,
    sequence: u64,
    started: bool,
    /// Output items in order; `None` until the answer ends.
    items: Vec<OpenItem>,
    /// Output index of the message item being written, if open.
    text_item: Option<usize>,
    /// Chat tool-call index -> output index.
    calls: BTreeMap<u32, usize>,
    finish: Option<o::FinishReason>,
    usage: Option<o::ChatUsage>,
    finished: bool,
}

#[derive(Debug)]
enum OpenItem {
    Message {
        id: String,
        text: String,
        done: bool,
    },
    Call {
        id: String,
        call_id: String,
        name: String,
        arguments: String,
        done: bool,
    },
}

impl ChunksToResponses {
    pub fn new(model: &str) -> Self {
        ChunksToResponses {
            model: model.to_owned(),
            ..ChunksToResponses::default()
        }
    }

    /// Numbers `data` and adds it to `out`.
    fn event(&mut self, data: EventData, out: &mut Vec<ResponsesEvent>) {
        out.push(self.numbered(data));
    }

    /// `data` with the next sequence number, and its `type`.
    fn numbered(&mut self, data: EventData) -> ResponsesEvent {
        let data = data.sequence(self.sequence);
        self.sequence += 1;
        (data.kind(), data)
    }

    fn base(&self, status: &'static str) -> ResponseObject {
        ResponseObject::new(&self.id, self.created, &self.model, status, Vec::new())
    }

    /// The events for one chunk.
    pub fn push(&mut self, chunk: &o::ChatChunk) -> Vec<ResponsesEvent> {
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            self.id = response_id(&chunk.id);
            self.created = chunk.created;
            if !chunk.model.is_empty() {
                self.model = chunk.model.clone();
            }
            let response = self.base("in_progress");
            self.event(response_event("response.created", response.clone()), &mut out);
            self.event(response_event("response.in_progress", response), &mut out);
        }
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        for choice in chunk.choices.iter().filter(|c| c.index == 0) {
            if let Some(text) = choice.delta.content.as_deref().filter(|t| !t.is_empty()) {
                self.text_delta(text, &mut out);
            }
            for (k, call) in choice.delta.tool_calls.iter().flatten().enumerate() {
                let index = call.index.unwrap_or(k as u32);
                self.call_delta(index, call, &mut out);
            }
            if let Some(reason) = &choice.finish_reason {
                self.finish = Some(reason.clone());
            }
        }
        out
    }

    fn text_delta(&mut self, text: &str, out: &mut Vec<ResponsesEvent>) {
        let index = match self.text_item {
            Some(i) => i,
            None => {
                let i = self.items.len();
                let id = format!("msg_{}_{i}", self.id.trim_start_matches("resp_"));
                self.event(
                    item_event(
                        "response.output_item.added",
                        i,
                        message_item(&id, "", "in_progress"),
                    ),
                    out,
                );
                self.event(part_event("response.content_part.added", &id, i, ""), out);
                self.items.push(OpenItem::Message {
                    id,
                    text: String::new(),
                    done: false,
                });
                self.text_item = Some(i);
                i
            }
        };
        let Some(OpenItem::Message { id, text: all, .. }) = self.items.get_mut(index) else {
            return;
        };
        all.push_str(text);
        let item_id = id.clone();
        self.event(
            EventData::Delta(Delta {
                content_index: Some(0),
                delta: text.to_owned(),
                item_id,
                logprobs: Some([]),
                output_index: index,
                sequence_number: 0,
                kind: "response.output_text.delta",
            }),
            out,
        );
    }

    fn call_delta(&mut self, index: u32, call: &o::ToolCallDelta, out: &mut Vec<ResponsesEvent>) {
        let function = call.function.clone().unwrap_or_default();
        let position = match self.calls.get(&index) {
            Some(&p) => p,
            None => {
                // Text before a call is finished: close it first.
                if let Some(t) = self.text_item.take() {
                    self.close(t, out);
                }
                let p = self.items.len();
                let id = format!("fc_{}_{p}", self.id.trim_start_matches("resp_"));
                let call_id = call.id.clone().unwrap_or_else(|| format!("call_{p}"));
                let name = function.name.clone().unwrap_or_default();
                self.event(
                    item_event(
                        "response.output_item.added",
                        p,
                        call_item(&id, &call_id, &name, "", "in_progress"),
                    ),
                    out,
                );
                self.items.push(OpenItem::Call {
                    id,
                    call_id,
                    name,
                    arguments: String::new(),
                    done: false,
                });
                self.calls.insert(index, p);
                p
            }
        };
        let Some(delta) = function.arguments.filter(|a| !a.is_empty()) else {
            return;
        };
        let Some(OpenItem::Call { id, arguments, .. }) = self.items.get_mut(position) else {
            return;
        };
        arguments.push_str(&delta);
        let item_id = id.clone();
        self.event(
            EventData::Delta(Delta {
                content_index: None,
                delta,
                item_id,
                logprobs: None,
                output_index: position,
                sequence_number: 0,
                kind: "response.function_call_arguments.delta",
            }),
            out,
        );
    }

    /// The `.done` events of output item `index`, once.
    fn close(&mut self, index: usize, out: &mut Vec<ResponsesEvent>) {
        let Some(item) = self.items.get_mut(index) else {
            return;
        };
        let events: Vec<EventData> = match item {
            OpenItem::Message { done: true, .. } | OpenItem::Call { done: true, .. } => return,
            OpenItem::Message { id, text, done } => {
                *done = true;
                vec![
                    EventData::TextDone(TextDone {
                        content_index: 0,
                        item_id: id.clone(),
                        logprobs: [],
                        output_index: index,
                        sequence_number: 0,
                        text: text.clone(),
                        kind: "response.output_text.done",
                    }),
                    part_event("response.content_part.done", id, index, text),
                    item_event(
                        "response.output_item.done",
                        index,
                        message_item(id, text, "completed"),
                    ),
                ]
            }
            OpenItem::Call {
                id,
                call_id,
                name,
                arguments,
                done,
            } => {
                *done = true;
                vec![
                    EventData::ArgumentsDone(ArgumentsDone {
                        arguments: arguments.clone(),
                        item_id: id.clone(),
                        output_index: index,
                        sequence_number: 0,
                        kind: "response.function_call_arguments.done",
                    }),
                    item_event(
                        "response.output_item.done",
                        index,
                        call_item(id, call_id, name, arguments, "completed"),
                    ),
                ]
            }
        };
        for data in events {
            self.event(data, out);
        }
    }

    fn final_items(&self) -> Vec<OutputItem> {
        self.items
            .iter()
            .map(|item| match item {
                OpenItem::Message { id, text, .. } => message_item(id, text, "completed"),
                OpenItem::Call {
                    id,
                    call_id,
                    name,
                    arguments,
                    ..
                } => call_item(id, call_id, name, arguments, "completed"),
            })
            .collect()
    }

    /// The end of the answer: the open items' `.done` events and
    /// `response.completed` (or `response.incomplete`), once.
    pub fn finish(&mut self) -> Vec<ResponsesEvent> {
        let mut out = Vec::new();
        if std::mem::replace(&mut self.finished, true) {
            return out;
        }
        if !self.started {
            self.started = true;
            self.id = response_id(&format!("gw{}", self.created));
        }
        for index in 0..self.items.len() {
            self.close(index, &mut out);
        }
        let (state, incomplete) = status(self.finish.as_ref());
        let response = ResponseObject {
            incomplete_details: incomplete,
            usage: usage(self.usage.as_ref()),
            ..ResponseObject::new(&self.id, self.created, &self.model, state, self.final_items())
        };
        let kind = if state == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        self.event(response_event(kind, response), &mut out);
        out
    }

    /// A failure after the stream began: `response.failed`, with the error.
    pub(crate) fn failed(&mut self, code: &str, message: &str) -> ResponsesEvent {
        let response = ResponseObject {
            error: Some(ResponseError {
                code: code.to_owned(),
                message: message.to_owned(),
            }),
            output: self.final_items(),
            ..self.base("failed")
        };
        self.numbered(response_event("response.failed", response))
    }
}
