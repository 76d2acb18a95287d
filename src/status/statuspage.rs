//! Atlassian Statuspage v2: one `GET /api/v2/summary.json` gives the page
//! indicator, every component, the unresolved incidents and the maintenances.
//!
//! Owns the summary's wire structs and their normalisation (group rows become the
//! `group` of their children). `incidentio` reuses [`parse_summary`] for its
//! Statuspage-compatible shim. Fetching is `fetch`'s job; deciding what a page
//! means for a provider is `verdict`'s.

use std::collections::HashMap;

use bytes::Bytes;
use serde::Deserialize;
use url::Url;

use super::{
    component_severity, decode_json, indicator_description, is_closed_status, join_path, names_json_file,
    parse_time, ParseError, StatusAdapter,
};
use crate::model::{Component, ComponentStatus, Incident, Indicator, PageStatus};

/// Where a Statuspage page serves its summary, below the page's base URL.
pub(crate) const SUMMARY_PATH: &str = "api/v2/summary.json";

/// Atlassian Statuspage v2 (`/api/v2/summary.json`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Statuspage;

impl StatusAdapter for Statuspage {
    /// A configured `…/summary.json` (or any other `.json` feed of the page) is
    /// used as is; a base URL gets `/api/v2/summary.json` after its path prefix.
    fn feed_urls(&self, page: &Url) -> Vec<Url> {
        if names_json_file(page) {
            vec![page.clone()]
        } else {
            vec![join_path(page, SUMMARY_PATH)]
        }
    }

    fn parse(&self, bodies: &[Bytes]) -> Result<PageStatus, ParseError> {
        let body = bodies.first().ok_or(ParseError::Empty)?;
        parse_summary(body)
    }
}

/// Parses a Statuspage v2 summary (or `status.json`, which lacks the lists).
///
/// Lenient inside (unknown fields, new enum words and nulls are fine), strict
/// about the outside: a body without a `status` object is not this feed.
pub(crate) fn parse_summary(body: &[u8]) -> Result<PageStatus, ParseError> {
    let summary: Summary = decode_json(body, "Statuspage summary")?;
    let status = summary
        .status
        .ok_or_else(|| ParseError::Shape("no `status` object: not a Statuspage summary".into()))?;
    let components = normalise_components(summary.components.unwrap_or_default());
    let indicator = status.indicator.unwrap_or_else(|| indicator_from(&components));
    let description = status
        .description
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| indicator_description(indicator).to_string());
    let incidents = summary
        .incidents
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.status.as_deref().is_some_and(is_closed_status))
        .map(|i| i.into_incident("none"))
        .collect();
    let maintenances = summary
        .scheduled_maintenances
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.status.as_deref().is_some_and(is_closed_status))
        .map(|i| i.into_incident("maintenance"))
        .collect();
    Ok(PageStatus {
        indicator,
        description,
        components,
        incidents,
        maintenances,
    })
}

/// Drops group rows, naming each child's group after them.
fn normalise_components(rows: Vec<SpComponent>) -> Vec<Component> {
    let groups: HashMap<String, String> = rows
        .iter()
        .filter(|c| c.group == Some(true))
        .filter_map(|c| Some((c.id.clone()?, c.name.clone()?)))
        .collect();
    rows.into_iter()
        .filter(|c| c.group != Some(true))
        .filter_map(|c| {
            let group = c.group_id.as_ref().and_then(|g| groups.get(g)).cloned();
            let status = c.status.unwrap_or(ComponentStatus::Unknown);
            let name = c.name.or_else(|| c.id.clone())?;
            Some(Component {
                id: c.id,
                name,
                status,
                group,
            })
        })
        .collect()
}

/// The indicator a page would show for these components, when it sent none.
fn indicator_from(components: &[Component]) -> Indicator {
    match components.iter().map(|c| component_severity(c.status)).max() {
        None | Some(0) | Some(1) => Indicator::None,
        Some(2) => Indicator::Maintenance,
        Some(3) | Some(4) => Indicator::Minor,
        Some(_) => Indicator::Major,
    }
}

#[derive(Debug, Deserialize)]
struct Summary {
    status: Option<SpStatus>,
    components: Option<Vec<SpComponent>>,
    incidents: Option<Vec<SpIncident>>,
    scheduled_maintenances: Option<Vec<SpIncident>>,
}

#[derive(Debug, Deserialize)]
struct SpStatus {
    indicator: Option<Indicator>,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SpComponent {
    id: Option<String>,
    name: Option<String>,
    status: Option<ComponentStatus>,
    group_id: Option<String>,
    group: Option<bool>,
}

/// An incident or a scheduled maintenance (same shape, plus `scheduled_for`).
#[derive(Debug, Deserialize)]
struct SpIncident {
    name: Option<String>,
    status: Option<String>,
    impact: Option<String>,
    shortlink: Option<String>,
    started_at: Option<String>,
    created_at: Option<String>,
    scheduled_for: Option<String>,
    components: Option<Vec<SpComponent>>,
}

impl SpIncident {
    fn into_incident(self, default_impact: &str) -> Incident {
        let started_at = parse_time(self.scheduled_for.as_deref())
            .or_else(|| parse_time(self.started_at.as_deref()))
            .or_else(|| parse_time(self.created_at.as_deref()));
        Incident {
            name: self
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "(untitled incident)".to_string()),
            status: self.status.unwrap_or_default(),
            impact: self.impact.unwrap_or_else(|| default_impact.to_string()),
            url: self.shortlink.filter(|u| !u.is_empty()),
            started_at,
            components: self
                .components
                .unwrap_or_default()
                .into_iter()
                .filter_map(|c| c.name.or(c.id))
                .collect(),
            relevant: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(url: &str) -> Url {
        Url::parse(url).unwrap()
    }

    #[test]
    fn feed_url_from_base_or_feed() {
        let a = Statuspage;
        assert_eq!(
            a.feed_urls(&page("https://status.claude.com"))[0].as_str(),
            "https://status.claude.com/api/v2/summary.json"
        );
        assert_eq!(
            a.feed_urls(&page("https://example.com/status/"))[0].as_str(),
            "https://example.com/status/api/v2/summary.json"
        );
        let feed = "https://anthropic.statuspage.io/api/v2/summary.json";
        assert_eq!(a.feed_urls(&page(feed))[0].as_str(), feed);
    }

    #[test]
    fn group_rows_name_their_children_and_disappear() {
        let body =
            br#"{"page":{"id":"p"},"status":{"indicator":"none","description":"All Systems Operational"},
          "components":[
            {"id":"g1","name":"Products","status":"operational","group":true,"components":["c1"]},
            {"id":"c1","name":"claude.ai","status":"operational","group_id":"g1","group":false},
            {"id":"c2","name":"Loose","status":"something_new","group_id":null}
          ]}"#;
        let p = parse_summary(body).unwrap();
        assert_eq!(p.components.len(), 2);
        assert_eq!(p.components[0].group.as_deref(), Some("Products"));
        assert_eq!(p.components[1].group, None);
        assert_eq!(p.components[1].status, ComponentStatus::Unknown);
    }

    #[test]
    fn missing_indicator_is_derived_from_components() {
        let body = br#"{"status":{},"components":[{"id":"a","name":"A","status":"partial_outage"}]}"#;
        let p = parse_summary(body).unwrap();
        assert_eq!(p.indicator, Indicator::Minor);
        assert_eq!(p.description, "Minor Service Outage");
    }

    #[test]
    fn resolved_incidents_and_completed_maintenance_are_dropped() {
        let body = br#"{"status":{"indicator":"minor","description":"x"},
          "incidents":[{"name":"Old","status":"resolved"},{"name":"New","status":"investigating","impact":"minor"}],
          "scheduled_maintenances":[{"name":"Done","status":"completed"},
             {"name":"Soon","status":"scheduled","scheduled_for":"2025-01-02T03:00:00.000Z"}]}"#;
        let p = parse_summary(body).unwrap();
        assert_eq!(p.incidents.len(), 1);
        assert_eq!(p.incidents[0].name, "New");
        assert_eq!(p.maintenances.len(), 1);
        assert_eq!(p.maintenances[0].impact, "maintenance");
        assert_eq!(
            p.maintenances[0].started_at.map(|t| t.to_rfc3339()),
            Some("2025-01-02T03:00:00+00:00".to_string())
        );
    }

    #[test]
    fn a_body_that_is_not_a_summary_is_a_shape_error() {
        assert!(matches!(parse_summary(b"[]"), Err(ParseError::Shape(_))));
        assert!(matches!(
            parse_summary(br#"{"foo":1}"#),
            Err(ParseError::Shape(_))
        ));
        assert!(matches!(parse_summary(b"42"), Err(ParseError::Shape(_))));
    }
}
