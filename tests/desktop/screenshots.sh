#!/usr/bin/env bash
# Makes the README's desktop screenshots again, from the real app:
#   docs/screenshots/tray-menu.png            tray icon + menu, "Preferred provider" open
#   docs/screenshots/notification-outage.png  the outage notice the app raised
#
#   tests/desktop/screenshots.sh [OUT_DIR]      (about 2 minutes: it waits for a 1-minute outage)
#
# Needs the debug or release switchboard-desktop (SWITCHBOARD_DESKTOP_BIN, else
# the release build), and the Debian packages tint2 (the panel with an XEmbed
# tray) and notification-daemon (the notification bubbles); `make setup`
# installs them. Runs on its own Xvfb screen and private session bus with a
# throwaway keyring, like the desktop tests; see tests/desktop/screenshots.py.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ beside the tests
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

for tool in xvfb-run tint2 xdotool xwininfo /usr/lib/notification-daemon/notification-daemon; do
    command -v "$tool" >/dev/null || { echo "screenshots: $tool not found (run: make setup)" >&2; exit 1; }
done
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}
export SWITCHBOARD_DESKTOP_BIN=${SWITCHBOARD_DESKTOP_BIN:-$CARGO_TARGET_DIR/release/switchboard-desktop}
[[ -x $SWITCHBOARD_DESKTOP_BIN ]] || { echo "screenshots: build it first: make build" >&2; exit 1; }
export WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1 NO_AT_BRIDGE=1
out=$(realpath -m "${1:-docs/screenshots}")
exec xvfb-run -a -s "-screen 0 1280x800x24" \
    scripts/with-secret-service.sh /usr/bin/python3 tests/desktop/screenshots.py "$out"
