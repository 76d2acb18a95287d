#!/usr/bin/env bash
# What the failover gateway costs: latency added (p50/p99) and maximum
# requests/s through Switchboard's gateway vs calling the upstream directly vs
# its peers (LiteLLM's proxy, TensorZero's gateway, claude-code-router), each
# configured for the same fallback, per API (Anthropic Messages, OpenAI Chat
# Completions, OpenAI Responses), streaming and not, in one run, against one
# fast fake upstream on 127.0.0.1. Prints a Markdown table.
#
#   bench/gateway.sh
#
# Knobs (environment):
#   BENCH_RATE=500            open-loop requests/s of the headline latency rows
#   BENCH_LOW_RATE=10         a second open-loop rate that every target can carry,
#                             so per-request overhead compares without queueing
#                             ("" to skip); a rate above a target's closed-loop
#                             maximum is not run for that target
#   BENCH_DURATION=10         open-loop seconds per rate, target and mode
#   BENCH_CONCURRENCY=32      closed-loop connections (the max req/s column)
#   BENCH_CLOSED_SECS=5       closed-loop seconds
#   BENCH_MODES=non-stream,stream
#   BENCH_APIS=messages,chat,responses
#                             messages: Anthropic POST /v1/messages;
#                             chat: OpenAI POST /v1/chat/completions;
#                             responses: OpenAI POST /v1/responses
#   BENCH_LITELLM=1           0: leave LiteLLM out
#   BENCH_LITELLM_WORKERS=2   LiteLLM proxy worker processes (one per core here)
#   BENCH_TENSORZERO=1        0: leave TensorZero out
#   BENCH_CCR=1               0: leave claude-code-router out
#   BENCH_FLOOR=1             0: leave out the "floor" rows (examples/bench_floor.rs)
#   BENCH_BASELINE_BIN=PATH   another switchboard binary (e.g. an older commit's
#                             release build): measured in the same run as
#                             "switchboard-base" rows, so before/after compare
#                             under the same load
#   BENCH_BUILD=1             0: use the release binaries already in $CARGO_TARGET_DIR
#                             (every commit changes the binary's --version, so cargo
#                             would rebuild it)
#   BENCH_KEEP=1              keep the temp dir (configs, logs)
#   BENCH_REPEAT=1            open-loop rounds per rate; each round runs every target
#                             once, so a slow spell of this shared machine falls on
#                             neighbours alike; the table shows the median round and
#                             the range of the added p99
#   BENCH_SAMPLES=DIR         also write every open-loop request (send time, latency)
#                             to DIR/<api>-<target>-<mode>-<rate>.tsv
#
# What runs (all on this machine, nothing leaves 127.0.0.1):
#   examples/bench_upstream.rs  the fake: Anthropic /v1/messages, OpenAI
#                               /v1/chat/completions and /v1/responses, JSON or an
#                               SSE stream, instantly
#   target/release/switchboard  `watch` with the gateway on, twice:
#                               "switchboard": preferred anthropic, fallback
#                               [anthropic, openai], both at the fake (so chat and
#                               responses requests are translated to Messages);
#                               "switchboard-pass": preferred openai (Responses
#                               requests pass through to the fake's /v1/responses)
#   litellm --config            `litellm[proxy]` (pinned in bench/gateway/requirements-litellm.txt,
#                               venv ~/.cache/switchboard-venv-litellm): the same two upstreams
#                               as a model group with a router fallback, callbacks and telemetry off
#   tensorzero                  PyPI `tensorzero` (pinned in bench/gateway/requirements-tensorzero.txt,
#                               venv ~/.cache/switchboard-venv-tensorzero); the wheel carries the
#                               gateway and starts it on a loopback port (bench/gateway/tensorzero_gateway.py):
#                               one model, providers anthropic then openai in `routing` order.
#                               It serves OpenAI Chat Completions only (/openai/v1/chat/completions):
#                               no Anthropic Messages, no Responses endpoint, so those rows say n/a
#   claude-code-router          npm `@musistudio/claude-code-router` (pinned in
#                               bench/gateway/ccr-package.json, installed under
#                               ~/.cache/switchboard-ccr), `ccr start` with a temp HOME:
#                               Router default anthropic, `fallback` to openai. It routes
#                               Anthropic /v1/messages only, so the other rows say n/a
#   examples/bench_floor.rs     "floor": the barest proxy hyper makes (one thread, every
#                               request passed on as it came, no routing, checks, keys or
#                               translation): what one more local hop costs on this machine,
#                               the least any gateway here can add
#   examples/bench_load.rs      the load generator and the table
set -euo pipefail
cd "$(dirname "$0")/.."
here=bench/gateway

rate=${BENCH_RATE:-500}
low_rate=${BENCH_LOW_RATE-10}
duration=${BENCH_DURATION:-10}
concurrency=${BENCH_CONCURRENCY:-32}
closed_secs=${BENCH_CLOSED_SECS:-5}
modes=${BENCH_MODES:-non-stream,stream}
apis=${BENCH_APIS:-messages,chat,responses}
with_litellm=${BENCH_LITELLM:-1}
litellm_workers=${BENCH_LITELLM_WORKERS:-2}
with_tensorzero=${BENCH_TENSORZERO:-1}
with_ccr=${BENCH_CCR:-1}
baseline_bin=${BENCH_BASELINE_BIN-}
with_floor=${BENCH_FLOOR:-1}

log() { printf 'gateway bench: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}
has_api() { [[ ,$apis, == *,$1,* ]]; }
[[ -z $baseline_bin || -x $baseline_bin ]] || die "BENCH_BASELINE_BIN=$baseline_bin is not an executable"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}
if [[ ${BENCH_BUILD:-1} == 1 ]]; then
    log "building (release)"
    cargo build --quiet --release --locked --bin switchboard --example bench_upstream --example bench_load \
        --example bench_floor
fi
bin=$CARGO_TARGET_DIR/release
floor_bin=
[[ $with_floor != 1 ]] || floor_bin=examples/bench_floor
for b in switchboard examples/bench_upstream examples/bench_load $floor_bin; do
    [[ -x $bin/$b ]] || die "$bin/$b is missing (BENCH_BUILD=0 uses the binaries already built)"
done

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

# wait_http URL WHAT [SECONDS] [soft]: until URL answers anything at all;
# soft: return 1 instead of stopping the run.
wait_http() {
    local i
    for ((i = 0; i < ${3:-30} * 10; i++)); do
        curl -s -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    [[ ${4-} != soft ]] || return 1
    die "$2 did not answer on $1 (logs in $tmp; BENCH_KEEP=1 keeps them)"
}

# venv_install VENV REQUIREMENTS: a venv holding exactly the pinned requirements.
venv_install() {
    local venv=$1 req=$2 want
    want=$(sha256sum "$req" | cut -d' ' -f1)
    if [[ ! -x $venv/bin/python || $(cat "$venv/.requirements.sha256" 2>/dev/null) != "$want" ]]; then
        log "installing $req into $venv"
        [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" </dev/null \
            || die "pip install of $req failed"
        echo "$want" >"$venv/.requirements.sha256"
    fi
}

# ---- the fake upstream --------------------------------------------------------

setsid "$bin/examples/bench_upstream" --listen 127.0.0.1:0 --threads 1 >"$tmp/upstream.addr" 2>"$tmp/upstream.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/upstream.addr ]] && break; sleep 0.05; done
upstream=http://$(head -1 "$tmp/upstream.addr")
wait_http "$upstream/v1/models" "the fake upstream"
log "fake upstream on $upstream"

# ---- the floor: a bare proxy -----------------------------------------------------

floor=
if [[ $with_floor == 1 ]]; then
    setsid "$bin/examples/bench_floor" "$upstream" >"$tmp/floor.addr" 2>"$tmp/floor.log" &
    pids+=($!)
    for _ in $(seq 100); do [[ -s $tmp/floor.addr ]] && break; sleep 0.05; done
    floor=http://$(head -1 "$tmp/floor.addr")
    wait_http "$floor/v1/models" "the floor proxy"
    log "floor (bare hyper proxy) on $floor"
fi

# ---- Switchboard ----------------------------------------------------------------

# start_switchboard NAME BINARY PREFERRED: sets $sb_url.
start_switchboard() {
    local name=$1 binary=$2 preferred=$3 fallback port
    if [[ $preferred == openai ]]; then fallback='"openai", "anthropic"'; else fallback='"anthropic", "openai"'; fi
    port=$(free_port)
    cat >"$tmp/$name.toml" <<EOF
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
listen = "127.0.0.1:$port"

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
    mkdir -p "$tmp/$name/xdg-runtime" && chmod 700 "$tmp/$name/xdg-runtime"
    # Throwaway XDG dirs; no session bus, so no keyring lookups: the keys come
    # from api_key_env. Logs at warn: per-request info lines would be measured too.
    setsid env -u SWITCHBOARD_CONFIG XDG_CONFIG_HOME="$tmp/$name/xdg-config" XDG_DATA_HOME="$tmp/$name/xdg-data" \
        XDG_STATE_HOME="$tmp/$name/xdg-state" XDG_CACHE_HOME="$tmp/$name/xdg-cache" XDG_RUNTIME_DIR="$tmp/$name/xdg-runtime" \
        DBUS_SESSION_BUS_ADDRESS="unix:path=$tmp/no-bus" \
        BENCH_ANTHROPIC_KEY=sk-ant-bench BENCH_OPENAI_KEY=sk-bench RUST_LOG="${RUST_LOG:-warn}" NO_COLOR=1 \
        "$binary" watch --config "$tmp/$name.toml" </dev/null >"$tmp/$name.log" 2>&1 &
    pids+=($!)
    sb_url=http://127.0.0.1:$port
    wait_http "$sb_url/v1/models" "$name's gateway"
    log "$name gateway on $sb_url ($binary, preferred $preferred)"
}

start_switchboard switchboard "$bin/switchboard" anthropic
switchboard=$sb_url
switchboard_pass=
if has_api responses; then
    start_switchboard switchboard-pass "$bin/switchboard" openai
    switchboard_pass=$sb_url
fi
base= base_pass=
if [[ -n $baseline_bin ]]; then
    start_switchboard switchboard-base "$baseline_bin" anthropic
    base=$sb_url
    if has_api responses; then
        start_switchboard switchboard-base-pass "$baseline_bin" openai
        base_pass=$sb_url
    fi
fi

# ---- LiteLLM --------------------------------------------------------------------

litellm= litellm_version= litellm_failed=
if [[ $with_litellm == 1 ]]; then
    venv=${SWITCHBOARD_LITELLM_VENV:-$HOME/.cache/switchboard-venv-litellm}
    venv_install "$venv" "$here/requirements-litellm.txt"
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
    litellm_version=$("$venv/bin/pip" show litellm 2>/dev/null | sed -n 's/^Version: //p')
    # Its first start on a busy machine takes minutes (imports); a LiteLLM
    # that never answers is a row saying so, not the end of the run.
    if wait_http "$litellm/health/liveliness" "LiteLLM" 300 soft; then
        log "litellm proxy ($litellm_version, $litellm_workers workers) on $litellm"
    else
        log "LiteLLM did not answer within 300 s: $(tail -3 "$tmp/litellm.log" | tr '\n|' '  ')"
        litellm_failed="it did not answer within 300 s of starting"
        litellm=
    fi
fi

# ---- TensorZero -----------------------------------------------------------------

tensorzero= tensorzero_version=
if [[ $with_tensorzero == 1 ]]; then
    tz_venv=${SWITCHBOARD_TENSORZERO_VENV:-$HOME/.cache/switchboard-venv-tensorzero}
    venv_install "$tz_venv" "$here/requirements-tensorzero.txt"
    sed -e "s|@UPSTREAM@|$upstream|g" "$here/tensorzero.toml" >"$tmp/tensorzero.toml"
    # Its logs at warn (per-request lines would be measured too); no
    # ClickHouse/Postgres, so no observability writes and no usage analytics.
    setsid env -u TENSORZERO_CLICKHOUSE_URL -u TENSORZERO_POSTGRES_URL -u TENSORZERO_VALKEY_URL \
        TENSORZERO_DISABLE_PSEUDONYMOUS_USAGE_ANALYTICS=1 RUST_LOG=warn NO_COLOR=1 \
        BENCH_ANTHROPIC_KEY=sk-ant-bench BENCH_OPENAI_KEY=sk-bench \
        "$tz_venv/bin/python" "$here/tensorzero_gateway.py" "$tmp/tensorzero.toml" "$tmp/tensorzero.url" \
        </dev/null >"$tmp/tensorzero.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 300); do [[ -s $tmp/tensorzero.url ]] && break; sleep 0.1; done
    [[ -s $tmp/tensorzero.url ]] || die "TensorZero did not start: $(tail -5 "$tmp/tensorzero.log")"
    # It prints its OpenAI base (http://127.0.0.1:PORT/openai/v1).
    tensorzero=$(head -1 "$tmp/tensorzero.url")
    tensorzero=${tensorzero%/v1}
    wait_http "${tensorzero%/openai}/health" "TensorZero"
    tensorzero_version=$("$tz_venv/bin/pip" show tensorzero 2>/dev/null | sed -n 's/^Version: //p')
    log "tensorzero gateway ($tensorzero_version) on $tensorzero"
fi

# ---- claude-code-router --------------------------------------------------------

ccr= ccr_version=
if [[ $with_ccr == 1 ]]; then
    ccr_dir=${SWITCHBOARD_CCR_DIR:-$HOME/.cache/switchboard-ccr}
    ccr_cli=$ccr_dir/node_modules/@musistudio/claude-code-router/dist/cli.js
    want=$(sha256sum "$here/ccr-package.json" | cut -d' ' -f1)
    if [[ ! -f $ccr_cli || $(cat "$ccr_dir/.package.sha256" 2>/dev/null) != "$want" ]]; then
        command -v npm >/dev/null || die "npm is needed for claude-code-router (BENCH_CCR=0 leaves it out)"
        log "installing claude-code-router ($here/ccr-package.json) into $ccr_dir"
        mkdir -p "$ccr_dir"
        cp "$here/ccr-package.json" "$ccr_dir/package.json"
        (cd "$ccr_dir" && npm install --no-audit --no-fund --loglevel=error </dev/null) \
            || die "npm install of claude-code-router failed"
        echo "$want" >"$ccr_dir/.package.sha256"
    fi
    ccr_port=$(free_port)
    mkdir -p "$tmp/ccr-home/.claude-code-router"
    sed -e "s|@UPSTREAM@|$upstream|g" -e "s|@PORT@|$ccr_port|g" "$here/ccr-config.json" \
        >"$tmp/ccr-home/.claude-code-router/config.json"
    # Its config, PID file and logs live in $HOME/.claude-code-router: a temp HOME.
    # `ccr start` serves in the foreground of this process.
    setsid env HOME="$tmp/ccr-home" NO_COLOR=1 CI=true \
        BENCH_ANTHROPIC_KEY=sk-ant-bench BENCH_OPENAI_KEY=sk-bench \
        node "$ccr_cli" start </dev/null >"$tmp/ccr.log" 2>&1 &
    pids+=($!)
    ccr=http://127.0.0.1:$ccr_port
    wait_http "$ccr/" "claude-code-router" 60
    ccr_version=$(node -p 'require(process.argv[1]).version' \
        "$ccr_dir/node_modules/@musistudio/claude-code-router/package.json")
    log "claude-code-router ($ccr_version) on $ccr"
fi

# ---- one request each, by hand, before measuring --------------------------------

counter() { curl -s "$upstream/counters"; }
# check_target API NAME BASE [MODEL]: a plain and a streamed request reach the fake.
check_target() {
    local api=$1 name=$2 base=$3 model=${4:-claude-sonnet-4-5} stream before after served path body out
    local auth=()
    case $api in
        messages) path=/v1/messages auth=(-H "x-api-key: bench-client-key" -H "anthropic-version: 2023-06-01") ;;
        chat) path=/v1/chat/completions auth=(-H "authorization: Bearer bench-client-key") ;;
        responses) path=/v1/responses auth=(-H "authorization: Bearer bench-client-key") ;;
    esac
    for stream in false true; do
        if [[ $api == responses ]]; then
            body="{\"model\":\"$model\",\"max_output_tokens\":64,\"input\":\"Say hello.\",\"stream\":$stream}"
        else
            body="{\"model\":\"$model\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}],\"stream\":$stream}"
        fi
        out=$tmp/check.$api.$name.$stream
        before=$(counter)
        if ! curl -sS --fail-with-body --max-time 30 -D "$out.headers" -o "$out.body" \
            "${auth[@]}" -H 'content-type: application/json' -d "$body" "$base$path" 2>"$out.err"; then
            check_error="HTTP $(head -1 "$out.headers" 2>/dev/null | cut -d' ' -f2) $(head -c 200 "$out.body" 2>/dev/null | tr '\n|' '  ')$(head -c 200 "$out.err" | tr '\n|' '  ')"
            log "check $api $name stream=$stream FAILED: $check_error"
            return 1
        fi
        after=$(counter)
        if [[ $before == "$after" ]]; then
            check_error="answered without calling the fake upstream"
            log "check $api $name stream=$stream $check_error"
            return 1
        fi
        served=$(sed -n 's/^x-switchboard-provider: *//Ip' "$out.headers" | tr -d '\r')
        log "check $api $name stream=$stream: HTTP $(head -1 "$out.headers" | cut -d' ' -f2), $(wc -c <"$out.body") bytes${served:+, served by $served}; upstream counters $after"
    done
}

# ---- the targets, per API ---------------------------------------------------------

targets=()
# bench_load's name of an API.
load_api() {
    case $1 in messages) echo anthropic ;; chat) echo openai ;; *) echo "$1" ;; esac
}
# add API NAME BASE [MODEL]: measured when its check passes, else a row saying why.
add() {
    local api=$1 name=$2 base=$3 model=${4-}
    check_error=
    if check_target "$api" "$name" "$base" "$model"; then
        targets+=(--target "$(load_api "$api"):$name=$base${model:+|model=$model}")
    else
        targets+=(--target "$(load_api "$api"):$name=n/a:its check request failed: $check_error")
    fi
}
na() { targets+=(--target "$(load_api "$1"):$2=n/a:$3"); }
tz_model=tensorzero::model_name::claude-sonnet-4-5
tz_why="TensorZero serves OpenAI Chat Completions (/openai/v1/chat/completions) and its own /inference only"
# Its server has /v1/chat/completions and /v1/responses handlers, but the hook
# that picks the provider runs only for paths ending in /v1/messages: they
# answer 404 "Provider 'undefined' not found" whatever the model names.
ccr_why="claude-code-router routes Anthropic /v1/messages only (its other handlers answer 404 Provider 'undefined' not found)"
for api in ${apis//,/ }; do
    case $api in messages | chat | responses) ;; *) die "unknown API $api in BENCH_APIS (messages, chat, responses)" ;; esac
    add "$api" direct "$upstream"
    [[ -z $floor ]] || add "$api" floor "$floor"
    add "$api" switchboard "$switchboard"
    [[ $api != responses ]] || add "$api" switchboard-pass "$switchboard_pass"
    if [[ -n $base ]]; then
        add "$api" switchboard-base "$base"
        [[ $api != responses ]] || add "$api" switchboard-base-pass "$base_pass"
    fi
    [[ -z $litellm ]] || add "$api" litellm "$litellm"
    [[ -z $litellm_failed ]] || na "$api" litellm "$litellm_failed"
    if [[ -n $tensorzero ]]; then
        if [[ $api == chat ]]; then add "$api" tensorzero "$tensorzero" "$tz_model"; else na "$api" tensorzero "$tz_why"; fi
    fi
    if [[ -n $ccr ]]; then
        if [[ $api == messages ]]; then add "$api" claude-code-router "$ccr"; else na "$api" claude-code-router "$ccr_why"; fi
    fi
done

# ---- the run --------------------------------------------------------------------

rates=${low_rate:+$low_rate,}$rate
log "measuring per API, mode and target: $concurrency connections for ${closed_secs}s, then ${duration}s at each of $rates req/s"
echo "# $(date -u +'%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(uname -sr)"
echo "# load before: $(uptime | sed 's/.*load average/load average/')"
peers=()
[[ -z $litellm ]] || peers+=("litellm $litellm_version ($litellm_workers workers)")
[[ -z $tensorzero ]] || peers+=("tensorzero $tensorzero_version")
[[ -z $ccr ]] || peers+=("claude-code-router $ccr_version")
echo "# switchboard $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet 2>/dev/null || echo '+dirty')${baseline_bin:+, switchboard-base: $baseline_bin}; peers: ${peers[*]:-none}"
echo "# bench/gateway.sh: BENCH_RATE=$rate BENCH_LOW_RATE=$low_rate BENCH_DURATION=$duration BENCH_CONCURRENCY=$concurrency BENCH_CLOSED_SECS=$closed_secs BENCH_REPEAT=${BENCH_REPEAT:-1} BENCH_APIS=$apis BENCH_MODES=$modes"
"$bin/examples/bench_load" "${targets[@]}" --model claude-sonnet-4-5 \
    --rate "$rates" --duration "$duration" --concurrency "$concurrency" --closed-secs "$closed_secs" \
    --modes "$modes" --repeat "${BENCH_REPEAT:-1}" ${BENCH_SAMPLES:+--samples "$BENCH_SAMPLES"}
echo "# load after: $(uptime | sed 's/.*load average/load average/')"
