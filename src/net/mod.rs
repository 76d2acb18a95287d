//! Plumbing shared by Switchboard's two HTTP servers (the dashboard and the
//! gateway): opening the listening socket and the `Host` policy. Neither
//! server imports the other; both import this.
//!
//! Left out on purpose: routes, middleware and everything a request carries
//! (`server`, `gateway`); the outgoing HTTP client (`http`).

mod host;
mod listen;

pub use host::HostPolicy;
pub use listen::{bind, ServerError};
