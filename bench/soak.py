#!/usr/bin/env python3
"""The soak of bench/soak.sh: one `switchboard watch` under everything at once.

  - 7 fake Anthropic-style providers on 127.0.0.1 that flap: each cycles through
    operational, HTTP 500, 529 overloaded, slow and 429 phases (20-70 s each), and
    its own Statuspage feed flaps with it, with long incident texts;
  - gateway traffic at RATE req/s (half streamed) on /v1/messages, whose upstream
    streams fail mid-way (connection cut after a few events) 10 % of the time;
  - SSE clients on /api/events connecting, reading for 1-15 s and leaving;
  - every minute: RSS, open file descriptors, threads, history DB size, and the
    request / error counts of the last minute.

Usage: soak.py BIN MINUTES RATE WORKDIR. Prints one line per minute to stdout.
"""
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIN, MINUTES, RATE, WORK = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
N = 7
PHASES = ["ok", "ok", "500", "529", "slow", "429"]
rng = random.Random(16)
phase = ["ok"] * N
# Seconds of "slow": above the config's slow_ms, below timeout_secs.
SLOW_S = 2.5


def flapper():
    while True:
        time.sleep(rng.uniform(20, 70) / N)
        phase[rng.randrange(N)] = rng.choice(PHASES)


MODELS = {"data": [{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5",
                    "created_at": "2025-09-29T00:00:00Z"}], "has_more": False}
ERRORS = {"500": (500, {"type": "error", "error": {"type": "api_error", "message": "Internal server error"},
                        "request_id": "req_soak"}),
          "529": (529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
          "429": (429, {"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limited"}})}


def summary(i):
    bad = phase[i] not in ("ok", "slow")
    status = "major_outage" if bad else "operational"
    incidents = [{"id": f"inc{i}", "name": f"Elevated errors on p{i} " + "x" * rng.randrange(10, 4000),
                  "status": "investigating", "impact": "major", "shortlink": "https://stspg.io/x",
                  "created_at": "2026-12-07T00:00:00Z", "updated_at": "2026-12-07T00:00:00Z",
                  "incident_updates": [{"body": "We are investigating. " * rng.randrange(1, 500)}],
                  "components": [{"id": f"c{i}", "name": "Claude API"}]}] if bad else []
    return {"page": {"id": "soak", "name": f"p{i}", "url": "http://127.0.0.1", "updated_at": "2026-12-07T00:00:00Z"},
            "components": [{"id": f"c{i}", "name": "Claude API", "status": status, "group": False}],
            "incidents": incidents, "scheduled_maintenances": [],
            "status": {"indicator": "major" if bad else "none", "description": "soak"}}


def sse_event(name, data):
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def stream_events(model):
    yield sse_event("message_start", {"type": "message_start", "message": {
        "id": "msg_soak", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}})
    yield sse_event("content_block_start", {"type": "content_block_start", "index": 0,
                                            "content_block": {"type": "text", "text": ""}})
    for k in range(8):
        yield sse_event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                "delta": {"type": "text_delta", "text": f"word{k} "}})
    yield sse_event("content_block_stop", {"type": "content_block_stop", "index": 0})
    yield sse_event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                                        "stop_sequence": None},
                                      "usage": {"output_tokens": 8}})
    yield sse_event("message_stop", {"type": "message_stop"})


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def provider(self):
        try:
            return int(self.path.split("/")[1][1:]) % N
        except (ValueError, IndexError):
            return 0

    def do_GET(self):
        i = self.provider()
        if self.path.endswith("/api/v2/summary.json"):
            return self.send_json(200, summary(i))
        p = phase[i]
        if p == "slow":
            time.sleep(SLOW_S)
        if p in ERRORS:
            return self.send_json(*ERRORS[p])
        self.send_json(200, MODELS)

    def do_POST(self):
        i = self.provider()
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        p = phase[i]
        if p in ERRORS:
            return self.send_json(*ERRORS[p])
        if not body.get("stream"):
            return self.send_json(200, {"id": "msg_soak", "type": "message", "role": "assistant",
                                        "model": body.get("model", "m"), "content": [{"type": "text", "text": "hi"}],
                                        "stop_reason": "end_turn", "stop_sequence": None,
                                        "usage": {"input_tokens": 10, "output_tokens": 1}})
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        cut = rng.random() < 0.10
        for k, ev in enumerate(stream_events(body.get("model", "m"))):
            if cut and k == 4:
                # Mid-stream failure: the connection drops after a few events.
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(ev)
            self.wfile.flush()
        self.close_connection = True


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


stats = {"ok": 0, "err": 0, "sse": 0}
lock = threading.Lock()


def count(k):
    with lock:
        stats[k] += 1


def one_request(gw_port, stream):
    try:
        c = http.client.HTTPConnection("127.0.0.1", gw_port, timeout=30)
        body = json.dumps({"model": "claude-sonnet-4-5", "max_tokens": 16, "stream": stream,
                           "messages": [{"role": "user", "content": "hi"}]})
        c.request("POST", "/v1/messages", body, {"content-type": "application/json", "x-api-key": "soak",
                                                  "anthropic-version": "2023-06-01"})
        r = c.getresponse()
        data = r.read()
        c.close()
        ok = r.status == 200 and (not stream or b"message_stop" in data)
        count("ok" if ok else "err")
    except Exception:
        count("err")


def load(gw_port, deadline):
    # Open loop: one request every 1/RATE s, each in its own thread.
    t = time.monotonic()
    while time.monotonic() < deadline:
        threading.Thread(target=one_request, args=(gw_port, rng.random() < 0.5), daemon=True).start()
        t += 1.0 / RATE
        time.sleep(max(0.0, t - time.monotonic()))


def sse_client(api_port, deadline):
    while time.monotonic() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", api_port), timeout=5)
            s.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            s.settimeout(1)
            until = time.monotonic() + rng.uniform(1, 15)
            while time.monotonic() < until:
                try:
                    if not s.recv(65536):
                        break
                except socket.timeout:
                    pass
            s.close()
            count("sse")
        except OSError:
            time.sleep(1)


def main():
    os.makedirs(WORK, exist_ok=True)
    up = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    up.daemon_threads = True
    threading.Thread(target=up.serve_forever, daemon=True).start()
    threading.Thread(target=flapper, daemon=True).start()
    uport = up.server_address[1]
    api_port, gw_port = free_port(), free_port()
    cfg = os.path.join(WORK, "config.toml")
    with open(cfg, "w") as f:
        f.write(f'use_catalog = false\npreferred = "p0"\nfallback = [{", ".join(f"{chr(34)}p{i}{chr(34)}" for i in range(N))}]\n')
        f.write('[check]\ninterval_secs = 5\nconfirm_secs = 2\ntimeout_secs = 10\nslow_ms = 2000\n')
        f.write(f'[server]\nlisten = "127.0.0.1:{api_port}"\n[gateway]\nenabled = true\nlisten = "127.0.0.1:{gw_port}"\n')
        for i in range(N):
            f.write(f'[[providers]]\nid = "p{i}"\nkind = "anthropic"\nbase_url = "http://127.0.0.1:{uport}/p{i}"\n'
                    f'status_page = "http://127.0.0.1:{uport}/p{i}"\nstatus_format = "statuspage"\n'
                    f'components = ["Claude API"]\napi_key_env = "SOAK_KEY"\nmodel = "claude-sonnet-4-5"\n')
    env = dict(os.environ, XDG_DATA_HOME=os.path.join(WORK, "data"), XDG_CONFIG_HOME=os.path.join(WORK, "cfg"),
               SOAK_KEY="soak-key", RUST_LOG="warn")
    log = open(os.path.join(WORK, "watch.log"), "w")
    sb = subprocess.Popen([BIN, "--config", cfg, "watch"], env=env, stdout=log, stderr=log)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", gw_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    deadline = time.monotonic() + MINUTES * 60
    threading.Thread(target=load, args=(gw_port, deadline), daemon=True).start()
    for _ in range(5):
        threading.Thread(target=sse_client, args=(api_port, deadline), daemon=True).start()
    db = os.path.join(WORK, "data", "switchboard", "history.sqlite3")

    def sample(minute):
        if sb.poll() is not None:
            print(f"switchboard exited with {sb.returncode}", flush=True)
            sys.exit(1)
        st = open(f"/proc/{sb.pid}/status").read()
        field = lambda k: next(l.split()[1] for l in st.splitlines() if l.startswith(k))
        fds = len(os.listdir(f"/proc/{sb.pid}/fd"))
        size = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
        with lock:
            s = dict(stats)
            stats.update(ok=0, err=0, sse=0)
        print(f"{minute:5.1f} min  rss {int(field('VmRSS:')) // 1024:4d} MiB  fds {fds:4d}  threads {field('Threads:'):>3}"
              f"  db {size / 1024:8.1f} KiB  last min: {s['ok']} ok, {s['err']} failed, {s['sse']} sse sessions",
              flush=True)

    print("  min  (RSS, open fds, threads, history DB + WAL; gateway requests and SSE sessions in the last minute)",
          flush=True)
    sample(0)
    start = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(min(60, max(0, deadline - time.monotonic())))
        sample((time.monotonic() - start) / 60)
    sb.terminate()
    sb.wait(timeout=30)
    up.shutdown()


main()
