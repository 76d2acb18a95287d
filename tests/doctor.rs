//! `switchboard doctor` end to end, one fault at a time: the binary runs with
//! its own XDG dirs and a private session bus (tests/notify.rs's fake
//! desktop: dbus-daemon, optionally python3-dbusmock's notification server),
//! against fakes on 127.0.0.1. Each test checks the finding's severity, its
//! words and its fix, and the exit code (0 / 1 / 2).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::notify::{fake_desktop_or_skip, python_with_dbusmock, FakeDesktop};

const SECRET: &str = "sk-ant-doctor-secret-0123456789";

struct Run {
    code: i32,
    findings: Vec<Value>,
    stdout: String,
}

impl Run {
    fn finding(&self, check: &str) -> &Value {
        self.findings
            .iter()
            .find(|f| f["check"] == check)
            .unwrap_or_else(|| panic!("no finding {check:?} in {}", self.stdout))
    }
}

/// Runs `switchboard doctor --json` with `config` on the bus at `bus`.
fn doctor(config: &str, bus: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, config).unwrap();
    let out = Command::cargo_bin("switchboard")
        .unwrap()
        .args(["doctor", "--json", "--config"])
        .arg(&file)
        .env("XDG_CONFIG_HOME", dir.path().join("xdg-config"))
        .env("XDG_DATA_HOME", dir.path().join("xdg-data"))
        .env("HOME", dir.path())
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("SWITCHBOARD_DOCTOR_TEST_KEY", SECRET)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stdout.contains(SECRET) && !stderr.contains(SECRET),
        "doctor printed the key"
    );
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        findings: json["findings"].as_array().unwrap().clone(),
        stdout,
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A config on free ports with the given providers.
fn config(providers: &str) -> String {
    format!(
        "use_catalog = false\n\n[server]\nlisten = \"127.0.0.1:{}\"\n\n[gateway]\nenabled = true\nlisten = \"127.0.0.1:{}\"\n\n{providers}",
        free_port(),
        free_port()
    )
}

fn status_only(page: &str) -> String {
    format!(
        "[[providers]]\nid = \"page\"\nkind = \"status\"\nname = \"Page\"\nstatus_page = \"{page}/api/v2/summary.json\"\nstatus_format = \"statuspage\"\n"
    )
}

async fn status_page(date: Option<String>) -> MockServer {
    let server = MockServer::start().await;
    let body = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/status/claude_operational.json"
    ))
    .unwrap();
    let mut resp = ResponseTemplate::new(200).set_body_raw(body, "application/json");
    if let Some(d) = date {
        resp = resp.insert_header("date", d.as_str());
    }
    Mock::given(method("GET"))
        .and(path("/api/v2/summary.json"))
        .respond_with(resp)
        .mount(&server)
        .await;
    server
}

/// A bus address nobody listens on: "no session bus".
const NO_BUS: &str = "unix:path=/nonexistent/switchboard-doctor-bus";

#[test]
fn an_invalid_config_is_a_problem_naming_file_and_line() {
    let run = doctor(
        "use_catalog = false\n[check]\ninterval_secs = \"often\"\n",
        NO_BUS,
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
    let f = run.finding("config");
    assert_eq!(f["severity"], "problem");
    let summary = f["summary"].as_str().unwrap();
    assert!(
        summary.contains("config.toml") && summary.contains("line 3"),
        "{summary}"
    );
    assert!(summary.contains("interval_secs"), "{summary}");
    assert!(f["fix"].as_str().unwrap().contains("Correct that key"));
    // Nothing of the defaults is probed instead.
    assert!(!run
        .findings
        .iter()
        .any(|f| f["check"].as_str().unwrap().starts_with("provider:")));
}

#[tokio::test(flavor = "multi_thread")]
async fn providers_reachability_keys_and_clock() {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&api)
        .await;
    let ten_minutes_ago = httpdate::fmt_http_date(std::time::SystemTime::now() - Duration::from_secs(600));
    let page = status_page(Some(ten_minutes_ago)).await;
    let closed = free_port();
    let providers = format!(
        "[[providers]]\nid = \"anthropic\"\nkind = \"anthropic\"\nname = \"Claude API\"\nbase_url = \"{api}\"\n\
         status_page = \"{page}/api/v2/summary.json\"\nstatus_format = \"statuspage\"\napi_key_env = \"SWITCHBOARD_DOCTOR_TEST_KEY\"\n\n\
         [[providers]]\nid = \"down\"\nkind = \"anthropic\"\nname = \"Down\"\nbase_url = \"http://127.0.0.1:{closed}\"\napi_key_env = \"SWITCHBOARD_DOCTOR_TEST_KEY\"\n\n\
         [[providers]]\nid = \"nowhere\"\nkind = \"openai-compatible\"\nname = \"Nowhere\"\nbase_url = \"http://switchboard-doctor.invalid/v1\"\n\n\
         [[providers]]\nid = \"nokey\"\nkind = \"openai\"\nname = \"No key\"\nbase_url = \"{api}/v1\"\napi_key_env = \"SWITCHBOARD_DOCTOR_NO_SUCH_VAR\"\n",
        api = api.uri(),
        page = page.uri()
    );
    let run = tokio::task::spawn_blocking(move || doctor(&config(&providers), NO_BUS))
        .await
        .unwrap();
    assert_eq!(run.code, 2, "{}", run.stdout);

    let ok = run.finding("provider:anthropic");
    assert_eq!(ok["severity"], "ok", "{ok}");
    let words = ok["summary"].as_str().unwrap();
    assert!(words.contains("key from $SWITCHBOARD_DOCTOR_TEST_KEY"), "{words}");
    assert!(words.contains("reachable (DNS ok, HTTP 404"), "{words}");
    assert!(words.contains("answers HTTP 200"), "{words}");

    let down = run.finding("provider:down");
    assert_eq!(down["severity"], "problem");
    assert!(
        down["summary"].as_str().unwrap().contains("connection refused"),
        "{down}"
    );
    assert!(
        down["fix"].as_str().unwrap().contains("Nothing listens"),
        "{down}"
    );

    let nowhere = run.finding("provider:nowhere");
    assert_eq!(nowhere["severity"], "problem");
    assert!(nowhere["summary"].as_str().unwrap().contains("DNS"), "{nowhere}");

    // No key, and the keyring unreachable (no bus): a warning that says so.
    let nokey = run.finding("provider:nokey");
    assert_eq!(nokey["severity"], "warning", "{nokey}");
    assert!(
        nokey["summary"]
            .as_str()
            .unwrap()
            .contains("keyring could not be read"),
        "{nokey}"
    );

    let clock = run.finding("clock");
    assert_eq!(clock["severity"], "problem", "{clock}");
    assert!(
        clock["summary"].as_str().unwrap().contains("ahead of 127.0.0.1"),
        "{clock}"
    );
    assert!(clock["fix"].as_str().unwrap().contains("timedatectl"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_taken_by_another_program_or_by_switchboard() {
    let page = status_page(None).await;
    // Another program: it accepts connections and answers nothing useful.
    let other = MockServer::start().await;
    // A running Switchboard's dashboard: /api/status has its shape.
    let ours = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/status"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "checked_at": "2026-12-07T10:00:00Z", "preferred": null, "overall": "operational", "providers": []
        })))
        .mount(&ours)
        .await;
    let cfg = format!(
        "use_catalog = false\n\n[server]\nlisten = \"{}\"\n\n[gateway]\nenabled = true\nlisten = \"{}\"\n\n{}",
        ours.address(),
        other.address(),
        status_only(&page.uri())
    );
    let run = tokio::task::spawn_blocking(move || doctor(&cfg, NO_BUS))
        .await
        .unwrap();
    assert_eq!(run.code, 2, "{}", run.stdout);
    let dash = run.finding("port:dashboard");
    assert_eq!(dash["severity"], "ok", "{dash}");
    assert!(
        dash["summary"].as_str().unwrap().contains("running Switchboard"),
        "{dash}"
    );
    let gw = run.finding("port:gateway");
    assert_eq!(gw["severity"], "problem", "{gw}");
    assert!(
        gw["summary"]
            .as_str()
            .unwrap()
            .contains("taken by another program"),
        "{gw}"
    );
    let fix = gw["fix"].as_str().unwrap();
    assert!(
        fix.contains(&format!("sport = :{}", other.address().port())) && fix.contains("[gateway] listen"),
        "{fix}"
    );
}

/// Owns the StatusNotifierWatcher name on the fake desktop's bus while alive.
struct Watcher(Child);

impl Watcher {
    fn start(desktop: &FakeDesktop) -> Watcher {
        let script = "import dbus, sys, time\n\
                      b = dbus.SessionBus()\n\
                      b.request_name('org.kde.StatusNotifierWatcher')\n\
                      print('owned', flush=True)\n\
                      time.sleep(300)\n";
        let mut child = Command::new(python_with_dbusmock().unwrap())
            .args(["-c", script])
            .env("DBUS_SESSION_BUS_ADDRESS", &desktop.address)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let started = Instant::now();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "owned",
            "the watcher name was not taken in {:?}",
            started.elapsed()
        );
        Watcher(child)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_tray_host_no_notification_server_no_keyring() {
    let Some(desktop) = fake_desktop_or_skip("no_tray_host_no_notification_server_no_keyring", false) else {
        return;
    };
    let page = status_page(None).await;
    let cfg = config(&status_only(&page.uri()));
    let bus = desktop.address.clone();
    let run = tokio::task::spawn_blocking(move || doctor(&cfg, &bus))
        .await
        .unwrap();
    assert_eq!(run.code, 1, "warnings only: {}", run.stdout);
    let tray = run.finding("tray");
    assert_eq!(tray["severity"], "warning");
    assert!(
        tray["summary"].as_str().unwrap().contains("no tray host"),
        "{tray}"
    );
    assert!(
        tray["fix"]
            .as_str()
            .unwrap()
            .contains("gnome-shell-extension-appindicator"),
        "{tray}"
    );
    let notes = run.finding("notifications");
    assert_eq!(notes["severity"], "warning", "{notes}");
    assert!(notes["fix"].as_str().unwrap().contains("dunst"), "{notes}");
    // The private bus activates nothing: no Secret Service.
    let keyring = run.finding("keyring");
    assert_eq!(keyring["severity"], "warning", "{keyring}");
    assert!(
        keyring["fix"].as_str().unwrap().contains("gnome-keyring"),
        "{keyring}"
    );
    assert_eq!(run.finding("port:dashboard")["severity"], "ok");
    assert_eq!(run.finding("clock")["severity"], "ok", "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn tray_host_and_notification_server_present() {
    let Some(desktop) = fake_desktop_or_skip("tray_host_and_notification_server_present", true) else {
        return;
    };
    let _watcher = Watcher::start(&desktop);
    let page = status_page(None).await;
    let cfg = config(&status_only(&page.uri()));
    let bus = desktop.address.clone();
    let run = tokio::task::spawn_blocking(move || doctor(&cfg, &bus))
        .await
        .unwrap();
    let tray = run.finding("tray");
    assert_eq!(tray["severity"], "ok", "{tray}");
    let notes = run.finding("notifications");
    let words = notes["summary"].as_str().unwrap();
    // dbusmock's server names itself and offers no "actions".
    assert!(words.contains("mock-notify 1.0 (test vendor)"), "{words}");
    assert!(words.contains("body-markup"), "{words}");
    assert_eq!(notes["severity"], "info", "{notes}");
    assert!(
        notes["fix"].as_str().unwrap().contains("without the \"Switch to"),
        "{notes}"
    );
}
