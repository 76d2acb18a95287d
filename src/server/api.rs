//! The JSON API handlers: status, history, check now, settings, credentials,
//! metrics.
//!
//! Handlers validate what the request names against the running config (so a
//! typo gets the list of valid ids), then ask the engine. They never decide
//! health and never hold state of their own. Keys pass through exactly once,
//! into the secret store, and are not echoed, logged or kept.

use std::collections::HashSet;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::{AppError, AppState};
use crate::config::Config;
use crate::model::{State as ProviderState, StatusReport};
use crate::secrets::Secret;
use crate::store;

/// Content type of `GET /metrics` (OpenMetrics text, which Prometheus scrapes natively).
const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Content type of `GET /metrics` for a client that asks for the classic text
/// format only (`Accept: text/plain`).
const METRICS_CLASSIC_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The history windows the dashboard offers (`?since=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryWindow {
    ThirtyMinutes,
    Day,
    Week,
    Month,
    Quarter,
}

impl HistoryWindow {
    pub(crate) const ALL: [HistoryWindow; 5] = [
        HistoryWindow::ThirtyMinutes,
        HistoryWindow::Day,
        HistoryWindow::Week,
        HistoryWindow::Month,
        HistoryWindow::Quarter,
    ];

    /// Used when `since` is absent: the dashboard's default timeline.
    pub(crate) const DEFAULT: HistoryWindow = HistoryWindow::Day;

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HistoryWindow::ThirtyMinutes => "30m",
            HistoryWindow::Day => "24h",
            HistoryWindow::Week => "7d",
            HistoryWindow::Month => "30d",
            HistoryWindow::Quarter => "90d",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<HistoryWindow> {
        HistoryWindow::ALL.into_iter().find(|w| w.as_str() == s)
    }

    pub(crate) fn duration(self) -> chrono::Duration {
        match self {
            HistoryWindow::ThirtyMinutes => chrono::Duration::minutes(30),
            HistoryWindow::Day => chrono::Duration::hours(24),
            HistoryWindow::Week => chrono::Duration::days(7),
            HistoryWindow::Month => chrono::Duration::days(30),
            HistoryWindow::Quarter => chrono::Duration::days(90),
        }
    }
}

/// A JSON response from something that is `Serialize` by reference (the
/// engine's reports live in an `Arc`).
fn json<T: Serialize + ?Sized>(value: &T) -> Response {
    Json(value).into_response()
}

/// Turns a JSON body rejection into a message that shows the expected shape.
fn body<T>(body: Result<Json<T>, JsonRejection>, example: &str) -> Result<T, AppError> {
    match body {
        Ok(Json(v)) => Ok(v),
        Err(r) => Err(match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::body_too_large(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType(format!(
                "send the body as JSON with Content-Type: application/json, like {example}"
            )),
            _ => AppError::BadRequest(format!("{}. Expected a body like {example}", r.body_text())),
        }),
    }
}

/// Like [`body`], but the message never quotes the body: it may hold a key.
fn secret_body<T>(body: Result<Json<T>, JsonRejection>, example: &str) -> Result<T, AppError> {
    match body {
        Ok(Json(v)) => Ok(v),
        Err(r) => Err(match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::body_too_large(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType(format!(
                "send the body as JSON with Content-Type: application/json, like {example}"
            )),
            _ => AppError::BadRequest(format!("the body is not JSON of the form {example}")),
        }),
    }
}

fn path_id(id: Result<Path<String>, PathRejection>) -> Result<String, AppError> {
    id.map(|Path(id)| id)
        .map_err(|r| AppError::BadRequest(format!("bad provider id in the path: {}", r.body_text())))
}

/// "anthropic, openai, ollama": the ids a request may name.
fn known_ids(config: &Config) -> String {
    let ids: Vec<&str> = config.enabled_providers().map(|p| p.id.as_str()).collect();
    if ids.is_empty() {
        "none are enabled".to_string()
    } else {
        ids.join(", ")
    }
}

fn unknown_provider(id: &str, config: &Config) -> String {
    format!("unknown provider {id:?}; known providers: {}", known_ids(config))
}

pub(super) async fn status(State(state): State<AppState>) -> Response {
    json(&*state.engine.status())
}

pub(super) async fn check(State(state): State<AppState>) -> Result<Response, AppError> {
    let report = state.engine.check_now().await?;
    Ok(json(&*report))
}

pub(super) async fn history(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let since = query
        .as_deref()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "since"))
        .map(|(_, v)| v.into_owned());
    let window = match since.as_deref() {
        None | Some("") => HistoryWindow::DEFAULT,
        Some(s) => HistoryWindow::parse(s).ok_or_else(|| {
            let accepted: Vec<&str> = HistoryWindow::ALL.iter().map(|w| w.as_str()).collect();
            AppError::BadRequest(format!(
                "since={s:?} is not a window Switchboard keeps; use one of {}",
                accepted.join(", ")
            ))
        })?,
    };
    let Some(store) = state.history.clone() else {
        return Err(AppError::Unavailable(
            "this Switchboard process keeps no history (the history database could not be opened; \
             see its log)"
                .into(),
        ));
    };
    let config = state.engine.config().await?;
    let providers: Vec<(String, String)> = config
        .enabled_providers()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect();
    // A check "holds" for a few intervals of the *configured* schedule.
    let max_gap = store::max_gap_for(config.check.interval);
    let now = Utc::now();
    let since = now - window.duration();
    let report = tokio::task::spawn_blocking(move || {
        store::history_report_with(&*store, &providers, since, now, max_gap)
    })
    .await?
    .map_err(|e| AppError::internal("could not read the history; see the Switchboard log", e))?;
    Ok(json(&report))
}

#[derive(Deserialize)]
pub(super) struct PreferredBody {
    id: String,
}

pub(super) async fn set_preferred(
    State(state): State<AppState>,
    req: Result<Json<PreferredBody>, JsonRejection>,
) -> Result<Response, AppError> {
    let PreferredBody { id } = body(req, r#"{"id":"openai"}"#)?;
    let config = state.engine.config().await?;
    match config.provider(&id) {
        None => return Err(AppError::BadRequest(unknown_provider(&id, &config))),
        Some(p) if !p.enabled => {
            return Err(AppError::BadRequest(format!(
                "provider {id:?} is disabled in the config; enable it first (known providers: {})",
                known_ids(&config)
            )))
        }
        Some(_) => {}
    }
    state.engine.set_preferred(&id).await?;
    Ok(json(&*state.engine.status()))
}

#[derive(Deserialize)]
pub(super) struct FallbackBody {
    order: Vec<String>,
}

pub(super) async fn set_fallback(
    State(state): State<AppState>,
    req: Result<Json<FallbackBody>, JsonRejection>,
) -> Result<Response, AppError> {
    let FallbackBody { order } = body(req, r#"{"order":["anthropic","openai","ollama"]}"#)?;
    let config = state.engine.config().await?;
    if let Some(bad) = order.iter().find(|id| config.provider(id).is_none()) {
        return Err(AppError::BadRequest(unknown_provider(bad, &config)));
    }
    let mut seen = HashSet::new();
    if let Some(dup) = order.iter().find(|id| !seen.insert(id.as_str())) {
        return Err(AppError::BadRequest(format!(
            "{dup:?} appears twice in the fallback order; list each provider once"
        )));
    }
    state.engine.set_fallback(order).await?;
    Ok(json(&*state.engine.status()))
}

#[derive(Deserialize)]
pub(super) struct AutoSwitchBody {
    enabled: bool,
}

pub(super) async fn set_auto_switch(
    State(state): State<AppState>,
    req: Result<Json<AutoSwitchBody>, JsonRejection>,
) -> Result<Response, AppError> {
    let AutoSwitchBody { enabled } = body(req, r#"{"enabled":true}"#)?;
    state.engine.set_auto_switch(enabled).await?;
    Ok(json(&*state.engine.status()))
}

/// `GET /api/passive`: per coding agent, whether its logs exist here, whether
/// they are read, and what is read (the dashboard's consent offer).
pub(super) async fn passive(State(state): State<AppState>) -> Response {
    let settings = state.engine.current_config().passive;
    json(&crate::passive::info(settings, &state.passive_roots))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PassiveBody {
    claude_code: Option<bool>,
    codex: Option<bool>,
}

/// `PUT /api/passive` (`{"claude_code": true}`): keys left out keep their value.
pub(super) async fn set_passive(
    State(state): State<AppState>,
    req: Result<Json<PassiveBody>, JsonRejection>,
) -> Result<Response, AppError> {
    let PassiveBody { claude_code, codex } = body(req, r#"{"claude_code":true}"#)?;
    let mut settings = state.engine.current_config().passive;
    settings.claude_code = claude_code.unwrap_or(settings.claude_code);
    settings.codex = codex.unwrap_or(settings.codex);
    state.engine.set_passive(settings).await?;
    Ok(json(&crate::passive::info(settings, &state.passive_roots)))
}

/// `GET /api/inference`: the setting and what the checks would cost a month
/// with the models watched now (the consent offer shows it first).
pub(super) async fn inference(State(state): State<AppState>) -> Result<Response, AppError> {
    Ok(json(&state.engine.inference_estimate().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InferenceBody {
    enabled: bool,
    interval_secs: Option<u64>,
    monthly_budget_usd: Option<f64>,
}

/// `PUT /api/inference` (`{"enabled": true}`): the user's consent to the
/// paid checks, written to the config file. Answers with the new estimate.
pub(super) async fn set_inference(
    State(state): State<AppState>,
    req: Result<Json<InferenceBody>, JsonRejection>,
) -> Result<Response, AppError> {
    let InferenceBody {
        enabled,
        interval_secs,
        monthly_budget_usd,
    } = body(req, r#"{"enabled":true}"#)?;
    state
        .engine
        .set_inference(crate::engine::InferenceSettings {
            enabled,
            interval_secs,
            monthly_budget_usd,
        })
        .await?;
    Ok(json(&state.engine.inference_estimate().await?))
}

#[derive(Deserialize)]
pub(super) struct KeyBody {
    api_key: String,
}

/// How the freshly stored key did on the check that followed.
#[derive(Serialize)]
struct KeyTest {
    ok: bool,
    state: ProviderState,
    summary: String,
    http_status: Option<u16>,
}

#[derive(Serialize)]
struct Stored {
    stored: bool,
    /// `None` if the provider is disabled (not checked) or the check could not run.
    test: Option<KeyTest>,
}

/// The provider `id` names, if it can hold a key.
async fn key_provider(state: &AppState, id: &str) -> Result<(), AppError> {
    let config = state.engine.config().await?;
    match config.provider(id) {
        None => Err(AppError::NotFound(unknown_provider(id, &config))),
        Some(p) if !p.needs_key() => Err(AppError::BadRequest(format!(
            "provider {id:?} needs no API key (local servers and status-page-only providers are checked \
             without one)"
        ))),
        Some(_) => Ok(()),
    }
}

pub(super) async fn set_credential(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    req: Result<Json<KeyBody>, JsonRejection>,
) -> Result<Response, AppError> {
    let id = path_id(id)?;
    let KeyBody { api_key } = secret_body(req, r#"{"api_key":"…"}"#)?;
    key_provider(&state, &id).await?;
    let key = api_key.trim();
    if key.is_empty() {
        return Err(AppError::BadRequest("api_key is empty: paste the key".into()));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::BadRequest(
            "the key contains spaces, line breaks or control characters: paste only the key itself".into(),
        ));
    }
    let secret = Secret::new(key);
    let store = state.credentials.store().clone();
    let target = id.clone();
    tokio::task::spawn_blocking(move || store.set(&target, &secret)).await??;
    tracing::info!(provider = %id, "API key stored from the dashboard");

    let test = match state.engine.check_now().await {
        Ok(report) => key_test(&report, &id, key),
        Err(e) => {
            tracing::warn!(provider = %id, error = %e, "key stored, but the check after it failed");
            None
        }
    };
    Ok(json(&Stored { stored: true, test }))
}

/// The provider's result in `report`, with the key scrubbed from the words in
/// case the provider echoed it back.
/// The verdict on the new key is the probe that just ran with it, not the
/// provider's held state: that one waits for a confirmation before it moves.
fn key_test(report: &StatusReport, id: &str, key: &str) -> Option<KeyTest> {
    let p = report.providers.iter().find(|p| p.id == id)?;
    let (state, summary) = match &p.probe {
        Some(probe) => (probe.class.state(), probe.summary()),
        None => (p.state, p.summary.clone()),
    };
    Some(KeyTest {
        ok: p.probe.as_ref().is_some_and(|r| r.ok),
        state,
        summary: summary.replace(key, "<redacted>"),
        http_status: p.probe.as_ref().and_then(|r| r.http_status),
    })
}

#[derive(Serialize)]
struct Deleted {
    deleted: bool,
}

pub(super) async fn delete_credential(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let id = path_id(id)?;
    key_provider(&state, &id).await?;
    let store = state.credentials.store().clone();
    let target = id.clone();
    let deleted = tokio::task::spawn_blocking(move || store.delete(&target)).await??;
    if deleted {
        tracing::info!(provider = %id, "API key deleted from the dashboard");
        // The provider's state now follows its env var or "no API key".
        if let Err(e) = state.engine.check_now().await {
            tracing::warn!(provider = %id, error = %e, "key deleted, but the check after it failed");
        }
    }
    Ok(json(&Deleted { deleted }))
}

/// `GET /api/gateway`: where the gateway listens and what went through it.
pub(super) async fn gateway(State(state): State<AppState>) -> Response {
    let g = &state.gateway;
    Json(serde_json::json!({
        "enabled": g.enabled,
        "listen": g.listen.map(|a| a.to_string()),
        "running": g.listen.is_some(),
        "error": g.error,
        "providers": g.traffic.snapshot(),
    }))
    .into_response()
}

/// OpenMetrics unless the client names `text/plain` and not OpenMetrics
/// (Prometheus names both, preferring OpenMetrics; `*/*` gets OpenMetrics).
pub(super) async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let classic = accept.contains("text/plain") && !accept.contains("application/openmetrics-text");
    let (text, content_type) = if classic {
        (state.metrics.encode_classic(), METRICS_CLASSIC_CONTENT_TYPE)
    } else {
        (state.metrics.encode(), METRICS_CONTENT_TYPE)
    };
    let text = text.map_err(|e| AppError::internal("could not encode the metrics", e))?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        text,
    )
        .into_response())
}

pub(super) async fn method_not_allowed(method: Method, uri: Uri) -> AppError {
    AppError::MethodNotAllowed(format!(
        "{method} is not supported on {}; see the README's API list",
        uri.path()
    ))
}
