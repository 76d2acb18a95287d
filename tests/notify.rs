//! Desktop notifications end to end.
//!
//! In process: the notifier on a real engine with a scripted source and a
//! recording [`Notifier`] (the switch action, pause). With the binary:
//! `switchboard watch --notify` against wiremock fakes, with python3-dbusmock's
//! `notification_daemon` template as the notification server, each test on a
//! private `dbus-daemon` of its own (tests run in parallel, and only one
//! process can own org.freedesktop.Notifications on a bus). The helper
//! `tests/notify/fake_desktop.py` reads the server's recorded calls and sends
//! the user's click.
//!
//! Without dbus-daemon or dbusmock these tests skip with a note, unless CI or
//! SWITCHBOARD_REQUIRE_KEYRING=1 (what `make test` sets) requires them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;
use switchboard::check::{CheckSource, ProviderCheck, Round};
use switchboard::config::{CheckConfig, Config, Provider};
use switchboard::engine::{Engine, Event, SystemClock};
use switchboard::model::{CredentialSource, NetFailure, ProbeClass, ProbeReport, State};
use switchboard::notify::{
    spawn_notifier, Notice, NoticeKind, Notifier, NotifyError, Pause, Shown, SWITCH_ACTION,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// How long a test waits for something that should happen within a few rounds.
const WAIT: Duration = Duration::from_secs(20);
/// Poll period while waiting.
const POLL: Duration = Duration::from_millis(200);

const ERROR_500: &str = r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#;
const ERROR_401: &str =
    r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;

// ---- in process: the notifier on a real engine --------------------------------

const ENGINE_CONFIG: &str = r#"
use_catalog = false
preferred = "anthropic"
fallback = ["anthropic", "openai"]

[check]
interval_secs = 3600
confirm_secs = 3600

[[providers]]
id = "anthropic"
kind = "anthropic"
name = "Claude API"
base_url = "http://127.0.0.1:1"

[[providers]]
id = "openai"
kind = "openai"
name = "OpenAI API"
base_url = "http://127.0.0.1:2/v1"
"#;

/// Rounds whose probe results the test sets; rounds run on `check_now`.
#[derive(Default)]
struct Scripted {
    status: Mutex<HashMap<String, u16>>,
}

impl Scripted {
    fn set(&self, id: &str, status: u16) {
        self.status.lock().unwrap().insert(id.to_string(), status);
    }
}

impl CheckSource for Scripted {
    fn run_round<'a>(
        &'a self,
        providers: &'a [&'a Provider],
        _check: &'a CheckConfig,
        _fetch_pages: bool,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Round> {
        let status = self.status.lock().unwrap().clone();
        Box::pin(async move {
            let checks = providers
                .iter()
                .map(|p| {
                    let code = status.get(&p.id).copied().unwrap_or(200);
                    let class = match code {
                        200 => ProbeClass::Ok,
                        0 => ProbeClass::Unreachable {
                            failure: NetFailure::Refused,
                        },
                        _ => ProbeClass::ServerError,
                    };
                    ProviderCheck {
                        id: p.id.clone(),
                        credential: CredentialSource::Env,
                        keyring_error: None,
                        probe: Some(ProbeReport {
                            ok: class == ProbeClass::Ok,
                            http_status: (code != 0).then_some(code),
                            error_type: (code >= 500).then(|| "api_error".to_string()),
                            message: None,
                            request_id: None,
                            latency_ms: Some(5),
                            at: now,
                            retry_after_secs: None,
                            class,
                        }),
                        page: None,
                        not_running: false,
                    }
                })
                .collect();
            Round {
                at: now,
                checks,
                offline: false,
            }
        })
    }
}

/// A notice as the recording notifier saw it, with the way to "click" its action.
struct Recorded {
    notice: Notice,
    replaces: Option<u32>,
    click: Option<std::sync::mpsc::Sender<String>>,
}

/// Records notices; a notice with an action waits for the test's click.
struct Recording {
    tx: tokio::sync::mpsc::UnboundedSender<Recorded>,
    next_id: AtomicUsize,
}

impl Notifier for Recording {
    fn show(&self, notice: &Notice, replaces: Option<u32>) -> Result<Shown, NotifyError> {
        let id = replaces.unwrap_or_else(|| self.next_id.fetch_add(1, Ordering::SeqCst) as u32 + 1);
        let (click, clicked) = std::sync::mpsc::channel::<String>();
        let wait = notice
            .switch_to
            .is_some()
            .then(|| Box::new(move || clicked.recv().ok()) as switchboard::notify::ActionWait);
        let _ = self.tx.send(Recorded {
            notice: notice.clone(),
            replaces,
            click: wait.is_some().then_some(click),
        });
        Ok(Shown { id, wait })
    }
}

async fn next_notice(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Recorded>) -> Recorded {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("no notice within 5 s")
        .expect("the notifier stopped")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switch_action_really_switches_and_pause_holds_notices() {
    let config = Config::parse(ENGINE_CONFIG, Path::new("/nonexistent/notify-test.toml")).unwrap();
    let config = Config { path: None, ..config };
    let settings = config.notifications.clone();
    let source = Arc::new(Scripted::default());
    let (engine, _task) = Engine::spawn(config, source.clone(), Arc::new(SystemClock));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let notifier = spawn_notifier(
        &engine,
        Arc::new(Recording {
            tx,
            next_id: AtomicUsize::new(0),
        }),
        settings,
    );
    let mut events = engine.subscribe();

    source.set("anthropic", 500);
    engine.check_now().await.unwrap();
    engine.check_now().await.unwrap();
    let began = next_notice(&mut rx).await;
    assert_eq!(began.notice.kind, NoticeKind::OutageBegan);
    assert_eq!(began.notice.summary, "Claude API: outage");
    assert_eq!(
        began.notice.action_label().as_deref(),
        Some("Switch to OpenAI API")
    );
    assert_eq!(began.replaces, None);

    // The user clicks "Switch to OpenAI API".
    began
        .click
        .as_ref()
        .unwrap()
        .send(SWITCH_ACTION.to_string())
        .unwrap();
    let switched = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(Event::PreferredChanged { id }) = events.recv().await {
                return id;
            }
        }
    })
    .await
    .expect("the click did not switch");
    assert_eq!(switched, "openai");
    assert_eq!(engine.status().preferred.as_deref(), Some("openai"));

    // Paused: the recovery is held (logged, not shown)...
    notifier.set_pause(Pause::for_one_hour(Utc::now()));
    assert!(notifier.is_paused(Utc::now()));
    source.set("anthropic", 200);
    engine.check_now().await.unwrap();
    engine.check_now().await.unwrap();
    assert_eq!(engine.status().providers[0].state, State::Operational);
    let shown = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await;
    assert!(
        shown.is_err(),
        "shown while paused: {:?}",
        shown.map(|r| r.map(|r| r.notice))
    );

    // ...and shown on resume, in place of the stale outage notice.
    notifier.resume();
    assert_eq!(notifier.pause_state(), Pause::None);
    let recovered = next_notice(&mut rx).await;
    assert_eq!(recovered.notice.summary, "Claude API recovered");
    assert_eq!(recovered.replaces, Some(1));

    // A pause that runs out by itself: the outage still going on is announced
    // then, and offers the way back.
    let until = Utc::now() + chrono::TimeDelta::seconds(1);
    notifier.set_pause(Pause::Until(until));
    source.set("openai", 0);
    engine.check_now().await.unwrap();
    engine.check_now().await.unwrap();
    let next = next_notice(&mut rx).await;
    assert!(Utc::now() >= until, "shown during the pause");
    assert_eq!(next.notice.summary, "OpenAI API: outage", "{:?}", next.notice);
    assert_eq!(
        next.notice.action_label().as_deref(),
        Some("Switch to Claude API")
    );
    assert!(rx.try_recv().is_err(), "nothing else was shown");
    notifier.stop();
    engine.shutdown().await;
}

// ---- the fake desktop: a private bus with dbusmock's notification daemon ------

/// A bus that allows everything and activates nothing: no real notification
/// daemon (or keyring) can be started on it behind the test's back.
const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=DIR</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

fn helper_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/notify/fake_desktop.py")
}

/// A Python that has dbusmock and dbus-python (Debian's, when a pyenv or venv
/// `python3` comes first on PATH).
pub(crate) fn python_with_dbusmock() -> Option<&'static Path> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            ["python3", "/usr/bin/python3"]
                .into_iter()
                .map(PathBuf::from)
                .find(|py| {
                    Command::new(py)
                        .args(["-c", "import dbusmock, dbus"])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success())
                })
        })
        .as_deref()
}

fn has_dbus_daemon() -> bool {
    Command::new("dbus-daemon")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The fake desktop, or `None` (with a note) when its tools are missing. Under
/// CI or SWITCHBOARD_REQUIRE_KEYRING=1 a missing tool fails the test instead.
pub(crate) fn fake_desktop_or_skip(test: &str, with_server: bool) -> Option<FakeDesktop> {
    let missing = if !has_dbus_daemon() {
        Some("dbus-daemon is not installed (Debian package dbus)")
    } else if python_with_dbusmock().is_none() {
        Some("no python3 with dbusmock (Debian package python3-dbusmock)")
    } else {
        None
    };
    if let Some(why) = missing {
        if crate::common::keyring_required() {
            panic!("{test}: {why}, but CI or SWITCHBOARD_REQUIRE_KEYRING=1 requires it (run `make setup`)");
        }
        eprintln!("note: skipping {test}: {why}");
        return None;
    }
    Some(FakeDesktop::start(with_server))
}

pub(crate) struct FakeDesktop {
    dir: tempfile::TempDir,
    pub(crate) address: String,
    bus: Child,
    server: Option<Child>,
}

impl FakeDesktop {
    fn start(with_server: bool) -> FakeDesktop {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("bus.conf");
        std::fs::write(
            &conf,
            BUS_CONFIG.replace("DIR", &dir.path().display().to_string()),
        )
        .unwrap();
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start dbus-daemon");
        // The daemon prints its address once it listens.
        let stdout = bus.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let address = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("dbus-daemon printed no address")
            .trim()
            .to_string();
        assert!(address.starts_with("unix:"), "dbus-daemon said {address:?}");
        let mut desktop = FakeDesktop {
            dir,
            address,
            bus,
            server: None,
        };
        if with_server {
            let log = std::fs::File::create(desktop.log_path()).unwrap();
            let server = Command::new(python_with_dbusmock().unwrap())
                .args(["-m", "dbusmock", "--session", "-t", "notification_daemon"])
                .env("DBUS_SESSION_BUS_ADDRESS", &desktop.address)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("cannot start dbusmock");
            desktop.server = Some(server);
            let out = desktop.helper(&["wait-name", "15"]);
            assert!(
                out.status.success(),
                "the fake notification server did not start: {}{}",
                String::from_utf8_lossy(&out.stderr),
                desktop.server_log()
            );
        }
        desktop
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("dbusmock.log")
    }

    fn server_log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn helper(&self, args: &[&str]) -> std::process::Output {
        Command::new(python_with_dbusmock().unwrap())
            .arg(helper_script())
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("cannot run fake_desktop.py")
    }

    /// Every Notify call so far.
    fn calls(&self) -> Vec<Value> {
        let out = self.helper(&["calls"]);
        assert!(
            out.status.success(),
            "fake_desktop.py calls: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("calls is JSON")
    }

    /// Polls the calls until `done` holds; panics with `what` after [`WAIT`].
    async fn wait_calls(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let calls = tokio::task::block_in_place(|| self.calls());
            if done(&calls) {
                return calls;
            }
            assert!(
                started.elapsed() < WAIT,
                "{what}: not within {WAIT:?}; calls: {calls:#?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// What a user's click on the action `key` of notification `id` sends.
    fn emit_action(&self, id: u64, key: &str) {
        let out = self.helper(&["emit-action", &id.to_string(), key]);
        assert!(
            out.status.success(),
            "emit-action: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for FakeDesktop {
    fn drop(&mut self) {
        if let Some(server) = self.server.as_mut() {
            let _ = server.kill();
            let _ = server.wait();
        }
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

fn summaries(calls: &[Value]) -> Vec<&str> {
    calls.iter().filter_map(|c| c["summary"].as_str()).collect()
}

fn count(calls: &[Value], summary: &str) -> usize {
    summaries(calls).iter().filter(|s| **s == summary).count()
}

// ---- `switchboard watch --notify` -----------------------------------------------

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Claude's Statuspage summary with the "Claude API" component in `status`.
fn claude_page(indicator: &str, description: &str, status: &str) -> Value {
    serde_json::json!({
        "page": {"id": "tymt9n04zgry", "name": "Claude", "url": "https://status.claude.com"},
        "components": [
            {"id": "k8w3r06qmzrp", "name": "Claude API (api.anthropic.com)", "status": status,
             "group": false, "group_id": null}
        ],
        "incidents": [],
        "scheduled_maintenances": [],
        "status": {"indicator": indicator, "description": description}
    })
}

fn page_green() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(claude_page("none", "All Systems Operational", "operational"))
}

fn page_elevated() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(claude_page(
        "minor",
        "Elevated Error Rates",
        "degraded_performance",
    ))
}

fn models_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": [], "has_more": false}))
}

fn api_error(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json")
        .set_body_string(body)
}

/// A status page that flips between green and "Elevated Error Rates" on every
/// request until `recovered`, then stays green.
struct FlappingPage {
    requests: AtomicUsize,
    recovered: Arc<AtomicBool>,
}

impl Respond for FlappingPage {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.requests.fetch_add(1, Ordering::SeqCst);
        if self.recovered.load(Ordering::SeqCst) || n.is_multiple_of(2) {
            page_green()
        } else {
            page_elevated()
        }
    }
}

/// The Anthropic API: a 500 `api_error` until `recovered`.
struct FailingApi {
    recovered: Arc<AtomicBool>,
}

impl Respond for FailingApi {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if self.recovered.load(Ordering::SeqCst) {
            models_ok()
        } else {
            api_error(500, ERROR_500).insert_header("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy")
        }
    }
}

async fn serve(route: &str, responder: impl Respond + 'static) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(responder)
        .mount(&server)
        .await;
    server
}

fn anthropic(api: &str, page: &str) -> String {
    format!(
        r#"
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

fn openai(api: &str) -> String {
    format!(
        r#"
[[providers]]
id = "openai"
kind = "openai"
name = "OpenAI API"
base_url = "{api}/v1"
api_key_env = "OPENAI_API_KEY"
"#
    )
}

/// `switchboard watch --notify` running on `bus`, with one-second rounds.
struct Watch {
    dir: tempfile::TempDir,
    child: Option<Child>,
    port: u16,
}

impl Watch {
    fn start(providers: &str, bus: &str) -> Watch {
        let dir = tempfile::tempdir().unwrap();
        let port = closed_port();
        let fallback = if providers.contains("id = \"openai\"") {
            "fallback = [\"anthropic\", \"openai\"]\n"
        } else {
            ""
        };
        let config = format!(
            "# notify test\nuse_catalog = false\npreferred = \"anthropic\"\n{fallback}\n\
             [check]\ninterval_secs = 1\nconfirm_secs = 1\ntimeout_secs = 5\n\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\n{providers}"
        );
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config).unwrap();
        let child = Command::cargo_bin("switchboard")
            .unwrap()
            .args(["watch", "--notify"])
            .env("SWITCHBOARD_CONFIG", &path)
            .env("XDG_CONFIG_HOME", dir.path().join("xdg-config"))
            .env("XDG_DATA_HOME", dir.path().join("xdg-data"))
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .env("ANTHROPIC_API_KEY", "sk-ant-notify-test")
            .env("OPENAI_API_KEY", "sk-openai-notify-test")
            .env_remove("GEMINI_API_KEY")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.path().join("stdout")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap())
            .spawn()
            .unwrap();
        Watch {
            dir,
            child: Some(child),
            port,
        }
    }

    fn config_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("config.toml")).unwrap()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }

    async fn status(&self) -> Option<Value> {
        let r = reqwest::get(format!("http://127.0.0.1:{}/api/status", self.port))
            .await
            .ok()?;
        r.json().await.ok()
    }

    /// Polls `GET /api/status` until `done` holds.
    async fn wait_status(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            if let Some(v) = self.status().await {
                if done(&v) {
                    return v;
                }
            }
            assert!(
                started.elapsed() < WAIT,
                "{what}: not within {WAIT:?}; stderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until `rounds` more rounds have been published (`checked_at` moved).
    async fn wait_rounds(&self, rounds: usize) {
        let mut last = self.wait_status("a report", |_| true).await["checked_at"].clone();
        for _ in 0..rounds {
            let seen = last.clone();
            last = self
                .wait_status("another round", |v| v["checked_at"] != seen)
                .await["checked_at"]
                .clone();
        }
    }

    /// Whether the process is still running.
    fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().is_ok_and(|s| s.is_none()))
    }

    /// Stops it as a service manager would (SIGTERM); returns the exit code and stderr.
    async fn stop(mut self) -> (Option<i32>, String) {
        let mut child = self.child.take().unwrap();
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let code = tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    return status.code();
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
        .await
        .unwrap();
        (code, self.stderr())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The issue's scenario: a 500 while the status page flaps on every poll gives
/// exactly one "began" and, after recovery, exactly one "recovered" with the
/// duration, replacing the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flapping_page_gives_one_began_and_one_recovered_with_duration() {
    let Some(desktop) = fake_desktop_or_skip("flapping_page_gives_one_began_and_one_recovered", true) else {
        return;
    };
    let recovered = Arc::new(AtomicBool::new(false));
    let page_requests = Arc::new(FlappingPage {
        requests: AtomicUsize::new(0),
        recovered: recovered.clone(),
    });
    let page = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/summary.json"))
        .respond_with(ArcResponder(page_requests.clone()))
        .mount(&page)
        .await;
    let api = serve(
        "/v1/models",
        FailingApi {
            recovered: recovered.clone(),
        },
    )
    .await;
    let watch = Watch::start(&anthropic(&api.uri(), &page.uri()), &desktop.address);

    let calls = desktop
        .wait_calls("the outage notice", |c| count(c, "Claude API: outage") == 1)
        .await;
    let began = &calls[0];
    assert_eq!(began["app"], "Switchboard");
    assert_eq!(began["hints"]["urgency"], 2, "critical: {began}");
    let body = began["body"].as_str().unwrap();
    assert!(
        body.starts_with(
            "HTTP 500 api_error: Internal server error · request req_011CSHoEeqs5C35K2UUqR7Fy · "
        ),
        "{body}"
    );
    assert!(body.contains("status page"), "{body}");
    assert_eq!(
        began["actions"],
        serde_json::json!([]),
        "no alternative configured"
    );

    // Let the page flap for a few more polls while the outage goes on.
    let flaps = page_requests.requests.load(Ordering::SeqCst);
    let started = Instant::now();
    while page_requests.requests.load(Ordering::SeqCst) < flaps + 4 {
        assert!(started.elapsed() < WAIT, "the page is not polled");
        tokio::time::sleep(POLL).await;
    }
    assert_eq!(
        summaries(&desktop.calls()),
        ["Claude API: outage"],
        "flapping raised nothing more"
    );

    recovered.store(true, Ordering::SeqCst);
    let calls = desktop
        .wait_calls("the recovery notice", |c| count(c, "Claude API recovered") == 1)
        .await;
    let ended = calls
        .iter()
        .find(|c| c["summary"] == "Claude API recovered")
        .unwrap();
    let body = ended["body"].as_str().unwrap();
    let duration = body
        .strip_prefix("after ")
        .and_then(|rest| rest.split_once(" s (outage: HTTP 500 api_error: Internal server error)"))
        .map(|(secs, _)| secs);
    assert!(
        duration.is_some_and(|secs| secs.parse::<u32>().is_ok_and(|s| (1..120).contains(&s))),
        "the recovery carries the duration: {body}"
    );
    assert_eq!(ended["replaces_id"], began["id"], "it replaces the outage notice");
    assert_eq!(ended["hints"]["urgency"], 1);

    // And nothing after it.
    watch
        .wait_status("operational", |v| v["providers"][0]["state"] == "operational")
        .await;
    watch.wait_rounds(2).await;
    assert_eq!(
        summaries(&desktop.calls()),
        ["Claude API: outage", "Claude API recovered"]
    );
    let (code, stderr) = watch.stop().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("sk-ant-notify-test"));
}

/// wiremock wants to own its responder; the test keeps a handle on the page's counter.
struct ArcResponder<R>(Arc<R>);

impl<R: Respond> Respond for ArcResponder<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

/// The user's own network is down: every provider and the status page are
/// unreachable. That is `offline`, and offline never alarms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_raises_no_notification() {
    let Some(desktop) = fake_desktop_or_skip("offline_raises_no_notification", true) else {
        return;
    };
    let dead = |p: u16| format!("http://127.0.0.1:{p}");
    let providers = anthropic(&dead(closed_port()), &dead(closed_port())) + &openai(&dead(closed_port()));
    let watch = Watch::start(&providers, &desktop.address);
    watch
        .wait_status("offline", |v| {
            v["providers"]
                .as_array()
                .is_some_and(|ps| ps.len() == 2 && ps.iter().all(|p| p["state"] == "offline"))
        })
        .await;
    watch.wait_rounds(4).await;
    assert_eq!(
        desktop.calls(),
        Vec::<Value>::new(),
        "stderr:\n{}",
        watch.stderr()
    );
    let (code, stderr) = watch.stop().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("notice:"), "{stderr}");
}

/// A rejected key is the user's problem, said as such, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_key_gets_its_own_notice() {
    let Some(desktop) = fake_desktop_or_skip("rejected_key_gets_its_own_notice", true) else {
        return;
    };
    let page = serve("/api/v2/summary.json", page_green()).await;
    let api = serve("/v1/models", api_error(401, ERROR_401)).await;
    let watch = Watch::start(&anthropic(&api.uri(), &page.uri()), &desktop.address);
    let calls = desktop
        .wait_calls("the credential notice", |c| !c.is_empty())
        .await;
    let notice = &calls[0];
    assert_eq!(notice["summary"], "Anthropic rejected your key", "{notice}");
    let body = notice["body"].as_str().unwrap();
    assert!(
        body.starts_with("authentication_error: invalid x-api-key — "),
        "{body}"
    );
    assert!(body.contains("switchboard key set anthropic"), "{body}");
    assert!(!body.contains("outage"), "{body}");
    watch
        .wait_status("auth_error", |v| v["providers"][0]["state"] == "auth_error")
        .await;
    watch.wait_rounds(2).await;
    assert_eq!(summaries(&desktop.calls()), ["Anthropic rejected your key"]);
    let (code, stderr) = watch.stop().await;
    assert_eq!(code, Some(0), "{stderr}");
}

/// "Switch to OpenAI API" on the outage notice makes OpenAI the preferred
/// provider, in the engine and in the config file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switch_action_changes_the_preferred_provider() {
    let Some(desktop) = fake_desktop_or_skip("switch_action_changes_the_preferred_provider", true) else {
        return;
    };
    let page = serve("/api/v2/summary.json", page_green()).await;
    let claude = serve("/v1/models", api_error(500, ERROR_500)).await;
    let gpt = serve("/v1/models", models_ok()).await;
    let providers = anthropic(&claude.uri(), &page.uri()) + &openai(&gpt.uri());
    let watch = Watch::start(&providers, &desktop.address);
    let calls = desktop
        .wait_calls("the outage notice", |c| count(c, "Claude API: outage") == 1)
        .await;
    let notice = &calls[0];
    assert_eq!(
        notice["actions"],
        serde_json::json!([SWITCH_ACTION, "Switch to OpenAI API"])
    );
    let id = notice["id"].as_u64().unwrap();

    // The notifier subscribes to the signal right after showing the notice:
    // click until it has listened.
    let started = Instant::now();
    loop {
        tokio::task::block_in_place(|| desktop.emit_action(id, SWITCH_ACTION));
        if watch.status().await.is_some_and(|v| v["preferred"] == "openai") {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the click did not switch; stderr:\n{}",
            watch.stderr()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let config = watch.config_text();
    assert!(config.contains("preferred = \"openai\""), "{config}");
    assert!(config.starts_with("# notify test\n"), "comments kept: {config}");
    let (code, stderr) = watch.stop().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("switched the preferred provider from the notification"),
        "{stderr}"
    );
}

/// No notification server, or no session bus at all: `watch --notify` says so
/// and keeps watching.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_notification_server_is_logged_not_fatal() {
    let page = serve("/api/v2/summary.json", page_green()).await;
    let api = serve("/v1/models", api_error(500, ERROR_500)).await;
    let providers = anthropic(&api.uri(), &page.uri());

    // A bus without a server, when the tools for one are there.
    let desktop = fake_desktop_or_skip("no_notification_server_is_logged_not_fatal", false);
    let mut buses = vec!["unix:path=/nonexistent/switchboard-test-bus".to_string()];
    buses.extend(desktop.as_ref().map(|d| d.address.clone()));
    for bus in buses {
        let mut watch = Watch::start(&providers, &bus);
        watch
            .wait_status("the outage", |v| v["providers"][0]["state"] == "outage")
            .await;
        // The notice was due; it could not be shown.
        let started = Instant::now();
        while !watch.stderr().contains("could not show the notification") {
            assert!(started.elapsed() < WAIT, "bus {bus}: {}", watch.stderr());
            tokio::time::sleep(POLL).await;
        }
        watch.wait_rounds(1).await;
        assert!(watch.running(), "bus {bus}: {}", watch.stderr());
        let (code, stderr) = watch.stop().await;
        assert_eq!(code, Some(0), "bus {bus}: {stderr}");
        assert!(
            stderr.contains("no desktop notifications for now"),
            "bus {bus}: {stderr}"
        );
        assert!(
            stderr.contains("notice: Claude API: outage"),
            "bus {bus}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "bus {bus}: {stderr}");
    }
}
