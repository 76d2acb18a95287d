#!/usr/bin/env bash
# Memory of `switchboard watch` with 7 providers (fakes on 127.0.0.1, 60 s
# interval; dashboard server and SQLite history on) after MINUTES of running:
# RSS and PSS (smaps_rollup), plus CPU time.
# Usage: bench/idle_rss.sh [minutes] [path/to/switchboard]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
minutes=${1:-10}
bin=${2:-${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}/release/switchboard}
tmp=$(mktemp -d)
fake= sb=
trap 'kill $fake $sb 2>/dev/null; rm -rf "$tmp"' EXIT
. "$here/lib.sh"
start_fakes 0.05,0.1,0.15,0.2,0.25,0.3,0.35
write_config "$tmp/config.toml"
XDG_DATA_HOME="$tmp/data" BENCH_KEY=bench "$bin" --config "$tmp/config.toml" watch >"$tmp/watch.log" 2>&1 &
sb=$!
sleep $((minutes * 60))
rss=$(awk '/VmRSS/ {print $2}' /proc/$sb/status)
hwm=$(awk '/VmHWM/ {print $2}' /proc/$sb/status)
pss=$(awk '/^Pss:/ {print $2}' /proc/$sb/smaps_rollup)
ticks=$(awk '{print $14 + $15}' /proc/$sb/stat)
hz=$(getconf CLK_TCK)
echo "switchboard watch, 7 providers, after ${minutes} min"
echo "  RSS      ${rss} KiB (peak ${hwm} KiB)"
echo "  PSS      ${pss} KiB"
echo "  CPU      $(python3 -c "print(f'{$ticks/$hz:.2f}')") s"
