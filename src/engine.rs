//! The engine: one tokio task that owns the config, every provider's health
//! machine and the latest report, runs checks on a deadline schedule, and
//! publishes what changes.
//!
//! Nobody else decides health. The tray, the web server, the notifier and the
//! gateway hold an [`EngineHandle`]: they read the latest [`StatusReport`]
//! (`watch`), subscribe to [`Event`]s (`broadcast`) and send [`Command`]s.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{sleep_until, Instant};
use tracing::{debug, info, warn};

use crate::agent_errors::AgentErrorTally;
use crate::check::{self, CheckSource, ProviderCheck, ReportedState, Round};
use crate::config::{Config, Provider};
use crate::config_edit;
use crate::health::{Context, HealthMachine, IncidentRecord, Observation, Thresholds, Transition};
use crate::model::{Agent, PassiveSettings, ProbeClass, ProbeReport, State, StatusReport};

/// A wall-clock jump larger than the monotonic time elapsed by this much means
/// the machine slept (or the clock was set): the next round only settles.
pub const SLEEP_JUMP: Duration = Duration::from_secs(30);

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
}

pub enum Command {
    CheckNow(oneshot::Sender<Arc<StatusReport>>),
    SetPreferred(String, oneshot::Sender<Result<(), EngineError>>),
    SetFallback(Vec<String>, oneshot::Sender<Result<(), EngineError>>),
    SetAutoSwitch(bool, oneshot::Sender<Result<(), EngineError>>),
    SetPassive(PassiveSettings, oneshot::Sender<Result<(), EngineError>>),
    Config(oneshot::Sender<Box<Config>>),
    Reload(Box<Config>),
    ConfigError(Option<String>),
    /// A real request through the gateway failed (see [`EngineHandle::report_failure`]).
    Passive(String, Box<ProbeReport>),
    AgentError(String, Agent, Option<String>, Box<ProbeReport>),
    Shutdown,
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
    pub fn watch_config(&self) -> watch::Receiver<Arc<Config>> {
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

    /// The config the engine runs on now.
    pub async fn config(&self) -> Result<Config, EngineError> {
        self.ask(Command::Config).await.map(|c| *c)
    }

    /// Reports that the config file could not be applied (`None` clears it).
    pub async fn config_error(&self, error: Option<String>) -> Result<(), EngineError> {
        self.commands
            .send(Command::ConfigError(error))
            .await
            .map_err(|_| EngineError::Stopped)
    }

    /// Applies a new config (a no-op when it equals the running one).
    pub async fn reload(&self, config: Config) -> Result<(), EngineError> {
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
    pub fn report_passive(&self, id: &str, agent: Agent, model: Option<String>, report: ProbeReport) {
        let _ = self.commands.try_send(Command::AgentError(
            id.to_string(),
            agent,
            model,
            Box::new(report),
        ));
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
}

/// Real-traffic failures of one provider closer together than this count once.
const PASSIVE_SPACING: Duration = Duration::from_secs(1);
/// The same for errors from the user's agent sessions. Each is a request the
/// user saw fail (the agents log one line per failed turn, after their own
/// retries), so they are counted closer together; this only stops a storm.
const AGENT_SPACING: Duration = Duration::from_millis(250);

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
    /// Wall and monotonic time of the last round, to notice a suspend.
    last_round: Option<(DateTime<Utc>, Instant)>,
    next_confirm: Option<Instant>,
    /// Why the file on disk is not the config in use, if it is not.
    config_error: Option<String>,
    /// The provider that was preferred before an automatic switch away from
    /// it, so the engine can switch back when it recovers.
    switched_from: Option<String>,
    /// When a gateway failure last asked for a confirmation round.
    last_passive_probe: Option<Instant>,
    /// What the supervisor says after a crash (see [`Engine::supervise`]).
    engine_error: Option<String>,
}

impl Engine {
    /// Starts the engine on the current tokio runtime. The first round runs at once.
    pub fn spawn(
        config: Config,
        checker: Arc<dyn CheckSource>,
        clock: Arc<dyn Clock>,
    ) -> (EngineHandle, tokio::task::JoinHandle<()>) {
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
            next_confirm: None,
            config_error: None,
            switched_from: None,
            last_passive_probe: None,
            engine_error: None,
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
            self.next_confirm = None;
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
        let mut next_full = Instant::now();
        loop {
            let confirm_at = self.next_confirm;
            tokio::select! {
                _ = sleep_until(next_full) => {
                    self.round(true).await;
                    next_full = next_deadline(next_full, self.config.check.interval);
                }
                _ = sleep_until(confirm_at.unwrap_or_else(Instant::now)), if confirm_at.is_some() => {
                    self.round(false).await;
                }
                cmd = self.commands.recv() => match cmd {
                    None | Some(Command::Shutdown) => break,
                    Some(Command::CheckNow(reply)) => {
                        let report = self.round(true).await;
                        next_full = Instant::now() + self.config.check.interval;
                        let _ = reply.send(report);
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
                            next_full = Instant::now();
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
            self.providers
                .entry(id)
                .or_insert_with(|| Tracked {
                    machine: HealthMachine::new(thresholds),
                    last: None,
                    last_passive: None,
                    agent_errors: AgentErrorTally::default(),
                })
                .machine
                .set_thresholds(thresholds);
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

    /// One round: check, feed the machines, publish. `full` also fetches status pages.
    async fn round(&mut self, full: bool) -> Arc<StatusReport> {
        let providers: Vec<Provider> = self.config.enabled_providers().cloned().collect();
        let refs: Vec<&Provider> = providers.iter().collect();
        let started = self.clock.now();
        let round = self
            .checker
            .run_round(&refs, &self.config.check, full, started)
            .await;

        let now_wall = self.clock.now();
        let now_mono = Instant::now();
        let context = if round.offline {
            Context::Offline
        } else if self.slept(now_wall, now_mono) {
            info!("wall clock jumped: resumed from sleep? this round only settles");
            Context::Settling
        } else {
            Context::Normal
        };
        self.last_round = Some((now_wall, now_mono));

        let mut events = Vec::new();
        let mut wants_confirm = false;
        for (p, c) in providers.iter().zip(round.checks.iter()) {
            let Some(tracked) = self.providers.get_mut(&p.id) else {
                continue;
            };
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
                .then(|| tracked.agent_errors.latest(round.at))
                .flatten()
                .map(|probe| ProviderCheck {
                    probe: Some(probe),
                    ..c.clone()
                });
            let observed = stand_in.as_ref().unwrap_or(c);
            let assessment = observed.assess(p);
            let transitions = tracked.machine.observe(Observation {
                at: round.at,
                assessment: &assessment,
                from_probe: observed.probe.is_some(),
                probe_passed: observed
                    .probe
                    .as_ref()
                    .is_some_and(|r| matches!(r.class, ProbeClass::Ok | ProbeClass::Slow)),
                page_fresh: full || p.status_page.is_none(),
                request_id: observed.probe.as_ref().and_then(|r| r.request_id.as_deref()),
                context: ctx,
            });
            wants_confirm |= tracked.machine.wants_confirmation() && c.probe.is_some();
            tracked.last = Some(c.clone());
            events.extend(transition_events(&p.id, transitions, &tracked.machine));
        }
        self.next_confirm = wants_confirm.then(|| Instant::now() + self.config.check.confirm);
        let report = self.publish_report(Some(&round));
        let report = self.after_transitions(events, report).await;
        let _ = self.events.send(Event::CheckFinished {
            report: report.clone(),
        });
        report
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
            });
            check.probe = Some(report);
            let assessment = check.assess(&provider);
            transitions = tracked.machine.observe(Observation {
                at: self.clock.now(),
                assessment: &assessment,
                from_probe: true,
                probe_passed: false,
                page_fresh: false,
                request_id: check.probe.as_ref().and_then(|r| r.request_id.as_deref()),
                context: Context::Normal,
            });
            tracked.last = Some(check);
        }
        let events = transition_events(id, transitions, &tracked.machine);
        if tracked.machine.incident().is_none() {
            // Probe soon to confirm, but no more often than confirmation rounds
            // would: a steady stream of failing calls must not become a probe storm.
            let earliest = self
                .last_passive_probe
                .map_or(now, |t| (t + self.config.check.confirm).max(now));
            self.last_passive_probe = Some(earliest);
            self.next_confirm = Some(self.next_confirm.map_or(earliest, |t| t.min(earliest)));
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

    fn publish_report(&mut self, round: Option<&Round>) -> Arc<StatusReport> {
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
                Some(report)
            })
            .collect();
        let report = Arc::new(StatusReport {
            checked_at: round.map_or_else(|| self.status.borrow().checked_at, |r| r.at),
            preferred: self.config.preferred.clone(),
            fallback: self.config.fallback.clone(),
            auto_switch: self.config.auto_switch,
            passive: self.config.passive,
            config_error: self.config_error.clone(),
            engine_error: self.engine_error.clone(),
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
