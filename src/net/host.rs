//! Which `Host` header values name this machine: the DNS-rebinding defence
//! shared by the dashboard server and the gateway.
//!
//! A web page that rebinds its own DNS name to 127.0.0.1 still sends its name
//! in `Host`, so accepting only loopback names (and, with `--allow-remote`, IP
//! literals) defeats DNS rebinding. Applying the policy to requests is each
//! server's own middleware.

use std::net::{IpAddr, SocketAddr};

/// Which `Host` header values are accepted.
#[derive(Clone, Debug, Default)]
pub struct HostPolicy {
    /// `None`: loopback names only.
    remote: Option<RemoteHosts>,
}

#[derive(Clone, Debug)]
struct RemoteHosts {
    /// The configured listen host (an IP), lowercase.
    listen: String,
}

impl HostPolicy {
    /// Loopback names only: the desktop default.
    pub fn loopback() -> Self {
        HostPolicy { remote: None }
    }

    /// For `--allow-remote`: also the listen address and any IP literal. A DNS
    /// rebinding attack always presents the attacker's *name*, never an IP, so
    /// an IP in `Host` is safe to accept; other names are still refused.
    pub(crate) fn remote(listen: SocketAddr) -> Self {
        HostPolicy {
            remote: Some(RemoteHosts {
                listen: listen.ip().to_string().to_ascii_lowercase(),
            }),
        }
    }

    /// Whether `host` (a `Host` header value, port optional) is acceptable.
    pub(crate) fn allows(&self, host: &str) -> bool {
        let Some(name) = host_name(host) else {
            return false;
        };
        if is_loopback_name(&name) {
            return true;
        }
        match &self.remote {
            None => false,
            Some(r) => name == r.listen || name.parse::<IpAddr>().is_ok(),
        }
    }
}

/// The host part of a `Host` value, lowercase, without port, brackets or a trailing dot.
fn host_name(host: &str) -> Option<String> {
    let host = host.trim();
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        (inside, after.strip_prefix(':'))
    } else if host.matches(':').count() == 1 {
        let (name, port) = host.split_once(':')?;
        (name, Some(port))
    } else {
        (host, None)
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    (!name.is_empty()).then_some(name)
}

fn is_loopback_name(name: &str) -> bool {
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_with_any_port() {
        let p = HostPolicy::loopback();
        for h in [
            "localhost",
            "localhost:7461",
            "LOCALHOST:7461",
            "localhost.:1",
            "dash.localhost:7461",
            "127.0.0.1",
            "127.0.0.1:7461",
            "127.1.2.3:80",
            "[::1]",
            "[::1]:7461",
        ] {
            assert!(p.allows(h), "{h}");
        }
    }

    #[test]
    fn other_names_are_refused() {
        let p = HostPolicy::loopback();
        for h in [
            "",
            "evil.example",
            "evil.example:7461",
            "localhost.evil.example",
            "127.0.0.1.nip.io:7461",
            "10.0.0.5:7461",
            "[::2]:7461",
            "localhost:",
            "localhost:x",
            "[::1",
        ] {
            assert!(!p.allows(h), "{h}");
        }
    }

    #[test]
    fn remote_mode_accepts_ips_but_not_names() {
        let p = HostPolicy::remote("0.0.0.0:7461".parse().unwrap());
        assert!(p.allows("10.0.0.5:7461"));
        assert!(p.allows("[fd00::5]:7461"));
        assert!(p.allows("localhost:7461"));
        assert!(!p.allows("evil.example:7461"));
    }
}
