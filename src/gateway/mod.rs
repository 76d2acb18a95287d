//! The local failover gateway: one endpoint that speaks the Anthropic Messages
//! and OpenAI Chat Completions protocols and sends each request to the
//! preferred provider, or to the next healthy one in `fallback` order when the
//! preferred is in outage or fails before the client saw a byte.
//!
//! The gateway decides nothing about health on its own: it reads the engine's
//! report and reports every failed upstream call back as a passive signal.

pub mod bedrock;
pub mod sse;
pub mod translate;
pub mod vertex;
pub mod wire;
