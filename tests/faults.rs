//! Faults with real processes (issue 16): the `switchboard` binary killed with
//! SIGKILL while it writes its history or rewrites the config. (The clock
//! jumping backwards is in `engine.rs`, on the engine's virtual clock.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use switchboard::config::Config;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Env {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Env {
    fn new(config: &str) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config).expect("write config");
        Env {
            dir,
            config: config_path,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("switchboard").expect("binary");
        c.args(args)
            .env("SWITCHBOARD_CONFIG", &self.config)
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
            .env("XDG_DATA_HOME", self.dir.path().join("xdg-data"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.dir.path().join("none"))
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for name in [
            "ANTHROPIC_API_KEY",
            "OPENAI_API_KEY",
            "GEMINI_API_KEY",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_BEARER_TOKEN_BEDROCK",
            "AWS_PROFILE",
            "ANTHROPIC_VERTEX_PROJECT_ID",
            "GOOGLE_CLOUD_PROJECT",
        ] {
            c.env_remove(name);
        }
        c
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("xdg-data/switchboard/history.sqlite3")
    }
}

fn kill_9(child: &mut Child) {
    // `Child::kill` is SIGKILL on Unix: no destructors, no WAL checkpoint.
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Two providers on one fake, probed every second: one answers, one fails.
async fn fake_upstream() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ok/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5",
                      "created_at": "2025-09-29T00:00:00Z"}], "has_more": false})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/bad/v1/models"))
        .respond_with(ResponseTemplate::new(500).set_body_raw(
            r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_1"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    server
}

fn watch_config(upstream: &str, port: u16) -> String {
    format!(
        r#"use_catalog = false
preferred = "ok"
[check]
interval_secs = 1
confirm_secs = 1
[server]
listen = "127.0.0.1:{port}"
[gateway]
enabled = false
[[providers]]
id = "ok"
kind = "anthropic"
base_url = "{upstream}/ok"
api_key_env = "FAULT_KEY"
[[providers]]
id = "bad"
kind = "anthropic"
base_url = "{upstream}/bad"
api_key_env = "FAULT_KEY"
"#
    )
}

async fn status(port: u16) -> Option<Value> {
    let r = reqwest::get(format!("http://127.0.0.1:{port}/api/status"))
        .await
        .ok()?;
    r.json().await.ok()
}

/// Rows of `checks` of the round at `at_ms`, and the result of `PRAGMA integrity_check`.
fn inspect(db: &Path, at_ms: i64) -> (i64, String) {
    let conn = rusqlite::Connection::open(db).expect("open the history after the kill");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM checks WHERE at = ?1", [at_ms], |r| r.get(0))
        .expect("count checks");
    (rows, integrity)
}

/// `kill -9` of `switchboard watch` while it records a round every second,
/// three times on the same database: each time SQLite's integrity check
/// passes, and the round the API published a second before the kill is on
/// disk. The next start opens the database the killed one left (hot WAL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_watch_while_recording_keeps_the_history_intact_and_the_rounds_before() {
    let upstream = fake_upstream().await;
    let port = free_port();
    let env = Env::new(&watch_config(&upstream.uri(), port));
    {
        for run in 0..3 {
            std::fs::write(&env.config, watch_config(&upstream.uri(), port)).expect("config");
            let mut child = env
                .cmd(&["watch"])
                .env("FAULT_KEY", "sk-fault")
                .spawn()
                .expect("watch");
            // Wait for two published rounds after the start.
            let mut seen = Vec::new();
            for _ in 0..120 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if let Some(v) = status(port).await {
                    let at = v["checked_at"].as_str().unwrap_or_default().to_string();
                    let probed = v["providers"][0]["probe"].is_object();
                    if probed && seen.last() != Some(&at) {
                        seen.push(at);
                        if seen.len() >= 2 {
                            break;
                        }
                    }
                }
            }
            assert!(seen.len() >= 2, "run {run}: watch published no rounds");
            let round = chrono::DateTime::parse_from_rfc3339(&seen[1]).expect("checked_at");
            // The recorder runs beside the API: give it a second, then kill
            // while the next rounds are being written.
            tokio::time::sleep(Duration::from_millis(1000)).await;
            kill_9(&mut child);
            let (rows, integrity) = inspect(&env.db(), round.timestamp_millis());
            assert_eq!(integrity, "ok", "run {run}");
            assert!(
                rows >= 2,
                "run {run}: the round of {} (both providers) is not on disk: {rows} rows",
                seen[1]
            );
        }
        // The history command reads what the three killed runs left.
        let out = env
            .cmd(&["history", "--json"])
            .stdout(Stdio::piped())
            .output()
            .expect("history");
        assert!(out.status.success(), "history after kills: {out:?}");
        let v: Value = serde_json::from_slice(&out.stdout).expect("history JSON");
        assert!(
            v.to_string().contains("\"bad\""),
            "the failing provider's incident is in the history: {v}"
        );
    }
}

/// The config `prefer` rewrites: a big file, so that a torn write would show.
fn prefer_config(preferred: &str) -> String {
    let mut text = format!(
        "# Switchboard config (fault test)\nuse_catalog = false\npreferred = \"{preferred}\"\n\
         fallback = [\"a\", \"b\"]\n\n[[providers]]\nid = \"a\"\nkind = \"openai-compatible\"\n\
         base_url = \"http://127.0.0.1:1/v1\"\n\n[[providers]]\nid = \"b\"\nkind = \"openai-compatible\"\n\
         base_url = \"http://127.0.0.1:2/v1\"\n\n"
    );
    for i in 0..4000 {
        text.push_str(&format!(
            "# padding line {i}: comments survive a rewrite, so they must not be cut\n"
        ));
    }
    text
}

/// `kill -9` of `switchboard prefer` at 40 moments spread over its run: the
/// file is always the old config or the new one, whole, never a torn mix.
#[test]
fn kill_9_during_prefer_leaves_the_old_or_the_new_config_never_a_torn_one() {
    let env = Env::new(&prefer_config("a"));
    let full = prefer_config("a").len();
    // How long an uninterrupted `prefer` takes here, to spread the kills over it.
    let started = std::time::Instant::now();
    let ok = env.cmd(&["prefer", "b"]).status().expect("prefer");
    assert!(ok.success());
    let whole = started.elapsed();
    let mut outcomes = [0usize; 2];
    for i in 0..40u32 {
        let before = Config::load(&env.config)
            .expect("valid before")
            .preferred
            .expect("preferred");
        let target = if before == "a" { "b" } else { "a" };
        let mut child = env.cmd(&["prefer", target]).spawn().expect("prefer");
        std::thread::sleep(whole.mul_f64(f64::from(i) / 40.0));
        kill_9(&mut child);
        let text = std::fs::read_to_string(&env.config).expect("config readable");
        let cfg = Config::parse(&text, &env.config)
            .unwrap_or_else(|e| panic!("kill {i}: torn config ({} of ~{full} bytes): {e}", text.len()));
        let now = cfg.preferred.expect("preferred kept");
        assert!(now == before || now == target, "kill {i}: preferred {now}");
        assert!(
            text.contains("# padding line 3999:"),
            "kill {i}: the file lost its tail"
        );
        outcomes[usize::from(now == target)] += 1;
    }
    // Temp files of killed writers never replace the config, and the next
    // write removes them.
    let stray = stray_files(env.dir.path());
    eprintln!(
        "prefer kills: {} left the old file, {} the new; stray files: {stray:?}",
        outcomes[0], outcomes[1]
    );
    assert!(env.cmd(&["prefer", "a"]).status().expect("prefer").success());
    assert_eq!(
        stray_files(env.dir.path()),
        Vec::<String>::new(),
        "after a whole prefer"
    );
}

/// Files beside the config other than the config and the test's XDG dirs.
fn stray_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "config.toml" && n != "xdg-config" && n != "xdg-data")
        .collect();
    names.sort();
    names
}

/// A process id that is not alive: a child that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("spawn true");
    let pid = child.id();
    child.wait().expect("reaped");
    pid
}

/// A `prefer` killed between writing its temp file and renaming it leaves
/// `.config.toml.<pid>.tmp` behind. The next config write removes every such
/// file whose writer is dead, and only those: a live writer's temp file (here
/// one named after this test's own pid) and unrelated files stay.
#[test]
fn the_next_config_write_removes_temp_files_of_killed_writers() {
    let env = Env::new(&prefer_config("a"));
    let dir = env.dir.path();
    let dead = [dead_pid(), dead_pid()];
    for pid in dead {
        // What a killed writer leaves: a part of the new config.
        std::fs::write(
            dir.join(format!(".config.toml.{pid}.tmp")),
            &prefer_config("b")[..500],
        )
        .expect("stale temp");
    }
    let live = format!(".config.toml.{}.tmp", std::process::id());
    std::fs::write(dir.join(&live), "being written").expect("live temp");
    std::fs::write(dir.join(".other.toml.1.tmp"), "not ours").expect("other file");
    std::fs::write(dir.join(".config.toml.notapid.tmp"), "not ours").expect("other file");

    assert!(env.cmd(&["prefer", "b"]).status().expect("prefer").success());

    assert_eq!(
        stray_files(dir),
        vec![
            live,
            ".config.toml.notapid.tmp".to_string(),
            ".other.toml.1.tmp".to_string()
        ],
        "the dead writers' temp files ({dead:?}) are gone, the rest stays"
    );
    let cfg = Config::load(&env.config).expect("config");
    assert_eq!(cfg.preferred.as_deref(), Some("b"));
}

/// Unmounts the small tmpfs of the full-disk test, whatever happens.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// The history database on a full disk (a 1 MiB tmpfs, filled up while `watch`
/// runs): monitoring goes on, every failed write is logged, `/api/status` says
/// `history_paused` (the dashboard's banner) with the reason, and recording
/// resumes by itself once space is freed, with an intact database and the
/// field gone. Needs root
/// to mount; skipped (with a message) where mounting is not allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_under_the_history_keeps_monitoring_and_recording_resumes() {
    let upstream = fake_upstream().await;
    let port = free_port();
    let env = Env::new(&watch_config(&upstream.uri(), port));
    let data = env.dir.path().join("xdg-data");
    std::fs::create_dir_all(&data).expect("data dir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&data)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (not root?)");
        return;
    }
    let _unmount = Mounted(data.clone());
    let log = env.dir.path().join("watch.log");
    let mut child = env
        .cmd(&["watch"])
        .env("FAULT_KEY", "sk-fault")
        .env("RUST_LOG", "warn")
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("watch");
    let checked_at = |v: &Value| v["checked_at"].as_str().unwrap_or_default().to_string();
    let mut first = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(v) = status(port).await {
            if v["providers"][0]["probe"].is_object() {
                first = Some(v);
                break;
            }
        }
    }
    assert!(first.is_some(), "watch never published a round");
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Fill the disk to the last byte.
    let filler = data.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).expect("filler");
        let block = vec![0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    // Monitoring goes on: new rounds keep coming, the failing provider is still
    // seen, and the API says that history is paused, and why.
    let mut rounds = std::collections::BTreeSet::new();
    let mut paused = None;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(v) = status(port).await {
            rounds.insert(checked_at(&v));
            assert_eq!(v["providers"][1]["state"], "outage", "{v}");
            if v["history_paused"].is_object() {
                paused = Some(v["history_paused"].clone());
            }
        }
    }
    assert!(rounds.len() >= 3, "rounds went on with the disk full: {rounds:?}");
    let paused = paused.expect("/api/status never said history_paused with the disk full");
    assert!(
        paused["reason"].as_str().unwrap_or_default().contains("full"),
        "the reason names the full disk: {paused}"
    );
    assert!(paused["since"]
        .as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("history: could not"),
        "the failed writes are logged:\n{text}"
    );
    assert!(
        child.try_wait().expect("wait").is_none(),
        "watch died on a full disk:\n{text}"
    );

    // Space comes back: recording resumes by itself, and the API stops saying paused.
    std::fs::remove_file(&filler).expect("free space");
    let resumed = chrono::Utc::now();
    let mut cleared = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(v) = status(port).await {
            if v.get("history_paused").is_none_or(Value::is_null) {
                cleared = true;
                break;
            }
        }
    }
    assert!(cleared, "history_paused stayed on after space came back");
    tokio::time::sleep(Duration::from_millis(3000)).await;
    kill_9(&mut child);
    let (_, integrity) = inspect(&env.db(), 0);
    assert_eq!(integrity, "ok");
    let conn = rusqlite::Connection::open(env.db()).expect("open");
    let after: i64 = conn
        .query_row(
            "SELECT count(*) FROM checks WHERE at >= ?1",
            [resumed.timestamp_millis()],
            |r| r.get(0),
        )
        .expect("count");
    assert!(
        after >= 2,
        "recording resumed after the disk was freed ({after} rows since)"
    );
}

/// The Secret Service killed while `watch` runs with a key in it, then started
/// again (`tests/faults/keyring_daemon.sh`, in a private bus and keyring of its
/// own): the credential turns `unavailable` at once, the provider goes to
/// `unknown` ("keyring unavailable"), never an outage, `watch` lives on, and
/// once the daemon is back the key is read again and probes resume.
/// Regression: the `keyring` crate kept its one Secret Service session to the
/// dead daemon for the life of the process, so Switchboard stayed
/// `unavailable`; `KeyringStore` now reconnects after a failure (with backoff).
/// Needs `dbus-run-session` and gnome-keyring (`make setup`); skipped with a
/// note where they are missing, unless the keyring is required.
#[test]
fn keyring_daemon_killed_mid_run_is_a_clear_state_and_recovers_when_it_returns() {
    let missing: Vec<_> = ["dbus-run-session", "gnome-keyring-daemon", "dbus-send", "curl"]
        .into_iter()
        .filter(|tool| {
            !std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .any(|d| d.join(tool).is_file())
        })
        .collect();
    if !missing.is_empty() {
        assert!(
            !crate::common::keyring_required(),
            "the keyring fault needs {missing:?}"
        );
        eprintln!("note: skipping the keyring fault: {missing:?} not installed (make setup)");
        return;
    }
    let bin = assert_cmd::cargo::cargo_bin("switchboard");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join("scripts/with-secret-service.sh"))
        .arg(root.join("tests/faults/keyring_daemon.sh"))
        .arg(&bin)
        .output()
        .expect("run the keyring scenario");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("keyring_daemon: ok"),
        "{stderr}"
    );
}
