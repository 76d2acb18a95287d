//! One integration-test binary (faster to link than one per file). Every network
//! peer is a fake started on 127.0.0.1 by the test itself.

// Shared fakes and helpers.
mod common;

// Status-page adapters against realistic payloads and misbehaving servers.
mod status;
// Probe classification for every provider kind and every DESIGN table row.
mod probe;
// Engine timelines on paused time (scheduling, damping, offline, sleep).
mod engine;
// The CLI end to end (seed scenario, exit codes, prefer, providers, key).
mod cli;
// History store contract (SQLite and in-memory), uptime, crash safety.
mod store;
// The local HTTP server: API, SSE, security, metrics.
mod server;
// Keyring round trip against a real Secret Service (skipped without one).
mod keyring;
// Desktop notifications: the notifier in process, and `watch --notify` against
// a fake notification server (python3-dbusmock) on a private bus.
mod notify;
// The failover gateway in process: routing, failover, translation, streams,
// passive health signals, Bedrock and Vertex, against protocol-faithful fakes.
mod gateway;
// Anthropic <-> OpenAI translation and SSE codec: fixtures and round-trip properties.
mod gateway_translate;
// Claude on Bedrock and Vertex: SigV4, event streams, token commands, probes.
mod gateway_cloud;
// Passive signals: Claude Code and Codex session logs (real captured lines),
// the follower, and `watch` turning a key-less provider to outage from them.
mod passive;
// Issue 16's security review: one regression test per hole (gateway vs web pages,
// remote dashboard, engine death, unbounded buffers, history growth, the small ones).
mod hardening;
// `switchboard doctor`, one fault at a time: config, ports, providers (DNS,
// refused, key, clock skew), tray host, notification server, keyring.
mod doctor;
