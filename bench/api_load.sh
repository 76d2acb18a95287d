#!/usr/bin/env bash
# Latency of GET /api/status under load: 200 requests in flight, 20 000
# measured, p50/p90/p99/max. Starts the engine and server in-process against
# fake providers on 127.0.0.1 (see examples/api_load.rs), or targets a running
# `switchboard watch` with --url.
# Usage: bench/api_load.sh [--url http://127.0.0.1:7461] [--concurrency N] [--requests N]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}
cargo build --quiet --release --example api_load
exec "$CARGO_TARGET_DIR/release/examples/api_load" "$@"
