//! Cloud credentials and request signing, below everything that calls a cloud
//! provider (the probes, the gateway, the inference checks).
//!
//! [`aws`]: AWS access keys (environment, shared credentials file), the region,
//! and the Bedrock credential (API key or access keys); [`sigv4`]: signing a
//! built request with them. [`google`]: where Vertex requests go (project,
//! location, endpoint) and the access tokens a command prints, cached.
//!
//! Left out on purpose: what goes *in* a request (`upstream` builds bodies and
//! URLs per provider) and which key the user stored (`secrets`, `credentials`).
//! Every environment read goes through the caller's lookup function, so tests
//! never touch the process environment.

pub(crate) mod aws;
pub(crate) mod google;
mod sigv4;

/// A variable's value, trimmed; `None` when unset or blank.
fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}
