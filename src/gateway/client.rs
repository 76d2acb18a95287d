//! How the gateway reaches providers: hyper's pooled client over rustls,
//! with reqwest only for the calls a proxy must carry.
//!
//! Why not reqwest for every call, as the probes use it: per call it copies
//! the request's headers (kept for redirects and retries the gateway turns
//! off), boxes the response body twice, and parses the URL again from text
//! with IDNA on the way back (its redirect layer reports where the answer
//! came from even when it follows none): 28 of the 83 allocations of a
//! plain Messages request through the gateway (see the README's benchmark). Requests are
//! still built as `reqwest::Request`s (`crate::upstream`, shared with the
//! probes); they are sent as they are, headers and body moved, not copied.
//!
//! What stays as reqwest did it: the platform's certificate verifier
//! (`rustls-platform-verifier`, the system's trust store and
//! `SSL_CERT_FILE`), ALPN with HTTP/2 preferred, TCP without Nagle and with
//! keepalive, the same connect timeout, idle pool and `User-Agent`, no
//! redirects followed.
//! A call that the environment's proxy settings (`HTTPS_PROXY`, `NO_PROXY`,
//! ..., read as reqwest reads them) send through a proxy goes through
//! reqwest, which speaks to proxies.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use reqwest::header::{HeaderMap, HeaderValue, USER_AGENT};
use reqwest::StatusCode;

use crate::http::ClientError;

type Direct = Client<hyper_rustls::HttpsConnector<HttpConnector>, reqwest::Body>;

/// The gateway's connection to every provider.
pub(crate) struct UpstreamClient {
    direct: Direct,
    /// The environment's proxy settings, asked per call.
    proxies: Matcher,
    /// Builds every request, and sends the ones a proxy carries.
    reqwest: reqwest::Client,
}

/// Why a call got no answer, or its answer broke off.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    #[error(transparent)]
    Direct(#[from] hyper_util::client::legacy::Error),
    #[error(transparent)]
    Body(#[from] hyper::Error),
    #[error(transparent)]
    Proxied(#[from] reqwest::Error),
}

impl CallError {
    /// Why it failed, as the probes classify a failed call.
    pub(crate) fn net_failure(&self) -> crate::model::NetFailure {
        match self {
            CallError::Proxied(e) => crate::http::net_failure(e),
            other => crate::http::net_failure_of(other),
        }
    }
}

/// A provider's answer: status and headers at once, the body as it comes.
pub(crate) enum UpstreamResponse {
    Direct(http::Response<Incoming>),
    Proxied(reqwest::Response),
}

impl UpstreamClient {
    pub(crate) fn new() -> Result<UpstreamClient, ClientError> {
        Self::with_verifier(rustls_platform_verifier::Verifier::new)
    }

    /// Trusts `roots` besides the system's (the tests' own CA).
    #[cfg(test)]
    fn with_extra_roots(
        roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    ) -> Result<UpstreamClient, ClientError> {
        Self::with_verifier(|provider| {
            rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider)
        })
    }

    fn with_verifier(
        verifier: impl FnOnce(
            Arc<rustls::crypto::CryptoProvider>,
        ) -> Result<rustls_platform_verifier::Verifier, rustls::Error>,
    ) -> Result<UpstreamClient, ClientError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = verifier(provider.clone()).map_err(tls_error)?;
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(tls_error)?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(crate::http::CONNECT_TIMEOUT));
        // reqwest's defaults: a stream that is silent for minutes (a long
        // generation's thinking) must not be dropped by a NAT on the way.
        http.set_keepalive(Some(TCP_KEEPALIVE));
        http.set_keepalive_interval(Some(TCP_KEEPALIVE));
        http.set_keepalive_retries(Some(3));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let direct = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_max_idle_per_host(crate::http::GATEWAY_POOL_PER_HOST)
            .build(connector);
        Ok(UpstreamClient {
            direct,
            proxies: Matcher::from_system(),
            reqwest: crate::http::gateway_client()?,
        })
    }

    /// Builds requests (`client.post(url)`); nothing is sent through it but
    /// what [`UpstreamClient::send`] hands it.
    pub(crate) fn builder(&self) -> &reqwest::Client {
        &self.reqwest
    }

    /// Sends `request` and waits for the answer's head.
    pub(crate) async fn send(&self, request: reqwest::Request) -> Result<UpstreamResponse, CallError> {
        let mut request = http::Request::<reqwest::Body>::try_from(request)?;
        if self.proxies.intercept(request.uri()).is_some() {
            let request = reqwest::Request::try_from(request)?;
            return Ok(UpstreamResponse::Proxied(self.reqwest.execute(request).await?));
        }
        request
            .headers_mut()
            .entry(USER_AGENT)
            .or_insert(HeaderValue::from_static(crate::http::USER_AGENT));
        Ok(UpstreamResponse::Direct(self.direct.request(request).await?))
    }
}

/// How long an unused connection is kept (as the probes' client keeps it).
const POOL_IDLE: Duration = Duration::from_secs(90);

/// TCP keepalive idle time and probe interval, as reqwest sets them.
const TCP_KEEPALIVE: Duration = Duration::from_secs(15);

fn tls_error(e: rustls::Error) -> ClientError {
    ClientError::Tls(e.to_string())
}

impl UpstreamResponse {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            UpstreamResponse::Direct(r) => r.status(),
            UpstreamResponse::Proxied(r) => r.status(),
        }
    }

    pub(crate) fn headers(&self) -> &HeaderMap {
        match self {
            UpstreamResponse::Direct(r) => r.headers(),
            UpstreamResponse::Proxied(r) => r.headers(),
        }
    }

    /// The body's length, when the upstream announced it.
    pub(crate) fn content_length(&self) -> Option<u64> {
        match self {
            UpstreamResponse::Direct(r) => http_body::Body::size_hint(r.body()).exact(),
            UpstreamResponse::Proxied(r) => r.content_length(),
        }
    }

    /// The next piece of the body as it arrived; `None` at its end. A frame
    /// is taken only when one is ready, so dropping the future before it
    /// resolves loses nothing (the stream relay polls it once to see what is
    /// there already).
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, CallError> {
        match self {
            UpstreamResponse::Direct(r) => loop {
                match r.body_mut().frame().await {
                    None => return Ok(None),
                    Some(Err(e)) => return Err(e.into()),
                    // Trailers carry nothing the gateway relays.
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            return Ok(Some(data));
                        }
                    }
                }
            },
            UpstreamResponse::Proxied(r) => Ok(r.chunk().await?),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");

    /// A TLS server on 127.0.0.1 with the fixtures' certificate (signed by
    /// their CA) that answers HTTP/1.1 or HTTP/2, as ALPN settles, with the
    /// protocol version it served, the request's path and `User-Agent`.
    async fn tls_server() -> SocketAddr {
        let certs = CertificateDer::pem_file_iter(format!("{FIXTURES}/server.pem"))
            .expect("server.pem")
            .collect::<Result<Vec<_>, _>>()
            .expect("server.pem");
        let key = PrivateKeyDer::from_pem_file(format!("{FIXTURES}/server.key")).expect("server.key");
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server certificate");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                    let service = service_fn(|request: http::Request<Incoming>| async move {
                        let ua = request
                            .headers()
                            .get(USER_AGENT)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        let body = format!("{:?} {} {ua}", request.version(), request.uri().path());
                        Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                            Bytes::from(body),
                        )))
                    });
                    let io = TokioIo::new(tls);
                    if h2 {
                        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(io, service)
                            .await;
                    } else {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                    }
                });
            }
        });
        addr
    }

    fn test_ca() -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_file_iter(format!("{FIXTURES}/ca.pem"))
            .expect("ca.pem")
            .collect::<Result<Vec<_>, _>>()
            .expect("ca.pem")
    }

    async fn body_text(mut response: UpstreamResponse) -> String {
        let mut text = Vec::new();
        while let Some(chunk) = response.chunk().await.expect("body") {
            text.extend_from_slice(&chunk);
        }
        String::from_utf8(text).expect("text")
    }

    #[tokio::test]
    async fn https_is_verified_and_speaks_http2_when_the_server_offers_it() {
        let addr = tls_server().await;
        let client = UpstreamClient::with_extra_roots(test_ca()).expect("client");
        let url = format!("https://localhost:{}/v1/messages", addr.port());
        let request = client.builder().post(&url).body("{}").build().expect("request");
        let response = client.send(request).await.expect("answer");
        assert!(matches!(response, UpstreamResponse::Direct(_)));
        assert_eq!(response.status(), StatusCode::OK);
        let text = body_text(response).await;
        assert!(text.starts_with("HTTP/2.0 /v1/messages Switchboard/"), "{text}");

        // Without the test CA, the same server is not trusted.
        let strict = UpstreamClient::new().expect("client");
        let request = strict.builder().post(&url).body("{}").build().expect("request");
        let err = match strict.send(request).await {
            Ok(_) => panic!("a certificate no trusted CA signed was accepted"),
            Err(e) => e,
        };
        assert_eq!(err.net_failure(), crate::model::NetFailure::Tls, "{err:?}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_classified_as_the_probes_classify_it() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let client = UpstreamClient::new().expect("client");
        let request = client
            .builder()
            .post(format!("http://{addr}/v1/messages"))
            .build()
            .expect("request");
        let err = match client.send(request).await {
            Ok(_) => panic!("nothing listens there"),
            Err(e) => e,
        };
        assert_eq!(err.net_failure(), crate::model::NetFailure::Refused, "{err:?}");
    }
}
