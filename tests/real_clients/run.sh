#!/usr/bin/env bash
# The `real-clients` stage of `make test`: the official CLIs people point at
# the gateway, pinned from npm, driven through `switchboard watch` against the
# fake upstreams of the SDK stage (tests/gateway_sdk/fakes.py):
#   Claude Code  `claude -p`, a plain turn and a Read-tool turn, while the
#                Anthropic fake answers 500 and the OpenAI fake serves;
#   Codex CLI    `codex exec` through /v1/responses with a shell tool call,
#                while the OpenAI fake is down and the Anthropic fake serves.
#
#   tests/real_clients/run.sh [PYTEST_ARG...]
#
# 1. builds the release binary unless SWITCHBOARD_BIN names one (`make test`'s
#    build stage does);
# 2. reuses (or creates) the SDK stage's venv for pytest and the fakes;
# 3. installs the pinned clients into $SWITCHBOARD_CLIENTS_DIR (default
#    ~/.cache/switchboard-real-clients), only when the pins changed;
# 4. runs pytest in a private network namespace with only loopback
#    (`unshare --net`), so a client that tries its vendor's servers cannot
#    reach them; without namespaces (no root, no user namespaces) it runs
#    unconfined and says so.
# SWITCHBOARD_CAPTURE_FIXTURES=tests/fixtures/clients rewrites the captured
# client requests the translation tests read.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD

# The pins: bump them together with the captured fixtures.
CLAUDE_CODE=@anthropic-ai/claude-code@2.1.332
CODEX=@openai/codex@0.171.0

python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "real-clients: $python not found (run: make setup)" >&2; exit 1; }
command -v npm >/dev/null || { echo "real-clients: npm not found (run: make setup)" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}
# The release binary: `make test`'s build stage made it and names it in
# SWITCHBOARD_BIN; run alone, this builds it (a no-op when it is fresh).
if [[ -z ${SWITCHBOARD_BIN-} ]]; then
    "${CARGO:-cargo}" build --release --locked --bin switchboard
    export SWITCHBOARD_BIN=$CARGO_TARGET_DIR/release/switchboard
fi

venv=${SWITCHBOARD_SDK_VENV:-$HOME/.cache/switchboard-venv-sdk}
req=tests/gateway_sdk/requirements.txt
want=$(sha256sum "$req" | cut -d' ' -f1)
if [[ ! -x $venv/bin/python || $(cat "$venv/.requirements.sha256" 2>/dev/null) != "$want" ]]; then
    echo "real-clients: installing $req into $venv"
    [[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" </dev/null
    echo "$want" >"$venv/.requirements.sha256"
fi

clients=${SWITCHBOARD_CLIENTS_DIR:-$HOME/.cache/switchboard-real-clients}
export SWITCHBOARD_CLIENTS_DIR=$clients
pins="$CLAUDE_CODE $CODEX"
mkdir -p "$clients"
if [[ $(cat "$clients/.pins" 2>/dev/null) != "$pins" ]]; then
    echo "real-clients: installing $pins into $clients"
    # The clients ship native binaries in platform packages (optional
    # dependencies); their install scripts are not needed.
    npm install --prefix "$clients" --no-audit --no-fund --ignore-scripts $pins </dev/null
    echo "$pins" >"$clients/.pins"
fi

if [[ -n ${SWITCHBOARD_CAPTURE_FIXTURES:-} ]]; then
    export SWITCHBOARD_CAPTURE_FIXTURES=$(realpath -m "$SWITCHBOARD_CAPTURE_FIXTURES")
fi
cd tests/real_clients
export PYTHONDONTWRITEBYTECODE=1
run=("$venv/bin/python" -m pytest "$@")
if unshare --net true 2>/dev/null; then
    exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh "${run[@]}"
elif unshare --map-root-user --net true 2>/dev/null; then
    exec unshare --map-root-user --net -- sh -c 'ip link set lo up && exec "$@"' sh "${run[@]}"
else
    echo "real-clients: no network namespace available (not root, no user namespaces): running without isolation" >&2
    exec "${run[@]}"
fi
