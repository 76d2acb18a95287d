//! Desktop notifications, shared by the tray app and `switchboard watch --notify`:
//! one notice when an incident begins and one when it ends, a notice of its own
//! for a rejected key, and an action "Switch to …" (the healthiest alternative)
//! that really switches the preferred provider.
//!
//! - [`notice`]: the words (pure).
//! - [`tracker`]: which incidents were announced; one "began" each, an "ended"
//!   only after a "began", and what is still news when a pause ends (pure).
//! - [`pause`]: "Pause notifications" (pure); [`NotifierHandle`] sets it.
//! - [`desktop`]: the notify-rust implementation of [`Notifier`].
//!
//! The notifier decides nothing about health: it follows the engine's events.
//! Flap damping and the quiet while offline or just resumed from sleep are the
//! health machine's; a missing notification server is logged, never fatal.

pub(crate) mod desktop;
pub mod notice;
pub(crate) mod pause;
pub(crate) mod tracker;

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc, watch};
use tracing::{debug, info, warn};

pub(crate) use desktop::DesktopNotifier;
pub use notice::{Alternative, Notice, NoticeKind, SWITCH_ACTION};
pub use pause::Pause;

use crate::config::NotificationConfig;
use crate::engine::{EngineHandle, Event};
use tracker::{Inputs, Outcome, Tracker};

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{0}")]
    Desktop(#[from] notify_rust::error::Error),
    /// No server to show notices (also what test doubles report).
    #[error("no notification server: {0}")]
    Unavailable(String),
}

/// Blocks until the user picks an action of a shown notification (its key) or
/// the notification goes away (`None`). May block for as long as the
/// notification stays on screen.
pub type ActionWait = Box<dyn FnOnce() -> Option<String> + Send>;

/// A notification on screen.
pub struct Shown {
    /// The server's id for it: what the notice of the incident's end replaces.
    pub id: u32,
    /// Present when the notice offers an action.
    pub wait: Option<ActionWait>,
}

/// Where notices go: the desktop, or a test double.
pub trait Notifier: Send + Sync + 'static {
    /// Shows `notice`, in place of notification `replaces` when given (the end
    /// of an incident replaces its beginning, so no stale "Switch to" button
    /// stays behind). Blocking: the notifier calls it off the async threads.
    fn show(&self, notice: &Notice, replaces: Option<u32>) -> Result<Shown, NotifyError>;
}

/// The running notifier, for the tray's "Pause notifications". Cheap to clone.
#[derive(Clone)]
pub struct NotifierHandle {
    pause: Arc<watch::Sender<Pause>>,
    task: tokio::task::AbortHandle,
}

impl NotifierHandle {
    /// Pauses (or, with [`Pause::None`], resumes) notices. When the pause ends
    /// (set to `None`, or its time is up), what is still news is shown: see
    /// [`tracker`].
    pub fn set_pause(&self, pause: Pause) {
        self.pause.send_replace(pause);
        match pause {
            Pause::None => info!("notifications resumed"),
            Pause::Until(end) => info!(until = %end.to_rfc3339(), "notifications paused"),
        }
    }

    pub fn resume(&self) {
        self.set_pause(Pause::None);
    }

    pub fn pause_state(&self) -> Pause {
        *self.pause.borrow()
    }

    pub fn is_paused(&self, now: DateTime<Utc>) -> bool {
        self.pause_state().is_paused(now)
    }

    /// Stops following the engine. Notices already on screen stay.
    pub fn stop(&self) {
        self.task.abort();
    }
}

/// Starts the notifier with the desktop's notification server (logging, not
/// failing, when there is none or no session bus at all). Subscribes at once;
/// looking for the server happens in the background.
pub(crate) fn start_desktop(engine: &EngineHandle, settings: NotificationConfig) -> NotifierHandle {
    spawn_with(engine, settings, async {
        let notifier = tokio::task::spawn_blocking(DesktopNotifier::connect)
            .await
            .unwrap_or_default();
        Arc::new(notifier) as Arc<dyn Notifier>
    })
}

/// Follows `engine`'s events and shows notices through `notifier`.
///
/// Subscribes before returning, so no event published afterwards is missed.
pub fn spawn_notifier(
    engine: &EngineHandle,
    notifier: Arc<dyn Notifier>,
    settings: NotificationConfig,
) -> NotifierHandle {
    spawn_with(engine, settings, async move { notifier })
}

fn spawn_with(
    engine: &EngineHandle,
    settings: NotificationConfig,
    notifier: impl Future<Output = Arc<dyn Notifier>> + Send + 'static,
) -> NotifierHandle {
    if !settings.enabled {
        info!("notifications are off in the config ([notifications] enabled = false): logging notices only");
    }
    let events = engine.subscribe();
    let (pause, pause_rx) = watch::channel(Pause::None);
    let engine = engine.clone();
    let task = tokio::spawn(async move {
        let run = Run {
            engine,
            notifier: notifier.await,
            settings,
            pause: pause_rx.clone(),
            tracker: Tracker::new(),
        };
        run.run(events, pause_rx).await;
    });
    NotifierHandle {
        pause: Arc::new(pause),
        task: task.abort_handle(),
    }
}

/// The user picked an action on a notice about `provider`.
struct Chosen {
    provider: String,
    target: Alternative,
    action: String,
}

struct Run {
    engine: EngineHandle,
    notifier: Arc<dyn Notifier>,
    settings: NotificationConfig,
    pause: watch::Receiver<Pause>,
    tracker: Tracker,
}

impl Run {
    /// `pause_changes` is a second receiver of `self.pause`, owned by the loop
    /// so that waiting on it borrows nothing of `self`.
    async fn run(
        mut self,
        mut events: broadcast::Receiver<Event>,
        mut pause_changes: watch::Receiver<Pause>,
    ) {
        use broadcast::error::RecvError;
        let (chosen_tx, mut chosen_rx) = mpsc::unbounded_channel();
        let mut handle_alive = true;
        loop {
            let now = Utc::now();
            // Wake when a timed pause runs out, to show what is still news.
            let pause_left = self
                .pause
                .borrow()
                .ends_at(now)
                .map(|end| (end - now).to_std().unwrap_or_default());
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => self.on_event(event, &chosen_tx).await,
                    Err(RecvError::Lagged(n)) => warn!("the notifier missed {n} engine events"),
                    Err(RecvError::Closed) => break,
                },
                Some(chosen) = chosen_rx.recv() => self.on_action(chosen).await,
                changed = pause_changes.changed(), if handle_alive => match changed {
                    Ok(()) => self.on_resume(&chosen_tx).await,
                    // Nobody can pause any more; a timed pause still runs out.
                    Err(_) => handle_alive = false,
                },
                _ = tokio::time::sleep(pause_left.unwrap_or_default()), if pause_left.is_some() => {
                    self.on_resume(&chosen_tx).await;
                }
            }
        }
        debug!("notifier stopped");
    }

    fn paused(&self) -> bool {
        self.pause.borrow().is_paused(Utc::now())
    }

    async fn on_event(&mut self, event: Event, chosen_tx: &mpsc::UnboundedSender<Chosen>) {
        if !matches!(
            event,
            Event::IncidentOpened { .. } | Event::IncidentClosed { .. } | Event::StateChanged { .. }
        ) {
            return;
        }
        // The report of the round that raised the event (or a later one).
        let report = self.engine.status();
        let inputs = Inputs {
            report: &report,
            settings: &self.settings,
            paused: self.paused(),
        };
        let outcome = self.tracker.on_event(&event, &inputs);
        self.present(outcome, chosen_tx).await;
    }

    async fn on_resume(&mut self, chosen_tx: &mpsc::UnboundedSender<Chosen>) {
        if self.paused() {
            return;
        }
        let report = self.engine.status();
        let inputs = Inputs {
            report: &report,
            settings: &self.settings,
            paused: false,
        };
        let outcomes = self.tracker.resumed(&inputs);
        for outcome in outcomes {
            self.present(outcome, chosen_tx).await;
        }
    }

    async fn present(&mut self, outcome: Outcome, chosen_tx: &mpsc::UnboundedSender<Chosen>) {
        match outcome {
            Outcome::Nothing => {}
            Outcome::Held { notice, why } => {
                info!(provider = %notice.provider, "{why}, not shown: {} — {}", notice.summary, notice.body);
            }
            Outcome::Show {
                key,
                notice,
                replaces,
            } => {
                info!(provider = %notice.provider, "notice: {} — {}", notice.summary, notice.body);
                let notifier = self.notifier.clone();
                let shown_notice = notice.clone();
                let shown = tokio::task::spawn_blocking(move || notifier.show(&shown_notice, replaces)).await;
                match shown {
                    Ok(Ok(shown)) => {
                        self.tracker.shown(&key, notice.kind, shown.id);
                        if let (Some(wait), Some(target)) = (shown.wait, notice.switch_to) {
                            wait_for_action(wait, notice.provider, target, chosen_tx.clone());
                        }
                    }
                    Ok(Err(e)) => warn!(provider = %notice.provider, "could not show the notification: {e}"),
                    Err(e) => warn!(provider = %notice.provider, "the notification task failed: {e}"),
                }
            }
        }
    }

    async fn on_action(&self, chosen: Chosen) {
        if chosen.action != SWITCH_ACTION {
            debug!(action = %chosen.action, "notification action ignored");
            return;
        }
        match self.engine.set_preferred(&chosen.target.id).await {
            Ok(()) => info!(
                from = %chosen.provider,
                to = %chosen.target.id,
                "switched the preferred provider from the notification"
            ),
            Err(e) => warn!("could not switch to {}: {e}", chosen.target.name),
        }
    }
}

/// Waits for the user's action on a plain thread, not `spawn_blocking`: the wait
/// lasts as long as the notification stays on screen, and a runtime waits for
/// its blocking tasks when it shuts down. The thread ends when the notification
/// closes or the bus goes away.
fn wait_for_action(
    wait: ActionWait,
    provider: String,
    target: Alternative,
    tx: mpsc::UnboundedSender<Chosen>,
) {
    let spawned = std::thread::Builder::new()
        .name("notify-action".to_string())
        .spawn(move || {
            if let Some(action) = wait() {
                // The notifier may have stopped meanwhile; then nobody switches.
                let _ = tx.send(Chosen {
                    provider,
                    target,
                    action,
                });
            }
        });
    if let Err(e) = spawned {
        warn!("cannot wait for the notification's action: {e}");
    }
}
