//! Anthropic <-> OpenAI translation.
