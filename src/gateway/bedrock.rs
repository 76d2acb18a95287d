//! Amazon Bedrock runtime: SigV4 or API-key requests and event-stream decoding.
