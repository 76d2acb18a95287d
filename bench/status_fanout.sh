#!/usr/bin/env bash
# Wall time of `switchboard status` for 7 providers against local fakes (one
# answering after 5 s, the others after 50-300 ms), side by side with the sum of
# the latencies it measured (what a sequential checker would take).
# Usage: bench/status_fanout.sh [path/to/switchboard]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}/release/switchboard}
tmp=$(mktemp -d)
fake= sb=
trap 'kill $fake $sb 2>/dev/null; rm -rf "$tmp"' EXIT
. "$here/lib.sh"
start_fakes 5,0.05,0.1,0.15,0.2,0.25,0.3
write_config "$tmp/config.toml"
start=$(date +%s.%N)
BENCH_KEY=bench "$bin" --config "$tmp/config.toml" status --json >"$tmp/out.json" || true
end=$(date +%s.%N)
python3 - "$tmp/out.json" "$start" "$end" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
lat = [p["probe"]["latency_ms"] for p in report["providers"]]
wall = (float(sys.argv[3]) - float(sys.argv[2])) * 1000
print(f"{'providers':<32}{len(lat)}")
print(f"{'states':<32}{', '.join(sorted(set(p['state'] for p in report['providers'])))}")
print(f"{'slowest probe (ms)':<32}{max(lat)}")
print(f"{'sum of probe latencies (ms)':<32}{sum(lat)}   <- sequential baseline")
print(f"{'switchboard status wall (ms)':<32}{wall:.0f}   <- concurrent, incl. process start")
PY
