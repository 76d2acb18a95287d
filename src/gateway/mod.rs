//! The local failover gateway: one endpoint that speaks the Anthropic Messages
//! and OpenAI Chat Completions protocols and sends each request to the
//! preferred provider, or to the next healthy one in `fallback` order when the
//! preferred is in outage or fails before the client saw a byte.
//!
//! The gateway decides nothing about health on its own: it reads the engine's
//! report and reports every failed upstream call back as a passive signal.
//! Left out on purpose: retries on the same provider (clients and their SDKs
//! already retry), caching, and load balancing; this is failover only.

mod access;
pub mod bedrock;
mod client;
mod handler;
mod keys;
pub(crate) mod limits;
mod redact;
mod relay;
pub(crate) mod route;
pub mod sse;
pub mod translate;
mod upstream;
pub(crate) mod vertex;
pub mod wire;
// Bedrock and Vertex against fakes: SigV4, event streams, token commands, the
// cloud probes (was the integration test tests/gateway_cloud.rs; it tests
// internals of cloud/, upstream/, probe/ and bedrock.rs).
#[cfg(test)]
mod cloud_tests;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::credentials::Credentials;
use crate::engine::EngineHandle;
use crate::net::{HostPolicy, ServerError};
use crate::traffic::Traffic;

pub use handler::{ESTIMATE_HEADER, PROVIDER_HEADER};

/// Largest request body accepted: conversations with images run to megabytes.
pub(crate) const BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The gateway's router, ready to serve. `traffic` is shared with the
/// dashboard, which shows it.
pub fn router(
    engine: EngineHandle,
    credentials: Credentials,
    traffic: Arc<Traffic>,
    hosts: HostPolicy,
) -> Result<Router, crate::http::ClientError> {
    Ok(Router(Arc::new(handler::Gateway {
        engine,
        keys: keys::Keys::new(credentials),
        client: client::UpstreamClient::new()?,
        traffic,
        hosts,
        plans: handler::Plans::default(),
    })))
}

/// The gateway's endpoints and the door before them (see `handler::door`):
/// `POST /v1/messages`, `/v1/chat/completions`, `/v1/responses`,
/// `/v1/messages/count_tokens`, `GET /v1/models`.
///
/// Its own dispatch rather than an axum `Router`: five fixed paths need no
/// route table, and every request through axum paid for its boxed services
/// and futures, a clone of the state per layer and handler, and the
/// extractors' copies (26 of 109 allocations of a plain Messages request,
/// see the README's benchmark).
#[derive(Clone)]
pub struct Router(Arc<handler::Gateway>);

impl crate::serve::Answer for Router {
    fn answer(
        &self,
        request: hyper::Request<hyper::body::Incoming>,
        _peer: SocketAddr,
    ) -> impl Future<Output = axum::response::Response> + Send + use<> {
        handler::Gateway::answer(self.0.clone(), request)
    }
}

/// Serves the gateway on `listener` until `shutdown` resolves, with
/// [`crate::serve::Limits::GATEWAY`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    serve_with(listener, router, crate::serve::Limits::GATEWAY, shutdown).await
}

/// Serves the gateway like [`serve`], on a thread of its own with a
/// single-threaded runtime, and returns a task on the caller's runtime that
/// ends when the gateway has stopped.
///
/// Why a thread: a proxied request is a few hundred microseconds of work split
/// across the client socket, the upstream socket and the handler; on the
/// shared multi-threaded runtime those wake-ups hop between worker threads
/// and compete with probes, the history and the dashboard. One thread that
/// owns every gateway socket keeps each request's wake-ups where its data is
/// (measured: up to 72 % more requests/s, see the README's benchmark), and a
/// busy engine no longer delays the user's tools.
///
/// Aborting (or dropping) the returned task stops the gateway at once, like
/// aborting a task that ran [`serve`]; `shutdown` stops it gracefully.
pub async fn serve_on_own_thread(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<tokio::task::JoinHandle<()>, ServerError> {
    let listener = listener.into_std().map_err(ServerError::Serve)?;
    let (started_tx, started) = tokio::sync::oneshot::channel::<std::io::Result<()>>();
    // Dropped when the owning task is aborted: the gateway stops with it.
    let (owner_tx, owner_gone) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("gateway".into())
        .spawn(move || {
            // Built here, not by the caller: a runtime must not be dropped
            // inside another one, as it would be if this thread never started.
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .thread_name("gateway-blocking")
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = started_tx.send(Err(e));
                    return;
                }
            };
            let _ = started_tx.send(Ok(()));
            runtime.block_on(async move {
                // A task, not `block_on`'s own future: waking that one from
                // inside the runtime costs a write to the runtime's eventfd.
                let served = tokio::spawn(async move {
                    let listener = TcpListener::from_std(listener).map_err(ServerError::Serve)?;
                    serve(listener, router, shutdown).await
                });
                tokio::select! {
                    result = served => match result {
                        Ok(Err(e)) => tracing::error!("the gateway stopped: {e}"),
                        Err(e) if e.is_panic() => tracing::error!("the gateway crashed: {e}"),
                        _ => {}
                    },
                    _ = owner_gone => {}
                }
            });
            // A keyring read stuck on D-Bus must not hold the process's exit.
            runtime.shutdown_timeout(THREAD_SHUTDOWN_WAIT);
            let _ = done_tx.send(());
        })
        .map_err(ServerError::Serve)?;
    match started.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(ServerError::Serve(e)),
        Err(_) => {
            return Err(ServerError::Serve(std::io::Error::other(
                "the gateway thread ended at start",
            )))
        }
    }
    Ok(tokio::spawn(async move {
        let _owner = owner_tx;
        let _ = done.await;
    }))
}

/// How long a stopping gateway thread waits for its blocking work (keyring
/// reads, credential commands) before it leaves them behind.
const THREAD_SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// [`serve`] with other limits (tests use short timeouts).
pub(crate) async fn serve_with(
    listener: TcpListener,
    router: Router,
    limits: crate::serve::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "gateway on http://{addr} (ANTHROPIC_BASE_URL=http://{addr}, OPENAI_BASE_URL=http://{addr}/v1)");
    }
    crate::serve::serve(listener, router, limits, shutdown)
        .await
        .map_err(ServerError::Serve)
}

/// Opens the gateway's socket (loopback only unless `allow_remote`, like the dashboard).
pub(crate) async fn bind(listen: SocketAddr, allow_remote: bool) -> Result<TcpListener, ServerError> {
    crate::net::bind(listen, allow_remote).await
}
