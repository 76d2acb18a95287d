//! The per-provider health state machine: hysteresis, flap damping, offline and
//! post-sleep handling, and incident records.
//!
//! A pure struct: no I/O and no clock reads. The engine feeds it one
//! [`Observation`] per check, timestamped by the engine's clock, and gets back
//! the [`Transition`]s to publish. Separate thresholds for going down
//! (`failures_to_open`) and coming back up (`successes_to_close`) are what damp
//! flapping: a signal that alternates every poll never collects the streak needed
//! to close, so it yields one incident begin and, once it settles, one end.
//!
//! Besides the consecutive streak, an error-rate rule opens an incident when
//! `window_failures` of the last `window_checks` checks (within `window`)
//! failed: the typical real incident is "elevated errors", every other call
//! failing, which never collects two failures in a row. Each check's own
//! result is one [`Sample`], kept per model (a pass of one model says nothing
//! of another's failures).

use std::collections::VecDeque;

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
    /// Failing checks among the last `window_checks` that begin an incident
    /// too (never fewer than `failures_to_open`).
    pub(crate) window_failures: u32,
    /// How many of the latest checks the error-rate rule looks at.
    pub(crate) window_checks: u32,
    /// Checks older than this leave the window: failures spread over hours
    /// are a flaky but working API, not an incident.
    pub(crate) window: chrono::Duration,
}

impl Thresholds {
    /// The rule as applied: at least `failures_to_open` failures (a user who
    /// raised it asked for more evidence, not less), among at least as many checks.
    fn rate(&self) -> (usize, usize) {
        let k = self.window_failures.max(self.failures_to_open).max(1);
        let n = self.window_checks.max(k);
        (k as usize, n as usize)
    }
}

impl From<&CheckConfig> for Thresholds {
    fn from(c: &CheckConfig) -> Self {
        Thresholds {
            failures_to_open: c.failures_to_open,
            successes_to_close: c.successes_to_close,
            window_failures: c.window_failures,
            window_checks: c.window_checks,
            window: chrono::Duration::from_std(c.window).unwrap_or(chrono::Duration::MAX),
        }
    }
}

/// One check's own result, for the error-rate window: an inference check, a
/// model-list probe. Set only where the result comes in, so one result
/// counts once however many observations show it afterwards. A failed
/// gateway call is no sample: the gateway reports failures only, and a rate
/// needs the passes too (its failures count in the streak, as before).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample<'a> {
    /// Whose window: a model's inference check, or (`None`) the machine's own probe.
    pub model: Option<&'a str>,
    pub failed: bool,
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
    /// The check result this observation brings in, for the error-rate window.
    pub(crate) sample: Option<Sample<'a>>,
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
    /// The latest samples per window (model, or `None`: the own probe).
    windows: Vec<(Option<String>, VecDeque<Entry>)>,
    /// The open incident was opened by the error-rate rule, on this window.
    intermittent: Option<Option<String>>,
    /// The latest observation's time: what "recent" means for the windows.
    last_seen: Option<DateTime<Utc>>,
}

/// One sample in a window.
#[derive(Clone, Debug)]
struct Entry {
    at: DateTime<Utc>,
    failed: bool,
    request_id: Option<String>,
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
            windows: Vec::new(),
            intermittent: None,
            last_seen: None,
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
    /// Also while a recent failure is still in an error-rate window: elevated
    /// errors alternate with passes, and checking at `confirm_secs` instead of
    /// the interval is what lets three failures of five show in a minute, not
    /// five. A single blip costs `window_checks - 1` quick checks, no alarm.
    pub(crate) fn wants_confirmation(&self) -> bool {
        (self.bad_streak > 0 && self.incident.is_none())
            || (self.incident.is_some() && self.good_streak > 0)
            || (self.incident.is_none() && self.recent_failure_in_a_window())
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
        self.last_seen = Some(self.last_seen.map_or(obs.at, |t| t.max(obs.at)));
        if let Some(sample) = obs.sample {
            self.record(sample, obs.at, obs.request_id);
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
        self.intermittent = None;
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
            self.intermittent = None;
            self.change(raw, started_at, out);
            self.set_words(obs.assessment);
            out.push(Transition::Opened(incident));
        } else if let Some(key) = obs
            .sample
            .filter(|s| s.failed && self.rate_holds(s.model))
            .map(|s| s.model.map(str::to_string))
        {
            // Not two in a row, but too many of the last few: elevated errors.
            let (started_at, request_id) = self
                .window(key.as_deref())
                .and_then(|w| w.iter().find(|e| e.failed))
                .map_or((obs.at, obs.request_id.map(str::to_string)), |e| {
                    (e.at.min(obs.at), e.request_id.clone())
                });
            self.intermittent = Some(key);
            let incident = IncidentRecord {
                model: None,
                state: raw,
                started_at,
                detected_at: obs.at,
                acknowledged_at: None,
                ended_at: None,
                cause: self.rate_words(&obs.assessment.summary),
                request_id,
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
        let rate_settled = self.rate_settled();
        match self.incident.as_mut() {
            Some(incident) if self.good_streak >= self.thresholds.successes_to_close && rate_settled => {
                incident.ended_at = Some(end_not_before(obs.at, incident));
                let closed = incident.clone();
                self.incident = None;
                self.intermittent = None;
                // A new incident needs new failures.
                self.windows.clear();
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
        self.rate_settled()
            && self.incident.as_ref().is_some_and(|i| i.state.is_failing())
            && is_trouble(raw)
            && !raw.is_failing()
            && self.probe_good_streak >= self.thresholds.successes_to_close
    }

    fn set_words(&mut self, a: &Assessment) {
        self.summary = if self.intermittent.is_some() && is_trouble(a.state) {
            self.rate_words(&a.summary)
        } else {
            a.summary.clone()
        };
        self.confirmed = a.confirmed_by_status_page;
    }

    /// Adds one check's result to its window, dropping what is too old or
    /// beyond the last `window_checks`.
    fn record(&mut self, sample: Sample<'_>, at: DateTime<Utc>, request_id: Option<&str>) {
        let (_, n) = self.thresholds.rate();
        let horizon = at.checked_sub_signed(self.thresholds.window);
        let key = sample.model.map(str::to_string);
        let index = match self.windows.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.windows.push((key, VecDeque::new()));
                self.windows.len() - 1
            }
        };
        let window = &mut self.windows[index].1;
        window.push_back(Entry {
            at,
            failed: sample.failed,
            request_id: request_id.map(str::to_string),
        });
        while window.len() > n || window.front().is_some_and(|e| horizon.is_some_and(|h| e.at < h)) {
            window.pop_front();
        }
    }

    fn window(&self, model: Option<&str>) -> Option<&VecDeque<Entry>> {
        self.windows
            .iter()
            .find(|(k, _)| k.as_deref() == model)
            .map(|(_, w)| w)
    }

    fn failures_in(&self, model: Option<&str>) -> usize {
        self.window(model)
            .map_or(0, |w| w.iter().filter(|e| e.failed).count())
    }

    /// An incident the error rate opened also waits until one more failure
    /// could not open it again: no end and new begin while the errors go on
    /// (neither closing nor handing over to a lagging page).
    fn rate_settled(&self) -> bool {
        // Only failures within `window` of now: a model whose checks stopped
        // (budget spent, removed from `models`) must not hold it open forever.
        let horizon = self
            .last_seen
            .and_then(|t| t.checked_sub_signed(self.thresholds.window));
        self.intermittent.as_ref().is_none_or(|key| {
            let (k, _) = self.thresholds.rate();
            let recent = self.window(key.as_deref()).map_or(0, |w| {
                w.iter()
                    .filter(|e| e.failed && horizon.is_none_or(|h| e.at >= h))
                    .count()
            });
            recent + 1 < k
        })
    }

    /// A failure that the next sample will not push out of its window, and
    /// not older than `window`.
    fn recent_failure_in_a_window(&self) -> bool {
        let (_, n) = self.thresholds.rate();
        let horizon = self
            .last_seen
            .and_then(|t| t.checked_sub_signed(self.thresholds.window));
        self.windows.iter().any(|(_, w)| {
            w.iter()
                .skip((w.len() + 1).saturating_sub(n))
                .any(|e| e.failed && horizon.is_none_or(|h| e.at >= h))
        })
    }

    /// `window_failures` of the last `window_checks` checks of this window failed.
    fn rate_holds(&self, model: Option<&str>) -> bool {
        let (k, _) = self.thresholds.rate();
        self.failures_in(model) >= k
    }

    /// "3 of the last 5 checks failed: <what the last one said>", for the
    /// window that opened the incident.
    fn rate_words(&self, summary: &str) -> String {
        let key = self.intermittent.clone().flatten();
        let w = self.window(key.as_deref());
        let failed = self.failures_in(key.as_deref());
        let checks = w.map_or(0, VecDeque::len);
        format!("{failed} of the last {checks} checks failed: {summary}")
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
        window_failures: 3,
        window_checks: 5,
        window: Duration::minutes(15),
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
                sample: from_probe.then_some(Sample {
                    model: None,
                    failed: is_trouble(state),
                }),
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
                sample: evidence.then_some(Sample {
                    model: None,
                    failed: true,
                }),
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
                sample: None,
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
            sample: Some(Sample {
                model: None,
                failed: false,
            }),
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

    /// Feeds one check result per minute, `true` = failed, each its own sample.
    fn checks(m: &mut HealthMachine, start_min: i64, results: &[bool]) -> Vec<Transition> {
        let steps: Vec<_> = results
            .iter()
            .enumerate()
            .map(|(i, &failed)| {
                let state = if failed { Outage } else { Operational };
                ((start_min + i as i64) * 60, state, false, true, Normal)
            })
            .collect();
        run(m, &steps)
    }

    /// Elevated errors: every other check fails, so two in a row never
    /// happen; the third failure of five opens the outage, started at the
    /// first, and the words say it is intermittent.
    #[test]
    fn alternating_failures_open_an_intermittent_outage() {
        let mut m = HealthMachine::new(TH);
        let ts = checks(&mut m, 0, &[false, true, false, true]);
        assert_eq!(opened(&ts), 0, "2 of 5 is not yet an incident");
        assert_eq!(m.state(), Operational);
        let ts = checks(&mut m, 4, &[false, true]);
        assert_eq!(opened(&ts), 1, "{ts:?}");
        assert_eq!(m.state(), Outage);
        let inc = m.incident().unwrap();
        assert_eq!(
            inc.started_at,
            t0() + Duration::minutes(1),
            "the first failure of the window"
        );
        assert_eq!(inc.detected_at, t0() + Duration::minutes(5));
        assert_eq!(inc.cause, "3 of the last 5 checks failed: outage");
        assert_eq!(m.summary(), "3 of the last 5 checks failed: outage");
        assert_eq!(inc.request_id.as_deref(), Some("req_1"));
    }

    /// One blip in five, or two (an even 40 %), for an hour: never an incident.
    #[test]
    fn one_blip_in_five_does_not_open() {
        let mut m = HealthMachine::new(TH);
        let blips: Vec<bool> = (0..60).map(|i| i % 5 == 2).collect();
        let ts = checks(&mut m, 0, &blips);
        assert_eq!(opened(&ts), 0, "{ts:?}");
        assert_eq!(m.state(), Operational);
        // After a blip, quick checks until it is about to leave the window.
        let mut m = HealthMachine::new(TH);
        checks(&mut m, 0, &[false, true, false]);
        assert!(
            m.wants_confirmation(),
            "a failure in the window: check again soon"
        );
        checks(&mut m, 3, &[false, false]);
        assert!(m.wants_confirmation(), "the next check still sees it");
        checks(&mut m, 5, &[false]);
        assert!(!m.wants_confirmation(), "the next check pushes it out");
        let two_in_five: Vec<bool> = (0..60).map(|i| i % 5 == 1 || i % 5 == 3).collect();
        let ts = checks(&mut m, 60, &two_in_five);
        assert_eq!(opened(&ts), 0, "{ts:?}");
    }

    /// Three failures of five spread over more than `window` are a flaky but
    /// working API: the old ones leave the window.
    #[test]
    fn failures_further_apart_than_the_window_do_not_open() {
        let mut m = HealthMachine::new(TH);
        let mut steps = Vec::new();
        for i in 0..10 {
            let state = if i % 2 == 0 { Outage } else { Operational };
            steps.push((i * 8 * 60, state, false, true, Normal));
        }
        let ts = run(&mut m, &steps);
        assert_eq!(opened(&ts), 0, "{ts:?}");
    }

    /// While the errors go on (alternating) the incident stays open: one
    /// begin, no end; once they stop it ends once, after passes enough that
    /// one more failure could not open it again.
    #[test]
    fn an_intermittent_outage_closes_once_without_flapping() {
        let mut m = HealthMachine::new(TH);
        let alternating: Vec<bool> = (0..40).map(|i| i % 2 == 1).collect();
        let ts = checks(&mut m, 0, &alternating);
        assert_eq!(opened(&ts), 1);
        assert_eq!(closed(&ts), 0, "{ts:?}");
        assert_eq!(m.state(), Outage);
        assert!(
            m.summary().contains("of the last 5 checks failed"),
            "{}",
            m.summary()
        );
        // Two passes in a row are not enough while 2 of the last 5 failed.
        let ts = checks(&mut m, 40, &[false, false]);
        assert_eq!(closed(&ts), 0, "{ts:?}");
        let ts = checks(&mut m, 42, &[false]);
        assert_eq!(closed(&ts), 1, "{ts:?}");
        assert_eq!(m.state(), Operational);
        // A new blip after it ended starts from an empty window.
        let ts = checks(&mut m, 43, &[true, false, false, false]);
        assert_eq!(opened(&ts), 0, "{ts:?}");
    }

    /// An intermittent outage whose checks stopped (the budget is spent):
    /// its failures age out of the window, and other passing evidence ends it.
    #[test]
    fn an_intermittent_outage_ends_once_its_failures_are_old() {
        let mut m = HealthMachine::new(TH);
        let ts = checks(&mut m, 0, &[true, false, true, false, true]);
        assert_eq!(opened(&ts), 1);
        let ok = a(Operational, false);
        let pass = |m: &mut HealthMachine, min: i64| {
            m.observe(Observation {
                at: t0() + Duration::minutes(min),
                assessment: &ok,
                from_probe: true,
                probe_passed: true,
                page_fresh: true,
                request_id: None,
                context: Normal,
                evidence: true,
                sample: None,
            })
        };
        let mut ts = pass(&mut m, 6);
        ts.extend(pass(&mut m, 7));
        assert_eq!(closed(&ts), 0, "3 of the last 5 still stand");
        let ts = pass(&mut m, 25);
        assert_eq!(closed(&ts), 1, "older than the 15-minute window: {ts:?}");
    }

    /// An intermittent outage and a page that now reports degraded: the
    /// passes between failures must not hand the outage over to the page
    /// (end, begin) on every other check while the errors go on.
    #[test]
    fn an_intermittent_outage_is_not_handed_to_the_page_while_errors_go_on() {
        let mut m = HealthMachine::new(TH);
        let ts = checks(&mut m, 0, &[true, false, true, false, true]);
        assert_eq!(opened(&ts), 1);
        let page = a(Degraded, true);
        let failing = a(Outage, true);
        let mut all = Vec::new();
        for i in 0..10i64 {
            let at = |s: i64| t0() + Duration::minutes(5 + 3 * i) + Duration::seconds(s);
            // The model passes, the model list passes, the page says degraded.
            for (s, sample) in [
                (
                    0,
                    Some(Sample {
                        model: None,
                        failed: false,
                    }),
                ),
                (20, None),
            ] {
                all.extend(m.observe(Observation {
                    at: at(s),
                    assessment: &page,
                    from_probe: true,
                    probe_passed: true,
                    page_fresh: true,
                    request_id: None,
                    context: Normal,
                    evidence: true,
                    sample,
                }));
            }
            // And fails again.
            all.extend(m.observe(Observation {
                at: at(40),
                assessment: &failing,
                from_probe: true,
                probe_passed: false,
                page_fresh: true,
                request_id: None,
                context: Normal,
                evidence: true,
                sample: Some(Sample {
                    model: None,
                    failed: true,
                }),
            }));
        }
        assert_eq!((opened(&all), closed(&all)), (0, 0), "{all:?}");
        assert!(m.incident().is_some_and(|i| i.acknowledged_at.is_some()));
    }

    /// Each model has its own window: another model's passes (and the model
    /// list's) between one model's failures do not hide its error rate.
    #[test]
    fn each_model_has_its_own_window() {
        let mut m = HealthMachine::new(TH);
        let mut all = Vec::new();
        for i in 0..12i64 {
            let (model, failed) = match i % 4 {
                0 => ("opus", true),
                1 => ("haiku", false),
                2 => ("opus", false),
                _ => ("haiku", false),
            };
            let state = if failed { Outage } else { Operational };
            let assessment = a(state, false);
            all.extend(m.observe(Observation {
                at: t0() + Duration::minutes(i),
                assessment: &assessment,
                from_probe: true,
                probe_passed: !failed,
                page_fresh: false,
                request_id: None,
                context: Normal,
                evidence: true,
                sample: Some(Sample {
                    model: Some(model),
                    failed,
                }),
            }));
            if i < 8 {
                assert_eq!(opened(&all), 0, "minute {i}");
            }
        }
        assert_eq!(opened(&all), 1, "opus failed 3 of its last 5: {all:?}");
        assert_eq!(m.incident().unwrap().started_at, t0());
    }

    /// The rule never asks for fewer failures than `failures_to_open`: a
    /// user who raised it to 4 gets 4 of 5, not 3.
    #[test]
    fn the_rate_rule_respects_a_raised_failures_to_open() {
        let mut m = HealthMachine::new(Thresholds {
            failures_to_open: 4,
            ..TH
        });
        let ts = checks(&mut m, 0, &[true, false, true, false, true]);
        assert_eq!(opened(&ts), 0, "{ts:?}");
        let ts = checks(&mut m, 5, &[true, true]);
        assert_eq!(opened(&ts), 1, "4 of the last 5: {ts:?}");
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
