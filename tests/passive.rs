//! Passive signals from the user's own coding agents: the session-log parsers
//! on lines the real Claude Code and Codex CLIs wrote (captured against a
//! failing fake, see `tests/fixtures/passive/README.md`), the follower on a
//! live directory (appends, partial lines, truncation, rotation, new session
//! directories, huge and malformed lines), and `switchboard watch` end to end:
//! errors appended to a session file turn a key-less provider to `outage`
//! while its status page is green, and a canary planted in the user's prompt
//! appears nowhere Switchboard writes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use chrono::{SecondsFormat, Utc};
use serde_json::Value;
use switchboard::passive::follow::Follower;
use switchboard::passive::{claude_code, codex, Agent, AgentError, LogLine, MAX_LINE};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/passive")
}

/// The words planted in the captured sessions' prompts and answers.
const CANARIES: [&str; 4] = ["CANARY-PROMPT", "CANARY-ANSWER", "CANARY-c0d3", "CANARY"];

fn parse_file(agent: Agent, file: &Path) -> Vec<LogLine> {
    let text = std::fs::read(file).unwrap();
    text.split(|&b| b == b'\n')
        .filter_map(|line| match agent {
            Agent::ClaudeCode => claude_code::parse(line),
            Agent::Codex => codex::parse(line),
        })
        .collect()
}

fn errors(lines: &[LogLine]) -> Vec<&AgentError> {
    lines
        .iter()
        .filter_map(|l| match l {
            LogLine::Error(e) => Some(e),
            LogLine::Model(_) => None,
        })
        .collect()
}

#[test]
fn claude_code_sessions_as_the_cli_wrote_them() {
    for status in [401u16, 402, 429, 500, 503, 529] {
        let file = fixtures().join(format!("claude-code/session-{status}.jsonl"));
        let lines = parse_file(Agent::ClaudeCode, &file);
        let errs = errors(&lines);
        assert_eq!(errs.len(), 1, "{}: {lines:?}", file.display());
        let e = errs[0];
        assert_eq!(e.http_status, Some(status));
        assert_eq!(
            e.request_id.as_deref(),
            Some(format!("req_011CWfake{status}").as_str())
        );
        assert!(e.error_type.is_some(), "Claude Code's own word for the error");
        for canary in CANARIES {
            assert!(!format!("{lines:?}").contains(canary), "{canary} left the parser");
        }
    }
    // A session that answered once names the model its later error is about.
    let lines = parse_file(
        Agent::ClaudeCode,
        &fixtures().join("claude-code/session-ok-then-500.jsonl"),
    );
    assert_eq!(lines.first(), Some(&LogLine::Model("claude-sonnet-4-5".into())));
    assert_eq!(errors(&lines).len(), 1);
    assert!(!format!("{lines:?}").contains("CANARY"));
}

#[test]
fn codex_rollouts_as_the_cli_wrote_them() {
    for (status, word) in [
        (401u16, "http_connection_failed"),
        (402, "http_connection_failed"),
        (429, "usage_limit_exceeded"),
        (500, "internal_server_error"),
        (503, "http_connection_failed"),
        (529, "http_connection_failed"),
    ] {
        let file = fixtures().join(format!("codex/rollout-{status}.jsonl"));
        let lines = parse_file(Agent::Codex, &file);
        assert!(
            lines.contains(&LogLine::Model("gpt-5-codex".into())),
            "turn_context names the model"
        );
        let errs = errors(&lines);
        assert_eq!(errs.len(), 1, "{}: {lines:?}", file.display());
        assert_eq!(errs[0].http_status, Some(status), "{}", file.display());
        assert_eq!(errs[0].error_type.as_deref(), Some(word));
        let rendered = format!("{lines:?}");
        assert!(
            !rendered.contains("CANARY") && !rendered.contains("sk-test"),
            "{rendered}"
        );
    }
}

/// The captured error line of `fixture`, stamped with the current time (the
/// follower drops errors older than its window).
fn fresh_error_line(fixture: &str, request_id: &str) -> String {
    let text = std::fs::read_to_string(fixtures().join(fixture)).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("\"isApiErrorMessage\":true") || l.contains("codex_error_info"))
        .expect("an error line");
    let mut v: Value = serde_json::from_str(line).unwrap();
    v["timestamp"] = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true).into();
    if v.get("requestId").is_some() {
        v["requestId"] = request_id.into();
    }
    v.to_string()
}

/// Lines of a captured session that are not errors (the user's prompt with
/// its canary, Claude Code's bookkeeping, the successful answer).
fn other_lines(fixture: &str) -> String {
    let text = std::fs::read_to_string(fixtures().join(fixture)).unwrap();
    text.lines()
        .filter(|l| !l.contains("\"isApiErrorMessage\":true"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn append(file: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn poll(follower: &mut Follower, file: &Path) -> Vec<AgentError> {
    let mut out = Vec::new();
    follower.poll(file, &mut |e| {
        out.push(e);
        true
    });
    out
}

#[test]
fn follower_reads_appends_and_keeps_a_partial_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.jsonl");
    let mut f = Follower::new(Agent::ClaudeCode);
    append(&file, &other_lines("claude-code/session-ok-then-500.jsonl"));
    assert!(poll(&mut f, &file).is_empty(), "no error yet");
    let line = fresh_error_line("claude-code/session-500.jsonl", "req_a");
    let (head, tail) = line.split_at(40);
    append(&file, head);
    assert!(poll(&mut f, &file).is_empty(), "half a line waits");
    append(&file, &format!("{tail}\n"));
    let got = poll(&mut f, &file);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].request_id.as_deref(), Some("req_a"));
    assert_eq!(
        got[0].model.as_deref(),
        Some("claude-sonnet-4-5"),
        "the session's model"
    );
    assert!(poll(&mut f, &file).is_empty(), "nothing is read twice");
}

#[test]
fn follower_survives_truncation_rotation_and_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.jsonl");
    let mut f = Follower::new(Agent::ClaudeCode);
    append(
        &file,
        &format!("{}\n", fresh_error_line("claude-code/session-500.jsonl", "req_1")),
    );
    assert_eq!(poll(&mut f, &file).len(), 1);

    // Truncated and rewritten shorter: read from the start again.
    std::fs::write(
        &file,
        format!("{}\n", fresh_error_line("claude-code/session-529.jsonl", "req_2")),
    )
    .unwrap();
    let got = poll(&mut f, &file);
    assert_eq!(
        got.iter().map(|e| e.request_id.as_deref()).collect::<Vec<_>>(),
        [Some("req_2")]
    );

    // Rotated: renamed away and a new file (new inode) in its place, longer.
    std::fs::rename(&file, dir.path().join("old.jsonl")).unwrap();
    let long = format!(
        "{}\n{}\n",
        fresh_error_line("claude-code/session-503.jsonl", "req_3"),
        fresh_error_line("claude-code/session-503.jsonl", "req_4")
    );
    append(&file, &long);
    assert_eq!(poll(&mut f, &file).len(), 2);

    // Malformed, empty, binary and field-less lines: skipped, the next one read.
    append(
        &file,
        "{not json\n\n\u{0}\u{1}\n{\"type\":\"assistant\"}\n[1,2]\n",
    );
    append(
        &file,
        &format!("{}\n", fresh_error_line("claude-code/session-500.jsonl", "req_5")),
    );
    let got = poll(&mut f, &file);
    assert_eq!(
        got.iter().map(|e| e.request_id.as_deref()).collect::<Vec<_>>(),
        [Some("req_5")]
    );
}

#[test]
fn a_50_mib_line_is_skipped_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.jsonl");
    let mut f = Follower::new(Agent::ClaudeCode);
    append(&file, "{\"type\":\"user\",\"message\":{\"content\":\"");
    let chunk = "x".repeat(1 << 20);
    let mut peak = 0;
    for _ in 0..50 {
        append(&file, &chunk);
        assert!(poll(&mut f, &file).is_empty());
        peak = peak.max(f.buffered());
    }
    append(&file, "\"}}\n");
    append(
        &file,
        &format!(
            "{}\n",
            fresh_error_line("claude-code/session-500.jsonl", "req_after")
        ),
    );
    let got = poll(&mut f, &file);
    assert_eq!(got.len(), 1, "the line after the huge one is read");
    assert!(peak <= 2 * MAX_LINE, "held {peak} bytes for one line");
}

#[test]
fn old_errors_are_history_not_news() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.jsonl");
    // The captured lines carry their capture time: far outside the window.
    append(
        &file,
        &std::fs::read_to_string(fixtures().join("claude-code/session-500.jsonl")).unwrap(),
    );
    let mut f = Follower::new(Agent::ClaudeCode);
    assert!(poll(&mut f, &file).is_empty());
}

#[test]
fn on_start_existing_files_are_not_replayed_and_new_ones_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("-home-u-proj");
    std::fs::create_dir_all(&project).unwrap();
    let existing = project.join("a.jsonl");
    append(
        &existing,
        &format!(
            "{}\n",
            fresh_error_line("claude-code/session-500.jsonl", "req_old")
        ),
    );
    let mut f = Follower::new(Agent::ClaudeCode);
    f.start(dir.path());
    // The fresh file is positioned at its tail: its one error was before our
    // time here only if it is older than the window, so the line is read back.
    let got = poll(&mut f, &existing);
    assert!(got.len() <= 1);
    append(
        &existing,
        &format!(
            "{}\n",
            fresh_error_line("claude-code/session-500.jsonl", "req_new")
        ),
    );
    let got = poll(&mut f, &existing);
    assert_eq!(got.last().and_then(|e| e.request_id.as_deref()), Some("req_new"));

    // A new session directory and file after start: read from its beginning.
    let other = dir.path().join("-home-u-other");
    std::fs::create_dir_all(&other).unwrap();
    let new = other.join("b.jsonl");
    append(
        &new,
        &format!("{}\n", fresh_error_line("claude-code/session-529.jsonl", "req_b")),
    );
    assert_eq!(poll(&mut f, &new).len(), 1);
    assert_eq!(f.followed(), 2);
}

/// Regression: reading a directory or file raised an access notification,
/// which scheduled the next read: 73 % of a core while idle.
#[test]
fn the_followers_own_reads_do_not_wake_it() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("-home-u-p");
    std::fs::create_dir_all(&project).unwrap();
    let file = project.join("s.jsonl");
    append(&file, &other_lines("claude-code/session-ok-then-500.jsonl"));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (root, flag) = (dir.path().to_path_buf(), stop.clone());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let thread = std::thread::spawn(move || {
        let mut f = Follower::new(Agent::ClaudeCode);
        f.run(&root, &flag, &mut |e| {
            sink.lock().unwrap().push(e);
            true
        });
        f.opened()
    });
    std::thread::sleep(Duration::from_millis(500));
    append(
        &file,
        &format!("{}\n", fresh_error_line("claude-code/session-500.jsonl", "req_w")),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let opened = thread.join().unwrap();
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the appended error arrived through notifications"
    );
    // Start: the root and the project directory; then the one file, once.
    assert!(
        opened <= 5,
        "opened files and directories {opened} times for one append"
    );
}

#[test]
fn codex_follower_reads_only_rollouts() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("2026/12/07");
    std::fs::create_dir_all(&day).unwrap();
    let mut f = Follower::new(Agent::Codex);
    let rollout = day.join("rollout-2026-12-07T02-32-34-x.jsonl");
    append(
        &rollout,
        &std::fs::read_to_string(fixtures().join("codex/rollout-503.jsonl")).unwrap(),
    );
    assert!(poll(&mut f, &rollout).is_empty(), "captured at another time");
    append(
        &rollout,
        &format!("{}\n", fresh_error_line("codex/rollout-503.jsonl", "")),
    );
    let got = poll(&mut f, &rollout);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].model.as_deref(), Some("gpt-5-codex"));
    assert_eq!(got[0].request_id.as_deref(), Some("req_codex503"));
}

// ---- `switchboard watch` end to end -----------------------------------------

struct Watch {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
    _page: MockServer,
}

impl Watch {
    async fn start(passive_on: bool) -> Watch {
        let page = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/summary.json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(crate::cli::claude_page_green()))
            .mount(&page)
            .await;
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = format!(
            r#"use_catalog = false
preferred = "anthropic"

[check]
interval_secs = 1
confirm_secs = 1

[server]
listen = "127.0.0.1:{port}"

[gateway]
enabled = false

[passive]
claude_code = {passive_on}

[[providers]]
id = "anthropic"
kind = "anthropic"
name = "Claude API"
base_url = "http://127.0.0.1:9"
status_page = "{page}"
status_format = "statuspage"
components = ["k8w3r06qmzrp"]
api_key_env = "SWITCHBOARD_TEST_NO_SUCH_KEY"

[[providers]]
id = "claude-code"
kind = "status"
name = "Claude Code"
status_page = "{page}"
status_format = "statuspage"
components = ["yyzkbfz2thpt"]
"#,
            page = page.uri()
        );
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config).unwrap();
        std::fs::create_dir_all(dir.path().join("home/.claude/projects")).unwrap();
        let child = Command::cargo_bin("switchboard")
            .unwrap()
            .args(["watch"])
            .env("SWITCHBOARD_CONFIG", &config_path)
            .env("HOME", dir.path().join("home"))
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("CLAUDE_CODE_USE_BEDROCK")
            .env_remove("CLAUDE_CODE_USE_VERTEX")
            .env("XDG_CONFIG_HOME", dir.path().join("xdg-config"))
            .env("XDG_DATA_HOME", dir.path().join("xdg-data"))
            .env("RUST_LOG", "debug")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("stdout")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap())
            .spawn()
            .unwrap();
        Watch {
            dir,
            child,
            port,
            _page: page,
        }
    }

    fn session_dir(&self) -> PathBuf {
        self.dir.path().join("home/.claude/projects/-home-user-project")
    }

    fn url(&self, p: &str) -> String {
        format!("http://127.0.0.1:{}{p}", self.port)
    }

    async fn get(&self, p: &str) -> Option<String> {
        reqwest::get(self.url(p)).await.ok()?.text().await.ok()
    }

    async fn provider(&self, id: &str) -> Option<Value> {
        let status: Value = serde_json::from_str(&self.get("/api/status").await?).ok()?;
        status["providers"]
            .as_array()?
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
    }

    /// Waits until the first rounds are in (the page read, the follower started).
    async fn ready(&self) {
        let started = Instant::now();
        loop {
            if let Some(p) = self.provider("anthropic").await {
                if p["state"] == "operational" {
                    break;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(20), "{}", self.stderr());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The follower starts with the engine; give its watch a moment.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a session as Claude Code does (prompt with the canary, an answer),
/// then three real-format 500s a second apart; returns when the first was written.
async fn fail_three_times(session_dir: PathBuf, first: std::sync::Arc<std::sync::OnceLock<Instant>>) {
    std::fs::create_dir_all(&session_dir).unwrap();
    let file = session_dir.join("7eee6715-05b0-4831-8355-0651aab4b58b.jsonl");
    append(&file, &other_lines("claude-code/session-ok-then-500.jsonl"));
    let _ = first.set(Instant::now());
    for i in 0..3 {
        if i > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let id = format!("req_011CWlive{i}");
        append(
            &file,
            &format!("{}\n", fresh_error_line("claude-code/session-500.jsonl", &id)),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_errors_turn_a_keyless_provider_to_outage_and_leak_nothing() {
    let watch = Watch::start(true).await;
    watch.ready().await;
    let info: Value = serde_json::from_str(&watch.get("/api/passive").await.unwrap()).unwrap();
    assert_eq!(info[0]["agent"], "claude_code");
    assert_eq!(info[0]["enabled"], true);
    assert_eq!(info[0]["found"], true);

    let first = std::sync::Arc::new(std::sync::OnceLock::new());
    let writer = tokio::spawn(fail_three_times(watch.session_dir(), first.clone()));
    let mut anthropic = Value::Null;
    let mut detected = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(p) = watch.provider("anthropic").await {
            if p["state"] == "outage" {
                detected.get_or_insert_with(|| first.get().expect("written before it was seen").elapsed());
                anthropic = p;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let detected = detected.unwrap_or_else(|| panic!("no outage; stderr:\n{}", watch.stderr()));
    eprintln!("passive: first error line to outage: {} ms", detected.as_millis());
    assert!(
        anthropic["credential"] == "none" || anthropic["credential"] == "unavailable",
        "no key: the outage came from the session log: {anthropic}"
    );
    let summary = anthropic["summary"].as_str().unwrap();
    assert!(summary.contains("HTTP 500"), "{summary}");
    assert!(summary.contains("Claude Code"), "{summary}");
    assert!(summary.contains("req_011CWlive"), "{summary}");
    // An error read from a log was not timed: no 0 s sample in the latency
    // histogram (the keyless provider has no probe of its own). The report's
    // `latency_ms: null` is pinned in `passive::tests::an_agent_error_has_no_latency`.
    let metrics = watch.get("/metrics").await.unwrap();
    assert!(
        !metrics.contains("switchboard_probe_latency_seconds_count{provider=\"anthropic\"}"),
        "{metrics}"
    );
    let card = &anthropic["agent_errors"];
    assert_eq!(card["agent"], "claude_code");
    assert_eq!(card["model"], "claude-sonnet-4-5");
    assert!(
        card["summary"]
            .as_str()
            .unwrap()
            .starts_with("seen in your Claude Code sessions:"),
        "{card}"
    );
    let surface = watch.provider("claude-code").await.unwrap();
    assert_eq!(
        surface["state"], "outage",
        "the claude-code surface counts it too"
    );

    // The outage holds while the errors are fresh, although the page is green.
    writer.await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let again = watch.provider("anthropic").await.unwrap();
    assert_eq!(again["state"], "outage", "{again}");
    let card = &again["agent_errors"];
    assert_eq!(card["count"], 3, "{card}");

    // The canary planted in the user's prompt and the answer is nowhere.
    let mut outputs = vec![
        watch.get("/api/status").await.unwrap(),
        watch.get("/api/history?since=1h").await.unwrap(),
        watch.get("/metrics").await.unwrap(),
        watch.get("/api/passive").await.unwrap(),
        watch.stderr(),
        std::fs::read_to_string(watch.dir.path().join("stdout")).unwrap(),
    ];
    let client = reqwest::Client::new();
    let mut events = client.get(watch.url("/api/events")).send().await.unwrap();
    if let Ok(Ok(Some(chunk))) = tokio::time::timeout(Duration::from_secs(3), events.chunk()).await {
        outputs.push(String::from_utf8_lossy(&chunk).into_owned());
    }
    for entry in walk(&watch.dir.path().join("xdg-data")) {
        outputs.push(String::from_utf8_lossy(&std::fs::read(entry).unwrap()).into_owned());
    }
    assert!(
        outputs[0].contains("req_011CWlive"),
        "the check itself saw the errors"
    );
    for (i, out) in outputs.iter().enumerate() {
        for canary in CANARIES {
            assert!(!out.contains(canary), "output {i} carries {canary}:\n{out}");
        }
        assert!(
            !out.contains("-home-user-project"),
            "output {i} names the session's path"
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passive_off_the_same_lines_change_nothing() {
    let watch = Watch::start(false).await;
    watch.ready().await;
    fail_three_times(watch.session_dir(), Default::default()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p = watch.provider("anthropic").await.unwrap();
    assert_eq!(p["state"], "operational", "{p}");
    assert!(p.get("agent_errors").is_none(), "{p}");

    // Turned on from the dashboard's API: saved to the file, and followed at once.
    let token = std::fs::read_to_string(watch.dir.path().join("token"))
        .unwrap_or_default()
        .trim()
        .to_string();
    let origin = format!("http://127.0.0.1:{}", watch.port);
    let r = reqwest::Client::new()
        .put(watch.url("/api/passive"))
        .header("x-switchboard-token", token)
        .header("origin", origin)
        .json(&serde_json::json!({"claude_code": true}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    let saved = std::fs::read_to_string(watch.dir.path().join("config.toml")).unwrap();
    assert!(saved.contains("claude_code = true"), "{saved}");
}
