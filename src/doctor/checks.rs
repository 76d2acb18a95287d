//! The individual checks of `doctor`. Network and bus calls are here; what a
//! result means (severity, words, fix) is in small pure functions where the
//! reasoning is more than a line, so it can be tested without a network.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::join_all;

use super::{Finding, Severity};
use crate::config::{Config, Provider};
use crate::credentials::Credentials;
use crate::model::{CredentialSource, NetFailure, ProviderKind};
use crate::secrets::SecretError;
use crate::session_bus::{self, Notifications, TrayHost};

/// Each network request of a check gives up after this: doctor answers in
/// seconds even when a host swallows packets.
const NET_TIMEOUT: Duration = Duration::from_secs(10);
/// Clock skew below this is the `Date` header's resolution plus latency.
const SKEW_OK: Duration = Duration::from_secs(30);
/// Beyond this, signed requests fail (AWS SigV4 allows 5 minutes) and TLS
/// certificates may look not yet valid or expired.
const SKEW_BROKEN: Duration = Duration::from_secs(300);

/// How to get a tray on desktops that lack one; also what the desktop app's
/// banner says (ui/render.js keeps its own copy in the UI's words).
pub(crate) const TRAY_FIX: &str = "GNOME: install the AppIndicator extension \
(Debian/Ubuntu: `sudo apt install gnome-shell-extension-appindicator`, Fedora: \
`sudo dnf install gnome-shell-extension-appindicator`), log out and in, then enable it in \
Extensions. KDE Plasma, Xfce, Cinnamon, MATE and Budgie show tray icons out of the box; \
on a window manager run a tray host (waybar's tray module, or snixembed with a \
system tray). Without one, switchboard-desktop opens its dashboard window at start.";

/// The config check, and the config when it is valid.
pub(super) fn config(path: &Path) -> (Finding, Option<Config>) {
    match Config::load(path) {
        Ok(config) => {
            let enabled = config.enabled_providers().count();
            let finding = if path.exists() {
                Finding::new(
                    "config",
                    Severity::Ok,
                    format!("{}: valid, {enabled} providers enabled", path.display()),
                )
            } else {
                Finding::new(
                    "config",
                    Severity::Ok,
                    format!(
                        "no config file at {}: the built-in catalog is watched ({enabled} providers)",
                        path.display()
                    ),
                )
            };
            (finding, Some(config))
        }
        Err(e) => {
            let finding = Finding::new("config", Severity::Problem, e.to_string()).fix(
                "Correct that key in the file (the line is given above) and save it; the running \
                 app keeps its last good config until then. Ports and providers are checked once \
                 the file is valid.",
            );
            (finding, None)
        }
    }
}

pub(super) async fn keyring(config: Option<&Config>, credentials: &Credentials) -> Finding {
    // Reading an entry is what the app does; a provider id that needs a key
    // makes a locked keyring show (a read of a stored item needs it unlocked).
    let id = config
        .and_then(|c| c.enabled_providers().find(|p| p.needs_key()))
        .map(|p| p.id.clone())
        .unwrap_or_else(|| "anthropic".to_string());
    let store = credentials.store().clone();
    let read = tokio::task::spawn_blocking(move || store.get(&id)).await;
    match read {
        Ok(Ok(_)) => Finding::new(
            "keyring",
            Severity::Ok,
            "the system keyring (Secret Service) answers and is unlocked",
        ),
        Ok(Err(SecretError::Locked(why))) => Finding::new(
            "keyring",
            Severity::Problem,
            format!("the keyring is locked: {why}"),
        )
        .fix(
            "Unlock it: log in to your desktop session (the login keyring unlocks with your \
                 password), or open Passwords and Keys (seahorse) and unlock \"Login\".",
        ),
        Ok(Err(e)) => Finding::new("keyring", Severity::Warning, e.to_string()).fix(
            "Install and start a Secret Service: gnome-keyring (GNOME, most desktops), KWallet 5.97+ \
             (KDE) or KeePassXC with Secret Service integration, then log out and in. Until then \
             keys come only from each provider's api_key_env variable.",
        ),
        Err(e) => Finding::new(
            "keyring",
            Severity::Warning,
            format!("the keyring check failed: {e}"),
        ),
    }
}

pub(super) async fn tray() -> Finding {
    match session_bus::tray_host().await {
        TrayHost::Present => Finding::new(
            "tray",
            Severity::Ok,
            format!("a tray host ({}) is on the session bus", session_bus::WATCHER),
        ),
        TrayHost::NotApplicable => Finding::new("tray", Severity::Ok, "the system provides the tray"),
        TrayHost::Missing => Finding::new(
            "tray",
            Severity::Warning,
            format!(
                "no tray host: nobody owns {} on the session bus, so the tray icon cannot show",
                session_bus::WATCHER
            ),
        )
        .fix(TRAY_FIX),
        TrayHost::NoSessionBus(why) => no_session_bus("tray", &why),
    }
}

fn no_session_bus(check: &str, why: &str) -> Finding {
    Finding::new(check, Severity::Warning, format!("no D-Bus session bus: {why}")).fix(
        "Run this inside your desktop session (not over plain SSH or from cron). On a server, \
         use `switchboard watch` and the dashboard instead of the tray.",
    )
}

pub(super) async fn notifications() -> Finding {
    match session_bus::notifications().await {
        Notifications::Present(s) => {
            let caps = if s.capabilities.is_empty() {
                "none".to_string()
            } else {
                s.capabilities.join(", ")
            };
            let who = format!("{} {} ({})", s.name, s.version, s.vendor);
            if s.capabilities.iter().any(|c| c == "actions") {
                Finding::new(
                    "notifications",
                    Severity::Ok,
                    format!("notification server {who}; capabilities: {caps}"),
                )
            } else {
                Finding::new(
                    "notifications",
                    Severity::Info,
                    format!("notification server {who} shows no buttons; capabilities: {caps}"),
                )
                .fix("Notifications arrive, but without the \"Switch to …\" button: switch from the tray menu or the dashboard.")
            }
        }
        Notifications::NotApplicable => {
            Finding::new("notifications", Severity::Ok, "the system shows notifications")
        }
        Notifications::Missing(why) => Finding::new(
            "notifications",
            Severity::Warning,
            format!("no notification server on the session bus: {why}"),
        )
        .fix(
            "Desktops (GNOME, KDE, Xfce, Cinnamon, MATE) have one built in; on a window manager \
             install and start one (dunst, mako or notification-daemon). Outages are still shown \
             in the tray and the dashboard.",
        ),
        Notifications::NoSessionBus(why) => no_session_bus("notifications", &why),
    }
}

/// Who has a port Switchboard wants to listen on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PortUse {
    Free,
    /// A running Switchboard answered on it (the app or `watch` is running).
    Switchboard,
    /// Something else listens there.
    Other,
    /// Binding failed for another reason (address not on this host, permission).
    CannotBind(String),
}

/// What a port's use means for the user.
pub(crate) fn port_finding(what: &str, key: &str, addr: SocketAddr, used: &PortUse) -> Finding {
    let check = format!("port:{what}");
    match used {
        PortUse::Free => Finding::new(check, Severity::Ok, format!("{what} port {addr} is free")),
        PortUse::Switchboard => Finding::new(
            check,
            Severity::Ok,
            format!("{what} port {addr} is served by a running Switchboard"),
        ),
        PortUse::Other => Finding::new(
            check,
            Severity::Problem,
            format!("{what} port {addr} is taken by another program"),
        )
        .fix(format!(
            "See which with `ss -ltnp 'sport = :{port}'`; stop it, or give Switchboard another \
             port with `{key} = \"127.0.0.1:<port>\"` in the config.",
            port = addr.port()
        )),
        PortUse::CannotBind(why) => Finding::new(
            check,
            Severity::Problem,
            format!("cannot listen on {what} address {addr}: {why}"),
        )
        .fix(format!(
            "Set `{key}` to an address of this machine, such as 127.0.0.1:<port>."
        )),
    }
}

pub(super) async fn ports(config: &Config) -> Vec<Finding> {
    let client = match crate::http::client() {
        Ok(c) => c,
        Err(e) => return vec![Finding::new("port:dashboard", Severity::Problem, e.to_string())],
    };
    let dashboard = port_use(&client, config.server_listen, "/api/status", |v| {
        v.get("providers").is_some_and(|p| p.is_array()) && v.get("overall").is_some()
    });
    let mut out = vec![port_finding(
        "dashboard",
        "[server] listen",
        config.server_listen,
        &dashboard.await,
    )];
    if config.gateway.enabled {
        // The gateway's model list: `{"object": "list", "data": [...], "has_more": …}`.
        let used = port_use(&client, config.gateway.listen, "/v1/models", |v| {
            v.get("object").and_then(|o| o.as_str()) == Some("list") && v.get("has_more").is_some()
        })
        .await;
        out.push(port_finding(
            "gateway",
            "[gateway] listen",
            config.gateway.listen,
            &used,
        ));
    }
    out
}

async fn port_use(
    client: &reqwest::Client,
    addr: SocketAddr,
    path: &str,
    is_ours: impl Fn(&serde_json::Value) -> bool,
) -> PortUse {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => {
            drop(listener);
            PortUse::Free
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let url = format!("http://{addr}{path}");
            let answer = client.get(&url).timeout(NET_TIMEOUT).send().await;
            let body = match answer {
                Ok(r) if r.status().is_success() => r.json::<serde_json::Value>().await.ok(),
                _ => None,
            };
            if body.as_ref().is_some_and(is_ours) {
                PortUse::Switchboard
            } else {
                PortUse::Other
            }
        }
        Err(e) => PortUse::CannotBind(e.to_string()),
    }
}

/// The clock against a status page's `Date` header (`None`: no page answered).
pub(crate) fn clock_finding(now: DateTime<Utc>, server: Option<(&str, DateTime<Utc>)>) -> Finding {
    let Some((host, date)) = server else {
        return Finding::new("clock", Severity::Info, "not checked: no status page answered");
    };
    let skew = now.signed_duration_since(date);
    let secs = skew.num_seconds().unsigned_abs();
    let words = if skew.num_seconds() >= 0 {
        "ahead of"
    } else {
        "behind"
    };
    let fix = "Turn on network time: `timedatectl set-ntp true` (systemd-timesyncd or chrony).";
    if secs <= SKEW_OK.as_secs() {
        Finding::new("clock", Severity::Ok, format!("in step with {host} ({secs} s)"))
    } else if secs <= SKEW_BROKEN.as_secs() {
        Finding::new(
            "clock",
            Severity::Warning,
            format!("{secs} s {words} {host}: times in notifications and history are off"),
        )
        .fix(fix)
    } else {
        Finding::new(
            "clock",
            Severity::Problem,
            format!("{secs} s {words} {host}: signed requests (Bedrock) and TLS certificate checks fail"),
        )
        .fix(fix)
    }
}

pub(super) async fn providers(config: &Config, credentials: &Credentials) -> Vec<Finding> {
    let client = match crate::http::client() {
        Ok(c) => c,
        Err(e) => return vec![Finding::new("providers", Severity::Problem, e.to_string())],
    };
    let checks = config
        .enabled_providers()
        .map(|p| provider(p, credentials, &client));
    let results = join_all(checks).await;
    let now = Utc::now();
    let date = results
        .iter()
        .find_map(|(_, d)| d.as_ref().map(|(h, t)| (h.as_str(), *t)));
    let clock = clock_finding(now, date);
    let mut out: Vec<Finding> = results.into_iter().map(|(f, _)| f).collect();
    out.push(clock);
    out
}

/// A local server (Ollama, a llama.cpp on localhost) that is not running is
/// normal, not a fault (DESIGN: never an outage until seen up).
fn is_local(p: &Provider) -> bool {
    let loopback_host =
        p.base_url.as_ref().and_then(|u| u.host_str()).is_some_and(|h| {
            h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        });
    p.kind == ProviderKind::Ollama || (p.kind == ProviderKind::OpenaiCompatible && loopback_host)
}

/// One provider: key, API reachability, status page. Also returns the status
/// page's host and `Date`, for the clock check.
async fn provider(
    p: &Provider,
    credentials: &Credentials,
    client: &reqwest::Client,
) -> (Finding, Option<(String, DateTime<Utc>)>) {
    let mut severity = Severity::Ok;
    let mut facts: Vec<String> = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
    let raise = |s: Severity, severity: &mut Severity| *severity = (*severity).max(s);

    let cred = credentials.resolve(p).await;
    match cred.source {
        CredentialSource::Keyring => facts.push("key in the keyring".into()),
        CredentialSource::Env => facts.push(format!(
            "key from ${}",
            p.api_key_env.as_deref().unwrap_or("the environment")
        )),
        CredentialSource::NotNeeded => {}
        CredentialSource::None => {
            raise(Severity::Info, &mut severity);
            facts.push("no key: only the status page is watched".into());
            fixes.push(format!(
                "Add a key to catch outages early: `switchboard key set {}` or the dashboard.",
                p.id
            ));
        }
        CredentialSource::Unavailable => {
            raise(Severity::Warning, &mut severity);
            facts.push("the keyring could not be read and no environment variable is set".into());
            fixes.push("See the keyring finding.".into());
        }
    }

    if let Some(url) = &p.base_url {
        match reach(client, url).await {
            Ok(words) => facts.push(words),
            Err((failure, words)) if is_local(p) && failure == NetFailure::Refused => {
                raise(Severity::Info, &mut severity);
                facts.push(format!("{words} (not running)"));
            }
            Err((failure, words)) => {
                raise(Severity::Problem, &mut severity);
                facts.push(words);
                fixes.push(reach_fix(failure, url));
            }
        }
    }

    let mut date = None;
    if let Some(page) = &p.status_page {
        let host = page.url.host_str().unwrap_or("the status page").to_string();
        match client.get(page.url.clone()).timeout(NET_TIMEOUT).send().await {
            Ok(resp) => {
                facts.push(format!(
                    "status page {host} answers HTTP {}",
                    resp.status().as_u16()
                ));
                date = resp
                    .headers()
                    .get(reqwest::header::DATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| httpdate::parse_http_date(v).ok())
                    .map(|t| (host, DateTime::<Utc>::from(t)));
            }
            Err(e) => {
                raise(Severity::Warning, &mut severity);
                facts.push(format!(
                    "status page {host} unreachable: {}",
                    crate::http::net_failure(&e).describe()
                ));
                fixes.push(format!(
                    "Check {} in a browser; a proxy or firewall may block it.",
                    page.url
                ));
            }
        }
    }

    let mut finding = Finding::new(
        format!("provider:{}", p.id),
        severity,
        format!("{}: {}", p.name, facts.join("; ")),
    );
    if !fixes.is_empty() {
        finding = finding.fix(fixes.join(" "));
    }
    (finding, date)
}

/// DNS, then TCP + TLS + HTTP with one unauthenticated GET of the base URL:
/// any HTTP answer (401 and 404 included) means the API is reachable.
async fn reach(client: &reqwest::Client, url: &url::Url) -> Result<String, (NetFailure, String)> {
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::time::timeout(NET_TIMEOUT, tokio::net::lookup_host((host.as_str(), port))).await;
    match lookup {
        Ok(Ok(mut addrs)) => {
            if addrs.next().is_none() {
                return Err((NetFailure::Dns, format!("DNS: {host} has no address")));
            }
        }
        Ok(Err(e)) => return Err((NetFailure::Dns, format!("DNS: cannot resolve {host}: {e}"))),
        Err(_) => {
            return Err((
                NetFailure::Dns,
                format!("DNS: no answer for {host} within {NET_TIMEOUT:?}"),
            ))
        }
    }
    let started = Instant::now();
    match client.get(url.clone()).timeout(NET_TIMEOUT).send().await {
        Ok(resp) => {
            let tls = if url.scheme() == "https" { "TLS ok, " } else { "" };
            Ok(format!(
                "{host} reachable (DNS ok, {tls}HTTP {} in {} ms)",
                resp.status().as_u16(),
                started.elapsed().as_millis()
            ))
        }
        Err(e) => {
            let failure = crate::http::net_failure(&e);
            Err((failure, format!("{host}:{port} {}", failure.describe())))
        }
    }
}

fn reach_fix(failure: NetFailure, url: &url::Url) -> String {
    match failure {
        NetFailure::Dns => format!("Check your network and DNS, and the provider's base_url ({url})."),
        NetFailure::Tls => {
            "Something intercepts TLS (a proxy or antivirus), or the clock is wrong: see the clock finding."
                .into()
        }
        NetFailure::Refused => {
            format!("Nothing listens at {url}: check base_url, or start the local server.")
        }
        NetFailure::Timeout => "No answer in time: a firewall or proxy may drop the traffic.".into(),
        NetFailure::Reset | NetFailure::Other => {
            format!("Check your network, proxy settings and the base_url ({url}).")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn clock_skew_grades_by_size() {
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap();
        let at = |secs: i64| now - chrono::Duration::seconds(secs);
        assert_eq!(clock_finding(now, Some(("h", at(2)))).severity, Severity::Ok);
        let w = clock_finding(now, Some(("h", at(-120))));
        assert_eq!(w.severity, Severity::Warning);
        assert!(w.summary.contains("120 s behind h"), "{}", w.summary);
        let p = clock_finding(now, Some(("h", at(600))));
        assert_eq!(p.severity, Severity::Problem);
        assert!(p.summary.contains("600 s ahead of h"), "{}", p.summary);
        assert!(p.fix.unwrap().contains("timedatectl"));
        assert_eq!(clock_finding(now, None).severity, Severity::Info);
    }

    #[test]
    fn a_port_taken_by_another_program_is_a_problem_with_the_fix() {
        let addr: SocketAddr = "127.0.0.1:7461".parse().unwrap();
        assert_eq!(
            port_finding("dashboard", "[server] listen", addr, &PortUse::Free).severity,
            Severity::Ok
        );
        assert_eq!(
            port_finding("dashboard", "[server] listen", addr, &PortUse::Switchboard).severity,
            Severity::Ok
        );
        let f = port_finding("dashboard", "[server] listen", addr, &PortUse::Other);
        assert_eq!(f.severity, Severity::Problem);
        assert!(f.fix.unwrap().contains("sport = :7461"));
    }
}
