//! Caps on what a status page can make Switchboard keep and show.
//!
//! A page's text is someone else's input: an incident description of a
//! megabyte, ten thousand components, or escape sequences would otherwise
//! flow into every report, the history database each round, the tray and the
//! terminal. Every page is cut to these limits once, right after parsing, so
//! nothing downstream handles an unbounded string. (Control characters are
//! escaped where text meets a terminal or a log: `crate::text`.)

use crate::model::{Component, Incident, PageStatus};
use crate::text::ellipsize;

/// Longest incident or component name kept (real ones are under 150 characters).
pub(crate) const MAX_NAME_CHARS: usize = 200;
/// Longest page description ("All Systems Operational", "Partial System Outage").
pub(crate) const MAX_DESCRIPTION_CHARS: usize = 300;
/// Longest incident status or impact word ("investigating", "major").
pub(crate) const MAX_WORD_CHARS: usize = 40;
/// Longest incident URL kept.
pub(crate) const MAX_URL_CHARS: usize = 2048;
/// Most components kept per page (the biggest real page, AWS, lists a few hundred
/// services; a provider's are a handful).
pub(crate) const MAX_COMPONENTS: usize = 500;
/// Most open incidents (and, separately, maintenances) kept per page.
pub(crate) const MAX_INCIDENTS: usize = 50;
/// Most affected components kept per incident.
pub(crate) const MAX_INCIDENT_COMPONENTS: usize = 20;

/// `page` with every string and list cut to the limits above.
pub fn bound(page: PageStatus) -> PageStatus {
    PageStatus {
        indicator: page.indicator,
        description: ellipsize(&page.description, MAX_DESCRIPTION_CHARS),
        components: page
            .components
            .into_iter()
            .take(MAX_COMPONENTS)
            .map(|c| Component {
                id: c.id.map(|id| ellipsize(&id, MAX_NAME_CHARS)),
                name: ellipsize(&c.name, MAX_NAME_CHARS),
                status: c.status,
                group: c.group.map(|g| ellipsize(&g, MAX_NAME_CHARS)),
            })
            .collect(),
        incidents: page
            .incidents
            .into_iter()
            .take(MAX_INCIDENTS)
            .map(incident)
            .collect(),
        maintenances: page
            .maintenances
            .into_iter()
            .take(MAX_INCIDENTS)
            .map(incident)
            .collect(),
    }
}

fn incident(i: Incident) -> Incident {
    Incident {
        name: ellipsize(&i.name, MAX_NAME_CHARS),
        status: ellipsize(&i.status, MAX_WORD_CHARS),
        impact: ellipsize(&i.impact, MAX_WORD_CHARS),
        // A URL cut short would point elsewhere: drop it instead.
        url: i.url.filter(|u| u.len() <= MAX_URL_CHARS),
        started_at: i.started_at,
        components: i
            .components
            .into_iter()
            .take(MAX_INCIDENT_COMPONENTS)
            .map(|c| ellipsize(&c, MAX_NAME_CHARS))
            .collect(),
        relevant: i.relevant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ComponentStatus, Indicator};

    #[test]
    fn status_page_strings_and_lists_are_capped() {
        let huge = "x".repeat(1 << 20);
        let small = Incident {
            name: "Elevated errors".into(),
            status: "investigating".into(),
            impact: "major".into(),
            url: None,
            started_at: None,
            components: vec!["API".into(); 1000],
            relevant: true,
        };
        let big = Incident {
            name: huge.clone(),
            status: huge.clone(),
            url: Some(format!("https://status.example/{huge}")),
            ..small.clone()
        };
        let component = Component {
            id: None,
            name: "API".into(),
            status: ComponentStatus::MajorOutage,
            group: None,
        };
        let mut components = vec![component; 10_000];
        components[0].name = huge.clone();
        components[0].group = Some(huge.clone());
        let mut incidents = vec![small; 1000];
        incidents[0] = big;
        let page = PageStatus {
            indicator: Indicator::Major,
            description: huge.clone(),
            components,
            maintenances: incidents.clone(),
            incidents,
        };
        let b = bound(page);
        assert!(b.description.chars().count() <= MAX_DESCRIPTION_CHARS);
        assert_eq!(b.components.len(), MAX_COMPONENTS);
        assert!(b.components[0].name.chars().count() <= MAX_NAME_CHARS);
        assert_eq!(b.incidents.len(), MAX_INCIDENTS);
        assert_eq!(b.maintenances.len(), MAX_INCIDENTS);
        let i = &b.incidents[0];
        assert!(i.name.chars().count() <= MAX_NAME_CHARS && i.name.ends_with('…'));
        assert!(i.status.chars().count() <= MAX_WORD_CHARS);
        assert_eq!(i.url, None);
        assert_eq!(i.components.len(), MAX_INCIDENT_COMPONENTS);
        let total = serde_json::to_string(&b).unwrap().len();
        assert!(total < 1024 * 1024, "{total} bytes");
    }
}
