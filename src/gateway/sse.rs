//! Incremental Server-Sent Events decoding and encoding, the framing of both
//! protocols' streams.
//!
//! The decoder takes bytes as the network delivers them (events split at any
//! byte, even inside a UTF-8 sequence or between CR and LF) and yields whole
//! events, following the WHATWG `text/event-stream` parsing rules for the
//! fields the gateway needs: `event` and `data`. `id` and `retry` are read
//! and ignored: neither API uses them and the gateway never reconnects.
//! What it leaves out: the meaning of the data (JSON, or OpenAI's `[DONE]`).
//!
//! Memory is bounded: a line longer than [`MAX_LINE_BYTES`] or an event whose
//! data exceeds [`MAX_EVENT_BYTES`] stops the decoder for good
//! ([`SseDecoder::overflow`]); the caller ends the stream with an error, as
//! it does for Bedrock's frames.

use bytes::{Bytes, BytesMut};

/// Longest line kept while waiting for its line break. Real stream lines are
/// one JSON delta (well under 64 KiB; a whole tool input or a signature at
/// most a few hundred KiB); an upstream that sends megabytes without a
/// newline is broken or hostile.
pub(crate) const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Most data one event may gather over its `data:` lines, for the same reason.
pub(crate) const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// Why the decoder stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SseOverflow {
    #[error("the upstream sent a stream line longer than {} MiB without a line break", MAX_LINE_BYTES >> 20)]
    Line,
    #[error("the upstream sent a stream event larger than {} MiB", MAX_EVENT_BYTES >> 20)]
    Event,
}

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `None` when absent (OpenAI streams never set it).
    pub(crate) event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// Incremental decoder; feed it with [`SseDecoder::push`], end with
/// [`SseDecoder::finish`].
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of the line being received. Whole lines only are decoded, and a
    /// line break never falls inside a UTF-8 sequence, so characters split
    /// across pushes are reassembled here.
    line: Vec<u8>,
    /// The previous push ended with CR: an LF starting the next push belongs
    /// to the same line break.
    after_cr: bool,
    /// Whether the first line has been seen (a leading BOM is skipped).
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    /// Set once a cap was exceeded; the decoder then ignores all input.
    overflow: Option<SseOverflow>,
}

/// U+FEFF, which the SSE spec allows (and strips) at the start of a stream.
const BOM: &str = "\u{feff}";

impl SseDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Why decoding stopped, once a line or an event outgrew its cap.
    pub fn overflow(&self) -> Option<SseOverflow> {
        self.overflow
    }

    /// Stops for good: frees the buffers and remembers why.
    fn overflowed(&mut self, why: SseOverflow) {
        self.overflow = Some(why);
        self.line = Vec::new();
        self.data = String::new();
        self.has_data = false;
        self.event = None;
    }

    /// Decodes `bytes` and returns the events they complete, in order. After
    /// an overflow it returns the events completed before it, then nothing.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        if self.overflow.is_some() {
            return events;
        }
        let mut rest = bytes;
        // An empty read says nothing about whether a CR that ended the last
        // one is followed by LF: keep waiting (otherwise that LF would read
        // as a blank line and dispatch the event before its data).
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if let Some(stripped) = rest.strip_prefix(b"\n") {
                rest = stripped;
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            if self.line.len() + pos > MAX_LINE_BYTES {
                self.overflowed(SseOverflow::Line);
                return events;
            }
            let is_cr = rest[pos] == b'\r';
            // A line wholly inside this read is decoded where it lies; one
            // that began in an earlier read is finished in `self.line`, whose
            // buffer is kept for the next (no allocation per line).
            let event = if self.line.is_empty() {
                self.process_line(&rest[..pos])
            } else {
                self.line.extend_from_slice(&rest[..pos]);
                let mut line = std::mem::take(&mut self.line);
                let event = self.process_line(&line);
                if self.overflow.is_none() {
                    line.clear();
                    self.line = line;
                }
                event
            };
            rest = &rest[pos + 1..];
            if is_cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if let Some(event) = event {
                events.push(event);
            }
            if self.overflow.is_some() {
                return events;
            }
        }
        if self.line.len() + rest.len() > MAX_LINE_BYTES {
            self.overflowed(SseOverflow::Line);
            return events;
        }
        self.line.extend_from_slice(rest);
        events
    }

    /// Ends the stream: an unterminated last line is processed and a pending
    /// event is returned. (The spec discards it; a stream cut right after its
    /// last `data:` line still loses nothing here.)
    pub fn finish(&mut self) -> Option<SseEvent> {
        if self.overflow.is_some() {
            return None;
        }
        let line = std::mem::take(&mut self.line);
        self.after_cr = false;
        if !line.is_empty() {
            if let Some(event) = self.process_line(&line) {
                return Some(event);
            }
        }
        self.dispatch()
    }

    fn process_line(&mut self, line: &[u8]) -> Option<SseEvent> {
        let text = String::from_utf8_lossy(line);
        let mut line: &str = &text;
        if !self.started {
            self.started = true;
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                if self.data.len() + value.len() + 1 > MAX_EVENT_BYTES {
                    self.overflowed(SseOverflow::Event);
                    return None;
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
        None
    }

    /// Emits the buffered event, if it has data (an event with no `data:`
    /// line is not dispatched, per the spec), and resets the buffers.
    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
        })
    }
}

/// Encodes one event: an `event:` line when `event` is set, one `data:` line
/// per line of `data`, and the blank line that dispatches it. Line breaks
/// (CR, LF, CRLF) in `data` all decode as `\n`; SSE cannot carry a bare CR.
/// Line breaks in `event` would end the field early and are removed.
pub fn encode(event: Option<&str>, data: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(data.len() + 32);
    encode_into(&mut out, event, data);
    out.freeze()
}

/// [`encode`], appended to `out`: the relay writes every event of a batch
/// into one buffer, without an allocation per event.
pub fn encode_into(out: &mut BytesMut, event: Option<&str>, data: &str) {
    out.reserve(data.len() + event.map_or(0, str::len) + 16);
    if let Some(event) = event {
        out.extend_from_slice(b"event: ");
        if event.bytes().any(|b| b == b'\n' || b == b'\r') {
            for c in event.chars().filter(|c| *c != '\n' && *c != '\r') {
                let mut utf8 = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        } else {
            out.extend_from_slice(event.as_bytes());
        }
        out.extend_from_slice(b"\n");
    }
    // JSON data has no raw line breaks: one `data:` line, copied as is.
    let mut rest = data;
    loop {
        out.extend_from_slice(b"data: ");
        match rest.find(['\n', '\r']) {
            None => {
                out.extend_from_slice(rest.as_bytes());
                out.extend_from_slice(b"\n");
                break;
            }
            Some(at) => {
                out.extend_from_slice(&rest.as_bytes()[..at]);
                out.extend_from_slice(b"\n");
                let skip = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[at + skip..];
            }
        }
    }
    out.extend_from_slice(b"\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: name.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    #[test]
    fn decodes_anthropic_and_openai_framing() {
        let mut decoder = SseDecoder::new();
        let events = decoder.push(
            b"event: ping\ndata: {\"type\": \"ping\"}\n\n: keep-alive\n\ndata: {\"a\":1}\r\n\r\ndata: [DONE]\n\n",
        );
        assert_eq!(
            events,
            vec![
                event(Some("ping"), "{\"type\": \"ping\"}"),
                event(None, "{\"a\":1}"),
                event(None, "[DONE]"),
            ]
        );
        assert_eq!(decoder.finish(), None);
    }

    /// Regression (found by the round-trip property): an empty read between
    /// a CR and its LF dropped the event's name.
    #[test]
    fn an_empty_read_between_cr_and_lf_keeps_the_event() {
        let mut decoder = SseDecoder::new();
        assert!(decoder.push(b"event: message_start\r").is_empty());
        assert!(decoder.push(b"").is_empty());
        assert!(decoder.push(b"\ndata: {}\r\n").is_empty());
        assert_eq!(decoder.push(b"\r\n"), vec![event(Some("message_start"), "{}")]);
    }

    #[test]
    fn crlf_split_between_pushes_is_one_line_break() {
        let mut decoder = SseDecoder::new();
        assert!(decoder.push(b"data: a\r").is_empty());
        assert!(decoder.push(b"\ndata: b\r").is_empty());
        assert_eq!(decoder.push(b"\n\r\n"), vec![event(None, "a\nb")]);
    }

    #[test]
    fn utf8_split_inside_a_character() {
        let bytes = "data: héllo\n\n".as_bytes();
        let mut decoder = SseDecoder::new();
        assert!(decoder.push(&bytes[..8]).is_empty());
        assert_eq!(decoder.push(&bytes[8..]), vec![event(None, "héllo")]);
    }

    #[test]
    fn bom_no_space_and_unterminated_tail() {
        let mut decoder = SseDecoder::new();
        assert!(decoder
            .push("\u{feff}event:x\ndata:1\ndata".as_bytes())
            .is_empty());
        assert_eq!(decoder.finish(), Some(event(Some("x"), "1\n")));
    }

    #[test]
    fn sse_decoder_caps_a_line_without_newline() {
        let mut decoder = SseDecoder::new();
        assert_eq!(
            decoder.push(b"data: {\"a\":1}\n\ndata: "),
            vec![event(None, "{\"a\":1}")]
        );
        let chunk = vec![b'x'; 1024 * 1024];
        let mut pushed = 0;
        while decoder.overflow().is_none() {
            assert!(decoder.push(&chunk).is_empty());
            pushed += chunk.len();
            assert!(pushed <= MAX_LINE_BYTES + chunk.len(), "never stopped");
        }
        assert_eq!(decoder.overflow(), Some(SseOverflow::Line));
        assert!(
            decoder.line.capacity() == 0 && decoder.data.capacity() == 0,
            "buffers freed"
        );
        // Dead for good: even a line break does not revive it.
        assert!(decoder.push(b"\n\ndata: 1\n\n").is_empty());
        assert_eq!(decoder.finish(), None);
    }

    #[test]
    fn sse_decoder_caps_an_event_of_many_data_lines() {
        let mut decoder = SseDecoder::new();
        let line = format!("data: {}\n", "y".repeat(1024 * 1024));
        let mut lines = 0;
        while decoder.overflow().is_none() {
            assert!(decoder.push(line.as_bytes()).is_empty());
            lines += 1;
            assert!(lines <= MAX_EVENT_BYTES / (1024 * 1024) + 1, "never stopped");
        }
        assert_eq!(decoder.overflow(), Some(SseOverflow::Event));
    }

    #[test]
    fn encode_splits_lines() {
        assert_eq!(
            &encode(Some("message_stop"), "a\nb")[..],
            b"event: message_stop\ndata: a\ndata: b\n\n"
        );
        assert_eq!(&encode(None, "")[..], b"data: \n\n");
        assert_eq!(
            &encode(Some("a\r\nb"), "x\r\ny\rz\n")[..],
            b"event: ab\ndata: x\ndata: y\ndata: z\ndata: \n\n"
        );
        let mut out = BytesMut::new();
        encode_into(&mut out, Some("ping"), "{}");
        encode_into(&mut out, None, "[DONE]");
        assert_eq!(&out[..], b"event: ping\ndata: {}\n\ndata: [DONE]\n\n");
    }
}
