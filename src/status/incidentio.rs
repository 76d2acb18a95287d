//! incident.io status pages (OpenAI's `status.openai.com`).
//!
//! Two public feeds, merged because neither is complete on its own:
//! - the Statuspage-compatible shim `/api/v2/summary.json` gives the indicator, the
//!   description and the component list, but omits some components and loses the
//!   incidents' component tags;
//! - the widget API `/api/v1/summary` gives the ongoing incidents with their worst
//!   impact and the affected components' *current* status (`full_outage` included).
//!
//! When one of the two cannot be read the other still produces a page. The
//! undocumented `/proxy/…` feed is deliberately not used.

use std::collections::HashMap;

use bytes::Bytes;
use serde::Deserialize;
use url::Url;

use super::{
    component_severity, decode_json, indicator_description, indicator_severity, is_closed_status, join_path,
    parse_time, statuspage, ParseError, StatusAdapter,
};
use crate::model::{Component, ComponentStatus, Incident, Indicator, PageStatus};

/// The widget API, below the page's base URL.
pub(crate) const WIDGET_PATH: &str = "api/v1/summary";

/// incident.io: Statuspage shim + widget API.
#[derive(Clone, Copy, Debug, Default)]
pub struct IncidentIo;

impl StatusAdapter for IncidentIo {
    /// Both feeds hang off the page's base URL; a configured feed URL
    /// (`…/api/v2/summary.json`) is cut back to that base.
    fn feed_urls(&self, page: &Url) -> Vec<Url> {
        let base = base_of(page);
        vec![
            join_path(&base, statuspage::SUMMARY_PATH),
            join_path(&base, WIDGET_PATH),
        ]
    }

    fn parse(&self, bodies: &[Bytes]) -> Result<PageStatus, ParseError> {
        let present = |i: usize| bodies.get(i).filter(|b| !b.is_empty());
        let shim = present(0).map(|b| statuspage::parse_summary(b));
        let widget = present(1).map(|b| parse_widget(b));
        match (shim, widget) {
            (Some(Ok(shim)), Some(Ok(widget))) => Ok(merge(Some(shim), Some(widget))),
            (Some(Ok(shim)), widget) => {
                if let Some(Err(e)) = widget {
                    tracing::debug!(error = %e, "incident.io widget unreadable; using the shim alone");
                }
                Ok(merge(Some(shim), None))
            }
            (shim, Some(Ok(widget))) => {
                if let Some(Err(e)) = shim {
                    tracing::debug!(error = %e, "incident.io shim unreadable; using the widget alone");
                }
                Ok(merge(None, Some(widget)))
            }
            (Some(Err(e)), _) | (None, Some(Err(e))) => Err(e),
            (None, None) => Err(ParseError::Empty),
        }
    }
}

/// The page's base URL: everything before `/api/` when a feed URL was configured.
fn base_of(page: &Url) -> Url {
    let mut base = page.clone();
    if let Some(pos) = page.path().find("/api/") {
        let prefix = page.path()[..pos].to_string();
        base.set_path(&prefix);
    }
    base.set_query(None);
    base.set_fragment(None);
    base
}

fn parse_widget(body: &[u8]) -> Result<Widget, ParseError> {
    let widget: Widget = decode_json(body, "incident.io widget summary")?;
    if widget.page_title.is_none()
        && widget.ongoing_incidents.is_none()
        && widget.in_progress_maintenances.is_none()
        && widget.scheduled_maintenances.is_none()
    {
        return Err(ParseError::Shape(
            "no `ongoing_incidents` or `page_title`: not an incident.io widget summary".into(),
        ));
    }
    Ok(widget)
}

/// One view of the page from whichever feeds were read (at least one is `Some`).
fn merge(shim: Option<PageStatus>, widget: Option<Widget>) -> PageStatus {
    let Some(widget) = widget else {
        return shim.unwrap_or_else(|| PageStatus::unknown("no incident.io feed could be read"));
    };
    let ongoing: Vec<WidgetIncident> = widget
        .ongoing_incidents
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.status.as_deref().is_some_and(is_closed_status))
        .collect();
    let in_progress = widget.in_progress_maintenances.unwrap_or_default();
    let scheduled = widget.scheduled_maintenances.unwrap_or_default();

    let current = affected_components(&ongoing, &in_progress);
    let widget_indicator = widget_indicator(&ongoing, &in_progress, &current);
    // The widget's maintenances replace the shim's: same data, with more detail.
    let (mut indicator, mut description, mut components, shim_incidents) = match shim {
        Some(s) => (s.indicator, s.description, s.components, s.incidents),
        None => (
            widget_indicator,
            indicator_description(widget_indicator).to_string(),
            Vec::new(),
            Vec::new(),
        ),
    };
    // The shim can lag the widget: the worse of the two wins.
    if indicator_severity(widget_indicator) > indicator_severity(indicator) {
        indicator = widget_indicator;
        description = indicator_description(widget_indicator).to_string();
    }

    with_current_status(&mut components, &current);

    let incidents = incidents(&ongoing, &shim_incidents);
    let maintenances = maintenances(&in_progress, &scheduled);
    PageStatus {
        indicator,
        description,
        components,
        incidents,
        maintenances,
    }
}

/// The components that ongoing incidents and maintenances affect, with their
/// current status: the worst one reported per id.
fn affected_components<'w>(
    ongoing: &'w [WidgetIncident],
    in_progress: &'w [WidgetMaintenance],
) -> HashMap<String, (ComponentStatus, &'w WidgetComponent)> {
    let mut current: HashMap<String, (ComponentStatus, &WidgetComponent)> = HashMap::new();
    for affected in ongoing
        .iter()
        .flat_map(|i| i.affected_components.iter().flatten())
        .chain(
            in_progress
                .iter()
                .flat_map(|m| m.affected_components.iter().flatten()),
        )
    {
        let (Some(id), Some(status)) = (&affected.id, affected.current_status) else {
            continue;
        };
        let entry = current.entry(id.clone()).or_insert((status, affected));
        if component_severity(status) > component_severity(entry.0) {
            *entry = (status, affected);
        }
    }

    current
}

/// `components` (the shim's) with the status the incidents give them, plus
/// the components the shim's summary omits (OpenAI's Codex ones) but
/// incidents name.
fn with_current_status(
    components: &mut Vec<Component>,
    current: &HashMap<String, (ComponentStatus, &WidgetComponent)>,
) {
    for c in components.iter_mut() {
        if let Some((status, _)) = c.id.as_ref().and_then(|id| current.get(id)) {
            c.status = *status;
        }
    }
    // Components the shim's summary omits (OpenAI's Codex ones) but incidents name.
    let mut extra: Vec<Component> = current
        .iter()
        .filter(|(id, _)| !components.iter().any(|c| c.id.as_deref() == Some(id.as_str())))
        .map(|(id, (status, wc))| Component {
            id: Some(id.clone()),
            name: wc.name.clone().unwrap_or_else(|| id.clone()),
            status: *status,
            group: wc.group_name.clone(),
        })
        .collect();
    extra.sort_by(|a, b| a.name.cmp(&b.name));
    components.extend(extra);
}

/// The ongoing incidents, with the start time the shim gives (the widget has none).
fn incidents(ongoing: &[WidgetIncident], shim_incidents: &[Incident]) -> Vec<Incident> {
    let started: HashMap<&str, _> = shim_incidents
        .iter()
        .filter_map(|i| Some((i.name.as_str(), i.started_at?)))
        .collect();
    ongoing
        .iter()
        .map(|i| {
            let name = i
                .name
                .clone()
                .unwrap_or_else(|| "(untitled incident)".to_string());
            Incident {
                started_at: started.get(name.as_str()).copied(),
                status: i.status.clone().unwrap_or_default(),
                impact: i
                    .current_worst_impact
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "unknown".to_string()),
                url: i.url.clone(),
                components: names(i.affected_components.as_deref()),
                name,
                relevant: true,
            }
        })
        .collect()
}

/// Maintenances in progress and scheduled, closed ones left out.
fn maintenances(in_progress: &[WidgetMaintenance], scheduled: &[WidgetMaintenance]) -> Vec<Incident> {
    in_progress
        .iter()
        .chain(scheduled.iter())
        .filter(|m| !m.status.as_deref().is_some_and(is_closed_status))
        .map(|m| Incident {
            name: m
                .name
                .clone()
                .unwrap_or_else(|| "(untitled maintenance)".to_string()),
            status: m.status.clone().unwrap_or_default(),
            impact: "maintenance".to_string(),
            url: m.url.clone(),
            started_at: parse_time(m.starts_at.as_deref()),
            components: names(m.affected_components.as_deref()),
            relevant: true,
        })
        .collect()
}

/// The indicator the widget implies: the worst impact of an ongoing incident, or
/// maintenance while one is in progress.
fn widget_indicator(
    ongoing: &[WidgetIncident],
    in_progress: &[WidgetMaintenance],
    current: &HashMap<String, (ComponentStatus, &WidgetComponent)>,
) -> Indicator {
    let worst = ongoing
        .iter()
        .map(|i| {
            // An ongoing incident with an unknown impact still means trouble.
            i.current_worst_impact.map(component_severity).unwrap_or(3).max(3)
        })
        .chain(current.values().map(|(s, _)| component_severity(*s)))
        .max()
        .unwrap_or(0);
    match worst {
        5.. => Indicator::Critical,
        4 => Indicator::Major,
        3 => Indicator::Minor,
        _ if !in_progress.is_empty() || worst == 2 => Indicator::Maintenance,
        _ => Indicator::None,
    }
}

fn names(components: Option<&[WidgetComponent]>) -> Vec<String> {
    components
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c.name.clone().or_else(|| c.id.clone()))
        .collect()
}

#[derive(Debug, Deserialize)]
struct Widget {
    page_title: Option<String>,
    ongoing_incidents: Option<Vec<WidgetIncident>>,
    in_progress_maintenances: Option<Vec<WidgetMaintenance>>,
    scheduled_maintenances: Option<Vec<WidgetMaintenance>>,
}

#[derive(Debug, Deserialize)]
struct WidgetIncident {
    name: Option<String>,
    status: Option<String>,
    url: Option<String>,
    current_worst_impact: Option<ComponentStatus>,
    affected_components: Option<Vec<WidgetComponent>>,
}

#[derive(Debug, Deserialize)]
struct WidgetMaintenance {
    name: Option<String>,
    status: Option<String>,
    url: Option<String>,
    starts_at: Option<String>,
    affected_components: Option<Vec<WidgetComponent>>,
}

#[derive(Debug, Deserialize)]
struct WidgetComponent {
    id: Option<String>,
    name: Option<String>,
    group_name: Option<String>,
    current_status: Option<ComponentStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_urls_hang_off_the_base() {
        for configured in [
            "https://status.openai.com",
            "https://status.openai.com/",
            "https://status.openai.com/api/v2/summary.json",
        ] {
            let urls = IncidentIo.feed_urls(&Url::parse(configured).unwrap());
            let urls: Vec<&str> = urls.iter().map(Url::as_str).collect();
            assert_eq!(
                urls,
                [
                    "https://status.openai.com/api/v2/summary.json",
                    "https://status.openai.com/api/v1/summary"
                ],
                "{configured}"
            );
        }
    }

    #[test]
    fn widget_alone_gives_indicator_and_components() {
        let widget = br#"{"page_title":"OpenAI","ongoing_incidents":[{"id":"01A","name":"Errors",
          "status":"identified","current_worst_impact":"full_outage",
          "affected_components":[{"id":"C1","name":"Chat Completions","group_name":"APIs","current_status":"full_outage"}]}],
          "in_progress_maintenances":[],"scheduled_maintenances":[]}"#;
        let p = IncidentIo
            .parse(&[Bytes::new(), Bytes::from_static(widget)])
            .unwrap();
        assert_eq!(p.indicator, Indicator::Critical);
        assert_eq!(p.components.len(), 1);
        assert_eq!(p.components[0].status, ComponentStatus::FullOutage);
        assert_eq!(p.components[0].group.as_deref(), Some("APIs"));
        assert_eq!(p.incidents[0].impact, "full_outage");
    }

    #[test]
    fn both_bodies_bad_is_the_shim_error() {
        let err = IncidentIo
            .parse(&[
                Bytes::from_static(b"{\"foo\":1}"),
                Bytes::from_static(b"{\"bar\":2}"),
            ])
            .unwrap_err();
        assert!(matches!(err, ParseError::Shape(m) if m.contains("Statuspage")));
        assert_eq!(
            IncidentIo.parse(&[Bytes::new(), Bytes::new()]),
            Err(ParseError::Empty)
        );
    }
}
