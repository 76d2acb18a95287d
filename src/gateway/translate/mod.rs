//! Translation between the gateway's protocols: Anthropic Messages <->
//! OpenAI Chat Completions (requests, responses, streams and error bodies, in
//! both directions), and OpenAI Responses -> Chat Completions with the
//! answers back (see [`responses`](self::responses_to_chat_request)).
//!
//! Everything here is a pure function of its input (the only outside read is
//! the clock, for OpenAI's `created` field), so the gateway can translate
//! without I/O and tests can check the translation exhaustively.
//!
//! What is translated, dropped (and by which rule) or refused, once, for every
//! direction. A refused request is never lost: the gateway still sends it,
//! unchanged, to every provider that speaks the client's own protocol, and
//! says why the others were skipped. A drop always leaves a conversation the
//! target API accepts.
//!
//! Anthropic Messages -> OpenAI Chat Completions:
//!
//! | Anthropic | OpenAI |
//! |---|---|
//! | `system` (string or blocks) | one leading `system` message, blocks joined by a blank line |
//! | `system` turns inside `messages` (Claude Code 2.1) | `system` messages in place; one that stands between tool calls and their results waits until after the `tool` messages, which OpenAI wants right after the calls |
//! | per-turn fields (`output_config` on a system turn) | dropped |
//! | `text`; `image` (base64, URL) | text; `image_url` parts (`data:` URL for base64) |
//! | `document`: `text` source; `content` source; base64 PDF | text part (title first); text part; `file` part with a data URL |
//! | `document` from a URL or the Files API, `container_upload`, other unknown user blocks | refused: input OpenAI cannot receive |
//! | `search_result` | text part, with its source |
//! | `tool_use` / `tool_result` | `tool_calls` / `tool` messages right after the call; `is_error` dropped (error texts say so), images in a result move to a following user message (tool messages carry text only) |
//! | `thinking`, `redacted_thinking` | dropped: Chat Completions takes no reasoning input |
//! | server tools (`type` such as `web_search_20250305`), `server_tool_use`, `*_tool_result` blocks | dropped: they run at Anthropic only |
//! | `cache_control` anywhere | dropped: OpenAI caches on its own |
//! | `tool_choice` auto / any / tool / none; `disable_parallel_tool_use` | `auto` / `required` / named function / `none`; `parallel_tool_calls: false` |
//! | `max_tokens` | `max_completion_tokens` (capped by the gateway per upstream kind) |
//! | `stop_sequences`, `temperature`, `top_p` | `stop`, as is, as is |
//! | `stream` | `stream` + `stream_options.include_usage` (usage for `message_delta`) |
//! | `output_config.format` / `output_format` (JSON schema) | `response_format` `json_schema` |
//! | `metadata.user_id` | `user` when at most 64 characters, else dropped |
//! | `top_k`, `thinking`, `context_management`, `output_config.effort`, the `anthropic-beta` header | dropped: no equivalent |
//!
//! OpenAI Chat Completions -> Anthropic Messages:
//!
//! | OpenAI | Anthropic |
//! |---|---|
//! | leading `system` / `developer` messages | `system` (blocks when several) |
//! | later `system` / `developer` messages | a `<system>…</system>` text block at the end of that user turn, after its `tool_result` blocks (Anthropic's public API has no mid-conversation system turn, and tool results must open a user turn) |
//! | `user` text, `image_url` (data URL -> base64, else URL), `file` with `file_data` | text, `image`, `document` blocks |
//! | `file` by `file_id`; `input_audio`; audio output (`modalities`, `audio`) | refused |
//! | assistant `tool_calls`; `tool` messages | `tool_use` blocks (non-object arguments kept under [`RAW_ARGUMENTS_KEY`]); `tool_result` blocks; consecutive same-role turns merged |
//! | `function` tools; `tool_choice`; `parallel_tool_calls: false` | tools; the matching `tool_choice`; `disable_parallel_tool_use` |
//! | `custom` (free-form) tools | dropped |
//! | `max_completion_tokens`, else `max_tokens` | `max_tokens` ([`DEFAULT_MAX_TOKENS`] when neither) |
//! | `temperature`; `stop`; `user` | clamped to 0..=1; `stop_sequences`; `metadata.user_id` |
//! | `response_format` `json_object` / `json_schema` | an instruction (with the schema) at the end of `system`: every Claude model follows it, the structured-output beta is not on Bedrock and Vertex alike |
//! | `n > 1`; the legacy `function` role | refused: one answer per request; no tool-call id to keep |
//! | `stream_options`, `seed`, `logprobs`, penalties, `logit_bias`, `reasoning_effort`, `store`, `metadata`, `service_tier`, `prediction` | dropped |
//!
//! Anthropic Messages -> Bedrock and Vertex (same protocol, public API only):
//! Claude Code's `system` turns inside `messages` are folded by
//! [`fold_system_turns`] (leading ones into `system`, later ones as
//! `<system>` text at the end of their user turn); everything else goes as sent.
//!
//! OpenAI Responses -> Chat Completions (and from there as above): see
//! `responses.rs` (`instructions` and `developer` -> system, items -> messages,
//! `function_call(_output)` -> tool calls and tool messages, hosted tools and
//! `reasoning` dropped, `previous_response_id` refused: the gateway keeps no
//! state; OpenAI's own API gets the request unchanged).
//!
//! Answers: `thinking` blocks of an Anthropic answer are not sent to OpenAI
//! clients, and OpenAI-compatible servers' `reasoning_content` is not turned
//! into thinking blocks (an unsigned thinking block would be rejected if the
//! conversation went back to Anthropic). Ids: `chatcmpl-X` <-> `msg_X` (and
//! `resp_X` for Responses); tool-call ids are kept, except that characters
//! Anthropic rejects in ids (`[^A-Za-z0-9_-]`) become `_`. Usage: Anthropic
//! counts cached input apart (`cache_read_input_tokens`,
//! `cache_creation_input_tokens`), OpenAI inside `prompt_tokens` with
//! `prompt_tokens_details.cached_tokens`; see [`usage_to_openai`].

mod error;
mod request;
mod response;
mod responses;
mod stream;
// Fixtures with exact expectations and round-trip properties (was the
// integration test tests/gateway_translate.rs; it tests internals).
#[cfg(test)]
mod tests;

pub use error::{
    anthropic_error_body, error_types_for_status, openai_error_body, openai_error_code_for_status,
    status_for_anthropic_error, translate_error_body,
};
pub use request::{anthropic_to_openai_request, fold_system_turns, openai_to_anthropic_request};
pub use response::{
    anthropic_id_to_openai, anthropic_to_openai_response, finish_reason_from_anthropic,
    openai_id_to_anthropic, openai_to_anthropic_response, parse_tool_arguments, stop_reason_from_openai,
    usage_to_anthropic, usage_to_openai,
};
pub use responses::{
    chat_to_responses_response, responses_to_chat_request, ChunksToResponses, Delta, EventData,
    ResponsesEvent,
};
pub use stream::{ChunksToEvents, EventsToChunks};

/// `max_tokens` of an Anthropic request translated from an OpenAI request
/// that sets neither `max_completion_tokens` nor `max_tokens`. Anthropic
/// requires the field; 4096 is the largest value every Claude model accepts.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Key under which [`parse_tool_arguments`] keeps OpenAI tool-call arguments
/// that are not a JSON object (Anthropic's `input` must be one).
pub const RAW_ARGUMENTS_KEY: &str = "_raw_arguments";

/// A request that cannot be expressed in the other protocol. The gateway
/// answers it with a 400 in the client's protocol: retrying elsewhere would
/// fail the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// The request uses a feature the target protocol lacks.
    #[error("{feature} cannot be translated to the {target} API")]
    Unsupported {
        /// What was asked for, e.g. `n = 3` or `a document block`.
        feature: String,
        /// `Anthropic Messages` or `OpenAI Chat Completions`.
        target: &'static str,
    },
    /// The request is malformed in a way that blocks translation.
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// Name of the Anthropic API in [`TranslateError::Unsupported`].
const ANTHROPIC_API: &str = "Anthropic Messages";
/// Name of the OpenAI API in [`TranslateError::Unsupported`].
const OPENAI_API: &str = "OpenAI Chat Completions";

/// Bytes of request JSON per token in [`estimate_tokens`]: English text and
/// code run 3.5-4.5 bytes a token in Claude's and GPT's tokenizers; JSON
/// punctuation makes the body slightly larger than its text.
const BYTES_PER_TOKEN: usize = 4;

/// A rough count of the tokens of a request body, for `count_tokens` when no
/// provider that can count is reachable: a client sizing its context needs a
/// number of the right magnitude more than an error.
pub(crate) fn estimate_tokens(body: &[u8]) -> u64 {
    (body.len().div_ceil(BYTES_PER_TOKEN)) as u64
}
