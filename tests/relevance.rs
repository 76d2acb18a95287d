//! Issue 11: which status-page incidents concern a provider (the models and
//! surfaces they name, on real captured pages), local model servers that are
//! not running, and the engine fixes the detection replay exposed. Every peer
//! is a fake on 127.0.0.1.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use switchboard::check::Checker;
use switchboard::config::Config;
use switchboard::credentials::Credentials;
use switchboard::model::{PageStatus, State};
use switchboard::secrets::MemoryStore;
use switchboard::status::incidentio::IncidentIo;
use switchboard::status::statuspage::Statuspage;
use switchboard::status::{page_verdict_for, Interest, StatusAdapter};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use super::cli::{claude_page_green, json, models_ok, page_server, Env};

const CLAUDE_API: &str = "k8w3r06qmzrp";
const CHAT_COMPLETIONS: &str = "01JMXBRMFE6N2NNT7DG6XZQ6PW";
const RESPONSES: &str = "01JP8CD9JR3HR6Y7G4Q75N4DVW";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/status/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

fn claude(body: &Value) -> PageStatus {
    Statuspage
        .parse(&[Bytes::from(serde_json::to_vec(body).unwrap())])
        .unwrap()
}

/// incident.io's Statuspage shim alone (the widget feed blocked), as captured.
fn openai(name: &str) -> PageStatus {
    IncidentIo
        .parse(&[Bytes::from(fixture(name)), Bytes::new()])
        .unwrap()
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

fn api<'a>(components: &'a [String], models: &'a [String]) -> Interest<'a> {
    Interest {
        components,
        models,
        api: true,
    }
}

/// The real 2026-09-22 page: "Elevated errors for multiple models" concerns
/// every model's user; renamed to name one model, only that model's.
#[test]
fn real_multi_model_incident_counts_for_everyone_and_a_named_model_for_its_users() {
    let body = fixture_json("claude_2026_09_22_multi_model_errors.json");
    let page = claude(&body);
    let components = strings(&[CLAUDE_API]);
    for model in [
        "claude-haiku-4-5",
        "claude-opus-4-1",
        "claude-sonnet-4-5-20250929",
    ] {
        let models = strings(&[model]);
        let (v, view) = page_verdict_for(&page, &api(&components, &models));
        assert_eq!(v.state, State::Degraded, "{model}");
        assert_eq!(v.cause.as_deref(), Some("Elevated errors for multiple models"));
        assert!(view.incidents[0].relevant);
    }

    let mut named = body.clone();
    named["incidents"][0]["name"] = "Elevated errors on Claude Opus 4.5 and Sonnet 4.5".into();
    let page = claude(&named);
    let haiku = strings(&["claude-haiku-4-5"]);
    let (v, view) = page_verdict_for(&page, &api(&components, &haiku));
    assert_eq!(v.state, State::Operational, "the API's partial_outage is theirs");
    assert_eq!(view.incidents.len(), 1);
    assert!(!view.incidents[0].relevant);
    let json = serde_json::to_value(&view.incidents[0]).unwrap();
    assert_eq!(json["relevant"], false, "{json}");
    for mine in [
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-5",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ] {
        let models = strings(&[mine]);
        let (v, view) = page_verdict_for(&page, &api(&components, &models));
        assert_eq!(v.state, State::Degraded, "{mine}");
        let json = serde_json::to_value(&view.incidents[0]).unwrap();
        assert!(
            json.get("relevant").is_none(),
            "relevant is said only when false: {json}"
        );
    }
}

/// Item 8b on the real page: the same incident with its tags lost (as
/// incident.io's shim always loses them) and the API still shown green
/// reached no provider with components configured.
#[test]
fn untagged_model_incident_reaches_the_api_provider() {
    let mut body = fixture_json("claude_2026_09_22_multi_model_errors.json");
    body["incidents"][0]["name"] = "Elevated errors on Claude Opus 4.5".into();
    body["incidents"][0]["components"] = serde_json::json!([]);
    for c in body["components"].as_array_mut().unwrap() {
        c["status"] = "operational".into();
    }
    let page = claude(&body);
    assert!(page.incidents[0].components.is_empty());
    let components = strings(&[CLAUDE_API]);
    let (v, _) = page_verdict_for(&page, &api(&components, &[]));
    assert_eq!(v.state, State::Degraded);
    assert_eq!(v.cause.as_deref(), Some("Elevated errors on Claude Opus 4.5"));
    let opus = strings(&["claude-opus-4-5-20251101"]);
    assert_eq!(
        page_verdict_for(&page, &api(&components, &opus)).0.state,
        State::Degraded
    );
    let sonnet = strings(&["claude-sonnet-4-5"]);
    assert_eq!(
        page_verdict_for(&page, &api(&components, &sonnet)).0.state,
        State::Operational
    );
}

/// Real OpenAI pages: an untagged ChatGPT incident is not the API's; the
/// untagged API-wide one is, and the no-impact "Support chat unavailable"
/// beside it is shown but is not the cause.
#[test]
fn real_openai_untagged_incidents_by_the_surfaces_they_name() {
    let components = strings(&[CHAT_COMPLETIONS, RESPONSES]);
    let models = strings(&["gpt-4.1"]);

    let chatgpt = openai("openai_2026_09_22_chatgpt_work_errors.json");
    assert!(chatgpt.incidents[0].components.is_empty());
    let (v, view) = page_verdict_for(&chatgpt, &api(&components, &models));
    assert_eq!(v.state, State::Operational);
    assert!(view.incidents.is_empty(), "{:?}", view.incidents);

    let wide = openai("openai_2026_09_29_api_wide_errors.json");
    let (v, view) = page_verdict_for(&wide, &api(&components, &models));
    assert_eq!(v.state, State::Degraded);
    assert_eq!(
        v.cause.as_deref(),
        Some("Elevated errors across ChatGPT, Codex, and the API including the Agents API")
    );
    let names: Vec<&str> = view.incidents.iter().map(|i| i.name.as_str()).collect();
    assert!(names.contains(&"Support chat unavailable"), "{names:?}");
}

fn anthropic_with_model(api: &str, page: &str, model: &str) -> String {
    format!(
        r#"use_catalog = false
preferred = "anthropic"

[[providers]]
id = "anthropic"
kind = "anthropic"
name = "Claude API"
base_url = "{api}"
status_page = "{page}"
status_format = "statuspage"
components = ["{CLAUDE_API}"]
api_key_env = "ANTHROPIC_API_KEY"
model = "{model}"
"#
    )
}

/// Item 6 end to end: `status --json` shows an incident about other models
/// as `relevant: false` and stays operational (exit 0); for a user of the
/// named model it is degraded (exit 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_other_models_incident_as_not_yours() {
    let mut body = fixture_json("claude_2026_09_22_multi_model_errors.json");
    body["incidents"][0]["name"] = "Elevated errors on Claude Opus 4.1".into();
    let page = page_server(body).await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(models_ok())
        .mount(&api)
        .await;
    let key = [("ANTHROPIC_API_KEY", "sk-ant-test")];

    let env = Env::new(&anthropic_with_model(
        &api.uri(),
        &page.uri(),
        "claude-sonnet-4-5",
    ));
    let out = env.run(&["status", "--json"], &key).await;
    let v = json(&out);
    let p = &v["providers"][0];
    assert_eq!(p["state"], "operational", "{p}");
    assert_eq!(p["status_page"]["incidents"][0]["relevant"], false, "{p}");
    assert_eq!(out.status.code(), Some(0));

    let env = Env::new(&anthropic_with_model(&api.uri(), &page.uri(), "claude-opus-4-1"));
    let out = env.run(&["status", "--json"], &key).await;
    let v = json(&out);
    let p = &v["providers"][0];
    assert_eq!(p["state"], "degraded", "{p}");
    assert_eq!(p["confirmed_by_status_page"], true);
    assert!(p["status_page"]["incidents"][0].get("relevant").is_none(), "{p}");
    assert_eq!(out.status.code(), Some(1));
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Item 7: a fresh install (the whole catalog, no keys) on a machine without
/// Ollama reported `overall: outage`, exit 2. Every catalog status page is
/// pointed at a fake, Ollama at a closed port; nothing else is configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_install_without_ollama_is_not_an_outage() {
    let page = page_server(claude_page_green()).await;
    let mut config = String::from("# only what keeps the test off the internet\n");
    for id in [
        "anthropic",
        "claude-ai",
        "claude-code",
        "openai",
        "vertex",
        "bedrock",
    ] {
        config.push_str(&format!(
            "\n[[providers]]\nid = \"{id}\"\nstatus_page = \"{}\"\nstatus_format = \"statuspage\"\n",
            page.uri()
        ));
    }
    config.push_str(&format!(
        "\n[[providers]]\nid = \"ollama\"\nbase_url = \"http://127.0.0.1:{}\"\n",
        closed_port()
    ));
    let env = Env::new(&config);
    let out = env.run(&["status", "--json"], &[]).await;
    let v = json(&out);
    let providers = v["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 9, "the whole catalog: {v}");
    let ollama = providers.iter().find(|p| p["id"] == "ollama").unwrap();
    assert_eq!(ollama["state"], "unknown", "{ollama}");
    assert_eq!(ollama["not_running"], true, "{ollama}");
    let summary = ollama["summary"].as_str().unwrap();
    assert!(summary.starts_with("not running"), "{summary}");
    assert_eq!(ollama["probe"]["ok"], false, "the probe is still shown");

    // Overall and the exit code are what the others say.
    let rank = |s: &str| {
        [
            "operational",
            "offline",
            "unknown",
            "rate_limited",
            "degraded",
            "auth_error",
            "outage",
        ]
        .iter()
        .position(|x| *x == s)
        .unwrap()
    };
    let others = providers
        .iter()
        .filter(|p| p["id"] != "ollama")
        .map(|p| p["state"].as_str().unwrap())
        .max_by_key(|s| rank(s))
        .unwrap();
    assert_eq!(v["overall"], others, "{v}");
    assert_ne!(v["overall"], "outage");
    let code = match others {
        "operational" => 0,
        "degraded" | "rate_limited" => 1,
        "outage" | "auth_error" => 2,
        _ => 3,
    };
    assert_eq!(out.status.code(), Some(code), "{v}");
    assert!(
        !page.received_requests().await.unwrap().is_empty(),
        "the catalog's pages were read from the fake"
    );
}

/// Item 7, the other half: once a local server has answered, its silence is
/// an outage like any provider's.
#[tokio::test]
async fn local_server_seen_up_then_gone_is_an_outage() {
    // A one-connection-at-a-time Ollama that closes every connection, so that
    // stopping it leaves nothing answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let ollama = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let body =
                r#"{"models":[{"name":"llama3.2:latest","model":"llama3.2:latest","size":2019393189}]}"#;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!("use_catalog = false\n\n[[providers]]\nid = \"ollama\"\nkind = \"ollama\"\nbase_url = \"{base}\"\n"),
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    let provider = config.provider("ollama").unwrap().clone();
    let credentials = Credentials::new(Arc::new(MemoryStore::default()), Arc::new(|_: &str| None));
    let checker = Checker::new(credentials).unwrap();
    let check = config.check.clone();

    // Never answered: not running.
    let closed = format!(
        "use_catalog = false\n\n[[providers]]\nid = \"ollama\"\nkind = \"ollama\"\nbase_url = \"http://127.0.0.1:{}\"\n",
        closed_port()
    );
    std::fs::write(&path, &closed).unwrap();
    let absent = Config::load(&path).unwrap().provider("ollama").unwrap().clone();
    let round = checker.run(&[&absent], &check, true, chrono::Utc::now()).await;
    assert!(round.checks[0].not_running);
    assert_eq!(round.checks[0].assess(&absent).state, State::Unknown);

    // Up, then gone.
    let round = checker.run(&[&provider], &check, true, chrono::Utc::now()).await;
    assert!(!round.checks[0].not_running);
    assert_eq!(round.checks[0].assess(&provider).state, State::Operational);
    ollama.abort();
    let _ = ollama.await;
    let round = checker.run(&[&provider], &check, true, chrono::Utc::now()).await;
    assert!(round.checks[0].probe.as_ref().unwrap().class.is_unreachable());
    assert!(!round.checks[0].not_running, "it has been seen up");
    assert_eq!(round.checks[0].assess(&provider).state, State::Outage);
}
