//! Request guards: who may talk to the server, and who may change things.
//!
//! 1. `Host` must name this machine (`localhost`, `*.localhost`, a loopback
//!    IP). A web page that rebinds its own DNS name to 127.0.0.1 still sends its
//!    name in `Host`, so this defeats DNS rebinding.
//! 2. Mutating methods need the per-install token, and a same-origin `Origin`
//!    when one is sent (browsers always send it on such requests; curl does not).
//!    With `--allow-remote`, a peer on another machine must send `Origin`, and
//!    gets the dashboard without the token (read-only).
//! 3. A `Content-Length` over the cap is refused before any handler runs;
//!    bodies without one are cut off by the extractors' limit.
//!
//! Plus response headers that keep the dashboard out of other sites' frames.
//! Leaves out: binding and which `Host` names are this machine (`crate::net`),
//! CORS (there is none: same origin only).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{AppError, AppState, BODY_LIMIT, TOKEN_HEADER};

fn is_mutating(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::DELETE | Method::PATCH
    )
}

/// The `Host` of a request: the header, or the URI authority (HTTP/2).
fn request_host(req: &Request) -> Option<String> {
    match req.headers().get(header::HOST) {
        Some(v) => v.to_str().ok().map(str::to_string),
        None => req.uri().authority().map(|a| a.as_str().to_string()),
    }
}

/// Every request passes through here before routing.
pub(super) async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check(&state, &req) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

fn check(state: &AppState, req: &Request) -> Result<(), AppError> {
    let host = request_host(req).unwrap_or_default();
    if !state.hosts.allows(&host) {
        return Err(AppError::Forbidden(format!(
            "refused: the Host header {host:?} is not this machine. Switchboard only answers requests \
             addressed to localhost or 127.0.0.1, so that other web sites cannot reach it through DNS \
             rebinding. Open http://127.0.0.1:<port>/ instead"
        )));
    }
    if is_mutating(req.method()) {
        if !trusted_peer(state, req) && !req.headers().contains_key(header::ORIGIN) {
            return Err(AppError::Forbidden(
                "refused: a change from another machine needs a same-origin Origin header; this \
                 dashboard is read-only from the network"
                    .to_string(),
            ));
        }
        check_origin(req.headers(), &host)?;
        check_token(state, req.headers())?;
    }
    if content_length(req.headers()).is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(AppError::body_too_large());
    }
    Ok(())
}

/// Whether the request comes from this machine. Without `--allow-remote` the
/// socket is loopback-only, so every peer is. With it, only a loopback peer
/// address counts; an unknown peer (no `ConnectInfo`) is treated as remote.
pub(super) fn trusted_peer(state: &AppState, req: &Request) -> bool {
    if !state.remote {
        return true;
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().to_canonical().is_loopback())
}

fn check_origin(headers: &HeaderMap, host: &str) -> Result<(), AppError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let same = origin
        .to_str()
        .ok()
        .and_then(|o| o.strip_prefix("http://"))
        .is_some_and(|o| o.eq_ignore_ascii_case(host));
    if same {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "refused: this request comes from another web site (Origin {:?}). Settings and keys can only \
             be changed from the Switchboard dashboard itself, at http://{host}/",
            origin.to_str().unwrap_or("<not text>")
        )))
    }
}

fn check_token(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let given = headers.get(TOKEN_HEADER).map(HeaderValue::as_bytes);
    if given.is_some_and(|t| state.token.matches(t)) {
        return Ok(());
    }
    let what = if given.is_some() { "a wrong" } else { "no" };
    Err(AppError::Unauthorized(format!(
        "this request changes settings and carries {what} API token. Send the token in the \
         {TOKEN_HEADER} header: the dashboard does this itself (reload the page if Switchboard was \
         restarted), and scripts can read it from the file `token` beside config.toml"
    )))
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Headers on every response: no MIME sniffing, no framing by other sites, no
/// referrer leaking the dashboard's address, and a strict CSP.
pub(super) async fn headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}

/// The dashboard's Content-Security-Policy: its own scripts, styles and
/// images only, requests to its own API only, no inline code, no plugins, no
/// framing, no form posts. An injected string (a status page's words that
/// slipped past escaping) could then run nothing. The Tauri window loads the
/// same page from this server, so it gets the same policy.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";
