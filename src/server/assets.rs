//! The dashboard's static files, embedded from `ui/` at compile time so that
//! `switchboard watch` serves them from any working directory.
//!
//! `index.html` gets the per-install token written into its
//! `<meta name="switchboard-token" content="">` placeholder, once, at startup;
//! peers on other machines (`--allow-remote`) get a read-only page without it.
//! Every file is sent with `Cache-Control: no-cache`, so a browser revalidates
//! after an upgrade instead of mixing old and new scripts.
//!
//! Leaves out: compression and ETags (loopback traffic, a few kilobytes).

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use include_dir::{include_dir, Dir};

use super::{AppError, AppState, Token};

static UI: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/ui");

/// What `ui/index.html` contains where the token goes.
const TOKEN_PLACEHOLDER: &str = r#"<meta name="switchboard-token" content="">"#;

/// Shown if the binary was built without a `ui/index.html`.
const MISSING_INDEX: &str = "<!doctype html><html><head><meta charset=\"utf-8\">\
    <meta name=\"switchboard-token\" content=\"\"><title>Switchboard</title></head>\
    <body><p>This build has no dashboard files (ui/index.html). The API is at /api/status.</p></body></html>";

const CACHE_CONTROL: &str = "no-cache";

/// `index.html` with the token in place of the placeholder. The token is hex,
/// so it needs no HTML escaping.
pub(super) fn render_index(token: &Token) -> Bytes {
    let meta = format!(r#"<meta name="switchboard-token" content="{}">"#, token.as_str());
    with_meta(&meta)
}

/// `index.html` for a peer on another machine (`--allow-remote`): no token,
/// and a marker that makes the page read-only (the UI disables its controls
/// and says why). Anyone on the network can load the page, so the token must
/// not be in it.
pub(super) fn render_read_only_index() -> Bytes {
    with_meta(r#"<meta name="switchboard-read-only" content="">"#)
}

fn with_meta(meta: &str) -> Bytes {
    let html = UI
        .get_file("index.html")
        .and_then(|f| f.contents_utf8())
        .unwrap_or(MISSING_INDEX);
    let rendered = if html.contains(TOKEN_PLACEHOLDER) {
        html.replacen(TOKEN_PLACEHOLDER, meta, 1)
    } else if let Some(at) = html.find("<head>") {
        tracing::warn!("ui/index.html has no token placeholder; adding the token after <head>");
        let at = at + "<head>".len();
        format!("{}{meta}{}", &html[..at], &html[at..])
    } else {
        tracing::warn!("ui/index.html has no token placeholder and no <head>");
        format!("{meta}{html}")
    };
    Bytes::from(rendered)
}

/// The dashboard: with the token for this machine, read-only for others.
pub(super) async fn index(State(state): State<AppState>, request: Request) -> Response {
    let body = if super::security::trusted_peer(&state, &request) {
        state.index.clone()
    } else {
        state.index_read_only.clone()
    };
    file_response("index.html", body)
}

/// Any path no route claims: an embedded file for GET/HEAD, else a JSON 404.
pub(super) async fn fallback(method: Method, uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if method == Method::GET || method == Method::HEAD {
        // `index.html` only through `/`, where the token is filled in.
        if let Some(file) = UI.get_file(path).filter(|_| path != "index.html") {
            return file_response(path, Bytes::from_static(file.contents()));
        }
    }
    AppError::NotFound(format!(
        "nothing at {}: the dashboard is at /, the API under /api/ (see the README's API list)",
        uri.path()
    ))
    .into_response()
}

fn file_response(path: &str, body: Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type(path))),
            (header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL)),
        ],
        body,
    )
        .into_response()
}

/// Content type by extension; module scripts must be served as JavaScript or
/// the browser refuses them.
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("webp") => "image/webp",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::content_type;

    #[test]
    fn scripts_and_styles_get_their_types() {
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("a/b/style.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("icons/green.svg"), "image/svg+xml");
        assert_eq!(content_type("README"), "application/octet-stream");
    }
}
