//! Streaming translation: OpenAI chunks -> Anthropic events and back.
//!
//! Both translators are state machines fed one parsed item at a time, with a
//! `finish` for the end of the upstream stream, so the gateway can forward
//! each translated item as soon as it arrives. Neither reads the network or
//! parses SSE (see [`crate::gateway::sse`]); upstream errors in the middle of
//! a stream are not chunks or events either: the gateway re-expresses them
//! with [`super::translate_error_body`].

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use super::response::{
    anthropic_id_to_openai, anthropic_tool_id, finish_reason_from_anthropic, openai_id_to_anthropic,
    stop_reason_from_openai, unix_now, usage_to_anthropic, usage_to_openai,
};
use crate::gateway::wire::anthropic as a;
use crate::gateway::wire::openai as o;

/// Message id used when the upstream stream ends before its first chunk
/// named one.
const FALLBACK_MESSAGE_ID: &str = "msg_gateway";

/// What kind of content block is open in the Anthropic stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Text,
    Tool,
}

/// One OpenAI tool call (by its `index`) being turned into a `tool_use` block.
#[derive(Debug, Default)]
struct ToolSlot {
    /// The Anthropic block index, once `content_block_start` went out.
    block: Option<usize>,
    id: Option<String>,
    name: Option<String>,
    /// Argument text not yet sent: everything received before the block
    /// could start (the name arrives late on some servers).
    pending: String,
}

/// Translates an OpenAI chunk stream into Anthropic stream events, for a
/// Claude client served by an OpenAI-protocol provider.
///
/// The output is a well-formed Anthropic stream: `message_start` first; a
/// text block opened on the first non-empty content and a `tool_use` block
/// per tool call `index`, whose argument fragments are forwarded as
/// `input_json_delta`; each block stopped before the next starts; then
/// exactly one `message_delta` (stop reason, usage) and one `message_stop`.
/// Because OpenAI reports usage in a chunk after the one with
/// `finish_reason`, the closing events wait for that usage chunk, or for
/// [`ChunksToEvents::finish`] when the stream ends without one.
#[derive(Debug)]
pub struct ChunksToEvents {
    model: String,
    message_id: String,
    started: bool,
    finished: bool,
    next_index: usize,
    open: Option<(usize, BlockKind)>,
    tools: BTreeMap<u32, ToolSlot>,
    called_tools: bool,
    refused: bool,
    finish_reason: Option<o::FinishReason>,
    usage: Option<o::ChatUsage>,
}

impl ChunksToEvents {
    /// A translator whose `message_start` reports `model` (the name the
    /// client asked for, not the upstream's).
    pub fn new(model: &str) -> Self {
        ChunksToEvents {
            model: model.to_owned(),
            message_id: FALLBACK_MESSAGE_ID.to_owned(),
            started: false,
            finished: false,
            next_index: 0,
            open: None,
            tools: BTreeMap::new(),
            called_tools: false,
            refused: false,
            finish_reason: None,
            usage: None,
        }
    }

    /// Translates one chunk. Choices other than index 0 and anything after
    /// the closing events are ignored.
    pub fn push(&mut self, chunk: &o::ChatChunk) -> Vec<a::StreamEvent> {
        let mut out = Vec::new();
        if self.finished {
            return out;
        }
        // Azure's first chunk has no choices, no usage and an empty id (it
        // carries prompt_filter_results): waiting for a real chunk gets the
        // real id into message_start.
        if !self.started && chunk.choices.is_empty() && chunk.usage.is_none() {
            return out;
        }
        self.start(&chunk.id, chunk.usage.as_ref(), &mut out);
        for choice in chunk.choices.iter().filter(|choice| choice.index == 0) {
            if self.finish_reason.is_some() {
                continue;
            }
            if let Some(text) = &choice.delta.content {
                self.text(text, &mut out);
            }
            if let Some(refusal) = choice.delta.refusal.as_deref().filter(|r| !r.is_empty()) {
                self.refused = true;
                self.text(refusal, &mut out);
            }
            for call in choice.delta.tool_calls.iter().flatten() {
                self.tool_call(call, &mut out);
            }
            if let Some(reason) = &choice.finish_reason {
                self.finish_reason = Some(reason.clone());
                self.close_blocks(&mut out);
            }
        }
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.clone());
            // Usage seen before the finish reason may be a running count;
            // only usage at or after it is final.
            if self.finish_reason.is_some() {
                self.end(&mut out);
            }
        }
        out
    }

    /// Ends the stream: closes open blocks and sends `message_delta` and
    /// `message_stop` unless already sent. A stream without any chunk still
    /// gets a (empty) message, so the client sees a well-formed stream.
    pub fn finish(&mut self) -> Vec<a::StreamEvent> {
        let mut out = Vec::new();
        if !self.finished {
            self.start("", None, &mut out);
            self.end(&mut out);
        }
        out
    }

    fn start(&mut self, chunk_id: &str, usage: Option<&o::ChatUsage>, out: &mut Vec<a::StreamEvent>) {
        if self.started {
            return;
        }
        self.started = true;
        if !chunk_id.is_empty() {
            self.message_id = openai_id_to_anthropic(chunk_id);
        }
        // Input tokens are usually unknown yet: 0 here, the real count in
        // message_delta (clients take it from there).
        let mut usage = usage.map(usage_to_anthropic).unwrap_or_default();
        usage.output_tokens = 0;
        out.push(a::StreamEvent::MessageStart {
            message: a::MessagesResponse {
                id: self.message_id.clone(),
                kind: a::MESSAGE_TYPE.to_owned(),
                role: a::Role::Assistant,
                model: self.model.clone(),
                content: Vec::new(),
                stop_reason: None,
                stop_sequence: None,
                usage,
                extra: a::Extra::new(),
            },
        });
    }

    fn next_block(&mut self) -> usize {
        let index = self.next_index;
        self.next_index += 1;
        index
    }

    fn close_open(&mut self, out: &mut Vec<a::StreamEvent>) {
        if let Some((index, _)) = self.open.take() {
            out.push(a::StreamEvent::ContentBlockStop { index });
        }
    }

    fn text(&mut self, text: &str, out: &mut Vec<a::StreamEvent>) {
        if text.is_empty() {
            return;
        }
        let index = match self.open {
            Some((index, BlockKind::Text)) => index,
            _ => {
                self.close_open(out);
                let index = self.next_block();
                out.push(a::StreamEvent::ContentBlockStart {
                    index,
                    content_block: a::ContentBlock::text(""),
                });
                self.open = Some((index, BlockKind::Text));
                index
            }
        };
        out.push(a::StreamEvent::ContentBlockDelta {
            index,
            delta: a::BlockDelta::TextDelta {
                text: text.to_owned(),
            },
        });
    }

    /// The slot of a fragment. Without an `index` (servers that send calls
    /// whole), a fragment with a new id is a new call and one without an id
    /// continues the last call.
    /// `None` when a new call would follow one at index `u32::MAX`: there is
    /// no slot after it.
    fn tool_key(&self, call: &o::ToolCallDelta) -> Option<u32> {
        if let Some(index) = call.index {
            return Some(index);
        }
        let last = self.tools.iter().next_back();
        match (last, &call.id) {
            (None, _) => Some(0),
            (Some((key, slot)), Some(id)) if slot.id.as_ref() != Some(id) => key.checked_add(1),
            (Some((key, _)), _) => Some(*key),
        }
    }

    fn tool_call(&mut self, call: &o::ToolCallDelta, out: &mut Vec<a::StreamEvent>) {
        self.called_tools = true;
        let Some(key) = self.tool_key(call) else {
            // Wrapping would merge two calls, panicking would kill the relay:
            // end the stream with an error the client can read instead.
            self.finished = true;
            out.push(a::StreamEvent::Error {
                error: a::ErrorDetail {
                    kind: "api_error".to_string(),
                    message: "the upstream sent more tool calls than a stream can index".to_string(),
                },
            });
            return;
        };
        let slot = self.tools.entry(key).or_default();
        if slot.id.is_none() {
            slot.id = call.id.as_deref().and_then(anthropic_tool_id);
        }
        if let Some(function) = &call.function {
            if slot.name.is_none() {
                slot.name = function.name.clone().filter(|name| !name.is_empty());
            }
            if let Some(arguments) = &function.arguments {
                slot.pending.push_str(arguments);
            }
        }
        if slot.block.is_none() && slot.name.is_some() {
            self.start_tool(key, out);
        }
        self.flush_tool(key, out);
    }

    fn start_tool(&mut self, key: u32, out: &mut Vec<a::StreamEvent>) {
        self.close_open(out);
        let index = self.next_block();
        let fallback_id = format!("toolu_{}_{key}", id_suffix(&self.message_id));
        let Some(slot) = self.tools.get_mut(&key) else {
            return;
        };
        slot.block = Some(index);
        out.push(a::StreamEvent::ContentBlockStart {
            index,
            content_block: a::ContentBlock::tool_use(
                slot.id.clone().unwrap_or(fallback_id),
                slot.name.clone().unwrap_or_default(),
                json!({}),
            ),
        });
        self.open = Some((index, BlockKind::Tool));
    }

    /// Sends the argument text received so far. A fragment for a call whose
    /// block was already stopped (a server interleaving calls) still goes to
    /// that block's index: clients accumulate by index.
    fn flush_tool(&mut self, key: u32, out: &mut Vec<a::StreamEvent>) {
        let Some(slot) = self.tools.get_mut(&key) else {
            return;
        };
        if let Some(index) = slot.block {
            if !slot.pending.is_empty() {
                out.push(a::StreamEvent::ContentBlockDelta {
                    index,
                    delta: a::BlockDelta::InputJsonDelta {
                        partial_json: std::mem::take(&mut slot.pending),
                    },
                });
            }
        }
    }

    /// Closes the open block, and starts and closes any tool call that never
    /// got a name, so its arguments are not lost.
    fn close_blocks(&mut self, out: &mut Vec<a::StreamEvent>) {
        self.close_open(out);
        let unnamed: Vec<u32> = self
            .tools
            .iter()
            .filter(|(_, slot)| slot.block.is_none())
            .map(|(key, _)| *key)
            .collect();
        for key in unnamed {
            self.start_tool(key, out);
            self.flush_tool(key, out);
            self.close_open(out);
        }
    }

    fn end(&mut self, out: &mut Vec<a::StreamEvent>) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.close_blocks(out);
        let stop_reason =
            stop_reason_from_openai(self.finish_reason.as_ref(), self.called_tools, self.refused);
        let usage = match &self.usage {
            Some(usage) => {
                let usage = usage_to_anthropic(usage);
                a::DeltaUsage {
                    output_tokens: usage.output_tokens,
                    input_tokens: Some(usage.input_tokens),
                    cache_creation_input_tokens: None,
                    cache_read_input_tokens: usage.cache_read_input_tokens,
                    extra: a::Extra::new(),
                }
            }
            None => a::DeltaUsage::default(),
        };
        out.push(a::StreamEvent::MessageDelta {
            delta: a::MessageDelta {
                stop_reason: Some(stop_reason),
                stop_sequence: None,
            },
            usage,
        });
        out.push(a::StreamEvent::MessageStop);
    }
}

/// The part of a message id that is safe in a tool id (Anthropic accepts
/// `[A-Za-z0-9_-]` there).
fn id_suffix(message_id: &str) -> String {
    message_id
        .strip_prefix("msg_")
        .unwrap_or(message_id)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// One Anthropic `tool_use` block being streamed as an OpenAI tool call.
#[derive(Debug)]
struct ToolBlock {
    /// The call's `index` in OpenAI's `tool_calls`.
    index: u32,
    /// Whether any argument text went out; if none did by the block's end,
    /// `{}` is sent, as OpenAI does for calls without arguments, so clients
    /// that parse the arguments get valid JSON.
    sent_arguments: bool,
}

/// Translates an Anthropic event stream into OpenAI chunks, for an OpenAI
/// client served by an Anthropic-protocol provider.
///
/// The output looks like api.openai.com's: every chunk shares one id and
/// `created`; the first carries `delta.role = "assistant"`; text deltas
/// become `content`; a `tool_use` block becomes a tool call whose first
/// fragment has `id`, `type` and `name` and whose `input_json_delta`s are
/// `arguments` fragments; `message_delta` becomes the chunk with
/// `finish_reason`; and, unless turned off with
/// [`EventsToChunks::include_usage`], a last chunk with empty `choices`
/// carries the usage. Thinking, `ping` and `error` events produce nothing.
#[derive(Debug)]
pub struct EventsToChunks {
    model: String,
    id: String,
    created: u64,
    include_usage: bool,
    role_sent: bool,
    finish_sent: bool,
    done: bool,
    tool_blocks: HashMap<usize, ToolBlock>,
    next_tool: u32,
    usage: a::Usage,
}

impl EventsToChunks {
    /// A translator whose chunks report `model` (the name the client asked
    /// for) and the current time as `created`.
    pub fn new(model: &str) -> Self {
        let created = unix_now();
        EventsToChunks {
            model: model.to_owned(),
            id: format!("chatcmpl-gateway{created}"),
            created,
            include_usage: true,
            role_sent: false,
            finish_sent: false,
            done: false,
            tool_blocks: HashMap::new(),
            next_tool: 0,
            usage: a::Usage::default(),
        }
    }

    /// Whether to end with the usage chunk (on by default). OpenAI sends it
    /// only when the request set `stream_options.include_usage`, and clients
    /// that index `choices[0]` of every chunk break on it, so the gateway
    /// passes the client's setting.
    pub fn include_usage(mut self, include: bool) -> Self {
        self.include_usage = include;
        self
    }

    /// Translates one event.
    pub fn push(&mut self, event: &a::StreamEvent) -> Vec<o::ChatChunk> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        match event {
            a::StreamEvent::MessageStart { message } => {
                if !self.role_sent {
                    self.id = anthropic_id_to_openai(&message.id);
                    self.usage = message.usage.clone();
                    out.push(self.chunk(content_delta(""), None));
                }
            }
            a::StreamEvent::ContentBlockStart { index, content_block } => match content_block {
                a::ContentBlock::Text { text, .. } if !text.is_empty() => {
                    out.push(self.chunk(content_delta(text), None))
                }
                a::ContentBlock::ToolUse { id, name, input, .. } => {
                    out.push(self.start_tool(*index, id, name, input))
                }
                _ => {}
            },
            a::StreamEvent::ContentBlockDelta { index, delta } => match delta {
                a::BlockDelta::TextDelta { text } if !text.is_empty() => {
                    out.push(self.chunk(content_delta(text), None))
                }
                a::BlockDelta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                    if let Some(chunk) = self.arguments(*index, partial_json) {
                        out.push(chunk);
                    }
                }
                _ => {}
            },
            a::StreamEvent::ContentBlockStop { index } => {
                if self
                    .tool_blocks
                    .get(index)
                    .is_some_and(|block| !block.sent_arguments)
                {
                    if let Some(chunk) = self.arguments(*index, "{}") {
                        out.push(chunk);
                    }
                }
            }
            a::StreamEvent::MessageDelta { delta, usage } => {
                self.usage.output_tokens = usage.output_tokens;
                if let Some(input) = usage.input_tokens {
                    self.usage.input_tokens = input;
                }
                if usage.cache_creation_input_tokens.is_some() {
                    self.usage.cache_creation_input_tokens = usage.cache_creation_input_tokens;
                }
                if usage.cache_read_input_tokens.is_some() {
                    self.usage.cache_read_input_tokens = usage.cache_read_input_tokens;
                }
                if !self.finish_sent {
                    self.finish_sent = true;
                    let reason = finish_reason_from_anthropic(
                        delta.stop_reason.as_ref(),
                        !self.tool_blocks.is_empty(),
                    );
                    out.push(self.chunk(o::Delta::default(), Some(reason)));
                }
            }
            a::StreamEvent::MessageStop => self.end(&mut out),
            a::StreamEvent::Ping | a::StreamEvent::Error { .. } => {}
        }
        out
    }

    /// Ends the stream: sends the finish and usage chunks unless already
    /// sent (a stream cut before `message_stop` still ends well-formed).
    pub fn finish(&mut self) -> Vec<o::ChatChunk> {
        let mut out = Vec::new();
        self.end(&mut out);
        out
    }

    fn end(&mut self, out: &mut Vec<o::ChatChunk>) {
        if self.done {
            return;
        }
        self.done = true;
        if !self.finish_sent {
            self.finish_sent = true;
            let reason = finish_reason_from_anthropic(None, !self.tool_blocks.is_empty());
            out.push(self.chunk(o::Delta::default(), Some(reason)));
        }
        if self.include_usage {
            out.push(o::ChatChunk {
                usage: Some(usage_to_openai(&self.usage)),
                ..self.bare_chunk(Vec::new())
            });
        }
    }

    fn start_tool(&mut self, block: usize, id: &str, name: &str, input: &Value) -> o::ChatChunk {
        let index = self.next_tool;
        self.next_tool += 1;
        // Streamed tool_use blocks start with `{}` and send the input as
        // deltas; a block that arrives complete is sent whole.
        let arguments = match input {
            Value::Object(map) if !map.is_empty() => input.to_string(),
            _ => String::new(),
        };
        self.tool_blocks.insert(
            block,
            ToolBlock {
                index,
                sent_arguments: !arguments.is_empty(),
            },
        );
        let delta = o::Delta {
            tool_calls: Some(vec![o::ToolCallDelta {
                index: Some(index),
                id: Some(id.to_owned()),
                kind: Some(o::FUNCTION_TYPE.to_owned()),
                function: Some(o::FunctionCallDelta {
                    name: Some(name.to_owned()),
                    arguments: Some(arguments),
                }),
            }]),
            ..o::Delta::default()
        };
        self.chunk(delta, None)
    }

    fn arguments(&mut self, block: usize, fragment: &str) -> Option<o::ChatChunk> {
        let tool = self.tool_blocks.get_mut(&block)?;
        tool.sent_arguments = true;
        let delta = o::Delta {
            tool_calls: Some(vec![o::ToolCallDelta {
                index: Some(tool.index),
                id: None,
                kind: None,
                function: Some(o::FunctionCallDelta {
                    name: None,
                    arguments: Some(fragment.to_owned()),
                }),
            }]),
            ..o::Delta::default()
        };
        Some(self.chunk(delta, None))
    }

    /// A one-choice chunk; the first chunk of the stream also carries the
    /// role, whatever event produced it.
    fn chunk(&mut self, mut delta: o::Delta, finish_reason: Option<o::FinishReason>) -> o::ChatChunk {
        if !self.role_sent {
            self.role_sent = true;
            delta.role = Some(o::ChatRole::Assistant);
        }
        self.bare_chunk(vec![o::ChunkChoice {
            index: 0,
            delta,
            logprobs: None,
            finish_reason,
        }])
    }

    fn bare_chunk(&self, choices: Vec<o::ChunkChoice>) -> o::ChatChunk {
        o::ChatChunk {
            id: self.id.clone(),
            object: o::CHAT_COMPLETION_CHUNK_OBJECT.to_owned(),
            created: self.created,
            model: self.model.clone(),
            choices,
            usage: None,
            system_fingerprint: None,
            extra: o::Extra::new(),
        }
    }
}

fn content_delta(text: &str) -> o::Delta {
    o::Delta {
        content: Some(text.to_owned()),
        ..o::Delta::default()
    }
}
