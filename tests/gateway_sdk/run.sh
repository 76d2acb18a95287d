#!/usr/bin/env bash
# The `gateway-sdk` stage of `make test`: the official `anthropic` and `openai`
# Python SDKs (PyPI, pinned in requirements.txt) as real clients of the
# gateway of `switchboard watch`, against fake Anthropic and OpenAI upstreams
# on 127.0.0.1 (tests/gateway_sdk/fakes.py).
#
#   tests/gateway_sdk/run.sh [PYTEST_ARG...]     e.g. -k midstream, -x, -v
#
# 1. builds the release binary unless SWITCHBOARD_BIN names one (`make test`'s
#    build stage does);
# 2. creates the venv $SWITCHBOARD_SDK_VENV (default ~/.cache/switchboard-venv-sdk)
#    and installs requirements.txt into it, only when the requirements changed
#    since the last install (a stamp file in the venv holds their hash);
# 3. runs pytest. Each test starts its own `switchboard watch` (temp config,
#    temp XDG dirs, no session bus so no keyring: keys come from api_key_env)
#    and stops it; the fakes are threads of the pytest process, so nothing
#    outlives the run.
# Never prompts (CI=true, no stdin).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "gateway-sdk: $python not found (run: make setup)" >&2; exit 1; }
"$python" -c 'import venv, ensurepip' 2>/dev/null || { echo "gateway-sdk: $python has no venv/ensurepip (run: make setup, it installs python3-venv)" >&2; exit 1; }

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
    echo "gateway-sdk: installing $req into $venv"
    [[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" </dev/null
    echo "$want" >"$venv/.requirements.sha256"
fi

cd tests/gateway_sdk
# No __pycache__ in the clone.
export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" -m pytest "$@"
