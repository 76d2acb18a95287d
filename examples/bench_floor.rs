//! The floor of `bench/gateway.sh`: the barest proxy hyper can make, so the
//! table shows what one extra local hop costs on this machine before any
//! gateway does anything.
//!
//! Every request is sent on, as it came (method, path, headers, body
//! streamed), to the upstream given on the command line, through one pooled
//! hyper client; the answer comes back as it came, streamed. One thread, one
//! single-threaded runtime, like Switchboard's gateway. No routing, no
//! failover, no translation, no checks, no keys: a gateway cannot do less and
//! still be one, so its latency over calling the upstream directly is the
//! least any gateway here can add.
//!
//! Prints its address (`127.0.0.1:PORT`) on the first line of stdout, then
//! serves until killed.
//!
//! ```text
//! cargo run --release --example bench_floor -- http://127.0.0.1:UPSTREAM_PORT
//! ```

use std::io::Write;

use anyhow::Context as _;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

type Upstream = Client<HttpConnector, Incoming>;

fn main() -> anyhow::Result<()> {
    let upstream: Uri = std::env::args()
        .nth(1)
        .context("usage: bench_floor http://HOST:PORT")?
        .parse()
        .context("the upstream is not a URL")?;
    let authority = upstream
        .authority()
        .context("the upstream URL has no host:port")?
        .clone();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", listener.local_addr()?)?;
            out.flush()?;
            drop(out);
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            let client: Upstream = Client::builder(TokioExecutor::new()).build(connector);
            loop {
                let (socket, _) = listener.accept().await?;
                socket.set_nodelay(true)?;
                let (client, authority) = (client.clone(), authority.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        forward(client.clone(), authority.clone(), req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        })
}

/// The request, readdressed to the upstream; its answer, or a bare 502.
async fn forward(
    client: Upstream,
    authority: hyper::http::uri::Authority,
    req: Request<Incoming>,
) -> Result<Response<http_body_util::Either<Incoming, String>>, std::convert::Infallible> {
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .to_string();
    let answer = match Uri::builder()
        .scheme("http")
        .authority(authority)
        .path_and_query(path)
        .build()
    {
        Ok(uri) => {
            parts.uri = uri;
            client
                .request(Request::from_parts(parts, body))
                .await
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    Ok(match answer {
        Ok(response) => response.map(http_body_util::Either::Left),
        Err(e) => {
            let mut response = Response::new(http_body_util::Either::Right(e));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            response
        }
    })
}
