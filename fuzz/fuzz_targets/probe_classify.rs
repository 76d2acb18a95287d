//! Probe answers: first byte picks the status and content type, the rest is the body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::time::Duration;
use switchboard::model::ProviderKind;

const STATUSES: [u16; 12] = [200, 301, 400, 401, 402, 403, 404, 429, 500, 502, 503, 529];
const KINDS: [ProviderKind; 7] = [
    ProviderKind::Anthropic,
    ProviderKind::Openai,
    ProviderKind::OpenaiCompatible,
    ProviderKind::Gemini,
    ProviderKind::Ollama,
    ProviderKind::Bedrock,
    ProviderKind::Vertex,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let mut headers = http::HeaderMap::new();
    match sel >> 6 {
        0 => drop(headers.insert("content-type", http::HeaderValue::from_static("application/json"))),
        1 => drop(headers.insert("content-type", http::HeaderValue::from_static("text/html"))),
        _ => {}
    }
    if sel & 0x20 != 0 {
        headers.insert(
            "retry-after",
            http::HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
    }
    let status = STATUSES[(sel as usize & 0x1f) % STATUSES.len()];
    let kind = KINDS[(sel as usize) % KINDS.len()];
    let report = switchboard::probe::classify(
        kind,
        status,
        &headers,
        body,
        Duration::from_millis(10),
        Duration::from_secs(8),
        chrono::Utc::now(),
    );
    let _ = report.summary();
});
