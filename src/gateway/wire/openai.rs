//! OpenAI Chat Completions types.
