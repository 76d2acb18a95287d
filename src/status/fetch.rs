//! Shared fetching for status pages: conditional requests, size and time caps,
//! and the per-URL memory that makes them possible (validators, last bodies,
//! detected formats).
//!
//! Everything a page can do wrong ends as a [`PageFetch`] variant, never an
//! error and never a hang: no HTTP response is `Unreachable`; an answer that is
//! not the feed (403/405/429/5xx, HTML, too large, too slow, bad JSON) is
//! `Unreadable`, which reports show as `unknown`, never as an outage. What the
//! bodies mean is the adapters' business (`parse` is pure).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{
    HeaderValue, ACCEPT, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use reqwest::StatusCode;
use tokio::time::{timeout_at, Instant};
use url::Url;

use super::{adapter, decode_json, detect, google_cloud, PageFetch, StatusAdapter};
use crate::config::StatusPageConfig;
use crate::http::net_failure;
use crate::model::{NetFailure, StatusFormat};

/// The largest feed body read from a page. Real summaries are tens of KB; a
/// page that sends more is broken or hostile, and reading stops as soon as the
/// cap is crossed so memory stays bounded. (Google's history feed has its own,
/// larger cap: [`google_cloud::MAX_HISTORY_FEED_BYTES`].)
pub const MAX_FEED_BYTES: usize = 4 * 1024 * 1024;

/// Slack after the caller's deadline before the safety net around a whole poll
/// fires. Every await inside is already bounded by the deadline; the net only
/// catches a future bug, and must not pre-empt the precise reasons given inside.
const DEADLINE_GRACE: Duration = Duration::from_millis(250);

/// Polls status pages and remembers validators (ETag / Last-Modified) per URL.
///
/// Cheap to clone and share: clones share one cache.
#[derive(Clone)]
pub struct StatusPoller {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    /// Last good answer per feed URL that carried a validator, to revalidate with
    /// and to reuse on `304 Not Modified`.
    feeds: Mutex<HashMap<Url, CachedFeed>>,
    /// Formats detected per configured page URL (`status_format = "detect"`).
    formats: Mutex<HashMap<Url, StatusFormat>>,
}

struct CachedFeed {
    etag: Option<HeaderValue>,
    last_modified: Option<HeaderValue>,
    body: Bytes,
}

/// Why one feed could not be read; becomes the poll's [`PageFetch`].
#[derive(Debug)]
enum FeedError {
    Unreadable(String),
    Unreachable { failure: NetFailure, message: String },
}

impl From<FeedError> for PageFetch {
    fn from(e: FeedError) -> Self {
        match e {
            FeedError::Unreadable(reason) => PageFetch::Unreadable { reason },
            FeedError::Unreachable { failure, message } => PageFetch::Unreachable { failure, message },
        }
    }
}

/// Locks a cache map. A panic while holding it cannot leave the map half-updated
/// (each update is one insert), so a poisoned lock is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl StatusPoller {
    /// `client` is the shared one from [`crate::http::client`], which names
    /// Switchboard in its User-Agent (status pages' WAFs are kinder to honest bots).
    pub fn new(client: reqwest::Client) -> Self {
        StatusPoller {
            inner: Arc::new(Inner {
                client,
                feeds: Mutex::new(HashMap::new()),
                formats: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Fetches and parses one page, within `timeout` in total. Never fails:
    /// trouble is a [`PageFetch`] variant.
    pub async fn poll(&self, page: &StatusPageConfig, timeout: Duration) -> PageFetch {
        let deadline = Instant::now() + timeout;
        match timeout_at(
            deadline + DEADLINE_GRACE,
            self.poll_until(page, deadline, timeout),
        )
        .await
        {
            Ok(fetch) => fetch,
            Err(_) => PageFetch::Unreachable {
                failure: NetFailure::Timeout,
                message: format!("{} gave no complete answer within {}", page.url, secs(timeout)),
            },
        }
    }

    /// The format detected for a page configured with `detect`, once known.
    pub fn detected_format(&self, page: &Url) -> Option<StatusFormat> {
        lock(&self.inner.formats).get(page).copied()
    }

    async fn poll_until(&self, page: &StatusPageConfig, deadline: Instant, timeout: Duration) -> PageFetch {
        let mut prefetched: Option<(Url, Bytes)> = None;
        let format = match page.format {
            StatusFormat::None => {
                return PageFetch::Unreadable {
                    reason: "status page checks are off (status_format = none)".into(),
                }
            }
            StatusFormat::Detect => match self.detected_format(&page.url) {
                Some(format) => format,
                None => match self.detect(&page.url, deadline, timeout).await {
                    Ok((format, probe, body)) => {
                        prefetched = Some((probe, body));
                        format
                    }
                    Err(fetch) => return fetch,
                },
            },
            format => format,
        };
        let Some(adapter) = adapter(format, &page.url) else {
            return PageFetch::Unreadable {
                reason: format!("no adapter for status format {format:?}"),
            };
        };
        self.read(adapter.as_ref(), &page.url, prefetched, deadline, timeout)
            .await
    }

    /// Fetches every feed of `adapter` concurrently and parses what arrived.
    async fn read(
        &self,
        adapter: &dyn StatusAdapter,
        page: &Url,
        prefetched: Option<(Url, Bytes)>,
        deadline: Instant,
        timeout: Duration,
    ) -> PageFetch {
        let urls = adapter.feed_urls(page);
        let max = adapter.max_feed_bytes();
        let fetches = urls.iter().map(|url| {
            let ready = prefetched
                .as_ref()
                .filter(|(u, _)| u == url)
                .map(|(_, b)| b.clone());
            async move {
                match ready {
                    Some(body) if body.len() > max => Err(too_large(url, max)),
                    Some(body) => Ok(body),
                    None => self.fetch_feed(url, deadline, timeout, max).await,
                }
            }
        });
        let results = futures::future::join_all(fetches).await;

        let mut bodies = Vec::with_capacity(results.len());
        let mut first_error = None;
        for (url, result) in urls.iter().zip(results) {
            match result {
                Ok(body) => bodies.push(body),
                Err(e) => {
                    tracing::debug!(%url, error = ?e, "status feed not read");
                    first_error.get_or_insert(e);
                    // Adapters with several feeds make do with the others.
                    bodies.push(Bytes::new());
                }
            }
        }
        if let Some(e) = first_error.filter(|_| bodies.iter().all(Bytes::is_empty)) {
            return e.into();
        }
        match adapter.parse(&bodies) {
            Ok(status) => PageFetch::Read(super::bounds::bound(status)),
            Err(e) => {
                let url = urls.first().map(Url::as_str).unwrap_or(page.as_str());
                tracing::debug!(%url, error = %e, "status feed not understood");
                PageFetch::Unreadable {
                    reason: format!("{url}: {e}"),
                }
            }
        }
    }

    /// Fetches a page's probe URL and works out its format. Certain answers are
    /// cached for the page; the body is returned so it is not fetched twice.
    async fn detect(
        &self,
        page: &Url,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(StatusFormat, Url, Bytes), PageFetch> {
        let probe = detect::probe_url(page);
        // The format, hence its cap, is not known yet: allow the largest.
        let body = self
            .fetch_feed(&probe, deadline, timeout, google_cloud::MAX_HISTORY_FEED_BYTES)
            .await
            .map_err(PageFetch::from)?;
        match detect::detect(page, &body) {
            Some(found) => {
                tracing::debug!(%page, format = ?found.format, certain = found.certain, "status format detected");
                if found.certain {
                    lock(&self.inner.formats).insert(page.clone(), found.format);
                }
                Ok((found.format, probe, body))
            }
            None => {
                // Say why in the words the adapters use when the body is not JSON at all.
                let reason = match decode_json::<serde_json::Value>(&body, "feed") {
                    Err(e) => format!("{probe}: {e}"),
                    Ok(_) => format!(
                        "{probe}: not a status feed Switchboard reads \
                         (Statuspage, incident.io, Google Cloud or AWS Health)"
                    ),
                };
                Err(PageFetch::Unreadable { reason })
            }
        }
    }

    /// One GET, conditional when an earlier answer left a validator, bounded by
    /// `deadline` and `max` bytes.
    async fn fetch_feed(
        &self,
        url: &Url,
        deadline: Instant,
        timeout: Duration,
        max: usize,
    ) -> Result<Bytes, FeedError> {
        let mut response = match timeout_at(deadline, self.conditional_get(url).send()).await {
            Err(_) => {
                return Err(FeedError::Unreachable {
                    failure: NetFailure::Timeout,
                    message: format!("no answer from {url} within {}", secs(timeout)),
                })
            }
            Ok(Err(e)) => {
                return Err(FeedError::Unreachable {
                    failure: net_failure(&e),
                    message: error_chain(&e),
                })
            }
            Ok(Ok(r)) => r,
        };

        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return match lock(&self.inner.feeds).get(url) {
                Some(cached) => {
                    tracing::debug!(%url, "status feed not modified");
                    Ok(cached.body.clone())
                }
                None => Err(FeedError::Unreadable(format!(
                    "{url} answered 304 Not Modified to a request that had nothing to revalidate"
                ))),
            };
        }
        check_answer(url, &response, max)?;
        let etag = response.headers().get(ETAG).cloned();
        let last_modified = response.headers().get(LAST_MODIFIED).cloned();
        let body = read_body(&mut response, url, deadline, timeout, max).await?;
        tracing::debug!(%url, %status, bytes = body.len(), "status feed fetched");
        self.remember(url, etag, last_modified, &body);
        Ok(body)
    }

    /// A GET of `url` carrying the validators an earlier answer left.
    fn conditional_get(&self, url: &Url) -> reqwest::RequestBuilder {
        let mut request = self
            .inner
            .client
            .get(url.clone())
            .header(ACCEPT, "application/json");
        let validators = lock(&self.inner.feeds)
            .get(url)
            .map(|c| (c.etag.clone(), c.last_modified.clone()));
        if let Some((etag, last_modified)) = validators {
            if let Some(etag) = etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(last_modified) = last_modified {
                request = request.header(IF_MODIFIED_SINCE, last_modified);
            }
        }
        request
    }

    /// Keeps `body` with its validators for the next conditional GET.
    fn remember(
        &self,
        url: &Url,
        etag: Option<HeaderValue>,
        last_modified: Option<HeaderValue>,
        body: &Bytes,
    ) {
        let mut feeds = lock(&self.inner.feeds);
        if etag.is_some() || last_modified.is_some() {
            feeds.insert(
                url.clone(),
                CachedFeed {
                    etag,
                    last_modified,
                    body: body.clone(),
                },
            );
        } else {
            // A stale validator must not be sent for a feed that stopped sending them.
            feeds.remove(url);
        }
    }
}

/// Refuses an answer that cannot be a feed: an error status, an HTML page, or
/// an announced length over `max`.
fn check_answer(url: &Url, response: &reqwest::Response, max: usize) -> Result<(), FeedError> {
    let status = response.status();
    if !status.is_success() {
        return Err(FeedError::Unreadable(describe_status(url, status)));
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.contains("text/html") {
        return Err(FeedError::Unreadable(format!(
            "{url}: {}",
            super::ParseError::Html
        )));
    }
    if response.content_length().is_some_and(|len| len > max as u64) {
        return Err(too_large(url, max));
    }
    Ok(())
}

/// Reads the body up to `max` bytes, by `deadline`.
async fn read_body(
    response: &mut reqwest::Response,
    url: &Url,
    deadline: Instant,
    timeout: Duration,
    max: usize,
) -> Result<Bytes, FeedError> {
    // The announced length is within the cap here, so reserving it is safe.
    let announced = response.content_length().map_or(0, |len| len as usize);
    let mut body: Vec<u8> = Vec::with_capacity(announced);
    loop {
        match timeout_at(deadline, response.chunk()).await {
            Err(_) => {
                return Err(FeedError::Unreadable(format!(
                    "{url} did not finish sending its feed within {} ({} bytes received)",
                    secs(timeout),
                    body.len()
                )))
            }
            Ok(Err(e)) => {
                return Err(FeedError::Unreachable {
                    failure: net_failure(&e),
                    message: error_chain(&e),
                })
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => {
                if body.len() + chunk.len() > max {
                    // Dropping the response closes the connection: nothing more is read.
                    return Err(too_large(url, max));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    Ok(Bytes::from(body))
}

fn too_large(url: &Url, max: usize) -> FeedError {
    FeedError::Unreadable(format!(
        "{url}: the feed is too large (over {} MiB); not read further",
        max / (1024 * 1024)
    ))
}

/// Words for an HTTP status that is not a feed.
fn describe_status(url: &Url, status: StatusCode) -> String {
    let why = match status.as_u16() {
        403 | 405 => "the page refused the request (bot challenge or access denied)",
        429 => "the page is rate limiting us",
        500..=599 => "the status page itself is failing",
        _ => "not its feed",
    };
    format!("{url} answered HTTP {}: {why}", status.as_u16())
}

/// A transport error with its causes ("… : tcp connect error: Connection refused").
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = err.source();
    }
    parts.join(": ")
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poller_is_shareable() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync::<StatusPoller>();
    }

    #[test]
    fn status_words() {
        let url = Url::parse("https://status.claude.com/api/v2/summary.json").unwrap();
        assert_eq!(
            describe_status(&url, StatusCode::METHOD_NOT_ALLOWED),
            "https://status.claude.com/api/v2/summary.json answered HTTP 405: \
             the page refused the request (bot challenge or access denied)"
        );
        assert!(describe_status(&url, StatusCode::BAD_GATEWAY).contains("HTTP 502"));
    }
}
