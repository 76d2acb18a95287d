//! Status-page adapters against realistic payloads (`tests/fixtures/status/`,
//! modelled on the real Claude, OpenAI, Google Cloud and AWS feeds) served from
//! 127.0.0.1, and against servers that misbehave (HTML challenges, 403/405,
//! endless or dripping bodies, silence).
//!
//! Layout: one scenario section per format (what the page says), then one
//! contract suite that runs the same failure scenarios against every format.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchboard::config::StatusPageConfig;
use switchboard::model::StatusFormat;
use switchboard::model::{ComponentStatus, Indicator, NetFailure, PageStatus, State};
use switchboard::status::google_cloud::{GoogleCloud, MAX_HISTORY_FEED_BYTES};
use switchboard::status::{
    page_verdict, PageFetch, PageVerdict, StatusAdapter, StatusPoller, MAX_FEED_BYTES,
};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use url::Url;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Generous per-poll timeout for tests whose server answers promptly.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Claude's component ids (names have changed over time; ids have not).
const CLAUDE_AI: &str = "rwppv331jlwc";
const CLAUDE_API: &str = "k8w3r06qmzrp";
const CLAUDE_CODE: &str = "yyzkbfz2thpt";
const CLAUDE_CONSOLE: &str = "0qbwn08sd68x";
/// OpenAI's ULID component ids.
const CHAT_COMPLETIONS: &str = "01JMXBRMFE6N2NNT7DG6XZQ6PW";
const RESPONSES: &str = "01JP8CD9JR3HR6Y7G4Q75N4DVW";
const CODEX_DESKTOP: &str = "01KMKFAMWKQ81YWSE1Z18R6VHR";
/// Google's "Vertex Gemini API" product.
const VERTEX_GEMINI: &str = "Z0FZJAMvEB4j3NbCJs6B";

// ---------------------------------------------------------------------------
// Helpers

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/status/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// UTF-16 big-endian with a byte-order mark: how AWS Health serves its events.
fn utf16be_bom(text: &[u8]) -> Vec<u8> {
    encode_utf16(text, true, true)
}

fn encode_utf16(text: &[u8], big_endian: bool, bom: bool) -> Vec<u8> {
    let text = std::str::from_utf8(text).expect("fixtures are UTF-8");
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if big_endian { &[0xFE, 0xFF] } else { &[0xFF, 0xFE] });
    }
    for unit in text.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

fn poller() -> StatusPoller {
    StatusPoller::new(switchboard::http::client().expect("client builds"))
}

fn page(url: &str, format: StatusFormat) -> StatusPageConfig {
    StatusPageConfig {
        url: Url::parse(url).expect("test URL"),
        format,
    }
}

fn json(body: impl Into<Vec<u8>>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.into(), "application/json; charset=utf-8")
}

fn components(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[track_caller]
fn read(fetch: PageFetch) -> PageStatus {
    match fetch {
        PageFetch::Read(p) => p,
        other => panic!("expected the feed to be read, got {other:?}"),
    }
}

#[track_caller]
fn unreadable(fetch: &PageFetch) -> &str {
    match fetch {
        PageFetch::Unreadable { reason } => reason,
        other => panic!("expected Unreadable, got {other:?}"),
    }
}

/// Mounts `body` as a JSON answer at `at` on `server`.
async fn serve(server: &MockServer, at: &str, body: Vec<u8>) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(json(body))
        .mount(server)
        .await;
}

async fn poll_once(url: &str, format: StatusFormat) -> PageFetch {
    poller().poll(&page(url, format), TIMEOUT).await
}

// ---------------------------------------------------------------------------
// Atlassian Statuspage (Claude)

async fn claude_page(fixture_name: &str) -> (MockServer, PageStatus) {
    let server = MockServer::start().await;
    serve(&server, "/api/v2/summary.json", fixture(fixture_name)).await;
    let status = read(poll_once(&server.uri(), StatusFormat::Statuspage).await);
    (server, status)
}

#[tokio::test]
async fn statuspage_all_operational_skips_group_rows_and_names_groups() {
    let (server, status) = claude_page("claude_operational.json").await;
    assert_eq!(status.indicator, Indicator::None);
    assert_eq!(status.description, "All Systems Operational");
    let names: Vec<&str> = status.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "claude.ai",
            "Claude API (api.anthropic.com)",
            "Claude Code",
            "Claude Console (platform.claude.com)",
            "Claude for Government"
        ],
        "the group row \"Products\" is not a component"
    );
    assert!(status.components[..4]
        .iter()
        .all(|c| c.group.as_deref() == Some("Products")));
    assert_eq!(status.components[4].group, None);
    assert!(status
        .components
        .iter()
        .all(|c| c.status == ComponentStatus::Operational));
    assert!(status.incidents.is_empty() && status.maintenances.is_empty());
    for wanted in [CLAUDE_API, CLAUDE_AI, CLAUDE_CODE] {
        assert_eq!(
            page_verdict(&status, &components(&[wanted])).0,
            PageVerdict {
                state: State::Operational,
                cause: None
            }
        );
    }

    // The shared client names Switchboard and asks for JSON.
    let requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1);
    let ua = requests[0]
        .headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok());
    assert_eq!(ua, Some(switchboard::http::USER_AGENT));
    assert_eq!(
        requests[0].headers.get("accept").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
}

#[tokio::test]
async fn statuspage_incident_on_claude_ai_does_not_degrade_the_api_or_code() {
    let (_server, status) = claude_page("claude_claude_ai_outage.json").await;
    assert_eq!(status.indicator, Indicator::Major);
    assert_eq!(status.incidents.len(), 1);

    let (api, api_view) = page_verdict(&status, &components(&[CLAUDE_API]));
    assert_eq!(
        api,
        PageVerdict {
            state: State::Operational,
            cause: None
        }
    );
    assert!(
        api_view.incidents.is_empty(),
        "claude.ai's incident is not the API's"
    );
    assert_eq!(api_view.components.len(), 1);
    assert_eq!(api_view.components[0].name, "Claude API (api.anthropic.com)");

    // Configured by name, as a user would write it, the API is still fine.
    let (by_name, _) = page_verdict(&status, &components(&["Claude API"]));
    assert_eq!(by_name.state, State::Operational);

    let (code, _) = page_verdict(&status, &components(&[CLAUDE_CODE]));
    assert_eq!(code.state, State::Operational);

    let (ai, ai_view) = page_verdict(&status, &components(&[CLAUDE_AI]));
    assert_eq!(ai.state, State::Outage);
    assert_eq!(ai.cause.as_deref(), Some("claude.ai unavailable for some users"));
    assert_eq!(ai_view.incidents.len(), 1);
    let incident = &ai_view.incidents[0];
    assert_eq!(incident.status, "identified");
    assert_eq!(incident.impact, "major");
    assert_eq!(incident.url.as_deref(), Some("https://stspg.io/6b8kqz1x9c3v"));
    assert_eq!(incident.components, ["claude.ai"]);
    assert_eq!(
        incident.started_at.map(|t| t.to_rfc3339()),
        Some("2026-03-02T08:55:00+00:00".to_string()),
        "started_at is preferred over created_at"
    );

    // Without components the page indicator decides, with the incident's words.
    let (whole, _) = page_verdict(&status, &[]);
    assert_eq!(whole.state, State::Outage);
    assert_eq!(
        whole.cause.as_deref(),
        Some("claude.ai unavailable for some users")
    );
}

#[tokio::test]
async fn statuspage_degraded_api_reports_the_incident_words() {
    let (_server, status) = claude_page("claude_api_degraded.json").await;
    assert_eq!(status.indicator, Indicator::Minor);
    let api = status
        .components
        .iter()
        .find(|c| c.id.as_deref() == Some(CLAUDE_API));
    assert_eq!(api.map(|c| c.status), Some(ComponentStatus::DegradedPerformance));

    let (v, view) = page_verdict(&status, &components(&[CLAUDE_API]));
    assert_eq!(v.state, State::Degraded);
    assert_eq!(v.cause.as_deref(), Some("Elevated error rates on Claude Opus"));
    assert_eq!(view.incidents.len(), 1);
    assert_eq!(
        view.incidents[0].components,
        ["claude.ai", "Claude API (api.anthropic.com)"]
    );
    assert_eq!(view.incidents[0].status, "investigating");
    assert_eq!(
        view.incidents[0].url.as_deref(),
        Some("https://stspg.io/0m2x7rqy4w1d")
    );

    let (code, code_view) = page_verdict(&status, &components(&[CLAUDE_CODE]));
    assert_eq!(code.state, State::Operational);
    assert!(code_view.incidents.is_empty());
}

#[tokio::test]
async fn statuspage_maintenance_in_progress_and_scheduled() {
    let (_server, status) = claude_page("claude_maintenance.json").await;
    assert_eq!(status.indicator, Indicator::Maintenance);
    assert_eq!(status.description, "Service Under Maintenance");
    let names: Vec<(&str, &str)> = status
        .maintenances
        .iter()
        .map(|m| (m.name.as_str(), m.status.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("Claude Console database maintenance", "in_progress"),
            ("Scheduled network upgrade for the Claude API", "scheduled")
        ],
        "completed maintenance is dropped"
    );
    assert!(status.maintenances.iter().all(|m| m.impact == "maintenance"));
    assert_eq!(
        status.maintenances[1].started_at.map(|t| t.to_rfc3339()),
        Some("2026-03-09T06:00:00+00:00".to_string()),
        "a maintenance starts when it is scheduled for"
    );

    let (console, _) = page_verdict(&status, &components(&[CLAUDE_CONSOLE]));
    assert_eq!(console.state, State::Degraded);
    assert_eq!(
        console.cause.as_deref(),
        Some("Claude Console database maintenance")
    );

    // The API is fine now, but its upcoming maintenance stays in its view.
    let (api, api_view) = page_verdict(&status, &components(&[CLAUDE_API]));
    assert_eq!(api.state, State::Operational);
    assert_eq!(api_view.maintenances.len(), 1);
    assert_eq!(
        api_view.maintenances[0].name,
        "Scheduled network upgrade for the Claude API"
    );

    let (whole, _) = page_verdict(&status, &[]);
    assert_eq!(whole.state, State::Degraded);
    assert_eq!(
        whole.cause.as_deref(),
        Some("Claude Console database maintenance")
    );
}

#[tokio::test]
async fn statuspage_base_url_keeps_its_path_prefix_and_feed_urls_are_used_as_is() {
    let server = MockServer::start().await;
    serve(
        &server,
        "/claude/api/v2/summary.json",
        fixture("claude_operational.json"),
    )
    .await;
    serve(
        &server,
        "/anthropic/summary.json",
        fixture("claude_api_degraded.json"),
    )
    .await;

    let prefixed = read(poll_once(&format!("{}/claude/", server.uri()), StatusFormat::Statuspage).await);
    assert_eq!(prefixed.indicator, Indicator::None);
    let feed = read(
        poll_once(
            &format!("{}/anthropic/summary.json", server.uri()),
            StatusFormat::Statuspage,
        )
        .await,
    );
    assert_eq!(feed.indicator, Indicator::Minor);
}

#[tokio::test]
async fn statuspage_last_modified_is_sent_back_as_if_modified_since() {
    const STAMP: &str = "Mon, 02 Mar 2026 09:14:07 GMT";
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/summary.json"))
        // A closure, because wiremock's `header` matcher splits values at the date's comma.
        .and(|r: &wiremock::Request| r.headers.get("if-modified-since").is_some_and(|v| v == STAMP))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/summary.json"))
        .respond_with(json(fixture("claude_api_degraded.json")).insert_header("last-modified", STAMP))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    let p = poller();
    let cfg = page(&server.uri(), StatusFormat::Statuspage);
    let first = read(p.poll(&cfg, TIMEOUT).await);
    let second = read(p.poll(&cfg, TIMEOUT).await);
    assert_eq!(second, first, "a 304 reuses the cached body");
    assert_eq!(second.incidents[0].name, "Elevated error rates on Claude Opus");
    server.verify().await;
}

#[tokio::test]
async fn statuspage_not_found_is_unreadable_with_the_status() {
    let server = MockServer::start().await;
    let fetch = poll_once(&server.uri(), StatusFormat::Statuspage).await;
    let reason = unreadable(&fetch);
    assert!(reason.contains("HTTP 404"), "{reason}");
    assert!(reason.contains("/api/v2/summary.json"), "{reason}");
}

#[tokio::test]
async fn status_format_none_reads_nothing() {
    let server = MockServer::start().await;
    let fetch = poll_once(&server.uri(), StatusFormat::None).await;
    assert!(unreadable(&fetch).contains("status_format = none"));
    assert!(server.received_requests().await.expect("recording").is_empty());
}

// ---------------------------------------------------------------------------
// incident.io (OpenAI)

async fn openai_page(shim: ResponseTemplate, widget: ResponseTemplate) -> (MockServer, PageFetch) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/summary.json"))
        .respond_with(shim)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/summary"))
        .respond_with(widget)
        .expect(1)
        .mount(&server)
        .await;
    let fetch = poll_once(&server.uri(), StatusFormat::Incidentio).await;
    server.verify().await;
    (server, fetch)
}

#[tokio::test]
async fn incidentio_all_operational_reads_both_feeds() {
    let (_s, fetch) = openai_page(
        json(fixture("openai_shim_operational.json")),
        json(fixture("openai_widget_operational.json")),
    )
    .await;
    let status = read(fetch);
    assert_eq!(status.indicator, Indicator::None);
    assert_eq!(status.description, "All Systems Operational");
    assert_eq!(
        status.components.len(),
        6,
        "group rows APIs and ChatGPT are skipped"
    );
    let chat = &status.components[0];
    assert_eq!(
        (chat.id.as_deref(), chat.name.as_str(), chat.group.as_deref()),
        (Some(CHAT_COMPLETIONS), "Chat Completions", Some("APIs"))
    );
    assert!(status.incidents.is_empty() && status.maintenances.is_empty());
    let (v, _) = page_verdict(&status, &components(&[CHAT_COMPLETIONS, RESPONSES]));
    assert_eq!(v.state, State::Operational);
}

#[tokio::test]
async fn incidentio_widget_overrides_the_lagging_shim() {
    let (_s, fetch) = openai_page(
        json(fixture("openai_shim_incident.json")),
        json(fixture("openai_widget_incident.json")),
    )
    .await;
    let status = read(fetch);
    // The shim said "minor" and partial_outage; the widget knows it is a full outage.
    assert_eq!(status.indicator, Indicator::Critical);
    assert_eq!(status.description, "Major System Outage");
    let chat = status
        .components
        .iter()
        .find(|c| c.id.as_deref() == Some(CHAT_COMPLETIONS))
        .expect("Chat Completions");
    assert_eq!(chat.status, ComponentStatus::FullOutage);
    // Codex in ChatGPT Desktop is missing from the shim's summary; the widget adds it.
    let codex = status
        .components
        .iter()
        .find(|c| c.id.as_deref() == Some(CODEX_DESKTOP))
        .expect("Codex added from the widget");
    assert_eq!(codex.name, "Codex in ChatGPT Desktop");
    assert_eq!(codex.group.as_deref(), Some("Codex"));
    assert_eq!(codex.status, ComponentStatus::PartialOutage);
    assert_eq!(status.components.len(), 7);

    assert_eq!(status.incidents.len(), 1);
    let incident = &status.incidents[0];
    assert_eq!(
        incident.name,
        "Increased error rates for Chat Completions and Codex"
    );
    assert_eq!(incident.status, "identified", "the widget's status is fresher");
    assert_eq!(incident.impact, "full_outage");
    assert_eq!(
        incident.url.as_deref(),
        Some("https://status.openai.com/incidents/01KJQ4W8E2N5R7T9V1X3Z5B7D9")
    );
    assert_eq!(
        incident.components,
        ["Chat Completions", "Codex in ChatGPT Desktop"]
    );
    assert_eq!(
        incident.started_at.map(|t| t.to_rfc3339()),
        Some("2026-03-02T10:58:00+00:00".to_string()),
        "start time comes from the shim's copy of the incident"
    );

    let (openai, _) = page_verdict(&status, &components(&[CHAT_COMPLETIONS, RESPONSES]));
    assert_eq!(openai.state, State::Outage);
    assert_eq!(
        openai.cause.as_deref(),
        Some("Increased error rates for Chat Completions and Codex")
    );
    let (responses, view) = page_verdict(&status, &components(&[RESPONSES]));
    assert_eq!(responses.state, State::Operational);
    assert!(
        view.incidents.is_empty(),
        "the incident is tagged with other components"
    );
}

#[tokio::test]
async fn incidentio_maintenance_from_the_widget() {
    let (_s, fetch) = openai_page(
        json(fixture("openai_shim_operational.json")),
        json(fixture("openai_widget_maintenance.json")),
    )
    .await;
    let status = read(fetch);
    assert_eq!(status.indicator, Indicator::Maintenance);
    let fine_tuning = status
        .components
        .iter()
        .find(|c| c.name == "Fine-tuning")
        .expect("Fine-tuning");
    assert_eq!(fine_tuning.status, ComponentStatus::UnderMaintenance);
    let m: Vec<(&str, &str)> = status
        .maintenances
        .iter()
        .map(|m| (m.name.as_str(), m.status.as_str()))
        .collect();
    assert_eq!(
        m,
        [
            ("Fine-tuning job queue maintenance", "maintenance_in_progress"),
            ("Login provider migration", "maintenance_scheduled")
        ]
    );
    assert!(status.incidents.is_empty());
    let (v, _) = page_verdict(&status, &components(&["Fine-tuning"]));
    assert_eq!(v.state, State::Degraded);
    assert_eq!(v.cause.as_deref(), Some("Fine-tuning job queue maintenance"));
    let (chat, _) = page_verdict(&status, &components(&[CHAT_COMPLETIONS]));
    assert_eq!(chat.state, State::Operational);
}

#[tokio::test]
async fn incidentio_blocked_widget_falls_back_to_the_shim() {
    let (_s, fetch) = openai_page(
        json(fixture("openai_shim_incident.json")),
        ResponseTemplate::new(403).set_body_raw(fixture("challenge.html"), "text/html"),
    )
    .await;
    let status = read(fetch);
    assert_eq!(status.indicator, Indicator::Minor);
    assert_eq!(status.components.len(), 6);
    let chat = status
        .components
        .iter()
        .find(|c| c.id.as_deref() == Some(CHAT_COMPLETIONS));
    assert_eq!(chat.map(|c| c.status), Some(ComponentStatus::PartialOutage));
    assert_eq!(status.incidents.len(), 1);
    assert!(status.incidents[0].components.is_empty(), "the shim loses tags");
    // An untagged incident still concerns the configured components.
    let (v, view) = page_verdict(&status, &components(&[CHAT_COMPLETIONS, RESPONSES]));
    assert_eq!(v.state, State::Degraded);
    assert_eq!(
        v.cause.as_deref(),
        Some("Increased error rates for Chat Completions and Codex")
    );
    assert_eq!(view.incidents.len(), 1);
}

#[tokio::test]
async fn incidentio_broken_shim_falls_back_to_the_widget() {
    let mut truncated = fixture("openai_shim_incident.json");
    truncated.truncate(700);
    let (_s, fetch) = openai_page(json(truncated), json(fixture("openai_widget_incident.json"))).await;
    let status = read(fetch);
    assert_eq!(status.indicator, Indicator::Critical);
    let names: Vec<&str> = status.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Chat Completions", "Codex in ChatGPT Desktop"]);
    assert_eq!(status.incidents.len(), 1);
    assert_eq!(
        status.incidents[0].started_at, None,
        "only the shim knows the start"
    );
}

// ---------------------------------------------------------------------------
// Google Cloud

#[tokio::test]
async fn google_history_without_open_incidents_is_operational() {
    let server = MockServer::start().await;
    serve(
        &server,
        "/incidents.json",
        fixture("google_incidents_closed.json"),
    )
    .await;
    let status = read(
        poll_once(
            &format!("{}/incidents.json", server.uri()),
            StatusFormat::GoogleCloud,
        )
        .await,
    );
    assert_eq!(status.indicator, Indicator::None);
    assert_eq!(status.description, "No open incidents");
    assert!(status.components.is_empty() && status.incidents.is_empty());
    assert!(
        status.maintenances.is_empty(),
        "the feed has no maintenance notion"
    );
    let (v, _) = page_verdict(&status, &components(&[VERTEX_GEMINI]));
    assert_eq!(
        v,
        PageVerdict {
            state: State::Operational,
            cause: None
        }
    );
}

#[tokio::test]
async fn google_open_incident_on_vertex_gemini_api() {
    let server = MockServer::start().await;
    serve(&server, "/incidents.json", fixture("google_incidents_open.json")).await;
    // Configured as the dashboard's base URL: the adapter adds incidents.json.
    let status = read(poll_once(&server.uri(), StatusFormat::GoogleCloud).await);
    assert_eq!(status.indicator, Indicator::Minor);
    assert_eq!(status.description, "2 open incidents");
    let comps: Vec<(&str, &str, ComponentStatus)> = status
        .components
        .iter()
        .map(|c| (c.id.as_deref().unwrap_or(""), c.name.as_str(), c.status))
        .collect();
    assert_eq!(
        comps,
        [
            (VERTEX_GEMINI, "Vertex Gemini API", ComponentStatus::PartialOutage),
            (
                "fw8GzBdZdqy4THau7e1y",
                "Cloud Build",
                ComponentStatus::DegradedPerformance
            )
        ],
        "closed incidents (including an older Vertex outage) make no component"
    );
    assert_eq!(status.incidents.len(), 2);
    let vertex = &status.incidents[0];
    assert_eq!(
        vertex.name,
        "Vertex Gemini API customers are experiencing elevated error rates in us-central1"
    );
    assert_eq!(vertex.impact, "partial_outage");
    assert_eq!(vertex.components, ["Vertex Gemini API"]);
    assert_eq!(
        vertex.url.as_deref(),
        Some(format!("{}/incidents/3vXh9PqR2mKs8TtY1wBn", server.uri()).as_str()),
        "links resolve against the dashboard the feed came from"
    );
    assert_eq!(
        vertex.started_at.map(|t| t.to_rfc3339()),
        Some("2026-03-02T13:41:00+00:00".to_string())
    );

    let (v, view) = page_verdict(&status, &components(&[VERTEX_GEMINI]));
    assert_eq!(v.state, State::Degraded);
    assert_eq!(v.cause.as_deref(), Some(vertex.name.as_str()));
    assert_eq!(
        view.incidents.len(),
        1,
        "the Cloud Build incident is not Vertex's"
    );

    // Parsed for the real dashboard, links point at status.cloud.google.com.
    let real = GoogleCloud::default()
        .parse(&[fixture("google_incidents_open.json").into()])
        .expect("fixture parses");
    assert_eq!(
        real.incidents[0].url.as_deref(),
        Some("https://status.cloud.google.com/incidents/3vXh9PqR2mKs8TtY1wBn")
    );
}

#[tokio::test]
async fn google_service_outage_is_an_outage() {
    let server = MockServer::start().await;
    serve(
        &server,
        "/incidents.json",
        fixture("google_incidents_outage.json"),
    )
    .await;
    let status = read(
        poll_once(
            &format!("{}/incidents.json", server.uri()),
            StatusFormat::GoogleCloud,
        )
        .await,
    );
    assert_eq!(status.indicator, Indicator::Major);
    let (v, _) = page_verdict(&status, &components(&["Vertex Gemini API"]));
    assert_eq!(v.state, State::Outage);
    let (build, _) = page_verdict(&status, &components(&["Cloud Build"]));
    assert_eq!(build.state, State::Degraded);
    assert_eq!(
        build.cause.as_deref(),
        Some("Cloud Build: builds in europe-west4 may start with a delay")
    );
}

// ---------------------------------------------------------------------------
// AWS Health

async fn aws_page(body: Vec<u8>) -> PageStatus {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/public/currentevents"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json;charset=utf-16"))
        .mount(&server)
        .await;
    read(poll_once(&server.uri(), StatusFormat::AwsHealth).await)
}

#[tokio::test]
async fn aws_empty_event_list_is_all_operational() {
    let status = aws_page(utf16be_bom(&fixture("aws_currentevents_empty.json"))).await;
    assert_eq!(status.indicator, Indicator::None);
    assert!(status.components.is_empty() && status.incidents.is_empty());
    let (v, _) = page_verdict(&status, &components(&["bedrock"]));
    assert_eq!(
        v,
        PageVerdict {
            state: State::Operational,
            cause: None
        }
    );
}

#[tokio::test]
async fn aws_bedrock_event_in_utf16be() {
    let status = aws_page(utf16be_bom(&fixture("aws_currentevents.json"))).await;
    assert_eq!(
        status.indicator,
        Indicator::Major,
        "Lambda's status 3 is a disruption"
    );
    assert_eq!(status.description, "2 open events");
    let comps: Vec<(&str, &str, ComponentStatus)> = status
        .components
        .iter()
        .map(|c| (c.id.as_deref().unwrap_or(""), c.name.as_str(), c.status))
        .collect();
    assert_eq!(
        comps,
        [
            (
                "bedrock-us-east-1",
                "Amazon Bedrock (N. Virginia)",
                ComponentStatus::DegradedPerformance
            ),
            (
                "lambda-eu-west-1",
                "AWS Lambda (Ireland)",
                ComponentStatus::MajorOutage
            )
        ],
        "the resolved EC2 event (status \"0\") is not open"
    );
    let bedrock = &status.incidents[0];
    assert_eq!(bedrock.name, "Increased Error Rates and Latencies");
    assert_eq!(bedrock.impact, "degraded_performance");
    assert_eq!(bedrock.components, ["Amazon Bedrock (N. Virginia)"]);
    assert_eq!(
        bedrock.started_at.map(|t| t.to_rfc3339()),
        Some("2026-03-02T13:30:00+00:00".to_string())
    );

    // The catalog's "bedrock" matches every region's bedrock-<region> service.
    let (v, view) = page_verdict(&status, &components(&["bedrock"]));
    assert_eq!(v.state, State::Degraded);
    assert_eq!(v.cause.as_deref(), Some("Increased Error Rates and Latencies"));
    assert_eq!((view.components.len(), view.incidents.len()), (1, 1));
    let (other_region, _) = page_verdict(&status, &components(&["bedrock-us-west-2"]));
    assert_eq!(other_region.state, State::Operational);
}

#[tokio::test]
async fn aws_every_encoding_reads_the_same() {
    let text = fixture("aws_currentevents.json");
    let expected = aws_page(utf16be_bom(&text)).await;
    let mut utf8_bom = b"\xEF\xBB\xBF".to_vec();
    utf8_bom.extend_from_slice(&text);
    for (label, body) in [
        ("UTF-16LE with BOM", encode_utf16(&text, false, true)),
        ("UTF-16BE without BOM", encode_utf16(&text, true, false)),
        ("UTF-8 with BOM", utf8_bom),
        ("UTF-8", text.clone()),
    ] {
        assert_eq!(aws_page(body).await, expected, "{label}");
    }
}

// ---------------------------------------------------------------------------
// Detection specifics (the per-format detection runs in the contract suite)

#[tokio::test]
async fn detection_of_a_challenge_is_not_remembered() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/summary.json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(fixture("challenge.html"), "text/html; charset=UTF-8"),
        )
        .mount(&server)
        .await;
    let p = poller();
    let cfg = page(&server.uri(), StatusFormat::Detect);
    let fetch = p.poll(&cfg, TIMEOUT).await;
    assert!(unreadable(&fetch).contains("HTML"), "{fetch:?}");
    assert_eq!(p.detected_format(&cfg.url), None);

    server.reset().await;
    serve(
        &server,
        "/api/v2/summary.json",
        fixture("claude_operational.json"),
    )
    .await;
    let status = read(p.poll(&cfg, TIMEOUT).await);
    assert_eq!(status.components.len(), 5);
    assert_eq!(p.detected_format(&cfg.url), Some(StatusFormat::Statuspage));
}

#[tokio::test]
async fn detection_refuses_json_that_is_no_status_feed() {
    let server = MockServer::start().await;
    serve(&server, "/feed.json", br#"{"foo":1}"#.to_vec()).await;
    let fetch = poll_once(&format!("{}/feed.json", server.uri()), StatusFormat::Detect).await;
    let reason = unreadable(&fetch);
    assert!(reason.contains("not a status feed Switchboard reads"), "{reason}");
}

#[tokio::test]
async fn empty_aws_list_is_detected_but_looked_at_again() {
    let server = MockServer::start().await;
    serve(&server, "/public/currentevents", b"[]".to_vec()).await;
    let p = poller();
    let cfg = page(
        &format!("{}/public/currentevents", server.uri()),
        StatusFormat::Detect,
    );
    let status = read(p.poll(&cfg, TIMEOUT).await);
    assert_eq!(status.indicator, Indicator::None);
    assert_eq!(p.detected_format(&cfg.url), None, "[] fits Google and AWS alike");
}

// ---------------------------------------------------------------------------
// The contract suite: every format against the same misbehaving servers.

/// One format, with the feeds a fake page serves for it.
struct Kind {
    format: StatusFormat,
    /// Path of the configured page URL on the fake server (base or feed URL).
    page_path: &'static str,
    /// (path, UTF-8 body) of each feed the adapter reads, in order.
    feeds: Vec<(&'static str, Vec<u8>)>,
    /// How the page encodes its bodies (AWS: UTF-16BE with a BOM).
    encode: fn(&[u8]) -> Vec<u8>,
    /// The format's body cap.
    cap: usize,
    /// Well-formed JSON that is not this feed (served at every feed path).
    not_the_feed: Vec<&'static str>,
    /// Asserts what the good bodies say.
    check_good: fn(&PageStatus),
}

fn identity(b: &[u8]) -> Vec<u8> {
    b.to_vec()
}

impl Kind {
    fn statuspage() -> Kind {
        Kind {
            format: StatusFormat::Statuspage,
            page_path: "/",
            feeds: vec![("/api/v2/summary.json", fixture("claude_operational.json"))],
            encode: identity,
            cap: MAX_FEED_BYTES,
            not_the_feed: vec![
                "[]",
                r#"{"foo":1}"#,
                "42",
                r#"{"page":{"id":"tymt9n04zgry"},"status":{"indicator":"none"},"components":"rwppv331jlwc"}"#,
                r#"{"page":{"id":"tymt9n04zgry"},"status":{"indicator":"none"},"components":[1,2,3]}"#,
            ],
            check_good: |p| {
                assert_eq!(p.indicator, Indicator::None);
                assert_eq!(p.components.len(), 5);
                assert_eq!(p.components[1].id.as_deref(), Some(CLAUDE_API));
            },
        }
    }

    fn incidentio() -> Kind {
        Kind {
            format: StatusFormat::Incidentio,
            page_path: "/",
            feeds: vec![
                ("/api/v2/summary.json", fixture("openai_shim_incident.json")),
                ("/api/v1/summary", fixture("openai_widget_incident.json")),
            ],
            encode: identity,
            cap: MAX_FEED_BYTES,
            not_the_feed: vec![
                "[]",
                r#"{"foo":1}"#,
                "42",
                r#"{"page":{"id":"x"},"status":{"indicator":["none"]},"ongoing_incidents":{}}"#,
            ],
            check_good: |p| {
                assert_eq!(p.indicator, Indicator::Critical);
                assert_eq!(p.components.len(), 7);
                assert_eq!(p.incidents.len(), 1);
                assert_eq!(p.incidents[0].impact, "full_outage");
            },
        }
    }

    fn google_cloud() -> Kind {
        Kind {
            format: StatusFormat::GoogleCloud,
            page_path: "/incidents.json",
            feeds: vec![("/incidents.json", fixture("google_incidents_open.json"))],
            encode: identity,
            cap: MAX_HISTORY_FEED_BYTES,
            not_the_feed: vec![
                r#"{"foo":1}"#,
                "42",
                r#"[{"id":"x","end":null,"affected_products":"Vertex Gemini API"}]"#,
                "[1,2,3]",
            ],
            check_good: |p| {
                assert_eq!(p.indicator, Indicator::Minor);
                assert_eq!(p.components[0].id.as_deref(), Some(VERTEX_GEMINI));
                assert_eq!(p.incidents.len(), 2);
            },
        }
    }

    fn aws_health() -> Kind {
        Kind {
            format: StatusFormat::AwsHealth,
            page_path: "/public/currentevents",
            feeds: vec![("/public/currentevents", fixture("aws_currentevents.json"))],
            encode: utf16be_bom,
            cap: MAX_FEED_BYTES,
            not_the_feed: vec![
                r#"{"foo":1}"#,
                "42",
                r#"[{"service":"bedrock-us-east-1","status":"2","summary":42}]"#,
                r#"["bedrock-us-east-1"]"#,
            ],
            check_good: |p| {
                assert_eq!(p.indicator, Indicator::Major);
                assert_eq!(p.components[0].id.as_deref(), Some("bedrock-us-east-1"));
                assert_eq!(p.incidents.len(), 2);
            },
        }
    }

    fn page_url(&self, base: &str) -> String {
        format!("{}{}", base.trim_end_matches('/'), self.page_path)
    }

    /// Serves `respond(path, good body)` at every feed path.
    async fn serve_each(&self, server: &MockServer, respond: impl Fn(&[u8]) -> ResponseTemplate) {
        for (at, body) in &self.feeds {
            Mock::given(method("GET"))
                .and(path(*at))
                .respond_with(respond(body))
                .mount(server)
                .await;
        }
    }

    async fn poll(&self, base: &str, timeout: Duration) -> PageFetch {
        poller()
            .poll(&page(&self.page_url(base), self.format), timeout)
            .await
    }
}

/// Whatever a page does wrong, the provider reads `unknown`, never an outage.
#[track_caller]
fn assert_unknown_not_outage(fetch: &PageFetch, components: &[&str]) {
    let page = fetch.page();
    assert_eq!(page.indicator, Indicator::Unknown);
    let (v, _) = page_verdict(&page, &self::components(components));
    assert_eq!(v.state, State::Unknown);
    assert!(v.cause.is_some());
}

mod contract {
    use super::*;

    pub async fn good_feed_is_read(kind: Kind) {
        let server = MockServer::start().await;
        kind.serve_each(&server, |b| json((kind.encode)(b))).await;
        let status = read(kind.poll(&server.uri(), TIMEOUT).await);
        (kind.check_good)(&status);
    }

    pub async fn malformed_json_is_unreadable(kind: Kind) {
        let server = MockServer::start().await;
        // A body cut off mid-way, as a dropped proxy connection leaves it.
        kind.serve_each(&server, |b| json((kind.encode)(&b[..b.len() / 2])))
            .await;
        let fetch = kind.poll(&server.uri(), TIMEOUT).await;
        let reason = unreadable(&fetch);
        assert!(reason.contains("malformed JSON"), "{reason}");
        assert!(reason.contains("EOF while parsing"), "{reason}");
        assert_unknown_not_outage(&fetch, &[]);
    }

    pub async fn wrong_shapes_are_unreadable(kind: Kind) {
        for body in &kind.not_the_feed {
            let server = MockServer::start().await;
            kind.serve_each(&server, |_| json((kind.encode)(body.as_bytes())))
                .await;
            let fetch = kind.poll(&server.uri(), TIMEOUT).await;
            let reason = unreadable(&fetch);
            assert!(reason.contains("not the expected feed"), "{body}: {reason}");
            assert_unknown_not_outage(&fetch, &["anything"]);
        }
    }

    pub async fn empty_body_is_unreadable(kind: Kind) {
        let server = MockServer::start().await;
        kind.serve_each(&server, |_| json(Vec::new())).await;
        let fetch = kind.poll(&server.uri(), TIMEOUT).await;
        assert!(unreadable(&fetch).ends_with("empty body"), "{fetch:?}");
        assert_unknown_not_outage(&fetch, &[]);
    }

    pub async fn html_challenge_with_200_is_unknown(kind: Kind) {
        // Served as HTML...
        let server = MockServer::start().await;
        kind.serve_each(&server, |_| {
            ResponseTemplate::new(200).set_body_raw(fixture("challenge.html"), "text/html; charset=UTF-8")
        })
        .await;
        let fetch = kind.poll(&server.uri(), TIMEOUT).await;
        assert!(unreadable(&fetch).contains("answered with HTML"), "{fetch:?}");
        assert_unknown_not_outage(&fetch, &["k8w3r06qmzrp"]);

        // ...and with a JSON content type by a WAF that does not care.
        let server = MockServer::start().await;
        kind.serve_each(&server, |_| json(fixture("challenge.html")))
            .await;
        let fetch = kind.poll(&server.uri(), TIMEOUT).await;
        assert!(unreadable(&fetch).contains("answered with HTML"), "{fetch:?}");
        assert_unknown_not_outage(&fetch, &[]);
    }

    pub async fn refusals_are_unknown(kind: Kind) {
        for code in [403u16, 405, 429, 503] {
            let server = MockServer::start().await;
            kind.serve_each(&server, |_| {
                ResponseTemplate::new(code).set_body_raw(fixture("challenge.html"), "text/html")
            })
            .await;
            let fetch = kind.poll(&server.uri(), TIMEOUT).await;
            let reason = unreadable(&fetch);
            assert!(reason.contains(&format!("answered HTTP {code}")), "{reason}");
            if matches!(code, 403 | 405) {
                assert!(reason.contains("bot challenge or access denied"), "{reason}");
            }
            assert_unknown_not_outage(&fetch, &["k8w3r06qmzrp"]);
        }
    }

    pub async fn oversized_body_is_refused(kind: Kind) {
        // 10 MiB, or past Google's larger cap for its history feed.
        let size = (10 * 1024 * 1024).max(kind.cap + 1024 * 1024);
        let server = MockServer::start().await;
        kind.serve_each(&server, |_| json(vec![b' '; size])).await;
        let fetch = kind.poll(&server.uri(), TIMEOUT).await;
        let reason = unreadable(&fetch);
        assert!(reason.contains("too large"), "{reason}");
        assert!(
            reason.contains(&format!("over {} MiB", kind.cap / (1024 * 1024))),
            "{reason}"
        );
        assert_unknown_not_outage(&fetch, &[]);
    }

    /// A body with no length that never ends: reading must stop at the cap, not
    /// at the timeout, and the connection must be dropped.
    pub async fn endless_body_stops_at_the_cap(kind: Kind) {
        let (closed_tx, mut closed_rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
        let addr = raw_server(move |mut stream| {
            let closed_tx = closed_tx.clone();
            async move {
                let _ = crate::common::read_request(&mut stream).await;
                let head =
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
                frame.extend_from_slice(&chunk);
                frame.extend_from_slice(b"\r\n");
                let mut sent = 0usize;
                while stream.write_all(&frame).await.is_ok() {
                    sent += chunk.len();
                }
                let _ = closed_tx.send(sent);
            }
        })
        .await;
        let started = Instant::now();
        let fetch = kind
            .poll(&format!("http://{addr}"), Duration::from_secs(30))
            .await;
        let elapsed = started.elapsed();
        let reason = unreadable(&fetch);
        assert!(reason.contains("too large"), "{reason}");
        assert!(
            elapsed < Duration::from_secs(10),
            "stopped at the cap, not the timeout: {elapsed:?}"
        );
        // Every feed connection was dropped by the client, so the server's writes fail.
        for _ in &kind.feeds {
            let sent = tokio::time::timeout(Duration::from_secs(10), closed_rx.recv())
                .await
                .expect("the client closed the connection")
                .expect("server task reports");
            assert!(
                sent >= kind.cap,
                "the server got {sent} bytes out before the close"
            );
        }
    }

    /// One byte a second: the poll ends at the timeout it was given.
    pub async fn drip_feed_ends_within_the_timeout(kind: Kind) {
        let addr = raw_server(|mut stream| async move {
            let _ = crate::common::read_request(&mut stream).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            loop {
                if stream.write_all(b" ").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
        .await;
        let timeout = Duration::from_secs(2);
        let started = Instant::now();
        let fetch = kind.poll(&format!("http://{addr}"), timeout).await;
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(1900), "{elapsed:?}");
        assert!(
            elapsed < Duration::from_millis(2900),
            "ended within the timeout: {elapsed:?}"
        );
        let reason = unreadable(&fetch);
        assert!(
            reason.contains("did not finish sending its feed within 2.0 s"),
            "{reason}"
        );
        assert_unknown_not_outage(&fetch, &[]);
    }

    /// Accepts the connection, never answers: no HTTP response is `Unreachable`.
    pub async fn silent_server_is_unreachable_at_the_timeout(kind: Kind) {
        let addr = raw_server(|mut stream| async move {
            let _ = crate::common::read_request(&mut stream).await;
            tokio::time::sleep(Duration::from_secs(60)).await;
        })
        .await;
        let started = Instant::now();
        let fetch = kind.poll(&format!("http://{addr}"), Duration::from_secs(1)).await;
        assert!(
            started.elapsed() < Duration::from_millis(1900),
            "{:?}",
            started.elapsed()
        );
        match &fetch {
            PageFetch::Unreachable { failure, message } => {
                assert_eq!(*failure, NetFailure::Timeout);
                assert!(message.contains("no answer"), "{message}");
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
        assert_unknown_not_outage(&fetch, &[]);
    }

    pub async fn refused_connection_is_unreachable(kind: Kind) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        let fetch = kind.poll(&format!("http://{addr}"), TIMEOUT).await;
        match &fetch {
            PageFetch::Unreachable { failure, .. } => assert_eq!(*failure, NetFailure::Refused),
            other => panic!("expected Unreachable, got {other:?}"),
        }
        assert!(
            fetch.page().description.contains("connection refused"),
            "{fetch:?}"
        );
    }

    /// The second poll sends the ETag back, gets a 304 and reuses the first body.
    pub async fn conditional_request_round_trip(kind: Kind) {
        let server = MockServer::start().await;
        for (i, (at, body)) in kind.feeds.iter().enumerate() {
            let etag = format!("\"v{i}-5f2c\"");
            Mock::given(method("GET"))
                .and(path(*at))
                .and(header("if-none-match", etag.as_str()))
                .respond_with(ResponseTemplate::new(304).insert_header("etag", etag.as_str()))
                .with_priority(1)
                .expect(1)
                .mount(&server)
                .await;
            Mock::given(method("GET"))
                .and(path(*at))
                .respond_with(json((kind.encode)(body)).insert_header("etag", etag.as_str()))
                .with_priority(2)
                .expect(1)
                .mount(&server)
                .await;
        }
        let p = poller();
        let cfg = page(&kind.page_url(&server.uri()), kind.format);
        let first = read(p.poll(&cfg, TIMEOUT).await);
        // A clone shares the cache.
        let second = read(p.clone().poll(&cfg, TIMEOUT).await);
        assert_eq!(second, first);
        (kind.check_good)(&second);

        let requests = server.received_requests().await.expect("recording");
        assert_eq!(requests.len(), 2 * kind.feeds.len());
        let validators: Vec<Option<&str>> = requests
            .iter()
            .map(|r| r.headers.get("if-none-match").and_then(|v| v.to_str().ok()))
            .collect();
        assert_eq!(
            validators.iter().filter(|v| v.is_none()).count(),
            kind.feeds.len()
        );
        assert_eq!(
            validators.iter().filter(|v| v.is_some()).count(),
            kind.feeds.len()
        );
        server.verify().await;
    }

    /// `status_format = "detect"` finds the format, reads the same page as the
    /// explicit format, and remembers the format without fetching twice.
    pub async fn detection_finds_the_format(kind: Kind) {
        let server = MockServer::start().await;
        kind.serve_each(&server, |b| json((kind.encode)(b))).await;
        let p = poller();
        let detect_cfg = page(&kind.page_url(&server.uri()), StatusFormat::Detect);
        let detected = read(p.poll(&detect_cfg, TIMEOUT).await);
        assert_eq!(p.detected_format(&detect_cfg.url), Some(kind.format));
        (kind.check_good)(&detected);
        let explicit = read(kind.poll(&server.uri(), TIMEOUT).await);
        assert_eq!(detected, explicit);

        let requests = server.received_requests().await.expect("recording");
        assert_eq!(
            requests.len(),
            2 * kind.feeds.len(),
            "detection reused its probe body: one request per feed per poll"
        );
        let again = read(p.poll(&detect_cfg, TIMEOUT).await);
        assert_eq!(again, detected);
    }
}

macro_rules! contract_suite {
    ($kind:ident) => {
        mod $kind {
            use super::{contract, Kind};

            #[tokio::test]
            async fn good_feed_is_read() {
                contract::good_feed_is_read(Kind::$kind()).await;
            }
            #[tokio::test]
            async fn malformed_json_is_unreadable() {
                contract::malformed_json_is_unreadable(Kind::$kind()).await;
            }
            #[tokio::test]
            async fn wrong_shapes_are_unreadable() {
                contract::wrong_shapes_are_unreadable(Kind::$kind()).await;
            }
            #[tokio::test]
            async fn empty_body_is_unreadable() {
                contract::empty_body_is_unreadable(Kind::$kind()).await;
            }
            #[tokio::test]
            async fn html_challenge_with_200_is_unknown() {
                contract::html_challenge_with_200_is_unknown(Kind::$kind()).await;
            }
            #[tokio::test]
            async fn refusals_are_unknown() {
                contract::refusals_are_unknown(Kind::$kind()).await;
            }
            #[tokio::test]
            async fn oversized_body_is_refused() {
                contract::oversized_body_is_refused(Kind::$kind()).await;
            }
            #[tokio::test]
            async fn endless_body_stops_at_the_cap() {
                contract::endless_body_stops_at_the_cap(Kind::$kind()).await;
            }
            #[tokio::test]
            async fn drip_feed_ends_within_the_timeout() {
                contract::drip_feed_ends_within_the_timeout(Kind::$kind()).await;
            }
            #[tokio::test]
            async fn silent_server_is_unreachable_at_the_timeout() {
                contract::silent_server_is_unreachable_at_the_timeout(Kind::$kind()).await;
            }
            #[tokio::test]
            async fn refused_connection_is_unreachable() {
                contract::refused_connection_is_unreachable(Kind::$kind()).await;
            }
            #[tokio::test]
            async fn conditional_request_round_trip() {
                contract::conditional_request_round_trip(Kind::$kind()).await;
            }
            #[tokio::test]
            async fn detection_finds_the_format() {
                contract::detection_finds_the_format(Kind::$kind()).await;
            }
        }
    };
}

contract_suite!(statuspage);
contract_suite!(incidentio);
contract_suite!(google_cloud);
contract_suite!(aws_health);

// ---------------------------------------------------------------------------
// Raw servers, for behaviour wiremock cannot produce (dripping, endless, silent).

/// Accepts connections on 127.0.0.1 and hands each to `handler`.
async fn raw_server<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handler(stream));
        }
    });
    addr
}
