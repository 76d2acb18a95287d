//! Status-page adapters: fetch a provider's official page and normalise it to
//! [`PageStatus`].
//!
//! Each format has one file with the same shape: feed URLs for a page, and a pure
//! `parse(bodies) -> PageStatus`. Fetching (conditional requests, size and time
//! caps) is shared in `fetch`. This module never decides a provider's overall
//! health; it only says what the page says (`health::assess` combines).

use bytes::Bytes;
use url::Url;

use crate::model::{NetFailure, PageStatus, State};

pub mod fetch;

pub use fetch::StatusPoller;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("the page answered with HTML, not its feed (bot challenge?)")]
    Html,
    #[error("empty body")]
    Empty,
    #[error("not the expected feed: {0}")]
    Shape(String),
}

/// One status-page format.
pub trait StatusAdapter: Send + Sync {
    /// The feed URLs to fetch for a page configured as `page` (a base URL or a feed URL).
    fn feed_urls(&self, page: &Url) -> Vec<Url>;
    /// Pure: turns the bodies of `feed_urls` (same order) into a page status.
    fn parse(&self, bodies: &[Bytes]) -> Result<PageStatus, ParseError>;
}

/// What polling one status page produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageFetch {
    /// The feed was read.
    Read(PageStatus),
    /// The server answered, but not with a feed (HTML, challenge, 403/405, bad JSON):
    /// the page is `unknown`, never an outage.
    Unreadable { reason: String },
    /// No HTTP response at all.
    Unreachable { failure: NetFailure, message: String },
}

impl PageFetch {
    /// The page as shown in reports (`status_page` in JSON).
    pub fn page(&self) -> PageStatus {
        match self {
            PageFetch::Read(p) => p.clone(),
            PageFetch::Unreadable { reason } => PageStatus::unknown(reason.clone()),
            PageFetch::Unreachable { failure, message } => {
                PageStatus::unknown(format!("status page {}: {message}", failure.describe()))
            }
        }
    }
}

/// What a page means for one provider, given the components configured for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageVerdict {
    pub state: State,
    /// The page's own words when it reports trouble ("Elevated error rates on Claude API").
    pub cause: Option<String>,
}
