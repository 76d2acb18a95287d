#!/usr/bin/env python3
"""Detection replay: real incident shapes, replayed against `switchboard watch`.

Each timeline (timelines/*.json, format in README.md) gets its own fake
provider API and fake Statuspage on 127.0.0.1, driven by the timeline clock,
and its own `switchboard watch` (interval_secs = 1, confirm_secs = 1,
window_secs = 15). Time is
compressed: one timeline minute is one second (--speed), error delays too.
All timelines run at once. The runner polls each watch's /api/status and
prints, per timeline: when errors began, when Switchboard detected them and
through which signal (probe, page, inference, gateway), when the page posted,
the lead and the false alarms; then the median lead and detections before the
page. A timeline with `traffic` also sends client requests through the watch's
gateway, whose failed calls are the passive signal.

  python3 bench/replay/replay.py [--inference] [--bin PATH] [--only NAME] [--json OUT]

--inference turns on `[inference]` (interval_secs = 1, monthly_budget_usd = 100)
and `models = [...]` for every provider: it needs the inference feature in the
binary (issue 11, items 1-5); without it the config is refused and the runner
says so.
"""
import argparse
import glob
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
TROUBLE = {"outage", "degraded", "rate_limited", "auth_error"}
# After the last error or page post, alarms still belong to the incident for
# this many timeline minutes (successes_to_close rounds plus a page's lag).
GRACE_MIN = 5
# Healthy timeline minutes before t0, so every watch has settled first.
WARMUP_SECS = 4
# Timeline minutes polled after the longest timeline ends.
TAIL_MIN = 6
POLL_SECS = 0.2

# Status-page components per provider kind (Statuspage summary shape).
COMPONENTS = {
    "anthropic": [("rwppv331jlwc", "claude.ai"), ("k8w3r06qmzrp", "Claude API (api.anthropic.com)"),
                  ("yyzkbfz2thpt", "Claude Code"), ("0qbwn08sd68x", "Claude Console (platform.claude.com)")],
    "openai": [("01JMXBRMFE6N2NNT7DG6XZQ6PW", "Chat Completions"), ("01JP8CD9JR3HR6Y7G4Q75N4DVW", "Responses"),
               ("01JMXBRMFEFQ6ZQYDJ7B4R0T3Z", "ChatGPT Work"), ("01JMXBRMFE4XG0VVN1W0NPVG1T", "Login"),
               ("01JMXBRMFE8N7P3E9ZQ6C2M5KD", "Codex")],
    "vertex": [("Z0FZJAMvEB4j3NbCJs6B", "Vertex Gemini API"), ("P1aB2cD3eF4gH5iJ6kL7", "Cloud Run")],
}
PROVIDER_COMPONENTS = {"anthropic": ["Claude API"], "openai": ["Chat Completions", "Responses"],
                       "vertex": ["Vertex Gemini API"]}


class Clock:
    """The shared timeline clock: minutes since t0 (negative before it)."""

    def __init__(self, speed):
        self.speed = speed
        self.t0 = None

    def minute(self):
        if self.t0 is None:
            return -1.0
        return (time.monotonic() - self.t0) / self.speed


def error_body(kind, status, etype, message):
    if kind == "openai":
        return {"error": {"message": message, "type": etype, "param": None, "code": None}}
    if kind == "vertex" and status in (429, 503):
        word = {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}[status]
        return {"error": {"code": status, "message": message, "status": word}}
    return {"type": "error", "error": {"type": etype, "message": message}, "request_id": "req_replay0001"}


class Fake:
    """One timeline's provider API and status page."""

    def __init__(self, timeline, clock):
        self.t = timeline
        self.clock = clock
        self.kind = timeline["provider"]
        self.counters = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                path = self.path.split("?")[0]
                if path == "/api/v2/summary.json":
                    return self.reply(200, fake.page())
                if path.endswith("/models") or "/publishers/anthropic/models/" in path:
                    model = path.rsplit("/", 1)[-1] if "/publishers/" in path else None
                    err = fake.failure(model, "list")
                    if err:
                        return fake.fail(self, err)
                    return self.reply(200, fake.models_list(model))
                self.reply(404, {"error": "not found"})

            def do_POST(self):
                path = self.path.split("?")[0]
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                try:
                    req = json.loads(raw or b"{}")
                except ValueError:
                    req = {}
                model = req.get("model")
                if ":rawPredict" in path or ":streamRawPredict" in path:
                    model = path.split("/models/")[-1].split(":")[0]
                err = fake.failure(model, "generate")
                if err:
                    return fake.fail(self, err)
                self.reply(200, fake.answer(model))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def failure(self, model, endpoint):
        """The error window hitting `model` (None: the models list) at this minute, if any."""
        now = self.clock.minute()
        for w in self.t.get("errors", []):
            if not (w["from"] <= now < w["to"]):
                continue
            scope = w.get("scope", "generate")
            if endpoint == "list" and scope != "all":
                continue
            if endpoint == "generate" and w.get("model") not in (None, "*", model):
                continue
            key = (id(w), model)
            with self.lock:
                n = self.counters.get(key, 0)
                self.counters[key] = n + 1
            fraction = w.get("fraction", 1.0)
            # Deterministic: fail `fraction` of the calls, spread evenly.
            if int((n + 1) * fraction) == int(n * fraction):
                continue
            statuses = w["status"] if isinstance(w["status"], list) else [w["status"]]
            return dict(w, status=statuses[n % len(statuses)])
        return None

    def fail(self, handler, w):
        delay = w.get("delay_s", 0) / 60.0 * self.clock.speed
        if delay:
            time.sleep(delay)
        body = error_body(self.kind, w["status"], w.get("type", "api_error"), w.get("message", "Internal server error"))
        headers = [("request-id", "req_replay0001")]
        if w["status"] == 429:
            headers.append(("retry-after", "1"))
        handler.reply(w["status"], body, headers)

    def models_list(self, model):
        if self.kind == "vertex":
            return {"name": f"publishers/anthropic/models/{model}", "versionId": "001"}
        if self.kind == "openai":
            return {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "openai"} for m in self.t["models"]]}
        return {"data": [{"type": "model", "id": m, "display_name": m} for m in self.t["models"]],
                "has_more": False, "first_id": self.t["models"][0], "last_id": self.t["models"][-1]}

    def answer(self, model):
        if self.kind == "openai":
            return {"id": "chatcmpl-replay", "object": "chat.completion", "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "H"}, "finish_reason": "length"}],
                    "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9}}
        return {"id": "msg_replay", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": "H"}], "stop_reason": "max_tokens", "stop_sequence": None,
                "usage": {"input_tokens": 8, "output_tokens": 1}}

    def page(self):
        now = self.clock.minute()
        comps = {name: "operational" for _, name in COMPONENTS[self.kind]}
        incidents = []
        worst = "none"
        order = ["none", "minor", "major", "critical"]
        for i, post in enumerate(self.t.get("page", [])):
            if not (post["from"] <= now < post.get("to", 1e9)):
                continue
            impact = post.get("impact", "minor")
            cstatus = post.get("component_status", "partial_outage" if impact in ("major", "critical") else "degraded_performance")
            tagged = []
            for name in post.get("components", []):
                cid = next(c for c, n in COMPONENTS[self.kind] if n == name)
                comps[name] = cstatus
                tagged.append({"id": cid, "name": name, "status": cstatus})
            incidents.append({
                "id": f"replay{i}", "name": post["title"], "status": post.get("status", "investigating"),
                "impact": impact, "shortlink": f"https://stspg.io/replay{i}",
                "created_at": "2026-11-24T09:41:07.412Z", "started_at": "2026-11-24T09:40:00.000Z",
                "components": tagged, "incident_updates": [],
            })
            if order.index(impact) > order.index(worst):
                worst = impact
        words = {"none": "All Systems Operational", "minor": "Minor Service Outage",
                 "major": "Partial System Outage", "critical": "Major System Outage"}
        return {
            "page": {"id": "replay", "name": "Replay", "url": "https://status.example", "updated_at": "2026-11-24T09:58:12.104Z"},
            "components": [{"id": cid, "name": name, "status": comps[name], "group": False, "group_id": None}
                           for cid, name in COMPONENTS[self.kind]],
            "incidents": incidents, "scheduled_maintenances": [],
            "status": {"indicator": worst, "description": words[worst]},
        }

    def stop(self):
        self.server.shutdown()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_text(t, fake_port, listen_port, inference, gateway_port=None):
    kind = t["provider"]
    base = f"http://127.0.0.1:{fake_port}"
    lines = [
        "use_catalog = false", 'preferred = "p"', "",
        "[check]", "interval_secs = 1", "confirm_secs = 1", "timeout_secs = 5", "slow_ms = 60000",
        # The error-rate window, compressed like the rest: 15 timeline minutes.
        "window_secs = 15", "",
        "[notifications]", "enabled = false", "",
        "[server]", f'listen = "127.0.0.1:{listen_port}"', "",
        "[gateway]", *(["enabled = true", f'listen = "127.0.0.1:{gateway_port}"'] if gateway_port else ["enabled = false"]), "",
        "[[providers]]", 'id = "p"', f'kind = "{kind}"',
        f'base_url = "{base}/v1"' if kind == "openai" else f'base_url = "{base}"',
        f'status_page = "{base}"', 'status_format = "statuspage"',
        "components = [" + ", ".join(json.dumps(c) for c in PROVIDER_COMPONENTS[kind]) + "]",
        f'model = "{t["models"][0]}"',
    ]
    if kind == "vertex":
        lines += ['region = "us-east5"', 'project = "replay-project"', 'token_command = "echo replay-token"']
    else:
        lines += ['api_key_env = "REPLAY_KEY"']
    if inference:
        lines += ["models = [" + ", ".join(json.dumps(m) for m in t["models"]) + "]", "",
                  "[inference]", "enabled = true", "interval_secs = 1", "monthly_budget_usd = 100"]
    return "\n".join(lines) + "\n"


def get_status(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as r:
            return json.load(r)
    except Exception:
        return None


def rfc3339(s):
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except (AttributeError, ValueError):
        return None


def signal_of(p, traffic_failed=lambda at: False):
    """Which signal the provider's trouble rests on. `traffic_failed(at)`: one
    of the runner's own gateway calls failed around wall time `at` (the report
    of a failed gateway call takes the place of the probe in `/api/status`)."""
    models = p.get("models") or []
    probe_failed = bool(p.get("probe") and not p["probe"].get("ok"))
    if probe_failed and traffic_failed(rfc3339(p["probe"].get("at"))):
        return "gateway"
    # The provider's summary names the failing model ("claude-opus-4-1: HTTP 500 ...")
    # as soon as one inference check failed, before that model's own state turns.
    names_model = any(p.get("summary", "").startswith(m.get("id", "") + ":") for m in models if m.get("id"))
    if not probe_failed and (names_model or any(m.get("state") in TROUBLE for m in models)):
        return "inference"
    if probe_failed:
        return "probe"
    if p.get("summary", "").startswith("status page") or p.get("confirmed_by_status_page"):
        return "page"
    return "other"


class Run:
    def __init__(self, t, clock, binary, inference, workdir):
        self.t = t
        self.fake = Fake(t, clock)
        self.listen = free_port()
        self.gateway = free_port() if t.get("traffic") else None
        self.clock = clock
        self.calls = []  # (start wall time, end wall time, HTTP status) of each gateway call
        self.calls_lock = threading.Lock()
        self.dir = tempfile.mkdtemp(prefix=f"replay-{t['name']}-", dir=workdir)
        cfg = os.path.join(self.dir, "config.toml")
        with open(cfg, "w") as f:
            f.write(config_text(t, self.fake.port, self.listen, inference, self.gateway))
        env = dict(os.environ)
        env.update({
            "SWITCHBOARD_CONFIG": cfg, "XDG_CONFIG_HOME": os.path.join(self.dir, "xdg-config"),
            "XDG_DATA_HOME": os.path.join(self.dir, "xdg-data"), "REPLAY_KEY": "sk-replay-key",
            "RUST_LOG": "warn",
        })
        for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "DBUS_SESSION_BUS_ADDRESS"):
            env.pop(name, None)
        self.log = open(os.path.join(self.dir, "watch.log"), "w")
        self.proc = subprocess.Popen([binary, "watch"], env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.samples = []  # (minute, state, signal, summary)

    def start_traffic(self):
        """Client requests through the gateway, `per_min` a timeline minute, from t0 to the end."""
        traffic = self.t.get("traffic")
        if not traffic:
            return
        kind = self.t["provider"]
        model = traffic.get("model", self.t["models"][0])
        if kind == "openai":
            path = "/v1/chat/completions"
            body = {"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": "Say hi"}]}
            headers = {"content-type": "application/json"}
        else:
            path = "/v1/messages"
            body = {"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": "Say hi"}]}
            headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
        data = json.dumps(body).encode()
        url = f"http://127.0.0.1:{self.gateway}{path}"

        def call():
            start = time.time()
            req = urllib.request.Request(url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    status = r.status
                    r.read()
            except urllib.error.HTTPError as e:
                status = e.code
            except Exception:
                status = None
            with self.calls_lock:
                self.calls.append((start, time.time(), status))

        def loop():
            period = self.clock.speed / traffic.get("per_min", 6)
            while self.clock.minute() < self.t["duration_min"] and self.proc.poll() is None:
                threading.Thread(target=call, daemon=True).start()
                time.sleep(period)

        threading.Thread(target=loop, daemon=True).start()

    def traffic_failed(self, at):
        """One of our gateway calls got a failing answer around wall time `at`."""
        if at is None:
            return False
        with self.calls_lock:
            return any(status != 200 and start - 0.5 <= at <= end + 0.5 for start, end, status in self.calls)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.fake.stop()
        self.log.close()


def episodes(samples):
    """Trouble episodes: (start minute, end minute, signal at start, state, summary)."""
    out, cur = [], None
    for minute, state, sig, summary in samples:
        if state in TROUBLE and cur is None:
            cur = [minute, None, sig, state, summary]
        elif state not in TROUBLE and cur is not None:
            cur[1] = minute
            out.append(tuple(cur))
            cur = None
    if cur is not None:
        out.append(tuple(cur))
    return out


def judge(t, samples, calls=()):
    user_models = set(t["models"])
    errs = [w for w in t.get("errors", []) if w.get("model") in (None, "*") or w.get("model") in user_models]
    counted_posts = [p for p in t.get("page", []) if p.get("concerns_user", True)]
    starts = [w["from"] for w in errs] + [p["from"] for p in counted_posts]
    ends = [w["to"] for w in errs] + [p.get("to", t["duration_min"]) for p in counted_posts]
    began = min((w["from"] for w in errs), default=None)
    posted = min((p["from"] for p in counted_posts), default=None)
    eps = episodes(samples)
    alarm_expected = t.get("expect", "detect") == "detect"
    window = (min(starts), max(ends) + GRACE_MIN) if starts and alarm_expected else None
    detected = next((e for e in eps if window and window[0] <= e[0] < window[1]), None)
    false = [e for e in eps if not window or not (window[0] <= e[0] < window[1])]
    lead = None
    if detected and posted is not None:
        lead = posted - detected[0]
    return {
        "name": t["name"], "shape": t.get("shape", ""), "provider": t["provider"],
        "errors_began": began, "page_posted": posted,
        "detected": round(detected[0], 1) if detected else None,
        "signal": detected[2] if detected else None,
        "state": detected[3] if detected else None,
        "lead": round(lead, 1) if lead is not None else None,
        "before_page": bool(detected and (posted is None or detected[0] < posted)),
        "false_alarms": len(false),
        "false_alarm_detail": [f"{e[0]:.1f}: {e[3]} ({e[2]}) {e[4][:60]}" for e in false],
        "expect": t.get("expect", "detect"), "note": t.get("note", ""),
        "gateway_calls": len(calls), "gateway_failed": sum(1 for c in calls if c[2] != 200),
    }


def fmt(v):
    return "–" if v is None else (f"{v:g}" if isinstance(v, (int, float)) else str(v))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inference", action="store_true", help="enable [inference] and models = [...]")
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/switchboard-target")), "debug", "switchboard"))
    ap.add_argument("--speed", type=float, default=1.0, help="real seconds per timeline minute (default 1)")
    ap.add_argument("--only", action="append", help="run only timelines whose name contains this")
    ap.add_argument("--json", help="write the results as JSON here")
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"no switchboard binary at {args.bin} (cargo build, or --bin)")
    timelines = []
    for path in sorted(glob.glob(os.path.join(HERE, "timelines", "*.json"))):
        with open(path) as f:
            t = json.load(f)
        if not args.only or any(o in t["name"] for o in args.only):
            timelines.append(t)
    clock = Clock(args.speed)
    workdir = tempfile.mkdtemp(prefix="switchboard-replay-")
    runs = []
    try:
        for t in timelines:
            runs.append(Run(t, clock, args.bin, args.inference, workdir))
        deadline = time.monotonic() + 60
        for r in runs:
            while get_status(r.listen) is None:
                if r.proc.poll() is not None or time.monotonic() > deadline:
                    with open(os.path.join(r.dir, "watch.log")) as f:
                        log = f.read()
                    sys.exit(f"{r.t['name']}: switchboard watch did not start:\n{log[-2000:]}")
                time.sleep(0.2)
        time.sleep(WARMUP_SECS)
        clock.t0 = time.monotonic()
        for r in runs:
            r.start_traffic()
        end = max(t["duration_min"] for t in timelines) + TAIL_MIN
        print(f"replaying {len(runs)} timelines at {args.speed:g} s per minute, inference "
              f"{'on' if args.inference else 'off'} ({end:g} min of timeline)...", file=sys.stderr)
        while clock.minute() < end:
            tick = time.monotonic()
            for r in runs:
                if clock.minute() > r.t["duration_min"] + TAIL_MIN:
                    continue
                s = get_status(r.listen)
                p = s and next((x for x in s["providers"] if x["id"] == "p"), None)
                if p:
                    r.samples.append((clock.minute(), p["state"], signal_of(p, r.traffic_failed), p.get("summary", "")))
            time.sleep(max(0.0, POLL_SECS - (time.monotonic() - tick)))
    finally:
        for r in runs:
            r.stop()
    results = [judge(r.t, r.samples, r.calls) for r in runs]
    print_table(results, args.inference)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    shutil.rmtree(workdir, ignore_errors=True)


def print_table(results, inference):
    print(f"\n### Detection replay, inference {'on' if inference else 'off'}\n")
    print("| timeline | provider | errors began | detected | signal | page posted | lead (min) | false alarms | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        detected = fmt(r["detected"]) + (f" ({r['state']})" if r["state"] else "")
        if r["expect"] == "no_alarm":
            detected = "no alarm expected" if r["detected"] is None else detected
        print(f"| {r['name']} | {r['provider']} | {fmt(r['errors_began'])} | {detected} | {fmt(r['signal'])} | "
              f"{fmt(r['page_posted'])} | {fmt(r['lead'])} | {r['false_alarms']} | {r['note']} |")
    leads = [r["lead"] for r in results if r["lead"] is not None]
    expected = [r for r in results if r["expect"] == "detect"]
    before = sum(1 for r in expected if r["before_page"])
    detected = sum(1 for r in expected if r["detected"] is not None)
    false = sum(r["false_alarms"] for r in results)
    print()
    print(f"median lead over the page: {fmt(round(statistics.median(leads), 1)) if leads else '–'} min "
          f"({len(leads)} timelines with both a detection and a page post)")
    print(f"detected: {detected} of {len(expected)} timelines with a real incident; "
          f"before the page (or with no page post at all): {before}")
    print(f"false alarms: {false}")
    for r in results:
        if r["gateway_calls"]:
            print(f"  {r['name']}: {r['gateway_calls']} client calls through the gateway, {r['gateway_failed']} failed")
    for r in results:
        for d in r["false_alarm_detail"]:
            print(f"  false alarm in {r['name']} at minute {d}")


if __name__ == "__main__":
    main()
