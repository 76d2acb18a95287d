//! The `switchboard` binary end to end, against fake providers and status pages
//! on 127.0.0.1: the seed scenario, exit codes, concurrency, `prefer`,
//! `providers`, config errors, and keys through the real keyring.

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SEED_BODY: &str = r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#;

/// A Statuspage summary like Claude's, all green.
pub(crate) fn claude_page_green() -> Value {
    serde_json::json!({
        "page": {"id": "tymt9n04zgry", "name": "Claude", "url": "https://status.claude.com",
                 "time_zone": "Etc/UTC", "updated_at": "2026-11-24T09:58:12.104Z"},
        "components": [
            {"id": "rwppv331jlwc", "name": "claude.ai", "status": "operational", "group": false,
             "group_id": null, "position": 1, "only_show_if_degraded": false, "showcase": true,
             "created_at": "2023-07-11T15:16:54.014Z", "updated_at": "2026-11-20T08:01:00.000Z",
             "page_id": "tymt9n04zgry", "description": null, "start_date": null},
            {"id": "k8w3r06qmzrp", "name": "Claude API (api.anthropic.com)", "status": "operational",
             "group": false, "group_id": null, "position": 3, "only_show_if_degraded": false,
             "showcase": true, "created_at": "2023-07-11T15:16:54.014Z",
             "updated_at": "2026-11-20T08:01:00.000Z", "page_id": "tymt9n04zgry",
             "description": null, "start_date": null},
            {"id": "yyzkbfz2thpt", "name": "Claude Code", "status": "operational", "group": false,
             "group_id": null, "position": 4, "only_show_if_degraded": false, "showcase": true,
             "created_at": "2025-02-24T15:16:54.014Z", "updated_at": "2026-11-20T08:01:00.000Z",
             "page_id": "tymt9n04zgry", "description": null, "start_date": null}
        ],
        "incidents": [],
        "scheduled_maintenances": [],
        "status": {"indicator": "none", "description": "All Systems Operational"}
    })
}

pub(crate) fn models_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "data": [{"type": "model", "id": "claude-sonnet-4-5-20250929", "display_name": "Claude Sonnet 4.5",
                  "created_at": "2025-09-29T00:00:00Z"}],
        "has_more": true, "first_id": "claude-sonnet-4-5-20250929", "last_id": "claude-sonnet-4-5-20250929"
    }))
}

pub(crate) struct Env {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) config: PathBuf,
}

impl Env {
    pub(crate) fn new(config: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config).unwrap();
        Env { dir, config: path }
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::cargo_bin("switchboard").unwrap();
        c.args(args)
            .env("SWITCHBOARD_CONFIG", &self.config)
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
            .env("XDG_DATA_HOME", self.dir.path().join("xdg-data"))
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("OPENAI_API_KEY")
            .env_remove("GEMINI_API_KEY")
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null());
        // Calls go to the tests' fakes on 127.0.0.1, never through a proxy
        // this machine may name.
        for name in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "NO_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "no_proxy",
        ] {
            c.env_remove(name);
        }
        // The catalog's Bedrock and Vertex would otherwise probe real AWS and
        // Google with whatever credentials this machine has.
        for name in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_BEARER_TOKEN_BEDROCK",
            "AWS_PROFILE",
            "ANTHROPIC_VERTEX_PROJECT_ID",
            "GOOGLE_CLOUD_PROJECT",
            "CLOUDSDK_CORE_PROJECT",
        ] {
            c.env_remove(name);
        }
        c.env(
            "AWS_SHARED_CREDENTIALS_FILE",
            self.dir.path().join("no-aws-credentials"),
        );
        c
    }

    pub(crate) async fn run(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        let mut c = self.cmd(args);
        for (k, v) in envs {
            c.env(k, v);
        }
        tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap()
    }
}

pub(crate) fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn anthropic_config(api: &str, page: &str) -> String {
    format!(
        r#"# test config
use_catalog = false
preferred = "anthropic"

[[providers]]
id = "anthropic"
kind = "anthropic"
name = "Claude API"
base_url = "{api}"
status_page = "{page}"
status_format = "statuspage"
components = ["k8w3r06qmzrp"]
api_key_env = "ANTHROPIC_API_KEY"
"#
    )
}

/// The seed scenario: a 500 `api_error` after 12 s while the page is all green.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_500_after_12s_is_an_unacknowledged_outage() {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(header("x-api-key", "sk-ant-test-seed"))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy")
                .insert_header("content-type", "application/json")
                .set_body_string(SEED_BODY)
                .set_delay(Duration::from_secs(12)),
        )
        .mount(&api)
        .await;
    let page = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/summary.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(claude_page_green()))
        .mount(&page)
        .await;

    let env = Env::new(&anthropic_config(&api.uri(), &page.uri()));
    let out = env
        .run(
            &["status", "--json"],
            &[("ANTHROPIC_API_KEY", "sk-ant-test-seed")],
        )
        .await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    assert_eq!(v["overall"], "outage");
    assert_eq!(v["preferred"], "anthropic");
    let p = &v["providers"][0];
    assert_eq!(p["id"], "anthropic");
    assert_eq!(p["state"], "outage");
    assert_eq!(p["confirmed_by_status_page"], false);
    assert_eq!(p["summary"], "HTTP 500 api_error: Internal server error");
    assert_eq!(p["probe"]["ok"], false);
    assert_eq!(p["probe"]["http_status"], 500);
    assert_eq!(p["probe"]["error_type"], "api_error");
    assert_eq!(p["probe"]["message"], "Internal server error");
    assert_eq!(p["probe"]["request_id"], "req_011CSHoEeqs5C35K2UUqR7Fy");
    assert!(
        p["probe"]["latency_ms"].as_u64().unwrap() >= 12_000,
        "{}",
        p["probe"]
    );
    assert_eq!(p["status_page"]["indicator"], "none");
    assert_eq!(p["status_page"]["description"], "All Systems Operational");
    assert_eq!(p["status_page"]["components"][0]["status"], "operational");
    assert!(chrono::DateTime::parse_from_rfc3339(v["checked_at"].as_str().unwrap()).is_ok());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("sk-ant-test-seed"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("sk-ant-test-seed"));

    // The table says the same in words.
    let out = env
        .run(&["status"], &[("ANTHROPIC_API_KEY", "sk-ant-test-seed")])
        .await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text.contains("HTTP 500 api_error: Internal server error"),
        "{text}"
    );
    assert!(text.contains("req_011CSHoEeqs5C35K2UUqR7Fy"), "{text}");
    assert!(text.contains("not yet on the status page"), "{text}");
}

pub(crate) async fn page_server(body: Value) -> MockServer {
    let page = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/summary.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&page)
        .await;
    page
}

async fn api_answering(status: u16, body: &str) -> MockServer {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("content-type", "application/json")
                .set_body_string(body),
        )
        .mount(&api)
        .await;
    api
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_follow_the_worst_state() {
    let page = page_server(claude_page_green()).await;
    let cases: [(u16, &str, i32, &str); 4] = [
        (200, r#"{"data":[],"has_more":false}"#, 0, "operational"),
        (
            529,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            1,
            "degraded",
        ),
        (
            429,
            r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your per-minute rate limit"}}"#,
            1,
            "rate_limited",
        ),
        (
            401,
            r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
            2,
            "auth_error",
        ),
    ];
    for (status, body, code, state) in cases {
        let api = api_answering(status, body).await;
        let env = Env::new(&anthropic_config(&api.uri(), &page.uri()));
        let out = env
            .run(&["status", "--json"], &[("ANTHROPIC_API_KEY", "sk-ant-x")])
            .await;
        assert_eq!(out.status.code(), Some(code), "HTTP {status}");
        assert_eq!(json(&out)["providers"][0]["state"], state, "HTTP {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_means_the_page_decides_and_a_bot_challenge_is_unknown() {
    let api = api_answering(500, SEED_BODY).await;
    let page = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(405)
                .insert_header("content-type", "text/html")
                .set_body_string(
                    "<html><head><title>Just a moment...</title></head><body>challenge</body></html>",
                ),
        )
        .mount(&page)
        .await;
    let env = Env::new(&anthropic_config(&api.uri(), &page.uri()));
    let out = env.run(&["status", "--json"], &[]).await;
    let v = json(&out);
    let p = &v["providers"][0];
    assert_eq!(p["probe"], Value::Null, "no key, no probe");
    // "none" with a Secret Service, "unavailable" without one: either way, no key.
    assert!(
        ["none", "unavailable"].contains(&p["credential"].as_str().unwrap()),
        "{p}"
    );
    assert_eq!(p["state"], "unknown", "{p}");
    assert_eq!(p["status_page"]["indicator"], "unknown");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        api.received_requests().await.unwrap().is_empty(),
        "nothing sent without a key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn degraded_page_with_passing_probe_is_degraded_in_its_words() {
    let mut body = claude_page_green();
    body["components"][1]["status"] = "degraded_performance".into();
    body["status"] = serde_json::json!({"indicator": "minor", "description": "Partially Degraded Service"});
    body["incidents"] = serde_json::json!([{
        "id": "p0xwbvr1rvzs", "name": "Elevated errors on Claude Sonnet 4.5", "status": "investigating",
        "impact": "minor", "shortlink": "https://stspg.io/p0xwbvr1rvzs",
        "created_at": "2026-11-24T09:41:07.412Z", "updated_at": "2026-11-24T09:41:07.412Z",
        "started_at": "2026-11-24T09:40:00.000Z", "monitoring_at": null, "resolved_at": null,
        "page_id": "tymt9n04zgry",
        "components": [{"id": "k8w3r06qmzrp", "name": "Claude API (api.anthropic.com)", "status": "degraded_performance"}],
        "incident_updates": []
    }]);
    let page = page_server(body).await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(models_ok())
        .mount(&api)
        .await;
    let env = Env::new(&anthropic_config(&api.uri(), &page.uri()));
    let out = env
        .run(&["status", "--json"], &[("ANTHROPIC_API_KEY", "k")])
        .await;
    let p = &json(&out)["providers"][0];
    assert_eq!(p["state"], "degraded");
    assert_eq!(p["confirmed_by_status_page"], true);
    assert!(
        p["summary"]
            .as_str()
            .unwrap()
            .contains("Elevated errors on Claude Sonnet 4.5"),
        "{p}"
    );
    assert_eq!(
        p["status_page"]["incidents"][0]["name"],
        "Elevated errors on Claude Sonnet 4.5"
    );
    assert_eq!(out.status.code(), Some(1));
}

/// Four providers that each take 3 s: concurrent checks take about 3 s, not 12.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_run_concurrently() {
    let page = page_server(claude_page_green()).await;
    let mut config = String::from("use_catalog = false\n");
    let mut servers = Vec::new();
    for i in 0..4 {
        let api = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(models_ok().set_delay(Duration::from_secs(3)))
            .mount(&api)
            .await;
        config.push_str(&format!(
            "[[providers]]\nid = \"p{i}\"\nkind = \"anthropic\"\nbase_url = \"{}\"\nstatus_page = \"{}\"\nstatus_format = \"statuspage\"\napi_key_env = \"ANTHROPIC_API_KEY\"\n",
            api.uri(),
            page.uri()
        ));
        servers.push(api);
    }
    let env = Env::new(&config);
    let started = Instant::now();
    let out = env
        .run(&["status", "--json"], &[("ANTHROPIC_API_KEY", "k")])
        .await;
    let took = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["providers"].as_array().unwrap().len(), 4);
    assert!(
        took < Duration::from_secs(9),
        "sequential would take 12 s; took {took:?}"
    );
    // One status-page fetch for four providers sharing the page.
    assert_eq!(page.received_requests().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_filter_and_unknown_provider() {
    let page = page_server(claude_page_green()).await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(models_ok())
        .mount(&api)
        .await;
    let mut cfg = anthropic_config(&api.uri(), &page.uri());
    cfg.push_str("\n[[providers]]\nid = \"claude-code\"\nstatus_page = \"");
    cfg.push_str(&page.uri());
    cfg.push_str("\"\nstatus_format = \"statuspage\"\n");
    let env = Env::new(&cfg);
    let out = env
        .run(&["status", "--json", "--provider", "claude-code"], &[])
        .await;
    let v = json(&out);
    assert_eq!(v["providers"].as_array().unwrap().len(), 1);
    assert_eq!(v["providers"][0]["id"], "claude-code");
    assert_eq!(v["providers"][0]["state"], "operational");
    assert_eq!(
        v["providers"][0]["status_page"]["components"][0]["name"],
        "Claude Code"
    );
    assert_eq!(out.status.code(), Some(0));

    let out = env.run(&["status", "--provider", "nope"], &[]).await;
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown provider \"nope\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_config_names_file_line_and_key_with_exit_2() {
    let env = Env::new("preferred = \"anthropic\"\n[check]\ntimeout_secs = \"soon\"\n");
    let out = env.run(&["status"], &[]).await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&env.config.display().to_string()), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("check.timeout_secs"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefer_rewrites_the_config_keeping_comments() {
    let page = page_server(claude_page_green()).await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(models_ok())
        .mount(&api)
        .await;
    let mut cfg = anthropic_config(&api.uri(), &page.uri());
    cfg.push_str(&format!(
        "\n# my backup\n[[providers]]\nid = \"openai\"\nbase_url = \"{}/v1\"\nstatus_page = \"{}\"\nstatus_format = \"statuspage\"\n",
        api.uri(),
        page.uri()
    ));
    let env = Env::new(&cfg);
    let out = env.run(&["prefer", "openai"], &[]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&env.config).unwrap();
    assert!(text.contains("preferred = \"openai\""), "{text}");
    assert!(
        text.contains("# test config") && text.contains("# my backup"),
        "{text}"
    );
    assert_eq!(
        text.replace("preferred = \"openai\"", "preferred = \"anthropic\""),
        cfg
    );

    let out = env.run(&["status", "--json"], &[]).await;
    assert_eq!(json(&out)["preferred"], "openai");

    let out = env.run(&["prefer", "nope"], &[]).await;
    assert_ne!(out.status.code(), Some(0));
    assert!(std::fs::read_to_string(&env.config)
        .unwrap()
        .contains("preferred = \"openai\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_lists_the_catalog_without_a_config_file() {
    let env = Env::new("");
    std::fs::remove_file(&env.config).unwrap();
    let out = env.run(&["providers"], &[]).await;
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for id in [
        "anthropic",
        "claude-ai",
        "claude-code",
        "openai",
        "gemini",
        "vertex",
        "bedrock",
        "openrouter",
        "ollama",
    ] {
        assert!(text.lines().any(|l| l.starts_with(id)), "{id} missing:\n{text}");
    }
    assert!(text.contains("https://status.claude.com"), "{text}");
}

/// `watch` serves the API, records history, logs a state change when the
/// provider fails, and stops cleanly on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_serves_the_api_logs_changes_and_stops_on_sigterm() {
    let page = page_server(claude_page_green()).await;
    let api = api_answering(500, SEED_BODY).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = anthropic_config(&api.uri(), &page.uri());
    cfg.push_str(&format!(
        "\n[check]\ninterval_secs = 1\nconfirm_secs = 1\n\n[server]\nlisten = \"127.0.0.1:{port}\"\n"
    ));
    let env = Env::new(&cfg);
    let mut cmd = env.cmd(&["watch"]);
    cmd.env("ANTHROPIC_API_KEY", "sk-ant-watch")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let client = reqwest::Client::new();
    let mut seen = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/api/status"))
            .send()
            .await
        {
            seen = r.json().await.unwrap();
            if seen["providers"][0]["state"] == "outage" {
                break;
            }
        }
    }
    assert_eq!(seen["providers"][0]["state"], "outage", "{seen}");
    let page_html = client
        .get(format!("http://127.0.0.1:{port}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page_html.contains("switchboard-token"), "the dashboard is served");
    // Ask politely, as a service manager would.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("anthropic: began: HTTP 500 api_error: Internal server error"),
        "{stdout}"
    );
    assert!(!stdout.contains("sk-ant-watch") && !stderr.contains("sk-ant-watch"));
    // The incident went to the history database.
    let db = env.dir.path().join("xdg-data/switchboard/history.sqlite3");
    assert!(db.exists(), "no history database at {}", db.display());
    let out = env.run(&["history", "--json"], &[]).await;
    let v = json(&out);
    assert_eq!(
        v["providers"][0]["incidents"][0]["cause"], "HTTP 500 api_error: Internal server error",
        "{v}"
    );
}

/// `key set` stores in the real Secret Service; the probe then uses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_set_is_used_by_the_probe_and_never_printed() {
    if !crate::common::secret_service_or_skip("key_set_is_used_by_the_probe_and_never_printed") {
        return;
    }
    let page = page_server(claude_page_green()).await;
    let api = MockServer::start().await;
    let secret = format!("sk-ant-cli-{}", std::process::id());
    Mock::given(method("GET"))
        .and(header("x-api-key", secret.as_str()))
        .respond_with(models_ok())
        .mount(&api)
        .await;
    // A distinct provider id keeps parallel test runs apart in the shared keyring.
    let id = format!("anthropic-cli-{}", std::process::id());
    let cfg = anthropic_config(&api.uri(), &page.uri())
        .replace("id = \"anthropic\"", &format!("id = \"{id}\""))
        .replace("preferred = \"anthropic\"", &format!("preferred = \"{id}\""));
    let env = Env::new(&cfg);

    let mut set = env.cmd(&["key", "set", &id]);
    set.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = set.spawn().unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{secret}\n").as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = env.run(&["key", "list"], &[]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with(&id) && l.contains("keyring")),
        "{text}"
    );
    assert!(!text.contains(&secret));

    let out = env.run(&["status", "--json"], &[]).await;
    let v = json(&out);
    assert_eq!(v["providers"][0]["state"], "operational", "{v}");
    assert_eq!(v["providers"][0]["credential"], "keyring");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&secret));
    assert!(!std::fs::read_to_string(&env.config).unwrap().contains(&secret));

    let out = env.run(&["key", "delete", &id], &[]).await;
    assert_eq!(out.status.code(), Some(0));
    let out = env.run(&["status", "--json"], &[]).await;
    assert_eq!(json(&out)["providers"][0]["credential"], "none");
}

/// Without any session bus the CLI explains instead of crashing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_set_without_a_keyring_is_a_clear_error() {
    let env = Env::new("");
    let mut c = env.cmd(&["key", "set", "anthropic"]);
    c.env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .stdin(std::process::Stdio::piped());
    let mut child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"sk-nothing-here\n")
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("could not store the key for anthropic"), "{err}");
    assert!(err.contains("keyring"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("sk-nothing-here"));
}

/// Regression: reqwest keeps `x-api-key` on a cross-host redirect, so probes
/// must not follow one (a hijacked or mistyped base_url would receive the key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_key_never_follows_a_redirect_to_another_host() {
    let page = page_server(claude_page_green()).await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(models_ok())
        .mount(&elsewhere)
        .await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/v1/models", elsewhere.uri())),
        )
        .mount(&api)
        .await;
    let env = Env::new(&anthropic_config(&api.uri(), &page.uri()));
    let out = env
        .run(&["status", "--json"], &[("ANTHROPIC_API_KEY", "sk-ant-redirect")])
        .await;
    let v = json(&out);
    assert_eq!(v["providers"][0]["probe"]["http_status"], 302, "{v}");
    assert_ne!(v["providers"][0]["state"], "operational");
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the key went to another host"
    );
}

/// Regression: piping into `head` made `println!` panic on the closed stdout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_stdout_is_not_a_panic() {
    let env = Env::new("");
    let bin = assert_cmd::cargo::cargo_bin("switchboard");
    let script = format!(
        "'{}' --config '{}' providers | head -c 1 >/dev/null",
        bin.display(),
        env.config.display()
    );
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .args(["-o", "pipefail", "-c", &script])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

async fn wait_for_status(port: u16, what: impl Fn(&Value) -> bool) -> Value {
    let client = reqwest::Client::new();
    let mut last = Value::Null;
    for _ in 0..60 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/api/status"))
            .send()
            .await
        {
            last = r.json().await.unwrap();
            if what(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("condition not reached; last report: {last}");
}

/// The running engine follows the config file: `prefer` from another shell
/// reaches the API, and a broken file is reported while the last good config
/// keeps running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_follows_config_edits_and_keeps_the_last_good_one() {
    let page = page_server(claude_page_green()).await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(models_ok())
        .mount(&api)
        .await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = anthropic_config(&api.uri(), &page.uri());
    cfg.push_str(&format!(
        "\n[[providers]]\nid = \"openai\"\nbase_url = \"{}/v1\"\nstatus_page = \"{}\"\nstatus_format = \"statuspage\"\n\n[server]\nlisten = \"127.0.0.1:{port}\"\n",
        api.uri(),
        page.uri()
    ));
    let env = Env::new(&cfg);
    let mut child = env
        .cmd(&["watch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_status(port, |v| {
        v["preferred"] == "anthropic" && v["providers"][0]["state"] != "unknown"
    })
    .await;

    let out = env.run(&["prefer", "openai"], &[]).await;
    assert_eq!(out.status.code(), Some(0));
    wait_for_status(port, |v| v["preferred"] == "openai").await;

    let good = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(
        &env.config,
        format!("{good}\n[check]\ninterval_secs = \"often\"\n"),
    )
    .unwrap();
    let v = wait_for_status(port, |v| v["config_error"].is_string()).await;
    let err = v["config_error"].as_str().unwrap();
    assert!(
        err.contains("check.interval_secs") && err.contains("line"),
        "{err}"
    );
    assert_eq!(v["preferred"], "openai", "the last good config stays in use");

    std::fs::write(&env.config, good).unwrap();
    wait_for_status(port, |v| v["config_error"].is_null()).await;
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `--version` names the release and the commit it was built from (build.rs),
/// so a bug report pins the code.
#[test]
fn version_names_the_release_and_the_commit() {
    let out = std::process::Command::cargo_bin("switchboard")
        .unwrap()
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("switchboard {} ({head})\n", env!("CARGO_PKG_VERSION"))
    );
}

/// A proxy the environment names (`HTTP_PROXY`, as reqwest and curl read it)
/// carries the gateway's calls: the gateway's own client hands them to
/// reqwest, which speaks to proxies. The provider's host does not resolve,
/// so only the proxy can have answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_calls_go_through_the_proxy_the_environment_names() {
    let proxy = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "sk-ant-via-proxy"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "msg_proxy", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "through the proxy"}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 3, "output_tokens": 3}
        })))
        .mount(&proxy)
        .await;
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (server, gateway) = (free(), free());
    let cfg = format!(
        r#"use_catalog = false
preferred = "anthropic"

[check]
interval_secs = 3600

[server]
listen = "127.0.0.1:{server}"

[gateway]
enabled = true
listen = "127.0.0.1:{gateway}"

[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "http://upstream.invalid"
status_format = "none"
api_key_env = "ANTHROPIC_API_KEY"
model = "claude-sonnet-4-5"
"#
    );
    let env = Env::new(&cfg);
    let mut cmd = env.cmd(&["watch"]);
    cmd.env("ANTHROPIC_API_KEY", "sk-ant-via-proxy")
        .env("HTTP_PROXY", proxy.uri())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let body = serde_json::json!({
        "model": "claude-sonnet-4-5", "max_tokens": 16,
        "messages": [{"role": "user", "content": "hi"}]
    });
    let mut answer = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Ok(r) = client
            .post(format!("http://127.0.0.1:{gateway}/v1/messages"))
            .json(&body)
            .send()
            .await
        {
            answer = Some((r.status().as_u16(), r.text().await.unwrap()));
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let (status, text) = answer.expect("the gateway never answered");
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("through the proxy"), "{text}");
    let seen = proxy.received_requests().await.unwrap();
    let call = seen
        .iter()
        .find(|r| r.url.path() == "/v1/messages")
        .expect("the proxy carried the call");
    assert_eq!(call.url.host_str(), Some("upstream.invalid"), "{}", call.url);
}
