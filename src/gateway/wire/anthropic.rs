//! Anthropic Messages API types.
