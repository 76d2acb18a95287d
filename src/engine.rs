//! The engine: one tokio task that owns the config, every provider's health
//! machine and the latest report, runs checks on deadline schedules, and
//! publishes what changes.
//!
//! Checks do not run as rounds that wait for their slowest member. Probes of
//! the providers that are idle at a deadline start together (so status pages
//! are read once and "nothing answered" can still be judged across them), but
//! each provider is busy only until its own answer is in: one answering after
//! 12 s skips its own deadlines meanwhile, never anyone else's. Each model's
//! inference check has its own deadline and runs on its own. The engine polls
//! the checks in flight itself (a `FuturesUnordered`), so it stays the one
//! owner of state, a panic in a check is the supervised engine's, and every
//! finished check is published at once.
//!
//! Nobody else decides health. The tray, the web server, the notifier and the
//! gateway hold an [`EngineHandle`]: they read the latest [`StatusReport`]
//! (`watch`), subscribe to [`Event`]s (`broadcast`) and send [`Command`]s.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::{BoxStream, FuturesUnordered, StreamExt};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{sleep_until, Instant};
use tracing::{debug, info, warn};

use crate::agent_errors::AgentErrorTally;
use crate::check::{self, CheckSource, InferenceJob, InferenceResult, ProviderCheck, ReportedState};
use crate::config::{Config, Provider};
use crate::config_edit;
use crate::health::budget::{Budget, SpendLedger};
use crate::health::machine::is_trouble;
use crate::health::{Context, HealthMachine, IncidentRecord, Observation, Sample, Thresholds, Transition};
use crate::model::{
    Agent, InferenceStatus, PassiveSettings, ProbeClass, ProbeReport, ProviderKind, State, StatusReport,
};
use crate::probe::inference::ModelCheck;

/// A wall-clock jump larger than the monotonic time elapsed by this much means
/// the machine slept (or the clock was set): the next round only settles.
pub(crate) const SLEEP_JUMP: Duration = Duration::from_secs(30);

/// Events kept for slow subscribers before they start missing some.
const EVENT_BUFFER: usize = 256;

/// Crashes of the engine task tolerated within [`CRASH_WINDOW`]: the
/// supervisor restarts it up to this many times, then lets the panic end the
/// task so the process exits non-zero instead of looping on a crash.
const MAX_CRASHES: usize = 5;
/// The window [`MAX_CRASHES`] is counted over.
const CRASH_WINDOW: Duration = Duration::from_secs(600);
/// Pause before a restart, so a crash on every round cannot spin the CPU.
const RESTART_DELAY: Duration = Duration::from_secs(1);

/// Where wall-clock time comes from. Injected so tests can simulate a suspend.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    StateChanged {
        id: String,
        from: State,
        to: State,
    },
    IncidentOpened {
        id: String,
        incident: IncidentRecord,
    },
    IncidentAcknowledged {
        id: String,
        incident: IncidentRecord,
    },
    IncidentClosed {
        id: String,
        incident: IncidentRecord,
    },
    CheckFinished {
        report: Arc<StatusReport>,
    },
    PreferredChanged {
        id: String,
    },
    /// Fallback order or auto-switch changed.
    SettingsChanged,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("unknown provider {0:?}")]
    UnknownProvider(String),
    #[error(transparent)]
    Edit(#[from] config_edit::EditError),
    #[error("the engine has stopped")]
    Stopped,
    #[error("{0}")]
    Invalid(String),
}

/// `[inference]` as the dashboard sets it: `None` keeps the current value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct InferenceSettings {
    pub(crate) enabled: bool,
    pub(crate) interval_secs: Option<u64>,
    pub(crate) monthly_budget_usd: Option<f64>,
}

pub(crate) enum Command {
    CheckNow(oneshot::Sender<Arc<StatusReport>>),
    SetPreferred(String, oneshot::Sender<Result<(), EngineError>>),
    SetFallback(Vec<String>, oneshot::Sender<Result<(), EngineError>>),
    SetAutoSwitch(bool, oneshot::Sender<Result<(), EngineError>>),
    SetPassive(PassiveSettings, oneshot::Sender<Result<(), EngineError>>),
    SetInference(InferenceSettings, oneshot::Sender<Result<(), EngineError>>),
    Estimate(oneshot::Sender<crate::model::InferenceEstimate>),
    Config(oneshot::Sender<Box<Config>>),
    Reload(Box<Config>),
    ConfigError(Option<String>),
    /// The history recorder's writes fail (`Some`) or work again (`None`).
    HistoryPaused(Option<crate::model::HistoryPaused>),
    /// A real request through the gateway failed (see [`EngineHandle::report_failure`]).
    Passive(String, Box<ProbeReport>),
    AgentError(String, Agent, Option<String>, Box<ProbeReport>),
    /// A model of a provider was used by gateway traffic (see [`EngineHandle::report_model_used`]).
    ModelUsed(String, String),
    /// Check a provider's model (or all its models) with a real request soon
    /// (see [`EngineHandle::check_model_soon`]).
    InferenceSoon(String, Option<String>),
    Shutdown,
}

/// Tells the engine whether the history is being recorded (published as
/// `history_paused`). It holds no handle on the engine, so the recorder that
/// owns it still ends with the engine.
#[derive(Clone)]
pub struct HistoryReporter {
    commands: mpsc::WeakSender<Command>,
}

impl HistoryReporter {
    /// `Some`: the history database refuses writes; `None`: it takes them again.
    pub async fn set(&self, paused: Option<crate::model::HistoryPaused>) {
        if let Some(commands) = self.commands.upgrade() {
            let _ = commands.send(Command::HistoryPaused(paused)).await;
        }
    }
}

/// A client's handle on the running engine. Cheap to clone.
#[derive(Clone)]
pub struct EngineHandle {
    commands: mpsc::Sender<Command>,
    status: watch::Receiver<Arc<StatusReport>>,
    config: watch::Receiver<Arc<Config>>,
    events: broadcast::Sender<Event>,
}

impl EngineHandle {
    /// The latest report (what `GET /api/status` serves).
    pub fn status(&self) -> Arc<StatusReport> {
        self.status.borrow().clone()
    }

    /// The config in use now, without a round trip to the engine (which may be
    /// in the middle of a round): the gateway reads it on every request.
    pub fn current_config(&self) -> Arc<Config> {
        self.config.borrow().clone()
    }

    /// Follows the config in use (hot reloads, switches from the tray or API).
    pub(crate) fn watch_config(&self) -> watch::Receiver<Arc<Config>> {
        self.config.clone()
    }

    pub fn watch_status(&self) -> watch::Receiver<Arc<StatusReport>> {
        self.status.clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Sends a command and waits for its answer.
    async fn ask<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(command(tx))
            .await
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)
    }

    /// Runs a full round now and returns its report.
    pub async fn check_now(&self) -> Result<Arc<StatusReport>, EngineError> {
        self.ask(Command::CheckNow).await
    }

    /// Makes `id` the preferred provider and writes it to the config file.
    pub async fn set_preferred(&self, id: &str) -> Result<(), EngineError> {
        self.ask(|tx| Command::SetPreferred(id.to_string(), tx)).await?
    }

    /// Sets the fallback order (every id must be a configured provider) and writes it.
    pub async fn set_fallback(&self, order: Vec<String>) -> Result<(), EngineError> {
        self.ask(|tx| Command::SetFallback(order, tx)).await?
    }

    /// Turns "switch automatically when preferred fails" on or off and writes it.
    pub async fn set_auto_switch(&self, on: bool) -> Result<(), EngineError> {
        self.ask(|tx| Command::SetAutoSwitch(on, tx)).await?
    }

    /// Turns reading the coding agents' session logs on or off, and saves it.
    pub async fn set_passive(&self, settings: PassiveSettings) -> Result<(), EngineError> {
        self.ask(|tx| Command::SetPassive(settings, tx)).await?
    }

    /// Turns the inference checks on or off (and sets their interval and
    /// budget when given), and saves it.
    pub(crate) async fn set_inference(&self, settings: InferenceSettings) -> Result<(), EngineError> {
        self.ask(|tx| Command::SetInference(settings, tx)).await?
    }

    /// What the inference checks cost a month with the models watched now
    /// (those seen in traffic included).
    pub(crate) async fn inference_estimate(&self) -> Result<crate::model::InferenceEstimate, EngineError> {
        self.ask(Command::Estimate).await
    }

    /// The config the engine runs on now.
    pub(crate) async fn config(&self) -> Result<Config, EngineError> {
        self.ask(Command::Config).await.map(|c| *c)
    }

    /// Reports that the config file could not be applied (`None` clears it).
    pub(crate) async fn config_error(&self, error: Option<String>) -> Result<(), EngineError> {
        self.commands
            .send(Command::ConfigError(error))
            .await
            .map_err(|_| EngineError::Stopped)
    }

    /// Where the history recorder reports that its writes fail or work again.
    pub fn history_reporter(&self) -> HistoryReporter {
        HistoryReporter {
            commands: self.commands.downgrade(),
        }
    }

    /// Applies a new config (a no-op when it equals the running one).
    pub(crate) async fn reload(&self, config: Config) -> Result<(), EngineError> {
        self.commands
            .send(Command::Reload(Box::new(config)))
            .await
            .map_err(|_| EngineError::Stopped)
    }

    /// Reports a failed upstream call made by the gateway: real traffic is a
    /// health signal that arrives before the next probe. Never waits: when the
    /// engine is busy the signal is dropped (the next probe still decides).
    pub fn report_failure(&self, id: &str, report: ProbeReport) {
        let _ = self
            .commands
            .try_send(Command::Passive(id.to_string(), Box::new(report)));
    }

    /// Reports an API error the user's own coding agent hit (`[passive]`):
    /// observed like a failed gateway call, counted for the dashboard card,
    /// and (unlike the gateway's) a rate limit counts too, since for a
    /// subscription user it is the usage limit they are hitting. Never waits.
    pub(crate) fn report_passive(&self, id: &str, agent: Agent, model: Option<String>, report: ProbeReport) {
        let _ = self.commands.try_send(Command::AgentError(
            id.to_string(),
            agent,
            model,
            Box::new(report),
        ));
    }

    /// Tells the engine that gateway traffic used `model` at provider `id`:
    /// the model joins the provider's watched models for 24 h, marked as seen
    /// in traffic. Never waits.
    pub fn report_model_used(&self, id: &str, model: &str) {
        let _ = self
            .commands
            .try_send(Command::ModelUsed(id.to_string(), model.to_string()));
    }

    /// Asks for an inference check of `model` (every model of `id` when
    /// `None`) as soon as `[check].confirm_secs` spacing allows: a hook for
    /// signals that name a model (a status-page incident, an agent's error).
    /// Does nothing while the inference checks are off or out of budget.
    pub fn check_model_soon(&self, id: &str, model: Option<&str>) {
        let _ = self
            .commands
            .try_send(Command::InferenceSoon(id.to_string(), model.map(str::to_string)));
    }

    pub async fn shutdown(&self) {
        let _ = self.commands.send(Command::Shutdown).await;
    }
}

struct Tracked {
    machine: HealthMachine,
    last: Option<ProviderCheck>,
    /// When real traffic last counted as an observation (at most one a second,
    /// so a burst of failing requests is one signal, not a hundred).
    last_passive: Option<Instant>,
    /// Recent errors from the user's coding-agent sessions, for the card.
    agent_errors: AgentErrorTally,
    /// The models the user relies on, each with its own health.
    models: Vec<ModelTracked>,
    /// A probe of this provider is in flight: its deadlines wait, nobody else's.
    busy: bool,
    /// When real traffic last got a failing answer: for a while after it, the
    /// model list answering is no evidence that generation works again.
    traffic_failed: Option<Instant>,
    /// When its quick re-probe (`confirm_secs`) is due, if one is wanted.
    confirm_at: Option<Instant>,
}

/// One model of one provider: its own machine and last inference check.
struct ModelTracked {
    id: String,
    machine: HealthMachine,
    last: Option<ModelCheck>,
    /// Last time gateway traffic used it (`None`: listed in `models`).
    seen_in_traffic: Option<DateTime<Utc>>,
    /// When its next inference check is due.
    next_due: Instant,
    /// When a failure signal last moved `next_due` forward (spacing).
    last_forced: Option<Instant>,
    /// Its inference check is in flight.
    busy: bool,
}

impl ModelTracked {
    fn new(id: String, thresholds: Thresholds, seen_in_traffic: Option<DateTime<Utc>>) -> Self {
        ModelTracked {
            id,
            machine: HealthMachine::new(thresholds),
            last: None,
            seen_in_traffic,
            next_due: Instant::now(),
            last_forced: None,
            busy: false,
        }
    }
}

/// How long a model seen in gateway traffic stays among a provider's models.
pub(crate) const TRAFFIC_MODEL_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// Most models taken from traffic per provider: a client cycling through
/// model names must not turn into as many paid checks.
const MAX_TRAFFIC_MODELS: usize = 4;

/// How many check intervals a failing answer to real traffic keeps a passing
/// model-list probe from counting as recovery: the probe asks `GET /models`,
/// the traffic failed on a generation, which the probe cannot see. Two
/// intervals let the next failing call confirm it; once the calls stop
/// failing, the probes decide again.
const TRAFFIC_MEMORY_INTERVALS: u32 = 2;

/// Real-traffic failures of one provider closer together than this count once.
const PASSIVE_SPACING: Duration = Duration::from_secs(1);
/// The same for errors from the user's agent sessions. Each is a request the
/// user saw fail (the agents log one line per failed turn, after their own
/// retries), so they are counted closer together; this only stops a storm.
const AGENT_SPACING: Duration = Duration::from_millis(250);

/// Probes started together (at one deadline), as their answers come in. Each
/// answer is applied when it arrives, except one that got no HTTP answer at
/// all: that waits until some member of the group is answered (then it is
/// that provider's failure) or the group is complete (then "nothing answered"
/// may be the user's own network: `offline`).
struct Group {
    full: bool,
    at: DateTime<Utc>,
    /// The first checks after a resume from sleep: failures do not count.
    settling: bool,
    providers: Vec<Provider>,
    /// Remote endpoints contacted so far, and how many gave no HTTP answer.
    endpoints: usize,
    unreachable: usize,
    held: Vec<(Provider, ProviderCheck)>,
}

impl Group {
    fn answered(&self) -> bool {
        self.endpoints > self.unreachable
    }
}

/// The remote endpoints one check contacted, and how many of them gave no
/// HTTP answer: its probe (a model server on this machine says nothing of
/// the network) and, when read for this check, its status page.
fn endpoints_of(p: &Provider, c: &ProviderCheck, full: bool) -> (usize, usize) {
    let mut endpoints = 0;
    let mut unreachable = 0;
    if let Some(r) = c.probe.as_ref().filter(|_| !check::is_local_provider(p)) {
        endpoints += 1;
        unreachable += usize::from(r.class.is_unreachable());
    }
    if let Some(page) = c.page.as_ref().filter(|_| full) {
        endpoints += 1;
        unreachable += usize::from(matches!(page, crate::status::PageFetch::Unreachable { .. }));
    }
    (endpoints, unreachable)
}

/// A check the engine started, as it comes back.
enum Finished {
    /// One answer of a group of probes (`None`: the group is complete), and
    /// the rest of the group's answers to wait for.
    Probe {
        group: u64,
        check: Option<Box<ProviderCheck>>,
        rest: BoxStream<'static, ProviderCheck>,
    },
    /// One model's inference check (empty: no usable credential).
    Model {
        provider: String,
        model: String,
        results: Vec<InferenceResult>,
        /// Started right after a resume from sleep: a failure does not count.
        settling: bool,
    },
}

pub struct Engine {
    config: Config,
    checker: Arc<dyn CheckSource>,
    clock: Arc<dyn Clock>,
    providers: HashMap<String, Tracked>,
    status: watch::Sender<Arc<StatusReport>>,
    /// The config as published to [`EngineHandle::current_config`].
    published_config: watch::Sender<Arc<Config>>,
    events: broadcast::Sender<Event>,
    commands: mpsc::Receiver<Command>,
    /// Wall and monotonic time of the last finished batch, to notice a suspend.
    last_round: Option<(DateTime<Utc>, Instant)>,
    /// Checks in flight, polled by the engine's own loop. In a mutex only so
    /// the engine stays `Sync` (its `&self` methods are awaited): reached
    /// through `get_mut`, never locked.
    running: std::sync::Mutex<FuturesUnordered<BoxFuture<'static, Finished>>>,
    /// Deadline of the next full check (probes and pages of every idle provider).
    next_full: Instant,
    /// Number of the next group of probes, and the groups not yet complete.
    next_batch: u64,
    groups: HashMap<u64, Group>,
    /// A resume from sleep was noticed: the next group only settles.
    resumed: bool,
    /// `check_now` callers waiting for their group of probes to complete.
    replies: Vec<(u64, oneshot::Sender<Arc<StatusReport>>)>,
    /// `check_now` callers waiting for the checks in flight to finish, so
    /// their group can check every provider (no new group starts meanwhile).
    check_now_waiting: Vec<oneshot::Sender<Arc<StatusReport>>>,
    /// The last batch found every remote endpoint unreachable (the user's network).
    offline: bool,
    /// Why the file on disk is not the config in use, if it is not.
    config_error: Option<String>,
    /// The provider that was preferred before an automatic switch away from
    /// it, so the engine can switch back when it recovers.
    switched_from: Option<String>,
    /// When a gateway failure last asked for a confirmation round.
    last_passive_probe: Option<Instant>,
    /// What the supervisor says after a crash (see [`Engine::supervise`]).
    engine_error: Option<String>,
    /// What the history recorder says while its writes fail.
    history_paused: Option<crate::model::HistoryPaused>,
    /// The inference checks' spend this month against `[inference]`'s cap.
    budget: Budget,
    /// Where the spend is kept between runs (the history database).
    ledger: Option<Arc<dyn SpendLedger>>,
    /// "Budget reached" was already said (logged and published once).
    budget_stop_said: bool,
}

impl Engine {
    /// Starts the engine on the current tokio runtime. The first round runs at once.
    pub fn spawn(
        config: Config,
        checker: Arc<dyn CheckSource>,
        clock: Arc<dyn Clock>,
    ) -> (EngineHandle, tokio::task::JoinHandle<()>) {
        Engine::spawn_with_ledger(config, checker, clock, None)
    }

    /// [`Engine::spawn`] with the month's inference spend read from, and
    /// written to, `ledger` (so it survives restarts).
    pub fn spawn_with_ledger(
        config: Config,
        checker: Arc<dyn CheckSource>,
        clock: Arc<dyn Clock>,
        ledger: Option<Arc<dyn SpendLedger>>,
    ) -> (EngineHandle, tokio::task::JoinHandle<()>) {
        let now = clock.now();
        let spent = ledger
            .as_ref()
            .map_or(0.0, |l| l.spent(&crate::health::budget::month_of(now)));
        let budget = Budget::new(config.inference.monthly_budget_usd, now, spent);
        let (cmd_tx, cmd_rx) = mpsc::channel(32);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let initial = Arc::new(StatusReport {
            checked_at: clock.now(),
            preferred: config.preferred.clone(),
            fallback: config.fallback.clone(),
            auto_switch: config.auto_switch,
            passive: config.passive,
            config_error: None,
            engine_error: None,
            history_paused: None,
            overall: State::Unknown,
            providers: Vec::new(),
        });
        let (status_tx, status_rx) = watch::channel(initial);
        let (config_tx, config_rx) = watch::channel(Arc::new(config.clone()));
        let mut engine = Engine {
            config,
            published_config: config_tx,
            checker,
            clock,
            providers: HashMap::new(),
            status: status_tx,
            events: events.clone(),
            commands: cmd_rx,
            last_round: None,
            running: std::sync::Mutex::new(FuturesUnordered::new()),
            next_full: Instant::now(),
            next_batch: 0,
            groups: HashMap::new(),
            resumed: false,
            replies: Vec::new(),
            check_now_waiting: Vec::new(),
            offline: false,
            config_error: None,
            switched_from: None,
            last_passive_probe: None,
            engine_error: None,
            history_paused: None,
            budget,
            ledger,
            budget_stop_said: false,
        };
        engine.sync_providers();
        engine.publish_report(None);
        let handle = EngineHandle {
            commands: cmd_tx,
            status: status_rx,
            config: config_rx,
            events,
        };
        (handle, tokio::spawn(engine.supervise()))
    }

    /// Runs the engine and restarts it when it panics, so one bad input
    /// cannot silently freeze the report everyone reads. The state survives
    /// (the engine is borrowed, not consumed, by [`Engine::run`]), but the
    /// health machines start over, since a panic may have left one half-updated.
    /// The crash is published in the report (`engine_error`), which the
    /// dashboard, the tray and `/api/status` show. After [`MAX_CRASHES`]
    /// within [`CRASH_WINDOW`] the panic is let through: the task ends with it
    /// and `app::Running` exits non-zero.
    async fn supervise(mut self) {
        let mut crashes: std::collections::VecDeque<Instant> = std::collections::VecDeque::new();
        loop {
            let run = std::panic::AssertUnwindSafe(self.run());
            let Err(panic) = futures::FutureExt::catch_unwind(run).await else {
                return;
            };
            let message = panic_message(panic.as_ref());
            let now = Instant::now();
            crashes.retain(|at| now.duration_since(*at) < CRASH_WINDOW);
            crashes.push_back(now);
            let total = crashes.len();
            tracing::error!(crashes = total, "the engine crashed: {message}");
            self.engine_error = Some(format!(
                "the monitor crashed at {} and was restarted ({total} crash{} in the last {} min): {message}",
                self.clock.now().format("%H:%M:%S UTC"),
                if total == 1 { "" } else { "es" },
                CRASH_WINDOW.as_secs() / 60,
            ));
            self.providers.clear();
            self.running = std::sync::Mutex::new(FuturesUnordered::new());
            self.groups.clear();
            self.replies.clear();
            self.check_now_waiting.clear();
            self.offline = false;
            self.last_round = None;
            self.sync_providers();
            self.publish_report(None);
            if total >= MAX_CRASHES {
                tracing::error!(
                    "the engine crashed {total} times in {} min; giving up",
                    CRASH_WINDOW.as_secs() / 60
                );
                std::panic::resume_unwind(panic);
            }
            tokio::time::sleep(RESTART_DELAY).await;
        }
    }

    async fn run(&mut self) {
        self.next_full = Instant::now();
        loop {
            let wake = self.next_wake();
            let running = self.running.get_mut().unwrap_or_else(|e| e.into_inner());
            let idle = running.is_empty();
            tokio::select! {
                _ = sleep_until(wake) => self.dispatch().await,
                Some(done) = running.next(), if !idle => self.finish(done).await,
                cmd = self.commands.recv() => match cmd {
                    None | Some(Command::Shutdown) => break,
                    Some(Command::CheckNow(reply)) => {
                        self.roll_budget().await;
                        self.check_now_waiting.push(reply);
                        self.start_check_now();
                        self.start_due_models();
                    }
                    Some(Command::SetPreferred(id, reply)) => {
                        // The user chose: no automatic switch back.
                        self.switched_from = None;
                        let _ = reply.send(self.set_preferred(id).await);
                    }
                    Some(Command::SetFallback(order, reply)) => {
                        let _ = reply.send(self.set_fallback(order).await);
                    }
                    Some(Command::SetAutoSwitch(on, reply)) => {
                        let _ = reply.send(self.set_auto_switch(on).await);
                    }
                    Some(Command::SetPassive(settings, reply)) => {
                        let _ = reply.send(self.set_passive(settings).await);
                    }
                    Some(Command::SetInference(settings, reply)) => {
                        let result = self.set_inference(settings).await;
                        if result.is_ok() {
                            self.next_full = Instant::now();
                        }
                        let _ = reply.send(result);
                    }
                    Some(Command::Estimate(reply)) => {
                        let _ = reply.send(self.estimate());
                    }
                    Some(Command::Config(reply)) => {
                        let _ = reply.send(Box::new(self.config.clone()));
                    }
                    Some(Command::Reload(config)) => {
                        let changed = *config != self.config;
                        let new_preferred = (config.preferred != self.config.preferred)
                            .then(|| config.preferred.clone())
                            .flatten();
                        self.config_error = None;
                        if changed {
                            info!("config reloaded");
                            self.config = *config;
                            self.sync_providers();
                            // New providers or settings: check now rather than in a minute.
                            self.next_full = Instant::now();
                        }
                        self.publish_report(None);
                        if changed {
                            let _ = self.events.send(Event::SettingsChanged);
                        }
                        if let Some(id) = new_preferred {
                            let _ = self.events.send(Event::PreferredChanged { id });
                        }
                    }
                    Some(Command::Passive(id, report)) => {
                        self.observe_passive(&id, *report, None).await;
                    }
                    Some(Command::AgentError(id, agent, model, report)) => {
                        if let Some(tracked) = self.providers.get_mut(&id) {
                            tracked.agent_errors.push(agent, model, &report);
                        }
                        self.observe_passive(&id, *report, Some(agent)).await;
                    }
                    Some(Command::ModelUsed(id, model)) => {
                        self.model_used(&id, &model);
                    }
                    Some(Command::InferenceSoon(id, model)) => {
                        // The loop wakes for the model's new deadline.
                        let _ = self.force_inference(&id, model.as_deref());
                    }
                    Some(Command::HistoryPaused(paused)) => {
                        if self.history_paused != paused {
                            match &paused {
                                Some(p) => warn!(since = %p.since, "history paused: {}", p.reason),
                                None => info!("history recording again"),
                            }
                            self.history_paused = paused;
                            self.publish_report(None);
                        }
                    }
                    Some(Command::ConfigError(error)) => {
                        if let Some(e) = &error {
                            warn!("config not applied, keeping the last good one: {e}");
                        }
                        self.config_error = error;
                        self.publish_report(None);
                    }
                },
            }
        }
        debug!("engine stopped");
    }

    /// Keeps one machine per enabled provider, preserving history across reloads.
    fn sync_providers(&mut self) {
        let thresholds = Thresholds::from(&self.config.check);
        let ids: Vec<String> = self.config.enabled_providers().map(|p| p.id.clone()).collect();
        self.providers.retain(|id, _| ids.contains(id));
        for id in ids {
            let tracked = self.providers.entry(id.clone()).or_insert_with(|| Tracked {
                machine: HealthMachine::new(thresholds),
                last: None,
                last_passive: None,
                agent_errors: AgentErrorTally::default(),
                models: Vec::new(),
                busy: false,
                confirm_at: None,
                traffic_failed: None,
            });
            tracked.machine.set_thresholds(thresholds);
            let watched = self
                .config
                .provider(&id)
                .filter(|p| p.kind != ProviderKind::Status)
                .map(|p| p.watched_models())
                .unwrap_or_default();
            let now = self.clock.now();
            tracked.models.retain(|m| {
                watched.contains(&m.id)
                    || m.seen_in_traffic.is_some_and(|at| {
                        (now - at).to_std().unwrap_or(Duration::ZERO) < TRAFFIC_MODEL_WINDOW
                    })
            });
            for m in &mut tracked.models {
                m.machine.set_thresholds(thresholds);
                if watched.contains(&m.id) {
                    m.seen_in_traffic = None;
                }
            }
            for model in watched {
                if !tracked.models.iter().any(|m| m.id == model) {
                    tracked.models.push(ModelTracked::new(model, thresholds, None));
                }
            }
        }
        self.budget.set_limit(self.config.inference.monthly_budget_usd);
    }

    /// Gateway traffic used `model` at provider `id`: watch it for 24 h.
    fn model_used(&mut self, id: &str, model: &str) {
        let model = model.trim();
        if model.is_empty() || model.len() > 200 || model.chars().any(char::is_control) {
            return;
        }
        let now = self.clock.now();
        let thresholds = Thresholds::from(&self.config.check);
        let Some(tracked) = self.providers.get_mut(id) else {
            return;
        };
        if let Some(m) = tracked.models.iter_mut().find(|m| m.id == model) {
            if m.seen_in_traffic.is_some() {
                m.seen_in_traffic = Some(now);
            }
            return;
        }
        let from_traffic = tracked
            .models
            .iter()
            .filter(|m| m.seen_in_traffic.is_some())
            .count();
        if from_traffic >= MAX_TRAFFIC_MODELS {
            return;
        }
        tracked
            .models
            .push(ModelTracked::new(model.to_string(), thresholds, Some(now)));
    }

    /// Whether inference checks run now: on, and inside the budget.
    fn inference_active(&self) -> bool {
        self.config.inference.enabled && !self.budget.exhausted()
    }

    /// The interval between two checks of one model: `[inference].interval_secs`,
    /// stretched so the projected month stays inside the budget.
    fn inference_interval(&self) -> Duration {
        let providers: Vec<&Provider> = self.config.enabled_providers().collect();
        let cost_per_round: f64 = providers
            .iter()
            .filter_map(|p| Some((*p, self.providers.get(&p.id)?)))
            .flat_map(|(p, t)| {
                t.models
                    .iter()
                    .map(move |m| crate::probe::prices::price(p, &m.id).per_check())
            })
            .sum();
        self.budget
            .interval(self.config.inference.interval, cost_per_round, self.clock.now())
    }

    /// Moves the inference check of `model` (every model when `None`) of
    /// provider `id` forward to now, no more often than `confirm_secs`.
    /// Returns when it is due, or `None` when no check will run.
    fn force_inference(&mut self, id: &str, model: Option<&str>) -> Option<Instant> {
        if !self.inference_active() {
            return None;
        }
        let confirm = self.config.check.confirm;
        let now = Instant::now();
        let tracked = self.providers.get_mut(id)?;
        let mut due = None;
        for m in tracked
            .models
            .iter_mut()
            .filter(|m| model.is_none_or(|want| m.id == want))
        {
            let at = m.last_forced.map_or(now, |t| (t + confirm).max(now));
            if at < m.next_due {
                m.next_due = at;
                m.last_forced = Some(at);
            }
            due = Some(due.map_or(m.next_due, |d: Instant| d.min(m.next_due)));
        }
        due
    }

    /// When the loop must wake next: the next full check, or an idle
    /// provider's re-probe, or an idle model's inference check (while the
    /// checks run), whichever comes first.
    fn next_wake(&self) -> Instant {
        let models = self.inference_active();
        // While a `check_now` waits, its group is started by the answers coming in.
        let probes = self.check_now_waiting.is_empty();
        let far = Instant::now() + Duration::from_secs(86_400);
        let mut wake = if probes { self.next_full } else { far };
        for t in self.providers.values().filter(|t| probes && !t.busy) {
            if let Some(at) = t.confirm_at {
                wake = wake.min(at);
            }
        }
        for m in self
            .providers
            .values()
            .flat_map(|t| &t.models)
            .filter(|m| models && !m.busy)
        {
            wake = wake.min(m.next_due);
        }
        wake
    }

    /// Starts whatever is due: the full check of every idle provider at its
    /// deadline, the re-probes asked for, and the inference checks due.
    async fn dispatch(&mut self) {
        self.roll_budget().await;
        let now = Instant::now();
        let wall = self.clock.now();
        if self.slept(wall, now) {
            info!("wall clock jumped: resumed from sleep? the next checks only settle");
            self.resumed = true;
        }
        self.last_round = Some((wall, now));
        let waiting = !self.check_now_waiting.is_empty();
        if waiting {
            // A `check_now` waits for the checks in flight: it starts the next group.
        } else if now >= self.next_full {
            self.start_probes(true);
            self.next_full = next_deadline(self.next_full, self.config.check.interval);
        }
        let confirm = self
            .providers
            .values()
            .any(|t| !t.busy && t.confirm_at.is_some_and(|at| at <= now));
        if confirm && !waiting {
            self.start_probes(false);
        }
        self.start_due_models();
    }

    /// A new month starts the budget over (from what the history already
    /// holds for it: `status --inference` may have spent some).
    async fn roll_budget(&mut self) {
        let now = self.clock.now();
        if !self.budget.roll(now) {
            return;
        }
        self.budget_stop_said = false;
        if let Some(ledger) = self.ledger.clone() {
            let month = self.budget.month().to_string();
            let spent = tokio::task::spawn_blocking(move || ledger.spent(&month))
                .await
                .unwrap_or(0.0);
            self.budget.add(now, spent);
        }
    }

    /// Starts the full check `check_now` callers wait for, once no provider
    /// is busy (so it checks them all, like the round they asked for).
    fn start_check_now(&mut self) {
        if self.check_now_waiting.is_empty() || self.providers.values().any(|t| t.busy) {
            return;
        }
        let waiting = std::mem::take(&mut self.check_now_waiting);
        match self.start_probes(true) {
            Some(group) => self.replies.extend(waiting.into_iter().map(|r| (group, r))),
            None => {
                let report = self.publish_report(None);
                for reply in waiting {
                    let _ = reply.send(report.clone());
                }
            }
        }
        self.next_full = Instant::now() + self.config.check.interval;
    }

    /// Starts one batch of probes of every provider that is not busy (`full`:
    /// status pages too; otherwise the last page reading is reused). Every
    /// idle provider rides along with a re-probe, so "nothing answered" can be
    /// told from "this provider failed". Returns the batch's number, or `None`
    /// when every provider is busy.
    fn start_probes(&mut self, full: bool) -> Option<u64> {
        let providers: Vec<Provider> = self
            .config
            .enabled_providers()
            .filter(|p| self.providers.get(&p.id).is_some_and(|t| !t.busy))
            .cloned()
            .collect();
        if providers.is_empty() {
            return None;
        }
        for p in &providers {
            if let Some(t) = self.providers.get_mut(&p.id) {
                t.busy = true;
                t.confirm_at = None;
            }
        }
        let batch = self.next_batch;
        self.next_batch += 1;
        let settling = std::mem::take(&mut self.resumed);
        let at = self.clock.now();
        let rest = self
            .checker
            .clone()
            .run_each(providers.clone(), self.config.check.clone(), full, at);
        self.groups.insert(
            batch,
            Group {
                full,
                at,
                settling,
                providers,
                endpoints: 0,
                unreachable: 0,
                held: Vec::new(),
            },
        );
        self.in_flight().push(next_answer(batch, rest));
        Some(batch)
    }

    /// Starts the inference check of every idle model that is due, each on
    /// its own, and sets its next deadline (the budget-stretched interval).
    fn start_due_models(&mut self) {
        if !self.inference_active() {
            return;
        }
        let interval = self.inference_interval();
        let now = Instant::now();
        let settling = self.resumed || self.groups.values().any(|g| g.settling);
        let started = self.clock.now();
        let mut jobs = Vec::new();
        for p in self.config.enabled_providers() {
            let Some(tracked) = self.providers.get_mut(&p.id) else {
                continue;
            };
            for m in tracked.models.iter_mut().filter(|m| !m.busy && now >= m.next_due) {
                m.busy = true;
                m.next_due = now + interval;
                jobs.push(InferenceJob {
                    provider: p.clone(),
                    model: m.id.clone(),
                });
            }
        }
        for job in jobs {
            let checker = self.checker.clone();
            let check = self.config.check.clone();
            self.in_flight().push(Box::pin(async move {
                let results = checker
                    .run_inference(std::slice::from_ref(&job), &check, started)
                    .await;
                Finished::Model {
                    provider: job.provider.id,
                    model: job.model,
                    results,
                    settling,
                }
            }));
        }
    }

    fn in_flight(&mut self) -> &mut FuturesUnordered<BoxFuture<'static, Finished>> {
        self.running.get_mut().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies a finished check.
    async fn finish(&mut self, done: Finished) {
        match done {
            Finished::Probe {
                group,
                check: Some(check),
                rest,
            } => {
                self.in_flight().push(next_answer(group, rest));
                self.take_answer(group, *check).await;
                self.start_check_now();
            }
            Finished::Probe {
                group, check: None, ..
            } => {
                self.close_group(group).await;
                self.start_check_now();
            }
            Finished::Model {
                provider,
                model,
                results,
                settling,
            } => self.apply_model(&provider, &model, results, settling).await,
        }
    }

    /// Feeds each model's machine with its check and adds the cost to the
    /// month's spend (persisted). Says once when the cap is reached.
    async fn apply_inference(&mut self, results: Vec<InferenceResult>, context: Context) {
        if results.is_empty() {
            return;
        }
        let at = self.clock.now();
        let mut spent = 0.0;
        for r in results {
            spent += r.check.cost_usd;
            let Some(tracked) = self.providers.get_mut(&r.provider) else {
                continue;
            };
            let Some(m) = tracked.models.iter_mut().find(|m| m.id == r.check.model) else {
                continue;
            };
            let assessment = crate::health::assess(Some(&r.check.report), None);
            let before = m.machine.state();
            m.machine.observe(Observation {
                at: r.check.report.at,
                assessment: &assessment,
                from_probe: true,
                probe_passed: matches!(r.check.report.class, ProbeClass::Ok | ProbeClass::Slow),
                page_fresh: true,
                request_id: r.check.report.request_id.as_deref(),
                context,
                evidence: true,
                sample: Some(Sample {
                    model: None,
                    failed: is_trouble(assessment.state),
                }),
            });
            if m.machine.state() != before {
                info!(provider = %r.provider, model = %m.id, from = %before, to = %m.machine.state(), "model state changed");
            }
            m.last = Some(r.check);
        }
        self.budget.add(at, spent);
        if let Some(ledger) = self.ledger.clone().filter(|_| spent > 0.0) {
            let month = self.budget.month().to_string();
            let _ = tokio::task::spawn_blocking(move || ledger.add_spent(&month, spent)).await;
        }
        if self.budget.exhausted() && !self.budget_stop_said {
            self.budget_stop_said = true;
            warn!(
                spent_usd = self.budget.spent_usd(),
                budget_usd = self.budget.limit_usd(),
                "inference checks stopped: this month's budget is spent (probes and status pages go on)"
            );
        }
    }

    /// The inference block of every report.
    fn inference_status(&self) -> InferenceStatus {
        InferenceStatus {
            enabled: self.config.inference.enabled,
            spent_usd_month: self.budget.spent_usd(),
            budget_usd_month: self.budget.limit_usd(),
            stopped: self.config.inference.enabled && self.budget.exhausted(),
            interval_secs: self.inference_interval().as_secs(),
        }
    }

    /// Writes a settings change to the config file (off the async threads), when
    /// the engine runs from a file.
    async fn persist(
        &self,
        write: impl FnOnce(&std::path::Path) -> Result<(), config_edit::EditError> + Send + 'static,
    ) -> Result<(), EngineError> {
        let Some(path) = self.config.path.clone() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || write(&path))
            .await
            .map_err(|_| EngineError::Stopped)??;
        Ok(())
    }

    async fn set_preferred(&mut self, id: String) -> Result<(), EngineError> {
        if self.config.provider(&id).is_none() {
            return Err(EngineError::UnknownProvider(id));
        }
        let id2 = id.clone();
        self.persist(move |path| config_edit::set_preferred(path, &id2))
            .await?;
        self.config.preferred = Some(id.clone());
        info!(provider = %id, "preferred provider changed");
        self.publish_report(None);
        let _ = self.events.send(Event::PreferredChanged { id });
        Ok(())
    }

    async fn set_fallback(&mut self, order: Vec<String>) -> Result<(), EngineError> {
        if let Some(bad) = order.iter().find(|id| self.config.provider(id).is_none()) {
            return Err(EngineError::UnknownProvider(bad.clone()));
        }
        let order2 = order.clone();
        self.persist(move |path| config_edit::set_fallback(path, &order2))
            .await?;
        self.config.fallback = order;
        self.publish_report(None);
        let _ = self.events.send(Event::SettingsChanged);
        Ok(())
    }

    async fn set_auto_switch(&mut self, on: bool) -> Result<(), EngineError> {
        self.persist(move |path| config_edit::set_auto_switch(path, on))
            .await?;
        self.config.auto_switch = on;
        let report = self.publish_report(None);
        let _ = self.events.send(Event::SettingsChanged);
        // Turned on while the preferred provider is already failing: act now.
        if let Some(current) = on.then(|| self.config.preferred.clone()).flatten() {
            let failing = report.providers.iter().find(|p| p.id == current).map(|p| p.state);
            if let Some(state) = failing.filter(|s| s.is_failing()) {
                if let Some(alt) = crate::routing::healthiest_alternative(&current, state, &report) {
                    self.switch_automatically(alt.id, Some(current)).await?;
                }
            }
        }
        Ok(())
    }

    async fn set_passive(&mut self, settings: PassiveSettings) -> Result<(), EngineError> {
        self.persist(move |path| config_edit::set_passive(path, settings))
            .await?;
        self.config.passive = settings;
        self.publish_report(None);
        let _ = self.events.send(Event::SettingsChanged);
        Ok(())
    }

    async fn set_inference(&mut self, s: InferenceSettings) -> Result<(), EngineError> {
        if let Some(secs) = s.interval_secs {
            if secs == 0 || secs > 86_400 {
                return Err(EngineError::Invalid(format!(
                    "interval_secs must be between 1 and 86400, got {secs}"
                )));
            }
        }
        if let Some(usd) = s.monthly_budget_usd {
            if !(usd.is_finite() && (0.0..=crate::config::MAX_INFERENCE_BUDGET_USD).contains(&usd)) {
                return Err(EngineError::Invalid(format!(
                    "monthly_budget_usd must be between 0 and {}, got {usd}",
                    crate::config::MAX_INFERENCE_BUDGET_USD
                )));
            }
        }
        self.persist(move |path| {
            config_edit::set_inference(path, s.enabled, s.interval_secs, s.monthly_budget_usd)
        })
        .await?;
        self.config.inference.enabled = s.enabled;
        if let Some(secs) = s.interval_secs {
            self.config.inference.interval = Duration::from_secs(secs);
        }
        if let Some(usd) = s.monthly_budget_usd {
            self.config.inference.monthly_budget_usd = usd;
        }
        self.budget.set_limit(self.config.inference.monthly_budget_usd);
        self.budget_stop_said = false;
        info!(enabled = s.enabled, "inference checks setting changed");
        self.publish_report(None);
        let _ = self.events.send(Event::SettingsChanged);
        Ok(())
    }

    /// The consent offer's numbers for the models watched now.
    fn estimate(&self) -> crate::model::InferenceEstimate {
        let watched: Vec<(&Provider, Vec<String>)> = self
            .config
            .enabled_providers()
            .filter(|p| p.kind != ProviderKind::Status)
            .filter_map(|p| {
                let t = self.providers.get(&p.id)?;
                let models: Vec<String> = t.models.iter().map(|m| m.id.clone()).collect();
                (!models.is_empty()).then_some((p, models))
            })
            .collect();
        crate::probe::prices::estimate(&watched, &self.config.inference)
    }

    /// One answer of group `id`: applied now, or held while it got no HTTP
    /// answer and nobody else in the group has been answered yet.
    async fn take_answer(&mut self, id: u64, c: ProviderCheck) {
        let Some(group) = self.groups.get_mut(&id) else {
            return;
        };
        let Some(p) = group.providers.iter().find(|p| p.id == c.id).cloned() else {
            return;
        };
        if let Some(t) = self.providers.get_mut(&p.id) {
            t.busy = false;
        }
        let (endpoints, unreachable) = endpoints_of(&p, &c, group.full);
        group.endpoints += endpoints;
        group.unreachable += unreachable;
        if endpoints > 0 && unreachable == endpoints && !group.answered() {
            group.held.push((p, c));
            return;
        }
        let (full, at) = (group.full, group.at);
        let context = if group.settling {
            Context::Settling
        } else {
            Context::Normal
        };
        // Somebody answered: the network is up, so what was held is those providers' own.
        let held = if group.answered() {
            std::mem::take(&mut group.held)
        } else {
            Vec::new()
        };
        self.offline &= !group.answered();
        let mut events = self.apply_probe(&p, &c, full, context, at);
        for (p, c) in held {
            events.extend(self.apply_probe(&p, &c, full, context, at));
        }
        let report = self.publish_report(Some(at));
        self.after_transitions(events, report).await;
    }

    /// Group `id` is complete: judges what it held (every remote endpoint
    /// unreachable is the user's network), publishes the round's report and
    /// answers the `check_now` callers waiting for it.
    async fn close_group(&mut self, id: u64) {
        let Some(group) = self.groups.remove(&id) else {
            return;
        };
        let offline = group.endpoints >= check::MIN_ENDPOINTS_FOR_OFFLINE && !group.answered();
        if group.endpoints > 0 {
            self.offline = offline;
        }
        let context = if offline {
            Context::Offline
        } else if group.settling {
            Context::Settling
        } else {
            Context::Normal
        };
        let mut events = Vec::new();
        for (p, c) in &group.held {
            events.extend(self.apply_probe(p, c, group.full, context, group.at));
        }
        let report = self.publish_report(Some(group.at));
        let report = self.after_transitions(events, report).await;
        let _ = self.events.send(Event::CheckFinished {
            report: report.clone(),
        });
        let (answered, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.replies)
            .into_iter()
            .partition(|(b, _)| *b == id);
        self.replies = waiting;
        for (_, reply) in answered {
            let _ = reply.send(report.clone());
        }
    }

    /// Feeds provider `p`'s machine with its probe (and page, when `full`),
    /// beside its models' last inference checks; asks for its re-probe and,
    /// when the model list failed, for its models' inference checks at once.
    fn apply_probe(
        &mut self,
        p: &Provider,
        c: &ProviderCheck,
        full: bool,
        context: Context,
        at: DateTime<Utc>,
    ) -> Vec<Event> {
        let use_models = self.inference_active();
        let confirm_at = Instant::now() + self.config.check.confirm;
        let memory = self.config.check.interval * TRAFFIC_MEMORY_INTERVALS;
        let Some(tracked) = self.providers.get_mut(&p.id) else {
            return Vec::new();
        };
        let traffic_fails = tracked.traffic_failed.is_some_and(|t| t.elapsed() < memory);
        let ctx = if context == Context::Offline && check::is_local_provider(p) {
            Context::Normal
        } else {
            context
        };
        // Without a probe of our own, the user's own recent agent errors
        // stand in for it: a green page must not end what their sessions
        // still see. Once those errors stop, the page decides again.
        let stand_in = c
            .probe
            .is_none()
            .then(|| tracked.agent_errors.latest(at))
            .flatten()
            .map(|probe| ProviderCheck {
                probe: Some(probe),
                ..c.clone()
            });
        let observed = stand_in.as_ref().unwrap_or(c);
        let base = observed.assess(p);
        let mut assessment = base.clone();
        let mut failing_model = None;
        if use_models && ctx != Context::Offline {
            let models: Vec<(&str, &ProbeReport)> = tracked
                .models
                .iter()
                .filter_map(|m| m.last.as_ref().map(|c| (m.id.as_str(), &c.report)))
                .collect();
            let page_trouble = observed
                .page_view(p)
                .is_some_and(|(v, _)| matches!(v.state, State::Degraded | State::Outage));
            (assessment, failing_model) = check::with_models(assessment, &models, page_trouble);
        }
        // The models' last checks were counted when they came in: they
        // alone cannot move the streak again (trouble), and the model list
        // answering says nothing of a model that failed (recovery).
        // Nor does it say anything of the generations real traffic just saw fail.
        let evidence = (!is_trouble(assessment.state) || is_trouble(base.state))
            && !(assessment.state == State::Operational
                && (traffic_fails || tracked.machine.incident().is_some_and(|i| i.model.is_some())));
        // A failed zero-token probe: ask the models at once (confirm spacing).
        let force = c.probe.as_ref().is_some_and(|r| r.class.state().is_failing());
        let transitions = tracked.machine.observe(Observation {
            at,
            assessment: &assessment,
            from_probe: observed.probe.is_some(),
            probe_passed: observed
                .probe
                .as_ref()
                .is_some_and(|r| matches!(r.class, ProbeClass::Ok | ProbeClass::Slow)),
            page_fresh: full || p.status_page.is_none(),
            request_id: failing_model
                .as_deref()
                .and_then(|m| tracked.models.iter().find(|x| x.id == m))
                .and_then(|m| m.last.as_ref())
                .and_then(|c| c.report.request_id.as_deref())
                .or_else(|| observed.probe.as_ref().and_then(|r| r.request_id.as_deref())),
            context: ctx,
            evidence,
            // The provider's own probe of this round (not an agent's error
            // standing in for it, counted when it came in).
            sample: c.probe.as_ref().map(|r| Sample {
                model: None,
                failed: is_trouble(r.class.state()),
            }),
        });
        let mut transitions = transitions;
        for t in &mut transitions {
            if let Transition::Opened(incident) = t {
                incident.model.clone_from(&failing_model);
                tracked.machine.set_incident_model(failing_model.clone());
            }
        }
        // Its own failure to confirm: re-probe soon. A model's is
        // confirmed by that model's next check, not by the model list.
        if tracked.machine.wants_confirmation() && c.probe.is_some() && evidence {
            tracked.confirm_at = Some(tracked.confirm_at.map_or(confirm_at, |t| t.min(confirm_at)));
        }
        tracked.last = Some(c.clone());
        let events = transition_events(&p.id, transitions, &tracked.machine);
        if force {
            // The loop wakes for the models' new deadlines.
            let _ = self.force_inference(&p.id, None);
        }
        events
    }

    /// Feeds one model's finished inference check to its machine and to its
    /// provider's (the fresh result is one observation of the provider, with
    /// its last probe and the other models' last checks beside it), asks for
    /// the model's confirmation within `confirm_secs`, and publishes.
    async fn apply_model(&mut self, id: &str, model: &str, results: Vec<InferenceResult>, settling: bool) {
        if let Some(m) = self
            .providers
            .get_mut(id)
            .and_then(|t| t.models.iter_mut().find(|m| m.id == model))
        {
            m.busy = false;
        }
        let Some(fresh) = results
            .iter()
            .find(|r| r.provider == id && r.check.model == model)
            .map(|r| r.check.report.clone())
        else {
            // No usable credential: nothing was sent.
            return;
        };
        let context = if self.offline {
            Context::Offline
        } else if settling {
            Context::Settling
        } else {
            Context::Normal
        };
        self.apply_inference(results, context).await;
        let confirm_at = Instant::now() + self.config.check.confirm;
        let at = self.clock.now();
        let use_models = self.config.inference.enabled;
        let Some(p) = self.config.provider(id).filter(|p| p.enabled).cloned() else {
            return;
        };
        let Some(tracked) = self.providers.get_mut(id) else {
            return;
        };
        if let Some(m) = tracked.models.iter_mut().find(|m| m.id == model) {
            if m.machine.wants_confirmation() {
                m.next_due = m.next_due.min(confirm_at);
            }
        }
        let mut events = Vec::new();
        // Offline or just resumed: the model's own machine has it; the
        // provider waits for its next probe batch.
        if use_models && context == Context::Normal {
            let last = tracked.last.clone().unwrap_or_else(|| ProviderCheck {
                id: id.to_string(),
                credential: crate::model::CredentialSource::Keyring,
                keyring_error: None,
                probe: None,
                page: None,
                not_running: false,
            });
            let models: Vec<(&str, &ProbeReport)> = tracked
                .models
                .iter()
                .filter_map(|m| m.last.as_ref().map(|c| (m.id.as_str(), &c.report)))
                .collect();
            let page_trouble = last
                .page_view(&p)
                .is_some_and(|(v, _)| matches!(v.state, State::Degraded | State::Outage));
            let (assessment, failing_model) = check::with_models(last.assess(&p), &models, page_trouble);
            // Evidence only when this check says what the whole says: a passing
            // model beside a failing model list (or another failing model) is
            // no new word on the failure, counted when it came in.
            let evidence = is_trouble(fresh.class.state()) == is_trouble(assessment.state);
            let request_id = failing_model
                .as_deref()
                .and_then(|m| tracked.models.iter().find(|x| x.id == m))
                .and_then(|m| m.last.as_ref())
                .and_then(|c| c.report.request_id.clone());
            let mut transitions = tracked.machine.observe(Observation {
                at,
                assessment: &assessment,
                from_probe: true,
                probe_passed: matches!(fresh.class, ProbeClass::Ok | ProbeClass::Slow),
                page_fresh: false,
                request_id: request_id.as_deref(),
                context,
                evidence,
                // The model's own window: another model's passes do not
                // dilute its failures, nor does the model list answering.
                sample: Some(Sample {
                    model: Some(model),
                    failed: is_trouble(fresh.class.state()),
                }),
            });
            for t in &mut transitions {
                if let Transition::Opened(incident) = t {
                    incident.model.clone_from(&failing_model);
                    tracked.machine.set_incident_model(failing_model.clone());
                }
            }
            events = transition_events(id, transitions, &tracked.machine);
        }
        let report = self.publish_report(None);
        self.after_transitions(events, report).await;
    }

    /// Counts a failed gateway call as an observation of `id` (an HTTP answer
    /// saying the provider fails), and asks for a confirmation probe at once,
    /// so real traffic opens an outage seconds after it starts instead of at
    /// the next scheduled round. A connection failure only asks for the probe:
    /// it may be the user's own network, which only a whole round can tell.
    async fn observe_passive(&mut self, id: &str, report: ProbeReport, agent: Option<Agent>) {
        let Some(provider) = self.config.provider(id).filter(|p| p.enabled).cloned() else {
            return;
        };
        let Some(tracked) = self.providers.get_mut(id) else {
            return;
        };
        let now = Instant::now();
        if tracked.last_passive.is_some_and(|t| {
            now.duration_since(t)
                < if agent.is_some() {
                    AGENT_SPACING
                } else {
                    PASSIVE_SPACING
                }
        }) {
            return;
        }
        tracked.last_passive = Some(now);
        debug!(
            provider = %id,
            summary = %report.summary(),
            source = agent.map_or("gateway", Agent::label),
            "real request failed"
        );
        let mut transitions = Vec::new();
        let observed = match agent {
            // An agent's log has no "connection failed"; every entry is an answer.
            Some(_) => !report.class.is_unreachable() && report.class != ProbeClass::Ok,
            None => !report.class.is_unreachable() && report.class.state().is_failing(),
        };
        if observed {
            // The gateway used a key, so the credential column stays what the last round saw.
            let mut check = tracked.last.clone().unwrap_or_else(|| ProviderCheck {
                id: id.to_string(),
                credential: crate::model::CredentialSource::Keyring,
                keyring_error: None,
                probe: None,
                page: None,
                not_running: false,
            });
            check.probe = Some(report);
            tracked.traffic_failed = Some(now);
            let assessment = check.assess(&provider);
            transitions = tracked.machine.observe(Observation {
                at: self.clock.now(),
                assessment: &assessment,
                from_probe: true,
                probe_passed: false,
                page_fresh: false,
                request_id: check.probe.as_ref().and_then(|r| r.request_id.as_deref()),
                context: Context::Normal,
                evidence: true,
                // The gateway reports failures only: no rate without the passes.
                sample: None,
            });
            tracked.last = Some(check);
        }
        let events = transition_events(id, transitions, &tracked.machine);
        if observed {
            let _ = self.force_inference(id, None);
        }
        let earliest = self
            .last_passive_probe
            .map_or(now, |t| (t + self.config.check.confirm).max(now));
        let Some(tracked) = self.providers.get_mut(id) else {
            return;
        };
        if tracked.machine.incident().is_none() {
            // Probe soon to confirm, but no more often than confirmation rounds
            // would: a steady stream of failing calls must not become a probe storm.
            self.last_passive_probe = Some(earliest);
            tracked.confirm_at = Some(tracked.confirm_at.map_or(earliest, |t| t.min(earliest)));
        }
        let report = self.publish_report(None);
        self.after_transitions(events, report).await;
    }

    /// Sends the round's events, then applies "switch automatically when the
    /// preferred provider fails" (and back once it has recovered). Returns the
    /// report as it stands afterwards.
    async fn after_transitions(
        &mut self,
        events: Vec<Event>,
        report: Arc<StatusReport>,
    ) -> Arc<StatusReport> {
        let preferred = self.config.preferred.clone();
        let mut switch_to = None;
        for e in &events {
            match e {
                Event::IncidentOpened { id, incident }
                    if self.config.auto_switch
                        && Some(id) == preferred.as_ref()
                        && incident.state.is_failing() =>
                {
                    if let Some(alt) = crate::routing::healthiest_alternative(id, incident.state, &report) {
                        switch_to = Some((alt.id, Some(id.clone())));
                    }
                }
                Event::IncidentClosed { id, .. }
                    if self.config.auto_switch && self.switched_from.as_ref() == Some(id) =>
                {
                    switch_to = Some((id.clone(), None));
                }
                _ => {}
            }
        }
        for e in events {
            let _ = self.events.send(e);
        }
        let Some((to, from)) = switch_to else {
            return report;
        };
        if let Err(e) = self.switch_automatically(to, from).await {
            warn!("automatic switch failed: {e}");
        }
        self.status.borrow().clone()
    }

    /// Makes `to` the preferred provider on the engine's own initiative,
    /// remembering `from` (the failing one) to switch back when it recovers;
    /// `from` is `None` for that switch back.
    async fn switch_automatically(&mut self, to: String, from: Option<String>) -> Result<(), EngineError> {
        info!(provider = %to, "switching the preferred provider automatically");
        self.set_preferred(to).await?;
        self.switched_from = from;
        Ok(())
    }

    fn slept(&self, now_wall: DateTime<Utc>, now_mono: Instant) -> bool {
        let Some((wall, mono)) = self.last_round else {
            return false;
        };
        let wall_elapsed = (now_wall - wall).to_std().unwrap_or(Duration::ZERO);
        let mono_elapsed = now_mono.duration_since(mono);
        wall_elapsed > mono_elapsed + SLEEP_JUMP
    }

    fn publish_report(&mut self, checked_at: Option<DateTime<Utc>>) -> Arc<StatusReport> {
        let inference = self.inference_status();
        let reports: Vec<_> = self
            .config
            .enabled_providers()
            .filter_map(|p| {
                let t = self.providers.get(&p.id)?;
                let m = &t.machine;
                let mut report = check::provider_report(
                    p,
                    t.last.as_ref(),
                    ReportedState {
                        state: m.state(),
                        since: m.since(),
                        summary: m.summary().to_string(),
                        confirmed_by_status_page: m.confirmed_by_status_page(),
                    },
                );
                report.agent_errors = t.agent_errors.report(self.clock.now());
                if p.kind != ProviderKind::Status {
                    let enabled = self.config.inference.enabled;
                    report.models = t
                        .models
                        .iter()
                        // Models from traffic are listed once they are checked:
                        // with the checks off they would only be names.
                        .filter(|m| enabled || m.seen_in_traffic.is_none())
                        .map(|m| {
                            let state = if m.last.is_some() {
                                m.machine.state()
                            } else {
                                State::Unknown
                            };
                            let summary = m.last.as_ref().map(|_| m.machine.summary().to_string());
                            check::model_report(
                                &m.id,
                                state,
                                summary,
                                m.last.as_ref(),
                                m.seen_in_traffic.is_some(),
                                enabled,
                            )
                        })
                        .collect();
                    report.inference = Some(inference.clone());
                }
                Some(report)
            })
            .collect();
        let report = Arc::new(StatusReport {
            checked_at: checked_at.unwrap_or_else(|| self.status.borrow().checked_at),
            preferred: self.config.preferred.clone(),
            fallback: self.config.fallback.clone(),
            auto_switch: self.config.auto_switch,
            passive: self.config.passive,
            config_error: self.config_error.clone(),
            engine_error: self.engine_error.clone(),
            history_paused: self.history_paused.clone(),
            overall: StatusReport::worst(&reports),
            providers: reports,
        });
        self.status.send_replace(report.clone());
        let config = &self.config;
        self.published_config.send_if_modified(|published| {
            let changed = **published != *config;
            if changed {
                *published = Arc::new(config.clone());
            }
            changed
        });
        report
    }
}

/// The events one machine's transitions mean, with a log line for each.
fn transition_events(id: &str, transitions: Vec<Transition>, machine: &HealthMachine) -> Vec<Event> {
    transitions
        .into_iter()
        .map(|t| match t {
            Transition::Changed { from, to } => {
                // The summary may carry a status page's words: escaped, so a page
                // cannot forge log lines or drive the terminal.
                let summary = crate::text::escape_control(machine.summary());
                info!(provider = %id, %from, %to, %summary, "state changed");
                Event::StateChanged {
                    id: id.to_string(),
                    from,
                    to,
                }
            }
            Transition::Opened(incident) => {
                let cause = crate::text::escape_control(&incident.cause);
                warn!(provider = %id, %cause, "incident began");
                Event::IncidentOpened {
                    id: id.to_string(),
                    incident,
                }
            }
            Transition::Acknowledged(incident) => Event::IncidentAcknowledged {
                id: id.to_string(),
                incident,
            },
            Transition::Closed(incident) => {
                info!(provider = %id, "incident ended");
                Event::IncidentClosed {
                    id: id.to_string(),
                    incident,
                }
            }
        })
        .collect()
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Waits for the next answer of group `group`.
fn next_answer(group: u64, rest: BoxStream<'static, ProviderCheck>) -> BoxFuture<'static, Finished> {
    Box::pin(futures::FutureExt::map(
        rest.into_future(),
        move |(check, rest)| Finished::Probe {
            group,
            check: check.map(Box::new),
            rest,
        },
    ))
}

/// The next deadline after `prev`, skipping missed ticks instead of bursting
/// through them (after a suspend, one round, not twenty).
fn next_deadline(prev: Instant, interval: Duration) -> Instant {
    let now = Instant::now();
    let mut next = prev + interval;
    if next <= now {
        next = now + interval;
    }
    next
}
