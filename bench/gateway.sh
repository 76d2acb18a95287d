#!/usr/bin/env bash
# What the failover gateway costs: latency added (p50/p99) and maximum
# requests/s through Switchboard's gateway vs calling the upstream directly vs
# LiteLLM's proxy configured for the same fallback, streaming and not, in one
# run, against one fast fake upstream on 127.0.0.1. Prints a Markdown table.
#
#   bench/gateway.sh
#
# Knobs (environment):
#   BENCH_RATE=500            open-loop requests/s of the headline latency rows
#   BENCH_LOW_RATE=10         a second open-loop rate that every target can carry,
#                             so per-request overhead compares without queueing
#                             ("" to skip); a rate above a target's closed-loop
#                             maximum is not run for that target
#   BENCH_DURATION=15         open-loop seconds per rate, target and mode
#   BENCH_CONCURRENCY=32      closed-loop connections (the max req/s column)
#   BENCH_CLOSED_SECS=5       closed-loop seconds
#   BENCH_MODES=non-stream,stream
#   BENCH_PROTOCOL=anthropic  or openai (then Switchboard prefers openai)
#   BENCH_LITELLM=1           0: leave LiteLLM out
#   BENCH_LITELLM_WORKERS=2   LiteLLM proxy worker processes (one per core here)
#   BENCH_KEEP=1              keep the temp dir (configs, logs)
#
# What runs (all on this machine, nothing leaves 127.0.0.1):
#   examples/bench_upstream.rs  the fake: Anthropic /v1/messages and OpenAI
#                               /v1/chat/completions, JSON or a 10-event SSE stream, instantly
#   target/release/switchboard  `watch` with the gateway on; preferred anthropic,
#                               fallback [anthropic, openai], both at the fake
#   litellm --config            `litellm[proxy]` (pinned in bench/gateway/requirements-litellm.txt,
#                               venv ~/.cache/switchboard-venv-litellm): the same two upstreams
#                               as a model group with a router fallback, callbacks and telemetry off
#   examples/bench_load.rs      the load generator and the table
set -euo pipefail
cd "$(dirname "$0")/.."
here=bench/gateway

rate=${BENCH_RATE:-500}
low_rate=${BENCH_LOW_RATE-10}
duration=${BENCH_DURATION:-15}
concurrency=${BENCH_CONCURRENCY:-32}
closed_secs=${BENCH_CLOSED_SECS:-5}
modes=${BENCH_MODES:-non-stream,stream}
protocol=${BENCH_PROTOCOL:-anthropic}
with_litellm=${BENCH_LITELLM:-1}
litellm_workers=${BENCH_LITELLM_WORKERS:-2}

log() { printf 'gateway bench: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}
log "building (release)"
cargo build --quiet --release --locked --bin switchboard --example bench_upstream --example bench_load
bin=$CARGO_TARGET_DIR/release

tmp=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-gateway-bench.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        # Each was started with setsid: its id is its process group's, so
        # LiteLLM's worker processes go with it.
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ -n ${BENCH_KEEP-} ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL WHAT [SECONDS]: until URL answers anything at all.
wait_http() {
    local i
    for ((i = 0; i < ${3:-30} * 10; i++)); do
        curl -s -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    die "$2 did not answer on $1 (logs in $tmp; BENCH_KEEP=1 keeps them)"
}

# ---- the fake upstream --------------------------------------------------------

setsid "$bin/examples/bench_upstream" --listen 127.0.0.1:0 --threads 1 >"$tmp/upstream.addr" 2>"$tmp/upstream.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/upstream.addr ]] && break; sleep 0.05; done
upstream=http://$(head -1 "$tmp/upstream.addr")
wait_http "$upstream/v1/models" "the fake upstream"
log "fake upstream on $upstream"

# ---- Switchboard ----------------------------------------------------------------

if [[ $protocol == openai ]]; then
    preferred=openai fallback='"openai", "anthropic"' model=gpt-4.1
else
    preferred=anthropic fallback='"anthropic", "openai"' model=claude-sonnet-4-5
fi
gw_port=$(free_port)
cat >"$tmp/switchboard.toml" <<EOF
# Written by bench/gateway.sh: both providers are the fake on 127.0.0.1.
use_catalog = false
preferred = "$preferred"
fallback = [$fallback]
auto_switch = false

[check]
interval_secs = 3600

[notifications]
enabled = false

[server]
listen = "127.0.0.1:$(free_port)"

[gateway]
enabled = true
listen = "127.0.0.1:$gw_port"

[[providers]]
id = "anthropic"
kind = "anthropic"
base_url = "$upstream"
status_format = "none"
api_key_env = "BENCH_ANTHROPIC_KEY"
model = "claude-sonnet-4-5"

[[providers]]
id = "openai"
kind = "openai"
base_url = "$upstream/v1"
status_format = "none"
api_key_env = "BENCH_OPENAI_KEY"
model = "gpt-4.1"
EOF
mkdir -p "$tmp/xdg-runtime" && chmod 700 "$tmp/xdg-runtime"
# Throwaway XDG dirs; no session bus, so no keyring lookups: the keys come
# from api_key_env. Logs at warn: per-request info lines would be measured too.
setsid env -u SWITCHBOARD_CONFIG XDG_CONFIG_HOME="$tmp/xdg-config" XDG_DATA_HOME="$tmp/xdg-data" \
    XDG_STATE_HOME="$tmp/xdg-state" XDG_CACHE_HOME="$tmp/xdg-cache" XDG_RUNTIME_DIR="$tmp/xdg-runtime" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=$tmp/no-bus" \
    BENCH_ANTHROPIC_KEY=sk-ant-bench BENCH_OPENAI_KEY=sk-bench RUST_LOG="${RUST_LOG:-warn}" NO_COLOR=1 \
    "$bin/switchboard" watch --config "$tmp/switchboard.toml" </dev/null >"$tmp/switchboard.log" 2>&1 &
pids+=($!)
switchboard=http://127.0.0.1:$gw_port
wait_http "$switchboard/v1/models" "Switchboard's gateway"
log "switchboard gateway on $switchboard"

# ---- LiteLLM --------------------------------------------------------------------

litellm=
if [[ $with_litellm == 1 ]]; then
    venv=${SWITCHBOARD_LITELLM_VENV:-$HOME/.cache/switchboard-venv-litellm}
    req=$here/requirements-litellm.txt
    want=$(sha256sum "$req" | cut -d' ' -f1)
    if [[ ! -x $venv/bin/litellm || $(cat "$venv/.requirements.sha256" 2>/dev/null) != "$want" ]]; then
        log "installing $req into $venv"
        [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" </dev/null \
            || die "pip install of $req failed"
        echo "$want" >"$venv/.requirements.sha256"
    fi
    ll_port=$(free_port)
    sed -e "s|@UPSTREAM@|$upstream|g" "$here/litellm.yaml" >"$tmp/litellm.yaml"
    # No cost-map download, no telemetry, no database, no UI, logs at error.
    setsid env -u DATABASE_URL LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False \
        LITELLM_LOG=ERROR LITELLM_MODE=PRODUCTION DISABLE_ADMIN_UI=True NO_DOCS=True \
        BENCH_ANTHROPIC_KEY=sk-ant-bench BENCH_OPENAI_KEY=sk-bench \
        "$venv/bin/litellm" --config "$tmp/litellm.yaml" --host 127.0.0.1 --port "$ll_port" \
        --num_workers "$litellm_workers" </dev/null >"$tmp/litellm.log" 2>&1 &
    pids+=($!)
    litellm=http://127.0.0.1:$ll_port
    wait_http "$litellm/health/liveliness" "LiteLLM" 120
    log "litellm proxy ($("$venv/bin/pip" show litellm 2>/dev/null | sed -n 's/^Version: //p'), $litellm_workers workers) on $litellm"
fi

# ---- one request each, by hand, before measuring --------------------------------

if [[ $protocol == openai ]]; then
    path=/v1/chat/completions
    auth=(-H "authorization: Bearer bench-client-key")
else
    path=/v1/messages
    auth=(-H "x-api-key: bench-client-key" -H "anthropic-version: 2023-06-01")
fi
counter() { curl -s "$upstream/counters"; }
check_target() { # NAME BASE
    local name=$1 base=$2 stream before after served
    for stream in false true; do
        before=$(counter)
        curl -sS --fail-with-body --max-time 30 -D "$tmp/$name.$stream.headers" -o "$tmp/$name.$stream.body" \
            "${auth[@]}" -H 'content-type: application/json' \
            -d "{\"model\":\"$model\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}],\"stream\":$stream}" \
            "$base$path" || die "$name (stream=$stream): $(cat "$tmp/$name.$stream.body" 2>/dev/null)"
        after=$(counter)
        [[ $before != "$after" ]] || die "$name (stream=$stream) answered without calling the fake upstream"
        served=$(sed -n 's/^x-switchboard-provider: *//Ip' "$tmp/$name.$stream.headers" | tr -d '\r')
        log "check $name stream=$stream: HTTP $(head -1 "$tmp/$name.$stream.headers" | cut -d' ' -f2), $(wc -c <"$tmp/$name.$stream.body") bytes${served:+, served by $served}; upstream counters $after"
    done
}
check_target direct "$upstream"
check_target switchboard "$switchboard"
[[ -z $litellm ]] || check_target litellm "$litellm"

# ---- the run --------------------------------------------------------------------

targets=(--target "direct=$upstream" --target "switchboard=$switchboard")
[[ -z $litellm ]] || targets+=(--target "litellm=$litellm")
rates=${low_rate:+$low_rate,}$rate
log "measuring per target and mode: $concurrency connections for ${closed_secs}s, then ${duration}s at each of $rates req/s"
echo "# $(date -u +'%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(uname -sr)"
if [[ -n $litellm ]]; then
    ll_about="litellm $("$venv/bin/pip" show litellm 2>/dev/null | sed -n 's/^Version: //p') ($litellm_workers workers)"
else
    ll_about="litellm not run"
fi
echo "# switchboard $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty'), $ll_about"
echo "# bench/gateway.sh: BENCH_RATE=$rate BENCH_LOW_RATE=$low_rate BENCH_DURATION=$duration BENCH_CONCURRENCY=$concurrency BENCH_CLOSED_SECS=$closed_secs BENCH_PROTOCOL=$protocol"
"$bin/examples/bench_load" "${targets[@]}" --protocol "$protocol" --model "$model" \
    --rate "$rates" --duration "$duration" --concurrency "$concurrency" --closed-secs "$closed_secs" \
    --modes "$modes"
