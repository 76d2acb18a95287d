#!/usr/bin/env bash
# Size of the history database after DAYS (default 30) simulated days of 7
# providers at one check per 60 s, written through the real SqliteStore the way
# the recorder writes (one transaction per round, compaction every simulated
# hour). Prints the file size, the rows kept and the WAL size while running.
# Usage: bench/history_size.sh [days]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}
# The dev profile: the size does not depend on optimisation, and it reuses the
# test build instead of compiling every dependency again with LTO.
SWITCHBOARD_BENCH_HISTORY=1 SWITCHBOARD_BENCH_DAYS="${1:-30}" \
  cargo test --quiet --test tests store::history_size_benchmark -- --ignored --exact --nocapture \
  | grep '^history size:'
