//! AWS Health's public current events
//! (`https://health.aws.amazon.com/public/currentevents`).
//!
//! Owns decoding the body (UTF-16 with a byte-order mark, as AWS serves it, or
//! UTF-8) and turning open events into components (`bedrock-us-east-1`, named
//! "Amazon Bedrock (N. Virginia)") and incidents. The feed lists only events, so
//! an empty array means everything is operational. The per-region RSS feeds and
//! the authenticated Health API are not used.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use super::{decode_json, join_path, ComponentSet, FeedEntry, OpenEntries, ParseError, StatusAdapter};
use crate::model::{ComponentStatus, Incident, Indicator, PageStatus};

/// The feed's path below `https://health.aws.amazon.com`.
pub(crate) const CURRENT_EVENTS_PATH: &str = "public/currentevents";

/// Events carry no link of their own; this is the page a person reads them on.
pub(crate) const AWS_HEALTH_DASHBOARD: &str = "https://health.aws.amazon.com/health/status";

/// UTF-16 byte-order marks.
const UTF16_BE_BOM: [u8; 2] = [0xFE, 0xFF];
const UTF16_LE_BOM: [u8; 2] = [0xFF, 0xFE];

/// AWS Health public current events.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AwsHealth;

impl StatusAdapter for AwsHealth {
    /// A configured URL with a path is the feed; a bare host gets the feed's path.
    fn feed_urls(&self, page: &Url) -> Vec<Url> {
        if page.path().trim_matches('/').is_empty() {
            vec![join_path(page, CURRENT_EVENTS_PATH)]
        } else {
            vec![page.clone()]
        }
    }

    fn parse(&self, bodies: &[Bytes]) -> Result<PageStatus, ParseError> {
        let body = bodies.first().ok_or(ParseError::Empty)?;
        let text = decode_text(body)?;
        let events: Vec<AwsEvent> =
            decode_json::<OpenEntries<AwsEvent>>(text.as_bytes(), "AWS Health events (expected an array)")?.0;

        let mut set = ComponentSet::default();
        let mut incidents = Vec::new();
        for event in events.iter().filter(|e| e.is_open()) {
            let status = event.component_status();
            let id = event
                .service
                .clone()
                .or_else(|| event.service_name.clone())
                .unwrap_or_else(|| "unknown-service".to_string());
            let name = event.display_name(&id);
            set.raise(&id, &name, status);
            incidents.push(Incident {
                name: event
                    .summary
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{name}: service event")),
                status: if status == ComponentStatus::MajorOutage {
                    "disrupted".to_string()
                } else {
                    "degraded".to_string()
                },
                impact: status.as_str().to_string(),
                url: Some(AWS_HEALTH_DASHBOARD.to_string()),
                started_at: event.started_at(),
                components: vec![name],
                relevant: true,
            });
        }

        let components = set.into_vec();
        let disrupted = components
            .iter()
            .any(|c| c.status == ComponentStatus::MajorOutage);
        let (indicator, description) = match incidents.len() {
            0 => (Indicator::None, "No open events".to_string()),
            1 => (
                if disrupted {
                    Indicator::Major
                } else {
                    Indicator::Minor
                },
                "1 open event".to_string(),
            ),
            n => (
                if disrupted {
                    Indicator::Major
                } else {
                    Indicator::Minor
                },
                format!("{n} open events"),
            ),
        };
        Ok(PageStatus {
            indicator,
            description,
            components,
            incidents,
            maintenances: Vec::new(),
        })
    }
}

/// The body as text: UTF-16 by its byte-order mark (big- or little-endian),
/// BOM-less UTF-16 by its zero bytes around ASCII, otherwise UTF-8.
pub(crate) fn decode_text(body: &[u8]) -> Result<String, ParseError> {
    let utf16 = |rest: &[u8], big_endian: bool| -> Result<String, ParseError> {
        if !rest.len().is_multiple_of(2) {
            return Err(ParseError::Malformed(
                "UTF-16 body with an odd number of bytes".into(),
            ));
        }
        let units = rest.chunks_exact(2).map(|p| {
            if big_endian {
                u16::from_be_bytes([p[0], p[1]])
            } else {
                u16::from_le_bytes([p[0], p[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| ParseError::Malformed(format!("invalid UTF-16: {e}")))
    };
    if let Some(rest) = body.strip_prefix(&UTF16_BE_BOM) {
        return utf16(rest, true);
    }
    if let Some(rest) = body.strip_prefix(&UTF16_LE_BOM) {
        return utf16(rest, false);
    }
    // JSON starts with ASCII, so UTF-16 without a BOM shows a zero byte beside it.
    match body {
        [0, b, ..] if *b != 0 => return utf16(body, true),
        [b, 0, ..] if *b != 0 => return utf16(body, false),
        _ => {}
    }
    String::from_utf8(body.to_vec())
        .map_err(|e| ParseError::Malformed(format!("neither UTF-16 nor UTF-8: {e}")))
}

#[derive(Debug, Deserialize)]
struct AwsEvent {
    service: Option<String>,
    service_name: Option<String>,
    region_name: Option<String>,
    /// A numeric string ("0" resolved, "1"/"2" degraded, "3" disrupted); accepted as a number too.
    status: Option<serde_json::Value>,
    summary: Option<String>,
    /// Epoch seconds, as a string.
    date: Option<serde_json::Value>,
    end_time: Option<serde_json::Value>,
}

impl FeedEntry for AwsEvent {
    fn is_open(&self) -> bool {
        AwsEvent::is_open(self)
    }
}

impl AwsEvent {
    fn status_code(&self) -> Option<u64> {
        match self.status.as_ref()? {
            serde_json::Value::String(s) => s.trim().parse().ok(),
            serde_json::Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    /// "0" is resolved, and so is an event with an end time; anything else is open.
    fn is_open(&self) -> bool {
        let ended = match &self.end_time {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::String(s)) => !s.trim().is_empty(),
            Some(_) => true,
        };
        !ended && self.status_code() != Some(0)
    }

    fn component_status(&self) -> ComponentStatus {
        match self.status_code() {
            Some(3..) => ComponentStatus::MajorOutage,
            _ => ComponentStatus::DegradedPerformance,
        }
    }

    fn display_name(&self, id: &str) -> String {
        let service = self.service_name.as_deref().unwrap_or(id);
        match self.region_name.as_deref().filter(|r| !r.is_empty()) {
            Some(region) => format!("{service} ({region})"),
            None => service.to_string(),
        }
    }

    fn started_at(&self) -> Option<DateTime<Utc>> {
        let secs = match self.date.as_ref()? {
            serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
            serde_json::Value::Number(n) => n.as_f64()?,
            _ => return None,
        };
        DateTime::from_timestamp(secs as i64, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(if big_endian { &UTF16_BE_BOM } else { &UTF16_LE_BOM });
        }
        for unit in text.encode_utf16() {
            out.extend_from_slice(&if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        out
    }

    #[test]
    fn every_encoding_decodes_to_the_same_text() {
        let text = r#"[{"service":"bedrock-us-east-1","summary":"Zürich ✓"}]"#;
        for (big, bom) in [(true, true), (false, true), (true, false), (false, false)] {
            assert_eq!(
                decode_text(&utf16(text, big, bom)).unwrap(),
                text,
                "big={big} bom={bom}"
            );
        }
        assert_eq!(decode_text(text.as_bytes()).unwrap(), text);
        let mut bom8 = b"\xEF\xBB\xBF".to_vec();
        bom8.extend_from_slice(text.as_bytes());
        assert!(decode_text(&bom8).unwrap().ends_with(text));
        assert!(matches!(
            decode_text(&[0xFE, 0xFF, 0x00]),
            Err(ParseError::Malformed(_))
        ));
    }

    #[test]
    fn resolved_and_ended_events_are_not_open() {
        let body = br#"[
          {"service":"ec2-us-east-1","service_name":"Amazon EC2","region_name":"N. Virginia","status":"0","summary":"Fixed"},
          {"service":"s3-us-east-1","status":"1","end_time":"1735700000","summary":"Ended"},
          {"service":"bedrock-us-west-2","service_name":"Amazon Bedrock","region_name":"Oregon","status":2,"date":"1735689600","summary":"Increased latency"}
        ]"#;
        let p = AwsHealth.parse(&[Bytes::from_static(body)]).unwrap();
        assert_eq!(p.components.len(), 1);
        assert_eq!(p.components[0].name, "Amazon Bedrock (Oregon)");
        assert_eq!(p.components[0].status, ComponentStatus::DegradedPerformance);
        assert_eq!(p.indicator, Indicator::Minor);
        assert_eq!(
            p.incidents[0].started_at.map(|t| t.to_rfc3339()),
            Some("2025-01-01T00:00:00+00:00".to_string())
        );
    }
}
