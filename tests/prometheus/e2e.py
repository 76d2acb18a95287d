#!/usr/bin/env python3
"""Switchboard's alerts through a real Prometheus and a real Alertmanager.

Everything runs on 127.0.0.1, on ports picked at start:

  fake Anthropic API   GET /v1/models: the models list, or (while failing) the
                       real shape of a 500 api_error, each with its own request id
  fake status page     GET /api/v2/summary.json: Claude's Statuspage, all green
                       (tests/fixtures/status/claude_operational.json)
  switchboard watch    probes the fake every second, serves /metrics
  prometheus           scrapes it every second, evaluates
                       deploy/prometheus/switchboard.rules.yml (unchanged) every second
  alertmanager         routes every alert to the webhook at once
  webhook receiver     records what Alertmanager delivers

The test makes the fake fail and expects: LLMProviderOutage pending, then
firing in Prometheus's API after its `for:` (1 min), then Alertmanager's
webhook naming the provider, the cause and the request id of the first
failing answer; then recovery resolves the alert and the webhook says
"resolved". It also lints a real /metrics scrape with `promtool check metrics`.

  SWITCHBOARD_BIN=target/release/switchboard python3 tests/prometheus/e2e.py

Prints the timings; exits non-zero (with the processes' logs) on failure.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RULES = os.path.join(ROOT, "deploy", "prometheus", "switchboard.rules.yml")
PAGE = os.path.join(ROOT, "tests", "fixtures", "status", "claude_operational.json")
BINARY = os.environ.get("SWITCHBOARD_BIN") or os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/switchboard-target")),
    "release",
    "switchboard",
)
PROMETHEUS = os.environ.get("PROMETHEUS", "prometheus")
PROMTOOL = os.environ.get("PROMTOOL", "promtool")
# Debian names the binary prometheus-alertmanager; upstream, alertmanager.
ALERTMANAGER = os.environ.get("ALERTMANAGER") or shutil.which("prometheus-alertmanager") or "alertmanager"

API_KEY = "sk-ant-prometheus-e2e-key"
# Short intervals, so the stage stays well under two minutes. The rules'
# `for:` durations are the production ones.
CHECK = {"interval_secs": 1, "confirm_secs": 1, "timeout_secs": 5, "failures_to_open": 2, "successes_to_close": 2}
SCRAPE = "1s"
EVALUATE = "1s"
# LLMProviderOutage's `for:` in the rules file, plus detection, scrape, evaluation and delivery.
FIRING_DEADLINE = 100
RESOLVED_DEADLINE = 30


def log(msg):
    print(f"prometheus-e2e: {msg}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(handler_class):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Quiet(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so no client can race a kept-alive
    # connection that the server is closing.
    def log_message(self, *args):
        pass

    def send_json(self, status, obj, headers=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


class FakeAnthropic:
    """The Anthropic API as the probe sees it. `failing` flips it into the seed
    outage: 500 api_error after no delay, each answer with a fresh request id."""

    MODELS = {
        "data": [
            {
                "type": "model",
                "id": "claude-sonnet-4-5-20250929",
                "display_name": "Claude Sonnet 4.5",
                "created_at": "2025-09-29T00:00:00Z",
            }
        ],
        "has_more": False,
        "first_id": "claude-sonnet-4-5-20250929",
        "last_id": "claude-sonnet-4-5-20250929",
    }

    def __init__(self):
        self.failing = False
        self.lock = threading.Lock()
        self.failed_ids = []  # request ids of the 500s served, in order
        self.seq = 0
        fake = self

        class Handler(Quiet):
            def do_GET(self):
                path = self.path.split("?")[0]
                if path == "/api/v2/summary.json":
                    with open(PAGE, "rb") as f:
                        data = f.read()
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if path != "/v1/models":
                    self.send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}})
                    return
                if self.headers.get("x-api-key") != API_KEY:
                    self.send_json(
                        401,
                        {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
                    )
                    return
                with fake.lock:
                    fake.seq += 1
                    rid = f"req_011CSHoEeqs5C35K2UUq{fake.seq:06d}"
                    failing = fake.failing
                    if failing:
                        fake.failed_ids.append(rid)
                if failing:
                    body = {
                        "type": "error",
                        "error": {"type": "api_error", "message": "Internal server error"},
                        "request_id": rid,
                    }
                    self.send_json(500, body, [("request-id", rid)])
                else:
                    self.send_json(200, FakeAnthropic.MODELS, [("request-id", rid)])

        self.server = serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self, on):
        with self.lock:
            self.failing = on


class Webhook:
    """Alertmanager's webhook receiver: keeps every delivery with its arrival time."""

    def __init__(self):
        self.deliveries = []  # (monotonic time, payload)
        self.cond = threading.Condition()
        hook = self

        class Handler(Quiet):
            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(n)
                try:
                    payload = json.loads(raw)
                except ValueError:
                    payload = {"unparsable": raw.decode("utf-8", "replace")}
                with hook.cond:
                    hook.deliveries.append((time.monotonic(), payload))
                    hook.cond.notify_all()
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alert"

    def wait_for(self, pred, deadline):
        """The first delivery (time, payload, alert) with an alert matching `pred`."""
        with self.cond:
            while True:
                for at, payload in self.deliveries:
                    for alert in payload.get("alerts", []):
                        if pred(payload, alert):
                            return at, payload, alert
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_until(what, fn, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = fn()
        except (OSError, urllib.error.URLError, ValueError) as e:
            value, last = None, e
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last})")


class Processes:
    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []  # (name, Popen, log path)

    def start(self, name, argv, env=None):
        path = os.path.join(self.tmp, f"{name}.log")
        out = open(path, "ab")
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.procs.append((name, proc, path))
        return proc

    def check_alive(self):
        for name, proc, _ in self.procs:
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}")

    def stop(self):
        for _, proc, _ in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc, _ in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def dump_logs(self):
        for name, _, path in self.procs:
            with open(path, "rb") as f:
                tail = f.read()[-6000:].decode("utf-8", "replace")
            print(f"----- {name} ({path}), last lines -----\n{tail}", file=sys.stderr)


def toml_str(s):
    return json.dumps(str(s))


def write_switchboard_config(path, port, fake):
    lines = [
        "# Written by tests/prometheus/e2e.py: every peer is a fake on 127.0.0.1.",
        "use_catalog = false",
        'preferred = "anthropic"',
        "",
        "[check]",
        *(f"{k} = {v}" for k, v in CHECK.items()),
        "",
        "[notifications]",
        "enabled = false",
        "",
        "[server]",
        f"listen = {toml_str(f'127.0.0.1:{port}')}",
        "",
        "[gateway]",
        "enabled = false",
        "",
        "[[providers]]",
        'id = "anthropic"',
        'kind = "anthropic"',
        'name = "Claude API"',
        f"base_url = {toml_str(fake.url)}",
        f"status_page = {toml_str(fake.url + '/api/v2/summary.json')}",
        'status_format = "statuspage"',
        'components = ["Claude API (api.anthropic.com)"]',
        'api_key_env = "SWITCHBOARD_PROM_E2E_ANTHROPIC_KEY"',
        "",
    ]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines))


def write_prometheus_config(path, sb_port, am_port):
    # JSON is YAML: no PyYAML needed.
    config = {
        "global": {"scrape_interval": SCRAPE, "evaluation_interval": EVALUATE, "scrape_timeout": SCRAPE},
        "rule_files": [RULES],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
        "scrape_configs": [{"job_name": "switchboard", "static_configs": [{"targets": [f"127.0.0.1:{sb_port}"]}]}],
    }
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


def write_alertmanager_config(path, webhook_url):
    config = {
        "route": {
            "receiver": "webhook",
            "group_by": ["alertname", "provider"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "webhook", "webhook_configs": [{"url": webhook_url, "send_resolved": True}]}],
    }
    with open(path, "w") as f:
        json.dump(config, f, indent=2)


def prom_alerts(prom):
    data = json.loads(http_get(f"{prom}/api/v1/alerts"))
    return [a for a in data["data"]["alerts"] if a["labels"].get("alertname") == "LLMProviderOutage"]


def prom_query(prom, expr):
    q = urllib.parse.urlencode({"query": expr})
    data = json.loads(http_get(f"{prom}/api/v1/query?{q}"))
    return data["data"]["result"]


def run(tmp, procs):
    fake = FakeAnthropic()
    hook = Webhook()
    sb_port, prom_port, am_port = free_port(), free_port(), free_port()
    sb = f"http://127.0.0.1:{sb_port}"
    prom = f"http://127.0.0.1:{prom_port}"
    am = f"http://127.0.0.1:{am_port}"

    config = os.path.join(tmp, "switchboard", "config.toml")
    write_switchboard_config(config, sb_port, fake)
    env = dict(os.environ)
    env.update(
        XDG_CONFIG_HOME=os.path.join(tmp, "xdg-config"),
        XDG_DATA_HOME=os.path.join(tmp, "xdg-data"),
        XDG_STATE_HOME=os.path.join(tmp, "xdg-state"),
        XDG_CACHE_HOME=os.path.join(tmp, "xdg-cache"),
        # No session bus: no keyring, the key comes from api_key_env.
        DBUS_SESSION_BUS_ADDRESS="unix:path=" + os.path.join(tmp, "no-bus"),
        SWITCHBOARD_PROM_E2E_ANTHROPIC_KEY=API_KEY,
        RUST_LOG=os.environ.get("RUST_LOG", "info"),
        NO_COLOR="1",
        NO_PROXY="127.0.0.1,localhost",
    )
    for k in ("SWITCHBOARD_CONFIG", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(k, None)
    procs.start("switchboard", [BINARY, "watch", "--config", config], env=env)

    am_config = os.path.join(tmp, "alertmanager.yml")
    write_alertmanager_config(am_config, hook.url)
    procs.start(
        "alertmanager",
        [
            ALERTMANAGER,
            f"--config.file={am_config}",
            f"--storage.path={os.path.join(tmp, 'alertmanager-data')}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            # No cluster: it would bind 0.0.0.0:9094.
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
    )

    prom_config = os.path.join(tmp, "prometheus.yml")
    write_prometheus_config(prom_config, sb_port, am_port)
    procs.start(
        "prometheus",
        [
            PROMETHEUS,
            f"--config.file={prom_config}",
            f"--storage.tsdb.path={os.path.join(tmp, 'prometheus-data')}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            "--log.level=warn",
        ],
    )

    t0 = time.monotonic()
    wait_until("switchboard's /api/status", lambda: http_get(f"{sb}/api/status"), 30)
    wait_until("alertmanager ready", lambda: http_get(f"{am}/-/ready"), 30)
    wait_until("prometheus ready", lambda: http_get(f"{prom}/-/ready"), 30)
    procs.check_alive()

    # A healthy provider first, seen by Prometheus through a real scrape.
    wait_until(
        "Prometheus to see anthropic operational",
        lambda: prom_query(prom, 'switchboard_provider_state{provider="anthropic",state="operational"} == 1'),
        30,
    )
    log(f"up: switchboard, prometheus, alertmanager, anthropic operational ({time.monotonic() - t0:.1f}s)")

    # `promtool check metrics` on a real scrape of /metrics. promtool reads
    # the classic text format only, so ask for it as such clients do
    # (Prometheus itself gets OpenMetrics).
    req = urllib.request.Request(f"{sb}/metrics", headers={"Accept": "text/plain;version=0.0.4"})
    with urllib.request.urlopen(req, timeout=5) as r:
        exposition = r.read()
        content_type = r.headers.get("content-type", "")
    lint = subprocess.run([PROMTOOL, "check", "metrics"], input=exposition, capture_output=True)
    lint_out = (lint.stdout + lint.stderr).decode().strip()
    if lint.returncode != 0:
        raise AssertionError(f"promtool check metrics failed ({content_type}):\n{lint_out}")
    log(f"promtool check metrics: clean ({len(exposition)} bytes, {content_type})")

    # ---- the outage ---------------------------------------------------------
    if prom_alerts(prom):
        raise AssertionError(f"LLMProviderOutage before any failure: {prom_alerts(prom)}")
    fake.fail(True)
    t_fail = time.monotonic()
    log("fake Anthropic now answers 500 api_error")

    pending = wait_until(
        "LLMProviderOutage pending",
        lambda: [a for a in prom_alerts(prom) if a["state"] in ("pending", "firing")],
        30,
    )
    t_pending = time.monotonic()
    if pending[0]["state"] != "pending":
        raise AssertionError(f"the alert skipped its for: duration: {pending}")
    log(f"LLMProviderOutage pending after {t_pending - t_fail:.1f}s")

    firing = wait_until(
        "LLMProviderOutage firing",
        lambda: [a for a in prom_alerts(prom) if a["state"] == "firing"],
        FIRING_DEADLINE,
        interval=0.1,
    )
    t_firing = time.monotonic()
    log(f"LLMProviderOutage firing in Prometheus after {t_firing - t_fail:.1f}s")
    if t_firing - t_pending < 59:
        raise AssertionError(f"fired {t_firing - t_pending:.1f}s after pending: the 1m for: was not honoured")

    got = hook.wait_for(
        lambda p, a: a["status"] == "firing" and a["labels"].get("alertname") == "LLMProviderOutage",
        time.monotonic() + 30,
    )
    if not got:
        raise AssertionError(f"no firing webhook; deliveries: {hook.deliveries}")
    t_hook, payload, alert = got
    log(f"webhook (firing) arrived {t_hook - t_fail:.1f}s after the first failure")
    with fake.lock:
        first_failed = fake.failed_ids[0] if fake.failed_ids else None
    labels, notes = alert["labels"], alert["annotations"]
    checks = [
        (labels.get("provider") == "anthropic", f"provider label: {labels}"),
        (labels.get("severity") == "page", f"severity label: {labels}"),
        (labels.get("job") == "switchboard" and labels.get("instance") == f"127.0.0.1:{sb_port}", f"job/instance: {labels}"),
        ("HTTP 500" in notes.get("cause", "") and "api_error" in notes.get("cause", ""), f"cause: {notes}"),
        ("Internal server error" in notes.get("cause", ""), f"cause message: {notes}"),
        (notes.get("request_id") == first_failed, f"request_id {notes.get('request_id')!r}, first 500 was {first_failed!r}"),
        (notes.get("dashboard") == f"http://127.0.0.1:{sb_port}/", f"dashboard: {notes}"),
        (notes.get("watchers") == "1 of 1 watchers see this outage", f"watchers: {notes}"),
        (payload.get("status") == "firing", f"payload status: {payload.get('status')}"),
    ]
    bad = [why for ok, why in checks if not ok]
    if bad:
        raise AssertionError("webhook payload is wrong:\n  " + "\n  ".join(bad) + f"\n{json.dumps(payload, indent=2)}")
    log(f"webhook: provider={labels['provider']} cause={notes['cause']!r} request_id={notes['request_id']}")

    # ---- recovery -----------------------------------------------------------
    fake.fail(False)
    t_recover = time.monotonic()
    log("fake Anthropic answers 200 again")
    wait_until("LLMProviderOutage to resolve in Prometheus", lambda: not prom_alerts(prom), RESOLVED_DEADLINE, 0.1)
    t_gone = time.monotonic()
    log(f"LLMProviderOutage gone from Prometheus after {t_gone - t_recover:.1f}s")
    got = hook.wait_for(
        lambda p, a: a["status"] == "resolved" and a["labels"].get("alertname") == "LLMProviderOutage",
        time.monotonic() + RESOLVED_DEADLINE,
    )
    if not got:
        raise AssertionError(f"no resolved webhook; deliveries: {json.dumps([p for _, p in hook.deliveries], indent=2)}")
    t_resolved = got[0]
    log(f"webhook (resolved) arrived {t_resolved - t_recover:.1f}s after the recovery")
    procs.check_alive()

    log(
        "timings (check interval 1s, confirm 1s, failures_to_open 2, scrape 1s, evaluation 1s, "
        "for 1m, Alertmanager group_wait 0s / group_interval 1s): "
        f"failure -> pending {t_pending - t_fail:.1f}s, -> firing {t_firing - t_fail:.1f}s, "
        f"-> webhook {t_hook - t_fail:.1f}s; recovery -> resolved webhook {t_resolved - t_recover:.1f}s; "
        f"whole run {time.monotonic() - t0:.1f}s"
    )


def main():
    for tool in (BINARY, PROMETHEUS, PROMTOOL, ALERTMANAGER):
        if not (os.path.isfile(tool) and os.access(tool, os.X_OK)) and not shutil.which(tool):
            print(f"prometheus-e2e: {tool} not found (run: make setup)", file=sys.stderr)
            return 1
    tmp = tempfile.mkdtemp(prefix="switchboard-prometheus-e2e-")
    procs = Processes(tmp)
    ok = False
    try:
        run(tmp, procs)
        ok = True
    except AssertionError as e:
        print(f"prometheus-e2e: FAILED: {e}", file=sys.stderr)
    finally:
        procs.stop()
        if not ok:
            procs.dump_logs()
            print(f"prometheus-e2e: files kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
