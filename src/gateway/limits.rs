//! Caps on what the gateway reads from an upstream into memory at once: a
//! whole non-streamed answer, and a `count_tokens` answer. Streams have their
//! own caps in the decoders (`sse::MAX_LINE_BYTES`, Bedrock's frame limit).
//!
//! An upstream that sends more is broken or hostile; reading it whole would
//! let one answer take the process's memory. Left out: request bodies
//! (`handler::read_body`'s cap) and error bodies (`upstream::read_failure`).

use bytes::{Bytes, BytesMut};

/// Largest non-streamed answer read: a 128k-token completion with tool calls
/// is a few MiB of JSON, so 32 MiB leaves room without letting one answer
/// exhaust memory.
pub(crate) const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// Largest `count_tokens` answer read: the real one is `{"input_tokens": N}`.
pub(crate) const MAX_COUNT_TOKENS_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("{0}")]
    Transport(#[from] super::client::CallError),
    #[error("the upstream's answer is larger than the gateway's limit of {} KiB", .cap / 1024)]
    TooLarge { cap: usize },
}

/// Reads `response` whole, refusing (and dropping the connection) as soon as
/// it announces or sends more than `cap` bytes.
pub(crate) async fn read_capped(
    mut response: super::client::UpstreamResponse,
    cap: usize,
) -> Result<Bytes, ReadError> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Err(ReadError::TooLarge { cap });
    }
    // The usual answer is one chunk: returned as it came, not copied.
    let Some(first) = response.chunk().await? else {
        return Ok(Bytes::new());
    };
    if first.len() > cap {
        return Err(ReadError::TooLarge { cap });
    }
    let Some(second) = response.chunk().await? else {
        return Ok(first);
    };
    let mut body = BytesMut::with_capacity(first.len() + second.len());
    body.extend_from_slice(&first);
    if body.len() + second.len() > cap {
        return Err(ReadError::TooLarge { cap });
    }
    body.extend_from_slice(&second);
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Err(ReadError::TooLarge { cap });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
