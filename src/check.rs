//! One round of checks: every provider's probe and every status page, run
//! concurrently, plus the round-level judgement no single provider can make:
//! "nothing answered at all, so it is the user's network" (`offline`).
//!
//! Used by the engine on every tick and by `switchboard status` once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures::future::join_all;
use tokio::sync::Semaphore;
use url::Url;

use crate::config::{CheckConfig, Config, Provider};
use crate::credentials::Credentials;
use crate::health::{assess, Assessment};
use crate::model::{CredentialSource, PageStatus, ProbeReport, ProviderReport, State, StatusReport};
use crate::model::{ProviderKind, StatusFormat};
use crate::probe;
use crate::status::{self, PageFetch, PageVerdict, StatusPoller};

/// At most this many HTTP checks in flight: 9 catalog providers fit in one wave,
/// and a config with dozens of providers cannot open dozens of sockets at once.
pub const MAX_CONCURRENT_CHECKS: usize = 16;

/// "Everything is unreachable" only means "your network is down" when there is
/// more than one thing to reach; with a single remote endpoint, a failure is
/// that provider's.
pub const MIN_ENDPOINTS_FOR_OFFLINE: usize = 2;

/// What one round found for one provider.
#[derive(Clone, Debug)]
pub struct ProviderCheck {
    pub id: String,
    pub credential: CredentialSource,
    /// Why the keyring could not be read, if it could not.
    pub keyring_error: Option<String>,
    pub probe: Option<ProbeReport>,
    /// `None` when the provider has no status page.
    pub page: Option<PageFetch>,
}

impl ProviderCheck {
    /// The page's verdict for this provider and the part of the page that concerns it.
    pub fn page_view(&self, provider: &Provider) -> Option<(PageVerdict, PageStatus)> {
        self.page.as_ref().map(|fetch| match fetch {
            PageFetch::Read(page) => status::page_verdict(page, &provider.components),
            other => {
                let page = other.page();
                (
                    PageVerdict {
                        state: State::Unknown,
                        cause: Some(page.description.clone()),
                    },
                    page,
                )
            }
        })
    }

    /// The single-moment assessment (no history).
    pub fn assess(&self, provider: &Provider) -> Assessment {
        let view = self.page_view(provider);
        let mut a = assess(self.probe.as_ref(), view.as_ref().map(|(v, _)| v));
        if self.probe.is_none() && provider.needs_key() && self.credential != CredentialSource::NotNeeded {
            let why = match &self.keyring_error {
                Some(e) => format!("keyring unavailable ({e})"),
                None => "no API key".to_string(),
            };
            if view.is_none() {
                a.summary = format!("not probed: {why}; no status page");
            } else if a.state == State::Operational {
                a.summary = format!("{} (not probed: {why})", a.summary);
            }
        }
        a
    }
}

/// A finished round.
#[derive(Clone, Debug)]
pub struct Round {
    pub at: DateTime<Utc>,
    pub checks: Vec<ProviderCheck>,
    /// Every remote endpoint contacted this round failed without an HTTP answer.
    pub offline: bool,
}

/// Where the engine gets its rounds from: the real [`Checker`], or a scripted
/// source in the engine's timeline tests (which run on paused tokio time, where
/// real sockets and timeouts do not mix).
pub trait CheckSource: Send + Sync + 'static {
    fn run_round<'a>(
        &'a self,
        providers: &'a [&'a Provider],
        check: &'a CheckConfig,
        fetch_pages: bool,
        now: DateTime<Utc>,
    ) -> futures::future::BoxFuture<'a, Round>;
}

impl CheckSource for Checker {
    fn run_round<'a>(
        &'a self,
        providers: &'a [&'a Provider],
        check: &'a CheckConfig,
        fetch_pages: bool,
        now: DateTime<Utc>,
    ) -> futures::future::BoxFuture<'a, Round> {
        Box::pin(self.run(providers, check, fetch_pages, now))
    }
}

/// Runs rounds against the real providers. Shared by the engine and the CLI.
pub struct Checker {
    client: reqwest::Client,
    poller: StatusPoller,
    credentials: Credentials,
    limit: Arc<Semaphore>,
    /// Last page per feed, reused by confirmation rounds (which only re-probe).
    pages: Mutex<HashMap<PageKey, PageFetch>>,
}

type PageKey = (Url, StatusFormat);

impl Checker {
    /// Builds the checker with its two clients (see `http::probe_client` for why two).
    pub fn new(credentials: Credentials) -> Result<Self, crate::http::ClientError> {
        Ok(Checker {
            poller: StatusPoller::new(crate::http::client()?),
            client: crate::http::probe_client()?,
            credentials,
            limit: Arc::new(Semaphore::new(MAX_CONCURRENT_CHECKS)),
            pages: Mutex::new(HashMap::new()),
        })
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Checks `providers` concurrently: total time is about the slowest check.
    /// With `fetch_pages == false` (a confirmation round) pages come from the last round.
    pub async fn run(
        &self,
        providers: &[&Provider],
        check: &CheckConfig,
        fetch_pages: bool,
        now: DateTime<Utc>,
    ) -> Round {
        // One fetch per distinct page, however many providers share it (three Claude surfaces).
        let mut wanted: Vec<PageKey> = Vec::new();
        for p in providers {
            if let Some(sp) = &p.status_page {
                let key = (sp.url.clone(), sp.format);
                if !wanted.contains(&key) {
                    wanted.push(key);
                }
            }
        }
        let page_jobs = wanted.iter().map(|key| async move {
            if !fetch_pages {
                if let Some(prev) = self.cached_page(key) {
                    return (key.clone(), prev, false);
                }
            }
            let _permit = self.limit.acquire().await;
            let cfg = crate::config::StatusPageConfig {
                url: key.0.clone(),
                format: key.1,
            };
            (key.clone(), self.poller.poll(&cfg, check.timeout).await, true)
        });
        let probe_jobs = providers.iter().map(|p| async move {
            let cred = self.credentials.resolve(p).await;
            let report = {
                let _permit = self.limit.acquire().await;
                probe::probe_with_credentials(
                    &self.client,
                    p,
                    &self.credentials,
                    cred.secret.as_ref(),
                    check,
                    now,
                )
                .await
            };
            (cred, report)
        });
        let (pages, probes) = tokio::join!(join_all(page_jobs), join_all(probe_jobs));

        let mut endpoints = 0usize;
        let mut unreachable = 0usize;
        let mut by_key = HashMap::new();
        {
            let mut cache = self.pages.lock().unwrap_or_else(|e| e.into_inner());
            for (key, fetch, fresh) in pages {
                if fresh {
                    endpoints += 1;
                    unreachable += usize::from(matches!(fetch, PageFetch::Unreachable { .. }));
                }
                cache.insert(key.clone(), fetch.clone());
                by_key.insert(key, fetch);
            }
        }
        let checks: Vec<ProviderCheck> = providers
            .iter()
            .zip(probes)
            .map(|(p, (cred, probe))| {
                if let Some(r) = &probe {
                    if !is_local_provider(p) {
                        endpoints += 1;
                        unreachable += usize::from(r.class.is_unreachable());
                    }
                }
                ProviderCheck {
                    id: p.id.clone(),
                    credential: cred.source,
                    keyring_error: cred.keyring_error,
                    probe,
                    page: p
                        .status_page
                        .as_ref()
                        .and_then(|sp| by_key.get(&(sp.url.clone(), sp.format)).cloned()),
                }
            })
            .collect();
        Round {
            at: now,
            checks,
            offline: endpoints >= MIN_ENDPOINTS_FOR_OFFLINE && unreachable == endpoints,
        }
    }

    fn cached_page(&self, key: &PageKey) -> Option<PageFetch> {
        self.pages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }
}

/// A model server on this machine (Ollama, a local llama.cpp): its answer says
/// nothing about the user's network, so it never counts towards `offline`.
/// Decided by kind, not address alone, so that fakes on loopback in tests still
/// stand for remote providers.
pub fn is_local_provider(p: &Provider) -> bool {
    match p.kind {
        ProviderKind::Ollama => true,
        ProviderKind::OpenaiCompatible => p.base_url.as_ref().is_some_and(is_local),
        _ => false,
    }
}

/// Whether a URL points at this machine.
pub fn is_local(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The state, words and timestamps a report shows for one provider.
#[derive(Clone, Debug)]
pub struct ReportedState {
    pub state: State,
    pub since: Option<DateTime<Utc>>,
    pub summary: String,
    pub confirmed_by_status_page: bool,
}

/// Builds a provider's report from its last check and the state to show.
pub fn provider_report(
    provider: &Provider,
    check: Option<&ProviderCheck>,
    shown: ReportedState,
) -> ProviderReport {
    ProviderReport {
        id: provider.id.clone(),
        name: provider.name.clone(),
        state: shown.state,
        since: shown.since,
        summary: shown.summary,
        confirmed_by_status_page: shown.confirmed_by_status_page,
        probe: check.and_then(|c| c.probe.clone()),
        status_page: check.and_then(|c| c.page_view(provider)).map(|(_, page)| page),
        credential: check.map_or(
            if provider.needs_key() {
                CredentialSource::None
            } else {
                CredentialSource::NotNeeded
            },
            |c| c.credential,
        ),
        kind: provider.kind,
        api_key_env: provider.api_key_env.clone(),
        status_url: provider.status_page.as_ref().map(|sp| human_status_url(&sp.url)),
        agent_errors: None,
    }
}

/// The page a person should open: the site root for feed URLs.
fn human_status_url(url: &Url) -> String {
    let mut u = url.clone();
    let path = u.path().to_string();
    if path.ends_with(".json") || path.contains("/api/") || path.contains("/public/") {
        u.set_path("/");
        u.set_query(None);
    }
    u.to_string()
}

/// The state for one provider from a single round, with no history: what
/// `switchboard status` shows.
pub fn one_shot_state(provider: &Provider, check: &ProviderCheck, round: &Round) -> ReportedState {
    if round.offline && !is_local_provider(provider) {
        return ReportedState {
            state: State::Offline,
            since: None,
            summary: "your network seems down: no provider answered".to_string(),
            confirmed_by_status_page: false,
        };
    }
    let a = check.assess(provider);
    ReportedState {
        since: (a.state != State::Operational).then_some(round.at),
        state: a.state,
        summary: a.summary,
        confirmed_by_status_page: a.confirmed_by_status_page,
    }
}

/// `switchboard status`: one round, judged on its own.
pub fn one_shot_report(config: &Config, providers: &[&Provider], round: &Round) -> StatusReport {
    let reports: Vec<ProviderReport> = providers
        .iter()
        .zip(&round.checks)
        .map(|(p, c)| provider_report(p, Some(c), one_shot_state(p, c, round)))
        .collect();
    StatusReport {
        checked_at: round.at,
        preferred: config.preferred.clone(),
        fallback: config.fallback.clone(),
        auto_switch: config.auto_switch,
        passive: config.passive,
        config_error: None,
        engine_error: None,
        overall: StatusReport::worst(&reports),
        providers: reports,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_local() {
        for u in [
            "http://127.0.0.1:11434",
            "http://localhost:1",
            "http://[::1]:80/x",
        ] {
            assert!(is_local(&Url::parse(u).unwrap()), "{u}");
        }
        assert!(!is_local(&Url::parse("https://api.anthropic.com").unwrap()));
    }

    #[test]
    fn feed_urls_become_the_human_page() {
        let u = Url::parse("https://status.cloud.google.com/incidents.json").unwrap();
        assert_eq!(human_status_url(&u), "https://status.cloud.google.com/");
        let u = Url::parse("https://status.claude.com").unwrap();
        assert_eq!(human_status_url(&u), "https://status.claude.com/");
    }
}
