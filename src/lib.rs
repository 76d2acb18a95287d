//! Switchboard's engine: watches LLM providers (status pages and active probes),
//! decides their health, and publishes what it finds.
//!
//! This crate knows nothing of Tauri or any GUI: the desktop shell, the web
//! server and the CLI are clients of it.
//!
//! The public surface is what those clients need: the CLI (`src/main.rs`), the
//! desktop shell (`src-tauri/`), `examples/`, the `fuzz/` targets and the
//! integration tests (`tests/`). Everything else is `pub(crate)`, and
//! `unreachable_pub` keeps it that way.

#![warn(unreachable_pub)]

/// `--version` of both binaries: the Cargo.toml version and the commit built
/// (from build.rs; "unknown" for a build outside git).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("SWITCHBOARD_GIT_COMMIT"),
    ")"
);

mod agent_errors;
pub mod app;
mod catalog;
pub mod check;
mod cloud;
pub mod config;
pub mod config_edit;
mod config_watch;
pub mod credentials;
pub mod doctor;
pub mod engine;
pub mod gateway;
pub mod health;
pub mod http;
pub mod metrics;
pub mod model;
pub mod net;
pub mod notify;
pub mod passive;
pub mod probe;
mod routing;
pub mod secrets;
pub mod serve;
pub mod server;
pub mod session_bus;
pub mod status;
pub mod store;
pub mod text;
pub mod traffic;
pub mod tray;
mod upstream;
