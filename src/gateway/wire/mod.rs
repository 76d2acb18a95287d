//! Serde types of the two wire protocols the gateway speaks: the Anthropic
//! Messages API and the OpenAI Chat Completions API.
//!
//! The types carry bodies; they do not validate them. Upstream providers
//! validate, and a gateway that rejected what the provider would accept (an
//! unknown field, a block type added last month) would be the weakest link, so
//! every struct keeps unknown fields in an `extra` map and every tagged enum
//! has an `Other` variant. Translation between the two lives in
//! [`crate::gateway::translate`].

pub mod anthropic;
pub mod openai;

/// Which wire protocol a body is written in. Used where a function must know
/// the protocol of the client it answers, e.g.
/// [`crate::gateway::translate::translate_error_body`].
pub use crate::upstream::Protocol;
