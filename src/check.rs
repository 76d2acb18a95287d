//! The checks: every provider's probe and every status page, run
//! concurrently, plus the round-level judgement no single provider can make:
//! "nothing answered at all, so it is the user's network" (`offline`).
//!
//! `switchboard status` runs one round and judges it whole. The engine takes
//! each provider's answer as it comes in ([`CheckSource::run_each`]) and makes
//! the round-level judgement itself, so a slow provider holds up nobody.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures::future::{join_all, BoxFuture, FutureExt, Shared};
use futures::stream::{BoxStream, FuturesUnordered};
use tokio::sync::Semaphore;
use url::Url;

use crate::config::{CheckConfig, Config, Provider};
use crate::credentials::Credentials;
use crate::health::{assess, Assessment};
use crate::model::{CredentialSource, PageStatus, ProbeReport, ProviderReport, State, StatusReport};
use crate::model::{InferenceStatus, ModelReport, StatusFormat};
use crate::probe;
use crate::probe::inference::ModelCheck;
use crate::status::{self, PageFetch, PageVerdict, StatusPoller};

/// At most this many HTTP checks in flight: 9 catalog providers fit in one wave,
/// and a config with dozens of providers cannot open dozens of sockets at once.
pub(crate) const MAX_CONCURRENT_CHECKS: usize = 16;

/// "Everything is unreachable" only means "your network is down" when there is
/// more than one thing to reach; with a single remote endpoint, a failure is
/// that provider's.
pub(crate) const MIN_ENDPOINTS_FOR_OFFLINE: usize = 2;

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
    /// A model server on this machine that got no answer and has never
    /// answered this checker: "not running", `unknown`, never an outage.
    pub not_running: bool,
}

impl ProviderCheck {
    /// The page's verdict for this provider and the part of the page that concerns it.
    pub(crate) fn page_view(&self, provider: &Provider) -> Option<(PageVerdict, PageStatus)> {
        self.page.as_ref().map(|fetch| match fetch {
            PageFetch::Read(page) => status::provider_verdict(page, provider),
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
        if let Some(probe) = self.probe.as_ref().filter(|_| self.not_running) {
            return Assessment {
                state: State::Unknown,
                summary: format!("not running ({})", probe.summary()),
                confirmed_by_status_page: false,
            };
        }
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

    /// The checks of [`CheckSource::run_round`], each provider's handed out
    /// as soon as it is in (in no particular order), so one provider that
    /// answers late holds up nobody else. The round-level judgement
    /// ("nothing answered") is left to the caller, who sees every answer.
    /// The default runs the round and hands out its checks when all are in,
    /// which is what a scripted source answering at once needs.
    fn run_each(
        self: Arc<Self>,
        providers: Vec<Provider>,
        check: CheckConfig,
        fetch_pages: bool,
        now: DateTime<Utc>,
    ) -> BoxStream<'static, ProviderCheck> {
        let round = async move {
            let refs: Vec<&Provider> = providers.iter().collect();
            let round = self.run_round(&refs, &check, fetch_pages, now).await;
            futures::stream::iter(round.checks)
        };
        Box::pin(futures::stream::StreamExt::flatten(futures::stream::once(round)))
    }

    /// Inference checks of `jobs`, concurrently (see `probe::inference`).
    /// A source without them (the engine's scripted tests) checks nothing.
    fn run_inference<'a>(
        &'a self,
        jobs: &'a [InferenceJob],
        check: &'a CheckConfig,
        now: DateTime<Utc>,
    ) -> futures::future::BoxFuture<'a, Vec<InferenceResult>> {
        let _ = (jobs, check, now);
        Box::pin(async { Vec::new() })
    }
}

/// One model of one provider to check with a real generation.
#[derive(Clone, Debug)]
pub struct InferenceJob {
    pub provider: Provider,
    pub model: String,
}

/// What one inference check found, for which provider.
#[derive(Clone, Debug)]
pub struct InferenceResult {
    pub provider: String,
    pub check: ModelCheck,
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

    fn run_each(
        self: Arc<Self>,
        providers: Vec<Provider>,
        check: CheckConfig,
        fetch_pages: bool,
        now: DateTime<Utc>,
    ) -> BoxStream<'static, ProviderCheck> {
        // One fetch per distinct page, shared by the providers that show it.
        let mut pages: HashMap<PageKey, Shared<BoxFuture<'static, PageFetch>>> = HashMap::new();
        for p in &providers {
            if let Some(sp) = &p.status_page {
                let key = (sp.url.clone(), sp.format);
                let me = self.clone();
                let timeout = check.timeout;
                pages.entry(key.clone()).or_insert_with(|| {
                    async move { me.read_page(&key, fetch_pages, timeout).await.0 }
                        .boxed()
                        .shared()
                });
            }
        }
        let each: FuturesUnordered<_> = providers
            .into_iter()
            .map(|p| {
                let me = self.clone();
                let check = check.clone();
                let page = p
                    .status_page
                    .as_ref()
                    .and_then(|sp| pages.get(&(sp.url.clone(), sp.format)).cloned());
                async move {
                    let page = async move {
                        match page {
                            Some(fetch) => Some(fetch.await),
                            None => None,
                        }
                    };
                    let ((cred, probe), page) = tokio::join!(me.probe_one(&p, &check, now), page);
                    ProviderCheck {
                        not_running: me.never_answered(&p, probe.as_ref()),
                        id: p.id.clone(),
                        credential: cred.source,
                        keyring_error: cred.keyring_error,
                        probe,
                        page,
                    }
                }
            })
            .collect();
        Box::pin(each)
    }

    fn run_inference<'a>(
        &'a self,
        jobs: &'a [InferenceJob],
        check: &'a CheckConfig,
        now: DateTime<Utc>,
    ) -> futures::future::BoxFuture<'a, Vec<InferenceResult>> {
        Box::pin(self.inference(jobs, check, now))
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
    /// Local model servers (by id and address) that have answered at least
    /// once: from then on, no answer is an outage rather than "not running".
    seen_up: Mutex<HashSet<(String, Option<Url>)>>,
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
            seen_up: Mutex::new(HashSet::new()),
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
            let (fetch, fresh) = self.read_page(key, fetch_pages, check.timeout).await;
            (key.clone(), fetch, fresh)
        });
        let probe_jobs = providers.iter().map(|p| self.probe_one(p, check, now));
        let (pages, probes) = tokio::join!(join_all(page_jobs), join_all(probe_jobs));

        let mut endpoints = 0usize;
        let mut unreachable = 0usize;
        let mut by_key = HashMap::new();
        for (key, fetch, fresh) in pages {
            if fresh {
                endpoints += 1;
                unreachable += usize::from(matches!(fetch, PageFetch::Unreachable { .. }));
            }
            by_key.insert(key, fetch);
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
                let not_running = self.never_answered(p, probe.as_ref());
                ProviderCheck {
                    not_running,
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

    /// Reads a status page (or, unless `fetch`, reuses its last reading) and
    /// keeps it for the next re-probe. Also says whether it was read now.
    async fn read_page(&self, key: &PageKey, fetch: bool, timeout: std::time::Duration) -> (PageFetch, bool) {
        if !fetch {
            if let Some(prev) = self.cached_page(key) {
                return (prev, false);
            }
        }
        let fetched = {
            let _permit = self.limit.acquire().await;
            let cfg = crate::config::StatusPageConfig {
                url: key.0.clone(),
                format: key.1,
            };
            self.poller.poll(&cfg, timeout).await
        };
        self.pages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), fetched.clone());
        (fetched, true)
    }

    /// One provider's probe, with the credential it used (or lacked).
    async fn probe_one(
        &self,
        p: &Provider,
        check: &CheckConfig,
        now: DateTime<Utc>,
    ) -> (crate::credentials::Credential, Option<ProbeReport>) {
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
    }

    /// Whether `p` is a local model server that got no answer now and has
    /// never answered before (remembering the ones that do answer).
    fn never_answered(&self, p: &Provider, probe: Option<&ProbeReport>) -> bool {
        let Some(probe) = probe.filter(|_| is_local_provider(p)) else {
            return false;
        };
        let key = (p.id.clone(), p.base_url.clone());
        let mut seen = self.seen_up.lock().unwrap_or_else(|e| e.into_inner());
        if !probe.class.is_unreachable() {
            seen.insert(key);
            return false;
        }
        !seen.contains(&key)
    }

    /// Runs the inference checks of `jobs` concurrently (within the same
    /// cap on sockets as the probes). A job with no usable credential is
    /// left out of the answer.
    pub async fn inference(
        &self,
        jobs: &[InferenceJob],
        check: &CheckConfig,
        now: DateTime<Utc>,
    ) -> Vec<InferenceResult> {
        let runs = jobs.iter().map(|job| async move {
            let cred = self.credentials.resolve(&job.provider).await;
            let _permit = self.limit.acquire().await;
            probe::inference::check_model(
                &self.client,
                &job.provider,
                &self.credentials,
                cred.secret.as_ref(),
                &job.model,
                check,
                now,
            )
            .await
            .map(|check| InferenceResult {
                provider: job.provider.id.clone(),
                check,
            })
        });
        join_all(runs).await.into_iter().flatten().collect()
    }

    fn cached_page(&self, key: &PageKey) -> Option<PageFetch> {
        self.pages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }
}

pub(crate) use crate::probe::is_local_provider;

/// The state, words and timestamps a report shows for one provider.
#[derive(Clone, Debug)]
pub(crate) struct ReportedState {
    pub(crate) state: State,
    pub(crate) since: Option<DateTime<Utc>>,
    pub(crate) summary: String,
    pub(crate) confirmed_by_status_page: bool,
}

/// Builds a provider's report from its last check and the state to show.
pub(crate) fn provider_report(
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
        not_running: shown.state == State::Unknown && check.is_some_and(|c| c.not_running),
        models: Vec::new(),
        inference: None,
    }
}

/// A provider's assessment with its models' latest inference results
/// (`models`: model id and its last report): the worst failing model wins
/// over a passing model list, and the summary names it ("claude-opus-4-1:
/// HTTP 500 api_error: Internal server error; 1 other model OK"). Also
/// returns the model, when one decided.
pub(crate) fn with_models(
    a: Assessment,
    models: &[(&str, &ProbeReport)],
    page_trouble: bool,
) -> (Assessment, Option<String>) {
    // A model check that could not connect says nothing the model list's own
    // probe does not: it counts only while the model list answers (so a local
    // server that is not running stays what the probe makes it).
    let list_answers = a.state == State::Operational;
    let counts = |r: &ProbeReport| list_answers || !r.class.is_unreachable();
    let worst = models
        .iter()
        .filter(|(_, r)| r.class.state() != State::Operational && counts(r))
        .max_by_key(|(_, r)| r.class.state());
    let Some((model, report)) = worst else {
        return (a, None);
    };
    let state = report.class.state();
    if state < a.state && a.state != State::Unknown {
        return (a, None);
    }
    let failing = models
        .iter()
        .filter(|(_, r)| r.class.state() != State::Operational)
        .count();
    let ok = models.len() - failing;
    let mut summary = format!("{model}: {}", report.summary());
    if failing > 1 {
        summary.push_str(&format!(
            "; {} other model{} failing",
            failing - 1,
            plural(failing - 1)
        ));
    }
    if ok > 0 {
        summary.push_str(&format!("; {ok} other model{} OK", plural(ok)));
    }
    (
        Assessment {
            state,
            summary,
            confirmed_by_status_page: page_trouble,
        },
        Some(model.to_string()),
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A model's row in the report, from its last check.
pub(crate) fn model_report(
    id: &str,
    state: State,
    summary: Option<String>,
    last: Option<&ModelCheck>,
    seen_in_traffic: bool,
    inference_enabled: bool,
) -> ModelReport {
    let summary = summary.unwrap_or_else(|| match (last, inference_enabled) {
        (Some(c), _) => c.report.summary(),
        (None, false) => "not checked (inference checks off)".to_string(),
        (None, true) => "not checked yet".to_string(),
    });
    ModelReport {
        id: id.to_string(),
        state,
        summary,
        probe: last.map(|c| c.report.clone()),
        seen_in_traffic,
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
pub(crate) fn one_shot_state(provider: &Provider, check: &ProviderCheck, round: &Round) -> ReportedState {
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
    one_shot_report_with(config, providers, round, &[], None)
}

/// `switchboard status` with the inference checks that ran beside the round
/// (`inference`), judged on their own; `status` describes their setting.
pub fn one_shot_report_with(
    config: &Config,
    providers: &[&Provider],
    round: &Round,
    inference: &[InferenceResult],
    status: Option<InferenceStatus>,
) -> StatusReport {
    let ran = !inference.is_empty();
    let reports: Vec<ProviderReport> = providers
        .iter()
        .zip(&round.checks)
        .map(|(p, c)| {
            let mut shown = one_shot_state(p, c, round);
            let mine: Vec<&ModelCheck> = inference
                .iter()
                .filter(|r| r.provider == p.id)
                .map(|r| &r.check)
                .collect();
            if !round.offline || is_local_provider(p) {
                let models: Vec<(&str, &ProbeReport)> =
                    mine.iter().map(|m| (m.model.as_str(), &m.report)).collect();
                let page_trouble = c
                    .page_view(p)
                    .is_some_and(|(v, _)| matches!(v.state, State::Degraded | State::Outage));
                let (a, _) = with_models(
                    Assessment {
                        state: shown.state,
                        summary: shown.summary.clone(),
                        confirmed_by_status_page: shown.confirmed_by_status_page,
                    },
                    &models,
                    page_trouble,
                );
                shown.since = (a.state != State::Operational).then_some(round.at);
                shown.state = a.state;
                shown.summary = a.summary;
                shown.confirmed_by_status_page = a.confirmed_by_status_page;
            }
            let mut report = provider_report(p, Some(c), shown);
            if p.kind != crate::model::ProviderKind::Status {
                report.models = p
                    .watched_models()
                    .iter()
                    .map(|id| {
                        let last = mine.iter().find(|m| &m.model == id).copied();
                        let state = last.map_or(State::Unknown, |m| m.report.class.state());
                        model_report(id, state, None, last, false, ran)
                    })
                    .collect();
                report.inference = status.clone();
            }
            report
        })
        .collect();
    StatusReport {
        checked_at: round.at,
        preferred: config.preferred.clone(),
        fallback: config.fallback.clone(),
        auto_switch: config.auto_switch,
        passive: config.passive,
        config_error: None,
        engine_error: None,
        history_paused: None,
        overall: StatusReport::worst(&reports),
        providers: reports,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::is_local;

    fn report(class: crate::model::ProbeClass, status: Option<u16>) -> ProbeReport {
        ProbeReport {
            ok: class == crate::model::ProbeClass::Ok,
            http_status: status,
            error_type: (status == Some(500)).then(|| "api_error".to_string()),
            message: None,
            request_id: None,
            latency_ms: Some(12_034),
            at: chrono::Utc::now(),
            retry_after_secs: None,
            class,
        }
    }

    fn assessed(state: State) -> Assessment {
        Assessment {
            state,
            summary: "model list".into(),
            confirmed_by_status_page: false,
        }
    }

    #[test]
    fn the_worst_model_decides_and_is_named() {
        use crate::model::ProbeClass;
        let bad = report(ProbeClass::ServerError, Some(500));
        let ok = report(ProbeClass::Ok, Some(200));
        let slow = report(ProbeClass::Slow, Some(200));
        let (a, model) = with_models(
            assessed(State::Operational),
            &[("opus", &bad), ("haiku", &ok), ("sonnet", &slow)],
            false,
        );
        assert_eq!(a.state, State::Outage);
        assert_eq!(model.as_deref(), Some("opus"));
        assert_eq!(
            a.summary,
            "opus: HTTP 500 api_error; 1 other model failing; 1 other model OK"
        );
        // All fine: the model list's words stay.
        let (a, model) = with_models(assessed(State::Operational), &[("haiku", &ok)], false);
        assert_eq!((a.summary.as_str(), model), ("model list", None));
    }

    #[test]
    fn an_unreachable_model_adds_nothing_when_the_model_list_fails_too() {
        use crate::model::{NetFailure, ProbeClass};
        let refused = report(
            ProbeClass::Unreachable {
                failure: NetFailure::Refused,
            },
            None,
        );
        let (a, model) = with_models(assessed(State::Unknown), &[("llama3.2", &refused)], false);
        assert_eq!((a.state, model), (State::Unknown, None));
        // While the list answers, a model that cannot be reached is its outage.
        let (a, _) = with_models(assessed(State::Operational), &[("llama3.2", &refused)], false);
        assert_eq!(a.state, State::Outage);
    }

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
