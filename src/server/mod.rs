//! The local HTTP server: the dashboard's static files, the JSON API, the
//! `status` event stream and `/metrics`, all on `[server].listen`.
//!
//! It owns request handling and its security (loopback-only binding, the
//! `Host` check against DNS rebinding, the per-install token and same-origin
//! rule for mutations, the body cap). It decides nothing about health: every
//! answer comes from the engine's [`EngineHandle`], the history store or the
//! metrics registry, and every change goes through the engine.
//!
//! Wiring (what `switchboard watch` does):
//!
//! ```ignore
//! let token = Arc::new(Token::load_or_create(config_dir)?);
//! let metrics = Arc::new(Metrics::new());
//! metrics::spawn_metrics(&engine, metrics.clone());
//! let state = AppState::new(engine, credentials, token, metrics).with_history(store);
//! let listener = server::bind(listen, allow_remote).await?;
//! server::serve(listener, state, shutdown_signal()).await?;
//! ```

mod api;
mod assets;
mod error;
mod events;
mod security;
mod token;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::{middleware, Router};
use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::credentials::Credentials;
use crate::engine::EngineHandle;
use crate::metrics::Metrics;
use crate::store::HistoryStore;

pub use crate::net::{bind, HostPolicy, ServerError};
pub use api::HistoryWindow;
pub use error::AppError;
pub use security::CONTENT_SECURITY_POLICY;
pub use token::{Token, TokenError, TOKEN_FILE, TOKEN_HEADER};

/// Largest request body accepted (64 KiB). The biggest legitimate body is an
/// API key or a fallback list; anything larger is a mistake or an attack.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Everything a request handler may touch. Cheap to clone (handles and `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub engine: EngineHandle,
    /// `None` when this process records no history: `/api/history` answers 503.
    pub history: Option<Arc<dyn HistoryStore>>,
    /// The same credentials the checker reads, so a stored key counts at the next check.
    pub credentials: Credentials,
    pub token: Arc<Token>,
    pub metrics: Arc<Metrics>,
    /// Which `Host` headers are accepted.
    pub(crate) hosts: HostPolicy,
    /// What `/api/gateway` reports.
    pub(crate) gateway: GatewayInfo,
    /// Where the coding agents' session logs are, for `/api/passive`
    /// (none by default: a test's server must not look at the real home).
    pub(crate) passive_roots: crate::passive::Roots,
    /// `index.html` with the token in it, rendered once.
    index: Bytes,
    /// `index.html` without the token, for peers on other machines.
    index_read_only: Bytes,
    /// `--allow-remote`: peers on other machines get a read-only dashboard and
    /// their mutations need a same-origin `Origin`.
    remote: bool,
    /// Flips to `true` when the server stops, so open event streams end and
    /// graceful shutdown does not wait for them forever.
    stopping: Arc<watch::Sender<bool>>,
}

impl AppState {
    /// Loopback-only state without a history store.
    pub fn new(
        engine: EngineHandle,
        credentials: Credentials,
        token: Arc<Token>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let index = assets::render_index(&token);
        AppState {
            engine,
            history: None,
            credentials,
            token,
            metrics,
            hosts: HostPolicy::loopback(),
            gateway: GatewayInfo::default(),
            passive_roots: crate::passive::Roots::default(),
            index,
            index_read_only: assets::render_read_only_index(),
            remote: false,
            stopping: Arc::new(watch::channel(false).0),
        }
    }

    pub fn with_history(mut self, store: Arc<dyn HistoryStore>) -> Self {
        self.history = Some(store);
        self
    }

    pub(crate) fn with_passive_roots(mut self, roots: crate::passive::Roots) -> Self {
        self.passive_roots = roots;
        self
    }

    pub fn with_gateway(mut self, gateway: GatewayInfo) -> Self {
        self.gateway = gateway;
        self
    }

    /// Accepts the `Host` names a remote client uses (see [`HostPolicy::remote`]).
    /// Pair with `bind(listen, true)`.
    pub fn allow_remote(mut self, listen: SocketAddr) -> Self {
        self.hosts = HostPolicy::remote(listen);
        self.remote = true;
        self
    }

    /// Resolves once the server has begun to stop.
    fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.stopping.subscribe();
        async move {
            // An error means the sender is gone, which also means "stop".
            let _ = rx.wait_for(|stopping| *stopping).await;
        }
    }
}

/// The gateway as the dashboard shows it: where it listens (or why it does
/// not) and its traffic. The gateway owns the counters; the server only reads.
#[derive(Clone, Debug, Default)]
pub struct GatewayInfo {
    pub enabled: bool,
    /// The address it really listens on.
    pub listen: Option<SocketAddr>,
    /// Why it is not running, when enabled but not running.
    pub error: Option<String>,
    pub traffic: Arc<crate::traffic::Traffic>,
}

/// Builds the whole HTTP surface. Tests call this with `oneshot`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/index.html", get(assets::index))
        .route("/api/status", get(api::status))
        .route("/api/events", get(events::stream))
        .route("/api/history", get(api::history))
        .route("/api/check", post(api::check))
        .route("/api/preferred", put(api::set_preferred))
        .route("/api/fallback", put(api::set_fallback))
        .route("/api/auto_switch", put(api::set_auto_switch))
        .route("/api/passive", get(api::passive).put(api::set_passive))
        .route("/api/inference", get(api::inference).put(api::set_inference))
        .route(
            "/api/credentials/{id}",
            put(api::set_credential).delete(api::delete_credential),
        )
        .route("/api/gateway", get(api::gateway))
        .route("/metrics", get(api::metrics))
        .fallback(assets::fallback)
        .method_not_allowed_fallback(api::method_not_allowed)
        // Innermost: extractors see the cap; the guard below also refuses an
        // oversized Content-Length before any handler runs.
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), security::guard))
        .layer(middleware::map_response(security::headers))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then ends open event streams and waits
/// for in-flight requests to finish. Runs with [`crate::serve::Limits::DASHBOARD`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    serve_with(listener, state, crate::serve::Limits::DASHBOARD, shutdown).await
}

/// [`serve`] with other limits (tests use short timeouts).
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    limits: crate::serve::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "dashboard and API on http://{addr}/");
    }
    let stopping = state.stopping.clone();
    // Every request carries the peer's address (`ConnectInfo`): loopback
    // clients get the full dashboard, others a read-only one.
    crate::serve::serve(listener, router(state), limits, async move {
        shutdown.await;
        stopping.send_replace(true);
    })
    .await
    .map_err(ServerError::Serve)
}
