"""Fixtures: the fake upstreams (one pair per test session, reset before each
test) and `switchboard watch` with its gateway (a fresh process per test, so
one test's passive health signals never leak into the next).

Environment:
  SWITCHBOARD_BIN             the binary (default: $CARGO_TARGET_DIR/release/switchboard)
  SWITCHBOARD_SDK_KEEP=1      keep each test's temp dir (config, log)
  SWITCHBOARD_SDK_TIMEOUT     seconds `watch` may take to come up (default 30)
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import anthropic
import openai
import pytest

from fakes import FakeAnthropic, FakeOpenAI

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/switchboard-target"))
BINARY = os.environ.get("SWITCHBOARD_BIN", os.path.join(TARGET, "release", "switchboard"))
START_TIMEOUT = float(os.environ.get("SWITCHBOARD_SDK_TIMEOUT", "30"))

# The keys Switchboard holds for the upstreams (through api_key_env), and the
# dummy keys the clients send: the gateway must replace the latter by the former.
ANTHROPIC_KEY = "sk-ant-api03-gateway-sdk-test-key"
OPENAI_KEY = "sk-proj-gateway-sdk-test-key"
CLIENT_KEY = "sk-client-dummy-must-not-reach-upstream"
ANTHROPIC_MODEL = "claude-sonnet-4-6"  # anthropic's `model`: used when a request is rerouted there
OPENAI_MODEL = "gpt-4.1"  # openai's `model`


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_str(s):
    return json.dumps(str(s))


class Switchboard:
    """`switchboard watch --config` with the gateway on, against the two fakes."""

    def __init__(self, fa, fo, preferred, fallback, check, anthropic_base=None):
        self.fa, self.fo = fa, fo
        self.dir = tempfile.mkdtemp(prefix="switchboard-gateway-sdk-")
        self.server_port = free_port()
        self.gateway_port = free_port()
        self.config = os.path.join(self.dir, "config", "config.toml")
        os.makedirs(os.path.dirname(self.config))
        checks = {"interval_secs": 3600, "confirm_secs": 1, "timeout_secs": 5}
        checks.update(check or {})
        lines = [
            "# Written by tests/gateway_sdk: every peer is a fake on 127.0.0.1.",
            "use_catalog = false",
            f"preferred = {toml_str(preferred)}",
            "fallback = [" + ", ".join(toml_str(f) for f in fallback) + "]",
            "auto_switch = false",
            "",
            "[check]",
            *(f"{k} = {v}" for k, v in checks.items()),
            "",
            "[notifications]",
            "enabled = false",
            "",
            "[server]",
            f"listen = {toml_str(f'127.0.0.1:{self.server_port}')}",
            "",
            "[gateway]",
            "enabled = true",
            f"listen = {toml_str(f'127.0.0.1:{self.gateway_port}')}",
            "",
            "[[providers]]",
            'id = "anthropic"',
            'kind = "anthropic"',
            'name = "Claude API"',
            f"base_url = {toml_str(anthropic_base or fa.base_url)}",
            'status_format = "none"',
            'api_key_env = "SWITCHBOARD_SDK_ANTHROPIC_KEY"',
            f"model = {toml_str(ANTHROPIC_MODEL)}",
            "",
            "[[providers]]",
            'id = "openai"',
            'kind = "openai"',
            'name = "OpenAI API"',
            f"base_url = {toml_str(fo.base_url)}",
            'status_format = "none"',
            'api_key_env = "SWITCHBOARD_SDK_OPENAI_KEY"',
            f"model = {toml_str(OPENAI_MODEL)}",
            "",
        ]
        with open(self.config, "w") as f:
            f.write("\n".join(lines))
        self.log_path = os.path.join(self.dir, "switchboard.log")
        env = dict(os.environ)
        env.update(
            XDG_CONFIG_HOME=os.path.join(self.dir, "xdg-config"),
            XDG_DATA_HOME=os.path.join(self.dir, "xdg-data"),
            XDG_STATE_HOME=os.path.join(self.dir, "xdg-state"),
            XDG_CACHE_HOME=os.path.join(self.dir, "xdg-cache"),
            XDG_RUNTIME_DIR=os.path.join(self.dir, "xdg-runtime"),
            # No session bus: the keyring is unavailable, so the keys come from
            # api_key_env and never from the user's keyring.
            DBUS_SESSION_BUS_ADDRESS="unix:path=" + os.path.join(self.dir, "no-bus"),
            SWITCHBOARD_SDK_ANTHROPIC_KEY=ANTHROPIC_KEY,
            SWITCHBOARD_SDK_OPENAI_KEY=OPENAI_KEY,
            RUST_LOG=os.environ.get("RUST_LOG", "info"),
            NO_COLOR="1",
            NO_PROXY="127.0.0.1,localhost",
        )
        os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
        for k in ("SWITCHBOARD_CONFIG", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            env.pop(k, None)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BINARY, "watch", "--config", self.config],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def gateway(self):
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def dashboard(self):
        return f"http://127.0.0.1:{self.server_port}"

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def status(self):
        with urllib.request.urlopen(self.dashboard + "/api/status", timeout=5) as r:
            return json.load(r)

    def provider(self, pid):
        return next(p for p in self.status()["providers"] if p["id"] == pid)

    def wait_until(self, pred, what, timeout=START_TIMEOUT):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"switchboard watch exited ({self.proc.returncode}) while waiting for {what}")
            try:
                last = pred()
                if last:
                    return last
            except (OSError, ValueError, KeyError, StopIteration) as e:
                last = e
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")

    def wait_ready(self):
        # The dashboard answers, both providers have been probed, and the
        # gateway accepts connections.
        self.wait_until(
            lambda: all(p.get("probe") for p in self.status()["providers"]),
            "the first round of probes",
        )

        def gateway_up():
            with socket.create_connection(("127.0.0.1", self.gateway_port), timeout=1):
                return True

        # Up at the same time as the dashboard: no need to wait long.
        self.wait_until(gateway_up, f"the gateway on 127.0.0.1:{self.gateway_port}", timeout=10)
        # Each probe is one GET: forget them, the tests count completion calls.
        self.fa.reset_requests()
        self.fo.reset_requests()

    def anthropic(self, **kw):
        return anthropic.Anthropic(base_url=self.gateway, api_key=CLIENT_KEY, max_retries=0, timeout=20, **kw)

    def openai(self, **kw):
        return openai.OpenAI(base_url=self.gateway + "/v1", api_key=CLIENT_KEY, max_retries=0, timeout=20, **kw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def fakes():
    if not os.access(BINARY, os.X_OK):
        pytest.exit(f"no switchboard binary at {BINARY}: cargo build --bin switchboard, or set SWITCHBOARD_BIN", 2)
    fa, fo = FakeAnthropic(), FakeOpenAI()
    yield fa, fo
    fa.close()
    fo.close()


@pytest.fixture
def fake_anthropic(fakes):
    return fakes[0]


@pytest.fixture
def fake_openai(fakes):
    return fakes[1]


@pytest.fixture
def switchboard(fakes, request):
    """A factory: switchboard(preferred=..., fallback=..., check={...},
    anthropic_base=URL instead of the fake's) starts
    `watch` and waits until it is ready; stopped after the test (its log is
    printed when the test failed)."""
    fa, fo = fakes
    fa.reset()
    fo.reset()
    started = []

    def start(preferred="anthropic", fallback=("anthropic", "openai"), check=None, anthropic_base=None):
        sb = Switchboard(fa, fo, preferred, fallback, check, anthropic_base)
        started.append(sb)
        sb.wait_ready()
        return sb

    yield start
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for sb in started:
        sb.stop()
        if failed:
            print(f"\n--- switchboard log ({sb.log_path}) ---\n{sb.log_text()}")
        if os.environ.get("SWITCHBOARD_SDK_KEEP") or failed:
            print(f"kept {sb.dir}")
        else:
            shutil.rmtree(sb.dir, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
