//! `status_format = "detect"`: works out a page's format from its URL and the
//! first body it serves.
//!
//! Rules, in order:
//! 1. Which URL to try: a configured URL that names a feed (a `.json` file, a
//!    path under `/api/`, AWS's `currentevents`) is fetched as is; any other URL
//!    is a page base, and its Statuspage summary (`<base>/api/v2/summary.json`)
//!    is tried, because most provider pages are Statuspage or compatible.
//! 2. What the body is: a UTF-16 byte-order mark is AWS Health; an object with
//!    `page` and `status` is a Statuspage summary, and an incident.io one when
//!    its page or component ids are ULIDs (incident.io's ids; Statuspage's are
//!    12 lowercase characters); an object with `ongoing_incidents` is the
//!    incident.io widget; an array whose entries have `affected_products`,
//!    `external_desc` or `status_impact` is Google Cloud, one whose entries have
//!    `region_name`, `arn` or `service` is AWS Health.
//! 3. An empty array fits both Google and AWS: the URL decides, and the answer
//!    is not cached (`certain: false`) so that the next poll looks again.
//!
//! The poller caches certain answers per configured URL.

use serde_json::Value;
use url::Url;

use super::{aws_health, join_path, names_json_file, statuspage};
use crate::model::StatusFormat;

/// The result of looking at a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detection {
    pub(crate) format: StatusFormat,
    /// False when the body fits several formats and the URL broke the tie.
    pub(crate) certain: bool,
}

/// The URL to fetch first for a page whose format is unknown.
pub(crate) fn probe_url(page: &Url) -> Url {
    if names_feed(page) {
        page.clone()
    } else {
        join_path(page, statuspage::SUMMARY_PATH)
    }
}

/// Whether a configured URL already points at a feed rather than a page base.
fn names_feed(url: &Url) -> bool {
    let path = url.path();
    names_json_file(url) || path.contains("/api/") || path.trim_end_matches('/').ends_with("/currentevents")
}

/// The format of `body`, fetched from `page`'s [`probe_url`]; `None` when it is
/// none of the formats Switchboard reads.
pub fn detect(page: &Url, body: &[u8]) -> Option<Detection> {
    let certain = |format| {
        Some(Detection {
            format,
            certain: true,
        })
    };
    if body.starts_with(&[0xFE, 0xFF]) || body.starts_with(&[0xFF, 0xFE]) {
        return certain(StatusFormat::AwsHealth);
    }
    let text = aws_health::decode_text(body).ok()?;
    let value: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()?;
    match value {
        Value::Object(map) => {
            if map.contains_key("ongoing_incidents") {
                return certain(StatusFormat::Incidentio);
            }
            if !(map.contains_key("status") && map.contains_key("page")) {
                return None;
            }
            let page_id = map.get("page").and_then(|p| p.get("id")).and_then(Value::as_str);
            let component_ids = map
                .get("components")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("id").and_then(Value::as_str));
            if page_id.into_iter().chain(component_ids).any(is_ulid) {
                certain(StatusFormat::Incidentio)
            } else {
                certain(StatusFormat::Statuspage)
            }
        }
        Value::Array(items) => {
            let Some(first) = items.iter().find_map(Value::as_object) else {
                if !items.is_empty() {
                    return None;
                }
                let format = if page.path().ends_with("incidents.json") {
                    StatusFormat::GoogleCloud
                } else {
                    StatusFormat::AwsHealth
                };
                return Some(Detection {
                    format,
                    certain: false,
                });
            };
            let has = |k: &str| first.contains_key(k);
            if has("affected_products") || has("external_desc") || has("status_impact") || has("service_key")
            {
                certain(StatusFormat::GoogleCloud)
            } else if has("region_name") || has("arn") || has("event_log") || has("service") {
                certain(StatusFormat::AwsHealth)
            } else if has("service_name") {
                certain(StatusFormat::GoogleCloud)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A ULID: 26 characters of Crockford base32, the first at most `7`.
fn is_ulid(id: &str) -> bool {
    const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    id.len() == 26
        && id.starts_with(|c: char| ('0'..='7').contains(&c))
        && id.chars().all(|c| CROCKFORD.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn format(page: &str, body: &str) -> Option<StatusFormat> {
        detect(&url(page), body.as_bytes()).map(|d| d.format)
    }

    #[test]
    fn probe_url_keeps_feeds_and_completes_bases() {
        for feed in [
            "https://status.cloud.google.com/incidents.json",
            "https://health.aws.amazon.com/public/currentevents",
            "https://status.openai.com/api/v1/summary",
        ] {
            assert_eq!(probe_url(&url(feed)).as_str(), feed);
        }
        assert_eq!(
            probe_url(&url("https://status.claude.com")).as_str(),
            "https://status.claude.com/api/v2/summary.json"
        );
        assert_eq!(
            probe_url(&url("https://example.com/status")).as_str(),
            "https://example.com/status/api/v2/summary.json"
        );
    }

    #[test]
    fn bodies_are_recognised() {
        let base = "https://example.com";
        let sp = r#"{"page":{"id":"tymt9n04zgry"},"status":{"indicator":"none"},"components":[{"id":"rwppv331jlwc"}]}"#;
        assert_eq!(format(base, sp), Some(StatusFormat::Statuspage));
        let io = r#"{"page":{"id":"x"},"status":{"indicator":"none"},"components":[{"id":"01JMXBRMFE6N2NNT7DG6XZQ6PW"}]}"#;
        assert_eq!(format(base, io), Some(StatusFormat::Incidentio));
        assert_eq!(
            format(base, r#"{"page_title":"x","ongoing_incidents":[]}"#),
            Some(StatusFormat::Incidentio)
        );
        assert_eq!(
            format(base, r#"[{"id":"a","affected_products":[]}]"#),
            Some(StatusFormat::GoogleCloud)
        );
        assert_eq!(
            format(base, r#"[{"service_name":"Gmail"}]"#),
            Some(StatusFormat::GoogleCloud)
        );
        assert_eq!(
            format(
                base,
                r#"[{"service":"bedrock-us-east-1","service_name":"Amazon Bedrock"}]"#
            ),
            Some(StatusFormat::AwsHealth)
        );
        assert_eq!(format(base, r#"{"foo":1}"#), None);
        assert_eq!(format(base, "[1,2]"), None);
        assert_eq!(format(base, "<html>"), None);
        assert_eq!(format(base, "42"), None);
    }

    #[test]
    fn empty_arrays_lean_on_the_url_and_stay_uncertain() {
        let d = detect(&url("https://status.cloud.google.com/incidents.json"), b"[]").unwrap();
        assert_eq!(
            d,
            Detection {
                format: StatusFormat::GoogleCloud,
                certain: false
            }
        );
        let d = detect(
            &url("https://health.aws.amazon.com/public/currentevents"),
            b" [ ] ",
        )
        .unwrap();
        assert_eq!(
            d,
            Detection {
                format: StatusFormat::AwsHealth,
                certain: false
            }
        );
    }

    #[test]
    fn ulids_are_told_from_statuspage_ids() {
        assert!(is_ulid("01JMXBRMFE6N2NNT7DG6XZQ6PW"));
        assert!(!is_ulid("tymt9n04zgry"));
        assert!(!is_ulid("81JMXBRMFE6N2NNT7DG6XZQ6PW"), "first character above 7");
        assert!(!is_ulid("01JMXBRMFE6N2NNT7DG6XZQ6PI"), "I is not Crockford");
    }
}
