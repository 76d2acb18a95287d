//! Streams: reading an upstream's events (SSE or Bedrock's event-stream) and
//! writing them in the client's protocol, translated when the two differ.
//!
//! Output is written event by event, never as raw upstream bytes, so a stream
//! that breaks mid-event can still end with a well-formed error event instead
//! of half a line spliced to an error.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures::FutureExt as _;
use serde_json::Value;

use super::bedrock::{BedrockFrame, EventStreamDecoder};
use super::route::Dialect;
use super::sse::{self, SseDecoder};
use super::translate::{self, ChunksToEvents, ChunksToResponses, EventsToChunks};
use super::wire::{anthropic, openai, Protocol};

/// One upstream stream event, whichever the framing.
#[derive(Debug)]
pub(crate) enum UpstreamEvent {
    /// An Anthropic stream event: its `type` (the SSE name) and its `data`
    /// JSON as the upstream wrote it, relayed as is when no translation is needed.
    Anthropic { kind: String, data: String },
    /// An OpenAI chunk's `data` JSON, and whether it carries a finish reason.
    /// `kind`: the data's `type`, which Responses API events have (read
    /// once here, where the data is scanned anyway) and chunks do not.
    OpenAi {
        data: String,
        finished: bool,
        kind: Option<String>,
    },
    /// OpenAI's `data: [DONE]`.
    Done,
    /// The upstream reported an error inside the stream.
    Error {
        status: u16,
        error_type: String,
        message: String,
    },
}

enum Decoder {
    Sse(SseDecoder, Protocol),
    Bedrock(EventStreamDecoder),
}

/// Reads events from an upstream streaming response.
pub(crate) struct EventSource {
    response: super::client::UpstreamResponse,
    /// Longest silence tolerated (`[gateway] idle_timeout_secs`).
    idle: Duration,
    decoder: Decoder,
    pending: VecDeque<UpstreamEvent>,
    ended: bool,
}

/// The stream broke: the connection failed, went silent, or sent garbage.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Broken(pub String);

impl EventSource {
    pub(crate) fn new(response: super::client::UpstreamResponse, dialect: Dialect, idle: Duration) -> Self {
        let decoder = match dialect {
            Dialect::Bedrock => Decoder::Bedrock(EventStreamDecoder::new()),
            other => Decoder::Sse(SseDecoder::default(), other.protocol()),
        };
        EventSource {
            response,
            idle,
            decoder,
            pending: VecDeque::new(),
            ended: false,
        }
    }

    /// The next event if it is here already: decoded, or in bytes the
    /// connection has delivered. `None`: it would have to be waited for.
    /// The relay gathers what is ready into one write with it.
    pub(crate) fn next_ready(&mut self) -> Option<Result<Option<UpstreamEvent>, Broken>> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Some(Ok(Some(e)));
            }
            if self.ended {
                return Some(Ok(None));
            }
            // Polled once; dropping the pending read loses nothing (`chunk`
            // takes a frame only when one is ready).
            let chunk = match self.response.chunk().now_or_never()? {
                Ok(chunk) => chunk,
                Err(e) => {
                    return Some(Err(Broken(format!(
                        "the upstream stream broke: {}",
                        crate::probe::classify::root_cause(&e)
                    ))))
                }
            };
            let decoded = match chunk {
                Some(bytes) => self.decode(&bytes),
                None => {
                    self.ended = true;
                    self.finish()
                }
            };
            if let Err(e) = decoded {
                return Some(Err(e));
            }
        }
    }

    /// The next event; `Ok(None)` at the end of the stream.
    pub(crate) async fn next(&mut self) -> Result<Option<UpstreamEvent>, Broken> {
        loop {
            // What is here already needs no idle timer.
            if let Some(ready) = self.next_ready() {
                return ready;
            }
            let chunk = tokio::time::timeout(self.idle, self.response.chunk())
                .await
                .map_err(|_| {
                    Broken(format!(
                        "the upstream stream was silent for {} s",
                        self.idle.as_secs()
                    ))
                })?
                .map_err(|e| {
                    Broken(format!(
                        "the upstream stream broke: {}",
                        crate::probe::classify::root_cause(&e)
                    ))
                })?;
            match chunk {
                Some(bytes) => self.decode(&bytes)?,
                None => {
                    self.ended = true;
                    self.finish()?;
                }
            }
        }
    }

    fn decode(&mut self, bytes: &[u8]) -> Result<(), Broken> {
        match &mut self.decoder {
            Decoder::Sse(decoder, protocol) => {
                for event in decoder.push(bytes) {
                    push_sse(&mut self.pending, *protocol, event)?;
                }
                if let Some(why) = decoder.overflow() {
                    return Err(Broken(why.to_string()));
                }
            }
            Decoder::Bedrock(decoder) => {
                let frames = decoder
                    .push(bytes)
                    .map_err(|e| Broken(format!("unreadable Bedrock stream: {e}")))?;
                for frame in frames {
                    self.pending.push_back(match frame {
                        BedrockFrame::Event(v) => anthropic_value(v),
                        exception => match exception.as_error() {
                            Some(e) => UpstreamEvent::Error {
                                status: e.status,
                                error_type: e.error_type.to_string(),
                                message: e.message,
                            },
                            None => continue,
                        },
                    });
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Broken> {
        match &mut self.decoder {
            Decoder::Sse(decoder, protocol) => {
                if let Some(event) = decoder.finish() {
                    push_sse(&mut self.pending, *protocol, event)?;
                }
            }
            Decoder::Bedrock(decoder) => decoder
                .finish()
                .map_err(|e| Broken(format!("the Bedrock stream ended mid-frame: {e}")))?,
        }
        Ok(())
    }
}

fn push_sse(
    out: &mut VecDeque<UpstreamEvent>,
    protocol: Protocol,
    event: sse::SseEvent,
) -> Result<(), Broken> {
    let sse::SseEvent { event: name, data } = event;
    // The event's own buffer goes on; a copy only when there is space to trim.
    let data = if data.trim().len() == data.len() {
        data
    } else {
        data.trim().to_string()
    };
    if data.is_empty() {
        return Ok(());
    }
    if protocol == Protocol::OpenAi && data == "[DONE]" {
        out.push_back(UpstreamEvent::Done);
        return Ok(());
    }
    let unreadable = |e: serde_json::Error| Broken(format!("the upstream sent an unreadable event: {e}"));
    out.push_back(match protocol {
        Protocol::Anthropic => {
            // Only the `type` is read; the event goes on as written.
            let head: EventHead = serde_json::from_str(&data).map_err(unreadable)?;
            if head.kind == "error" {
                anthropic_value(serde_json::from_str(&data).map_err(unreadable)?)
            } else {
                // The SSE name is the `type` as a rule: its string is reused.
                let kind = match name {
                    Some(name) if name == head.kind => name,
                    _ => head.kind.into_owned(),
                };
                UpstreamEvent::Anthropic { kind, data }
            }
        }
        Protocol::OpenAi => {
            let head: ChunkHead = serde_json::from_str(&data).map_err(unreadable)?;
            match (head.kind.as_deref(), head.error) {
                // Responses API failures: `error` carries code and message at
                // the top level, `response.failed` inside `response.error`.
                (Some("error"), _) => openai_stream_error(&serde_json::from_str(&data).map_err(unreadable)?),
                (Some("response.failed"), _) => {
                    let value: Value = serde_json::from_str(&data).map_err(unreadable)?;
                    openai_stream_error(&value["response"]["error"])
                }
                (_, Some(error)) if !error.is_null() => openai_stream_error(&error),
                (kind, _) => {
                    // As for Anthropic events: the SSE name is the `type`.
                    let kind = match (kind, name) {
                        (None, _) => None,
                        (Some(kind), Some(name)) if name == kind => Some(name),
                        (Some(kind), _) => Some(kind.to_owned()),
                    };
                    UpstreamEvent::OpenAi {
                        finished: head.choices.0,
                        data,
                        kind,
                    }
                }
            }
        }
    });
    Ok(())
}

/// What the relay reads of an Anthropic event (borrowed: no allocation
/// unless the name has escapes).
#[derive(serde::Deserialize)]
struct EventHead<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
}

/// The Responses API events that end an answer.
const RESPONSES_END_EVENTS: &[&str] = &["response.completed", "response.incomplete"];

/// What the relay reads of an OpenAI chunk (or a Responses API event, whose
/// `type` names it).
#[derive(serde::Deserialize)]
struct ChunkHead<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    choices: AnyFinished,
    #[serde(default)]
    error: Option<Value>,
}

/// Whether any choice has a finish reason, read without building the choices.
#[derive(Default)]
struct AnyFinished(bool);

impl<'de> serde::Deserialize<'de> for AnyFinished {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Choices;
        impl<'de> serde::de::Visitor<'de> for Choices {
            type Value = AnyFinished;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of choices")
            }
            fn visit_unit<E>(self) -> Result<AnyFinished, E> {
                Ok(AnyFinished(false))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<AnyFinished, A::Error> {
                let mut any = false;
                while let Some(choice) = seq.next_element::<ChoiceHead>()? {
                    any |= choice.finish_reason.is_some();
                }
                Ok(AnyFinished(any))
            }
        }
        d.deserialize_any(Choices)
    }
}

#[derive(serde::Deserialize)]
struct ChoiceHead {
    /// Present and not null; its value is not needed.
    #[serde(default)]
    finish_reason: Option<serde::de::IgnoredAny>,
}

/// An Anthropic event already parsed (Bedrock's frames, error events).
fn anthropic_value(value: Value) -> UpstreamEvent {
    let kind = value.get("type").and_then(Value::as_str).unwrap_or("message");
    if kind != "error" {
        return UpstreamEvent::Anthropic {
            kind: kind.to_string(),
            data: value.to_string(),
        };
    }
    let error = value.get("error");
    let error_type = error
        .and_then(|e| e.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("api_error")
        .to_string();
    UpstreamEvent::Error {
        status: translate::status_for_anthropic_error(&error_type),
        message: error
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .unwrap_or("error in the upstream stream")
            .to_string(),
        error_type,
    }
}

fn openai_stream_error(error: &Value) -> UpstreamEvent {
    let status = error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..600).contains(c))
        .unwrap_or(500);
    UpstreamEvent::Error {
        status,
        error_type: error
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("server_error")
            .to_string(),
        message: error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("error in the upstream stream")
            .to_string(),
    }
}

/// Writes upstream events as the client's protocol.
pub(crate) struct Writer {
    mode: Mode,
    /// The upstream finished its answer (a stop reason or end marker arrived).
    complete: bool,
    /// The client's end marker (`message_stop` / `[DONE]`) has been written.
    done: bool,
}

enum Mode {
    AnthropicPass,
    OpenAiPass,
    ToAnthropic(Box<ChunksToEvents>),
    ToOpenAi(Box<EventsToChunks>),
    /// A Responses API client served by OpenAI's own Responses API: its
    /// typed events as they come.
    ResponsesPass,
    /// A Responses API client: Chat Completions chunks (from an Anthropic
    /// upstream, translated to chunks first) become typed Responses events.
    ToResponses(Option<Box<EventsToChunks>>, Box<ChunksToResponses>),
}

impl Writer {
    /// `include_usage`: the OpenAI client asked for the final usage chunk
    /// (`stream_options.include_usage`).
    pub(crate) fn new(client: Protocol, upstream: Protocol, model: &str, include_usage: bool) -> Self {
        let mode = match (client, upstream) {
            (Protocol::Anthropic, Protocol::Anthropic) => Mode::AnthropicPass,
            (Protocol::OpenAi, Protocol::OpenAi) => Mode::OpenAiPass,
            (Protocol::Anthropic, Protocol::OpenAi) => {
                Mode::ToAnthropic(Box::new(ChunksToEvents::new(model)))
            }
            (Protocol::OpenAi, Protocol::Anthropic) => {
                Mode::ToOpenAi(Box::new(EventsToChunks::new(model).include_usage(include_usage)))
            }
        };
        Writer {
            mode,
            complete: false,
            done: false,
        }
    }

    /// A writer that relays OpenAI's Responses events unchanged.
    pub(crate) fn responses_pass() -> Self {
        Writer {
            mode: Mode::ResponsesPass,
            complete: false,
            done: false,
        }
    }

    /// A writer for a Responses API client, whose request went upstream as
    /// Chat Completions (or, from there, as Anthropic Messages).
    pub(crate) fn responses(upstream: Protocol, model: &str) -> Self {
        let events = (upstream == Protocol::Anthropic)
            .then(|| Box::new(EventsToChunks::new(model).include_usage(true)));
        Writer {
            mode: Mode::ToResponses(events, Box::new(ChunksToResponses::new(model))),
            complete: false,
            done: false,
        }
    }

    /// Whether the upstream finished its answer properly.
    pub(crate) fn complete(&self) -> bool {
        self.complete
    }

    /// The bytes for one upstream event (possibly none, possibly several events).
    pub(crate) fn write(&mut self, event: UpstreamEvent, out: &mut BytesMut) {
        match (&mut self.mode, event) {
            (_, UpstreamEvent::Error { .. }) => {}
            (Mode::AnthropicPass, UpstreamEvent::Anthropic { kind, data }) => {
                if kind == "message_stop" {
                    self.complete = true;
                    self.done = true;
                }
                sse::encode_into(out, Some(&kind), &data);
            }
            (Mode::OpenAiPass, UpstreamEvent::OpenAi { data, finished, .. }) => {
                self.complete |= finished;
                sse::encode_into(out, None, &data);
            }
            (Mode::ToAnthropic(chunks), UpstreamEvent::OpenAi { data, finished, .. }) => {
                self.complete |= finished;
                if let Ok(chunk) = serde_json::from_str::<openai::ChatChunk>(&data) {
                    write_anthropic(chunks.push(&chunk), out);
                }
            }
            (Mode::ToOpenAi(events), UpstreamEvent::Anthropic { data, .. }) => {
                let Ok(event) = serde_json::from_str::<anthropic::StreamEvent>(&data) else {
                    return;
                };
                let stop = matches!(event, anthropic::StreamEvent::MessageStop);
                write_openai(events.push(&event), out);
                if stop {
                    self.complete = true;
                    self.finish(out);
                }
            }
            (Mode::ResponsesPass, UpstreamEvent::OpenAi { data, kind, .. }) => {
                let kind = kind.filter(|k| !k.is_empty());
                if kind.as_deref().is_some_and(|k| RESPONSES_END_EVENTS.contains(&k)) {
                    self.complete = true;
                    self.done = true;
                }
                sse::encode_into(out, kind.as_deref(), &data);
            }
            (Mode::ToResponses(None, responses), UpstreamEvent::OpenAi { data, finished, .. }) => {
                self.complete |= finished;
                if let Ok(chunk) = serde_json::from_str::<openai::ChatChunk>(&data) {
                    write_responses(responses.push(&chunk), out);
                }
            }
            (Mode::ToResponses(Some(events), responses), UpstreamEvent::Anthropic { data, .. }) => {
                let Ok(event) = serde_json::from_str::<anthropic::StreamEvent>(&data) else {
                    return;
                };
                let stop = matches!(event, anthropic::StreamEvent::MessageStop);
                for chunk in events.push(&event) {
                    write_responses(responses.push(&chunk), out);
                }
                if stop {
                    self.complete = true;
                    self.finish(out);
                }
            }
            (_, UpstreamEvent::Done) => {
                self.complete = true;
                self.finish(out);
            }
            // An event of the other protocol cannot come from this upstream.
            _ => {}
        }
    }

    /// Writes the client's end of stream once: what the translation still
    /// holds (open blocks, the stop reason, usage) and the end marker. For an
    /// upstream that ends a finished answer without a marker (some
    /// OpenAI-compatible servers omit `[DONE]`) as much as for one that sends it.
    pub(crate) fn finish(&mut self, out: &mut BytesMut) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        match &mut self.mode {
            Mode::ToAnthropic(chunks) => write_anthropic(chunks.finish(), out),
            Mode::ToOpenAi(events) => {
                write_openai(events.finish(), out);
                sse::encode_into(out, None, "[DONE]");
            }
            Mode::OpenAiPass => sse::encode_into(out, None, "[DONE]"),
            Mode::AnthropicPass | Mode::ResponsesPass => {}
            Mode::ToResponses(events, responses) => {
                for chunk in events.as_mut().map(|e| e.finish()).unwrap_or_default() {
                    write_responses(responses.push(&chunk), out);
                }
                write_responses(responses.finish(), out);
            }
        }
    }

    /// A well-formed error event in the client's protocol: what the client gets
    /// when the upstream fails after the first bytes were sent.
    pub(crate) fn error(&mut self, status: u16, message: &str) -> Bytes {
        let (anthropic_type, openai_type) = translate::error_types_for_status(status);
        match &mut self.mode {
            Mode::ToResponses(_, responses) => {
                let (kind, data) = responses.failed(openai_type, message);
                // These structs always serialize; `null` as the value they replaced gave.
                let data = serde_json::to_string(&data).unwrap_or_else(|_| "null".to_owned());
                sse::encode(Some(kind), &data)
            }
            Mode::ResponsesPass => sse::encode(
                Some("error"),
                &serde_json::json!({"type": "error", "code": openai_type, "message": message, "param": null})
                    .to_string(),
            ),
            Mode::AnthropicPass | Mode::ToAnthropic(_) => sse::encode(
                Some("error"),
                &translate::anthropic_error_body(anthropic_type, message).to_string(),
            ),
            Mode::OpenAiPass | Mode::ToOpenAi(_) => sse::encode(
                None,
                &translate::openai_error_body(message, openai_type, None).to_string(),
            ),
        }
    }
}

fn write_anthropic(events: Vec<anthropic::StreamEvent>, out: &mut BytesMut) {
    for e in events {
        write_json(out, Some(e.event_name()), &e);
    }
}

fn write_responses(events: Vec<translate::ResponsesEvent>, out: &mut BytesMut) {
    for (kind, data) in events {
        write_json(out, Some(kind), &data);
    }
}

fn write_openai(chunks: Vec<openai::ChatChunk>, out: &mut BytesMut) {
    for c in chunks {
        write_json(out, None, &c);
    }
}

/// One event whose data is `value` as JSON, serialized straight into `out`
/// (serde_json escapes line breaks, so it is one `data:` line). A value that
/// fails to serialize is left out whole, as before.
fn write_json(out: &mut BytesMut, event: Option<&str>, value: &impl serde::Serialize) {
    let start = out.len();
    if let Some(event) = event {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(event.as_bytes());
        out.extend_from_slice(b"\n");
    }
    out.extend_from_slice(b"data: ");
    if serde_json::to_writer(out.writer(), value).is_err() {
        out.truncate(start);
        return;
    }
    out.extend_from_slice(b"\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: Option<&str>, data: &str) -> sse::SseEvent {
        sse::SseEvent {
            event: name.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    /// OpenAI's Responses events pass through named by their `type`, read
    /// once when they arrive, whatever name (or none) the upstream's SSE gave
    /// them; the end event completes the stream.
    #[test]
    fn responses_events_pass_through_named_by_their_type() {
        let mut pending = VecDeque::new();
        for (name, data) in [
            (
                Some("response.created"),
                r#"{"type":"response.created","sequence_number":0}"#,
            ),
            (None, r#"{"type":"response.output_text.delta","delta":"hi"}"#),
            (
                Some("message"),
                r#"{"type":"response.completed","response":{"error":null}}"#,
            ),
        ] {
            push_sse(&mut pending, Protocol::OpenAi, event(name, data)).unwrap();
        }
        let mut writer = Writer::responses_pass();
        let mut out = BytesMut::new();
        for e in pending {
            assert!(!writer.complete(), "complete before its end event");
            writer.write(e, &mut out);
        }
        assert!(writer.complete());
        let text = std::str::from_utf8(&out).unwrap();
        let names: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
        assert_eq!(
            names,
            [
                "response.created",
                "response.output_text.delta",
                "response.completed"
            ]
        );
        assert!(text.contains(r#"data: {"type":"response.output_text.delta","delta":"hi"}"#));
    }
}
