#!/usr/bin/env bash
# Passive signals (`[passive]`): the cost of following Claude Code's session
# logs, and how fast an error line becomes a state change. One run, side by
# side: `switchboard watch` with [passive] off (baseline) and on, over the
# same home directory with SESSIONS session files (like a long-used
# ~/.claude/projects), a fake status page and a key-less Claude API.
#   idle: RSS and CPU time over SECONDS of quiet;
#   latency: two real-format 500 lines appended to a session -> `outage` in
#   GET /api/status (from the second line, polled every 5 ms).
# Usage: bench/passive.sh [seconds] [path/to/switchboard]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-60}
bin=${2:-${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}/release/switchboard}
sessions=${SESSIONS:-300}
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT

python3 - "$tmp/home" "$sessions" <<'PY'
import json, os, sys
home, n = sys.argv[1], int(sys.argv[2])
line = json.dumps({"type": "user", "message": {"role": "user", "content": "x" * 2000}}) + "\n"
for i in range(n):
    d = os.path.join(home, ".claude", "projects", f"-home-user-project{i % 30}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"session-{i}.jsonl"), "w") as f:
        f.write(line * 100)  # about 200 KB each
PY

python3 "$here/fake_providers.py" 0.05 >"$tmp/port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
fport=$(cat "$tmp/port")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run() { # name passive
    local name=$1 passive=$2 port dir pid
    port=$(free_port)
    dir="$tmp/$name"
    mkdir -p "$dir"
    cat >"$dir/config.toml" <<TOML
use_catalog = false
preferred = "anthropic"
[check]
interval_secs = 60
[server]
listen = "127.0.0.1:$port"
[gateway]
enabled = false
[passive]
claude_code = $passive
[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "http://127.0.0.1:$fport/p0"
status_page = "http://127.0.0.1:$fport"
status_format = "statuspage"
api_key_env = "BENCH_NO_KEY"
TOML
    HOME="$tmp/home" XDG_DATA_HOME="$dir/data" XDG_CONFIG_HOME="$dir/xdg" \
        "$bin" --config "$dir/config.toml" watch >"$dir/watch.log" 2>&1 &
    pid=$!
    pids+=($pid)
    python3 - "$port" "$pid" "$seconds" "$tmp/home" "$name" "$passive" <<'PY'
import json, os, sys, time, urllib.request
port, pid, seconds, home, name, passive = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6] == "true"
def status():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as r:
            return json.load(r)
    except Exception:
        return None
for _ in range(100):
    s = status()
    if s and s["providers"] and s["providers"][0]["state"] != "unknown":
        break
    time.sleep(0.1)
hz = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"):
            return int(l.split()[1])
time.sleep(5)
c0 = cpu()
time.sleep(seconds)
c1 = cpu()
idle_cpu_ms_per_min = (c1 - c0) * 1000 * 60 / seconds
lat = []
if passive:
    # Two real-format errors 0.3 s apart (failures_to_open = 2): the time from
    # the second line being written to `outage` in the API.
    f = os.path.join(home, ".claude", "projects", "-home-user-project0", "session-0.jsonl")
    def line(i):
        return json.dumps({"type": "assistant", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                           "message": {"model": "<synthetic>", "role": "assistant", "content": []},
                           "requestId": f"req_bench_{i}", "error": "server_error",
                           "isApiErrorMessage": True, "apiErrorStatus": 500}) + "\n"
    open(f, "a").write(line(0))
    time.sleep(0.3)
    t1 = time.monotonic()
    open(f, "a").write(line(1))
    while time.monotonic() - t1 < 10:
        s = status()
        if s and s["providers"][0]["state"] == "outage":
            lat.append((time.monotonic() - t1) * 1000)
            break
        time.sleep(0.005)
print(f"{name:12s} RSS {rss():6d} KiB   idle CPU {idle_cpu_ms_per_min:6.1f} ms/min" +
      (f"   error line -> outage {lat[0]:.0f} ms" if lat else ""))
PY
    kill $pid
}

echo "switchboard watch, $sessions Claude Code sessions (~$((sessions / 5)) MB), ${seconds} s idle"
run passive-off false
run passive-on true
