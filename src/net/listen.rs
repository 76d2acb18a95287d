//! Opening a listening socket: loopback only unless the user asked for
//! remote access, with errors that say what to do. Shared by the dashboard
//! server and the gateway.

use std::net::SocketAddr;

use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "refusing to listen on {0}: the dashboard can change your keys and settings, and binding to a \
         non-loopback address would expose it to your network. Use 127.0.0.1 in [server].listen, or \
         pass --allow-remote if you mean it"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}{hint}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
        hint: &'static str,
    },
    #[error("the HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// Opens the listening socket, refusing a non-loopback address unless
/// `allow_remote`. Separate from serving so `watch` fails fast, before the
/// engine starts, when the port is taken.
pub async fn bind(listen: SocketAddr, allow_remote: bool) -> Result<TcpListener, ServerError> {
    if !listen.ip().to_canonical().is_loopback() && !allow_remote {
        return Err(ServerError::NotLoopback(listen));
    }
    TcpListener::bind(listen).await.map_err(|source| {
        let hint = match source.kind() {
            std::io::ErrorKind::AddrInUse => {
                " (is another `switchboard watch` running? Otherwise change [server].listen)"
            }
            std::io::ErrorKind::AddrNotAvailable => " (this machine has no such address)",
            std::io::ErrorKind::PermissionDenied => " (ports below 1024 need privileges)",
            _ => "",
        };
        ServerError::Bind {
            addr: listen,
            source,
            hint,
        }
    })
}
