#!/usr/bin/env bash
# Memory and CPU of the desktop app (release switchboard-desktop) with 7
# providers on local fakes (60 s interval), under Xvfb on a private session bus
# with a throwaway keyring and a test StatusNotifierWatcher standing in for the
# panel. Prints a table:
#   - time from launch to tray registered (RegisterStatusNotifierItem seen);
#   - PSS of the whole process tree (sum of /proc/PID/smaps_rollup Pss over the
#     app and its descendants: WebKitWebProcess, WebKitNetworkProcess, ...)
#     tray-only after MINUTES idle, with the dashboard open (opened through the
#     tray menu over dbusmenu), and after closing it again;
#   - CPU seconds (utime + stime of the tree) per idle hour, extrapolated from
#     the idle period.
#
# Usage: bench/desktop_memory.sh [MINUTES] [path/to/switchboard-desktop]
#   MINUTES defaults to $IDLE_MINUTES or 5. Without a binary it builds the
#   release one (cargo build --release -p switchboard-desktop).
#   Also: SETTLE_SECS (10) before the idle period, DASHBOARD_SECS (15) with the
#   dashboard open, CLOSED_SECS (30) after closing it.
# Measuring half: tests/desktop/measure_memory.py.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ beside the tests
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
export IDLE_MINUTES=${1:-${IDLE_MINUTES:-5}}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}
if [[ -n ${2-} ]]; then
    bin=$(realpath "$2")
else
    (cd "$root" && "${CARGO:-cargo}" build --release --locked -p switchboard-desktop) >&2
    bin=$CARGO_TARGET_DIR/release/switchboard-desktop
fi
for tool in xvfb-run xdotool; do
    command -v "$tool" >/dev/null || { echo "desktop_memory: $tool not found (run: make setup)" >&2; exit 1; }
done
tmp=$(mktemp -d)
fake=
trap 'kill $fake 2>/dev/null; rm -rf "$tmp"' EXIT
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
start_fakes 0.05,0.1,0.15,0.2,0.25,0.3,0.35
write_config "$tmp/config.toml"
export WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1 NO_AT_BRIDGE=1
echo "switchboard-desktop (release), 7 providers on local fakes, 60 s interval, Xvfb + private D-Bus session"
echo "  $(basename "$bin"): $(stat -c %s "$bin" | awk '{printf "%.1f MiB", $1 / 1048576}'), $(nproc) cores"
cd "$root"
xvfb-run -a -s "-screen 0 1280x1024x24" \
    scripts/with-secret-service.sh /usr/bin/python3 tests/desktop/measure_memory.py "$tmp/config.toml" "$bin" \
    2> >(grep -v -e '^dbus-daemon' -e 'SpiRegistry' >&2)
