//! OpenAI Chat request -> Anthropic Messages -> OpenAI Chat again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchboard::gateway::translate::{anthropic_to_openai_request, openai_to_anthropic_request};
use switchboard::gateway::wire::{anthropic as a, openai as o};

fuzz_target!(|data: &[u8]| {
    let Ok(req) = serde_json::from_slice::<o::ChatRequest>(data) else {
        return;
    };
    if let Ok(msg) = openai_to_anthropic_request(&req, "claude-sonnet-4-5") {
        let text = serde_json::to_vec(&msg).unwrap();
        let back: a::MessagesRequest = serde_json::from_slice(&text).unwrap();
        let _ = anthropic_to_openai_request(&back, "gpt-4o");
    }
});
