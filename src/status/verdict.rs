//! What a status page means for one provider: the components configured for it,
//! the incidents that concern them, one state and the page's own words as cause.
//!
//! Pure, so every rule is unit-tested here. Combining the verdict with probe
//! results (a failing probe wins) is `health`'s job.

use crate::model::{Component, Incident, Indicator, PageStatus, State};

use super::PageVerdict;

/// Statuses of an in-progress maintenance across formats (Statuspage, incident.io).
const MAINTENANCE_IN_PROGRESS: &[&str] = &["in_progress", "verifying", "maintenance_in_progress"];

/// Whether the configured string `wanted` designates page component `c`.
///
/// Ids are matched exactly (they are stable where names change); names
/// case-insensitively, and a name "Claude API (api.anthropic.com)" is matched by
/// "Claude API". An id prefix followed by `-` matches every region of an AWS
/// service ("bedrock" matches "bedrock-us-east-1").
pub fn component_matches(wanted: &str, c: &Component) -> bool {
    let wanted = wanted.trim();
    if wanted.is_empty() {
        return false;
    }
    let by_id = c.id.as_deref().is_some_and(|id| id_matches(wanted, id));
    by_id || name_matches(wanted, &c.name)
}

fn id_matches(wanted: &str, id: &str) -> bool {
    id == wanted || id.strip_prefix(wanted).is_some_and(|rest| rest.starts_with('-'))
}

fn name_matches(wanted: &str, name: &str) -> bool {
    let name = name.trim().to_lowercase();
    let wanted = wanted.to_lowercase();
    name == wanted
        || name
            .strip_prefix(&wanted)
            .is_some_and(|rest| rest.starts_with(" ("))
}

/// The provider-relevant view of `page` and what it means.
///
/// With `components` configured, the state is the worst of the matching
/// components (operational when none match: incident-style feeds list only what
/// is affected), and at least `degraded` while an open incident names one of them; incidents and maintenances are kept when they name a matching
/// component or name none at all (feeds that lose their tags). Without
/// components, the page indicator decides and the whole page is the view. An
/// unreadable page (`Indicator::Unknown`) is `unknown` either way. The view keeps
/// the page's own indicator and description: they describe the page.
pub fn page_verdict(page: &PageStatus, components: &[String]) -> (PageVerdict, PageStatus) {
    let wanted: Vec<&str> = components
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let view = if wanted.is_empty() {
        page.clone()
    } else {
        filtered(page, &wanted)
    };
    let state = if page.indicator == Indicator::Unknown {
        State::Unknown
    } else if wanted.is_empty() {
        page.indicator.state()
    } else {
        let components = view
            .components
            .iter()
            .map(|c| c.status.state())
            .max()
            .unwrap_or(State::Operational);
        // An open incident tagged with this provider's component is trouble even
        // while the page still shows the component green (pages often lag there too).
        let tagged_incident = view
            .incidents
            .iter()
            .any(|i| !i.components.is_empty() && !super::is_closed_status(&i.status));
        if tagged_incident {
            components.max(State::Degraded)
        } else {
            components
        }
    };
    let cause = (state != State::Operational).then(|| cause(page.indicator, &view));
    (PageVerdict { state, cause }, view)
}

fn filtered(page: &PageStatus, wanted: &[&str]) -> PageStatus {
    let components: Vec<Component> = page
        .components
        .iter()
        .filter(|c| wanted.iter().any(|w| component_matches(w, c)))
        .cloned()
        .collect();
    let concerns = |i: &Incident| i.components.is_empty() || names_a_match(i, &components, wanted);
    // Tagged incidents first: their words describe this provider better than an
    // untagged incident that may concern another part of the page.
    let mut incidents: Vec<Incident> = page.incidents.iter().filter(|i| concerns(i)).cloned().collect();
    incidents.sort_by_key(|i| i.components.is_empty());
    let maintenances = page
        .maintenances
        .iter()
        .filter(|i| concerns(i))
        .cloned()
        .collect();
    PageStatus {
        indicator: page.indicator,
        description: page.description.clone(),
        components,
        incidents,
        maintenances,
    }
}

/// Whether an incident's component list names one of the matching components
/// (by id or name) or matches a configured string directly.
fn names_a_match(incident: &Incident, matched: &[Component], wanted: &[&str]) -> bool {
    incident.components.iter().any(|entry| {
        let entry = entry.trim();
        matched
            .iter()
            .any(|c| c.id.as_deref() == Some(entry) || c.name.trim().eq_ignore_ascii_case(entry))
            || wanted
                .iter()
                .any(|w| id_matches(w, entry) || name_matches(w, entry))
    })
}

/// The page's words for a state that is not operational.
fn cause(indicator: Indicator, view: &PageStatus) -> String {
    if indicator == Indicator::Unknown {
        return view.description.clone();
    }
    if let Some(incident) = view
        .incidents
        .iter()
        .find(|i| !super::is_closed_status(&i.status))
    {
        return incident.name.clone();
    }
    if let Some(m) = view
        .maintenances
        .iter()
        .find(|m| MAINTENANCE_IN_PROGRESS.contains(&m.status.to_ascii_lowercase().as_str()))
    {
        return m.name.clone();
    }
    // The most severe component, the first in page order among equals.
    let key = |c: &Component| (c.status.state(), super::component_severity(c.status));
    let mut worst: Option<&Component> = None;
    for c in view
        .components
        .iter()
        .filter(|c| c.status.state() != State::Operational)
    {
        if worst.is_none_or(|w| key(c) > key(w)) {
            worst = Some(c);
        }
    }
    match worst {
        Some(c) => format!("{}: {}", c.name, c.status.as_str().replace('_', " ")),
        None => view.description.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ComponentStatus as S;

    fn comp(id: &str, name: &str, status: S) -> Component {
        Component {
            id: Some(id.to_string()),
            name: name.to_string(),
            status,
            group: None,
        }
    }

    fn incident(name: &str, components: &[&str]) -> Incident {
        Incident {
            name: name.to_string(),
            status: "investigating".to_string(),
            impact: "minor".to_string(),
            url: None,
            started_at: None,
            components: components.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn claude(indicator: Indicator, ai: S, api: S, code: S, incidents: Vec<Incident>) -> PageStatus {
        PageStatus {
            indicator,
            description: "Partial System Outage".to_string(),
            components: vec![
                comp("rwppv331jlwc", "claude.ai", ai),
                comp("k8w3r06qmzrp", "Claude API (api.anthropic.com)", api),
                comp("yyzkbfz2thpt", "Claude Code", code),
            ],
            incidents,
            maintenances: Vec::new(),
        }
    }

    fn wanted(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn matching_rules() {
        let api = comp("k8w3r06qmzrp", "Claude API (api.anthropic.com)", S::Operational);
        assert!(component_matches("k8w3r06qmzrp", &api));
        assert!(component_matches("Claude API", &api));
        assert!(component_matches("claude api", &api));
        assert!(component_matches("CLAUDE API (api.anthropic.com)", &api));
        assert!(!component_matches("Claude", &api), "a bare prefix is not enough");
        assert!(!component_matches("k8w3r06", &api), "id prefixes need a dash");
        assert!(!component_matches("  ", &api));
        let bedrock = comp(
            "bedrock-us-east-1",
            "Amazon Bedrock (N. Virginia)",
            S::Operational,
        );
        assert!(component_matches("bedrock", &bedrock));
        assert!(component_matches("Amazon Bedrock", &bedrock));
        assert!(!component_matches("bed", &bedrock));
        assert!(!component_matches("bedrock-us-west-2", &bedrock));
        let ai = comp("rwppv331jlwc", "claude.ai", S::Operational);
        assert!(component_matches("Claude.AI", &ai));
        assert!(!component_matches("Claude API", &ai));
        let no_id = Component {
            id: None,
            name: "Vertex Gemini API".into(),
            status: S::Operational,
            group: None,
        };
        assert!(component_matches("vertex gemini api", &no_id));
    }

    #[test]
    fn an_incident_on_claude_ai_does_not_degrade_the_api() {
        let page = claude(
            Indicator::Major,
            S::MajorOutage,
            S::Operational,
            S::Operational,
            vec![incident("claude.ai unavailable", &["claude.ai"])],
        );
        let (v, view) = page_verdict(&page, &wanted(&["k8w3r06qmzrp"]));
        assert_eq!(
            v,
            PageVerdict {
                state: State::Operational,
                cause: None
            }
        );
        assert_eq!(view.components.len(), 1);
        assert!(view.incidents.is_empty());
        assert_eq!(
            view.indicator,
            Indicator::Major,
            "the view keeps the page's indicator"
        );

        let (v, view) = page_verdict(&page, &wanted(&["rwppv331jlwc"]));
        assert_eq!(v.state, State::Outage);
        assert_eq!(v.cause.as_deref(), Some("claude.ai unavailable"));
        assert_eq!(view.incidents.len(), 1);
    }

    #[test]
    fn worst_matching_component_decides() {
        let page = claude(
            Indicator::Minor,
            S::Operational,
            S::PartialOutage,
            S::MajorOutage,
            vec![],
        );
        let (v, _) = page_verdict(&page, &wanted(&["Claude API"]));
        assert_eq!(v.state, State::Degraded);
        assert_eq!(
            v.cause.as_deref(),
            Some("Claude API (api.anthropic.com): partial outage")
        );
        let (v, view) = page_verdict(&page, &wanted(&["Claude API", "yyzkbfz2thpt"]));
        assert_eq!(v.state, State::Outage);
        assert_eq!(v.cause.as_deref(), Some("Claude Code: major outage"));
        assert_eq!(view.components.len(), 2);
    }

    #[test]
    fn most_severe_word_names_the_cause_among_equal_states() {
        let page = claude(
            Indicator::Minor,
            S::DegradedPerformance,
            S::PartialOutage,
            S::UnderMaintenance,
            vec![],
        );
        let (v, _) = page_verdict(&page, &wanted(&["claude.ai", "Claude API", "Claude Code"]));
        assert_eq!(v.state, State::Degraded);
        assert_eq!(
            v.cause.as_deref(),
            Some("Claude API (api.anthropic.com): partial outage")
        );
    }

    #[test]
    fn no_match_is_operational_even_when_the_page_is_not() {
        let page = PageStatus {
            indicator: Indicator::Major,
            description: "1 open incident".into(),
            components: vec![comp("P1", "Cloud Run", S::MajorOutage)],
            incidents: vec![incident("Cloud Run down", &["Cloud Run"])],
            maintenances: Vec::new(),
        };
        let (v, view) = page_verdict(&page, &wanted(&["Z0FZJAMvEB4j3NbCJs6B"]));
        assert_eq!(v.state, State::Operational);
        assert!(view.components.is_empty() && view.incidents.is_empty());
    }

    #[test]
    fn untagged_incidents_are_kept_but_tagged_ones_name_the_cause() {
        let page = claude(
            Indicator::Minor,
            S::Operational,
            S::DegradedPerformance,
            S::Operational,
            vec![
                incident("Untagged trouble", &[]),
                incident(
                    "Elevated error rates on Claude Opus",
                    &["Claude API (api.anthropic.com)", "claude.ai"],
                ),
                incident("Claude Code login failures", &["Claude Code"]),
            ],
        );
        let (v, view) = page_verdict(&page, &wanted(&["Claude API"]));
        assert_eq!(v.state, State::Degraded);
        assert_eq!(v.cause.as_deref(), Some("Elevated error rates on Claude Opus"));
        let names: Vec<&str> = view.incidents.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["Elevated error rates on Claude Opus", "Untagged trouble"]);
    }

    #[test]
    fn incidents_tagged_by_id_or_configured_name_are_relevant() {
        let mut page = claude(
            Indicator::Minor,
            S::Operational,
            S::PartialOutage,
            S::Operational,
            vec![incident("By id", &["k8w3r06qmzrp"])],
        );
        let (v, _) = page_verdict(&page, &wanted(&["Claude API"]));
        assert_eq!(v.cause.as_deref(), Some("By id"));
        // An incident naming a component the page's list lacks still matches the configured name.
        page.incidents = vec![incident("Bedrock errors", &["bedrock-eu-west-1"])];
        page.components.push(comp(
            "bedrock-us-east-1",
            "Amazon Bedrock (N. Virginia)",
            S::DegradedPerformance,
        ));
        let (v, view) = page_verdict(&page, &wanted(&["bedrock"]));
        assert_eq!(v.state, State::Degraded);
        assert_eq!(v.cause.as_deref(), Some("Bedrock errors"));
        assert_eq!(view.components.len(), 1);
    }

    #[test]
    fn open_tagged_incident_degrades_a_component_still_shown_green() {
        let mut page = claude(
            Indicator::Minor,
            S::Operational,
            S::Operational,
            S::Operational,
            vec![incident(
                "Elevated errors on Claude Opus",
                &["Claude API (api.anthropic.com)"],
            )],
        );
        let (v, _) = page_verdict(&page, &wanted(&["k8w3r06qmzrp"]));
        assert_eq!(v.state, State::Degraded);
        assert_eq!(v.cause.as_deref(), Some("Elevated errors on Claude Opus"));
        // Not for another surface, and not once resolved.
        assert_eq!(
            page_verdict(&page, &wanted(&["rwppv331jlwc"])).0.state,
            State::Operational
        );
        page.incidents[0].status = "resolved".into();
        assert_eq!(
            page_verdict(&page, &wanted(&["k8w3r06qmzrp"])).0.state,
            State::Operational
        );
    }

    #[test]
    fn without_components_the_indicator_decides() {
        for (indicator, state) in [
            (Indicator::None, State::Operational),
            (Indicator::Minor, State::Degraded),
            (Indicator::Maintenance, State::Degraded),
            (Indicator::Major, State::Outage),
            (Indicator::Critical, State::Outage),
            (Indicator::Unknown, State::Unknown),
        ] {
            let page = claude(indicator, S::Operational, S::Operational, S::Operational, vec![]);
            let (v, view) = page_verdict(&page, &[]);
            assert_eq!(v.state, state, "{indicator:?}");
            assert_eq!(view, page, "the whole page is the view");
            if state == State::Operational {
                assert_eq!(v.cause, None);
            } else {
                assert_eq!(v.cause.as_deref(), Some("Partial System Outage"), "{indicator:?}");
            }
        }
    }

    #[test]
    fn without_components_the_first_incident_or_worst_component_is_the_cause() {
        let page = claude(
            Indicator::Major,
            S::Operational,
            S::MajorOutage,
            S::Operational,
            vec![],
        );
        let (v, _) = page_verdict(&page, &[]);
        assert_eq!(
            v.cause.as_deref(),
            Some("Claude API (api.anthropic.com): major outage")
        );
        let page = claude(
            Indicator::Major,
            S::Operational,
            S::MajorOutage,
            S::Operational,
            vec![incident("Everything is on fire", &[])],
        );
        assert_eq!(
            page_verdict(&page, &[]).0.cause.as_deref(),
            Some("Everything is on fire")
        );
    }

    #[test]
    fn component_status_mapping_follows_design() {
        for (status, state) in [
            (S::Operational, State::Operational),
            (S::DegradedPerformance, State::Degraded),
            (S::PartialOutage, State::Degraded),
            (S::UnderMaintenance, State::Degraded),
            (S::MajorOutage, State::Outage),
            (S::FullOutage, State::Outage),
            (S::Unknown, State::Unknown),
        ] {
            let page = claude(Indicator::None, S::Operational, status, S::Operational, vec![]);
            assert_eq!(
                page_verdict(&page, &wanted(&["k8w3r06qmzrp"])).0.state,
                state,
                "{status:?}"
            );
        }
    }

    #[test]
    fn unreadable_page_is_unknown_with_its_reason() {
        let page = PageStatus::unknown("HTTP 403: bot challenge");
        let (v, view) = page_verdict(&page, &wanted(&["k8w3r06qmzrp"]));
        assert_eq!(v.state, State::Unknown);
        assert_eq!(v.cause.as_deref(), Some("HTTP 403: bot challenge"));
        assert_eq!(view.indicator, Indicator::Unknown);
    }

    #[test]
    fn maintenance_in_progress_names_the_cause_and_is_filtered() {
        let mut page = claude(
            Indicator::Maintenance,
            S::Operational,
            S::UnderMaintenance,
            S::Operational,
            vec![],
        );
        let mut m = incident("Database upgrade", &["Claude API (api.anthropic.com)"]);
        m.status = "in_progress".into();
        let mut other = incident("claude.ai migration", &["claude.ai"]);
        other.status = "scheduled".into();
        page.maintenances = vec![other, m];
        let (v, view) = page_verdict(&page, &wanted(&["Claude API"]));
        assert_eq!(v.state, State::Degraded);
        assert_eq!(v.cause.as_deref(), Some("Database upgrade"));
        assert_eq!(view.maintenances.len(), 1);
        // A merely scheduled maintenance is no cause; the component's words are.
        page.maintenances[1].status = "scheduled".into();
        let (v, _) = page_verdict(&page, &wanted(&["Claude API"]));
        assert_eq!(
            v.cause.as_deref(),
            Some("Claude API (api.anthropic.com): under maintenance")
        );
    }

    #[test]
    fn resolved_incidents_are_no_cause() {
        let mut done = incident("Already fixed", &["Claude API (api.anthropic.com)"]);
        done.status = "resolved".into();
        let page = claude(
            Indicator::Minor,
            S::Operational,
            S::DegradedPerformance,
            S::Operational,
            vec![done],
        );
        let (v, _) = page_verdict(&page, &wanted(&["Claude API"]));
        assert_eq!(
            v.cause.as_deref(),
            Some("Claude API (api.anthropic.com): degraded performance")
        );
    }
}
