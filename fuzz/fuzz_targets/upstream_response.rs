//! Non-streamed upstream answers of both protocols, their translations (also
//! to Responses) and error bodies translated for each client protocol.
#![no_main]
use libfuzzer_sys::fuzz_target;
use switchboard::gateway::translate::{
    anthropic_to_openai_response, chat_to_responses_response, openai_to_anthropic_response,
    translate_error_body,
};
use switchboard::gateway::wire::{anthropic as a, openai as o, Protocol};

fuzz_target!(|data: &[u8]| {
    for status in [400, 429, 500, 529] {
        let _ = translate_error_body(status, data, Protocol::Anthropic);
        let _ = translate_error_body(status, data, Protocol::OpenAi);
    }
    if let Ok(resp) = serde_json::from_slice::<a::MessagesResponse>(data) {
        let chat = anthropic_to_openai_response(&resp);
        let _ = chat_to_responses_response(&chat);
        let _ = openai_to_anthropic_response(&chat);
    }
    if let Ok(resp) = serde_json::from_slice::<o::ChatResponse>(data) {
        let msg = openai_to_anthropic_response(&resp);
        let _ = anthropic_to_openai_response(&msg);
        let _ = chat_to_responses_response(&resp);
    }
});
