//! Google Vertex AI: rawPredict / streamRawPredict with a command-issued access token.
