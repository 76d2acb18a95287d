//! Prometheus metrics (`GET /metrics`), fed by the engine's events.
//!
//! Every series is labelled by provider id. What each one counts:
//!
//! - `switchboard_provider_state{provider,state}`: 1 for the provider's current
//!   state, 0 for the six others (all seven are always present, so
//!   `== 1` queries and absent-series alerts both work).
//! - `switchboard_probe_latency_seconds{provider}`: histogram of probe
//!   latency, every probe (failures included: a 12 s 500 is the signal).
//! - `switchboard_probe_results_total{provider,class}`: probes by class
//!   (`ok`, `slow`, `auth`, `rate_limited`, `overloaded`, `server_error`,
//!   `unreachable`). Each probe counts once, however many reports show it.
//! - `switchboard_status_page_fetches_total{provider,result}`: the status page
//!   as seen in each check round: `read` (the feed parsed), `unreadable` (an
//!   answer that was not the feed) or `unreachable` (no answer). Confirmation
//!   rounds reuse the last page and count it again.
//! - `switchboard_incidents_total{provider,state}`: incidents opened, by the
//!   incident's state (`outage`, `auth_error`, `degraded`, `rate_limited`;
//!   each starts at 0).
//! - `switchboard_detection_lead_seconds{provider}`: for the latest incident
//!   the status page acknowledged, how long after our detection it did
//!   (negative if the page was first).
//! - `switchboard_incident_info{provider,cause,request_id}`: 1 while an
//!   incident is open, labelled with its cause and request id as first seen
//!   (they do not change during the incident, so the series does not churn);
//!   gone when it closes. Alert annotations read it, so a page says what failed.
//! - `switchboard_last_check_timestamp_seconds`: when the last round finished,
//!   so an alert can tell a stuck monitor from a healthy one.
//!
//! Leaves out: serving (see `server`), and anything not derivable from events.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::sync::broadcast::error::RecvError;

use crate::engine::{EngineHandle, Event};
use crate::model::{Indicator, PageStatus, ProbeClass, State, StatusReport};

/// Prefix of every metric name.
pub(crate) const PREFIX: &str = "switchboard";

/// Probe latency buckets (seconds): fine below a second where healthy APIs
/// answer, then around the default `slow_ms` (8 s) and up to the default
/// timeout (30 s).
pub(crate) const LATENCY_BUCKETS: [f64; 13] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0,
];

/// The states an incident can have (the health machine's "trouble" states).
/// Their counters start at 0 as soon as a provider appears, so that
/// `increase()` in an alert sees the first incident too.
const INCIDENT_STATES: [State; 4] = [
    State::Outage,
    State::AuthError,
    State::Degraded,
    State::RateLimited,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    provider: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabels {
    provider: String,
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    provider: String,
    result: &'static str,
}

/// The open incident's words. `request_id` is empty when the failing answer
/// carried none (Prometheus treats an empty label as absent).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IncidentLabels {
    provider: String,
    cause: String,
    request_id: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// What has been counted already, so that a report seen twice (the snapshot
/// at start-up and its event, or after a lagged subscriber resyncs) counts once.
#[derive(Default)]
struct Seen {
    /// `probe.at` of the last probe counted, per provider.
    probes: HashMap<String, DateTime<Utc>>,
    /// `checked_at` of the last round whose pages were counted.
    round: Option<DateTime<Utc>>,
    /// Providers with state series, to drop the series of removed providers.
    providers: HashSet<String>,
    /// The info series of each provider's open incident, to drop it on close.
    open_incidents: HashMap<String, IncidentLabels>,
}

pub struct Metrics {
    registry: Registry,
    provider_state: Family<StateLabels, Gauge>,
    probe_latency: Family<ProviderLabels, Histogram, fn() -> Histogram>,
    probe_results: Family<ClassLabels, Counter>,
    page_fetches: Family<ResultLabels, Counter>,
    incidents: Family<StateLabels, Counter>,
    detection_lead: Family<ProviderLabels, FloatGauge>,
    incident_info: Family<IncidentLabels, Gauge>,
    last_check: FloatGauge,
    inference_spent: FloatGauge,
    inference_exhausted: Family<ProviderLabels, Gauge>,
    seen: Mutex<Seen>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        let provider_state = Family::<StateLabels, Gauge>::default();
        let probe_latency: Family<ProviderLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        let probe_results = Family::<ClassLabels, Counter>::default();
        let page_fetches = Family::<ResultLabels, Counter>::default();
        let incidents = Family::<StateLabels, Counter>::default();
        let detection_lead = Family::<ProviderLabels, FloatGauge>::default();
        let incident_info = Family::<IncidentLabels, Gauge>::default();
        let last_check = FloatGauge::default();
        let inference_spent = FloatGauge::default();
        let inference_exhausted = Family::<ProviderLabels, Gauge>::default();
        registry.register(
            "provider_state",
            "1 for the provider's current state, 0 for the others",
            provider_state.clone(),
        );
        registry.register(
            "probe_latency_seconds",
            "Latency of provider probes, failures included",
            probe_latency.clone(),
        );
        // The client appends `_total` to counter names.
        registry.register(
            "probe_results",
            "Provider probes by result class",
            probe_results.clone(),
        );
        registry.register(
            "status_page_fetches",
            "Status page results per check round: read, unreadable (not the feed) or unreachable",
            page_fetches.clone(),
        );
        registry.register(
            "incidents",
            "Incidents opened, by the provider's state",
            incidents.clone(),
        );
        registry.register(
            "detection_lead_seconds",
            "Seconds from Switchboard's detection to the status page's acknowledgement, latest incident",
            detection_lead.clone(),
        );
        registry.register(
            "incident_info",
            "1 while an incident is open, labelled with its cause and request id as first seen",
            incident_info.clone(),
        );
        registry.register(
            "last_check_timestamp_seconds",
            "Unix time of the last finished check round",
            last_check.clone(),
        );
        registry.register(
            "inference_spent_usd",
            "US dollars the inference checks spent this calendar month (UTC)",
            inference_spent.clone(),
        );
        registry.register(
            "inference_budget_exhausted",
            "1 while the inference checks of a provider are stopped because the monthly budget is spent",
            inference_exhausted.clone(),
        );
        Metrics {
            registry,
            inference_spent,
            inference_exhausted,
            provider_state,
            probe_latency,
            probe_results,
            page_fetches,
            incidents,
            detection_lead,
            incident_info,
            last_check,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Adds the gateway's traffic counters, read from `traffic` (their one
    /// owner) at each scrape: `switchboard_gateway_requests_total`,
    /// `_failovers_total` and `_upstream_errors_total`, per provider.
    pub fn with_gateway(mut self, traffic: Arc<crate::traffic::Traffic>) -> Self {
        self.registry
            .register_collector(Box::new(GatewayCollector { traffic }));
        self
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// The classic Prometheus text format (0.0.4), for clients that do not
    /// read OpenMetrics (`promtool check metrics`, older scrapers).
    pub(crate) fn encode_classic(&self) -> Result<String, std::fmt::Error> {
        Ok(openmetrics_to_classic(&self.encode()?))
    }

    /// Applies one engine event.
    pub fn observe(&self, event: &Event) {
        match event {
            Event::CheckFinished { report } => self.observe_report(report),
            Event::IncidentOpened { id, incident } => {
                self.incidents
                    .get_or_create(&StateLabels {
                        provider: id.clone(),
                        state: incident.state.as_str(),
                    })
                    .inc();
                let labels = IncidentLabels {
                    provider: id.clone(),
                    cause: incident.cause.clone(),
                    request_id: incident.request_id.clone().unwrap_or_default(),
                };
                self.incident_info.get_or_create(&labels).set(1);
                let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
                match seen.open_incidents.insert(id.clone(), labels.clone()) {
                    Some(old) if old != labels => {
                        self.incident_info.remove(&old);
                    }
                    _ => {}
                }
            }
            Event::IncidentClosed { id, .. } => {
                let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(old) = seen.open_incidents.remove(id) {
                    self.incident_info.remove(&old);
                }
            }
            Event::IncidentAcknowledged { id, incident } => {
                if let Some(ack) = incident.acknowledged_at {
                    let lead = (ack - incident.detected_at).num_milliseconds() as f64 / 1000.0;
                    self.detection_lead
                        .get_or_create(&ProviderLabels { provider: id.clone() })
                        .set(lead);
                }
            }
            Event::StateChanged { .. } | Event::PreferredChanged { .. } | Event::SettingsChanged => {}
        }
    }

    /// Sets the state gauges from `report` and counts its probes and pages
    /// that were not counted before.
    pub fn observe_report(&self, report: &StatusReport) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let new_round = seen.round.is_none_or(|at| report.checked_at > at);
        let mut present = HashSet::new();
        for p in &report.providers {
            present.insert(p.id.clone());
            if !seen.providers.contains(&p.id) {
                for state in INCIDENT_STATES {
                    let _zero = self.incidents.get_or_create(&StateLabels {
                        provider: p.id.clone(),
                        state: state.as_str(),
                    });
                }
            }
            for state in State::ALL {
                self.provider_state
                    .get_or_create(&StateLabels {
                        provider: p.id.clone(),
                        state: state.as_str(),
                    })
                    .set(i64::from(state == p.state));
            }
            if let Some(inference) = &p.inference {
                self.inference_spent.set(inference.spent_usd_month);
                self.inference_exhausted
                    .get_or_create(&ProviderLabels {
                        provider: p.id.clone(),
                    })
                    .set(i64::from(inference.stopped));
            }
            if let Some(probe) = &p.probe {
                if seen.probes.get(&p.id).is_none_or(|at| probe.at > *at) {
                    seen.probes.insert(p.id.clone(), probe.at);
                    let provider = ProviderLabels {
                        provider: p.id.clone(),
                    };
                    // An agent's logged error was not timed: no sample.
                    if let Some(ms) = probe.latency_ms {
                        self.probe_latency
                            .get_or_create(&provider)
                            .observe(ms as f64 / 1000.0);
                    }
                    self.probe_results
                        .get_or_create(&ClassLabels {
                            provider: p.id.clone(),
                            class: class_label(&probe.class),
                        })
                        .inc();
                }
            }
            if let (true, Some(page)) = (new_round, &p.status_page) {
                self.page_fetches
                    .get_or_create(&ResultLabels {
                        provider: p.id.clone(),
                        result: page_result(page),
                    })
                    .inc();
            }
        }
        let gone: Vec<String> = seen.providers.difference(&present).cloned().collect();
        for gone in &gone {
            if let Some(open) = seen.open_incidents.remove(gone) {
                self.incident_info.remove(&open);
            }
            self.inference_exhausted.remove(&ProviderLabels {
                provider: gone.clone(),
            });
            for state in State::ALL {
                self.provider_state.remove(&StateLabels {
                    provider: gone.clone(),
                    state: state.as_str(),
                });
            }
        }
        seen.providers = present;
        if new_round
            && report
                .providers
                .iter()
                .any(|p| p.probe.is_some() || p.status_page.is_some())
        {
            seen.round = Some(report.checked_at);
            self.last_check
                .set(report.checked_at.timestamp_millis() as f64 / 1000.0);
        }
    }
}

/// Rewrites our OpenMetrics exposition in the classic text format. The two
/// differ, for what we expose, only in that a classic counter family is named
/// with its `_total` suffix (OpenMetrics names the family without it, so a
/// classic reader would see `_total` samples of an undeclared metric), and in
/// the `# UNIT` and `# EOF` lines, which the classic format lacks.
fn openmetrics_to_classic(openmetrics: &str) -> String {
    let counters: HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        match renamed {
            Some(l) => out.push_str(&l),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The `class` label of a probe result.
pub(crate) fn class_label(class: &ProbeClass) -> &'static str {
    match class {
        ProbeClass::Ok => "ok",
        ProbeClass::Slow => "slow",
        ProbeClass::Auth => "auth",
        ProbeClass::RateLimited { .. } => "rate_limited",
        ProbeClass::Overloaded => "overloaded",
        ProbeClass::ServerError => "server_error",
        ProbeClass::Unreachable { .. } => "unreachable",
    }
}

/// The `result` label of a page as reports show it. A page that could not be
/// read is `unknown` with a description; `status::PageFetch::page` words an
/// unreachable one "status page <failure>: ..." (pinned by a test).
pub fn page_result(page: &PageStatus) -> &'static str {
    match page.indicator {
        Indicator::Unknown if page.description.starts_with("status page ") => "unreachable",
        Indicator::Unknown => "unreadable",
        _ => "read",
    }
}

/// Keeps `metrics` up to date with the engine's events. The task holds no
/// engine handle; it ends when the event channel closes or is aborted.
pub fn spawn_metrics(engine: &EngineHandle, metrics: Arc<Metrics>) -> tokio::task::JoinHandle<()> {
    // Subscribe before reading the snapshot, so nothing falls in between.
    let mut events = engine.subscribe();
    let status = engine.watch_status();
    metrics.observe_report(&status.borrow());
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => metrics.observe(&event),
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "metrics fell behind the engine; counters skipped some events"
                    );
                    let report = status.borrow().clone();
                    metrics.observe_report(&report);
                }
                Err(RecvError::Closed) => break,
            }
        }
    })
}

/// Reads one counter of a provider's gateway traffic.
type TrafficField = fn(&crate::traffic::ProviderTraffic) -> u64;

/// Exposes the gateway's counters without copying them into a second owner.
#[derive(Debug)]
struct GatewayCollector {
    traffic: Arc<crate::traffic::Traffic>,
}

impl prometheus_client::collector::Collector for GatewayCollector {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeMetric;
        use prometheus_client::metrics::counter::ConstCounter;
        use prometheus_client::metrics::MetricType;

        let snapshot = self.traffic.snapshot();
        let series: [(&str, &str, TrafficField); 3] = [
            (
                "gateway_requests",
                "Gateway requests answered, by the provider that served",
                |t| t.requests,
            ),
            (
                "gateway_failovers",
                "Gateway requests served after an earlier provider was down or failed",
                |t| t.failovers,
            ),
            (
                "gateway_upstream_errors",
                "Failed upstream calls made by the gateway",
                |t| t.errors,
            ),
        ];
        for (name, help, value) in series {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (id, t) in &snapshot {
                let labels = ProviderLabels { provider: id.clone() };
                ConstCounter::new(value(t)).encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}
