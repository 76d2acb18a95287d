//! Which incidents were announced: one "began" per incident, an "ended" only
//! after a "began" was shown, and the escalation of a quiet incident into an
//! announced one. Pure: events in, plans out; the notifier does the showing.
//!
//! While notifications are paused nothing is shown. When the pause ends, what
//! is still news is: an incident still going on that was never announced
//! ("began"), and the end of an announced one that ended meanwhile ("ended",
//! replacing its stale "began" with its "Switch to" button). An incident that
//! began and ended within the pause is not mentioned.
//!
//! Flap damping, offline and post-sleep quiet are the health machine's job (it
//! opens no incident then); this only guards against announcing one twice.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::notice::{self, Notice, NoticeKind};
use crate::config::NotificationConfig;
use crate::engine::Event;
use crate::health::IncidentRecord;
use crate::model::StatusReport;

/// One incident: its provider and the start of the failing streak that opened it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct IncidentKey {
    pub(crate) provider: String,
    pub(crate) started_at: DateTime<Utc>,
}

/// What the tracker needs to decide, besides the event.
pub(crate) struct Inputs<'a> {
    pub(crate) report: &'a StatusReport,
    pub(crate) settings: &'a NotificationConfig,
    pub(crate) paused: bool,
}

#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    Nothing,
    /// Show `notice`, in place of notification `replaces` when given; report
    /// a shown "began" back with [`Tracker::shown`].
    Show {
        key: IncidentKey,
        notice: Notice,
        replaces: Option<u32>,
    },
    /// A notice that would be shown but for the pause or `enabled = false`:
    /// the notifier logs it.
    Held {
        notice: Notice,
        why: &'static str,
    },
}

#[derive(Debug)]
struct Open {
    record: IncidentRecord,
    /// Set once a "began" notice was shown: its kind and server id.
    announced: Option<(NoticeKind, u32)>,
}

/// An announced incident whose end came during the pause.
#[derive(Debug)]
struct HeldEnd {
    provider: String,
    record: IncidentRecord,
    announced: (NoticeKind, u32),
}

#[derive(Debug, Default)]
pub(crate) struct Tracker {
    open: HashMap<String, Open>,
    /// At most one per provider: a new one needs a new announcement, and none
    /// is made while paused.
    held_ends: Vec<HeldEnd>,
}

impl Tracker {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn on_event(&mut self, event: &Event, inputs: &Inputs<'_>) -> Outcome {
        match event {
            Event::IncidentOpened { id, incident } => {
                if self
                    .open
                    .get(id)
                    .is_some_and(|o| o.record.started_at == incident.started_at)
                {
                    return Outcome::Nothing;
                }
                self.open.insert(
                    id.clone(),
                    Open {
                        record: incident.clone(),
                        announced: None,
                    },
                );
                if notice::announces(incident.state, inputs.settings) {
                    self.announce(id, inputs)
                } else {
                    Outcome::Nothing
                }
            }
            // A quiet incident (degraded, not announced) that turns into an
            // outage is announced then, in the words of the moment.
            Event::StateChanged { id, to, .. } => {
                let Some(open) = self.open.get_mut(id) else {
                    return Outcome::Nothing;
                };
                if open.announced.is_some() || !notice::announces(*to, inputs.settings) {
                    return Outcome::Nothing;
                }
                open.record.state = *to;
                if let Some(now) = inputs.report.providers.iter().find(|p| &p.id == id) {
                    open.record.cause = now.summary.clone();
                    if let Some(r) = now
                        .probe
                        .as_ref()
                        .filter(|p| !p.ok)
                        .and_then(|p| p.request_id.clone())
                    {
                        open.record.request_id = Some(r);
                    }
                }
                self.announce(id, inputs)
            }
            Event::IncidentClosed { id, incident } => {
                if self
                    .open
                    .get(id)
                    .is_none_or(|o| o.record.started_at != incident.started_at)
                {
                    return Outcome::Nothing;
                }
                let Some((kind, shown_id)) = self.open.remove(id).and_then(|o| o.announced) else {
                    return Outcome::Nothing;
                };
                let notice = notice::ended(id, incident, kind, inputs.report);
                let outcome = Self::gate(
                    IncidentKey {
                        provider: id.clone(),
                        started_at: incident.started_at,
                    },
                    notice,
                    Some(shown_id),
                    inputs,
                );
                if inputs.settings.enabled && inputs.paused {
                    self.held_ends.push(HeldEnd {
                        provider: id.clone(),
                        record: incident.clone(),
                        announced: (kind, shown_id),
                    });
                }
                outcome
            }
            Event::IncidentAcknowledged { .. }
            | Event::CheckFinished { .. }
            | Event::PreferredChanged { .. }
            | Event::SettingsChanged => Outcome::Nothing,
        }
    }

    /// What is still news when notices are allowed again (see the module
    /// docs); nothing while they are not. Ends first, then beginnings.
    pub(crate) fn resumed(&mut self, inputs: &Inputs<'_>) -> Vec<Outcome> {
        if inputs.paused || !inputs.settings.enabled {
            return Vec::new();
        }
        let mut out: Vec<Outcome> = std::mem::take(&mut self.held_ends)
            .into_iter()
            .map(|held| {
                let (kind, shown_id) = held.announced;
                Outcome::Show {
                    key: IncidentKey {
                        provider: held.provider.clone(),
                        started_at: held.record.started_at,
                    },
                    notice: notice::ended(&held.provider, &held.record, kind, inputs.report),
                    replaces: Some(shown_id),
                }
            })
            .collect();
        let mut quiet: Vec<&String> = self
            .open
            .iter()
            .filter(|(_, o)| o.announced.is_none() && notice::announces(o.record.state, inputs.settings))
            .map(|(id, _)| id)
            .collect();
        quiet.sort();
        out.extend(quiet.into_iter().map(|id| self.announce(id, inputs)));
        out
    }

    /// Records that the "began" notice of `key` is on screen as notification `id`.
    pub(crate) fn shown(&mut self, key: &IncidentKey, kind: NoticeKind, id: u32) {
        if !matches!(kind, NoticeKind::OutageBegan | NoticeKind::CredentialProblem) {
            return;
        }
        if let Some(open) = self.open.get_mut(&key.provider) {
            if open.record.started_at == key.started_at {
                open.announced = Some((kind, id));
            }
        }
    }

    fn announce(&self, id: &str, inputs: &Inputs<'_>) -> Outcome {
        let Some(open) = self.open.get(id) else {
            return Outcome::Nothing;
        };
        let notice = notice::began(id, &open.record, inputs.report);
        let key = IncidentKey {
            provider: id.to_string(),
            started_at: open.record.started_at,
        };
        Self::gate(key, notice, None, inputs)
    }

    fn gate(key: IncidentKey, notice: Notice, replaces: Option<u32>, inputs: &Inputs<'_>) -> Outcome {
        if !inputs.settings.enabled {
            Outcome::Held {
                notice,
                why: "notifications are off ([notifications] enabled = false)",
            }
        } else if inputs.paused {
            Outcome::Held {
                notice,
                why: "notifications are paused",
            }
        } else {
            Outcome::Show {
                key,
                notice,
                replaces,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CredentialSource, ProviderReport, State};
    use chrono::TimeDelta;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + TimeDelta::seconds(secs)
    }

    fn report(a: State, summary: &str) -> StatusReport {
        let p = |id: &str, kind: &str, name: &str, state| ProviderReport {
            id: id.into(),
            name: name.into(),
            state,
            since: None,
            summary: summary.into(),
            confirmed_by_status_page: false,
            probe: None,
            status_page: None,
            credential: CredentialSource::Keyring,
            kind: kind.parse().expect("a provider kind"),
            api_key_env: None,
            status_url: None,
            agent_errors: None,
            not_running: false,
            models: Vec::new(),
            inference: None,
        };
        StatusReport {
            checked_at: t(0),
            preferred: Some("a".into()),
            fallback: vec!["a".into(), "b".into()],
            auto_switch: false,
            passive: Default::default(),
            config_error: None,
            engine_error: None,
            history_paused: None,
            overall: a,
            providers: vec![
                p("a", "anthropic", "Claude API", a),
                p("b", "openai", "OpenAI API", State::Operational),
            ],
        }
    }

    fn record(state: State, start: i64) -> IncidentRecord {
        IncidentRecord {
            model: None,
            state,
            started_at: t(start),
            detected_at: t(start + 10),
            acknowledged_at: None,
            ended_at: None,
            cause: format!("{state} cause"),
            request_id: None,
        }
    }

    fn opened(state: State, start: i64) -> Event {
        Event::IncidentOpened {
            id: "a".into(),
            incident: record(state, start),
        }
    }

    fn closed(state: State, start: i64, end: i64) -> Event {
        let mut incident = record(state, start);
        incident.ended_at = Some(t(end));
        Event::IncidentClosed {
            id: "a".into(),
            incident,
        }
    }

    struct World {
        settings: NotificationConfig,
        paused: bool,
        report: StatusReport,
        tracker: Tracker,
        next_id: u32,
    }

    impl World {
        fn new(degraded: bool) -> World {
            World {
                settings: NotificationConfig {
                    enabled: true,
                    degraded,
                },
                paused: false,
                report: report(State::Outage, "HTTP 500"),
                tracker: Tracker::new(),
                next_id: 1,
            }
        }

        /// Feeds the event; a planned notice is "shown" (gets an id). Returns
        /// the notice and what it replaces.
        fn feed(&mut self, e: Event) -> Option<(Notice, Option<u32>)> {
            let inputs = Inputs {
                report: &self.report,
                settings: &self.settings,
                paused: self.paused,
            };
            let outcome = self.tracker.on_event(&e, &inputs);
            self.show(outcome)
        }

        /// The pause ended (or not): what is shown.
        fn resume(&mut self) -> Vec<(Notice, Option<u32>)> {
            let inputs = Inputs {
                report: &self.report,
                settings: &self.settings,
                paused: self.paused,
            };
            let outcomes = self.tracker.resumed(&inputs);
            outcomes.into_iter().filter_map(|o| self.show(o)).collect()
        }

        fn show(&mut self, outcome: Outcome) -> Option<(Notice, Option<u32>)> {
            match outcome {
                Outcome::Show {
                    key,
                    notice,
                    replaces,
                } => {
                    let id = replaces.unwrap_or_else(|| {
                        self.next_id += 1;
                        self.next_id - 1
                    });
                    self.tracker.shown(&key, notice.kind, id);
                    Some((notice, replaces))
                }
                Outcome::Held { .. } | Outcome::Nothing => None,
            }
        }
    }

    #[test]
    fn one_began_and_one_ended_per_incident() {
        let mut w = World::new(false);
        let (n, replaces) = w.feed(opened(State::Outage, 0)).unwrap();
        assert_eq!(n.kind, NoticeKind::OutageBegan);
        assert_eq!(replaces, None);
        assert!(w.feed(opened(State::Outage, 0)).is_none(), "a duplicate event");
        assert!(w
            .feed(Event::IncidentAcknowledged {
                id: "a".into(),
                incident: record(State::Outage, 0)
            })
            .is_none());
        let (n, replaces) = w.feed(closed(State::Outage, 0, 300)).unwrap();
        assert_eq!(n.kind, NoticeKind::OutageEnded);
        assert!(n.body.starts_with("after 5 min"), "{}", n.body);
        assert_eq!(replaces, Some(1), "the recovery replaces the outage notice");
        assert!(w.feed(closed(State::Outage, 0, 300)).is_none(), "closed twice");
        // The next incident is a new one.
        assert!(w.feed(opened(State::Outage, 600)).is_some());
    }

    #[test]
    fn quiet_degraded_incident_ends_quietly() {
        let mut w = World::new(false);
        assert!(w.feed(opened(State::Degraded, 0)).is_none());
        assert!(w.feed(opened(State::RateLimited, 0)).is_none());
        assert!(
            w.feed(closed(State::Degraded, 0, 60)).is_none(),
            "no lonely recovery"
        );
    }

    #[test]
    fn degraded_is_announced_when_asked_for() {
        let mut w = World::new(true);
        let (n, _) = w.feed(opened(State::Degraded, 0)).unwrap();
        assert_eq!(n.summary, "Claude API: degraded");
        assert!(w.feed(closed(State::Degraded, 0, 60)).is_some());
    }

    #[test]
    fn a_quiet_incident_that_becomes_an_outage_is_announced_once() {
        let mut w = World::new(false);
        assert!(w.feed(opened(State::Degraded, 0)).is_none());
        let change = |from, to| Event::StateChanged {
            id: "a".into(),
            from,
            to,
        };
        assert!(w.feed(change(State::Operational, State::Degraded)).is_none());
        w.report = report(State::Outage, "HTTP 503 upstream connect error");
        let (n, _) = w.feed(change(State::Degraded, State::Outage)).unwrap();
        assert_eq!(n.summary, "Claude API: outage");
        assert!(
            n.body.starts_with("HTTP 503 upstream connect error"),
            "{}",
            n.body
        );
        assert!(w.feed(change(State::Outage, State::Degraded)).is_none());
        assert!(w.feed(change(State::Degraded, State::Outage)).is_none(), "once");
        let (n, _) = w.feed(closed(State::Outage, 0, 60)).unwrap();
        assert_eq!(n.kind, NoticeKind::OutageEnded);
    }

    #[test]
    fn state_changes_without_an_incident_say_nothing() {
        let mut w = World::new(false);
        let e = Event::StateChanged {
            id: "a".into(),
            from: State::Operational,
            to: State::Outage,
        };
        assert!(w.feed(e).is_none(), "the incident event comes next and speaks");
    }

    #[test]
    fn paused_incident_is_held_and_its_end_too() {
        let mut w = World::new(false);
        w.paused = true;
        let inputs = Inputs {
            report: &w.report,
            settings: &w.settings,
            paused: true,
        };
        match w.tracker.on_event(&opened(State::Outage, 0), &inputs) {
            Outcome::Held { notice, why } => {
                assert_eq!(notice.summary, "Claude API: outage");
                assert!(why.contains("paused"));
            }
            other => panic!("{other:?}"),
        }
        w.paused = false;
        assert!(w.feed(closed(State::Outage, 0, 60)).is_none(), "never announced");
        assert!(w.resume().is_empty(), "and over");
    }

    #[test]
    fn pause_during_an_incident_holds_its_end_until_resumed() {
        let mut w = World::new(false);
        assert!(w.feed(opened(State::Outage, 0)).is_some());
        w.paused = true;
        assert!(w.feed(closed(State::Outage, 0, 60)).is_none());
        assert!(w.resume().is_empty(), "still paused");
        w.paused = false;
        let shown = w.resume();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].0.summary, "Claude API recovered");
        assert_eq!(shown[0].1, Some(1), "replacing the stale outage notice");
        assert!(w.resume().is_empty(), "once");
        assert!(w.feed(opened(State::Outage, 100)).is_some());
    }

    #[test]
    fn an_incident_still_going_on_is_announced_at_resume() {
        let mut w = World::new(false);
        w.paused = true;
        assert!(w.feed(opened(State::Outage, 0)).is_none());
        // Begun and ended within the pause: not news any more.
        let mut b = opened(State::Outage, 0);
        if let Event::IncidentOpened { id, .. } = &mut b {
            *id = "b".into();
        }
        assert!(w.feed(b).is_none());
        let mut b_closed = closed(State::Outage, 0, 30);
        if let Event::IncidentClosed { id, .. } = &mut b_closed {
            *id = "b".into();
        }
        assert!(w.feed(b_closed).is_none());
        w.paused = false;
        let shown = w.resume();
        assert_eq!(
            shown.iter().map(|(n, _)| n.summary.as_str()).collect::<Vec<_>>(),
            ["Claude API: outage"]
        );
        assert!(w.resume().is_empty(), "announced now");
        let (n, replaces) = w.feed(closed(State::Outage, 0, 600)).unwrap();
        assert_eq!(n.kind, NoticeKind::OutageEnded);
        assert_eq!(replaces, Some(1));
    }

    #[test]
    fn disabled_holds_everything() {
        let mut w = World::new(true);
        w.settings.enabled = false;
        assert!(w.feed(opened(State::Outage, 0)).is_none());
        assert!(w.feed(opened(State::AuthError, 100)).is_none());
        assert!(w.resume().is_empty());
    }

    #[test]
    fn a_began_that_failed_to_show_gets_no_ended() {
        let mut w = World::new(false);
        let inputs = Inputs {
            report: &w.report,
            settings: &w.settings,
            paused: false,
        };
        assert!(matches!(
            w.tracker.on_event(&opened(State::Outage, 0), &inputs),
            Outcome::Show { .. }
        ));
        // No `shown`: the server was not there.
        assert!(w.feed(closed(State::Outage, 0, 60)).is_none());
    }

    #[test]
    fn credential_problem_ends_as_fixed() {
        let mut w = World::new(false);
        let (n, _) = w.feed(opened(State::AuthError, 0)).unwrap();
        assert_eq!(n.kind, NoticeKind::CredentialProblem);
        let (n, _) = w.feed(closed(State::Outage, 0, 30)).unwrap();
        assert_eq!(n.kind, NoticeKind::CredentialFixed);
    }

    #[test]
    fn a_stale_close_does_not_end_a_newer_incident() {
        let mut w = World::new(false);
        assert!(w.feed(opened(State::Outage, 0)).is_some());
        assert!(
            w.feed(opened(State::Outage, 500)).is_some(),
            "a new streak, a new incident"
        );
        assert!(w.feed(closed(State::Outage, 0, 60)).is_none());
        assert!(
            w.feed(closed(State::Outage, 500, 560)).is_some(),
            "the newer one still ends"
        );
    }
}
