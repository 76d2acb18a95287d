#!/usr/bin/env bash
# The `e2e` stage of `make test`: the dashboard in headless Chromium against
# the real `switchboard watch` and fake providers on 127.0.0.1.
#
#   tests/e2e/run.sh [NODE_TEST_ARG...]    e.g. --test-name-pattern=live
#
# 1. builds the release binary unless SWITCHBOARD_BIN names one (`make test`'s
#    build stage does);
# 2. installs playwright-core from the lock file (`npm ci`, from ~/.npm when cached);
# 3. runs tests/e2e/run.mjs with node's test runner inside a private D-Bus
#    session with a throwaway gnome-keyring, so the key tests write to a real
#    Secret Service and never to the user's keyring.
# Screenshots land in docs/screenshots/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

command -v node >/dev/null || { echo "e2e: node not found (run: make setup)" >&2; exit 1; }
chromium=${CHROMIUM_BIN:-/usr/bin/chromium}
[[ -x $chromium ]] || { echo "e2e: $chromium not found (run: make setup)" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}
# The release binary: `make test`'s build stage made it and names it in
# SWITCHBOARD_BIN; run alone, this builds it (a no-op when it is fresh).
if [[ -z ${SWITCHBOARD_BIN-} ]]; then
    "${CARGO:-cargo}" build --release --locked --bin switchboard
    export SWITCHBOARD_BIN=$CARGO_TARGET_DIR/release/switchboard
fi

npm ci --prefix tests/e2e --no-audit --no-fund --prefer-offline --loglevel=error

exec scripts/with-secret-service.sh env SWITCHBOARD_E2E_KEYRING=1 \
    node --test --test-reporter=spec "$@" tests/e2e/run.mjs
