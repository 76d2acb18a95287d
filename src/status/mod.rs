//! Status-page adapters: fetch a provider's official page and normalise it to
//! [`PageStatus`].
//!
//! Each format has one file with the same shape: feed URLs for a page, and a pure
//! `parse(bodies) -> PageStatus` ([`StatusAdapter`]):
//!
//! - `statuspage`: Atlassian Statuspage v2 (`/api/v2/summary.json`), e.g. Claude;
//! - `incidentio`: incident.io pages (OpenAI), its Statuspage shim merged with its widget API;
//! - `google_cloud`: Google Cloud's (and Workspace's) `incidents.json` history;
//! - `aws_health`: AWS Health's public current events (UTF-16 JSON);
//! - `detect`: works out which of those a URL serves.
//!
//! Fetching (conditional requests, size and time caps, format detection cache) is
//! shared in `fetch`. `verdict` reduces a page to what it means for one provider's
//! configured components and models (`models` reads model names in titles). This module never decides a provider's overall health;
//! it only says what the page says (`health` combines it with the probes).

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use url::Url;

use crate::model::StatusFormat;
use crate::model::{Component, ComponentStatus, Indicator, NetFailure, PageStatus, State};

pub(crate) mod aws_health;
pub mod bounds;
pub mod detect;
pub(crate) mod fetch;
pub mod google_cloud;
pub mod incidentio;
pub(crate) mod models;
pub mod statuspage;
pub(crate) mod verdict;

pub use fetch::{StatusPoller, MAX_FEED_BYTES};
pub use verdict::{component_matches, page_verdict, page_verdict_for, provider_verdict, Interest};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("the page answered with HTML, not its feed (bot challenge?)")]
    Html,
    #[error("empty body")]
    Empty,
    /// The body is not JSON at all (truncated, garbage, bad encoding).
    #[error("malformed JSON: {0}")]
    Malformed(String),
    #[error("not the expected feed: {0}")]
    Shape(String),
}

/// One status-page format.
pub trait StatusAdapter: Send + Sync {
    /// The feed URLs to fetch for a page configured as `page` (a base URL or a feed URL).
    fn feed_urls(&self, page: &Url) -> Vec<Url>;
    /// Pure: turns the bodies of `feed_urls` (same order) into a page status.
    ///
    /// A feed that could not be fetched is passed as an empty body; adapters with
    /// several feeds use what they have, adapters with one return [`ParseError::Empty`].
    fn parse(&self, bodies: &[Bytes]) -> Result<PageStatus, ParseError>;
    /// The largest body accepted from one feed of this format.
    fn max_feed_bytes(&self) -> usize {
        MAX_FEED_BYTES
    }
}

/// The adapter for a configured format; `None` for `none` and `detect` (which is
/// resolved to a concrete format by the poller first).
pub fn adapter(format: StatusFormat, page: &Url) -> Option<Box<dyn StatusAdapter>> {
    match format {
        StatusFormat::Statuspage => Some(Box::new(statuspage::Statuspage)),
        StatusFormat::Incidentio => Some(Box::new(incidentio::IncidentIo)),
        StatusFormat::GoogleCloud => Some(Box::new(google_cloud::GoogleCloud::for_page(page))),
        StatusFormat::AwsHealth => Some(Box::new(aws_health::AwsHealth)),
        StatusFormat::None | StatusFormat::Detect => None,
    }
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

// ---------------------------------------------------------------------------
// Helpers shared by the adapters.

/// The byte-order mark some feeds put before UTF-8 JSON (AWS's service catalog does).
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes a JSON feed body into `T`, with reasons a person can read.
///
/// Empty bodies, HTML (a challenge page served with a JSON content type) and
/// syntax errors are told apart from well-formed JSON of the wrong shape.
pub(crate) fn decode_json<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ParseError> {
    let body = body.strip_prefix(UTF8_BOM).unwrap_or(body);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        None => return Err(ParseError::Empty),
        Some(b'<') => return Err(ParseError::Html),
        Some(_) => {}
    }
    serde_json::from_slice(body).map_err(|e| {
        // serde_json reports some type mismatches (an array where an enum word
        // belongs) as syntax errors, so syntax is checked on its own.
        let well_formed = e.is_data() || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
        if well_formed {
            ParseError::Shape(format!("{what}: {e}"))
        } else {
            ParseError::Malformed(e.to_string())
        }
    })
}

/// Most open entries kept from a history feed (Google Cloud, AWS Health). Real
/// feeds have a handful open at once; a hostile or broken one (a million `{}`,
/// each open for lack of an end time) would otherwise hold hundreds of MB while
/// parsing. The page is cut further by `bounds` afterwards.
pub(crate) const MAX_OPEN_ENTRIES: usize = 1000;

/// An entry of a history feed that is either still open or over.
pub(crate) trait FeedEntry {
    fn is_open(&self) -> bool;
}

/// A feed's array of entries, keeping only the open ones (at most
/// [`MAX_OPEN_ENTRIES`]) while it is read: closed history is dropped entry by
/// entry instead of being collected first, so memory follows what is kept.
pub(crate) struct OpenEntries<T>(pub(crate) Vec<T>);

impl<'de, T: serde::Deserialize<'de> + FeedEntry> serde::Deserialize<'de> for OpenEntries<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de> + FeedEntry> serde::de::Visitor<'de> for Entries<T> {
            type Value = OpenEntries<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of entries")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut kept = Vec::new();
                while let Some(entry) = seq.next_element::<T>()? {
                    if kept.len() < MAX_OPEN_ENTRIES && entry.is_open() {
                        kept.push(entry);
                    }
                }
                Ok(OpenEntries(kept))
            }
        }
        d.deserialize_seq(Entries(std::marker::PhantomData))
    }
}

/// Parses an RFC 3339 timestamp ("2025-03-04T10:00:00.000Z", "…+00:00"); `None`
/// when absent or unreadable, because a bad date must not hide an incident.
pub(crate) fn parse_time(raw: Option<&str>) -> Option<DateTime<Utc>> {
    let raw = raw?.trim();
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub(crate) use crate::http::join_path;

/// Components synthesised from incident-style feeds (AWS, Google): one per
/// service or product, holding the worst status any open event gives it.
#[derive(Default)]
pub(crate) struct ComponentSet {
    components: Vec<Component>,
    index: std::collections::HashMap<String, usize>,
}

impl ComponentSet {
    /// Adds `id` with `status`, or raises its status when this one is worse.
    pub(crate) fn raise(&mut self, id: &str, name: &str, status: ComponentStatus) {
        match self.index.get(id) {
            Some(&i) => {
                if component_severity(status) > component_severity(self.components[i].status) {
                    self.components[i].status = status;
                }
            }
            None => {
                self.index.insert(id.to_string(), self.components.len());
                self.components.push(Component {
                    id: Some(id.to_string()),
                    name: name.to_string(),
                    status,
                    group: None,
                });
            }
        }
    }

    pub(crate) fn into_vec(self) -> Vec<Component> {
        self.components
    }
}

/// Whether the last path segment of `url` names a file (`summary.json`, `incidents.json`).
pub(crate) fn names_json_file(url: &Url) -> bool {
    url.path()
        .rsplit('/')
        .next()
        .is_some_and(|last| last.to_ascii_lowercase().ends_with(".json"))
}

/// How bad a component status is, for "worst of" decisions that must also order
/// statuses mapping to the same [`State`] (a partial outage is worse than slowness).
pub(crate) fn component_severity(s: ComponentStatus) -> u8 {
    match s {
        ComponentStatus::Operational => 0,
        ComponentStatus::Unknown => 1,
        ComponentStatus::UnderMaintenance => 2,
        ComponentStatus::DegradedPerformance => 3,
        ComponentStatus::PartialOutage => 4,
        ComponentStatus::MajorOutage | ComponentStatus::FullOutage => 5,
    }
}

/// How bad a page indicator is (for merging two views of one page).
pub(crate) fn indicator_severity(i: Indicator) -> u8 {
    match i {
        Indicator::Unknown => 0,
        Indicator::None => 1,
        Indicator::Maintenance => 2,
        Indicator::Minor => 3,
        Indicator::Major => 4,
        Indicator::Critical => 5,
    }
}

/// Statuspage's own description for an indicator, for formats that have none.
pub(crate) fn indicator_description(i: Indicator) -> &'static str {
    match i {
        Indicator::None => "All Systems Operational",
        Indicator::Minor => "Minor Service Outage",
        Indicator::Major => "Partial System Outage",
        Indicator::Critical => "Major System Outage",
        Indicator::Maintenance => "Service Under Maintenance",
        Indicator::Unknown => "Status unknown",
    }
}

/// Status words that mean an incident or maintenance is over.
pub(crate) fn is_closed_status(status: &str) -> bool {
    matches!(
        status.to_ascii_lowercase().as_str(),
        "resolved" | "postmortem" | "completed" | "maintenance_complete" | "closed"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_json_tells_failures_apart() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            #[allow(dead_code)]
            a: u32,
        }
        assert_eq!(decode_json::<T>(b"  \n", "t").unwrap_err(), ParseError::Empty);
        assert_eq!(
            decode_json::<T>(b"\n<!DOCTYPE html>", "t").unwrap_err(),
            ParseError::Html
        );
        assert!(matches!(
            decode_json::<T>(b"{\"a\":", "t"),
            Err(ParseError::Malformed(_))
        ));
        let err = decode_json::<T>(b"{\"a\":\"x\"}", "thing").unwrap_err();
        match err {
            ParseError::Shape(m) => assert!(m.starts_with("thing: invalid type"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(decode_json::<T>(b"\xEF\xBB\xBF{\"a\":3}", "t").unwrap().a, 3);
        // serde_json calls this a syntax error; it is well-formed JSON of the wrong shape.
        let err = decode_json::<crate::model::Indicator>(b"[\"none\"]", "indicator").unwrap_err();
        assert!(matches!(err, ParseError::Shape(_)), "{err:?}");
    }

    #[test]
    fn join_path_keeps_prefix_and_drops_query() {
        let u = Url::parse("https://example.com/status/?x=1#top").unwrap();
        assert_eq!(
            join_path(&u, "/api/v2/summary.json").as_str(),
            "https://example.com/status/api/v2/summary.json"
        );
        let root = Url::parse("https://status.claude.com").unwrap();
        assert_eq!(
            join_path(&root, "api/v2/summary.json").as_str(),
            "https://status.claude.com/api/v2/summary.json"
        );
    }

    #[test]
    fn times_parse_with_offsets_or_not_at_all() {
        let t = parse_time(Some("2025-03-04T10:00:00.123-05:00")).unwrap();
        assert_eq!(t.to_rfc3339(), "2025-03-04T15:00:00.123+00:00");
        assert_eq!(parse_time(Some("yesterday")), None);
        assert_eq!(parse_time(None), None);
    }
}
