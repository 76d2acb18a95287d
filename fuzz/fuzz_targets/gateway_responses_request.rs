//! OpenAI Responses request -> Chat -> Anthropic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchboard::gateway::translate::{openai_to_anthropic_request, responses_to_chat_request};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(chat) = responses_to_chat_request(&body, "gpt-4o") {
        let _ = serde_json::to_vec(&chat).unwrap();
        let _ = openai_to_anthropic_request(&chat, "claude-sonnet-4-5");
    }
});
