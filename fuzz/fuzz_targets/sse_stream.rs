//! SSE streams: the decoder must give the same events whatever the split (first
//! two bytes pick one), and the events go through every stream translator.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchboard::gateway::sse::{SseDecoder, SseEvent};
use switchboard::gateway::translate::{ChunksToEvents, ChunksToResponses, EventsToChunks};
use switchboard::gateway::wire::{anthropic as a, openai as o};

fn decode(chunks: &[&[u8]]) -> (Vec<SseEvent>, bool) {
    let mut d = SseDecoder::new();
    let mut events = Vec::new();
    for c in chunks {
        events.extend(d.push(c));
    }
    events.extend(d.finish());
    (events, d.overflow().is_some())
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let at = (u16::from_le_bytes([data[0], data[1]]) as usize) % (data.len() - 1);
    let stream = &data[2..];
    let at = at.min(stream.len());
    let whole = decode(&[stream]);
    let (head, tail) = stream.split_at(at);
    assert_eq!(decode(&[head, tail]), whole, "split at {at} changes the events");
    let mut to_chat = EventsToChunks::new("gpt-4o").include_usage(true);
    let mut to_events = ChunksToEvents::new("claude-sonnet-4-5");
    let mut to_responses = ChunksToResponses::new("gpt-4o");
    for ev in &whole.0 {
        if let Ok(event) = serde_json::from_str::<a::StreamEvent>(&ev.data) {
            for chunk in to_chat.push(&event) {
                let _ = to_events.push(&chunk);
            }
        }
        if let Ok(chunk) = serde_json::from_str::<o::ChatChunk>(&ev.data) {
            let _ = to_events.push(&chunk);
            let _ = to_responses.push(&chunk);
        }
    }
    let _ = to_chat.finish();
    let _ = to_events.finish();
    let _ = to_responses.finish();
});
