#!/usr/bin/env bash
# Soak: `switchboard watch` under flapping providers, gateway load with mid-stream
# failures and SSE clients coming and going, for MINUTES (default 60). Prints RSS,
# open file descriptors, threads and history DB size every minute; they should stay
# flat. Not part of CI (bench/soak.py says what runs).
#
#   bench/soak.sh [minutes] [path/to/switchboard]
#   SOAK_RATE=50   gateway requests per second (half streamed)
#   SOAK_KEEP=1    keep the work dir (config, watch.log, history DB)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
minutes=${1:-60}
bin=${2:-}
rate=${SOAK_RATE:-50}
if [ -z "$bin" ]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}
    cargo build --quiet --release --locked --bin switchboard
    bin=$CARGO_TARGET_DIR/release/switchboard
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-soak.XXXXXX")
[ "${SOAK_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
echo "soak: $minutes min, $rate req/s, $bin, work dir $work" >&2
python3 "$here/soak.py" "$bin" "$minutes" "$rate" "$work"
