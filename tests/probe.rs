//! Probes against fake providers on 127.0.0.1: every row of DESIGN's probe
//! classification table for every probed kind (anthropic, openai,
//! openai-compatible, gemini, ollama), with bodies and headers shaped like each
//! provider's (shared/reference/provider-formats.md); the exact request each kind
//! sends; and the transport failures (timeout, refused, reset, a stalled body)
//! from raw sockets.
//!
//! Every fake only answers the exact path, query and auth headers its kind must
//! send (anything else gets wiremock's 404), and every report is checked for the
//! key, so each row also tests the request and the redaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use serde_json::json;
use switchboard::config::{CheckConfig, Provider};
use switchboard::model::ProviderKind;
use switchboard::model::{NetFailure, ProbeClass, ProbeReport, QuotaKind, State};
use switchboard::probe::probe;
use switchboard::secrets::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The test key. Distinctive, so a leak anywhere in a report is unmistakable.
const KEY: &str = "sk-test-7f3a9c2e-DO-NOT-LEAK";
/// Generous `slow` for rows that must be `ok`: a loaded 2-core CI box must not
/// turn a loopback answer into "slow".
const RELAXED_SLOW: Duration = Duration::from_secs(2);
/// Small `slow` and a delay twice as long, for the "slower than slow_ms" row.
const SMALL_SLOW: Duration = Duration::from_millis(200);
const SLOW_DELAY: Duration = Duration::from_millis(400);
/// Short overall timeout for the timeout rows, and how long the fakes stall.
const SHORT_TIMEOUT: Duration = Duration::from_secs(1);
const STALL: Duration = Duration::from_secs(4);

/// The probed kinds, each with a `base_url` in its ecosystem's convention; some
/// carry a path prefix or a trailing slash, so joining is exercised everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum K {
    Anthropic,
    OpenAi,
    /// OpenRouter-shaped errors (`{"error":{"code":401,...}}`) behind a prefix.
    Compatible,
    Gemini,
    /// Behind a reverse proxy at `/ollama`.
    Ollama,
}

const ALL: [K; 5] = [K::Anthropic, K::OpenAi, K::Compatible, K::Gemini, K::Ollama];

impl K {
    fn kind(self) -> ProviderKind {
        match self {
            K::Anthropic => ProviderKind::Anthropic,
            K::OpenAi => ProviderKind::Openai,
            K::Compatible => ProviderKind::OpenaiCompatible,
            K::Gemini => ProviderKind::Gemini,
            K::Ollama => ProviderKind::Ollama,
        }
    }

    /// Path part of `base_url` (as a user would paste it).
    fn base_path(self) -> &'static str {
        match self {
            K::Anthropic | K::Gemini => "",
            K::OpenAi => "/v1",
            K::Compatible => "/compat/v1/",
            K::Ollama => "/ollama",
        }
    }

    /// The path the fake must see.
    fn probe_path(self) -> &'static str {
        match self {
            K::Anthropic => "/v1/models",
            K::OpenAi => "/v1/models",
            K::Compatible => "/compat/v1/models",
            K::Gemini => "/v1beta/models",
            K::Ollama => "/ollama/api/tags",
        }
    }

    fn query(self) -> Option<(&'static str, &'static str)> {
        match self {
            K::Anthropic => Some(("limit", "1")),
            K::Gemini => Some(("pageSize", "1")),
            _ => None,
        }
    }

    /// The header that must carry the key (Ollama has none).
    fn auth(self) -> Option<(&'static str, String)> {
        match self {
            K::Anthropic => Some(("x-api-key", KEY.to_string())),
            K::OpenAi | K::Compatible => Some(("authorization", format!("Bearer {KEY}"))),
            K::Gemini => Some(("x-goog-api-key", KEY.to_string())),
            K::Ollama => None,
        }
    }

    fn provider(self, origin: &str) -> Provider {
        provider(
            self.kind(),
            &format!("{origin}{}", self.base_path()),
            self != K::Ollama,
        )
    }

    fn success_body(self) -> serde_json::Value {
        match self {
            K::Anthropic => json!({
                "data": [{"id": "claude-sonnet-4-5-20250929", "type": "model",
                          "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"}],
                "has_more": true, "first_id": "claude-sonnet-4-5-20250929",
                "last_id": "claude-sonnet-4-5-20250929"
            }),
            K::OpenAi | K::Compatible => json!({
                "object": "list",
                "data": [{"id": "gpt-4.1", "object": "model", "created": 1744316542, "owned_by": "system"}]
            }),
            K::Gemini => json!({
                "models": [{"name": "models/gemini-2.5-flash", "version": "001",
                            "displayName": "Gemini 2.5 Flash", "inputTokenLimit": 1048576,
                            "outputTokenLimit": 65536,
                            "supportedGenerationMethods": ["generateContent", "countTokens"]}],
                "nextPageToken": "Chxtb2RlbHMvZ2VtaW5pLTIuNS1mbGFzaA=="
            }),
            K::Ollama => json!({
                "models": [{"name": "llama3.2:latest", "model": "llama3.2:latest",
                            "modified_at": "2025-10-01T10:00:00.000000+02:00", "size": 2019393189u64,
                            "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
                            "details": {"parent_model": "", "format": "gguf", "family": "llama",
                                        "families": ["llama"], "parameter_size": "3.2B",
                                        "quantization_level": "Q4_K_M"}}]
            }),
        }
    }
}

fn provider(kind: ProviderKind, base_url: &str, keyed: bool) -> Provider {
    Provider {
        id: format!("test-{kind:?}").to_lowercase(),
        kind,
        name: format!("{kind:?} under test"),
        base_url: Some(Url::parse(base_url).expect("test base_url")),
        status_page: None,
        components: Vec::new(),
        api_key_env: keyed.then(|| "SWITCHBOARD_TEST_KEY".to_string()),
        model: None,
        enabled: true,
        cloud: Default::default(),
        failover_on_quota: true,
        models: Vec::new(),
        prices: Default::default(),
    }
}

fn check(timeout: Duration, slow: Duration) -> CheckConfig {
    CheckConfig {
        timeout,
        slow,
        ..CheckConfig::default()
    }
}

fn started_at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .expect("fixed timestamp")
        .with_timezone(&Utc)
}

/// A fake for `k` that answers `response` only to the exact request `k` must
/// send, exactly once (checked when the server drops).
async fn fake(k: K, response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    let mut mock = Mock::given(method("GET")).and(path(k.probe_path()));
    if let Some((name, value)) = k.query() {
        mock = mock.and(query_param(name, value));
    }
    if let Some((name, value)) = k.auth() {
        mock = mock.and(header(name, value.as_str()));
    }
    if k == K::Anthropic {
        mock = mock.and(header("anthropic-version", "2023-06-01"));
    }
    mock.respond_with(response).expect(1).mount(&server).await;
    server
}

/// Probes `p` with the test key and checks what every report must satisfy.
async fn run_provider(p: &Provider, check: &CheckConfig) -> ProbeReport {
    let client = switchboard::http::client().expect("client");
    let key = Secret::new(KEY);
    let report = probe(&client, p, Some(&key), check, started_at())
        .await
        .expect("a keyed probe of a probed kind always reports");
    assert_no_key(&report);
    assert_eq!(report.at, started_at(), "`at` is when the probe started");
    assert_eq!(
        report.ok,
        report.class == ProbeClass::Ok,
        "ok iff class ok: {report:?}"
    );
    report
}

async fn run(k: K, server: &MockServer, check: &CheckConfig) -> ProbeReport {
    run_provider(&k.provider(&server.uri()), check).await
}

fn assert_no_key(report: &ProbeReport) {
    let debug = format!("{report:?}");
    let json = serde_json::to_string(report).expect("report serializes");
    assert!(!debug.contains(KEY), "key in Debug: {debug}");
    assert!(!json.contains(KEY), "key in JSON: {json}");
    assert!(!report.summary().contains(KEY), "key in summary");
}

fn json_response(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/json")
}

/// What one row expects for one kind.
#[derive(Debug)]
struct Expect {
    class: ProbeClass,
    status: Option<u16>,
    error_type: Option<&'static str>,
    message: Option<&'static str>,
    request_id: Option<&'static str>,
    retry_after: Option<u64>,
}

impl Expect {
    fn http(class: ProbeClass, status: u16, error_type: Option<&'static str>, message: &'static str) -> Self {
        Expect {
            class,
            status: Some(status),
            error_type,
            message: Some(message),
            request_id: None,
            retry_after: None,
        }
    }

    fn request_id(self, id: &'static str) -> Self {
        Expect {
            request_id: Some(id),
            ..self
        }
    }

    fn retry_after(self, secs: u64) -> Self {
        Expect {
            retry_after: Some(secs),
            ..self
        }
    }

    fn assert(&self, k: K, r: &ProbeReport) {
        assert_eq!(r.class, self.class, "{k:?} class: {r:?}");
        assert_eq!(r.http_status, self.status, "{k:?} http_status: {r:?}");
        assert_eq!(
            r.error_type.as_deref(),
            self.error_type,
            "{k:?} error_type: {r:?}"
        );
        assert_eq!(r.message.as_deref(), self.message, "{k:?} message: {r:?}");
        assert_eq!(
            r.request_id.as_deref(),
            self.request_id,
            "{k:?} request_id: {r:?}"
        );
        assert_eq!(r.retry_after_secs, self.retry_after, "{k:?} retry_after: {r:?}");
    }
}

/// Runs one row: for each kind, its response and its expectation, concurrently.
async fn row(cases: Vec<(K, ResponseTemplate, Expect)>, check: CheckConfig) {
    let kinds: Vec<K> = cases.iter().map(|(k, _, _)| *k).collect();
    assert_eq!(kinds, ALL, "a row covers every kind, in order");
    join_all(cases.into_iter().map(|(k, response, expect)| {
        let check = check.clone();
        async move {
            let server = fake(k, response).await;
            let report = run(k, &server, &check).await;
            expect.assert(k, &report);
            report
        }
    }))
    .await;
}

fn quick() -> CheckConfig {
    check(Duration::from_secs(10), RELAXED_SLOW)
}

// ---------------------------------------------------------------------------
// 2xx

#[tokio::test]
async fn http_200_within_slow_is_operational_for_every_kind() {
    for k in ALL {
        let server = fake(
            k,
            json_response(200, k.success_body()).insert_header("x-request-id", "req_ok"),
        )
        .await;
        let r = run(k, &server, &quick()).await;
        assert_eq!(r.class, ProbeClass::Ok, "{k:?}: {r:?}");
        assert_eq!(r.class.state(), State::Operational);
        assert!(r.ok);
        assert_eq!(r.http_status, Some(200));
        assert_eq!(
            (r.error_type.as_deref(), r.message.as_deref()),
            (None, None),
            "{k:?}"
        );
        assert_eq!(r.request_id.as_deref(), Some("req_ok"), "{k:?}");
        assert!(
            r.latency_ms.unwrap() < RELAXED_SLOW.as_millis() as u64,
            "{k:?}: {r:?}"
        );
    }
}

#[tokio::test]
async fn http_200_slower_than_slow_is_degraded_for_every_kind() {
    let check = check(Duration::from_secs(10), SMALL_SLOW);
    let reports = join_all(ALL.map(|k| {
        let check = check.clone();
        async move {
            let response = json_response(200, k.success_body()).set_delay(SLOW_DELAY);
            let server = fake(k, response).await;
            (k, run(k, &server, &check).await)
        }
    }))
    .await;
    for (k, r) in reports {
        assert_eq!(r.class, ProbeClass::Slow, "{k:?}: {r:?}");
        assert_eq!(r.class.state(), State::Degraded);
        assert!(!r.ok);
        assert_eq!(r.http_status, Some(200));
        assert!(
            r.latency_ms.unwrap() >= SLOW_DELAY.as_millis() as u64,
            "{k:?}: {r:?}"
        );
        assert_eq!(
            r.summary(),
            format!("slow: answered in {} ms", r.latency_ms.unwrap())
        );
    }
}

// ---------------------------------------------------------------------------
// 401 / 402 / 403 / Gemini 400: the user's key or account

fn anthropic_error(kind: &str, message: &str) -> serde_json::Value {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CAuth"})
}

fn openai_error(kind: &str, code: Option<&str>, message: &str) -> serde_json::Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

fn openrouter_error(code: u16, message: &str) -> serde_json::Value {
    json!({"error": {"code": code, "message": message}})
}

fn gemini_error(code: u16, status: &str, message: &str, details: serde_json::Value) -> serde_json::Value {
    json!({"error": {"code": code, "message": message, "status": status, "details": details}})
}

fn ollama_error(message: &str) -> serde_json::Value {
    json!({"error": message})
}

#[tokio::test]
async fn http_401_is_auth_error_for_every_kind() {
    let auth = |status, t, m| Expect::http(ProbeClass::Auth, status, t, m);
    row(
        vec![
            (
                K::Anthropic,
                json_response(401, anthropic_error("authentication_error", "invalid x-api-key")),
                auth(401, Some("authentication_error"), "invalid x-api-key").request_id("req_011CAuth"),
            ),
            (
                K::OpenAi,
                json_response(
                    401,
                    openai_error(
                        "invalid_request_error",
                        Some("invalid_api_key"),
                        "Incorrect API key provided: sk-test-****LEAK. You can find your API key at https://platform.openai.com/account/api-keys.",
                    ),
                )
                .insert_header("x-request-id", "req_5c1f0e"),
                auth(
                    401,
                    Some("invalid_api_key"),
                    "Incorrect API key provided: sk-test-****LEAK. You can find your API key at https://platform.openai.com/account/api-keys.",
                )
                .request_id("req_5c1f0e"),
            ),
            (
                K::Compatible,
                json_response(401, openrouter_error(401, "No auth credentials found")),
                auth(401, None, "No auth credentials found"),
            ),
            (
                K::Gemini,
                json_response(
                    401,
                    gemini_error(
                        401,
                        "UNAUTHENTICATED",
                        "Request had invalid authentication credentials.",
                        json!([]),
                    ),
                ),
                auth(401, Some("UNAUTHENTICATED"), "Request had invalid authentication credentials."),
            ),
            (
                K::Ollama,
                json_response(401, ollama_error("unauthorized")),
                auth(401, None, "unauthorized"),
            ),
        ],
        quick(),
    )
    .await;
}

#[tokio::test]
async fn http_402_is_auth_error_for_every_kind() {
    let auth = |t, m| Expect::http(ProbeClass::Auth, 402, t, m);
    row(
        vec![
            (
                K::Anthropic,
                json_response(
                    402,
                    anthropic_error(
                        "billing_error",
                        "Your credit balance is too low to access the API.",
                    ),
                ),
                auth(
                    Some("billing_error"),
                    "Your credit balance is too low to access the API.",
                )
                .request_id("req_011CAuth"),
            ),
            (
                K::OpenAi,
                json_response(
                    402,
                    openai_error(
                        "invalid_request_error",
                        Some("billing_hard_limit_reached"),
                        "Billing hard limit has been reached",
                    ),
                ),
                auth(
                    Some("billing_hard_limit_reached"),
                    "Billing hard limit has been reached",
                ),
            ),
            (
                K::Compatible,
                json_response(
                    402,
                    openrouter_error(
                        402,
                        "Insufficient credits. Add more using https://openrouter.ai/credits",
                    ),
                ),
                auth(
                    None,
                    "Insufficient credits. Add more using https://openrouter.ai/credits",
                ),
            ),
            (
                K::Gemini,
                json_response(
                    402,
                    gemini_error(402, "FAILED_PRECONDITION", "Billing is not enabled.", json!([])),
                ),
                auth(Some("FAILED_PRECONDITION"), "Billing is not enabled."),
            ),
            (
                K::Ollama,
                json_response(402, ollama_error("payment required")),
                auth(None, "payment required"),
            ),
        ],
        quick(),
    )
    .await;
}

#[tokio::test]
async fn http_403_is_auth_error_for_every_kind() {
    let auth = |t, m| Expect::http(ProbeClass::Auth, 403, t, m);
    row(
        vec![
            (
                K::Anthropic,
                json_response(
                    403,
                    anthropic_error("permission_error", "Your API key does not have permission to use the specified resource."),
                ),
                auth(
                    Some("permission_error"),
                    "Your API key does not have permission to use the specified resource.",
                )
                .request_id("req_011CAuth"),
            ),
            (
                K::OpenAi,
                json_response(
                    403,
                    openai_error(
                        "request_forbidden",
                        Some("unsupported_country_region_territory"),
                        "Country, region, or territory not supported",
                    ),
                ),
                auth(
                    Some("unsupported_country_region_territory"),
                    "Country, region, or territory not supported",
                ),
            ),
            (
                K::Compatible,
                json_response(403, openrouter_error(403, "Key is disabled")),
                auth(None, "Key is disabled"),
            ),
            (
                K::Gemini,
                json_response(
                    403,
                    gemini_error(
                        403,
                        "PERMISSION_DENIED",
                        "Requests to this API generativelanguage.googleapis.com method google.ai.generativelanguage.v1beta.ModelService.ListModels are blocked.",
                        json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                "reason": "API_KEY_SERVICE_BLOCKED", "domain": "googleapis.com"}]),
                    ),
                ),
                auth(
                    Some("API_KEY_SERVICE_BLOCKED"),
                    "Requests to this API generativelanguage.googleapis.com method google.ai.generativelanguage.v1beta.ModelService.ListModels are blocked.",
                ),
            ),
            (
                K::Ollama,
                ResponseTemplate::new(403).set_body_raw("Forbidden", "text/plain"),
                auth(None, "Forbidden"),
            ),
        ],
        quick(),
    )
    .await;
}

#[tokio::test]
async fn gemini_400_api_key_invalid_is_auth_error_not_a_bad_request() {
    let with_reason = gemini_error(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"}}]),
    );
    let message_only = json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
                                        "message": "API key not valid. Please pass a valid API key."}});
    for body in [with_reason, message_only] {
        let server = fake(K::Gemini, json_response(400, body)).await;
        let r = run(K::Gemini, &server, &quick()).await;
        Expect::http(
            ProbeClass::Auth,
            400,
            Some("API_KEY_INVALID"),
            "API key not valid. Please pass a valid API key.",
        )
        .assert(K::Gemini, &r);
        assert_eq!(r.class.state(), State::AuthError);
    }
    let billing = gemini_error(
        400,
        "FAILED_PRECONDITION",
        "User location is not supported for the API use.",
        json!([]),
    );
    let server = fake(K::Gemini, json_response(400, billing)).await;
    let r = run(K::Gemini, &server, &quick()).await;
    assert_eq!(r.class, ProbeClass::Auth);
    assert_eq!(r.error_type.as_deref(), Some("FAILED_PRECONDITION"));
}

// ---------------------------------------------------------------------------
// 429: rate limits and quotas

fn limited(secs: Option<u64>, quota: QuotaKind) -> ProbeClass {
    ProbeClass::RateLimited {
        retry_after_secs: secs,
        quota,
    }
}

#[tokio::test]
async fn http_429_is_rate_limited_with_retry_after_for_every_kind() {
    row(
        vec![
            (
                K::Anthropic,
                json_response(
                    429,
                    json!({"type": "error", "error": {"type": "rate_limit_error",
                           "message": "Number of request tokens has exceeded your per-minute rate limit"}}),
                )
                .insert_header("retry-after", "17")
                .insert_header("request-id", "req_011CRate")
                .insert_header("anthropic-ratelimit-requests-remaining", "0"),
                Expect::http(
                    limited(Some(17), QuotaKind::RateLimit),
                    429,
                    Some("rate_limit_error"),
                    "Number of request tokens has exceeded your per-minute rate limit",
                )
                .request_id("req_011CRate")
                .retry_after(17),
            ),
            (
                K::OpenAi,
                json_response(
                    429,
                    openai_error(
                        "requests",
                        Some("rate_limit_exceeded"),
                        "Rate limit reached for gpt-4.1 on requests per min (RPM): Limit 3, Used 3, Requested 1.",
                    ),
                )
                .insert_header("retry-after", "20")
                .insert_header("x-ratelimit-reset-requests", "20s"),
                Expect::http(
                    limited(Some(20), QuotaKind::RateLimit),
                    429,
                    Some("rate_limit_exceeded"),
                    "Rate limit reached for gpt-4.1 on requests per min (RPM): Limit 3, Used 3, Requested 1.",
                )
                .retry_after(20),
            ),
            (
                K::Compatible,
                json_response(429, openrouter_error(429, "Rate limit exceeded: limit_rpm/google/gemini-2.5-pro"))
                    .insert_header("Retry-After", "8"),
                Expect::http(
                    limited(Some(8), QuotaKind::RateLimit),
                    429,
                    None,
                    "Rate limit exceeded: limit_rpm/google/gemini-2.5-pro",
                )
                .retry_after(8),
            ),
            (
                K::Gemini,
                json_response(
                    429,
                    gemini_error(
                        429,
                        "RESOURCE_EXHAUSTED",
                        "You exceeded your current quota, please check your plan and billing details.",
                        json!([
                            {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                             "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                                             "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
                            {"@type": "type.googleapis.com/google.rpc.Help",
                             "links": [{"description": "Learn more", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
                            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "41s"}
                        ]),
                    ),
                ),
                Expect::http(
                    limited(Some(41), QuotaKind::ResourceExhausted),
                    429,
                    Some("RESOURCE_EXHAUSTED"),
                    "You exceeded your current quota, please check your plan and billing details.",
                )
                .retry_after(41),
            ),
            (
                K::Ollama,
                json_response(429, ollama_error("too many requests")).insert_header("retry-after-ms", "2500"),
                Expect::http(limited(Some(3), QuotaKind::RateLimit), 429, None, "too many requests")
                    .retry_after(3),
            ),
        ],
        quick(),
    )
    .await;
}

#[tokio::test]
async fn openai_insufficient_quota_is_not_an_ordinary_rate_limit() {
    for k in [K::OpenAi, K::Compatible] {
        let body = openai_error(
            "insufficient_quota",
            Some("insufficient_quota"),
            "You exceeded your current quota, please check your plan and billing details.",
        );
        let server = fake(k, json_response(429, body)).await;
        let r = run(k, &server, &quick()).await;
        Expect::http(
            limited(None, QuotaKind::InsufficientQuota),
            429,
            Some("insufficient_quota"),
            "You exceeded your current quota, please check your plan and billing details.",
        )
        .assert(k, &r);
        assert_eq!(r.class.state(), State::RateLimited);
    }
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_measured_from_the_servers_clock() {
    let body = anthropic_error("rate_limit_error", "rate limited");
    let response = json_response(429, body)
        .insert_header("date", "Sun, 01 Mar 2026 12:00:00 GMT")
        .insert_header("retry-after", "Sun, 01 Mar 2026 12:01:30 GMT");
    let server = fake(K::Anthropic, response).await;
    let r = run(K::Anthropic, &server, &quick()).await;
    assert_eq!(r.class, limited(Some(90), QuotaKind::RateLimit));
    assert_eq!(r.retry_after_secs, Some(90));
}

// ---------------------------------------------------------------------------
// 529: overloaded (degraded, not an outage)

#[tokio::test]
async fn http_529_overloaded_is_degraded_for_every_kind() {
    let over = |t, m| Expect::http(ProbeClass::Overloaded, 529, t, m);
    row(
        vec![
            (
                K::Anthropic,
                json_response(
                    529,
                    json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"},
                           "request_id": "req_011COver"}),
                )
                .insert_header("request-id", "req_011COver")
                .insert_header("x-should-retry", "true"),
                over(Some("overloaded_error"), "Overloaded").request_id("req_011COver"),
            ),
            (
                K::OpenAi,
                json_response(
                    529,
                    openai_error(
                        "server_error",
                        Some("server_is_overloaded"),
                        "The server is overloaded",
                    ),
                ),
                over(Some("server_is_overloaded"), "The server is overloaded"),
            ),
            (
                K::Compatible,
                json_response(529, openrouter_error(529, "Provider returned error: overloaded"))
                    .insert_header("retry-after", "5"),
                over(None, "Provider returned error: overloaded").retry_after(5),
            ),
            (
                K::Gemini,
                json_response(
                    529,
                    gemini_error(
                        529,
                        "UNAVAILABLE",
                        "The model is overloaded. Please try again later.",
                        json!([]),
                    ),
                ),
                over(
                    Some("UNAVAILABLE"),
                    "The model is overloaded. Please try again later.",
                ),
            ),
            (
                K::Ollama,
                json_response(
                    529,
                    ollama_error("server busy, please try again.  maximum pending requests exceeded"),
                ),
                over(
                    None,
                    "server busy, please try again. maximum pending requests exceeded",
                ),
            ),
        ],
        quick(),
    )
    .await;
    assert_eq!(ProbeClass::Overloaded.state(), State::Degraded);
}

// ---------------------------------------------------------------------------
// 5xx: outage, whatever the body format

#[tokio::test]
async fn http_500_is_an_outage_with_request_ids_for_every_kind() {
    let outage = |t, m| Expect::http(ProbeClass::ServerError, 500, t, m);
    row(
        vec![
            (
                K::Anthropic,
                json_response(
                    500,
                    json!({"type": "error", "error": {"type": "api_error", "message": "Internal server error"},
                           "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}),
                )
                .insert_header("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy"),
                outage(Some("api_error"), "Internal server error").request_id("req_011CSHoEeqs5C35K2UUqR7Fy"),
            ),
            (
                K::OpenAi,
                json_response(
                    500,
                    openai_error(
                        "server_error",
                        None,
                        "The server had an error while processing your request. Sorry about that!",
                    ),
                )
                .insert_header("x-request-id", "req_9a8b7c"),
                outage(
                    Some("server_error"),
                    "The server had an error while processing your request. Sorry about that!",
                )
                .request_id("req_9a8b7c"),
            ),
            (
                K::Compatible,
                json_response(500, openrouter_error(500, "Internal Server Error"))
                    .insert_header("x-request-id", "gen-1759-abc"),
                outage(None, "Internal Server Error").request_id("gen-1759-abc"),
            ),
            (
                K::Gemini,
                json_response(
                    500,
                    gemini_error(
                        500,
                        "INTERNAL",
                        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
                        json!([]),
                    ),
                ),
                outage(
                    Some("INTERNAL"),
                    "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
                ),
            ),
            (
                K::Ollama,
                json_response(500, ollama_error("llama runner process has terminated: exit status 2")),
                outage(None, "llama runner process has terminated: exit status 2"),
            ),
        ],
        quick(),
    )
    .await;
    assert_eq!(ProbeClass::ServerError.state(), State::Outage);
}

/// A CDN or reverse proxy in front of any provider answers with its own HTML page.
#[tokio::test]
async fn http_502_proxy_html_is_an_outage_with_a_readable_message_for_every_kind() {
    let nginx = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    let cloudflare = "<!DOCTYPE html>\n<!--[if lt IE 7]> <html class=\"no-js ie6 oldie\" lang=\"en-US\"> <![endif]-->\n<html lang=\"en-US\"><head><title>api.example.com | 502: Bad gateway</title><meta charset=\"UTF-8\" /></head><body><div id=\"cf-wrapper\"><h1>Bad gateway <span>Error code 502</span></h1></div></body></html>";
    let html = |page: &str| ResponseTemplate::new(502).set_body_raw(page.to_string(), "text/html");
    let outage = |m| Expect::http(ProbeClass::ServerError, 502, None, m);
    row(
        vec![
            (
                K::Anthropic,
                html(cloudflare).insert_header("cf-ray", "8f1e2d3c4b5a6978-FRA"),
                outage("Bad gateway"),
            ),
            (K::OpenAi, html(cloudflare), outage("Bad gateway")),
            (K::Compatible, html(nginx), outage("Bad Gateway")),
            (K::Gemini, html(nginx), outage("Bad Gateway")),
            (K::Ollama, html(nginx), outage("Bad Gateway")),
        ],
        quick(),
    )
    .await;
}

#[tokio::test]
async fn http_503_plain_text_is_an_outage_for_every_kind() {
    let envoy =
        "upstream connect error or disconnect/reset before headers. reset reason: connection termination";
    let text = |body: &str| ResponseTemplate::new(503).set_body_raw(body.to_string(), "text/plain");
    let outage = |m| Expect::http(ProbeClass::ServerError, 503, None, m);
    row(
        vec![
            (K::Anthropic, text(envoy), outage(envoy)),
            (
                K::OpenAi,
                text("no healthy upstream"),
                outage("no healthy upstream"),
            ),
            (K::Compatible, text(envoy), outage(envoy)),
            (
                K::Gemini,
                text("Service Unavailable\n"),
                outage("Service Unavailable"),
            ),
            (K::Ollama, text(envoy), outage(envoy)),
        ],
        quick(),
    )
    .await;
}

#[tokio::test]
async fn plain_text_bodies_are_truncated_to_a_sane_length() {
    let huge = format!("upstream error: {}", "x".repeat(10_000));
    let response = ResponseTemplate::new(503).set_body_raw(huge, "text/plain");
    let server = fake(K::Anthropic, response).await;
    let r = run(K::Anthropic, &server, &quick()).await;
    let message = r.message.expect("a message");
    assert!(message.starts_with("upstream error: xxx"), "{message}");
    assert!(message.ends_with('…'), "{message}");
    assert!(
        message.chars().count() <= 301,
        "{} chars",
        message.chars().count()
    );
}

#[tokio::test]
async fn http_504_timeout_error_is_an_outage_for_every_kind() {
    let outage = |t, m| Expect::http(ProbeClass::ServerError, 504, t, m);
    row(
        vec![
            (
                K::Anthropic,
                json_response(504, anthropic_error("timeout_error", "Request timed out")),
                outage(Some("timeout_error"), "Request timed out").request_id("req_011CAuth"),
            ),
            (
                K::OpenAi,
                ResponseTemplate::new(504).set_body_raw(
                    "<html><head><title>504 Gateway Time-out</title></head><body></body></html>",
                    "text/html",
                ),
                outage(None, "Gateway Time-out"),
            ),
            (
                K::Compatible,
                json_response(504, openrouter_error(504, "Upstream timed out")),
                outage(None, "Upstream timed out"),
            ),
            (
                K::Gemini,
                json_response(
                    504,
                    gemini_error(
                        504,
                        "DEADLINE_EXCEEDED",
                        "Deadline expired before operation could complete.",
                        json!([]),
                    ),
                ),
                outage(
                    Some("DEADLINE_EXCEEDED"),
                    "Deadline expired before operation could complete.",
                ),
            ),
            (
                K::Ollama,
                ResponseTemplate::new(504).set_body_raw("Gateway Timeout", "text/plain"),
                outage(None, "Gateway Timeout"),
            ),
        ],
        quick(),
    )
    .await;
}

/// The seed scenario at unit level: Anthropic thinks for a while, then fails
/// with a 500 api_error. The lead's CLI test runs the full 12 s version.
#[tokio::test]
async fn seed_anthropic_500_after_a_delay_is_an_outage_with_its_request_id() {
    let delay = Duration::from_millis(1200);
    let response = json_response(
        500,
        json!({"type": "error", "error": {"type": "api_error", "message": "Internal server error"},
               "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}),
    )
    .insert_header("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy")
    .set_delay(delay);
    let server = fake(K::Anthropic, response).await;
    let r = run(K::Anthropic, &server, &CheckConfig::default()).await;
    Expect::http(
        ProbeClass::ServerError,
        500,
        Some("api_error"),
        "Internal server error",
    )
    .request_id("req_011CSHoEeqs5C35K2UUqR7Fy")
    .assert(K::Anthropic, &r);
    assert_eq!(r.class.state(), State::Outage);
    assert!(!r.ok);
    assert!(
        r.latency_ms >= Some(1200),
        "latency covers the wait: {:?} ms",
        r.latency_ms
    );
    assert!(r.latency_ms.unwrap() < 10_000, "{:?} ms", r.latency_ms);
    assert_eq!(r.summary(), "HTTP 500 api_error: Internal server error");
}

// ---------------------------------------------------------------------------
// Other statuses

#[tokio::test]
async fn a_base_url_missing_v1_gives_a_not_found_outage_with_a_hint() {
    // The fake serves /v1/models, but the user pasted the origin without /v1.
    let server = fake(K::OpenAi, json_response(200, K::OpenAi.success_body())).await;
    let wrong = provider(ProviderKind::Openai, &server.uri(), true);
    let r = run_provider(&wrong, &quick()).await;
    assert_eq!(r.class, ProbeClass::ServerError);
    assert_eq!(r.http_status, Some(404));
    assert_eq!(
        r.message.as_deref(),
        Some("endpoint not found — check base_url (OpenAI-style base URLs usually end in /v1)")
    );
    // Satisfy the fake's expect(1) with the right URL.
    let right = run(K::OpenAi, &server, &quick()).await;
    assert_eq!(right.class, ProbeClass::Ok);
}

#[tokio::test]
async fn a_web_page_instead_of_the_api_is_not_operational() {
    let page = "<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body></body></html>";
    let server = fake(
        K::Compatible,
        ResponseTemplate::new(200).set_body_raw(page, "text/html"),
    )
    .await;
    let r = run(K::Compatible, &server, &quick()).await;
    assert_eq!(r.class, ProbeClass::ServerError);
    assert_eq!(r.http_status, Some(200));
    assert_eq!(
        r.message.as_deref(),
        Some("answered with a web page (Welcome to nginx!), not the API — check base_url")
    );
}

#[tokio::test]
async fn an_oversized_success_body_is_read_up_to_the_cap_and_still_ok() {
    let big = format!(
        "{{\"object\":\"list\",\"data\":[{}]}}",
        vec![r#"{"id":"m","object":"model"}"#; 120_000].join(",")
    );
    assert!(big.len() > 2 * switchboard::probe::MAX_BODY_BYTES);
    let server = fake(
        K::OpenAi,
        ResponseTemplate::new(200).set_body_raw(big, "application/json"),
    )
    .await;
    let r = run(
        K::OpenAi,
        &server,
        &check(Duration::from_secs(10), Duration::from_secs(5)),
    )
    .await;
    assert_eq!(r.class, ProbeClass::Ok, "{r:?}");
}

// ---------------------------------------------------------------------------
// No HTTP answer: timeout, refused, reset, stalled body

#[tokio::test]
async fn a_server_slower_than_the_timeout_is_unreachable_timeout_for_every_kind() {
    let check = check(SHORT_TIMEOUT, SMALL_SLOW);
    let reports = join_all(ALL.map(|k| {
        let check = check.clone();
        async move {
            let server = fake(k, json_response(200, k.success_body()).set_delay(STALL)).await;
            let r = run(k, &server, &check).await;
            (k, r)
        }
    }))
    .await;
    for (k, r) in reports {
        assert_eq!(
            r.class,
            ProbeClass::Unreachable {
                failure: NetFailure::Timeout
            },
            "{k:?}: {r:?}"
        );
        assert_eq!(r.class.state(), State::Outage);
        assert_eq!(r.http_status, None, "{k:?}");
        assert_eq!(r.message.as_deref(), Some("no complete answer within 1 s"));
        assert!(
            (1000..STALL.as_millis() as u64).contains(&r.latency_ms.unwrap()),
            "{k:?}: {:?} ms",
            r.latency_ms
        );
        assert_eq!(r.summary(), "timed out: no complete answer within 1 s");
    }
}

/// A port that was just bound and released: nothing listens there.
async fn closed_port_origin() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

#[tokio::test]
async fn connection_refused_is_unreachable_for_every_kind() {
    for k in ALL {
        let origin = closed_port_origin().await;
        let r = run_provider(&k.provider(&origin), &quick()).await;
        assert_eq!(
            r.class,
            ProbeClass::Unreachable {
                failure: NetFailure::Refused
            },
            "{k:?}: {r:?}"
        );
        assert_eq!(r.http_status, None);
        assert!(r.class.is_unreachable());
        let message = r.message.as_deref().unwrap_or_default().to_lowercase();
        assert!(message.contains("refused"), "{k:?}: {message}");
    }
}

/// A server that reads the request, then resets the connection (RST, not FIN).
async fn resetting_origin() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.set_zero_linger();
            drop(socket);
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn connection_reset_is_unreachable_for_every_kind() {
    for k in ALL {
        let origin = resetting_origin().await;
        let r = run_provider(&k.provider(&origin), &quick()).await;
        assert_eq!(
            r.class,
            ProbeClass::Unreachable {
                failure: NetFailure::Reset
            },
            "{k:?}: {r:?}"
        );
        assert_eq!(r.http_status, None);
        assert!(r.message.is_some(), "{k:?}: the cause is kept");
    }
}

/// A server that sends 200 headers and half a body, then goes silent.
async fn stalling_origin() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"data\":[";
                let _ = socket.write_all(head.as_bytes()).await;
                tokio::time::sleep(STALL).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_success_whose_body_stalls_past_the_timeout_is_unreachable() {
    let origin = stalling_origin().await;
    let r = run_provider(&K::Anthropic.provider(&origin), &check(SHORT_TIMEOUT, SMALL_SLOW)).await;
    assert_eq!(
        r.class,
        ProbeClass::Unreachable {
            failure: NetFailure::Timeout
        }
    );
    assert_eq!(r.http_status, None);
    assert_eq!(
        r.message.as_deref(),
        Some("no complete answer within 1 s (while reading the HTTP 200 body)")
    );
    assert!(r.latency_ms.unwrap() >= 1000, "{:?} ms", r.latency_ms);
}

// ---------------------------------------------------------------------------
// The request itself

#[tokio::test]
async fn each_kind_sends_its_path_query_and_auth_headers_and_nothing_else() {
    for k in ALL {
        let server = fake(k, json_response(200, k.success_body())).await;
        let r = run(k, &server, &quick()).await;
        assert_eq!(r.class, ProbeClass::Ok, "{k:?}: {r:?}");
        let requests = server.received_requests().await.expect("recording on");
        assert_eq!(requests.len(), 1, "{k:?}");
        let req = &requests[0];
        assert_eq!(req.method.as_str(), "GET");
        assert_eq!(req.url.path(), k.probe_path(), "{k:?}");
        let expected_query = k.query().map(|(n, v)| format!("{n}={v}"));
        assert_eq!(req.url.query().map(str::to_string), expected_query, "{k:?}");
        assert!(!req.url.as_str().contains(KEY), "{k:?}: key in the URL");
        let h = |name: &str| {
            req.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        match k {
            K::Anthropic => {
                assert_eq!(h("x-api-key").as_deref(), Some(KEY));
                assert_eq!(h("anthropic-version").as_deref(), Some("2023-06-01"));
                assert_eq!(h("authorization"), None);
            }
            K::OpenAi | K::Compatible => {
                assert_eq!(h("authorization"), Some(format!("Bearer {KEY}")));
                assert_eq!(h("x-api-key"), None);
            }
            K::Gemini => {
                assert_eq!(h("x-goog-api-key").as_deref(), Some(KEY));
                assert_eq!(h("authorization"), None);
            }
            K::Ollama => {
                for name in ["authorization", "x-api-key", "x-goog-api-key"] {
                    assert_eq!(h(name), None, "Ollama gets no credential ({name})");
                }
            }
        }
        let ua = h("user-agent").unwrap_or_default();
        assert!(ua.starts_with("Switchboard/"), "{k:?}: {ua}");
    }
}

#[tokio::test]
async fn a_base_url_path_prefix_is_kept_with_or_without_a_trailing_slash() {
    for suffix in ["/prefix", "/prefix/"] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/prefix/v1/models"))
            .and(query_param("limit", "1"))
            .and(header("x-api-key", KEY))
            .respond_with(json_response(200, K::Anthropic.success_body()))
            .expect(1)
            .mount(&server)
            .await;
        let p = provider(
            ProviderKind::Anthropic,
            &format!("{}{suffix}", server.uri()),
            true,
        );
        let r = run_provider(&p, &quick()).await;
        assert_eq!(r.class, ProbeClass::Ok, "{suffix}: {r:?}");
    }
}

#[tokio::test]
async fn a_keyless_openai_compatible_server_is_probed_without_authorization() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(json_response(200, K::OpenAi.success_body()))
        .expect(1)
        .mount(&server)
        .await;
    let local = provider(
        ProviderKind::OpenaiCompatible,
        &format!("{}/v1", server.uri()),
        false,
    );
    assert!(!local.needs_key());
    let client = switchboard::http::client().expect("client");
    let r = probe(&client, &local, None, &quick(), started_at())
        .await
        .expect("a keyless compatible server is probed");
    assert_eq!(r.class, ProbeClass::Ok);
    let requests = server.received_requests().await.expect("recording on");
    assert_eq!(requests[0].headers.get("authorization"), None);
}

#[tokio::test]
async fn no_probe_without_a_needed_key_or_for_kinds_probed_elsewhere() {
    let server = MockServer::start().await;
    let client = switchboard::http::client().expect("client");
    for k in [K::Anthropic, K::OpenAi, K::Compatible, K::Gemini] {
        let p = k.provider(&server.uri());
        assert!(p.needs_key());
        assert_eq!(
            probe(&client, &p, None, &quick(), started_at()).await,
            None,
            "{k:?}"
        );
    }
    let key = Secret::new(KEY);
    for kind in [ProviderKind::Status, ProviderKind::Bedrock, ProviderKind::Vertex] {
        let p = provider(kind, &server.uri(), true);
        assert_eq!(
            probe(&client, &p, Some(&key), &quick(), started_at()).await,
            None,
            "{kind:?}"
        );
    }
    let requests = server.received_requests().await.expect("recording on");
    assert!(requests.is_empty(), "nothing was sent: {requests:?}");
}

// ---------------------------------------------------------------------------
// The key never leaks

#[tokio::test]
async fn a_key_echoed_back_by_the_server_is_redacted_everywhere() {
    let body = openai_error(
        "invalid_request_error",
        Some("invalid_api_key"),
        &format!(
            "Incorrect API key provided: {KEY}. You can find your API key at https://platform.openai.com."
        ),
    );
    let response = json_response(401, body).insert_header("x-request-id", KEY);
    let server = fake(K::OpenAi, response).await;
    let r = run(K::OpenAi, &server, &quick()).await; // `run` asserts Debug, JSON and summary
    assert_eq!(r.class, ProbeClass::Auth);
    assert_eq!(
        r.message.as_deref(),
        Some("Incorrect API key provided: <redacted>. You can find your API key at https://platform.openai.com.")
    );
    assert_eq!(r.request_id.as_deref(), Some("<redacted>"));
}

#[tokio::test]
async fn a_key_that_cannot_be_a_header_is_a_credential_problem_and_is_not_sent() {
    let server = MockServer::start().await;
    let client = switchboard::http::client().expect("client");
    let broken = Secret::new("sk-ant-first-line\nsecond-line");
    let p = K::Anthropic.provider(&server.uri());
    let r = probe(&client, &p, Some(&broken), &quick(), started_at())
        .await
        .expect("a report");
    assert_eq!(r.class, ProbeClass::Auth);
    assert_eq!(r.class.state(), State::AuthError);
    assert_eq!(r.http_status, None);
    assert_eq!(r.error_type.as_deref(), Some("invalid_key"));
    let debug = format!("{r:?}");
    assert!(
        !debug.contains("first-line") && !debug.contains("second-line"),
        "{debug}"
    );
    assert!(server.received_requests().await.expect("recording on").is_empty());
}
