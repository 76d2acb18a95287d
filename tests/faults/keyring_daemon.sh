#!/usr/bin/env bash
# Fault: the Secret Service (gnome-keyring-daemon) killed while `switchboard watch`
# runs with a key stored in it, then started again. Run inside
# scripts/with-secret-service.sh (a private bus and daemon of its own):
#
#   scripts/with-secret-service.sh tests/faults/keyring_daemon.sh path/to/switchboard
#
# Checks: with the daemon gone, the provider's credential reads "unavailable" (a
# clear state, not a crash or a stale "keyring"), watch keeps serving; once a
# daemon owns the bus name again, the key is read again and probes resume.
set -euo pipefail
bin=$1
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
log() { printf 'keyring_daemon: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# A fake Anthropic that answers every probe.
cat >"$work/fake.py" <<'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        d = json.dumps({"data": [{"type": "model", "id": "claude-sonnet-4-5"}], "has_more": False}).encode()
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(d))); self.end_headers(); self.wfile.write(d)
s = ThreadingHTTPServer(("127.0.0.1", 0), H); print(s.server_address[1], flush=True); s.serve_forever()
PY
python3 "$work/fake.py" >"$work/fake.port" & pids+=($!)
for _ in $(seq 50); do [ -s "$work/fake.port" ] && break; sleep 0.1; done
fake=$(cat "$work/fake.port")
api=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/config.toml" <<TOML
use_catalog = false
preferred = "kr"
[check]
interval_secs = 1
confirm_secs = 1
[server]
listen = "127.0.0.1:$api"
[gateway]
enabled = false
[[providers]]
id = "kr"
kind = "anthropic"
base_url = "http://127.0.0.1:$fake"
TOML
export SWITCHBOARD_CONFIG=$work/config.toml
printf 'sk-ant-keyring-fault' | "$bin" key set kr >/dev/null
"$bin" watch >"$work/watch.log" 2>&1 & watch=$!; pids+=($watch)

field() { # credential and state of the provider, "credential state"
    curl -fsS "http://127.0.0.1:$api/api/status" 2>/dev/null |
        python3 -c 'import json,sys; p=json.load(sys.stdin)["providers"][0]; print(p.get("credential"), p["state"])' 2>/dev/null || true
}
wait_for() { # wait_for "credential state" seconds
    local got=""
    for _ in $(seq $(($2 * 5))); do
        got=$(field)
        [ "$got" = "$1" ] && return 0
        sleep 0.2
    done
    die "waited $2 s for '$1', last '$got'; log: $(tail -5 "$work/watch.log")"
}
wait_for "keyring operational" 20
log "before: keyring operational"

gkd=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetConnectionUnixProcessID \
    string:org.freedesktop.secrets | awk '/uint32/ {print $2}')
[ -n "$gkd" ] || die "no Secret Service pid"
exe=$(readlink "/proc/$gkd/exe")
kill -9 "$gkd"
log "killed gnome-keyring-daemon $gkd"
# The key cannot be read: the credential says so; the last verdict stands or goes
# to unknown, never an outage of the provider.
for _ in $(seq 100); do
    got=$(field)
    case $got in "unavailable "*) break ;; esac
    sleep 0.2
done
case $got in "unavailable "*) ;; *) die "credential after the kill: '$got'" ;; esac
case $got in *" outage") die "the keyring's death became an outage: '$got'" ;; esac
kill -0 "$watch" || die "watch died with the keyring"
log "daemon gone: $got"

# The daemon comes back (same keyring file, same password as the wrapper's). Meanwhile
# D-Bus may have auto-started a locked one on the next read: `--replace` takes over.
printf 'switchboard-test' | "$exe" --replace --unlock --components=secrets --daemonize >/dev/null 2>"$work/gkd.err" ||
    die "could not restart the daemon: $(cat "$work/gkd.err")"
log "secret-tool after restart: $(timeout 5 secret-tool search --all service switchboard 2>&1 | head -3 | tr "\n" " ")"
wait_for "keyring operational" 30
log "after restart: keyring operational"
kill -0 "$watch" || die "watch died"
echo "keyring_daemon: ok"
