//! Serde types of the two wire protocols.

pub mod anthropic;
pub mod openai;
