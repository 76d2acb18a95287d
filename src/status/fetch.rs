//! Shared fetching for status pages: conditional requests, size and time caps.

use crate::config::StatusPageConfig;
use std::time::Duration;

use super::PageFetch;

/// Polls status pages and remembers validators (ETag / Last-Modified) per URL.
pub struct StatusPoller {
    #[allow(dead_code)]
    client: reqwest::Client,
}

impl StatusPoller {
    pub fn new(client: reqwest::Client) -> Self {
        StatusPoller { client }
    }

    /// Fetches and parses one page. Never fails: trouble is a [`PageFetch`] variant.
    pub async fn poll(&self, _page: &StatusPageConfig, _timeout: Duration) -> PageFetch {
        PageFetch::Unreadable {
            reason: "not implemented".into(),
        }
    }
}
