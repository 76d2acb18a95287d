//! Anthropic Messages <-> OpenAI Chat Completions translation: requests,
//! responses, streams and error bodies, in both directions.
//!
//! Everything here is a pure function of its input (the only outside read is
//! the clock, for OpenAI's `created` field), so the gateway can translate
//! without I/O and tests can check the translation exhaustively.
//!
//! What is translated and what is lost, once, for every direction:
//! - System prompt: Anthropic `system` (string or blocks) becomes one leading
//!   `system` message, blocks joined by a blank line; OpenAI `system` and
//!   `developer` messages, wherever they stand, become Anthropic system blocks
//!   (Anthropic has no mid-conversation system turn). `cache_control` is
//!   dropped: OpenAI caches on its own.
//! - Tool results: Anthropic puts them in user messages as `tool_result`
//!   blocks, OpenAI in `tool` messages that must directly follow the assistant
//!   message that made the calls. So a user message becomes its `tool`
//!   messages first, then one user message with the remaining text and
//!   images; the reverse merges consecutive same-role messages, because
//!   Anthropic wants user and assistant to alternate. `is_error` has no
//!   OpenAI field and is dropped (tool error texts say so themselves). Images
//!   inside a tool result move to the following user message: OpenAI tool
//!   messages carry text only.
//! - Thinking: `thinking` and `redacted_thinking` blocks are dropped towards
//!   OpenAI (Chat Completions takes no reasoning input), and OpenAI-compatible
//!   servers' `reasoning_content` is not turned into thinking blocks: an
//!   unsigned thinking block would be rejected if the conversation later went
//!   back to Anthropic.
//! - Server tools (Anthropic tools with a `type` such as
//!   `web_search_20250305`) are dropped towards OpenAI, as are the
//!   `server_tool_use` / `web_search_tool_result` blocks they leave in
//!   assistant turns. Unknown blocks in user turns (`document`, ...) are an
//!   error rather than silently lost input.
//! - Ids: `chatcmpl-X` <-> `msg_X`; tool-call ids are kept, except that
//!   characters Anthropic rejects in ids (`[^A-Za-z0-9_-]`) become `_`.
//! - Usage: Anthropic counts cached input apart (`cache_read_input_tokens`,
//!   `cache_creation_input_tokens`), OpenAI inside `prompt_tokens` with
//!   `prompt_tokens_details.cached_tokens`; see [`usage_to_openai`].

mod error;
mod request;
mod response;
mod responses;
mod stream;

pub use error::{
    anthropic_error_body, error_types_for_status, openai_error_body, openai_error_code_for_status,
    status_for_anthropic_error, translate_error_body,
};
pub use request::{anthropic_to_openai_request, openai_to_anthropic_request};
pub use response::{
    anthropic_id_to_openai, anthropic_to_openai_response, finish_reason_from_anthropic,
    openai_id_to_anthropic, openai_to_anthropic_response, parse_tool_arguments, stop_reason_from_openai,
    usage_to_anthropic, usage_to_openai,
};
pub use responses::{
    chat_to_responses_response, responses_to_chat_request, ChunksToResponses, ResponsesEvent,
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
pub fn estimate_tokens(body: &[u8]) -> u64 {
    (body.len().div_ceil(BYTES_PER_TOKEN)) as u64
}
