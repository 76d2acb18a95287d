//! Incremental Server-Sent Events decoding and encoding.
