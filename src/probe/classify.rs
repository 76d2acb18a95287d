//! What one probe answer means, per DESIGN's "Probe classification" table.
//!
//! Pure: an HTTP status, headers, body and timings in, a [`ProbeReport`] out; no
//! I/O and no clock reads, so every row of the table is unit-tested here. Reading
//! the bodies lives in `error_body`; turning one report into a provider state over
//! time (hysteresis, offline detection) is `health`'s job.
//!
//! Decisions the table leaves open, and why:
//! - **Any 400 is `Auth`.** The probe request is constant and known-good, so a 400
//!   speaks about the account or key: Gemini's `API_KEY_INVALID` and
//!   `FAILED_PRECONDITION` (billing, region), Anthropic's `invalid_request_error`
//!   for "credit balance is too low" or a spend limit. The user must act; calling
//!   it an outage is exactly the confusion DESIGN wants to end.
//! - **404 is `ServerError`** with a "check base_url" hint. The probed endpoints
//!   exist at every correctly configured provider, so a 404 means a wrong
//!   `base_url` or broken routing; either way the user's calls to that URL fail.
//!   It says nothing about the key, so `Auth` would send the user to replace a key
//!   that works.
//! - **A 2xx HTML page is `ServerError`**: the API answers JSON, so a web page
//!   (a wrong `base_url`, a captive portal on plain HTTP) is not a working API.
//!   Other 2xx bodies are not inspected: a lean fake or proxy may send none.
//! - **`overloaded_error` (Anthropic) and `server_is_overloaded` (OpenAI) on any
//!   5xx are `Overloaded`**, like 529: the table keys the row on that word.
//! - **Any other status (3xx, other 4xx, other 5xx) is `ServerError`**: the
//!   provider should never send it to this request.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, CONTENT_TYPE, DATE, LOCATION, RETRY_AFTER};

use super::error_body::{clean, ErrorBody};
use crate::model::ProviderKind;
use crate::model::{NetFailure, ProbeClass, ProbeReport, QuotaKind};

/// Anthropic's status for "overloaded_error": capacity, not a fault.
const STATUS_OVERLOADED: u16 = 529;
/// Machine words that mean "overloaded" whatever the 5xx status.
const OVERLOADED_WORDS: [&str; 2] = ["overloaded_error", "server_is_overloaded"];
/// OpenAI's 429 for an exhausted billing quota (waiting does not help).
const INSUFFICIENT_QUOTA: &str = "insufficient_quota";
/// Gemini's 429 status word.
const RESOURCE_EXHAUSTED: &str = "RESOURCE_EXHAUSTED";
/// Gemini's ErrorInfo reason for a bad key (sent with a 400, not a 401).
const API_KEY_INVALID: &str = "API_KEY_INVALID";
/// Gemini's message for a bad key, for bodies without the ErrorInfo detail.
const API_KEY_NOT_VALID_TEXT: &str = "API key not valid";
/// Anthropic and OpenAI SDKs honour this millisecond variant of `retry-after`.
const RETRY_AFTER_MS: &str = "retry-after-ms";
/// Request-id headers: Anthropic, then OpenAI (and most proxies), then AWS.
const REQUEST_ID_HEADERS: [&str; 3] = ["request-id", "x-request-id", "x-amzn-requestid"];
/// AWS names the error in a header (`AccessDeniedException:http://...`) and
/// often only gives `{"message"}` in the body.
const AWS_ERROR_TYPE_HEADER: &str = "x-amzn-errortype";

/// Classifies one HTTP answer.
///
/// `latency` is from sending the request to the end of the body; `slow` is the
/// user's `slow_ms`; `at` is when the probe started (the report's timestamp).
pub fn classify(
    kind: ProviderKind,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    latency: Duration,
    slow: Duration,
    at: DateTime<Utc>,
) -> ProbeReport {
    let content_type = header_str(headers, CONTENT_TYPE.as_str());
    let header_request_id = REQUEST_ID_HEADERS
        .iter()
        .find_map(|name| header_str(headers, name))
        .and_then(clean);
    let received_at = at + chrono::Duration::from_std(latency).unwrap_or_default();
    let header_retry = retry_after_secs(headers, received_at);

    if (200..300).contains(&status) {
        let mut report = base(status, latency, at, header_request_id, header_retry);
        if is_html(content_type, body) {
            let page = ErrorBody::parse(status, content_type, body).message;
            report.message = Some(match page {
                Some(title) => format!("answered with a web page ({title}), not the API — check base_url"),
                None => "answered with a web page, not the API — check base_url".to_string(),
            });
            report.class = ProbeClass::ServerError;
        } else if latency <= slow {
            report.ok = true;
            report.class = ProbeClass::Ok;
        } else {
            report.class = ProbeClass::Slow;
        }
        return report;
    }

    let parsed = ErrorBody::parse(status, content_type, body);
    let retry_after = header_retry.or(parsed.retry_delay_secs);
    let mut report = base(
        status,
        latency,
        at,
        parsed.request_id.clone().or(header_request_id),
        retry_after,
    );
    report.error_type = parsed.error_type.clone().or_else(|| {
        header_str(headers, AWS_ERROR_TYPE_HEADER)
            .and_then(|t| t.split(':').next())
            .and_then(clean)
    });
    report.message = parsed.message.clone();

    report.class = match status {
        400..=403 => {
            if kind == ProviderKind::Gemini && status == 400 && gemini_key_invalid(&parsed) {
                report.error_type = Some(API_KEY_INVALID.to_string());
            }
            ProbeClass::Auth
        }
        404 => {
            report.message = Some(match &report.message {
                Some(m) => format!("{m} — {}", not_found_hint(kind)),
                None => format!("endpoint not found — {}", not_found_hint(kind)),
            });
            ProbeClass::ServerError
        }
        429 => ProbeClass::RateLimited {
            retry_after_secs: retry_after,
            quota: quota_kind(&parsed),
        },
        STATUS_OVERLOADED => ProbeClass::Overloaded,
        500..=599 if OVERLOADED_WORDS.iter().any(|w| parsed.has_word(w)) => ProbeClass::Overloaded,
        300..=399 => {
            let target = header_str(headers, LOCATION.as_str()).and_then(clean);
            report.message = Some(match target {
                Some(to) => format!("redirected to {to} — check base_url"),
                None => "unexpected redirect — check base_url".to_string(),
            });
            ProbeClass::ServerError
        }
        _ => ProbeClass::ServerError,
    };
    report
}

/// A probe that got no complete HTTP answer: timeout, refused, reset, TLS, DNS.
/// `detail` is the low-level cause in words (never containing the key).
pub fn unreachable(
    failure: NetFailure,
    detail: Option<String>,
    latency: Duration,
    at: DateTime<Utc>,
) -> ProbeReport {
    ProbeReport {
        ok: false,
        http_status: None,
        error_type: None,
        message: detail.as_deref().and_then(clean),
        request_id: None,
        latency_ms: Some(millis(latency)),
        at,
        retry_after_secs: None,
        class: ProbeClass::Unreachable { failure },
    }
}

/// [`unreachable`] for a reqwest transport error, with its innermost cause as the
/// detail ("Connection refused (os error 111)" rather than "error sending request").
pub fn transport_error(err: &reqwest::Error, latency: Duration, at: DateTime<Utc>) -> ProbeReport {
    unreachable(crate::http::net_failure(err), Some(root_cause(err)), latency, at)
}

/// The innermost error in a source chain, in words.
pub(crate) fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = err;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

fn base(
    status: u16,
    latency: Duration,
    at: DateTime<Utc>,
    request_id: Option<String>,
    retry_after_secs: Option<u64>,
) -> ProbeReport {
    ProbeReport {
        ok: false,
        http_status: Some(status),
        error_type: None,
        message: None,
        request_id,
        latency_ms: Some(millis(latency)),
        at,
        retry_after_secs,
        class: ProbeClass::ServerError,
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn is_html(content_type: Option<&str>, body: &[u8]) -> bool {
    let declared = content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("text/html"));
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let sniffed = start.is_some_and(|i| {
        let head = &body[i..body.len().min(i + 16)];
        head.to_ascii_lowercase().starts_with(b"<!doctype html")
            || head.to_ascii_lowercase().starts_with(b"<html")
    });
    declared || sniffed
}

fn gemini_key_invalid(parsed: &ErrorBody) -> bool {
    parsed.has_word(API_KEY_INVALID)
        || parsed
            .message
            .as_deref()
            .is_some_and(|m| m.contains(API_KEY_NOT_VALID_TEXT))
}

fn quota_kind(parsed: &ErrorBody) -> QuotaKind {
    if parsed.has_word(INSUFFICIENT_QUOTA) {
        QuotaKind::InsufficientQuota
    } else if parsed.has_word(RESOURCE_EXHAUSTED) {
        QuotaKind::ResourceExhausted
    } else {
        QuotaKind::RateLimit
    }
}

/// Where each ecosystem's `base_url` convention differs, so the hint says how.
fn not_found_hint(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Openai | ProviderKind::OpenaiCompatible => {
            "check base_url (OpenAI-style base URLs usually end in /v1)"
        }
        ProviderKind::Anthropic => "check base_url (Anthropic base URLs do not include /v1)",
        ProviderKind::Gemini => "check base_url (Gemini base URLs do not include /v1beta)",
        _ => "check base_url",
    }
}

/// Seconds to wait, from `retry-after-ms` (more precise, so preferred) or
/// `retry-after` (whole seconds or an HTTP date). A date is measured from the
/// server's own `Date` header when it sent one, so clock skew cancels out, else
/// from `received_at`. Always rounded up: waiting that long is enough.
fn retry_after_secs(headers: &HeaderMap, received_at: DateTime<Utc>) -> Option<u64> {
    if let Some(ms) = header_str(headers, RETRY_AFTER_MS).and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some((ms / 1000.0).ceil() as u64);
        }
    }
    let value = header_str(headers, RETRY_AFTER.as_str())?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| secs.ceil() as u64);
    }
    let until: DateTime<Utc> = httpdate::parse_http_date(value).ok()?.into();
    let now = header_str(headers, DATE.as_str())
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .map(DateTime::<Utc>::from)
        .unwrap_or(received_at);
    let millis = (until - now).num_milliseconds().max(0);
    Some(u64::try_from(millis).unwrap_or(0).div_ceil(1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    const SLOW: Duration = Duration::from_millis(8000);
    const FAST: Duration = Duration::from_millis(120);

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn json(kind: ProviderKind, status: u16, body: &str) -> ProbeReport {
        classify(
            kind,
            status,
            &headers(&[("content-type", "application/json")]),
            body.as_bytes(),
            FAST,
            SLOW,
            at(),
        )
    }

    const ANTHROPIC_500: &str = r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#;

    #[test]
    fn aws_errors_take_their_type_and_id_from_headers() {
        let r = classify(
            ProviderKind::Bedrock,
            403,
            &headers(&[
                ("content-type", "application/json"),
                ("x-amzn-errortype", "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
                ("x-amzn-requestid", "4c1a8bd5-0000-4000-8000-000000000000"),
            ]),
            br#"{"message":"User: arn:aws:iam::1:user/x is not authorized to perform: bedrock:ListFoundationModels"}"#,
            FAST,
            SLOW,
            at(),
        );
        assert_eq!(r.class, ProbeClass::Auth);
        assert_eq!(r.error_type.as_deref(), Some("AccessDeniedException"));
        assert!(r.message.unwrap().contains("not authorized"));
        assert_eq!(
            r.request_id.as_deref(),
            Some("4c1a8bd5-0000-4000-8000-000000000000")
        );
        let r = classify(
            ProviderKind::Bedrock,
            503,
            &headers(&[("x-amzn-errortype", "ServiceUnavailableException")]),
            br#"{"message":"Service unavailable"}"#,
            FAST,
            SLOW,
            at(),
        );
        assert_eq!(r.class, ProbeClass::ServerError);
        assert_eq!(r.error_type.as_deref(), Some("ServiceUnavailableException"));
    }

    #[test]
    fn success_within_slow_is_ok() {
        let r = classify(
            ProviderKind::Anthropic,
            200,
            &headers(&[("request-id", "req_ok")]),
            br#"{"data":[],"has_more":false}"#,
            SLOW,
            SLOW,
            at(),
        );
        assert_eq!(r.class, ProbeClass::Ok);
        assert!(r.ok);
        assert_eq!(r.http_status, Some(200));
        assert_eq!(r.latency_ms, Some(8000), "exactly slow_ms is still within it");
        assert_eq!(r.request_id.as_deref(), Some("req_ok"));
        assert_eq!((r.error_type, r.message), (None, None));
        assert_eq!(r.at, at());
        // Any 2xx counts, with or without a body.
        let r = classify(
            ProviderKind::Ollama,
            204,
            &HeaderMap::new(),
            b"",
            FAST,
            SLOW,
            at(),
        );
        assert_eq!(r.class, ProbeClass::Ok);
    }

    #[test]
    fn success_slower_than_slow_is_slow_not_ok() {
        let r = classify(
            ProviderKind::Openai,
            200,
            &HeaderMap::new(),
            b"{}",
            SLOW + Duration::from_millis(1),
            SLOW,
            at(),
        );
        assert_eq!(r.class, ProbeClass::Slow);
        assert!(!r.ok);
        assert_eq!(r.latency_ms, Some(8001));
        assert_eq!(r.class.state(), crate::model::State::Degraded);
    }

    #[test]
    fn success_with_an_html_page_is_a_wrong_endpoint() {
        let r = classify(
            ProviderKind::OpenaiCompatible,
            200,
            &headers(&[("content-type", "text/html; charset=utf-8")]),
            b"<!doctype html><html><head><title>Welcome to nginx!</title></head></html>",
            FAST,
            SLOW,
            at(),
        );
        assert_eq!(r.class, ProbeClass::ServerError);
        assert!(!r.ok);
        assert_eq!(
            r.message.as_deref(),
            Some("answered with a web page (Welcome to nginx!), not the API — check base_url")
        );
        // Sniffed without a content type too.
        let r = classify(
            ProviderKind::Ollama,
            200,
            &HeaderMap::new(),
            b"\n<HTML></HTML>",
            FAST,
            SLOW,
            at(),
        );
        assert_eq!(r.class, ProbeClass::ServerError);
    }

    #[test]
    fn credential_statuses_are_auth_for_every_format() {
        let cases: [(ProviderKind, u16, &str, Option<&str>, &str); 8] = [
            (
                ProviderKind::Anthropic,
                401,
                r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_1"}"#,
                Some("authentication_error"),
                "invalid x-api-key",
            ),
            (
                ProviderKind::Anthropic,
                402,
                r#"{"type":"error","error":{"type":"billing_error","message":"Your credit balance is too low"}}"#,
                Some("billing_error"),
                "Your credit balance is too low",
            ),
            (
                ProviderKind::Anthropic,
                403,
                r#"{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission"}}"#,
                Some("permission_error"),
                "Your API key does not have permission",
            ),
            (
                ProviderKind::Anthropic,
                400,
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}"#,
                Some("invalid_request_error"),
                "Your credit balance is too low to access the Anthropic API.",
            ),
            (
                ProviderKind::Openai,
                401,
                r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
                Some("invalid_api_key"),
                "Incorrect API key provided",
            ),
            (
                ProviderKind::Gemini,
                403,
                r#"{"error":{"code":403,"message":"Requests to this API are blocked.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_SERVICE_BLOCKED"}]}}"#,
                Some("API_KEY_SERVICE_BLOCKED"),
                "Requests to this API are blocked.",
            ),
            (
                ProviderKind::Gemini,
                400,
                r#"{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}"#,
                Some("FAILED_PRECONDITION"),
                "User location is not supported for the API use.",
            ),
            (
                ProviderKind::OpenaiCompatible,
                402,
                r#"{"error":{"code":402,"message":"Insufficient credits"}}"#,
                None,
                "Insufficient credits",
            ),
        ];
        for (kind, status, body, error_type, message) in cases {
            let r = json(kind, status, body);
            assert_eq!(r.class, ProbeClass::Auth, "{kind:?} {status}");
            assert_eq!(r.http_status, Some(status));
            assert!(!r.ok);
            assert_eq!(r.error_type.as_deref(), error_type, "{kind:?} {status}");
            assert_eq!(r.message.as_deref(), Some(message), "{kind:?} {status}");
        }
    }

    #[test]
    fn gemini_bad_key_is_auth_even_without_error_info() {
        let with_reason = json(
            ProviderKind::Gemini,
            400,
            r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#,
        );
        assert_eq!(with_reason.class, ProbeClass::Auth);
        assert_eq!(with_reason.error_type.as_deref(), Some("API_KEY_INVALID"));
        let message_only = json(
            ProviderKind::Gemini,
            400,
            r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}"#,
        );
        assert_eq!(message_only.class, ProbeClass::Auth);
        assert_eq!(message_only.error_type.as_deref(), Some("API_KEY_INVALID"));
        // Only Gemini's format is rewritten; other kinds keep their own words.
        let other = json(
            ProviderKind::Openai,
            400,
            r#"{"error":{"message":"API key not valid","type":"invalid_request_error"}}"#,
        );
        assert_eq!(other.error_type.as_deref(), Some("invalid_request_error"));
    }

    #[test]
    fn not_found_is_a_server_error_with_a_base_url_hint() {
        let r = json(
            ProviderKind::Anthropic,
            404,
            r#"{"type":"error","error":{"type":"not_found_error","message":"Not Found"}}"#,
        );
        assert_eq!(r.class, ProbeClass::ServerError);
        assert_eq!(r.error_type.as_deref(), Some("not_found_error"));
        assert_eq!(
            r.message.as_deref(),
            Some("Not Found — check base_url (Anthropic base URLs do not include /v1)")
        );
        let r = classify(
            ProviderKind::Openai,
            404,
            &HeaderMap::new(),
            b"",
            FAST,
            SLOW,
            at(),
        );
        assert_eq!(
            r.message.as_deref(),
            Some("endpoint not found — check base_url (OpenAI-style base URLs usually end in /v1)")
        );
        let r = classify(
            ProviderKind::Ollama,
            404,
            &HeaderMap::new(),
            b"404 page not found",
            FAST,
            SLOW,
            at(),
        );
        assert_eq!(r.message.as_deref(), Some("404 page not found — check base_url"));
    }

    #[test]
    fn rate_limits_carry_retry_after_and_quota_kind() {
        let anthropic = classify(
            ProviderKind::Anthropic,
            429,
            &headers(&[("retry-after", "17"), ("request-id", "req_429")]),
            br#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#,
            FAST,
            SLOW,
            at(),
        );
        assert_eq!(
            anthropic.class,
            ProbeClass::RateLimited {
                retry_after_secs: Some(17),
                quota: QuotaKind::RateLimit
            }
        );
        assert_eq!(anthropic.retry_after_secs, Some(17));
        assert_eq!(anthropic.error_type.as_deref(), Some("rate_limit_error"));
        assert_eq!(anthropic.request_id.as_deref(), Some("req_429"));

        let quota = json(
            ProviderKind::Openai,
            429,
            r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
        );
        assert_eq!(
            quota.class,
            ProbeClass::RateLimited {
                retry_after_secs: None,
                quota: QuotaKind::InsufficientQuota
            }
        );
        let rpm = json(
            ProviderKind::Openai,
            429,
            r#"{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
        );
        assert_eq!(
            rpm.class,
            ProbeClass::RateLimited {
                retry_after_secs: None,
                quota: QuotaKind::RateLimit
            }
        );
        assert_eq!(rpm.error_type.as_deref(), Some("rate_limit_exceeded"));

        let gemini = json(
            ProviderKind::Gemini,
            429,
            r#"{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"41s"}]}}"#,
        );
        assert_eq!(
            gemini.class,
            ProbeClass::RateLimited {
                retry_after_secs: Some(41),
                quota: QuotaKind::ResourceExhausted
            }
        );
        assert_eq!(gemini.retry_after_secs, Some(41));
        assert_eq!(gemini.error_type.as_deref(), Some("RESOURCE_EXHAUSTED"));

        // A 429 with no body at all is still a rate limit.
        let bare = classify(
            ProviderKind::Ollama,
            429,
            &HeaderMap::new(),
            b"",
            FAST,
            SLOW,
            at(),
        );
        assert_eq!(
            bare.class,
            ProbeClass::RateLimited {
                retry_after_secs: None,
                quota: QuotaKind::RateLimit
            }
        );
    }

    #[test]
    fn retry_after_forms() {
        let received = at();
        let h = |pairs: &[(&str, &str)]| retry_after_secs(&headers(pairs), received);
        assert_eq!(h(&[("retry-after", "30")]), Some(30));
        assert_eq!(h(&[("retry-after", " 0 ")]), Some(0));
        assert_eq!(h(&[("retry-after", "1.5")]), Some(2));
        assert_eq!(h(&[("retry-after-ms", "1500"), ("retry-after", "9")]), Some(2));
        assert_eq!(h(&[("retry-after-ms", "garbage"), ("retry-after", "9")]), Some(9));
        // HTTP date, measured from the server's Date header when present...
        assert_eq!(
            h(&[
                ("retry-after", "Sun, 01 Mar 2026 12:05:00 GMT"),
                ("date", "Sun, 01 Mar 2026 12:04:00 GMT")
            ]),
            Some(60)
        );
        // ...else from when the answer arrived; a past date means "now".
        assert_eq!(h(&[("retry-after", "Sun, 01 Mar 2026 12:00:45 GMT")]), Some(45));
        assert_eq!(h(&[("retry-after", "Sun, 01 Mar 2026 11:00:00 GMT")]), Some(0));
        assert_eq!(h(&[("retry-after", "soon")]), None);
        assert_eq!(h(&[("retry-after", "-5")]), None);
        assert_eq!(h(&[]), None);
    }

    #[test]
    fn retry_after_header_wins_over_gemini_retry_info() {
        let r = classify(
            ProviderKind::Gemini,
            429,
            &headers(&[("retry-after", "5")]),
            br#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"41s"}]}}"#,
            FAST,
            SLOW,
            at(),
        );
        assert_eq!(r.retry_after_secs, Some(5));
    }

    #[test]
    fn overloaded_is_degraded_not_outage() {
        let r = classify(
            ProviderKind::Anthropic,
            529,
            &headers(&[("retry-after", "3"), ("request-id", "req_529")]),
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_529"}"#,
            FAST,
            SLOW,
            at(),
        );
        assert_eq!(r.class, ProbeClass::Overloaded);
        assert_eq!(r.class.state(), crate::model::State::Degraded);
        assert_eq!(r.error_type.as_deref(), Some("overloaded_error"));
        assert_eq!(r.message.as_deref(), Some("Overloaded"));
        assert_eq!(r.retry_after_secs, Some(3));
        // 529 without a body, and the overloaded words on another 5xx.
        let bare = classify(
            ProviderKind::Openai,
            529,
            &HeaderMap::new(),
            b"",
            FAST,
            SLOW,
            at(),
        );
        assert_eq!(bare.class, ProbeClass::Overloaded);
        let openai = json(
            ProviderKind::Openai,
            503,
            r#"{"error":{"message":"The server is overloaded","type":"server_error","code":"server_is_overloaded"}}"#,
        );
        assert_eq!(openai.class, ProbeClass::Overloaded);
    }

    #[test]
    fn seed_case_500_api_error_is_an_outage_with_its_request_id() {
        let r = classify(
            ProviderKind::Anthropic,
            500,
            &headers(&[
                ("content-type", "application/json"),
                ("request-id", "req_from_header"),
            ]),
            ANTHROPIC_500.as_bytes(),
            Duration::from_millis(12_034),
            SLOW,
            at(),
        );
        assert_eq!(r.class, ProbeClass::ServerError);
        assert_eq!(r.class.state(), crate::model::State::Outage);
        assert!(!r.ok);
        assert_eq!(r.http_status, Some(500));
        assert_eq!(r.error_type.as_deref(), Some("api_error"));
        assert_eq!(r.message.as_deref(), Some("Internal server error"));
        // The body's id wins; the header is the fallback.
        assert_eq!(r.request_id.as_deref(), Some("req_011CSHoEeqs5C35K2UUqR7Fy"));
        assert_eq!(r.latency_ms, Some(12_034));
        assert_eq!(r.retry_after_secs, None);
        assert_eq!(r.summary(), "HTTP 500 api_error: Internal server error");
    }

    #[test]
    fn request_id_falls_back_to_headers() {
        let h = headers(&[("x-request-id", "req_openai")]);
        let r = classify(ProviderKind::Openai, 500, &h, b"{}", FAST, SLOW, at());
        assert_eq!(r.request_id.as_deref(), Some("req_openai"));
        let h = headers(&[("x-request-id", "second"), ("request-id", "first")]);
        let r = classify(ProviderKind::Anthropic, 502, &h, b"", FAST, SLOW, at());
        assert_eq!(r.request_id.as_deref(), Some("first"));
    }

    /// status, content type, body, expected error_type, expected message.
    type OutageCase = (
        u16,
        &'static str,
        &'static [u8],
        Option<&'static str>,
        Option<&'static str>,
    );

    #[test]
    fn every_5xx_and_proxy_page_is_an_outage() {
        let cases: [OutageCase; 7] = [
            (
                502,
                "text/html",
                b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
                None,
                Some("Bad Gateway"),
            ),
            (
                503,
                "text/plain",
                b"upstream connect error or disconnect/reset before headers. reset reason: connection termination",
                None,
                Some("upstream connect error or disconnect/reset before headers. reset reason: connection termination"),
            ),
            (503, "text/plain", b"no healthy upstream", None, Some("no healthy upstream")),
            (
                504,
                "application/json",
                br#"{"type":"error","error":{"type":"timeout_error","message":"Request timed out"}}"#,
                Some("timeout_error"),
                Some("Request timed out"),
            ),
            (
                503,
                "application/json",
                br#"{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}"#,
                Some("UNAVAILABLE"),
                Some("The model is overloaded. Please try again later."),
            ),
            (501, "", b"", None, None),
            (599, "", b"", None, None),
        ];
        for (status, ct, body, error_type, message) in cases {
            let r = classify(
                ProviderKind::Anthropic,
                status,
                &headers(&[("content-type", ct)]),
                body,
                FAST,
                SLOW,
                at(),
            );
            assert_eq!(r.class, ProbeClass::ServerError, "{status}");
            assert_eq!(r.http_status, Some(status));
            assert_eq!(r.error_type.as_deref(), error_type, "{status}");
            assert_eq!(r.message.as_deref(), message, "{status}");
        }
    }

    #[test]
    fn other_statuses_are_server_errors() {
        for status in [301, 405, 408, 409, 413, 418, 451] {
            let r = classify(
                ProviderKind::Anthropic,
                status,
                &HeaderMap::new(),
                b"",
                FAST,
                SLOW,
                at(),
            );
            assert_eq!(r.class, ProbeClass::ServerError, "{status}");
        }
        let h = headers(&[("location", "https://example.com/login")]);
        let r = classify(ProviderKind::Openai, 302, &h, b"", FAST, SLOW, at());
        assert_eq!(
            r.message.as_deref(),
            Some("redirected to https://example.com/login — check base_url")
        );
    }

    #[test]
    fn unreachable_has_no_status_and_keeps_the_cause() {
        for failure in [
            NetFailure::Timeout,
            NetFailure::Dns,
            NetFailure::Refused,
            NetFailure::Reset,
            NetFailure::Tls,
            NetFailure::Other,
        ] {
            let r = unreachable(
                failure,
                Some("Connection refused (os error 111)".into()),
                Duration::from_millis(3),
                at(),
            );
            assert_eq!(r.class, ProbeClass::Unreachable { failure });
            assert_eq!(r.class.state(), crate::model::State::Outage);
            assert_eq!(r.http_status, None);
            assert!(!r.ok);
            assert_eq!(r.latency_ms, Some(3));
            assert_eq!(r.message.as_deref(), Some("Connection refused (os error 111)"));
        }
        assert_eq!(unreachable(NetFailure::Dns, None, FAST, at()).message, None);
    }

    #[test]
    fn root_cause_is_the_innermost_error() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("error sending request")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused!",
        ));
        assert_eq!(root_cause(&e), "refused!");
    }
}
