//! The accept loop both local servers (dashboard and gateway) run on, with the
//! limits `axum::serve` does not offer:
//!
//! - a header-read timeout: a client must send a whole request head within
//!   [`Limits::header_read_timeout`], or the connection is closed (a
//!   slowloris trickling one header byte a second, or a socket that never
//!   says anything, no longer holds a connection for as long as it likes);
//! - a connection cap: at most [`Limits::max_connections`] connections are
//!   served at once; further clients wait in the kernel's accept queue, which
//!   costs this process no descriptor, instead of exhausting descriptors
//!   until nothing (the dashboard included) can be opened.
//!
//! What answers is a [`Answer`]: the dashboard's axum router (every request
//! carries the peer's address as axum's `ConnectInfo`, which the dashboard
//! uses to tell this machine from others), or the gateway, which dispatches
//! on its own. Shutdown is graceful: accepting stops, connections finish
//! their request in flight.
//! Left out: TLS and HTTP/2 (loopback plain HTTP/1.1 is what the clients use).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// Time a client has to send a whole request head. Real clients send theirs
/// at once; ten seconds allows for a loaded machine.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause after a failed `accept` (out of descriptors): retrying at once would spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The limits of one server.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    /// The dashboard: a window, a tab or two, scripts. 256 is far above that
    /// and far below any descriptor limit.
    pub(crate) const DASHBOARD: Limits = Limits {
        header_read_timeout: HEADER_READ_TIMEOUT,
        max_connections: 256,
    };

    /// The gateway: coding agents running many requests (and streams) in parallel.
    pub(crate) const GATEWAY: Limits = Limits {
        header_read_timeout: HEADER_READ_TIMEOUT,
        max_connections: 512,
    };
}

/// What a server answers each request with. One value per server, cloned
/// per connection.
pub(crate) trait Answer: Clone + Send + 'static {
    fn answer(
        &self,
        request: hyper::Request<Incoming>,
        peer: SocketAddr,
    ) -> impl Future<Output = Response> + Send + use<Self>;
}

impl Answer for Router {
    fn answer(
        &self,
        mut request: hyper::Request<Incoming>,
        peer: SocketAddr,
    ) -> impl Future<Output = Response> + Send + use<> {
        request.extensions_mut().insert(ConnectInfo(peer));
        let mut router = self.clone();
        let call = tower_service::Service::call(&mut router, request.map(axum::body::Body::new));
        async move {
            match call.await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
    }
}

/// Serves `answer` on `listener` until `shutdown` resolves, then stops
/// accepting and waits for open connections to finish their current request.
pub(crate) async fn serve(
    listener: TcpListener,
    answer: impl Answer,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Wait for a free slot before accepting: over the cap, clients queue
        // in the kernel, not in this process's descriptor table.
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
        };
        // Streams are many small writes: no Nagle delay on them.
        let _ = tcp.set_nodelay(true);
        let answer = answer.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let answered = answer.answer(request, peer);
                async move { Ok::<_, Infallible>(answered.await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => log_end(result, peer),
                _ = async move { stop.wait_for(|s| *s).await.map(|_| ()) } => {
                    conn.as_mut().graceful_shutdown();
                    log_end(conn.await, peer);
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a permit until it ends: all back means all done.
    let _ = permits.acquire_many(limits.max_connections as u32).await;
    Ok(())
}

fn log_end(result: Result<(), hyper::Error>, peer: SocketAddr) {
    if let Err(e) = result {
        // Timeouts and clients that went away are routine; never an error log.
        tracing::debug!(%peer, "connection ended: {e}");
    }
}
