//! Everything a long-running Switchboard process starts, in one call: the
//! engine, the HTTP server (dashboard, API, events, metrics), the history
//! recorder, the metrics follower, the config file watcher, the coding-agent
//! session-log followers (`[passive]`) and, when asked, the desktop notifier.
//!
//! `switchboard watch` and the desktop shell (`switchboard-desktop`) both use
//! it, so the two cannot drift apart. It knows nothing of Tauri or of signals:
//! the caller decides when to stop ([`Running::run_until`]).

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::check::Checker;
use crate::config::Config;
use crate::credentials::Credentials;
use crate::engine::{Engine, EngineHandle, SystemClock};
use crate::metrics::Metrics;
use crate::notify::NotifierHandle;
use crate::server::{self, ServerError};
use crate::store;

/// What to start besides the engine and the server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Serve on a non-loopback `[server].listen` (see `watch --allow-remote`).
    pub allow_remote: bool,
    /// Raise desktop notifications.
    pub notify: bool,
}

/// The started process. Stop it with [`Running::run_until`].
pub struct Running {
    pub engine: EngineHandle,
    /// Where the server really listens (the port is resolved when `:0` was asked).
    pub(crate) addr: SocketAddr,
    /// Present when [`Options::notify`] was set.
    pub notifier: Option<NotifierHandle>,
    /// Where the gateway really listens; `None` when disabled or its port was taken.
    pub gateway_addr: Option<SocketAddr>,
    engine_task: JoinHandle<()>,
    server_task: JoinHandle<Result<(), ServerError>>,
    stop_server: oneshot::Sender<()>,
    /// Followers that end when aborted (metrics, recorder, config watcher).
    helpers: Vec<JoinHandle<()>>,
}

/// Starts everything. Binds first, so a taken port or a non-loopback address
/// fails before anything else starts.
pub async fn start(config: Config, options: Options) -> anyhow::Result<Running> {
    let listener = server::bind(config.server_listen, options.allow_remote).await?;
    let addr = listener
        .local_addr()
        .context("the listening socket has no address")?;
    let token_dir = config
        .path
        .as_deref()
        .and_then(Path::parent)
        .context("the config path has no directory for the API token")?;
    let token = Arc::new(server::Token::load_or_create(token_dir)?);
    let history = open_history();
    // One credential source for the checker and the API, so a key stored
    // through the dashboard is the key the next probe uses.
    let credentials = Credentials::system();
    let checker = Checker::new(credentials.clone())?;
    tracing::info!(
        providers = config.enabled_providers().count(),
        config = %config.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        "watching"
    );
    let listen = config.server_listen;
    let config_path = config.path.clone();
    let notifications = config.notifications.clone();
    let gateway_config = config.gateway.clone();
    let ledger = history
        .clone()
        .map(|db| Arc::new(store::Ledger(db)) as Arc<dyn crate::health::budget::SpendLedger>);
    let (engine, engine_task) =
        Engine::spawn_with_ledger(config, Arc::new(checker), Arc::new(SystemClock), ledger);
    let notifier = options
        .notify
        .then(|| crate::notify::start_desktop(&engine, notifications));
    let traffic = Arc::new(crate::traffic::Traffic::default());
    let passive_roots = crate::passive::Roots::system();
    let metrics = Arc::new(Metrics::new().with_gateway(traffic.clone()));
    let mut helpers = vec![
        crate::metrics::spawn_metrics(&engine, metrics.clone()),
        crate::passive::spawn(&engine, passive_roots.clone()),
    ];
    let credentials_for_gateway = credentials.clone();
    let mut state =
        server::AppState::new(engine.clone(), credentials, token, metrics).with_passive_roots(passive_roots);
    if let Some(db) = history {
        state = state.with_history(db.clone());
        helpers.push(store::spawn_recorder(&engine, db, store::COMPACT_INTERVAL));
    }
    if options.allow_remote {
        state = state.allow_remote(listen);
    }
    if let Some(path) = config_path {
        helpers.push(crate::config_watch::spawn_config_watcher(
            path,
            engine.clone(),
            crate::config_watch::POLL,
        ));
    }
    let (stop_server, stop_rx) = oneshot::channel::<()>();
    let stop_rx = futures::FutureExt::shared(stop_rx);
    let (gateway, gateway_task) = start_gateway(
        &gateway_config,
        options.allow_remote,
        &engine,
        credentials_for_gateway,
        traffic,
        stop_rx.clone(),
    )
    .await;
    let gateway_addr = gateway.listen;
    state = state.with_gateway(gateway);
    if let Some(task) = gateway_task {
        helpers.push(task);
    }
    let server_task = tokio::spawn(server::serve(listener, state, async {
        let _ = stop_rx.await;
    }));
    Ok(Running {
        engine,
        addr,
        notifier,
        gateway_addr,
        engine_task,
        server_task,
        stop_server,
        helpers,
    })
}

impl Running {
    /// The dashboard's address.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Runs until `stop` resolves (or the server fails), then stops the server
    /// (letting requests in flight finish), the engine and every follower.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> anyhow::Result<()> {
        let Running {
            engine,
            notifier,
            mut engine_task,
            mut server_task,
            stop_server,
            helpers,
            ..
        } = self;
        // The engine's supervisor restarts it after a crash; if it gives up,
        // the process must not go on serving a frozen report: stop and fail.
        let mut engine_died = None;
        let served = tokio::select! {
            _ = stop => None,
            result = &mut server_task => Some(result),
            ended = &mut engine_task => {
                engine_died = Some(match ended {
                    Err(e) if e.is_panic() => "the engine crashed too often and was not restarted".to_string(),
                    _ => "the engine stopped unexpectedly".to_string(),
                });
                None
            }
        };
        tracing::info!("stopping");
        let _ = stop_server.send(());
        let served = match served {
            Some(result) => result,
            None => server_task.await,
        };
        engine.shutdown().await;
        if engine_died.is_none() {
            let _ = engine_task.await;
        }
        for h in helpers {
            h.abort();
        }
        if let Some(n) = notifier {
            n.stop();
        }
        served.context("the server task failed")??;
        if let Some(why) = engine_died {
            tracing::error!("{why}; exiting");
            anyhow::bail!("{why}");
        }
        Ok(())
    }
}

/// Starts the gateway when enabled. A taken port or a refused address is
/// logged and shown on the dashboard, not fatal: monitoring still works, and
/// two instances (or a test suite) must not kill each other over port 7462.
async fn start_gateway(
    config: &crate::config::GatewayConfig,
    allow_remote: bool,
    engine: &EngineHandle,
    credentials: Credentials,
    traffic: Arc<crate::traffic::Traffic>,
    stop: impl Future<Output = Result<(), oneshot::error::RecvError>> + Send + 'static,
) -> (server::GatewayInfo, Option<JoinHandle<()>>) {
    let mut info = server::GatewayInfo {
        enabled: config.enabled,
        listen: None,
        error: None,
        traffic,
    };
    if !config.enabled {
        return (info, None);
    }
    let hosts = if allow_remote {
        crate::net::HostPolicy::remote(config.listen)
    } else {
        crate::net::HostPolicy::loopback()
    };
    let started = async {
        let listener = crate::gateway::bind(config.listen, allow_remote).await?;
        let addr = listener
            .local_addr()
            .context("the gateway socket has no address")?;
        let router = crate::gateway::router(engine.clone(), credentials, info.traffic.clone(), hosts)?;
        anyhow::Ok((listener, addr, router))
    };
    match started.await {
        Ok((listener, addr, router)) => {
            let serving = crate::gateway::serve_on_own_thread(listener, router, async {
                let _ = stop.await;
            });
            match serving.await {
                Ok(task) => {
                    info.listen = Some(addr);
                    (info, Some(task))
                }
                Err(e) => {
                    tracing::warn!("gateway not started: {e}");
                    info.error = Some(e.to_string());
                    (info, None)
                }
            }
        }
        Err(e) => {
            // The bind error already carries its cause; `{e:#}` would repeat it.
            let why = e.to_string().replace("[server].listen", "[gateway].listen");
            tracing::warn!("gateway not started: {why}");
            info.error = Some(why);
            (info, None)
        }
    }
}

/// The history database, or `None` (with a warning) when it cannot be opened:
/// monitoring goes on without history rather than not at all.
fn open_history() -> Option<Arc<dyn store::HistoryStore>> {
    let Some(path) = store::default_path() else {
        tracing::warn!("no data directory (is HOME set?): running without history");
        return None;
    };
    match store::SqliteStore::open(&path) {
        Ok(db) => Some(Arc::new(db)),
        Err(e) => {
            tracing::warn!(path = %path.display(), "cannot open the history database, running without it: {e}");
            None
        }
    }
}
