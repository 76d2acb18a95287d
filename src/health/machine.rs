//! The per-provider health state machine: hysteresis, flap damping, offline and
//! post-sleep handling, and incident records.
//!
//! A pure struct: no I/O and no clock reads. The engine feeds it one
//! [`Observation`] per check, timestamped by the engine's clock, and gets back
//! the [`Transition`]s to publish. Separate thresholds for going down
//! (`failures_to_open`) and coming back up (`successes_to_close`) are what damp
//! flapping: a signal that alternates every poll never collects the streak needed
//! to close, so it yields one incident begin and, once it settles, one end.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::assess::Assessment;
use crate::config::CheckConfig;
use crate::model::State;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// Consecutive failing probes that begin an incident.
    pub(crate) failures_to_open: u32,
    /// Consecutive passing checks that end it.
    pub(crate) successes_to_close: u32,
}

impl From<&CheckConfig> for Thresholds {
    fn from(c: &CheckConfig) -> Self {
        Thresholds {
            failures_to_open: c.failures_to_open,
            successes_to_close: c.successes_to_close,
        }
    }
}

/// What the round as a whole says about the conditions of this check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Normal,
    /// Every remote endpoint failed to answer: the user's network is down.
    Offline,
    /// The first check after the machine resumed from sleep: failures here are
    /// most likely the network coming back up, so they do not count.
    Settling,
}

#[derive(Clone, Debug)]
pub struct Observation<'a> {
    pub(crate) at: DateTime<Utc>,
    pub(crate) assessment: &'a Assessment,
    /// The assessment rests on a probe (needs `failures_to_open`); a page-only one
    /// is the provider's own acknowledgement and opens at once.
    pub(crate) from_probe: bool,
    /// The probe got a successful answer (the API works), whatever the page says.
    pub(crate) probe_passed: bool,
    /// The page was read for this observation (or there is none). A
    /// confirmation round re-probes but reuses the last page reading, which is
    /// no new evidence that a page-driven incident is over.
    pub(crate) page_fresh: bool,
    pub(crate) request_id: Option<&'a str>,
    pub(crate) context: Context,
    /// The result that decides the assessment is new. `false`: the state rests
    /// on a result an earlier observation already counted (a model's last
    /// inference check seen again beside a new model-list probe, or the other
    /// way round), so no streak moves: one failed check is one failure however
    /// many observations show it. The words and the page's acknowledgement
    /// still apply.
    pub(crate) evidence: bool,
}

/// One incident: a period during which the provider was in a troubled state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRecord {
    /// The worst state seen during the incident.
    pub state: State,
    /// The first failing check of the streak that opened it.
    pub started_at: DateTime<Utc>,
    /// When we declared it (the check that completed the streak).
    pub detected_at: DateTime<Utc>,
    /// When the status page first reported trouble during it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// The cause as first seen.
    pub cause: String,
    /// The first failing request's id, for the user's support ticket.
    pub request_id: Option<String>,
    /// The model whose inference check opened it (`None`: the provider as a
    /// whole: its model list, its status page, its traffic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// When an incident observed ending at `at` ends: never before it was detected.
/// The wall clock can be set back mid-incident (an NTP step, a user fixing the
/// time); an end before the start would give negative durations in the
/// notification, the history and the uptime figures.
fn end_not_before(at: DateTime<Utc>, incident: &IncidentRecord) -> DateTime<Utc> {
    at.max(incident.detected_at).max(incident.started_at)
}

impl IncidentRecord {
    /// Minutes between our detection and the page's acknowledgement (how far ahead we were).
    pub fn lead_minutes(&self) -> Option<i64> {
        self.acknowledged_at
            .map(|ack| (ack - self.detected_at).num_minutes().max(0))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    Changed { from: State, to: State },
    Opened(IncidentRecord),
    Acknowledged(IncidentRecord),
    Closed(IncidentRecord),
}

pub(crate) fn is_trouble(s: State) -> bool {
    matches!(
        s,
        State::Outage | State::AuthError | State::Degraded | State::RateLimited
    )
}

#[derive(Clone, Debug)]
pub struct HealthMachine {
    thresholds: Thresholds,
    state: State,
    since: Option<DateTime<Utc>>,
    summary: String,
    confirmed: bool,
    bad_streak: u32,
    good_streak: u32,
    /// Consecutive passing probes, whatever the page said meanwhile.
    probe_good_streak: u32,
    streak_started: Option<DateTime<Utc>>,
    streak_request_id: Option<String>,
    incident: Option<IncidentRecord>,
}

impl HealthMachine {
    pub(crate) fn new(thresholds: Thresholds) -> Self {
        HealthMachine {
            thresholds,
            state: State::Unknown,
            since: None,
            summary: "not checked yet".to_string(),
            confirmed: false,
            bad_streak: 0,
            good_streak: 0,
            probe_good_streak: 0,
            streak_started: None,
            streak_request_id: None,
            incident: None,
        }
    }

    pub(crate) fn state(&self) -> State {
        self.state
    }

    pub(crate) fn since(&self) -> Option<DateTime<Utc>> {
        self.since
    }

    pub(crate) fn summary(&self) -> &str {
        &self.summary
    }

    pub(crate) fn confirmed_by_status_page(&self) -> bool {
        self.confirmed
    }

    pub(crate) fn incident(&self) -> Option<&IncidentRecord> {
        self.incident.as_ref()
    }

    /// A failure is being confirmed: the engine should re-probe soon (`confirm_secs`).
    pub(crate) fn wants_confirmation(&self) -> bool {
        (self.bad_streak > 0 && self.incident.is_none()) || (self.incident.is_some() && self.good_streak > 0)
    }

    /// Names the model behind the open incident (the engine knows which
    /// model's check made the assessment; the machine only sees words).
    pub(crate) fn set_incident_model(&mut self, model: Option<String>) {
        if let Some(incident) = self.incident.as_mut() {
            incident.model = model;
        }
    }

    pub(crate) fn set_thresholds(&mut self, thresholds: Thresholds) {
        self.thresholds = thresholds;
    }

    /// Feeds one observation; returns what changed (incidents opened, closed,
    /// acknowledged). The steps: the context (offline, settling after sleep)
    /// may decide alone; a passing probe may end an outage the page still
    /// reports; otherwise trouble, recovery or no information, each by its
    /// streak; last, the page's acknowledgement.
    pub(crate) fn observe(&mut self, obs: Observation<'_>) -> Vec<Transition> {
        let mut out = Vec::new();
        let raw = obs.assessment.state;
        match obs.context {
            Context::Offline => {
                self.change(State::Offline, obs.at, &mut out);
                self.summary = "your network seems down: no provider answered".to_string();
                self.confirmed = false;
                return out;
            }
            Context::Settling if is_trouble(raw) => {
                // Keep what we knew before the sleep; the next check decides.
                return out;
            }
            _ => {}
        }

        if obs.probe_passed {
            self.probe_good_streak = self.probe_good_streak.saturating_add(1);
        } else if obs.from_probe {
            self.probe_good_streak = 0;
        }
        if !obs.evidence {
            if self.incident.is_some() && is_trouble(raw) {
                self.set_words(obs.assessment);
            }
            self.note_acknowledgement(&obs, &mut out);
            return out;
        }
        if self.outage_over_but_page_lags(raw) {
            self.hand_over_to_the_page(&obs, &mut out);
            return out;
        }

        if is_trouble(raw) {
            self.observe_trouble(&obs, &mut out);
        } else if raw == State::Operational {
            self.observe_operational(&obs, &mut out);
        } else {
            // Unknown: no information. Keep a troubled state; otherwise say we don't know.
            if self.incident.is_none() {
                self.change(raw, obs.at, &mut out);
                self.set_words(obs.assessment);
            }
        }
        self.note_acknowledgement(&obs, &mut out);
        out
    }

    /// The calls work again and only the (flapping, lagging) page still
    /// reports trouble: the outage ends now, and a page-only incident takes
    /// over, so "ended" is said once instead of never.
    fn hand_over_to_the_page(&mut self, obs: &Observation<'_>, out: &mut Vec<Transition>) {
        let raw = obs.assessment.state;
        if let Some(mut outage) = self.incident.take() {
            outage.ended_at = Some(end_not_before(obs.at, &outage));
            out.push(Transition::Closed(outage));
        }
        let incident = IncidentRecord {
            model: None,
            state: raw,
            started_at: obs.at,
            detected_at: obs.at,
            acknowledged_at: obs.assessment.confirmed_by_status_page.then_some(obs.at),
            ended_at: None,
            cause: obs.assessment.summary.clone(),
            request_id: None,
        };
        self.incident = Some(incident.clone());
        self.bad_streak = 1;
        self.good_streak = 0;
        self.change(raw, obs.at, out);
        self.set_words(obs.assessment);
        out.push(Transition::Opened(incident));
    }

    /// Trouble: extends an open incident, or opens one once the streak is long
    /// enough (`failures_to_open` probes; one page report suffices, with or
    /// without a probe beside it).
    fn observe_trouble(&mut self, obs: &Observation<'_>, out: &mut Vec<Transition>) {
        let raw = obs.assessment.state;
        self.good_streak = 0;
        if self.bad_streak == 0 {
            self.streak_started = Some(obs.at);
            self.streak_request_id = obs.request_id.map(str::to_string);
        }
        self.bad_streak = self.bad_streak.saturating_add(1);
        // The page's own report counts at once (it is already late), also
        // when a probe ran beside it: only our own unconfirmed failures need a streak.
        let needed = if obs.from_probe && !obs.assessment.confirmed_by_status_page {
            self.thresholds.failures_to_open
        } else {
            1
        };
        if let Some(incident) = self.incident.as_mut() {
            if raw > incident.state {
                // It got worse (the page said degraded, now the calls fail):
                // the cause that made it worse is what the "began" notice
                // named, so it is what the incident ends as, too.
                incident.cause = obs.assessment.summary.clone();
                if let Some(id) = obs.request_id {
                    incident.request_id = Some(id.to_string());
                }
            }
            incident.state = incident.state.max(raw);
            self.change(raw, obs.at, out);
            self.set_words(obs.assessment);
        } else if self.bad_streak >= needed {
            // `min`: a wall clock set back mid-streak must not start it after its detection.
            let started_at = self.streak_started.unwrap_or(obs.at).min(obs.at);
            let incident = IncidentRecord {
                model: None,
                state: raw,
                started_at,
                detected_at: obs.at,
                acknowledged_at: None,
                ended_at: None,
                cause: obs.assessment.summary.clone(),
                request_id: self.streak_request_id.clone(),
            };
            self.incident = Some(incident.clone());
            self.change(raw, started_at, out);
            self.set_words(obs.assessment);
            out.push(Transition::Opened(incident));
        }
        // Otherwise: a first failure, pending confirmation. Nothing changes yet.
    }

    /// Operational: closes an open incident once `successes_to_close` pieces of
    /// evidence in a row say so; without an incident, says so at once.
    fn observe_operational(&mut self, obs: &Observation<'_>, out: &mut Vec<Transition>) {
        self.bad_streak = 0;
        let evidence = obs.page_fresh || self.incident.as_ref().is_some_and(|i| i.state.is_failing());
        if evidence {
            self.good_streak = self.good_streak.saturating_add(1);
        }
        match self.incident.as_mut() {
            Some(incident) if self.good_streak >= self.thresholds.successes_to_close => {
                incident.ended_at = Some(end_not_before(obs.at, incident));
                let closed = incident.clone();
                self.incident = None;
                self.change(State::Operational, obs.at, out);
                self.set_words(obs.assessment);
                out.push(Transition::Closed(closed));
            }
            Some(_) => {
                // Recovering; hold the incident until the streak is long enough.
            }
            None => {
                self.change(State::Operational, obs.at, out);
                self.set_words(obs.assessment);
            }
        }
    }

    /// The page acknowledged the open incident (once), and whether the words
    /// shown are confirmed by it.
    fn note_acknowledgement(&mut self, obs: &Observation<'_>, out: &mut Vec<Transition>) {
        if let Some(incident) = self.incident.as_mut() {
            if obs.assessment.confirmed_by_status_page && incident.acknowledged_at.is_none() {
                incident.acknowledged_at = Some(obs.at);
                out.push(Transition::Acknowledged(incident.clone()));
            }
            self.confirmed = incident.acknowledged_at.is_some() && obs.assessment.confirmed_by_status_page;
        }
    }

    /// An open failing incident (outage, rejected key) whose probes have passed
    /// `successes_to_close` times in a row while the page still says `raw`
    /// (degraded): the failure is over even if the page is not.
    fn outage_over_but_page_lags(&self, raw: State) -> bool {
        self.incident.as_ref().is_some_and(|i| i.state.is_failing())
            && is_trouble(raw)
            && !raw.is_failing()
            && self.probe_good_streak >= self.thresholds.successes_to_close
    }

    fn set_words(&mut self, a: &Assessment) {
        self.summary = a.summary.clone();
        self.confirmed = a.confirmed_by_status_page;
    }

    fn change(&mut self, to: State, at: DateTime<Utc>, out: &mut Vec<Transition>) {
        if self.state != to {
            out.push(Transition::Changed { from: self.state, to });
            self.state = to;
            self.since = Some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    const TH: Thresholds = Thresholds {
        failures_to_open: 2,
        successes_to_close: 2,
    };

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn a(state: State, confirmed: bool) -> Assessment {
        Assessment {
            state,
            summary: format!("{state}"),
            confirmed_by_status_page: confirmed,
        }
    }

    /// Feeds `(seconds, state, confirmed, from_probe, context)` and collects transitions.
    fn run(m: &mut HealthMachine, steps: &[(i64, State, bool, bool, Context)]) -> Vec<Transition> {
        let mut all = Vec::new();
        for &(secs, state, confirmed, from_probe, context) in steps {
            let assessment = a(state, confirmed);
            all.extend(m.observe(Observation {
                at: t0() + Duration::seconds(secs),
                assessment: &assessment,
                from_probe,
                probe_passed: from_probe && state == State::Operational,
                page_fresh: true,
                request_id: Some("req_1"),
                context,
                evidence: true,
            }));
        }
        all
    }

    fn opened(ts: &[Transition]) -> usize {
        ts.iter().filter(|t| matches!(t, Transition::Opened(_))).count()
    }

    fn closed(ts: &[Transition]) -> usize {
        ts.iter().filter(|t| matches!(t, Transition::Closed(_))).count()
    }

    use Context::{Normal, Settling};
    const NET_DOWN: Context = Context::Offline;
    use State::*;

    #[test]
    fn one_failure_is_not_an_outage() {
        let mut m = HealthMachine::new(TH);
        let ts = run(
            &mut m,
            &[
                (0, Operational, false, true, Normal),
                (60, Outage, false, true, Normal),
            ],
        );
        assert_eq!(m.state(), Operational);
        assert_eq!(opened(&ts), 0);
        assert!(m.wants_confirmation());
        let ts = run(&mut m, &[(70, Operational, false, true, Normal)]);
        assert_eq!(m.state(), Operational);
        assert!(ts.is_empty());
    }

    #[test]
    fn confirmed_failure_opens_with_start_at_first_failure() {
        let mut m = HealthMachine::new(TH);
        let ts = run(
            &mut m,
            &[
                (0, Operational, false, true, Normal),
                (60, Outage, false, true, Normal),
                (70, Outage, false, true, Normal),
            ],
        );
        assert_eq!(m.state(), Outage);
        assert_eq!(opened(&ts), 1);
        let inc = m.incident().unwrap();
        assert_eq!(inc.started_at, t0() + Duration::seconds(60));
        assert_eq!(inc.detected_at, t0() + Duration::seconds(70));
        assert_eq!(inc.request_id.as_deref(), Some("req_1"));
        assert_eq!(m.since(), Some(t0() + Duration::seconds(60)));
    }

    #[test]
    fn recovery_needs_consecutive_successes_and_records_duration() {
        let mut m = HealthMachine::new(TH);
        run(
            &mut m,
            &[
                (0, Outage, false, true, Normal),
                (10, Outage, false, true, Normal),
            ],
        );
        let ts = run(
            &mut m,
            &[
                (70, Operational, false, true, Normal),
                (80, Outage, false, true, Normal),
                (140, Operational, false, true, Normal),
            ],
        );
        assert_eq!(closed(&ts), 0);
        assert_eq!(m.state(), Outage);
        let ts = run(&mut m, &[(150, Operational, false, true, Normal)]);
        assert_eq!(closed(&ts), 1);
        assert_eq!(m.state(), Operational);
        let Transition::Closed(inc) = ts.iter().find(|t| matches!(t, Transition::Closed(_))).unwrap() else {
            unreachable!()
        };
        assert_eq!(inc.ended_at.unwrap() - inc.started_at, Duration::seconds(150));
    }

    #[test]
    fn flapping_page_yields_one_begin_and_one_end() {
        let mut m = HealthMachine::new(TH);
        let mut steps = Vec::new();
        for i in 0..20 {
            let s = if i % 2 == 0 { Degraded } else { Operational };
            steps.push((i * 60, s, s != Operational, false, Normal));
        }
        steps.push((20 * 60, Operational, false, false, Normal));
        steps.push((21 * 60, Operational, false, false, Normal));
        let ts = run(&mut m, &steps);
        assert_eq!(opened(&ts), 1);
        assert_eq!(closed(&ts), 1);
        assert_eq!(m.state(), Operational);
    }

    /// Regression (desktop test, flaky since the page could flap first): an
    /// incident the page opened as degraded that became an outage ended as
    /// "outage: status page: … degraded performance".
    #[test]
    fn an_incident_that_gets_worse_takes_the_worse_cause() {
        let mut m = HealthMachine::new(TH);
        let ts = run(
            &mut m,
            &[
                (0, Degraded, true, false, Normal),
                (60, Outage, false, true, Normal),
                (120, Outage, false, true, Normal),
                (180, Operational, false, true, Normal),
                (240, Operational, false, true, Normal),
            ],
        );
        assert_eq!(opened(&ts), 1, "one incident");
        let ended = ts
            .iter()
            .find_map(|t| match t {
                Transition::Closed(i) => Some(i),
                _ => None,
            })
            .expect("closed");
        assert_eq!(ended.state, Outage);
        assert_eq!(ended.cause, "outage", "the cause of the worst state");
    }

    #[test]
    fn failing_probe_with_flapping_page_is_one_incident() {
        let mut m = HealthMachine::new(TH);
        let mut steps = Vec::new();
        for i in 0..10 {
            // The probe fails every time; the page acknowledges every other poll.
            steps.push((i * 60, Outage, i % 2 == 1, true, Normal));
        }
        steps.push((600, Operational, false, true, Normal));
        steps.push((660, Operational, false, true, Normal));
        let ts = run(&mut m, &steps);
        assert_eq!(opened(&ts), 1);
        assert_eq!(closed(&ts), 1);
        let acks: Vec<_> = ts
            .iter()
            .filter_map(|t| match t {
                Transition::Acknowledged(i) => Some(i.acknowledged_at.unwrap()),
                _ => None,
            })
            .collect();
        assert_eq!(
            acks,
            vec![t0() + Duration::seconds(60)],
            "acknowledged once, at first sight"
        );
    }

    #[test]
    fn overload_bursts_degrade_once() {
        let mut m = HealthMachine::new(TH);
        let ts = run(
            &mut m,
            &[
                (0, Degraded, false, true, Normal),
                (10, Degraded, false, true, Normal),
                (70, Operational, false, true, Normal),
                (80, Degraded, false, true, Normal),
                (140, Operational, false, true, Normal),
                (150, Operational, false, true, Normal),
                (210, Degraded, false, true, Normal),
                (270, Operational, false, true, Normal),
            ],
        );
        assert_eq!(opened(&ts), 1);
        assert_eq!(closed(&ts), 1);
        assert_eq!(m.state(), Operational);
    }

    #[test]
    fn offline_never_opens_and_keeps_an_open_incident() {
        let mut m = HealthMachine::new(TH);
        let ts = run(
            &mut m,
            &[
                (0, Operational, false, true, Normal),
                (60, Outage, false, true, NET_DOWN),
                (70, Outage, false, true, NET_DOWN),
                (130, Outage, false, true, NET_DOWN),
            ],
        );
        assert_eq!(opened(&ts), 0);
        assert_eq!(m.state(), Offline);
        let ts = run(&mut m, &[(190, Operational, false, true, Normal)]);
        assert_eq!(m.state(), Operational);
        assert_eq!(closed(&ts), 0);

        // An outage in progress survives a network drop and ends once, afterwards.
        let mut m = HealthMachine::new(TH);
        run(
            &mut m,
            &[
                (0, Outage, false, true, Normal),
                (10, Outage, false, true, Normal),
            ],
        );
        let ts = run(
            &mut m,
            &[
                (70, Outage, false, true, NET_DOWN),
                (130, Operational, false, true, Normal),
                (140, Operational, false, true, Normal),
            ],
        );
        assert_eq!(closed(&ts), 1);
        assert_eq!(opened(&ts), 0);
    }

    #[test]
    fn failures_right_after_resume_do_not_count() {
        let mut m = HealthMachine::new(TH);
        let ts = run(
            &mut m,
            &[
                (0, Operational, false, true, Normal),
                (3600, Outage, false, true, Settling),
                (3610, Outage, false, true, Normal),
            ],
        );
        assert_eq!(opened(&ts), 0, "one real failure after the settling check");
        assert_eq!(m.state(), Operational);
        let ts = run(&mut m, &[(3620, Outage, false, true, Normal)]);
        assert_eq!(opened(&ts), 1);
    }

    #[test]
    fn auth_error_then_fixed_key() {
        let mut m = HealthMachine::new(TH);
        let ts = run(
            &mut m,
            &[
                (0, AuthError, false, true, Normal),
                (10, AuthError, false, true, Normal),
                (70, Operational, false, true, Normal),
                (80, Operational, false, true, Normal),
            ],
        );
        assert_eq!(opened(&ts), 1);
        assert_eq!(closed(&ts), 1);
        assert!(
            ts.contains(&Transition::Changed {
                from: Operational,
                to: AuthError
            }) || ts.contains(&Transition::Changed {
                from: Unknown,
                to: AuthError
            })
        );
    }

    #[test]
    fn unknown_does_not_hide_a_known_outage() {
        let mut m = HealthMachine::new(TH);
        run(
            &mut m,
            &[
                (0, Outage, false, true, Normal),
                (10, Outage, false, true, Normal),
            ],
        );
        run(&mut m, &[(70, Unknown, false, false, Normal)]);
        assert_eq!(m.state(), Outage);
    }

    /// Issue 11, item 8a: a model's failed check seen again beside the next
    /// model-list probe (checks now finish apart) is one failure, not two;
    /// the model's own next failing check opens the incident.
    #[test]
    fn a_result_seen_again_moves_no_streak() {
        let mut m = HealthMachine::new(TH);
        run(&mut m, &[(0, Operational, false, true, Normal)]);
        let failing = a(Outage, false);
        let seen = |m: &mut HealthMachine, secs: i64, evidence: bool| {
            m.observe(Observation {
                at: t0() + Duration::seconds(secs),
                assessment: &failing,
                from_probe: true,
                probe_passed: false,
                page_fresh: false,
                request_id: Some("req_1"),
                context: Normal,
                evidence,
            })
        };
        assert!(seen(&mut m, 10, true).is_empty(), "first failure waits");
        for secs in [11, 12, 13] {
            assert!(seen(&mut m, secs, false).is_empty(), "the same failure again");
        }
        assert_eq!(m.state(), Operational);
        assert!(m.wants_confirmation());
        let ts = seen(&mut m, 20, true);
        assert_eq!(opened(&ts), 1, "{ts:?}");
        let incident = m.incident().unwrap();
        assert_eq!(incident.started_at, t0() + Duration::seconds(10));
        // A pass that is no new word on the failure does not start closing it.
        let ok = a(Operational, false);
        for secs in [30, 31] {
            m.observe(Observation {
                at: t0() + Duration::seconds(secs),
                assessment: &ok,
                from_probe: true,
                probe_passed: true,
                page_fresh: true,
                request_id: None,
                context: Normal,
                evidence: false,
            });
        }
        assert_eq!(m.state(), Outage);
    }

    /// Issue 11, item 8c: a passing probe beside a troubled page waited for a
    /// second round, though the page's report is meant to count at once.
    #[test]
    fn page_trouble_with_a_passing_probe_counts_at_once() {
        let mut m = HealthMachine::new(TH);
        run(&mut m, &[(0, Operational, false, true, Normal)]);
        let page_says = a(Degraded, true);
        let ts = m.observe(Observation {
            at: t0() + Duration::seconds(60),
            assessment: &page_says,
            from_probe: true,
            probe_passed: true,
            page_fresh: true,
            request_id: None,
            context: Normal,
            evidence: true,
        });
        assert_eq!(opened(&ts), 1, "{ts:?}");
        assert_eq!(m.state(), Degraded);
        assert!(m.confirmed_by_status_page());
        assert_eq!(
            m.incident().unwrap().acknowledged_at,
            Some(t0() + Duration::seconds(60))
        );
        // A failing probe the page confirms counts at once too; an unconfirmed one waits.
        let mut m = HealthMachine::new(TH);
        assert_eq!(opened(&run(&mut m, &[(0, Outage, true, true, Normal)])), 1);
        let mut m = HealthMachine::new(TH);
        assert_eq!(opened(&run(&mut m, &[(0, Outage, false, true, Normal)])), 0);
    }

    #[test]
    fn lead_minutes_counts_from_detection() {
        let mut m = HealthMachine::new(TH);
        run(
            &mut m,
            &[
                (0, Outage, false, true, Normal),
                (10, Outage, false, true, Normal),
                (70, Outage, false, true, Normal),
                (610, Outage, true, true, Normal),
            ],
        );
        assert_eq!(m.incident().unwrap().lead_minutes(), Some(10));
        assert!(m.confirmed_by_status_page());
    }
}
