//! The gateway's Anthropic <-> OpenAI translation layer: realistic fixtures
//! (a Claude Code request, OpenAI and Anthropic streams as the real servers
//! send them, SDK-style requests) with exact expectations, and round-trip
//! properties over generated requests, responses, streams and SSE framing.

use std::collections::HashMap;

use crate::gateway::sse::{encode, SseDecoder, SseEvent};
use crate::gateway::translate::{
    anthropic_error_body, anthropic_to_openai_request, anthropic_to_openai_response,
    chat_to_responses_response, error_types_for_status, fold_system_turns, openai_error_body,
    openai_to_anthropic_request, openai_to_anthropic_response, responses_to_chat_request,
    translate_error_body, ChunksToEvents, ChunksToResponses, EventsToChunks, TranslateError,
    DEFAULT_MAX_TOKENS, RAW_ARGUMENTS_KEY,
};
use crate::gateway::wire::anthropic as a;
use crate::gateway::wire::openai as o;
use crate::gateway::wire::Protocol;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// A request shaped like Claude Code's: system blocks with cache_control,
/// thinking config, a client tool and a server tool, an image, a thinking
/// block, a tool_use then its tool_result beside more text.
fn claude_code_request() -> Value {
    json!({
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 32000,
        "system": [
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.",
             "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "You are an interactive CLI tool.",
             "cache_control": {"type": "ephemeral"}}
        ],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "<system-reminder>Be brief.</system-reminder>"},
                {"type": "text", "text": "What is in this screenshot? Then list the files.",
                 "cache_control": {"type": "ephemeral"}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                 "data": "iVBORw0KGgo="}}
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "The user wants files.", "signature": "EqQB"},
                {"type": "text", "text": "A terminal. Listing files."},
                {"type": "tool_use", "id": "toolu_01A", "name": "Bash",
                 "input": {"command": "ls", "description": "List files"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01A",
                 "content": "a.txt\nb.txt", "is_error": false},
                {"type": "text", "text": "Thanks", "cache_control": {"type": "ephemeral"}}
            ]}
        ],
        "tools": [
            {"name": "Bash", "description": "Executes a bash command",
             "input_schema": {"type": "object", "properties": {
                 "command": {"type": "string"}, "description": {"type": "string"}},
                 "required": ["command"], "additionalProperties": false,
                 "$schema": "http://json-schema.org/draft-07/schema#"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
        ],
        "tool_choice": {"type": "auto"},
        "metadata": {"user_id": "user_abc_account__session_123"},
        "temperature": 1,
        "stream": true,
        "thinking": {"type": "enabled", "budget_tokens": 4000},
        "context_management": {"edits": []}
    })
}

#[test]
fn claude_code_request_becomes_the_expected_openai_request() {
    let req: a::MessagesRequest = serde_json::from_value(claude_code_request()).unwrap();
    let out = anthropic_to_openai_request(&req, "gpt-4.1").unwrap();
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({
            "model": "gpt-4.1",
            "messages": [
                {"role": "system", "content":
                    "You are Claude Code, Anthropic's official CLI for Claude.\n\nYou are an interactive CLI tool."},
                {"role": "user", "content": [
                    {"type": "text", "text": "<system-reminder>Be brief.</system-reminder>"},
                    {"type": "text", "text": "What is in this screenshot? Then list the files."},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
                ]},
                {"role": "assistant", "content": "A terminal. Listing files.", "tool_calls": [
                    {"id": "toolu_01A", "type": "function", "function": {"name": "Bash",
                     "arguments": "{\"command\":\"ls\",\"description\":\"List files\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "toolu_01A", "content": "a.txt\nb.txt"},
                {"role": "user", "content": "Thanks"}
            ],
            "tools": [
                {"type": "function", "function": {"name": "Bash",
                 "description": "Executes a bash command",
                 "parameters": {"type": "object", "properties": {
                     "command": {"type": "string"}, "description": {"type": "string"}},
                     "required": ["command"], "additionalProperties": false,
                     "$schema": "http://json-schema.org/draft-07/schema#"}}}
            ],
            "tool_choice": "auto",
            "max_completion_tokens": 32000,
            "temperature": 1.0,
            "stream": true,
            "stream_options": {"include_usage": true},
            "user": "user_abc_account__session_123"
        })
    );
}

#[test]
fn claude_code_request_survives_reserialisation_unchanged() {
    // The gateway may rewrite `model` and forward the body to an Anthropic
    // provider: nothing Claude Code sent may be lost on the way.
    let body = claude_code_request();
    let req: a::MessagesRequest = serde_json::from_value(body.clone()).unwrap();
    let mut again = serde_json::to_value(&req).unwrap();
    // 1 and 1.0 compare unequal as JSON values; the number is the same.
    again["temperature"] = json!(1);
    assert_eq!(again, body);
}

#[test]
fn images_inside_tool_results_move_to_a_following_user_message() {
    let req: a::MessagesRequest = serde_json::from_value(json!({
        "model": "m", "max_tokens": 10,
        "messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": [
                {"type": "text", "text": "screenshot taken"},
                {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}
            ], "is_error": true}
        ]}]
    }))
    .unwrap();
    let out = anthropic_to_openai_request(&req, "m").unwrap();
    assert_eq!(
        serde_json::to_value(&out.messages).unwrap(),
        json!([
            {"role": "tool", "tool_call_id": "toolu_1", "content": "screenshot taken"},
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}
        ])
    );
    assert_eq!(out.stream_options, None);
}

#[test]
fn anthropic_blocks_openai_cannot_take_are_errors_in_user_turns_and_dropped_elsewhere() {
    let document = json!({"type": "document", "source": {"type": "url",
        "url": "https://example.com/a.pdf"}});
    let req: a::MessagesRequest = serde_json::from_value(json!({
        "model": "m", "max_tokens": 10,
        "messages": [{"role": "user", "content": [document]}]
    }))
    .unwrap();
    let err = anthropic_to_openai_request(&req, "m").unwrap_err();
    assert!(matches!(&err, TranslateError::Unsupported { feature, .. } if feature.contains("document")));

    let req: a::MessagesRequest = serde_json::from_value(json!({
        "model": "m", "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "search"},
            {"role": "assistant", "content": [
                {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}},
                {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
                {"type": "text", "text": "found"}
            ]}
        ]
    }))
    .unwrap();
    let out = anthropic_to_openai_request(&req, "m").unwrap();
    assert_eq!(
        serde_json::to_value(&out.messages[1]).unwrap(),
        json!({"role": "assistant", "content": "found"})
    );
}

/// A request as the `openai` Python SDK sends it for an agent loop.
#[test]
fn openai_sdk_request_becomes_the_expected_anthropic_request() {
    let req: o::ChatRequest = serde_json::from_value(json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "developer", "content": [{"type": "text", "text": "Use tools."}]},
            {"role": "user", "content": [
                {"type": "text", "text": "Weather here and what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AA=", "detail": "high"}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "not json"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "12:00"}]},
            {"role": "user", "content": "Thanks!"}
        ],
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "description": "Weather",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}, "strict": true}},
            {"type": "function", "function": {"name": "get_time"}}
        ],
        "tool_choice": "required",
        "parallel_tool_calls": false,
        "max_tokens": 500,
        "temperature": 1.5,
        "stop": "END",
        "stream": true,
        "stream_options": {"include_usage": true},
        "user": "u-1",
        "n": 1,
        "seed": 7,
        "response_format": {"type": "text"}
    }))
    .unwrap();
    let out = openai_to_anthropic_request(&req, "claude-sonnet-4-5").unwrap();
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 500,
            "system": [{"type": "text", "text": "You are helpful."}, {"type": "text", "text": "Use tools."}],
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "Weather here and what is this?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AA="}}
                ]},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "call_2", "name": "get_time",
                     "input": {RAW_ARGUMENTS_KEY: "not json"}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
                    {"type": "tool_result", "tool_use_id": "call_2", "content": "12:00"},
                    {"type": "text", "text": "Thanks!"}
                ]}
            ],
            "tools": [
                {"name": "get_weather", "description": "Weather",
                 "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
                {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}
            ],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
            "stop_sequences": ["END"],
            "temperature": 1.0,
            "stream": true,
            "metadata": {"user_id": "u-1"}
        })
    );
}

#[test]
fn openai_requests_anthropic_cannot_serve_are_errors() {
    let base = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let mut several = base.clone();
    several["n"] = json!(3);
    let req: o::ChatRequest = serde_json::from_value(several).unwrap();
    assert!(matches!(
        openai_to_anthropic_request(&req, "c"),
        Err(TranslateError::Unsupported { .. })
    ));

    let mut orphan = base.clone();
    orphan["messages"] = json!([{"role": "tool", "content": "x"}]);
    let req: o::ChatRequest = serde_json::from_value(orphan).unwrap();
    assert!(matches!(
        openai_to_anthropic_request(&req, "c"),
        Err(TranslateError::Invalid(_))
    ));

    let mut audio = base;
    audio["messages"] = json!([{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "AAA", "format": "wav"}}]}]);
    let req: o::ChatRequest = serde_json::from_value(audio).unwrap();
    let err = openai_to_anthropic_request(&req, "c").unwrap_err();
    assert!(err.to_string().contains("input_audio"), "{err}");
}

#[test]
fn missing_max_tokens_gets_the_default() {
    let req: o::ChatRequest =
        serde_json::from_value(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
            .unwrap();
    let out = openai_to_anthropic_request(&req, "c").unwrap();
    assert_eq!(out.max_tokens, DEFAULT_MAX_TOKENS);
    assert_eq!(out.messages[0].content, a::Content::Text("hi".into()));
}

#[test]
fn openai_tool_call_response_becomes_an_anthropic_message() {
    let resp: o::ChatResponse = serde_json::from_value(json!({
        "id": "chatcmpl-B9", "object": "chat.completion", "created": 1741569952, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Checking.",
            "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}],
            "refusal": null, "annotations": []},
            "logprobs": null, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
            "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0}},
        "service_tier": "default", "system_fingerprint": "fp_1"
    }))
    .unwrap();
    assert_eq!(
        serde_json::to_value(openai_to_anthropic_response(&resp)).unwrap(),
        json!({
            "id": "msg_B9", "type": "message", "role": "assistant", "model": "gpt-4o",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 36, "output_tokens": 20, "cache_read_input_tokens": 64}
        })
    );
}

#[test]
fn anthropic_tool_use_message_becomes_an_openai_completion() {
    let resp: a::MessagesResponse = serde_json::from_value(json!({
        "id": "msg_01X", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 10, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 90, "output_tokens": 30}
    }))
    .unwrap();
    let mut out = serde_json::to_value(anthropic_to_openai_response(&resp)).unwrap();
    assert!(out["created"].as_u64().unwrap() > 1_700_000_000);
    out["created"] = json!(0);
    assert_eq!(
        out,
        json!({
            "id": "chatcmpl-01X", "object": "chat.completion", "created": 0,
            "model": "claude-sonnet-4-5",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
                "tool_calls": [{"id": "toolu_01", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}],
                "refusal": null},
                "logprobs": null, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 30, "total_tokens": 130,
                "prompt_tokens_details": {"cached_tokens": 90}}
        })
    );
}

// ---------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------

/// What api.openai.com streams for a text-then-two-tool-calls answer with
/// `stream_options.include_usage`, argument text split mid-token.
fn openai_tool_stream() -> Vec<Value> {
    let chunk = |choices: Value, usage: Value| {
        json!({"id": "chatcmpl-B1", "object": "chat.completion.chunk", "created": 1741569952,
               "model": "gpt-4o-2024-08-06", "service_tier": "default",
               "system_fingerprint": "fp_f9f4fb6dbf", "choices": choices, "usage": usage})
    };
    let delta = |delta: Value| {
        chunk(
            json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": null}]),
            Value::Null,
        )
    };
    let args = |index: u32, part: &str| {
        delta(json!({"tool_calls": [{"index": index, "function": {"arguments": part}}]}))
    };
    let call = |index: u32, id: &str, name: &str| {
        delta(
            json!({"tool_calls": [{"index": index, "id": id, "type": "function",
            "function": {"name": name, "arguments": ""}}]}),
        )
    };
    vec![
        delta(json!({"role": "assistant", "content": "", "refusal": null})),
        delta(json!({"content": "Let me "})),
        delta(json!({"content": "check."})),
        call(0, "call_A", "get_weather"),
        args(0, "{\"lo"),
        args(0, "cation\": \"Par"),
        args(0, "is, FR\"}"),
        call(1, "call_B", "get_time"),
        args(1, "{\"tz\":"),
        args(1, "\"CET\"}"),
        chunk(
            json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "tool_calls"}]),
            Value::Null,
        ),
        chunk(
            json!([]),
            json!({"prompt_tokens": 82, "completion_tokens": 45, "total_tokens": 127,
                   "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                   "completion_tokens_details": {"reasoning_tokens": 0}}),
        ),
    ]
}

/// Feeds `bytes` to a decoder `piece` bytes at a time.
fn decode_in_pieces(bytes: &[u8], piece: usize) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::new();
    let mut events: Vec<SseEvent> = bytes.chunks(piece).flat_map(|p| decoder.push(p)).collect();
    events.extend(decoder.finish());
    events
}

fn event_summary(event: &a::StreamEvent) -> String {
    match event {
        a::StreamEvent::ContentBlockStart { index, content_block } => {
            let kind = serde_json::to_value(content_block).unwrap()["type"].clone();
            format!("start {index} {}", kind.as_str().unwrap())
        }
        a::StreamEvent::ContentBlockDelta { index, delta } => {
            let kind = serde_json::to_value(delta).unwrap()["type"].clone();
            format!("delta {index} {}", kind.as_str().unwrap())
        }
        a::StreamEvent::ContentBlockStop { index } => format!("stop {index}"),
        other => other.event_name().to_owned(),
    }
}

#[test]
fn openai_tool_call_stream_becomes_anthropic_events() {
    // Through the SSE codec, 7 bytes at a time, as the gateway will see it.
    let mut wire = Vec::new();
    for chunk in openai_tool_stream() {
        wire.extend_from_slice(&encode(None, &chunk.to_string()));
    }
    wire.extend_from_slice(&encode(None, o::STREAM_DONE));

    let mut translator = ChunksToEvents::new("claude-sonnet-4-5");
    let mut events = Vec::new();
    for sse in decode_in_pieces(&wire, 7) {
        if sse.data == o::STREAM_DONE {
            break;
        }
        let chunk: o::ChatChunk = serde_json::from_str(&sse.data).unwrap();
        events.extend(translator.push(&chunk));
    }
    events.extend(translator.finish());

    let summary: Vec<String> = events.iter().map(event_summary).collect();
    assert_eq!(
        summary,
        [
            "message_start",
            "start 0 text",
            "delta 0 text_delta",
            "delta 0 text_delta",
            "stop 0",
            "start 1 tool_use",
            "delta 1 input_json_delta",
            "delta 1 input_json_delta",
            "delta 1 input_json_delta",
            "stop 1",
            "start 2 tool_use",
            "delta 2 input_json_delta",
            "delta 2 input_json_delta",
            "stop 2",
            "message_delta",
            "message_stop",
        ]
    );
    assert_eq!(
        serde_json::to_value(&events[0]).unwrap(),
        json!({"type": "message_start", "message": {"id": "msg_B1", "type": "message",
            "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0}}})
    );
    assert_eq!(
        serde_json::to_value(&events[5]).unwrap(),
        json!({"type": "content_block_start", "index": 1, "content_block":
            {"type": "tool_use", "id": "call_A", "name": "get_weather", "input": {}}})
    );
    assert_eq!(
        serde_json::to_value(&events[14]).unwrap(),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
            "usage": {"output_tokens": 45, "input_tokens": 82, "cache_read_input_tokens": 0}})
    );
    let message = accumulate_anthropic(&events);
    assert_eq!(
        serde_json::to_value(&message.content).unwrap(),
        json!([
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "call_A", "name": "get_weather", "input": {"location": "Paris, FR"}},
            {"type": "tool_use", "id": "call_B", "name": "get_time", "input": {"tz": "CET"}}
        ])
    );
}

#[test]
fn openai_stream_without_usage_closes_at_finish_exactly_once() {
    let mut stream = openai_tool_stream();
    stream.pop(); // no usage chunk: the client did not ask for it
    let chunks: Vec<o::ChatChunk> = stream
        .into_iter()
        .map(|c| serde_json::from_value(c).unwrap())
        .collect();
    let mut translator = ChunksToEvents::new("c");
    let mut events: Vec<a::StreamEvent> = chunks.iter().flat_map(|c| translator.push(c)).collect();
    assert!(!events
        .iter()
        .any(|e| matches!(e, a::StreamEvent::MessageDelta { .. })));
    events.extend(translator.finish());
    events.extend(translator.finish());
    let names: Vec<&str> = events.iter().map(a::StreamEvent::event_name).collect();
    assert_eq!(
        &names[names.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert_eq!(names.iter().filter(|n| **n == "message_delta").count(), 1);
    assert_eq!(names.last(), Some(&"message_stop"));
    let message = accumulate_anthropic(&events);
    assert_eq!(message.stop_reason, Some(a::StopReason::ToolUse));
    assert_eq!(message.usage.output_tokens, 0);
}

#[test]
fn usage_in_the_finish_chunk_closes_immediately() {
    let chunk: o::ChatChunk = serde_json::from_value(json!({
        "id": "gen-1", "object": "chat.completion.chunk", "created": 1, "model": "x",
        "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
    }))
    .unwrap();
    let mut translator = ChunksToEvents::new("c");
    let events = translator.push(&chunk);
    let names: Vec<&str> = events.iter().map(a::StreamEvent::event_name).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert!(translator.finish().is_empty());
    assert!(translator.push(&chunk).is_empty());
    let message = accumulate_anthropic(&events);
    assert_eq!(message.id, "msg_gen-1");
    assert_eq!(message.stop_reason, Some(a::StopReason::MaxTokens));
    assert_eq!((message.usage.input_tokens, message.usage.output_tokens), (5, 1));
}

#[test]
fn tool_calls_without_index_each_get_a_block() {
    // Gemini's OpenAI compatibility layer sends each call whole, without
    // `index`, and ids with characters Anthropic rejects.
    let chunk: o::ChatChunk = serde_json::from_value(json!({
        "id": "chatcmpl-g", "object": "chat.completion.chunk", "created": 1, "model": "gemini",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "delta": {"role": "assistant",
            "tool_calls": [
                {"id": "fc.1", "type": "function", "function": {"name": "a", "arguments": "{\"x\":1}"}},
                {"id": "fc.2", "type": "function", "function": {"name": "b", "arguments": "{}"}}
            ]}}]
    }))
    .unwrap();
    let mut translator = ChunksToEvents::new("c");
    let mut events = translator.push(&chunk);
    events.extend(translator.finish());
    let message = accumulate_anthropic(&events);
    assert_eq!(
        serde_json::to_value(&message.content).unwrap(),
        json!([
            {"type": "tool_use", "id": "fc_1", "name": "a", "input": {"x": 1}},
            {"type": "tool_use", "id": "fc_2", "name": "b", "input": {}}
        ])
    );
}

#[test]
fn azure_leading_filter_chunk_does_not_hide_the_message_id() {
    let chunks: Vec<o::ChatChunk> = [
        json!({"id": "", "object": "", "created": 0, "model": "", "choices": [],
               "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}),
        json!({"id": "chatcmpl-az", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
               "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"},
                            "finish_reason": "stop"}]}),
    ]
    .into_iter()
    .map(|c| serde_json::from_value(c).unwrap())
    .collect();
    let mut translator = ChunksToEvents::new("c");
    let mut events: Vec<a::StreamEvent> = chunks.iter().flat_map(|c| translator.push(c)).collect();
    events.extend(translator.finish());
    let message = accumulate_anthropic(&events);
    assert_eq!(message.id, "msg_az");
    assert_eq!(message.stop_reason, Some(a::StopReason::EndTurn));
}

#[test]
fn long_claude_code_user_ids_are_not_sent_to_openai() {
    let mut body = claude_code_request();
    let long_id = format!(
        "user_{}_account_{}_session_{}",
        "a".repeat(64),
        "b".repeat(36),
        "c".repeat(36)
    );
    body["metadata"]["user_id"] = json!(long_id);
    let req: a::MessagesRequest = serde_json::from_value(body).unwrap();
    assert_eq!(anthropic_to_openai_request(&req, "m").unwrap().user, None);
}

/// What the Anthropic API streams for a text-then-tool answer.
fn anthropic_tool_stream() -> Vec<Value> {
    vec![
        json!({"type": "message_start", "message": {"id": "msg_014p7", "type": "message",
            "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 472, "cache_creation_input_tokens": 0,
                      "cache_read_input_tokens": 0, "output_tokens": 2}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Okay"}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": ", checking."}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use",
            "id": "toolu_01T1", "name": "get_weather", "input": {}}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": ""}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"location\": \"San Fra"}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "ncisco, CA\"}"}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use",
            "id": "toolu_01T2", "name": "get_time", "input": {}}}),
        json!({"type": "content_block_stop", "index": 2}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
            "usage": {"output_tokens": 89}}),
        json!({"type": "message_stop"}),
    ]
}

#[test]
fn anthropic_tool_stream_becomes_openai_chunks() {
    let mut wire = Vec::new();
    for event in anthropic_tool_stream() {
        let name = event["type"].as_str().unwrap().to_owned();
        wire.extend_from_slice(&encode(Some(&name), &event.to_string()));
    }
    let mut translator = EventsToChunks::new("gpt-4o");
    let mut chunks = Vec::new();
    for sse in decode_in_pieces(&wire, 5) {
        let event: a::StreamEvent = serde_json::from_str(&sse.data).unwrap();
        assert_eq!(sse.event.as_deref(), Some(event.event_name()));
        chunks.extend(translator.push(&event));
    }
    chunks.extend(translator.finish());

    let values: Vec<Value> = chunks
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap();
            v["created"] = json!(0);
            v
        })
        .collect();
    let chunk = |choices: Value| {
        json!({"id": "chatcmpl-014p7", "object": "chat.completion.chunk", "created": 0,
               "model": "gpt-4o", "choices": choices})
    };
    let delta = |delta: Value| chunk(json!([{"index": 0, "delta": delta, "finish_reason": null}]));
    let args = |index: u32, part: &str| {
        delta(json!({"tool_calls": [{"index": index, "function": {"arguments": part}}]}))
    };
    let mut usage_chunk = chunk(json!([]));
    usage_chunk["usage"] = json!({"prompt_tokens": 472, "completion_tokens": 89, "total_tokens": 561,
        "prompt_tokens_details": {"cached_tokens": 0}});
    assert_eq!(
        values,
        vec![
            delta(json!({"role": "assistant", "content": ""})),
            delta(json!({"content": "Okay"})),
            delta(json!({"content": ", checking."})),
            delta(
                json!({"tool_calls": [{"index": 0, "id": "toolu_01T1", "type": "function",
                "function": {"name": "get_weather", "arguments": ""}}]})
            ),
            args(0, "{\"location\": \"San Fra"),
            args(0, "ncisco, CA\"}"),
            delta(
                json!({"tool_calls": [{"index": 1, "id": "toolu_01T2", "type": "function",
                "function": {"name": "get_time", "arguments": ""}}]})
            ),
            // A call without input still gets parseable arguments.
            args(1, "{}"),
            chunk(json!([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}])),
            usage_chunk,
        ]
    );
    let created: Vec<u64> = chunks.iter().map(|c| c.created).collect();
    assert!(created.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn usage_chunk_can_be_turned_off_and_cut_streams_still_end() {
    let events: Vec<a::StreamEvent> = anthropic_tool_stream()
        .into_iter()
        .take(5) // cut mid-text: no message_delta, no message_stop
        .map(|e| serde_json::from_value(e).unwrap())
        .collect();
    let mut translator = EventsToChunks::new("g").include_usage(false);
    let mut chunks: Vec<o::ChatChunk> = events.iter().flat_map(|e| translator.push(e)).collect();
    chunks.extend(translator.finish());
    assert!(translator.finish().is_empty());
    let last = chunks.last().unwrap();
    assert_eq!(last.choices[0].finish_reason, Some(o::FinishReason::Stop));
    assert!(chunks.iter().all(|c| !c.choices.is_empty() && c.usage.is_none()));
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

#[test]
fn error_bodies_match_the_real_apis() {
    assert_eq!(
        anthropic_error_body("overloaded_error", "Overloaded"),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    assert_eq!(
        openai_error_body(
            "Incorrect API key provided",
            "invalid_request_error",
            Some("invalid_api_key")
        ),
        json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                         "param": null, "code": "invalid_api_key"}})
    );
    // Both parse as the wire types.
    let _: a::ErrorBody = serde_json::from_value(anthropic_error_body("api_error", "x")).unwrap();
    let _: o::ErrorBody = serde_json::from_value(openai_error_body("x", "server_error", None)).unwrap();
    assert_eq!(error_types_for_status(500), ("api_error", "server_error"));
    assert_eq!(error_types_for_status(529), ("overloaded_error", "server_error"));
    assert_eq!(
        error_types_for_status(429),
        ("rate_limit_error", "rate_limit_exceeded")
    );
    assert_eq!(
        error_types_for_status(401),
        ("authentication_error", "invalid_request_error")
    );
    assert_eq!(
        error_types_for_status(400),
        ("invalid_request_error", "invalid_request_error")
    );
}

#[test]
fn an_anthropic_error_event_mid_stream_translates_like_an_error_body() {
    let data = r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let event: a::StreamEvent = serde_json::from_str(data).unwrap();
    assert_eq!(event.event_name(), "error");
    let mut translator = EventsToChunks::new("g");
    assert!(translator.push(&event).is_empty());
    assert_eq!(
        translate_error_body(529, data.as_bytes(), Protocol::OpenAi),
        openai_error_body("Overloaded", "server_error", None)
    );
}

// ---------------------------------------------------------------------------
// Accumulators: what the official SDKs do with a stream
// ---------------------------------------------------------------------------

/// Builds the final message from Anthropic events like the `anthropic` SDK's
/// `MessageStream`, checking the stream is well formed on the way.
fn accumulate_anthropic(events: &[a::StreamEvent]) -> a::MessagesResponse {
    let mut message: Option<a::MessagesResponse> = None;
    let mut json: HashMap<usize, String> = HashMap::new();
    let mut open: Option<usize> = None;
    let mut deltas = 0;
    for (i, event) in events.iter().enumerate() {
        if i == 0 {
            assert!(matches!(event, a::StreamEvent::MessageStart { .. }), "{events:?}");
        }
        if i == events.len() - 1 {
            assert!(matches!(event, a::StreamEvent::MessageStop), "{events:?}");
        }
        let msg = message.as_mut();
        match event {
            a::StreamEvent::MessageStart { message: start } => {
                assert!(message.is_none(), "second message_start");
                message = Some(start.clone());
            }
            a::StreamEvent::ContentBlockStart { index, content_block } => {
                let msg = msg.expect("block before message_start");
                assert_eq!(open, None, "block {index} started while another is open");
                assert_eq!(*index, msg.content.len(), "block indices are consecutive");
                open = Some(*index);
                msg.content.push(content_block.clone());
            }
            a::StreamEvent::ContentBlockDelta { index, delta } => {
                assert_eq!(open, Some(*index), "delta outside its open block");
                let msg = msg.expect("delta before message_start");
                match (&mut msg.content[*index], delta) {
                    (a::ContentBlock::Text { text, .. }, a::BlockDelta::TextDelta { text: more }) => {
                        text.push_str(more)
                    }
                    (a::ContentBlock::ToolUse { .. }, a::BlockDelta::InputJsonDelta { partial_json }) => {
                        json.entry(*index).or_default().push_str(partial_json)
                    }
                    (block, delta) => panic!("{delta:?} for {block:?}"),
                }
            }
            a::StreamEvent::ContentBlockStop { index } => {
                assert_eq!(open.take(), Some(*index));
                let msg = msg.expect("stop before message_start");
                if let a::ContentBlock::ToolUse { input, .. } = &mut msg.content[*index] {
                    let text = json.remove(index).unwrap_or_default();
                    if !text.is_empty() {
                        *input = serde_json::from_str(&text).expect("input JSON parses");
                    }
                }
            }
            a::StreamEvent::MessageDelta { delta, usage } => {
                deltas += 1;
                assert_eq!(open, None, "message_delta with a block open");
                let msg = msg.expect("message_delta before message_start");
                msg.stop_reason = delta.stop_reason.clone();
                msg.stop_sequence = delta.stop_sequence.clone();
                msg.usage.output_tokens = usage.output_tokens;
                if let Some(input) = usage.input_tokens {
                    msg.usage.input_tokens = input;
                }
                if usage.cache_read_input_tokens.is_some() {
                    msg.usage.cache_read_input_tokens = usage.cache_read_input_tokens;
                }
            }
            a::StreamEvent::MessageStop | a::StreamEvent::Ping => {}
            a::StreamEvent::Error { error } => panic!("error event {error:?}"),
        }
    }
    assert_eq!(deltas, 1, "exactly one message_delta");
    message.expect("a message")
}

/// What an OpenAI client reassembles from a chunk stream.
#[derive(Debug, Default, PartialEq)]
struct OpenAiAccumulated {
    text: String,
    /// (id, name, arguments text) per call index.
    calls: Vec<(String, String, String)>,
    finish_reason: Option<o::FinishReason>,
    usage: Option<o::ChatUsage>,
}

fn accumulate_openai(chunks: &[o::ChatChunk]) -> OpenAiAccumulated {
    let mut acc = OpenAiAccumulated::default();
    let first = chunks.first().expect("chunks");
    assert_eq!(first.choices[0].delta.role, Some(o::ChatRole::Assistant));
    for (i, chunk) in chunks.iter().enumerate() {
        assert_eq!((&chunk.id, chunk.created), (&first.id, first.created));
        assert_eq!(chunk.object, "chat.completion.chunk");
        if i > 0 {
            assert_eq!(chunk.choices.first().and_then(|c| c.delta.role), None);
        }
        if chunk.choices.is_empty() {
            assert_eq!(i, chunks.len() - 1, "the usage chunk is last");
        }
        if let Some(usage) = &chunk.usage {
            acc.usage = Some(usage.clone());
        }
        for choice in &chunk.choices {
            assert_eq!(acc.finish_reason, None, "content after finish_reason");
            acc.text.push_str(choice.delta.content.as_deref().unwrap_or(""));
            for call in choice.delta.tool_calls.iter().flatten() {
                let index = call.index.expect("OpenAI always sends index") as usize;
                if index == acc.calls.len() {
                    let function = call.function.clone().unwrap_or_default();
                    acc.calls.push((
                        call.id.clone().expect("first fragment has the id"),
                        function.name.expect("first fragment has the name"),
                        String::new(),
                    ));
                    assert_eq!(call.kind.as_deref(), Some("function"));
                }
                let arguments = call.function.as_ref().and_then(|f| f.arguments.as_deref());
                acc.calls[index].2.push_str(arguments.unwrap_or(""));
            }
            acc.finish_reason = choice.finish_reason.clone();
        }
    }
    acc
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

fn cases() -> ProptestConfig {
    ProptestConfig::with_cases(128)
}

/// Non-empty text with the characters that matter for JSON and SSE framing.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,.!?'\"{}\\\\\n-]{1,24}"
}

fn json_object() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::from),
        "[a-zA-Z \"{}:,\\\\é]{0,10}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ];
    let nested = leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop::collection::btree_map("[a-z_]{1,6}", nested, 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

#[derive(Debug, Clone)]
enum UserItem {
    Text(String),
    Image { media_type: String, data: String },
    Url(String),
}

fn user_item() -> impl Strategy<Value = UserItem> {
    prop_oneof![
        4 => text().prop_map(UserItem::Text),
        1 => ("image/(png|jpeg|gif|webp)", "[A-Za-z0-9+/]{4,16}={0,2}")
            .prop_map(|(media_type, data)| UserItem::Image { media_type, data }),
        1 => "https://example\\.com/[a-z]{1,8}\\.png".prop_map(UserItem::Url),
    ]
}

/// One user turn then one assistant turn.
#[derive(Debug, Clone)]
struct TurnPlan {
    user: Vec<UserItem>,
    /// Write a lone text as a plain string rather than one block.
    string_form: bool,
    /// Contents of the tool results answering the previous turn's calls
    /// (used up to the number of calls): texts, and whether as blocks.
    results: Vec<(Vec<String>, bool)>,
    assistant_texts: Vec<String>,
    calls: Vec<Value>,
}

fn turn_plan() -> impl Strategy<Value = TurnPlan> {
    (
        prop::collection::vec(user_item(), 0..3),
        any::<bool>(),
        prop::collection::vec((prop::collection::vec(text(), 1..3), any::<bool>()), 3),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(json_object(), 0..3),
    )
        .prop_map(|(user, string_form, results, assistant_texts, calls)| TurnPlan {
            user,
            string_form,
            results,
            assistant_texts,
            calls,
        })
}

fn simple_schema(field: &str) -> Value {
    json!({"type": "object", "properties": {field: {"type": "string"}}, "required": [field]})
}

fn anthropic_request() -> impl Strategy<Value = a::MessagesRequest> {
    let system = prop_oneof![
        Just(None),
        text().prop_map(|t| Some(a::Content::Text(t))),
        prop::collection::vec(text().prop_map(a::ContentBlock::text), 1..3)
            .prop_map(|b| Some(a::Content::Blocks(b))),
    ];
    let tools = prop::collection::vec((prop::option::of(text()), "[a-z]{1,6}"), 0..3);
    let sampling = (
        prop::option::of((0..=10u32).prop_map(|t| f64::from(t) / 10.0)),
        prop::option::of((1..=10u32).prop_map(|t| f64::from(t) / 10.0)),
        prop::option::of(prop::collection::vec(text(), 1..3)),
        prop::option::of("user_[a-z0-9]{1,12}"),
        prop::option::of(any::<bool>()),
    );
    (
        system,
        prop::collection::vec(turn_plan(), 0..4),
        turn_plan(),
        tools,
        (0..5u8, any::<Index>(), prop::option::of(Just(true))),
        1..200_000u32,
        sampling,
    )
        .prop_map(|(system, turns, last, tools, choice, max_tokens, sampling)| {
            let (temperature, top_p, stop_sequences, user_id, stream) = sampling;
            let tools: Vec<a::Tool> = tools
                .into_iter()
                .enumerate()
                .map(|(i, (description, field))| a::Tool {
                    name: format!("tool_{i}"),
                    kind: None,
                    description,
                    input_schema: Some(simple_schema(&field)),
                    extra: a::Extra::new(),
                })
                .collect();
            let (kind, pick, disable_parallel_tool_use) = choice;
            let tool_choice = (!tools.is_empty())
                .then(|| match kind {
                    0 => None,
                    1 => Some(a::ToolChoice::Auto {
                        disable_parallel_tool_use,
                    }),
                    2 => Some(a::ToolChoice::Any {
                        disable_parallel_tool_use,
                    }),
                    3 => Some(a::ToolChoice::Tool {
                        name: tools[pick.index(tools.len())].name.clone(),
                        disable_parallel_tool_use,
                    }),
                    _ => Some(a::ToolChoice::None),
                })
                .flatten();
            a::MessagesRequest {
                model: "claude-x".into(),
                max_tokens,
                messages: anthropic_messages(&turns, &last),
                system,
                tools: (!tools.is_empty()).then_some(tools),
                tool_choice,
                stop_sequences,
                temperature,
                top_p,
                top_k: None,
                stream,
                metadata: user_id.map(|user_id| a::Metadata {
                    user_id: Some(user_id),
                    extra: a::Extra::new(),
                }),
                extra: a::Extra::new(),
            }
        })
}

fn anthropic_user_block(item: &UserItem) -> a::ContentBlock {
    match item {
        UserItem::Text(text) => a::ContentBlock::text(text.clone()),
        UserItem::Image { media_type, data } => a::ContentBlock::image(a::ImageSource::Base64 {
            media_type: media_type.clone(),
            data: data.clone(),
        }),
        UserItem::Url(url) => a::ContentBlock::image(a::ImageSource::Url { url: url.clone() }),
    }
}

fn blocks_or_string(blocks: Vec<a::ContentBlock>, string_form: bool) -> a::Content {
    match blocks.as_slice() {
        [a::ContentBlock::Text { text, .. }] if string_form => a::Content::Text(text.clone()),
        _ => a::Content::Blocks(blocks),
    }
}

/// Alternating user/assistant turns; each user turn first answers the
/// previous assistant's tool calls.
fn anthropic_messages(turns: &[TurnPlan], last: &TurnPlan) -> Vec<a::Message> {
    let mut messages = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let user_turn = |plan: &TurnPlan, pending: &[String]| {
        let mut blocks: Vec<a::ContentBlock> = pending
            .iter()
            .zip(&plan.results)
            .map(|(id, (texts, as_blocks))| {
                let content = if *as_blocks || texts.len() > 1 {
                    a::Content::Blocks(texts.iter().map(a::ContentBlock::text).collect())
                } else {
                    a::Content::Text(texts[0].clone())
                };
                a::ContentBlock::tool_result(id.clone(), Some(content))
            })
            .collect();
        blocks.extend(plan.user.iter().map(anthropic_user_block));
        if blocks.is_empty() {
            blocks.push(a::ContentBlock::text("go on"));
        }
        a::Message::new(a::Role::User, blocks_or_string(blocks, plan.string_form))
    };
    for (t, plan) in turns.iter().enumerate() {
        messages.push(user_turn(plan, &pending));
        let mut blocks: Vec<a::ContentBlock> =
            plan.assistant_texts.iter().map(a::ContentBlock::text).collect();
        pending = Vec::new();
        for (k, input) in plan.calls.iter().enumerate() {
            let id = format!("toolu_{t}_{k}");
            blocks.push(a::ContentBlock::tool_use(
                id.clone(),
                format!("tool_{k}"),
                input.clone(),
            ));
            pending.push(id);
        }
        if blocks.is_empty() {
            blocks.push(a::ContentBlock::text("ok"));
        }
        messages.push(a::Message::new(
            a::Role::Assistant,
            blocks_or_string(blocks, plan.string_form),
        ));
    }
    messages.push(user_turn(last, &pending));
    messages
}

/// One OpenAI user-then-assistant exchange; tool messages answering the
/// assistant's calls follow it.
fn openai_request() -> impl Strategy<Value = o::ChatRequest> {
    let system = prop::collection::vec(
        (any::<bool>(), prop::collection::vec(text(), 1..3), any::<bool>()),
        0..3,
    );
    let tools = prop::collection::vec((prop::option::of(text()), "[a-z]{1,6}"), 0..3);
    let limits = (
        prop::option::of(1..100_000u32),
        prop::option::of(1..100_000u32),
        prop::option::of((0..=10u32).prop_map(|t| f64::from(t) / 10.0)),
        prop::option::of((1..=10u32).prop_map(|t| f64::from(t) / 10.0)),
        prop::option::of(prop_oneof![
            text().prop_map(o::Stop::One),
            prop::collection::vec(text(), 1..3).prop_map(o::Stop::Many),
        ]),
        prop::option::of("[a-z0-9-]{1,12}"),
        prop::option::of(any::<bool>()),
    );
    (
        system,
        prop::collection::vec(turn_plan(), 1..4),
        tools,
        (0..5u8, any::<Index>(), prop::option::of(Just(false))),
        limits,
    )
        .prop_map(|(system, turns, tools, choice, limits)| {
            let (max_completion_tokens, max_tokens, temperature, top_p, stop, user, stream) = limits;
            let mut messages: Vec<o::ChatMessage> = system
                .into_iter()
                .map(|(developer, texts, as_parts)| {
                    let role = if developer {
                        o::ChatRole::Developer
                    } else {
                        o::ChatRole::System
                    };
                    o::ChatMessage::new(role, Some(openai_texts(texts, as_parts)))
                })
                .collect();
            for (t, plan) in turns.iter().enumerate() {
                let mut parts: Vec<o::ContentPart> = plan
                    .user
                    .iter()
                    .map(|item| match item {
                        UserItem::Text(text) => o::ContentPart::text(text.clone()),
                        UserItem::Image { media_type, data } => o::ContentPart::ImageUrl {
                            image_url: o::ImageUrl {
                                url: format!("data:{media_type};base64,{data}"),
                                detail: None,
                            },
                        },
                        UserItem::Url(url) => o::ContentPart::ImageUrl {
                            image_url: o::ImageUrl {
                                url: url.clone(),
                                detail: None,
                            },
                        },
                    })
                    .collect();
                if parts.is_empty() {
                    parts.push(o::ContentPart::text("go on"));
                }
                let content = match parts.as_slice() {
                    [o::ContentPart::Text { text }] if plan.string_form => {
                        o::MessageContent::Text(text.clone())
                    }
                    _ => o::MessageContent::Parts(parts),
                };
                messages.push(o::ChatMessage::new(o::ChatRole::User, Some(content)));
                let calls: Vec<o::ToolCall> = plan
                    .calls
                    .iter()
                    .enumerate()
                    .map(|(k, input)| {
                        o::ToolCall::function(format!("call_{t}_{k}"), format!("tool_{k}"), input.to_string())
                    })
                    .collect();
                let content = match plan.assistant_texts.as_slice() {
                    [] if calls.is_empty() => Some(o::MessageContent::Text("ok".into())),
                    [] => None,
                    texts => Some(openai_texts(texts.to_vec(), !plan.string_form)),
                };
                messages.push(o::ChatMessage {
                    tool_calls: (!calls.is_empty()).then_some(calls.clone()),
                    ..o::ChatMessage::new(o::ChatRole::Assistant, content)
                });
                for (call, (texts, as_parts)) in calls.iter().zip(&plan.results) {
                    messages.push(o::ChatMessage::tool(
                        call.id.clone(),
                        openai_texts(texts.clone(), *as_parts),
                    ));
                }
            }
            let tools: Vec<o::ToolDef> = tools
                .into_iter()
                .enumerate()
                .map(|(i, (description, field))| o::ToolDef {
                    kind: "function".into(),
                    function: Some(o::FunctionDef {
                        name: format!("tool_{i}"),
                        description,
                        parameters: Some(simple_schema(&field)),
                        strict: None,
                    }),
                    extra: o::Extra::new(),
                })
                .collect();
            let (kind, pick, parallel_tool_calls) = choice;
            let tool_choice = (!tools.is_empty())
                .then(|| match kind {
                    0 => None,
                    1 => Some(o::ToolChoice::Mode(o::ToolChoiceMode::Auto)),
                    2 => Some(o::ToolChoice::Mode(o::ToolChoiceMode::Required)),
                    3 => Some(o::ToolChoice::Named(o::NamedToolChoice::function(format!(
                        "tool_{}",
                        pick.index(tools.len())
                    )))),
                    _ => Some(o::ToolChoice::Mode(o::ToolChoiceMode::None)),
                })
                .flatten();
            o::ChatRequest {
                model: "gpt-x".into(),
                messages,
                parallel_tool_calls: parallel_tool_calls.filter(|_| !tools.is_empty()),
                tools: (!tools.is_empty()).then_some(tools),
                tool_choice,
                max_tokens,
                max_completion_tokens,
                temperature,
                top_p,
                stop,
                stream,
                stream_options: None,
                user,
                n: None,
                extra: o::Extra::new(),
            }
        })
}

fn openai_texts(mut texts: Vec<String>, as_parts: bool) -> o::MessageContent {
    if texts.len() == 1 && !as_parts {
        o::MessageContent::Text(texts.remove(0))
    } else {
        o::MessageContent::Parts(texts.into_iter().map(o::ContentPart::text).collect())
    }
}

// ---------------------------------------------------------------------------
// Normal forms: what must survive a round trip
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Text(String),
    Image(String),
    ToolCall(String, String, Value),
    ToolResult(String, Vec<String>),
}

fn anthropic_system(req: &a::MessagesRequest) -> String {
    req.system
        .iter()
        .flat_map(a::Content::to_blocks)
        .filter_map(|block| match block {
            a::ContentBlock::Text { text, .. } => Some(text),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn anthropic_items(req: &a::MessagesRequest) -> Vec<(a::Role, Vec<Item>)> {
    let texts = |content: &Option<a::Content>| -> Vec<String> {
        content
            .iter()
            .flat_map(a::Content::to_blocks)
            .filter_map(|b| match b {
                a::ContentBlock::Text { text, .. } if !text.is_empty() => Some(text),
                _ => None,
            })
            .collect()
    };
    req.messages
        .iter()
        .map(|message| {
            let items = message
                .content
                .to_blocks()
                .into_iter()
                .map(|block| match block {
                    a::ContentBlock::Text { text, .. } => Item::Text(text),
                    a::ContentBlock::Image {
                        source: a::ImageSource::Base64 { media_type, data },
                        ..
                    } => Item::Image(format!("data:{media_type};base64,{data}")),
                    a::ContentBlock::Image {
                        source: a::ImageSource::Url { url },
                        ..
                    } => Item::Image(url),
                    a::ContentBlock::ToolUse { id, name, input, .. } => Item::ToolCall(id, name, input),
                    a::ContentBlock::ToolResult {
                        tool_use_id, content, ..
                    } => Item::ToolResult(tool_use_id, texts(&content)),
                    other => panic!("unexpected block {other:?}"),
                })
                .collect();
            (message.role, items)
        })
        .collect()
}

fn anthropic_tools(req: &a::MessagesRequest) -> Vec<(String, Option<String>, Option<Value>)> {
    req.tools
        .iter()
        .flatten()
        .map(|t| (t.name.clone(), t.description.clone(), t.input_schema.clone()))
        .collect()
}

fn openai_content_texts(content: Option<&o::MessageContent>) -> Vec<String> {
    match content {
        None => Vec::new(),
        Some(o::MessageContent::Text(text)) => vec![text.clone()],
        Some(o::MessageContent::Parts(parts)) => parts
            .iter()
            .map(|part| match part {
                o::ContentPart::Text { text } => text.clone(),
                other => panic!("unexpected part {other:?}"),
            })
            .collect(),
    }
    .into_iter()
    .filter(|t| !t.is_empty())
    .collect()
}

fn openai_system(req: &o::ChatRequest) -> String {
    req.messages
        .iter()
        .filter(|m| matches!(m.role, o::ChatRole::System | o::ChatRole::Developer))
        .flat_map(|m| openai_content_texts(m.content.as_ref()))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Conversation items in order, with their role; system messages excluded.
fn openai_items(req: &o::ChatRequest) -> Vec<(o::ChatRole, Item)> {
    let mut items = Vec::new();
    for message in &req.messages {
        match message.role {
            o::ChatRole::User => match &message.content {
                Some(o::MessageContent::Text(text)) => {
                    items.push((o::ChatRole::User, Item::Text(text.clone())))
                }
                Some(o::MessageContent::Parts(parts)) => {
                    for part in parts {
                        items.push((
                            o::ChatRole::User,
                            match part {
                                o::ContentPart::Text { text } => Item::Text(text.clone()),
                                o::ContentPart::ImageUrl { image_url } => Item::Image(image_url.url.clone()),
                                other => panic!("unexpected part {other:?}"),
                            },
                        ))
                    }
                }
                None => {}
            },
            o::ChatRole::Assistant => {
                for text in openai_content_texts(message.content.as_ref()) {
                    items.push((o::ChatRole::Assistant, Item::Text(text)));
                }
                for call in message.tool_calls.iter().flatten() {
                    items.push((
                        o::ChatRole::Assistant,
                        Item::ToolCall(
                            call.id.clone(),
                            call.function.name.clone(),
                            serde_json::from_str(&call.function.arguments).unwrap(),
                        ),
                    ));
                }
            }
            o::ChatRole::Tool => items.push((
                o::ChatRole::Tool,
                Item::ToolResult(
                    message.tool_call_id.clone().unwrap(),
                    openai_content_texts(message.content.as_ref()),
                ),
            )),
            _ => {}
        }
    }
    items
}

fn openai_tools(req: &o::ChatRequest) -> Vec<(String, Option<String>, Option<Value>)> {
    req.tools
        .iter()
        .flatten()
        .filter_map(|t| t.function.as_ref())
        .map(|f| (f.name.clone(), f.description.clone(), f.parameters.clone()))
        .collect()
}

/// `tool_choice` and `parallel_tool_calls` as they affect the model: no
/// choice with tools is `auto`, `parallel_tool_calls: true` is the default,
/// and parallelism is moot when tools are off.
fn openai_tool_policy(req: &o::ChatRequest) -> (Option<o::ToolChoice>, Option<bool>) {
    if req.tools.is_none() {
        return (None, None);
    }
    let choice = req
        .tool_choice
        .clone()
        .unwrap_or(o::ToolChoice::Mode(o::ToolChoiceMode::Auto));
    let parallel = match choice {
        o::ToolChoice::Mode(o::ToolChoiceMode::None) => None,
        _ => req.parallel_tool_calls.filter(|p| !p),
    };
    (Some(choice), parallel)
}

fn openai_stop(req: &o::ChatRequest) -> Vec<String> {
    match &req.stop {
        None => Vec::new(),
        Some(o::Stop::One(stop)) => vec![stop.clone()],
        Some(o::Stop::Many(stops)) => stops.clone(),
    }
}

/// OpenAI's rule: tool messages directly follow the assistant message whose
/// calls they answer.
fn assert_tool_messages_follow_their_calls(req: &o::ChatRequest) {
    let mut open_calls: Vec<String> = Vec::new();
    for message in &req.messages {
        match message.role {
            o::ChatRole::Assistant => {
                open_calls = message
                    .tool_calls
                    .iter()
                    .flatten()
                    .map(|c| c.id.clone())
                    .collect();
            }
            o::ChatRole::Tool => {
                let id = message.tool_call_id.clone().unwrap();
                assert!(
                    open_calls.contains(&id),
                    "tool message {id} is not after its call"
                );
            }
            _ => open_calls.clear(),
        }
    }
}

/// Anthropic's rules: roles alternate, and tool results lead a user turn.
fn assert_anthropic_shape(req: &a::MessagesRequest) {
    for pair in req.messages.windows(2) {
        assert_ne!(pair[0].role, pair[1].role, "roles alternate");
    }
    for message in &req.messages {
        let blocks = message.content.to_blocks();
        let results = blocks
            .iter()
            .take_while(|b| matches!(b, a::ContentBlock::ToolResult { .. }))
            .count();
        let all_results = blocks
            .iter()
            .filter(|b| matches!(b, a::ContentBlock::ToolResult { .. }))
            .count();
        assert_eq!(results, all_results, "tool results come first");
        assert!(!blocks.is_empty(), "no empty message");
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases())]

    /// (a) Anthropic -> OpenAI -> Anthropic keeps the conversation.
    #[test]
    fn anthropic_request_round_trip(req in anthropic_request()) {
        let openai = anthropic_to_openai_request(&req, "gpt-x").unwrap();
        assert_tool_messages_follow_their_calls(&openai);
        // Through JSON, as it travels.
        let openai: o::ChatRequest =
            serde_json::from_str(&serde_json::to_string(&openai).unwrap()).unwrap();
        let back = openai_to_anthropic_request(&openai, "claude-x").unwrap();
        assert_anthropic_shape(&back);
        prop_assert_eq!(anthropic_system(&back), anthropic_system(&req));
        prop_assert_eq!(anthropic_items(&back), anthropic_items(&req));
        prop_assert_eq!(anthropic_tools(&back), anthropic_tools(&req));
        prop_assert_eq!(&back.tool_choice, &req.tool_choice);
        prop_assert_eq!(back.max_tokens, req.max_tokens);
        prop_assert_eq!(&back.stop_sequences, &req.stop_sequences);
        prop_assert_eq!((back.temperature, back.top_p, back.stream), (req.temperature, req.top_p, req.stream));
        prop_assert_eq!(&back.metadata, &req.metadata);
        prop_assert_eq!(&back.model, "claude-x");
        prop_assert_eq!(
            openai.stream_options.and_then(|o| o.include_usage),
            (req.stream == Some(true)).then_some(true)
        );
    }

    /// (b) OpenAI -> Anthropic -> OpenAI keeps the conversation.
    #[test]
    fn openai_request_round_trip(req in openai_request()) {
        let anthropic = openai_to_anthropic_request(&req, "claude-x").unwrap();
        assert_anthropic_shape(&anthropic);
        let anthropic: a::MessagesRequest =
            serde_json::from_str(&serde_json::to_string(&anthropic).unwrap()).unwrap();
        let back = anthropic_to_openai_request(&anthropic, "gpt-x").unwrap();
        assert_tool_messages_follow_their_calls(&back);
        prop_assert_eq!(openai_system(&back), openai_system(&req));
        prop_assert_eq!(openai_items(&back), openai_items(&req));
        prop_assert_eq!(openai_tools(&back), openai_tools(&req));
        prop_assert_eq!(openai_tool_policy(&back), openai_tool_policy(&req));
        prop_assert_eq!(
            back.max_completion_tokens,
            Some(req.max_completion_tokens.or(req.max_tokens).unwrap_or(DEFAULT_MAX_TOKENS))
        );
        prop_assert_eq!(openai_stop(&back), openai_stop(&req));
        prop_assert_eq!((back.temperature, back.top_p, back.stream), (req.temperature, req.top_p, req.stream));
        prop_assert_eq!(&back.user, &req.user);
    }

    /// (c) Anthropic response -> OpenAI -> Anthropic.
    #[test]
    fn anthropic_response_round_trip(resp in anthropic_response()) {
        let openai = anthropic_to_openai_response(&resp);
        let openai: o::ChatResponse =
            serde_json::from_str(&serde_json::to_string(&openai).unwrap()).unwrap();
        let back = openai_to_anthropic_response(&openai);
        prop_assert_eq!(response_summary(&back), response_summary(&resp));
        prop_assert_eq!(&back.id, &resp.id);
    }

    /// (c) OpenAI response -> Anthropic -> OpenAI.
    #[test]
    fn openai_response_round_trip(resp in openai_response()) {
        let anthropic = openai_to_anthropic_response(&resp);
        let anthropic: a::MessagesResponse =
            serde_json::from_str(&serde_json::to_string(&anthropic).unwrap()).unwrap();
        let back = anthropic_to_openai_response(&anthropic);
        let summary = |r: &o::ChatResponse| {
            let message = &r.choices[0].message;
            let calls: Vec<(String, String, Value)> = message
                .tool_calls
                .iter()
                .flatten()
                .map(|c| (c.id.clone(), c.function.name.clone(),
                          serde_json::from_str::<Value>(&c.function.arguments).unwrap()))
                .collect();
            (message.content.clone().filter(|c| !c.is_empty()), calls,
             r.choices[0].finish_reason.clone(), r.usage.clone())
        };
        prop_assert_eq!(summary(&back), summary(&resp));
        prop_assert_eq!(&back.id, &resp.id);
    }

    /// (d) An Anthropic stream through OpenAI chunks and back rebuilds the
    /// same message.
    #[test]
    fn anthropic_stream_round_trip(resp in anthropic_response(), cuts in prop::collection::vec(any::<Index>(), 0..6)) {
        let events = response_to_events(&resp, &cuts);
        let mut to_chunks = EventsToChunks::new("gpt-x");
        let mut chunks: Vec<o::ChatChunk> = events.iter().flat_map(|e| to_chunks.push(e)).collect();
        chunks.extend(to_chunks.finish());
        let chunks: Vec<o::ChatChunk> = chunks
            .iter()
            .map(|c| serde_json::from_str(&serde_json::to_string(c).unwrap()).unwrap())
            .collect();
        accumulate_openai(&chunks);
        let mut to_events = ChunksToEvents::new("claude-x");
        let mut back: Vec<a::StreamEvent> = chunks.iter().flat_map(|c| to_events.push(c)).collect();
        back.extend(to_events.finish());
        let rebuilt = accumulate_anthropic(&back);
        prop_assert_eq!(response_summary(&rebuilt), response_summary(&resp));
        prop_assert_eq!(&rebuilt.id, &resp.id);
    }

    /// (d) An OpenAI stream through Anthropic events and back reassembles to
    /// the same completion.
    #[test]
    fn openai_stream_round_trip(resp in openai_response(), cuts in prop::collection::vec(any::<Index>(), 0..6)) {
        let chunks = response_to_chunks(&resp, &cuts);
        let expected = accumulate_openai(&chunks);
        let mut to_events = ChunksToEvents::new("claude-x");
        let mut events: Vec<a::StreamEvent> = chunks.iter().flat_map(|c| to_events.push(c)).collect();
        events.extend(to_events.finish());
        accumulate_anthropic(&events);
        let mut to_chunks = EventsToChunks::new("gpt-x");
        let mut back: Vec<o::ChatChunk> = events.iter().flat_map(|e| to_chunks.push(e)).collect();
        back.extend(to_chunks.finish());
        let rebuilt = accumulate_openai(&back);
        prop_assert_eq!(&rebuilt.text, &expected.text);
        prop_assert_eq!(&rebuilt.finish_reason, &expected.finish_reason);
        prop_assert_eq!(&rebuilt.usage, &expected.usage);
        prop_assert_eq!(rebuilt.calls.len(), expected.calls.len());
        for (got, want) in rebuilt.calls.iter().zip(&expected.calls) {
            prop_assert_eq!((&got.0, &got.1), (&want.0, &want.1));
            prop_assert_eq!(
                serde_json::from_str::<Value>(&got.2).unwrap(),
                serde_json::from_str::<Value>(&want.2).unwrap()
            );
        }
        prop_assert_eq!(&back[0].id, &resp.id);
    }

    /// (e) Encoded events split at any byte boundaries, with LF or CRLF line
    /// ends, decode to the same events.
    #[test]
    fn sse_codec_round_trip(
        events in prop::collection::vec((prop::option::of("[a-z_]{1,16}"), "[^\r]{0,40}"), 0..8),
        cuts in prop::collection::vec(any::<Index>(), 0..10),
        crlf in any::<bool>(),
    ) {
        let mut wire = Vec::new();
        for (name, data) in &events {
            wire.extend_from_slice(&encode(name.as_deref(), data));
        }
        if crlf {
            wire = String::from_utf8(wire).unwrap().replace('\n', "\r\n").into_bytes();
        }
        let mut positions: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        positions.sort_unstable();
        let mut decoder = SseDecoder::new();
        let mut decoded = Vec::new();
        let mut start = 0;
        for end in positions.into_iter().chain([wire.len()]) {
            decoded.extend(decoder.push(&wire[start..end]));
            start = end;
        }
        prop_assert_eq!(decoder.finish(), None);
        let expected: Vec<SseEvent> = events
            .into_iter()
            .map(|(event, data)| SseEvent { event, data })
            .collect();
        prop_assert_eq!(decoded, expected);
    }
}

// ---------------------------------------------------------------------------
// Response generators and stream builders
// ---------------------------------------------------------------------------

fn anthropic_response() -> impl Strategy<Value = a::MessagesResponse> {
    (
        "[A-Za-z0-9]{6,12}",
        prop::option::of(text()),
        prop::collection::vec(("[A-Za-z0-9]{4,8}", "[a-z_]{1,8}", json_object()), 0..3),
        any::<Index>(),
        (0..100_000u64, 0..10_000u64, prop::option::of(0..50_000u64)),
    )
        .prop_map(|(id, text, calls, reason, (input, output, cached))| {
            let mut content: Vec<a::ContentBlock> = text.into_iter().map(a::ContentBlock::text).collect();
            content.extend(calls.iter().map(|(id, name, input)| {
                a::ContentBlock::tool_use(format!("toolu_{id}"), name.clone(), input.clone())
            }));
            // With tool calls the message stops for them (or runs out).
            let reasons = if calls.is_empty() {
                vec![
                    a::StopReason::EndTurn,
                    a::StopReason::MaxTokens,
                    a::StopReason::Refusal,
                ]
            } else {
                vec![a::StopReason::ToolUse, a::StopReason::MaxTokens]
            };
            a::MessagesResponse {
                id: format!("msg_{id}"),
                kind: "message".into(),
                role: a::Role::Assistant,
                model: "claude-x".into(),
                content,
                stop_reason: Some(reasons[reason.index(reasons.len())].clone()),
                stop_sequence: None,
                usage: a::Usage {
                    input_tokens: input,
                    output_tokens: output,
                    cache_creation_input_tokens: None,
                    cache_read_input_tokens: cached,
                    extra: a::Extra::new(),
                },
                extra: a::Extra::new(),
            }
        })
}

type ResponseSummary = (
    String,
    Vec<(String, String, Value)>,
    Option<a::StopReason>,
    u64,
    u64,
    Option<u64>,
);

fn response_summary(resp: &a::MessagesResponse) -> ResponseSummary {
    let mut text = String::new();
    let mut calls = Vec::new();
    for block in &resp.content {
        match block {
            a::ContentBlock::Text { text: t, .. } => text.push_str(t),
            a::ContentBlock::ToolUse { id, name, input, .. } => {
                calls.push((id.clone(), name.clone(), input.clone()))
            }
            other => panic!("unexpected block {other:?}"),
        }
    }
    (
        text,
        calls,
        resp.stop_reason.clone(),
        resp.usage.input_tokens,
        resp.usage.output_tokens,
        resp.usage.cache_read_input_tokens,
    )
}

fn openai_response() -> impl Strategy<Value = o::ChatResponse> {
    (
        "[A-Za-z0-9]{6,12}",
        prop::option::of(text()),
        prop::collection::vec(("[A-Za-z0-9]{4,8}", "[a-z_]{1,8}", json_object()), 0..3),
        any::<Index>(),
        (0..100_000u64, 0..10_000u64, prop::option::of(any::<Index>())),
    )
        .prop_map(|(id, content, calls, reason, (prompt, completion, cached))| {
            let calls: Vec<o::ToolCall> = calls
                .into_iter()
                .map(|(id, name, input)| o::ToolCall::function(format!("call_{id}"), name, input.to_string()))
                .collect();
            let reasons = if calls.is_empty() {
                vec![
                    o::FinishReason::Stop,
                    o::FinishReason::Length,
                    o::FinishReason::ContentFilter,
                ]
            } else {
                vec![o::FinishReason::ToolCalls, o::FinishReason::Length]
            };
            o::ChatResponse {
                id: format!("chatcmpl-{id}"),
                object: "chat.completion".into(),
                created: 1_700_000_000,
                model: "gpt-x".into(),
                choices: vec![o::Choice {
                    index: 0,
                    message: o::ResponseMessage {
                        role: o::ChatRole::Assistant,
                        content,
                        tool_calls: (!calls.is_empty()).then_some(calls),
                        refusal: None,
                        extra: o::Extra::new(),
                    },
                    logprobs: None,
                    finish_reason: Some(reasons[reason.index(reasons.len())].clone()),
                }],
                usage: Some(o::ChatUsage {
                    prompt_tokens: prompt,
                    completion_tokens: completion,
                    total_tokens: prompt + completion,
                    prompt_tokens_details: cached.map(|i| o::PromptTokensDetails {
                        cached_tokens: Some(i.index(prompt as usize + 1) as u64),
                        extra: o::Extra::new(),
                    }),
                    completion_tokens_details: None,
                    extra: o::Extra::new(),
                }),
                system_fingerprint: None,
                extra: o::Extra::new(),
            }
        })
}

/// Splits `text` at the character positions chosen by `cuts`.
fn split(text: &str, cuts: &[Index]) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut positions: Vec<usize> = cuts.iter().map(|i| i.index(chars.len() + 1)).collect();
    positions.push(chars.len());
    positions.sort_unstable();
    positions.dedup();
    let mut pieces = Vec::new();
    let mut start = 0;
    for end in positions {
        if end > start {
            pieces.push(chars[start..end].iter().collect());
            start = end;
        }
    }
    pieces
}

/// The events the Anthropic API would stream for `resp`, text and input JSON
/// split at `cuts`.
fn response_to_events(resp: &a::MessagesResponse, cuts: &[Index]) -> Vec<a::StreamEvent> {
    let mut start = resp.clone();
    start.content.clear();
    start.stop_reason = None;
    start.usage.output_tokens = 1;
    let mut events = vec![
        a::StreamEvent::MessageStart { message: start },
        a::StreamEvent::Ping,
    ];
    for (index, block) in resp.content.iter().enumerate() {
        let (first, deltas): (a::ContentBlock, Vec<a::BlockDelta>) = match block {
            a::ContentBlock::Text { text, .. } => (
                a::ContentBlock::text(""),
                split(text, cuts)
                    .into_iter()
                    .map(|text| a::BlockDelta::TextDelta { text })
                    .collect(),
            ),
            a::ContentBlock::ToolUse { id, name, input, .. } => (
                a::ContentBlock::tool_use(id.clone(), name.clone(), json!({})),
                std::iter::once(String::new())
                    .chain(split(&input.to_string(), cuts))
                    .map(|partial_json| a::BlockDelta::InputJsonDelta { partial_json })
                    .collect(),
            ),
            other => panic!("unexpected block {other:?}"),
        };
        events.push(a::StreamEvent::ContentBlockStart {
            index,
            content_block: first,
        });
        events.extend(
            deltas
                .into_iter()
                .map(|delta| a::StreamEvent::ContentBlockDelta { index, delta }),
        );
        events.push(a::StreamEvent::ContentBlockStop { index });
    }
    events.push(a::StreamEvent::MessageDelta {
        delta: a::MessageDelta {
            stop_reason: resp.stop_reason.clone(),
            stop_sequence: None,
        },
        usage: a::DeltaUsage {
            output_tokens: resp.usage.output_tokens,
            ..a::DeltaUsage::default()
        },
    });
    events.push(a::StreamEvent::MessageStop);
    events
}

/// The chunks api.openai.com would stream for `resp` (with include_usage),
/// content and arguments split at `cuts`.
fn response_to_chunks(resp: &o::ChatResponse, cuts: &[Index]) -> Vec<o::ChatChunk> {
    let chunk = |delta: o::Delta, finish_reason: Option<o::FinishReason>| o::ChatChunk {
        id: resp.id.clone(),
        object: "chat.completion.chunk".into(),
        created: resp.created,
        model: resp.model.clone(),
        choices: vec![o::ChunkChoice {
            index: 0,
            delta,
            logprobs: None,
            finish_reason,
        }],
        usage: None,
        system_fingerprint: None,
        extra: o::Extra::new(),
    };
    let message = &resp.choices[0].message;
    let mut chunks = vec![chunk(
        o::Delta {
            role: Some(o::ChatRole::Assistant),
            content: Some(String::new()),
            ..o::Delta::default()
        },
        None,
    )];
    for piece in split(message.content.as_deref().unwrap_or(""), cuts) {
        chunks.push(chunk(
            o::Delta {
                content: Some(piece),
                ..o::Delta::default()
            },
            None,
        ));
    }
    for (index, call) in message.tool_calls.iter().flatten().enumerate() {
        let fragment = |id: Option<String>, name: Option<String>, arguments: String| o::Delta {
            tool_calls: Some(vec![o::ToolCallDelta {
                index: Some(index as u32),
                kind: id.as_ref().map(|_| "function".to_owned()),
                id,
                function: Some(o::FunctionCallDelta {
                    name,
                    arguments: Some(arguments),
                }),
            }]),
            ..o::Delta::default()
        };
        chunks.push(chunk(
            fragment(
                Some(call.id.clone()),
                Some(call.function.name.clone()),
                String::new(),
            ),
            None,
        ));
        for piece in split(&call.function.arguments, cuts) {
            chunks.push(chunk(fragment(None, None, piece), None));
        }
    }
    chunks.push(chunk(o::Delta::default(), resp.choices[0].finish_reason.clone()));
    chunks.push(o::ChatChunk {
        choices: Vec::new(),
        usage: resp.usage.clone(),
        ..chunk(o::Delta::default(), None)
    });
    chunks
}

// ---------------------------------------------------------------------------
// Requests captured from real clients (tests/fixtures/clients/)
// ---------------------------------------------------------------------------

/// A request body captured from a real client, as the gateway received it.
fn captured(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/clients/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let capture: Value = serde_json::from_str(&text).expect("fixture is JSON");
    capture["body"].clone()
}

/// The path of the first place two JSON values differ, with both sides.
fn first_difference(got: &Value, want: &Value, path: &str) -> Option<String> {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for key in g.keys().chain(w.keys()) {
                let (Some(gv), Some(wv)) = (g.get(key), w.get(key)) else {
                    return Some(format!("{path}.{key}: present on one side only"));
                };
                if let Some(d) = first_difference(gv, wv, &format!("{path}.{key}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => g
            .iter()
            .zip(w)
            .enumerate()
            .find_map(|(i, (gv, wv))| first_difference(gv, wv, &format!("{path}[{i}]"))),
        _ if got == want => None,
        _ => Some(format!("{path}: {got} != {want}")),
    }
}

/// Regression: Claude Code 2.1.x puts `"role": "system"` turns inside
/// `messages`; the translator failed with "unknown variant `system`" and no
/// OpenAI-dialect provider could serve Claude Code.
#[test]
fn claude_code_system_turns_inside_messages_translate_to_openai() {
    use o::ChatRole::{Assistant, System, Tool, User};
    let cases = [
        // [user, system]: the leading prompt, then the turns in their order,
        // the mid-conversation system turn where Claude Code put it.
        ("claude-code-2.1.332-first-turn.json", vec![System, User, System]),
        // [user, system, assistant(tool_use), user(tool_result)]
        (
            "claude-code-2.1.332-tool-result-turn.json",
            vec![System, User, System, Assistant, Tool],
        ),
    ];
    for (name, want) in cases {
        let body = captured(name);
        let req: a::MessagesRequest = serde_json::from_value(body.clone()).expect(name);
        assert_eq!(
            first_difference(&serde_json::to_value(&req).unwrap(), &body, "$"),
            None,
            "{name}: a pass-through must lose nothing"
        );
        let out = anthropic_to_openai_request(&req, "gpt-4.1").expect(name);
        let roles: Vec<o::ChatRole> = out.messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, want, "{name}");
        let system_turn = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["role"] == "system")
            .expect("the capture has a system turn");
        let text = match &system_turn["content"] {
            Value::String(text) => text.clone(),
            blocks => blocks
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["text"].as_str().unwrap())
                .collect::<Vec<_>>()
                .join("\n\n"),
        };
        let translated = out
            .messages
            .iter()
            .skip(1)
            .find(|m| m.role == o::ChatRole::System)
            .unwrap();
        assert_eq!(serde_json::to_value(&translated.content).unwrap(), json!(text));
        assert_tool_messages_follow_their_calls(&out);
        // Every client tool survives; thinking, context_management and
        // output_config.effort have no Chat Completions field.
        assert_eq!(
            out.tools.as_ref().map(Vec::len),
            Some(body["tools"].as_array().unwrap().len())
        );
        let sent = serde_json::to_value(&out).unwrap();
        for dropped in ["thinking", "context_management", "output_config", "metadata"] {
            assert!(sent.get(dropped).is_none(), "{name}: {dropped} sent to OpenAI");
        }
    }
}

#[test]
fn a_system_turn_between_tool_calls_and_results_waits_for_the_tool_messages() {
    let req: a::MessagesRequest = serde_json::from_value(json!({
        "model": "m", "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "list"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}]},
            {"role": "system", "content": [{"type": "text", "text": "Files may be large."}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.txt"},
                {"type": "text", "text": "and?"}]}
        ]
    }))
    .unwrap();
    let out = anthropic_to_openai_request(&req, "m").unwrap();
    let got: Vec<Value> = out.messages.iter().map(|m| json!([m.role, m.content])).collect();
    assert_eq!(
        got,
        vec![
            json!(["user", "list"]),
            json!(["assistant", null]),
            json!(["tool", "a.txt"]),
            json!(["system", "Files may be large."]),
            json!(["user", "and?"]),
        ]
    );
    assert_tool_messages_follow_their_calls(&out);
}

#[test]
fn anthropic_documents_and_structured_output_reach_openai() {
    let req: a::MessagesRequest = serde_json::from_value(json!({
        "model": "m", "max_tokens": 10,
        "output_config": {"effort": "low", "format": {"type": "json_schema",
            "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}},
        "messages": [{"role": "user", "content": [
            {"type": "document", "title": "report.pdf",
             "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
             "cache_control": {"type": "ephemeral"}},
            {"type": "document", "title": "notes",
             "source": {"type": "text", "media_type": "text/plain", "data": "plain words"}},
            {"type": "text", "text": "Summarise both."}
        ]}]
    }))
    .unwrap();
    let out = anthropic_to_openai_request(&req, "m").unwrap();
    let sent = serde_json::to_value(&out).unwrap();
    assert_eq!(
        sent["messages"][0]["content"],
        json!([
            {"type": "file", "file": {"filename": "report.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}},
            {"type": "text", "text": "notes\n\nplain words"},
            {"type": "text", "text": "Summarise both."}
        ])
    );
    assert_eq!(sent["response_format"]["type"], "json_schema");
    assert_eq!(
        sent["response_format"]["json_schema"]["schema"]["properties"]["n"]["type"],
        "integer"
    );
}

#[test]
fn openai_mid_conversation_developer_text_joins_the_user_turn_after_tool_results() {
    let req: o::ChatRequest = serde_json::from_value(json!({
        "model": "gpt-5", "max_completion_tokens": 100,
        "response_format": {"type": "json_schema", "json_schema": {"name": "out",
            "schema": {"type": "object"}, "strict": true}},
        "messages": [
            {"role": "developer", "content": "Be terse."},
            {"role": "user", "content": [
                {"type": "text", "text": "Read it"},
                {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "read", "arguments": "{}"}}]},
            {"role": "system", "content": "The tool output is trusted."},
            {"role": "tool", "tool_call_id": "call_1", "content": "42"}
        ]
    }))
    .unwrap();
    let out = openai_to_anthropic_request(&req, "claude-sonnet-4-5").unwrap();
    let sent = serde_json::to_value(&out).unwrap();
    assert_eq!(sent["system"][0]["text"], "Be terse.", "{sent}");
    assert!(
        sent["system"][1]["text"]
            .as_str()
            .unwrap()
            .contains("JSON Schema"),
        "{sent}"
    );
    assert_eq!(sent["messages"][0]["content"][1]["type"], "document");
    assert_eq!(sent["messages"][0]["content"][1]["title"], "a.pdf");
    assert_eq!(
        sent["messages"][0]["content"][1]["source"]["media_type"],
        "application/pdf"
    );
    let last = &sent["messages"][2]["content"];
    assert_eq!(
        last[0]["type"], "tool_result",
        "tool results open the turn: {last}"
    );
    assert_eq!(
        last[1]["text"],
        "<system>\nThe tool output is trusted.\n</system>"
    );
    assert_anthropic_shape(&out);
}

#[test]
fn openai_audio_output_is_left_to_openai() {
    let req: o::ChatRequest = serde_json::from_value(json!({
        "model": "gpt-4o-audio-preview", "modalities": ["text", "audio"],
        "audio": {"voice": "alloy", "format": "wav"},
        "messages": [{"role": "user", "content": "hi"}]
    }))
    .unwrap();
    let err = openai_to_anthropic_request(&req, "c").unwrap_err();
    assert!(err.to_string().contains("audio"), "{err}");
}

/// Codex CLI 0.171 (Responses API only): developer messages, `function`,
/// `namespace` and hosted tools, then `function_call` /
/// `function_call_output` items. Translated to Chat Completions, and from
/// there to Anthropic Messages, both valid.
#[test]
fn codex_responses_requests_translate_to_chat_and_on_to_anthropic() {
    for name in [
        "codex-0.171.0-first-turn.json",
        "codex-0.171.0-tool-output-turn.json",
    ] {
        let body = captured(name);
        let chat = responses_to_chat_request(&body, "gpt-4.1").expect(name);
        assert_eq!(chat.model, "gpt-4.1");
        assert_eq!(chat.stream, Some(true));
        assert_eq!(
            chat.stream_options.as_ref().and_then(|o| o.include_usage),
            Some(true)
        );
        let input = body["input"].as_array().unwrap();
        let developer = input.iter().filter(|i| i["role"] == "developer").count();
        assert_eq!(
            chat.messages
                .iter()
                .filter(|m| m.role == o::ChatRole::System)
                .count(),
            developer,
            "{name}: developer messages become system messages in place"
        );
        // Function tools only: the namespace group and web_search run at OpenAI.
        let functions = body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["type"] == "function")
            .count();
        assert_eq!(chat.tools.as_ref().map(Vec::len), Some(functions), "{name}");
        assert!(chat
            .tools
            .iter()
            .flatten()
            .any(|t| t.function.as_ref().unwrap().name == "exec_command"));
        assert_tool_messages_follow_their_calls(&chat);
        let calls = input.iter().filter(|i| i["type"] == "function_call").count();
        let outputs: Vec<&o::ChatMessage> = chat
            .messages
            .iter()
            .filter(|m| m.role == o::ChatRole::Tool)
            .collect();
        assert_eq!(outputs.len(), calls, "{name}");
        if let Some(out) = input.iter().find(|i| i["type"] == "function_call_output") {
            assert_eq!(outputs[0].tool_call_id.as_deref(), out["call_id"].as_str());
            assert_eq!(serde_json::to_value(&outputs[0].content).unwrap(), out["output"]);
        }
        let claude = openai_to_anthropic_request(&chat, "claude-sonnet-4-5").expect(name);
        assert_anthropic_shape(&claude);
        assert!(
            claude.system.is_some(),
            "{name}: the developer prompt is Claude's system prompt"
        );
    }
}

#[test]
fn responses_requests_that_need_server_state_are_refused() {
    for (key, value) in [
        ("previous_response_id", json!("resp_1")),
        ("conversation", json!("conv_1")),
    ] {
        let body = json!({"model": "m", "input": "hi", key: value});
        let err = responses_to_chat_request(&body, "").unwrap_err();
        assert!(err.to_string().contains(key), "{err}");
    }
    let body = json!({"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]});
    assert!(responses_to_chat_request(&body, "").is_err());
    let body = json!({"model": "m", "instructions": "Be brief.", "input": "hi",
        "max_output_tokens": 300, "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}}}});
    let chat = serde_json::to_value(responses_to_chat_request(&body, "").unwrap()).unwrap();
    assert_eq!(chat["model"], "m");
    assert_eq!(
        chat["messages"],
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi"}
        ])
    );
    assert_eq!(chat["max_completion_tokens"], 300);
    assert_eq!(chat["response_format"]["json_schema"]["name"], "out");
}

#[test]
fn chat_chunks_become_responses_events_with_a_function_call() {
    let chunks: Vec<o::ChatChunk> = openai_tool_stream()
        .into_iter()
        .map(|c| serde_json::from_value(c).unwrap())
        .collect();
    let mut writer = ChunksToResponses::new("gpt-4.1");
    let mut events = Vec::new();
    for chunk in &chunks {
        events.extend(writer.push(chunk));
    }
    events.extend(writer.finish());
    assert!(writer.finish().is_empty(), "the end is written once");
    let events: Vec<(&str, Value)> = events.into_iter().map(|(n, d)| (n, d.to_value())).collect();
    let names: Vec<&str> = events.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.first(), Some(&"response.created"));
    assert_eq!(names.last(), Some(&"response.completed"));
    for (i, (name, data)) in events.iter().enumerate() {
        assert_eq!(data["type"], *name);
        assert_eq!(data["sequence_number"], i);
    }
    let done = &events.last().unwrap().1["response"];
    let calls: Vec<&Value> = done["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "function_call")
        .collect();
    assert_eq!(calls.len(), 2, "{done}");
    for call in calls {
        let arguments: String = events
            .iter()
            .filter(|(n, d)| *n == "response.function_call_arguments.delta" && d["item_id"] == call["id"])
            .map(|(_, d)| d["delta"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(call["arguments"], arguments);
        assert!(serde_json::from_str::<Value>(&arguments).is_ok(), "{arguments}");
        assert_eq!(call["status"], "completed");
        assert!(call["call_id"].as_str().unwrap().starts_with("call_"), "{call}");
    }
    // Every added item is done, at the same output index.
    let added: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| *n == "response.output_item.added")
        .map(|(_, d)| &d["output_index"])
        .collect();
    let finished: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| *n == "response.output_item.done")
        .map(|(_, d)| &d["output_index"])
        .collect();
    assert_eq!(added, finished);

    let whole: o::ChatResponse = serde_json::from_value(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4.1",
        "choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "cut"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    }))
    .unwrap();
    let resp = serde_json::to_value(chat_to_responses_response(&whole)).unwrap();
    assert_eq!(resp["id"], "resp_1");
    assert_eq!(resp["status"], "incomplete");
    assert_eq!(resp["incomplete_details"]["reason"], "max_output_tokens");
    assert_eq!(resp["output"][0]["content"][0]["text"], "cut");
    assert_eq!(resp["usage"]["total_tokens"], 7);
}

/// Bedrock and Vertex follow the public Messages API: Claude Code's system
/// turns are folded, the conversation stays valid and nothing else changes.
#[test]
fn claude_code_system_turns_fold_for_bedrock_and_vertex() {
    for name in [
        "claude-code-2.1.332-first-turn.json",
        "claude-code-2.1.332-tool-result-turn.json",
    ] {
        let body = captured(name);
        let mut req: a::MessagesRequest = serde_json::from_value(body.clone()).unwrap();
        let before = req.clone();
        assert!(fold_system_turns(&mut req), "{name}");
        assert!(req.messages.iter().all(|m| m.role != a::Role::System), "{name}");
        assert_anthropic_shape(&req);
        let system_turn = before
            .messages
            .iter()
            .find(|m| m.role == a::Role::System)
            .unwrap();
        let text = match &system_turn.content {
            a::Content::Text(t) => t.clone(),
            a::Content::Blocks(b) => b
                .iter()
                .filter_map(|b| match b {
                    a::ContentBlock::Text { text, .. } => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n\n"),
        };
        // Claude Code's system turn follows its first user turn: it ends that turn.
        let first = req.messages[0].content.to_blocks();
        assert_eq!(
            first.last(),
            Some(&a::ContentBlock::text(format!("<system>\n{text}\n</system>"))),
            "{name}"
        );
        assert_eq!(
            req.system, before.system,
            "{name}: the top-level prompt is untouched"
        );
        assert_eq!(
            (req.tools.clone(), req.extra.clone()),
            (before.tools.clone(), before.extra.clone())
        );
        let mut again = req.clone();
        assert!(!fold_system_turns(&mut again), "nothing left to fold");
    }
    // A leading system turn joins the top-level prompt.
    let mut req: a::MessagesRequest = serde_json::from_value(json!({
        "model": "m", "max_tokens": 10, "system": "Top.",
        "messages": [{"role": "system", "content": "Lead."}, {"role": "user", "content": "hi"}]
    }))
    .unwrap();
    assert!(fold_system_turns(&mut req));
    assert_eq!(
        serde_json::to_value(&req.system).unwrap(),
        json!([{"type": "text", "text": "Top."}, {"type": "text", "text": "Lead."}])
    );
    assert_eq!(
        serde_json::to_value(&req.messages).unwrap(),
        json!([{"role": "user", "content": "hi"}])
    );
}

/// The events are structs serialized straight into the stream; their bytes
/// are what the `Value`s they replaced wrote (a map writes its keys in name
/// order), so no client sees a difference. Every kind of event is checked.
#[test]
fn responses_events_serialize_exactly_as_the_json_values_they_replaced() {
    let text_chunk = |content: &str| -> o::ChatChunk {
        serde_json::from_value(json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 7, "model": "gpt-4.1",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]
        }))
        .unwrap()
    };
    let call_chunk: o::ChatChunk = serde_json::from_value(json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 7, "model": "gpt-4.1",
        "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
            "function": {"name": "shell", "arguments": "{\"cmd\": \"ls \\\"a b\\\"\"}"}}]},
            "finish_reason": "length"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7,
            "prompt_tokens_details": {"cached_tokens": 2}, "completion_tokens_details": {"reasoning_tokens": 1}}
    }))
    .unwrap();
    let stream = |end: &dyn Fn(&mut ChunksToResponses) -> Vec<crate::gateway::translate::ResponsesEvent>| {
        let mut writer = ChunksToResponses::new("gpt-4.1");
        let mut events = writer.push(&text_chunk("Hi \"there\"\n"));
        events.extend(writer.push(&text_chunk("é")));
        events.extend(writer.push(&call_chunk));
        events.extend(end(&mut writer));
        events
    };
    let mut events = stream(&|w| w.finish());
    events.extend(stream(&|w| vec![w.failed("server_error", "broke \"here\"")]));
    let mut kinds: Vec<&str> = events.iter().map(|(kind, _)| *kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "response.content_part.added",
            "response.content_part.done",
            "response.created",
            "response.failed",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.in_progress",
            "response.incomplete",
            "response.output_item.added",
            "response.output_item.done",
            "response.output_text.delta",
            "response.output_text.done",
        ]
    );
    for (kind, data) in &events {
        let value = data.to_value();
        assert_eq!(value["type"], *kind);
        assert_eq!(serde_json::to_string(data).unwrap(), value.to_string(), "{kind}");
    }
    let text_delta = events
        .iter()
        .find(|(k, _)| *k == "response.output_text.delta")
        .unwrap();
    assert_eq!(
        text_delta.1.to_value(),
        json!({"item_id": "msg_1_0", "output_index": 0, "content_index": 0, "delta": "Hi \"there\"\n",
               "logprobs": [], "type": "response.output_text.delta", "sequence_number": 4})
    );
    let incomplete = &events
        .iter()
        .find(|(k, _)| *k == "response.incomplete")
        .unwrap()
        .1
        .to_value()["response"];
    assert_eq!(
        incomplete["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    assert_eq!(
        incomplete["usage"],
        json!({"input_tokens": 3, "input_tokens_details": {"cached_tokens": 2}, "output_tokens": 4,
               "output_tokens_details": {"reasoning_tokens": 1}, "total_tokens": 7})
    );
    let whole: o::ChatResponse = serde_json::from_value(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4.1",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "ok",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    }))
    .unwrap();
    let whole = chat_to_responses_response(&whole);
    let value = serde_json::to_value(&whole).unwrap();
    assert_eq!(serde_json::to_string(&whole).unwrap(), value.to_string());
    assert_eq!(value["output"][1]["type"], "function_call");
}
