//! `GET /api/events`: Server-Sent Events, one `status` event per change of the
//! engine's report.
//!
//! It follows the engine's `watch` channel rather than its event broadcast:
//! a slow client then skips to the newest report instead of lagging behind,
//! and bursts coalesce by themselves. The first event is the current report,
//! so a client never has to combine this stream with `GET /api/status`.
//!
//! Leaves out: `Last-Event-ID` replay (a reconnecting client gets the current
//! report first, which is all it needs).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header::HeaderName, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use futures::{Stream, StreamExt};
use tokio_stream::wrappers::WatchStream;

use super::AppState;
use crate::model::StatusReport;

/// Comment lines this often keep proxies and browsers from timing the stream out.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How long the browser waits before reconnecting after the stream drops
/// (a restart of `switchboard watch` takes about this long).
pub(crate) const RETRY: Duration = Duration::from_secs(3);

/// Name of the event that carries a report.
pub(crate) const STATUS_EVENT: &str = "status";

pub(super) async fn stream(State(state): State<AppState>) -> impl IntoResponse {
    let sse = Sse::new(status_events(&state)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE));
    // Reverse proxies (nginx) would otherwise buffer the stream.
    (
        [(
            HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        )],
        sse,
    )
}

fn status_events(state: &AppState) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    // `WatchStream::new` yields the current value first, then every change.
    WatchStream::new(state.engine.watch_status())
        .enumerate()
        .filter_map(|(n, report)| async move {
            let event = status_event(&report)?;
            Some(Ok(if n == 0 { event.retry(RETRY) } else { event }))
        })
        .take_until(state.stopped())
}

fn status_event(report: &StatusReport) -> Option<Event> {
    match serde_json::to_string(report) {
        Ok(json) => Some(Event::default().event(STATUS_EVENT).data(json)),
        Err(e) => {
            tracing::error!(error = %e, "cannot serialize the status report for /api/events");
            None
        }
    }
}
