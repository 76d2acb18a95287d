//! What a status page means for one provider: the components configured for it,
//! the incidents that concern them, one state and the page's own words as cause.
//!
//! Pure, so every rule is unit-tested here. Combining the verdict with probe
//! results (a failing probe wins) is `health`'s job.

use crate::config::Provider;
use crate::model::{Component, Incident, Indicator, PageStatus, ProviderKind, State};

use super::models::{incident_relevance, Relevance};
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

/// What a provider relies on, to judge a page by: the components configured
/// for it, the models it uses, and whether it is an API (rather than a product
/// surface such as claude.ai or Claude Code, `kind = "status"`).
#[derive(Clone, Copy, Debug)]
pub struct Interest<'a> {
    pub components: &'a [String],
    pub models: &'a [String],
    pub api: bool,
}

/// Product surfaces a page's incident titles name, that are not an API:
/// an untagged incident naming only these is not an API provider's.
const NON_API_SURFACES: &[&str] = &[
    "chatgpt",
    "codex",
    "sora",
    "claude.ai",
    "claude code",
    "claude console",
    "console",
    "platform.claude.com",
    "claude desktop",
    "claude app",
    "desktop app",
    "mobile app",
    "cowork",
    "claude for government",
    "gemini app",
    "login",
    "log in",
    "sign in",
    "sign-in",
];

/// Impact words that mean "no effect on the service" ("Support chat
/// unavailable" on OpenAI's page): shown, never counted.
const NO_IMPACT: &[&str] = &["none"];

/// The provider-relevant view of `page` and what it means, judged by its
/// components only (no models known, as an API).
pub fn page_verdict(page: &PageStatus, components: &[String]) -> (PageVerdict, PageStatus) {
    page_verdict_for(
        page,
        &Interest {
            components,
            models: &[],
            api: true,
        },
    )
}

/// The view of `page` for `provider` and what it means: its components, its
/// models (`status::models`), and whether it is an API.
pub fn provider_verdict(page: &PageStatus, provider: &Provider) -> (PageVerdict, PageStatus) {
    let models = super::models::provider_models(provider);
    page_verdict_for(
        page,
        &Interest {
            components: &provider.components,
            models: &models,
            api: provider.kind != ProviderKind::Status,
        },
    )
}

/// The provider-relevant view of `page` and what it means.
///
/// With components configured, the state is the worst of the matching
/// components (operational when none match: incident-style feeds list only what
/// is affected), and at least `degraded` while an open incident concerns the
/// provider. An incident concerns it when it is tagged with one of its
/// components; when it carries no tags (incident.io never tags), unless its
/// title names only surfaces the provider is not (claude.ai, Claude Code,
/// ChatGPT, the Console); and whatever its tags, when it names one of the
/// provider's models. Without components, the page indicator decides and
/// every incident concerns the provider.
///
/// Models (`status::models`): an incident naming only models the provider
/// does not use is kept in the view with `relevant: false` ("not your
/// models"), counts for nothing, and the component colour or indicator it
/// caused is not the provider's trouble either. An unreadable page
/// (`Indicator::Unknown`) is `unknown` either way. The view keeps the page's
/// own indicator and description: they describe the page.
pub fn page_verdict_for(page: &PageStatus, interest: &Interest<'_>) -> (PageVerdict, PageStatus) {
    let wanted: Vec<&str> = interest
        .components
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let view = if wanted.is_empty() {
        PageStatus {
            incidents: page
                .incidents
                .iter()
                .map(|i| judged(i, relevance(i, interest) != Relevance::NotMine))
                .collect(),
            ..page.clone()
        }
    } else {
        filtered(page, &wanted, interest)
    };
    let open = |i: &&Incident| !super::is_closed_status(&i.status);
    let counts = |i: &&Incident| i.relevant && !NO_IMPACT.contains(&i.impact.to_ascii_lowercase().as_str());
    let counted = view.incidents.iter().filter(open).any(|i| counts(&i));
    let maintenance_now = view
        .maintenances
        .iter()
        .any(|m| MAINTENANCE_IN_PROGRESS.contains(&m.status.to_ascii_lowercase().as_str()));
    // Every open incident is about other models: the colour they gave the
    // page or the component is theirs, not this provider's.
    let only_other_models = !maintenance_now
        && view.incidents.iter().filter(open).count() > 0
        && view.incidents.iter().filter(open).all(|i| !i.relevant);
    let state = if page.indicator == Indicator::Unknown {
        State::Unknown
    } else if only_other_models {
        State::Operational
    } else if wanted.is_empty() {
        page.indicator.state()
    } else {
        let components = view
            .components
            .iter()
            .map(|c| c.status.state())
            .max()
            .unwrap_or(State::Operational);
        // An open incident concerning this provider is trouble even while the
        // page still shows the component green (pages often lag there too).
        if counted {
            components.max(State::Degraded)
        } else {
            components
        }
    };
    let cause = (state != State::Operational).then(|| cause(page.indicator, &view));
    (PageVerdict { state, cause }, view)
}

fn relevance(incident: &Incident, interest: &Interest<'_>) -> Relevance {
    incident_relevance(&incident.name, &incident.components, interest.models)
}

fn judged(incident: &Incident, relevant: bool) -> Incident {
    Incident {
        relevant,
        ..incident.clone()
    }
}

fn filtered(page: &PageStatus, wanted: &[&str], interest: &Interest<'_>) -> PageStatus {
    let components: Vec<Component> = page
        .components
        .iter()
        .filter(|c| wanted.iter().any(|w| component_matches(w, c)))
        .cloned()
        .collect();
    let concerns = |i: &Incident| i.components.is_empty() || names_a_match(i, &components, wanted);
    // Tagged incidents first: their words describe this provider better than an
    // untagged incident that may concern another part of the page.
    let mut incidents: Vec<Incident> = page
        .incidents
        .iter()
        .filter_map(|i| {
            let relevance = relevance(i, interest);
            let concerned = relevance == Relevance::Mine
                || if i.components.is_empty() {
                    !names_only_other_surfaces(&i.name, page, &components, interest.api)
                } else {
                    names_a_match(i, &components, wanted)
                };
            concerned.then(|| judged(i, relevance != Relevance::NotMine))
        })
        .collect();
    incidents.sort_by_key(|i| (!i.relevant, i.components.is_empty()));
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

/// Whether an incident title names surfaces of the page (its components, or
/// products such as ChatGPT or the Console) and none of them is the
/// provider's. "The API" is an API provider's surface; a component named
/// after a model ("Claude Opus 4.6") is no surface.
fn names_only_other_surfaces(title: &str, page: &PageStatus, matched: &[Component], api: bool) -> bool {
    let title = title.to_lowercase();
    let mut mine = false;
    let mut other = false;
    for c in &page.components {
        if super::models::names_a_model(&c.name) {
            continue;
        }
        let is_mine = matched.iter().any(|m| m == c);
        if surface_aliases(&c.name)
            .iter()
            .any(|a| contains_phrase(&title, a))
        {
            if is_mine {
                mine = true;
            } else {
                other = true;
            }
        }
    }
    for surface in NON_API_SURFACES {
        if contains_phrase(&title, surface) {
            let is_mine = matched.iter().any(|m| {
                surface_aliases(&m.name)
                    .iter()
                    .any(|a| contains_phrase(a, surface))
            });
            if is_mine {
                mine = true;
            } else {
                other = true;
            }
        }
    }
    if contains_phrase(&title, "api") || contains_phrase(&title, "apis") {
        if api {
            mine = true;
        } else {
            other = true;
        }
    }
    other && !mine
}

/// The ways a title may name a component: "Claude API (api.anthropic.com)"
/// is "claude api" or "api.anthropic.com".
fn surface_aliases(name: &str) -> Vec<String> {
    let name = name.trim().to_lowercase();
    let mut out = Vec::new();
    if let Some((head, rest)) = name.split_once(" (") {
        out.push(head.trim().to_string());
        out.push(rest.trim_end_matches(')').trim().to_string());
    } else {
        out.push(name);
    }
    out.retain(|a| a.chars().count() >= MIN_SURFACE_CHARS);
    out
}

/// Shorter component names ("AI", "UI") are left out of surface matching:
/// they turn up inside other words and phrases.
const MIN_SURFACE_CHARS: usize = 3;

/// Whether `needle` occurs in `haystack` as whole words (both lowercase).
fn contains_phrase(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    haystack.match_indices(needle).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + needle.len()..].chars().next();
        !is_word(before) && !is_word(after)
    })
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
        .find(|i| i.relevant && !super::is_closed_status(&i.status))
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
            relevant: true,
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

    fn interest<'a>(components: &'a [String], models: &'a [String], api: bool) -> Interest<'a> {
        Interest {
            components,
            models,
            api,
        }
    }

    /// Issue 11, item 6: an incident naming only other models is shown as
    /// "not your models" and counts for nothing, not even the component
    /// colour it caused; naming the user's model, or none, it counts.
    #[test]
    fn an_incident_naming_other_models_is_shown_not_counted() {
        let page = claude(
            Indicator::Minor,
            S::Operational,
            S::PartialOutage,
            S::Operational,
            vec![incident(
                "Elevated errors on Claude Opus 4.1",
                &["Claude API (api.anthropic.com)"],
            )],
        );
        let api = wanted(&["Claude API"]);
        let sonnet = wanted(&["claude-sonnet-4-5-20250929"]);
        let (v, view) = page_verdict_for(&page, &interest(&api, &sonnet, true));
        assert_eq!(v.state, State::Operational);
        assert_eq!(v.cause, None);
        assert_eq!(view.incidents.len(), 1, "still shown on the card");
        assert!(!view.incidents[0].relevant);

        let opus = wanted(&["claude-opus-4-1"]);
        let (v, view) = page_verdict_for(&page, &interest(&api, &opus, true));
        assert_eq!(v.state, State::Degraded);
        assert_eq!(v.cause.as_deref(), Some("Elevated errors on Claude Opus 4.1"));
        assert!(view.incidents[0].relevant);

        // No models known: it counts, as before.
        assert_eq!(page_verdict(&page, &api).0.state, State::Degraded);
        // Without components the indicator would decide; other models' incident is not ours.
        assert_eq!(
            page_verdict_for(&page, &interest(&[], &sonnet, true)).0.state,
            State::Operational
        );
        assert_eq!(
            page_verdict_for(&page, &interest(&[], &opus, true)).0.state,
            State::Degraded
        );
    }

    /// Issue 11, item 8b: an incident with no components reached no provider
    /// with components configured, even when its title named the API's model.
    #[test]
    fn untagged_incident_naming_a_model_reaches_the_api() {
        let page = claude(
            Indicator::Minor,
            S::Operational,
            S::Operational,
            S::Operational,
            vec![incident("Elevated errors on Claude Opus 4.5", &[])],
        );
        let api = wanted(&["k8w3r06qmzrp"]);
        let (v, _) = page_verdict(&page, &api);
        assert_eq!(v.state, State::Degraded);
        assert_eq!(v.cause.as_deref(), Some("Elevated errors on Claude Opus 4.5"));
        let (v, view) = page_verdict_for(&page, &interest(&api, &wanted(&["claude-opus-4-5"]), true));
        assert_eq!(v.state, State::Degraded);
        assert!(view.incidents[0].relevant);
        let (v, view) = page_verdict_for(&page, &interest(&api, &wanted(&["claude-haiku-4-5"]), true));
        assert_eq!(v.state, State::Operational);
        assert!(!view.incidents[0].relevant);
        // An untagged incident naming no surface and no model counts for every provider of the page.
        let mut page = page;
        page.incidents = vec![incident("Elevated error rates", &[])];
        for surface in ["k8w3r06qmzrp", "rwppv331jlwc", "yyzkbfz2thpt"] {
            assert_eq!(
                page_verdict(&page, &wanted(&[surface])).0.state,
                State::Degraded,
                "{surface}"
            );
        }
    }

    /// Item 8b, the other half: untagged incidents naming only other surfaces
    /// stay theirs.
    #[test]
    fn untagged_incident_naming_only_other_surfaces_stays_theirs() {
        let mut page = claude(
            Indicator::Minor,
            S::Operational,
            S::Operational,
            S::Operational,
            vec![incident("Elevated errors on claude.ai", &[])],
        );
        let api = wanted(&["k8w3r06qmzrp"]);
        let ai = wanted(&["rwppv331jlwc"]);
        let (v, view) = page_verdict(&page, &api);
        assert_eq!(v.state, State::Operational);
        assert!(view.incidents.is_empty());
        assert_eq!(
            page_verdict_for(&page, &interest(&ai, &[], false)).0.state,
            State::Degraded
        );
        for (title, api_state, ai_state) in [
            (
                "Claude Code login failures",
                State::Operational,
                State::Operational,
            ),
            (
                "Elevated errors on the Console",
                State::Operational,
                State::Operational,
            ),
            (
                "Elevated errors on the Claude API",
                State::Degraded,
                State::Operational,
            ),
            (
                "Elevated errors on claude.ai and the API",
                State::Degraded,
                State::Degraded,
            ),
        ] {
            page.incidents = vec![incident(title, &[])];
            assert_eq!(page_verdict(&page, &api).0.state, api_state, "API: {title}");
            assert_eq!(
                page_verdict_for(&page, &interest(&ai, &[], false)).0.state,
                ai_state,
                "claude.ai: {title}"
            );
        }
        // Claude Code's own incident is Claude Code's.
        page.incidents = vec![incident("Claude Code login failures", &[])];
        let code = wanted(&["yyzkbfz2thpt"]);
        assert_eq!(
            page_verdict_for(&page, &interest(&code, &[], false)).0.state,
            State::Degraded
        );
    }

    /// Item 8b: tagged only with another surface, an incident naming the
    /// provider's model reaches it; naming no model or another, it does not.
    #[test]
    fn incident_tagged_with_another_surface_reaches_the_api_through_its_model() {
        let page = claude(
            Indicator::Minor,
            S::PartialOutage,
            S::Operational,
            S::Operational,
            vec![incident("Elevated errors on Claude Opus 4.5", &["claude.ai"])],
        );
        let api = wanted(&["k8w3r06qmzrp"]);
        let (v, view) = page_verdict_for(&page, &interest(&api, &wanted(&["claude-opus-4-5"]), true));
        assert_eq!(v.state, State::Degraded);
        assert_eq!(view.incidents.len(), 1);
        let (v, view) = page_verdict_for(&page, &interest(&api, &wanted(&["claude-sonnet-4-5"]), true));
        assert_eq!(v.state, State::Operational);
        assert!(view.incidents.is_empty());
        assert_eq!(page_verdict(&page, &api).0.state, State::Operational);
    }

    #[test]
    fn an_incident_without_impact_is_shown_not_counted() {
        let mut quiet = incident("Support chat unavailable", &[]);
        quiet.impact = "none".into();
        let page = claude(
            Indicator::None,
            S::Operational,
            S::Operational,
            S::Operational,
            vec![quiet],
        );
        let (v, view) = page_verdict(&page, &wanted(&["k8w3r06qmzrp"]));
        assert_eq!(v.state, State::Operational);
        assert_eq!(view.incidents.len(), 1);
    }

    #[test]
    fn model_named_components_are_no_surfaces() {
        let mut page = claude(
            Indicator::Minor,
            S::Operational,
            S::Operational,
            S::Operational,
            vec![incident("Elevated errors on Claude Opus 4.6", &[])],
        );
        page.components
            .push(comp("op46", "Claude Opus 4.6", S::Operational));
        let api = wanted(&["k8w3r06qmzrp"]);
        assert_eq!(
            page_verdict_for(&page, &interest(&api, &wanted(&["claude-opus-4-6"]), true))
                .0
                .state,
            State::Degraded
        );
        assert_eq!(page_verdict(&page, &api).0.state, State::Degraded);
    }

    #[test]
    fn phrases_match_whole_words() {
        assert!(contains_phrase("errors on the api.", "api"));
        assert!(!contains_phrase("errors on rapid requests", "api"));
        assert!(contains_phrase("errors on claude.ai today", "claude.ai"));
        assert!(!contains_phrase("errors on the agents api", "agent"));
        assert_eq!(
            surface_aliases("Claude API (api.anthropic.com)"),
            ["claude api", "api.anthropic.com"]
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
