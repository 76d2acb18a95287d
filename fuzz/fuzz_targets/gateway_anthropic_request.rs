//! Anthropic Messages request -> OpenAI Chat -> Anthropic again (the round trip
//! of a failover across protocols), plus the system-turn fold.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchboard::gateway::translate::{
    anthropic_to_openai_request, fold_system_turns, openai_to_anthropic_request,
};
use switchboard::gateway::wire::anthropic as a;

fuzz_target!(|data: &[u8]| {
    let Ok(mut req) = serde_json::from_slice::<a::MessagesRequest>(data) else {
        return;
    };
    if let Ok(chat) = anthropic_to_openai_request(&req, "gpt-4o") {
        let text = serde_json::to_vec(&chat).unwrap();
        let back: switchboard::gateway::wire::openai::ChatRequest = serde_json::from_slice(&text).unwrap();
        let _ = openai_to_anthropic_request(&back, "claude-sonnet-4-5");
    }
    fold_system_turns(&mut req);
    let _ = serde_json::to_vec(&req).unwrap();
});
