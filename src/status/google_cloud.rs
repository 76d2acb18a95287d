//! Google Cloud's status dashboard (`status.cloud.google.com/incidents.json`);
//! the Workspace dashboard (`www.google.com/appsstatus/dashboard/incidents.json`)
//! serves the same schema.
//!
//! The feed is the whole incident history, not a current view: open incidents
//! are those without an `end`. Components are synthesised from the open
//! incidents' `affected_products`, so a product that is not listed is fine
//! (`verdict` treats "no match" as operational). The product catalogue
//! (`products.json`) and the Atom feed are not read.

use bytes::Bytes;
use serde::Deserialize;
use url::Url;

use super::{
    component_severity, decode_json, join_path, names_json_file, parse_time, ComponentSet, FeedEntry,
    OpenEntries, ParseError, StatusAdapter,
};
use crate::model::{ComponentStatus, Incident, Indicator, PageStatus};

/// The history grows without bound (600 KB in 2021, several MB since), so this
/// feed gets a larger cap than the other formats' [`super::MAX_FEED_BYTES`].
pub const MAX_HISTORY_FEED_BYTES: usize = 16 * 1024 * 1024;

/// Incident links are relative (`incidents/<id>`) to the dashboard's site.
pub(crate) const GOOGLE_CLOUD_SITE: &str = "https://status.cloud.google.com/";

/// The feed's file name below a dashboard's base URL.
const FEED_FILE: &str = "incidents.json";

/// Google Cloud / Workspace `incidents.json`.
#[derive(Clone, Debug)]
pub struct GoogleCloud {
    /// Where the feed's relative incident `uri`s resolve.
    site: Url,
}

impl Default for GoogleCloud {
    fn default() -> Self {
        GoogleCloud {
            site: Url::parse(GOOGLE_CLOUD_SITE).expect("constant URL is valid"),
        }
    }
}

impl GoogleCloud {
    /// The adapter for a configured page: incident links resolve against the
    /// directory of its feed, so Workspace incidents link to Workspace's dashboard.
    pub(crate) fn for_page(page: &Url) -> Self {
        let feed = feed_url(page);
        match feed.join(".") {
            Ok(site) if matches!(site.scheme(), "http" | "https") => GoogleCloud { site },
            _ => GoogleCloud::default(),
        }
    }

    fn incident_url(&self, uri: Option<&str>) -> Option<String> {
        let uri = uri?.trim();
        if uri.is_empty() {
            return None;
        }
        self.site.join(uri.trim_start_matches('/')).ok().map(String::from)
    }
}

fn feed_url(page: &Url) -> Url {
    if names_json_file(page) {
        page.clone()
    } else {
        join_path(page, FEED_FILE)
    }
}

impl StatusAdapter for GoogleCloud {
    fn feed_urls(&self, page: &Url) -> Vec<Url> {
        vec![feed_url(page)]
    }

    fn parse(&self, bodies: &[Bytes]) -> Result<PageStatus, ParseError> {
        let body = bodies.first().ok_or(ParseError::Empty)?;
        let open: Vec<GcIncident> = decode_json::<OpenEntries<GcIncident>>(
            body,
            "Google Cloud incident history (expected an array)",
        )?
        .0;

        // Worst status per product, in order of first appearance.
        let mut set = ComponentSet::default();
        let mut incidents = Vec::new();
        for incident in &open {
            let status = impact_status(incident.status_impact.as_deref());
            let products = incident.products();
            for (id, title) in &products {
                set.raise(id, title, status);
            }
            incidents.push(Incident {
                name: incident
                    .external_desc
                    .as_deref()
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .unwrap_or("(untitled incident)")
                    .to_string(),
                status: "ongoing".to_string(),
                impact: status.as_str().to_string(),
                url: self.incident_url(incident.uri.as_deref()),
                started_at: parse_time(incident.begin.as_deref())
                    .or_else(|| parse_time(incident.created.as_deref())),
                components: products.into_iter().map(|(_, title)| title).collect(),
                relevant: true,
            });
        }

        let components = set.into_vec();
        let worst = components
            .iter()
            .map(|c| c.status)
            .max_by_key(|s| component_severity(*s));
        let (indicator, description) = match (worst, incidents.len()) {
            (_, 0) => (Indicator::None, "No open incidents".to_string()),
            (Some(ComponentStatus::MajorOutage), n) => (Indicator::Major, open_count(n)),
            (_, n) => (Indicator::Minor, open_count(n)),
        };
        Ok(PageStatus {
            indicator,
            description,
            components,
            incidents,
            maintenances: Vec::new(),
        })
    }

    fn max_feed_bytes(&self) -> usize {
        MAX_HISTORY_FEED_BYTES
    }
}

fn open_count(n: usize) -> String {
    if n == 1 {
        "1 open incident".to_string()
    } else {
        format!("{n} open incidents")
    }
}

/// Google's impact words in Statuspage terms. An unknown new word on an open
/// incident still means something is wrong, so it reads as degraded.
fn impact_status(impact: Option<&str>) -> ComponentStatus {
    match impact.unwrap_or_default() {
        "SERVICE_OUTAGE" => ComponentStatus::MajorOutage,
        "SERVICE_DISRUPTION" => ComponentStatus::PartialOutage,
        _ => ComponentStatus::DegradedPerformance,
    }
}

#[derive(Debug, Deserialize)]
struct GcIncident {
    begin: Option<String>,
    created: Option<String>,
    end: Option<String>,
    external_desc: Option<String>,
    service_key: Option<String>,
    service_name: Option<String>,
    uri: Option<String>,
    status_impact: Option<String>,
    affected_products: Option<Vec<GcProduct>>,
}

#[derive(Debug, Deserialize)]
struct GcProduct {
    id: Option<String>,
    title: Option<String>,
}

impl FeedEntry for GcIncident {
    fn is_open(&self) -> bool {
        GcIncident::is_open(self)
    }
}

impl GcIncident {
    /// Open while `end` is missing, null or blank.
    fn is_open(&self) -> bool {
        self.end.as_deref().is_none_or(|e| e.trim().is_empty())
    }

    /// (id, title) of each affected product; older entries name only a service.
    fn products(&self) -> Vec<(String, String)> {
        let listed: Vec<(String, String)> = self
            .affected_products
            .iter()
            .flatten()
            .filter_map(|p| {
                let id = p.id.clone().or_else(|| p.title.clone())?;
                let title = p.title.clone().unwrap_or_else(|| id.clone());
                Some((id, title))
            })
            .collect();
        if !listed.is_empty() {
            return listed;
        }
        match (&self.service_key, &self.service_name) {
            (Some(k), n) => vec![(k.clone(), n.clone().unwrap_or_else(|| k.clone()))],
            (None, Some(n)) => vec![(n.clone(), n.clone())],
            (None, None) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_links_resolve_against_its_own_dashboard() {
        let page = Url::parse("https://www.google.com/appsstatus/dashboard/incidents.json").unwrap();
        let a = GoogleCloud::for_page(&page);
        assert_eq!(
            a.incident_url(Some("incidents/abc")).as_deref(),
            Some("https://www.google.com/appsstatus/dashboard/incidents/abc")
        );
        let cloud = GoogleCloud::for_page(&Url::parse("https://status.cloud.google.com").unwrap());
        assert_eq!(
            cloud.feed_urls(&Url::parse("https://status.cloud.google.com").unwrap())[0].as_str(),
            "https://status.cloud.google.com/incidents.json"
        );
        assert_eq!(
            cloud.incident_url(Some("/incidents/x")).as_deref(),
            Some("https://status.cloud.google.com/incidents/x")
        );
    }

    #[test]
    fn worst_impact_per_product_and_service_fallback() {
        let body = br#"[
          {"id":"a","begin":"2025-01-01T00:00:00+00:00","end":null,"external_desc":"Slow","status_impact":"SERVICE_INFORMATION",
           "affected_products":[{"title":"Cloud Run","id":"P1"}]},
          {"id":"b","external_desc":"Down","status_impact":"SERVICE_OUTAGE","affected_products":[{"title":"Cloud Run","id":"P1"}]},
          {"id":"c","external_desc":"Old style","status_impact":"SOMETHING_NEW","service_key":"bigquery","service_name":"BigQuery"},
          {"id":"d","external_desc":"Closed","end":"2024-01-01T00:00:00+00:00","status_impact":"SERVICE_OUTAGE",
           "affected_products":[{"title":"Gmail","id":"G"}]}
        ]"#;
        let p = GoogleCloud::default().parse(&[Bytes::from_static(body)]).unwrap();
        assert_eq!(p.indicator, Indicator::Major);
        assert_eq!(p.description, "3 open incidents");
        let summary: Vec<(&str, ComponentStatus)> =
            p.components.iter().map(|c| (c.name.as_str(), c.status)).collect();
        assert_eq!(
            summary,
            [
                ("Cloud Run", ComponentStatus::MajorOutage),
                ("BigQuery", ComponentStatus::DegradedPerformance)
            ]
        );
    }

    #[test]
    fn an_object_is_not_the_history() {
        let err = GoogleCloud::default()
            .parse(&[Bytes::from_static(br#"{"incidents":[]}"#)])
            .unwrap_err();
        assert!(matches!(err, ParseError::Shape(m) if m.contains("expected an array")));
    }
}
