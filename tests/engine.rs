//! Engine timelines on paused tokio time: scheduling (interval, confirmation
//! re-probe), hysteresis and flap damping, offline, resume from sleep, recovery.
//!
//! The engine runs for real; only its source of rounds is scripted (a function of
//! virtual time), because real sockets and paused time do not mix. The real
//! checker is covered against local fakes in `cli`.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use switchboard::check::{CheckSource, ProviderCheck, Round};
use switchboard::config::{CheckConfig, Config, Provider};
use switchboard::engine::{Clock, Engine, EngineHandle, Event};
use switchboard::model::{
    Component, ComponentStatus, CredentialSource, Indicator, NetFailure, PageStatus, ProbeClass, ProbeReport,
    QuotaKind, State,
};
use switchboard::status::PageFetch;
use tokio::sync::broadcast;
use tokio::time::Instant;

const CONFIG: &str = r#"
use_catalog = false
preferred = "anthropic"

[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "http://127.0.0.1:1"
status_page = "http://127.0.0.1:2/api/v2/summary.json"
status_format = "statuspage"

[[providers]]
id = "openai"
kind = "openai"
base_url = "http://127.0.0.1:3/v1"
"#;

/// What a scripted provider does at a given virtual second.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Probe {
    None,
    Ok,
    Http(u16),
    Unreachable,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Page {
    Green,
    Elevated,
    Unreachable,
}

type Script = dyn Fn(u64, &str) -> (Probe, Page) + Send + Sync;

struct Scripted {
    start: Instant,
    script: Box<Script>,
    /// (virtual second, fetch_pages) of every round, to check the schedule.
    rounds: Mutex<Vec<(u64, bool)>>,
}

fn probe_report(p: Probe, at: DateTime<Utc>) -> Option<ProbeReport> {
    let (class, status, etype) = match p {
        Probe::None => return None,
        Probe::Ok => (ProbeClass::Ok, Some(200), None),
        Probe::Http(529) => (ProbeClass::Overloaded, Some(529), Some("overloaded_error")),
        Probe::Http(429) => (
            ProbeClass::RateLimited {
                retry_after_secs: Some(20),
                quota: QuotaKind::RateLimit,
            },
            Some(429),
            Some("rate_limit_error"),
        ),
        Probe::Http(code) => (ProbeClass::ServerError, Some(code), Some("api_error")),
        Probe::Unreachable => (
            ProbeClass::Unreachable {
                failure: NetFailure::Dns,
            },
            None,
            None,
        ),
    };
    Some(ProbeReport {
        ok: class == ProbeClass::Ok,
        http_status: status,
        error_type: etype.map(str::to_string),
        message: None,
        request_id: status
            .filter(|s| *s >= 500)
            .map(|_| "req_011CSHoEeqs5C35K2UUqR7Fy".to_string()),
        latency_ms: Some(100),
        at,
        retry_after_secs: None,
        class,
    })
}

/// Claude's page with the "Claude API" component (the catalog matches it by id).
fn claude_page(indicator: Indicator, description: &str, status: ComponentStatus) -> PageFetch {
    PageFetch::Read(PageStatus {
        indicator,
        description: description.into(),
        components: vec![Component {
            id: Some("k8w3r06qmzrp".into()),
            name: "Claude API (api.anthropic.com)".into(),
            status,
            group: None,
        }],
        incidents: vec![],
        maintenances: vec![],
    })
}

fn page_fetch(p: Page) -> PageFetch {
    match p {
        Page::Green => claude_page(
            Indicator::None,
            "All Systems Operational",
            ComponentStatus::Operational,
        ),
        Page::Elevated => claude_page(
            Indicator::Minor,
            "Elevated Error Rates",
            ComponentStatus::DegradedPerformance,
        ),
        Page::Unreachable => PageFetch::Unreachable {
            failure: NetFailure::Dns,
            message: "dns error".into(),
        },
    }
}

impl CheckSource for Scripted {
    fn run_round<'a>(
        &'a self,
        providers: &'a [&'a Provider],
        _check: &'a CheckConfig,
        fetch_pages: bool,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Round> {
        Box::pin(async move {
            let secs = self.start.elapsed().as_secs();
            self.rounds.lock().unwrap().push((secs, fetch_pages));
            let mut endpoints = 0;
            let mut unreachable = 0;
            let checks = providers
                .iter()
                .map(|p| {
                    let (probe, page) = (self.script)(secs, &p.id);
                    let probe = probe_report(probe, now);
                    if let Some(r) = &probe {
                        endpoints += 1;
                        unreachable += usize::from(r.class.is_unreachable());
                    }
                    let page = p.status_page.as_ref().map(|_| page_fetch(page));
                    if let Some(pf) = &page {
                        endpoints += 1;
                        unreachable += usize::from(matches!(pf, PageFetch::Unreachable { .. }));
                    }
                    ProviderCheck {
                        id: p.id.clone(),
                        credential: CredentialSource::Env,
                        keyring_error: None,
                        probe,
                        page,
                        not_running: false,
                    }
                })
                .collect();
            Round {
                at: now,
                checks,
                offline: endpoints >= 2 && unreachable == endpoints,
            }
        })
    }
}

/// Wall clock = a fixed start + virtual elapsed time + whatever a test jumps.
struct VirtualClock {
    base: DateTime<Utc>,
    start: Instant,
    jump_secs: AtomicI64,
}

impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        self.base
            + chrono::Duration::from_std(self.start.elapsed()).unwrap()
            + chrono::Duration::seconds(self.jump_secs.load(Ordering::SeqCst))
    }
}

struct Harness {
    handle: EngineHandle,
    events: broadcast::Receiver<Event>,
    source: Arc<Scripted>,
    clock: Arc<VirtualClock>,
    seen: Vec<Event>,
}

impl Harness {
    fn start(script: impl Fn(u64, &str) -> (Probe, Page) + Send + Sync + 'static) -> Harness {
        Harness::start_with(CONFIG, script)
    }

    fn start_with(
        text: &str,
        script: impl Fn(u64, &str) -> (Probe, Page) + Send + Sync + 'static,
    ) -> Harness {
        let config = Config::parse(text, Path::new("/nonexistent/switchboard-test.toml")).unwrap();
        let config = Config { path: None, ..config };
        let start = Instant::now();
        let source = Arc::new(Scripted {
            start,
            script: Box::new(script),
            rounds: Mutex::new(Vec::new()),
        });
        let clock = Arc::new(VirtualClock {
            base: DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            start,
            jump_secs: AtomicI64::new(0),
        });
        let (handle, _task) = Engine::spawn(config, source.clone(), clock.clone());
        let events = handle.subscribe();
        Harness {
            handle,
            events,
            source,
            clock,
            seen: Vec::new(),
        }
    }

    /// Advances virtual time and collects the events published meanwhile.
    async fn advance(&mut self, secs: u64) {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        // Let the engine task finish the round that the last tick started.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        while let Ok(e) = self.events.try_recv() {
            self.seen.push(e);
        }
    }

    fn count(&self, id: &str, what: fn(&Event) -> Option<&str>) -> usize {
        self.seen.iter().filter(|e| what(e) == Some(id)).count()
    }

    fn opened(&self, id: &str) -> usize {
        self.count(id, |e| match e {
            Event::IncidentOpened { id, .. } => Some(id),
            _ => None,
        })
    }

    fn closed(&self, id: &str) -> usize {
        self.count(id, |e| match e {
            Event::IncidentClosed { id, .. } => Some(id),
            _ => None,
        })
    }

    fn state(&self, id: &str) -> State {
        self.handle
            .status()
            .providers
            .iter()
            .find(|p| p.id == id)
            .unwrap()
            .state
    }
}

#[tokio::test(start_paused = true)]
async fn schedule_is_interval_plus_quick_confirmation() {
    let mut h = Harness::start(|t, id| match id {
        "anthropic" if (120..200).contains(&t) => (Probe::Http(500), Page::Green),
        _ => (Probe::Ok, Page::Green),
    });
    h.advance(300).await;
    let rounds = h.source.rounds.lock().unwrap().clone();
    // Full rounds every 60 s; after the failure at 120 s a probe-only round at 130 s.
    assert_eq!(
        rounds,
        vec![
            (0, true),
            (60, true),
            (120, true),
            (130, false),
            (180, true),
            (240, true),
            (250, false),
            (300, true)
        ]
    );
    let inc = h
        .seen
        .iter()
        .find_map(|e| match e {
            Event::IncidentOpened { incident, .. } => Some(incident.clone()),
            _ => None,
        })
        .expect("the outage was declared");
    assert_eq!(
        (inc.detected_at - inc.started_at).num_seconds(),
        10,
        "declared by the confirmation probe"
    );
    assert_eq!(inc.request_id.as_deref(), Some("req_011CSHoEeqs5C35K2UUqR7Fy"));
    assert_eq!(h.closed("anthropic"), 1);
    assert_eq!(h.state("anthropic"), State::Operational);
}

#[tokio::test(start_paused = true)]
async fn failing_probe_with_a_flapping_page_is_one_outage() {
    let mut h = Harness::start(|t, id| {
        let flap = if (t / 60) % 2 == 0 {
            Page::Green
        } else {
            Page::Elevated
        };
        match id {
            "anthropic" if (60..900).contains(&t) => (Probe::Http(500), flap),
            "anthropic" => (Probe::Ok, Page::Green),
            _ => (Probe::Ok, Page::Green),
        }
    });
    h.advance(600).await;
    assert_eq!(h.state("anthropic"), State::Outage);
    let report = h.handle.status();
    let p = report.providers.iter().find(|p| p.id == "anthropic").unwrap();
    assert_eq!(p.probe.as_ref().unwrap().http_status, Some(500));
    h.advance(600).await;
    assert_eq!(h.opened("anthropic"), 1, "{:#?}", h.seen);
    assert_eq!(h.closed("anthropic"), 1);
    assert_eq!(h.opened("openai"), 0);
    let acked = h
        .seen
        .iter()
        .filter(|e| matches!(e, Event::IncidentAcknowledged { .. }))
        .count();
    assert_eq!(acked, 1, "the page acknowledged once");
}

#[tokio::test(start_paused = true)]
async fn flapping_page_alone_is_damped() {
    // No probe for anthropic (no key): the page decides, and flaps every poll for 20 minutes.
    let mut h = Harness::start(|t, id| {
        let flap = if (t / 60) % 2 == 1 {
            Page::Elevated
        } else {
            Page::Green
        };
        match id {
            "anthropic" if t < 1200 => (Probe::None, flap),
            "anthropic" => (Probe::None, Page::Green),
            _ => (Probe::Ok, Page::Green),
        }
    });
    h.advance(1800).await;
    assert_eq!(h.opened("anthropic"), 1, "{:#?}", h.seen);
    assert_eq!(h.closed("anthropic"), 1);
    assert_eq!(h.state("anthropic"), State::Operational);
    let changes = h
        .seen
        .iter()
        .filter(|e| matches!(e, Event::StateChanged { id, .. } if id == "anthropic"))
        .count();
    assert!(
        changes <= 3,
        "unknown -> operational -> degraded -> operational, not a storm: {changes}"
    );
}

#[tokio::test(start_paused = true)]
async fn overload_bursts_are_degraded_not_outage() {
    let mut h = Harness::start(|t, id| match id {
        // 529 in bursts: a confirmed burst at 60-70 s, then single ones that recover at once.
        "anthropic" if [60, 70, 180, 300].contains(&t) => (Probe::Http(529), Page::Green),
        _ => (Probe::Ok, Page::Green),
    });
    h.advance(100).await;
    assert_eq!(h.state("anthropic"), State::Degraded);
    h.advance(500).await;
    assert_eq!(h.opened("anthropic"), 1);
    assert_eq!(h.closed("anthropic"), 1);
    assert!(!h.seen.iter().any(|e| matches!(
        e,
        Event::StateChanged {
            to: State::Outage,
            ..
        }
    )));
}

#[tokio::test(start_paused = true)]
async fn network_down_is_offline_and_never_an_outage() {
    let mut h = Harness::start(|t, _| {
        if (120..600).contains(&t) {
            (Probe::Unreachable, Page::Unreachable)
        } else {
            (Probe::Ok, Page::Green)
        }
    });
    h.advance(300).await;
    assert_eq!(h.state("anthropic"), State::Offline);
    assert_eq!(h.state("openai"), State::Offline);
    assert_eq!(h.handle.status().overall, State::Offline);
    h.advance(600).await;
    assert_eq!(h.opened("anthropic") + h.opened("openai"), 0, "{:#?}", h.seen);
    assert_eq!(h.state("anthropic"), State::Operational);
}

#[tokio::test(start_paused = true)]
async fn one_provider_unreachable_is_its_outage() {
    let mut h = Harness::start(|t, id| match id {
        "openai" if t >= 60 => (Probe::Unreachable, Page::Green),
        _ => (Probe::Ok, Page::Green),
    });
    h.advance(120).await;
    assert_eq!(h.state("openai"), State::Outage);
    assert_eq!(h.opened("openai"), 1);
}

#[tokio::test(start_paused = true)]
async fn failures_right_after_resume_do_not_alarm() {
    let flaky = Arc::new(AtomicI64::new(-1));
    let f2 = flaky.clone();
    let mut h = Harness::start(move |t, _| {
        // The round right after the resume fails (Wi-Fi still coming up).
        if t as i64 == f2.load(Ordering::SeqCst) {
            (Probe::Http(503), Page::Unreachable)
        } else {
            (Probe::Ok, Page::Green)
        }
    });
    h.advance(100).await;
    // Suspend for two hours: the wall clock jumps, the monotonic clock does not.
    h.clock.jump_secs.store(7200, Ordering::SeqCst);
    flaky.store(120, Ordering::SeqCst);
    h.advance(200).await;
    assert_eq!(h.opened("anthropic") + h.opened("openai"), 0, "{:#?}", h.seen);
    assert_eq!(h.state("anthropic"), State::Operational);
    assert!(
        !h.source.rounds.lock().unwrap().contains(&(130, false)),
        "no confirmation chase"
    );
}

#[tokio::test(start_paused = true)]
async fn recovery_reports_duration_and_preferred_can_change() {
    let mut h = Harness::start(|t, id| match id {
        "anthropic" if (60..360).contains(&t) => (Probe::Http(500), Page::Green),
        _ => (Probe::Ok, Page::Green),
    });
    h.advance(600).await;
    let closed = h
        .seen
        .iter()
        .find_map(|e| match e {
            Event::IncidentClosed { incident, .. } => Some(incident.clone()),
            _ => None,
        })
        .unwrap();
    // Failing from 60 s; passing at 360 s and confirmed at 370 s.
    assert_eq!((closed.ended_at.unwrap() - closed.started_at).num_seconds(), 310);

    h.handle.set_preferred("openai").await.unwrap();
    assert_eq!(h.handle.status().preferred.as_deref(), Some("openai"));
    h.advance(1).await;
    assert!(h.seen.contains(&Event::PreferredChanged { id: "openai".into() }));
    assert!(h.handle.set_preferred("nope").await.is_err());
}

/// What the gateway reports after a failed call: the upstream's own answer.
fn gateway_failure(status: u16) -> ProbeReport {
    probe_report(Probe::Http(status), Utc::now()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn failing_gateway_traffic_opens_the_outage_before_the_next_round() {
    let mut h = Harness::start(|t, id| match id {
        "anthropic" if t >= 130 => (Probe::Http(500), Page::Green),
        _ => (Probe::Ok, Page::Green),
    });
    h.advance(135).await;
    assert_eq!(h.opened("anthropic"), 0);
    // A burst of failing requests through the gateway: one signal.
    for _ in 0..50 {
        h.handle.report_failure("anthropic", gateway_failure(500));
    }
    h.advance(2).await;
    assert_eq!(
        h.opened("anthropic"),
        1,
        "the failed call plus an immediate probe"
    );
    assert_eq!(h.state("anthropic"), State::Outage);
    let rounds = h.source.rounds.lock().unwrap().clone();
    assert_eq!(rounds, vec![(0, true), (60, true), (120, true), (135, false)]);
    let inc = h
        .seen
        .iter()
        .find_map(|e| match e {
            Event::IncidentOpened { incident, .. } => Some(incident.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!((inc.detected_at - h.clock.base).num_seconds(), 135);

    // Traffic failing during the outage asks for no probe storm.
    for _ in 0..10 {
        h.handle.report_failure("anthropic", gateway_failure(500));
        h.advance(1).await;
    }
    let extra = h.source.rounds.lock().unwrap().len() - rounds.len();
    assert_eq!(extra, 0, "no extra rounds while the outage is known");
}

#[tokio::test(start_paused = true)]
async fn a_single_failed_call_alone_is_not_an_outage() {
    let mut h = Harness::start(|_, _| (Probe::Ok, Page::Green));
    h.advance(30).await;
    h.handle.report_failure("anthropic", gateway_failure(500));
    h.advance(5).await;
    assert_eq!(h.opened("anthropic"), 0);
    assert_eq!(h.state("anthropic"), State::Operational);
    // Unknown provider ids are ignored.
    h.handle.report_failure("nope", gateway_failure(500));
    h.advance(1).await;
}

/// Issue 11 (the replay's gateway timeline): real traffic failing on a
/// generation while the model list answers 200. The passing list probe that
/// confirms a failed call reset the streak every time, so calls that kept
/// failing never opened an outage. The list says nothing of generations: the
/// second failing call opens it; once the calls stop failing, the probes end it.
#[tokio::test(start_paused = true)]
async fn failing_gateway_calls_open_an_outage_while_the_model_list_answers() {
    let mut h = Harness::start(|_, _| (Probe::Ok, Page::Green));
    h.advance(30).await;
    h.handle.report_failure("anthropic", gateway_failure(500));
    h.advance(3).await;
    assert_eq!(h.opened("anthropic"), 0, "one failed call is not an outage");
    let rounds = h.source.rounds.lock().unwrap().clone();
    assert!(
        rounds.contains(&(30, false)),
        "the failed call was re-probed: {rounds:?}"
    );
    h.handle.report_failure("anthropic", gateway_failure(500));
    h.advance(1).await;
    assert_eq!(h.opened("anthropic"), 1, "{:#?}", h.seen);
    assert_eq!(h.state("anthropic"), State::Outage);
    h.advance(400).await;
    assert_eq!(h.closed("anthropic"), 1, "{:#?}", h.seen);
    assert_eq!(h.state("anthropic"), State::Operational);
}

const AUTO_SWITCH: &str = r#"
use_catalog = false
preferred = "anthropic"
fallback = ["anthropic", "openai"]
auto_switch = true

[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "http://127.0.0.1:1"

[[providers]]
id = "openai"
kind = "openai"
base_url = "http://127.0.0.1:3/v1"
"#;

#[tokio::test(start_paused = true)]
async fn auto_switch_moves_to_the_healthy_provider_and_back() {
    let mut h = Harness::start_with(AUTO_SWITCH, |t, id| match id {
        "anthropic" if (60..360).contains(&t) => (Probe::Http(500), Page::Green),
        _ => (Probe::Ok, Page::Green),
    });
    h.advance(65).await;
    assert_eq!(h.handle.status().preferred.as_deref(), Some("anthropic"));
    h.advance(10).await;
    assert_eq!(
        h.handle.status().preferred.as_deref(),
        Some("openai"),
        "switched at the confirmation"
    );
    assert!(h.seen.contains(&Event::PreferredChanged { id: "openai".into() }));
    h.advance(320).await;
    assert_eq!(
        h.handle.status().preferred.as_deref(),
        Some("anthropic"),
        "back once the outage closed"
    );
}

#[tokio::test(start_paused = true)]
async fn no_auto_switch_without_the_setting_or_after_a_manual_choice() {
    let off = AUTO_SWITCH.replace("auto_switch = true", "auto_switch = false");
    let mut h = Harness::start_with(&off, |t, id| match id {
        "anthropic" if (60..360).contains(&t) => (Probe::Http(500), Page::Green),
        _ => (Probe::Ok, Page::Green),
    });
    h.advance(100).await;
    assert_eq!(h.state("anthropic"), State::Outage);
    assert_eq!(h.handle.status().preferred.as_deref(), Some("anthropic"));
    // Turning it on during the outage switches at once.
    h.handle.set_auto_switch(true).await.unwrap();
    assert_eq!(h.handle.status().preferred.as_deref(), Some("openai"));

    // Switched automatically, then the user picks another one: no switch back.
    let mut h = Harness::start_with(AUTO_SWITCH, |t, id| match id {
        "anthropic" if (60..360).contains(&t) => (Probe::Http(500), Page::Green),
        _ => (Probe::Ok, Page::Green),
    });
    h.advance(100).await;
    assert_eq!(h.handle.status().preferred.as_deref(), Some("openai"));
    h.handle.set_preferred("openai").await.unwrap();
    h.advance(400).await;
    assert_eq!(h.handle.status().preferred.as_deref(), Some("openai"));
}

#[tokio::test(start_paused = true)]
async fn an_outage_ends_when_calls_work_even_while_the_page_keeps_flapping() {
    let mut h = Harness::start(|t, id| {
        let flap = if (t / 60) % 2 == 0 {
            Page::Green
        } else {
            Page::Elevated
        };
        match id {
            "anthropic" if (60..600).contains(&t) => (Probe::Http(500), flap),
            // The page lags and flaps on for another half hour.
            "anthropic" => (Probe::Ok, flap),
            _ => (Probe::Ok, Page::Green),
        }
    });
    h.advance(1800).await;
    let incidents: Vec<_> = h
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::IncidentOpened { id, incident } if id == "anthropic" => Some(("opened", incident.state)),
            Event::IncidentClosed { id, incident } if id == "anthropic" => Some(("closed", incident.state)),
            _ => None,
        })
        .collect();
    assert_eq!(
        incidents,
        [
            ("opened", State::Outage),
            ("closed", State::Outage),
            ("opened", State::Degraded)
        ],
        "one outage, ended once the probes passed; the page's trouble is its own quiet incident"
    );
    assert_eq!(h.state("anthropic"), State::Degraded);
}

/// Issue 16, faults: the wall clock jumps two hours backwards (NTP correction,
/// a user fixing the time) in the middle of an outage. The engine keeps
/// checking, the outage still opens once and closes once, and no record or
/// report carries a negative duration (an end before its start).
#[tokio::test(start_paused = true)]
async fn wall_clock_jumping_backwards_mid_outage_keeps_checking_and_never_goes_negative() {
    let mut h = Harness::start(|t, id| match id {
        "anthropic" if (60..360).contains(&t) => (Probe::Http(500), Page::Green),
        _ => (Probe::Ok, Page::Green),
    });
    h.advance(200).await;
    assert_eq!(h.state("anthropic"), State::Outage);
    let rounds_before = h.source.rounds.lock().unwrap().len();
    h.clock.jump_secs.store(-7200, Ordering::SeqCst);
    h.advance(400).await;
    assert!(
        h.source.rounds.lock().unwrap().len() >= rounds_before + 5,
        "checks went on after the jump"
    );
    assert_eq!(h.state("anthropic"), State::Operational, "{:#?}", h.seen);
    assert_eq!(h.opened("anthropic"), 1, "{:#?}", h.seen);
    let closed: Vec<_> = h
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::IncidentClosed { incident, .. } => Some(incident.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(closed.len(), 1, "{:#?}", h.seen);
    let inc = &closed[0];
    let ended = inc.ended_at.expect("closed");
    assert!(
        ended >= inc.started_at,
        "ended {ended} before it started {}",
        inc.started_at
    );
    assert!(
        ended >= inc.detected_at,
        "ended {ended} before it was detected {}",
        inc.detected_at
    );
    // A state that began before the jump now began "in the future": what the
    // tray and notifications say of it is clamped, never a negative duration.
    let report = h.handle.status();
    let openai = report
        .providers
        .iter()
        .find(|p| p.id == "openai")
        .expect("openai");
    let since = openai.since.expect("operational since the start");
    assert!(
        since > report.checked_at,
        "the jump put openai's since in the future"
    );
    assert_eq!(
        switchboard::model::duration_words(report.checked_at - since),
        "0 s"
    );
}
