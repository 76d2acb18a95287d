#!/usr/bin/env bash
# The `desktop` stage of `make test`: switchboard-desktop's tray over D-Bus.
#
#   tests/desktop/run.sh
#
# 1. lints the crate and runs its unit tests (release profile, sharing the
#    release build's dependencies), builds the release binary unless
#    SWITCHBOARD_DESKTOP_BIN names one (`make test`'s build stage does);
# 2. runs tests/desktop/test_*.py (tests/desktop/suite.sh, one at a time;
#    arguments pick some: `tests/desktop/run.sh test_keyring`) under Xvfb
#    (`xvfb-run -a`) inside a private D-Bus session with a throwaway
#    gnome-keyring (scripts/with-secret-service.sh): each test owns the
#    StatusNotifierWatcher there, so the app's tray registers with it, and
#    python3-dbusmock's notification server records the app's notifications.
#    test_tray: icon colours, menu, preferred provider, window, single
#    instance, autostart, pause, Quit. test_notifications: began / ended /
#    offline notices. test_keyring: a key stored through the app's API, the
#    credential notice, "Check now", "Open status page", no key leaks.
#    test_no_tray: nobody owns the watcher (stock GNOME): the dashboard opens
#    at start, notifications still arrive, a relaunch reopens the window.
#    test_kill9: kill -9 while the history is written, three times: the
#    database passes SQLite's integrity check and keeps the rounds before.
# WebKit paints nothing under Xvfb with compositing on: it is switched off.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

command -v xvfb-run >/dev/null || { echo "desktop: xvfb-run not found (run: make setup)" >&2; exit 1; }
/usr/bin/python3 -c "import dbus, dbusmock, gi" 2>/dev/null || { echo "desktop: python3-dbus / python3-dbusmock / python3-gi missing (run: make setup)" >&2; exit 1; }
command -v secret-tool >/dev/null || { echo "desktop: secret-tool not found (run: make setup)" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}
# Lint and unit tests in the release profile: they reuse the release build's
# dependencies (compiled with the same features), so `make test` compiles
# Tauri once, not once per profile.
"${CARGO:-cargo}" clippy --release --locked -p switchboard-desktop --all-targets -- -D warnings
"${CARGO:-cargo}" test --release --locked -p switchboard-desktop
# The release binary: `make test`'s build stage made it and names it in
# SWITCHBOARD_DESKTOP_BIN; run alone, this builds it (a no-op when fresh).
if [[ -z ${SWITCHBOARD_DESKTOP_BIN-} ]]; then
    "${CARGO:-cargo}" build --release --locked -p switchboard-desktop
    export SWITCHBOARD_DESKTOP_BIN=$CARGO_TARGET_DIR/release/switchboard-desktop
fi
export WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1
# No AT-SPI bus in the private session: GTK would wait for it.
export NO_AT_BRIDGE=1

exec xvfb-run -a -s "-screen 0 1280x1024x24" \
    scripts/with-secret-service.sh tests/desktop/suite.sh "$@"
