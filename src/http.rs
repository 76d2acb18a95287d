//! The one HTTP client every outgoing check shares, so connections and TLS
//! sessions are reused across rounds instead of rebuilt per call.

use std::time::Duration;

/// Names Switchboard to status pages, whose WAFs are kinder to honest bots.
pub const USER_AGENT: &str = concat!(
    "Switchboard/",
    env!("CARGO_PKG_VERSION"),
    " (LLM provider health monitor; +https://github.com/switchboard-app/switchboard)"
);

/// Connect timeout: a provider that cannot even accept a TCP connection in this
/// long is unreachable, whatever the overall `timeout_secs` says.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// The gateway's own client (`gateway::client`): no TLS setup.
    #[error("cannot set up TLS for the gateway's client: {0}")]
    Tls(String),
}

/// Idle connections kept per provider for gateway calls: coding agents run
/// many requests in parallel, and a warm connection pays no handshake.
pub(crate) const GATEWAY_POOL_PER_HOST: usize = 64;

/// Redirects followed before giving up (`status.anthropic.com` → `status.claude.com` is one).
const MAX_REDIRECTS: usize = 5;

/// The client for public pages (status feeds): follows redirects across hosts.
/// Per-request timeouts are set by each caller.
pub fn client() -> Result<reqwest::Client, ClientError> {
    Ok(builder()
        .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
        .build()?)
}

/// The client for authenticated probes: follows redirects only within the same
/// host and port. reqwest strips `Authorization` on a cross-host redirect but
/// not `x-api-key` or `x-goog-api-key`, so a key must never follow one.
pub(crate) fn probe_client() -> Result<reqwest::Client, ClientError> {
    Ok(builder()
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let same_origin = attempt.previous().first().is_some_and(|first| {
                first.host_str() == attempt.url().host_str()
                    && first.port_or_known_default() == attempt.url().port_or_known_default()
                    && first.scheme() == attempt.url().scheme()
            });
            if !same_origin {
                attempt.stop()
            } else if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else {
                attempt.follow()
            }
        }))
        .build()?)
}

/// The client for gateway calls: never follows a redirect (an API answers,
/// it does not redirect; and a key must not travel to another host), and keeps
/// connections warm so a request pays no handshake.
pub(crate) fn gateway_client() -> Result<reqwest::Client, ClientError> {
    Ok(builder()
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .pool_max_idle_per_host(GATEWAY_POOL_PER_HOST)
        .build()?)
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(90))
}

/// Maps a transport error (no HTTP response) to why it failed.
pub(crate) fn net_failure(err: &reqwest::Error) -> crate::model::NetFailure {
    if err.is_timeout() {
        return crate::model::NetFailure::Timeout;
    }
    net_failure_of(err)
}

/// [`net_failure`] for any error: what its source chain says. Neither
/// reqwest nor hyper exposes the cause as a type.
pub(crate) fn net_failure_of(err: &(dyn std::error::Error + 'static)) -> crate::model::NetFailure {
    use crate::model::NetFailure;
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        chain.push_str(&e.to_string().to_lowercase());
        chain.push(' ');
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return NetFailure::Refused,
                std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::UnexpectedEof => return NetFailure::Reset,
                std::io::ErrorKind::TimedOut => return NetFailure::Timeout,
                _ => {}
            }
        }
        source = e.source();
    }
    if chain.contains("dns")
        || chain.contains("failed to lookup")
        || chain.contains("name or service not known")
    {
        NetFailure::Dns
    } else if chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake") {
        NetFailure::Tls
    } else if chain.contains("refused") {
        NetFailure::Refused
    } else if chain.contains("reset") || chain.contains("closed") || chain.contains("incomplete message") {
        NetFailure::Reset
    } else {
        NetFailure::Other
    }
}

/// `base` with `suffix` appended below its own path, keeping a prefix such as
/// `/prefix` or `/v1` (with or without a trailing slash); query and fragment
/// are dropped. Users paste base URLs the way their tools take them, so every
/// request URL is built this way.
pub(crate) fn join_path(base: &url::Url, suffix: &str) -> url::Url {
    let mut url = base.clone();
    let path = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        suffix.trim_start_matches('/')
    );
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    url
}
