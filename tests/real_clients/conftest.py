"""Fixtures of the real-clients stage: the same fake upstreams and
`switchboard watch` harness as the SDK stage (tests/gateway_sdk/conftest.py,
loaded from there rather than copied), plus where the pinned CLIs live.

Environment (set by run.sh):
  SWITCHBOARD_CLIENTS_DIR          npm prefix holding the pinned clients
  SWITCHBOARD_CAPTURE_FIXTURES=DIR also write the requests the clients sent to DIR
"""

import importlib.util
import json
import os
import sys

import pytest

SDK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gateway_sdk")
sys.path.insert(0, SDK_DIR)
_spec = importlib.util.spec_from_file_location("gateway_sdk_conftest", os.path.join(SDK_DIR, "conftest.py"))
_sdk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sdk)

# The SDK stage's fixtures, under the same names.
fakes = _sdk.fakes
fake_anthropic = _sdk.fake_anthropic
fake_openai = _sdk.fake_openai
switchboard = _sdk.switchboard
pytest_runtest_makereport = _sdk.pytest_runtest_makereport
CLIENT_KEY = _sdk.CLIENT_KEY

CLIENTS_DIR = os.environ.get("SWITCHBOARD_CLIENTS_DIR", os.path.expanduser("~/.cache/switchboard-real-clients"))
CAPTURE_DIR = os.environ.get("SWITCHBOARD_CAPTURE_FIXTURES")


def client_bin(name):
    path = os.path.join(CLIENTS_DIR, "node_modules", ".bin", name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{name} is not installed at {path} (run tests/real_clients/run.sh)")
    return path


def client_version(package):
    with open(os.path.join(CLIENTS_DIR, "node_modules", *package.split("/"), "package.json")) as f:
        return json.load(f)["version"]


def capture(name, client, recorded):
    """Writes a request a client really sent as a fixture (only when asked).

    `recorded` is what the failing upstream fake received: the gateway passes
    a client's body to a provider of its own protocol unchanged, so the body
    is the client's; the headers are those the gateway forwards."""
    if not CAPTURE_DIR:
        return
    os.makedirs(CAPTURE_DIR, exist_ok=True)
    keep = ("anthropic-", "x-app", "originator", "openai-beta", "x-codex-beta", "x-stainless-package-version", "content-type", "accept")
    out = {
        "client": client,
        "method": recorded.method,
        "path": recorded.path,
        "headers": {k: v for k, v in recorded.headers.items() if k.startswith(keep)},
        "body": recorded.body,
    }
    with open(os.path.join(CAPTURE_DIR, name), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
