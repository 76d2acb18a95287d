#!/usr/bin/env bash
# `make fuzz`: every cargo-fuzz target in fuzz/ for SECONDS each (nightly only).
#   scripts/fuzz.sh SECONDS [TARGET...]
# Seeds come from tests/corpus/<parser>/ (the replayed hostile-input corpus);
# libFuzzer's own finds accumulate in fuzz/corpus/<target>/ (ignored by git).
# Prints one line per target: seconds, executions, coverage, crashes. Exits 1
# when any target crashed; the reproducer is in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: needs a nightly toolchain and cargo-fuzz:" >&2
    echo "  rustup toolchain install nightly && cargo +nightly install cargo-fuzz --locked" >&2
    exit 2
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}/fuzz
# Seeds per target: the corpus directories of the parsers it reads.
seeds() {
    case $1 in
        status_statuspage) echo status-statuspage ;;
        status_incidentio) echo status-incidentio status-statuspage ;;
        status_google_cloud) echo status-google-cloud ;;
        status_aws_health) echo status-aws-health ;;
        probe_classify) echo probe-error-body ;;
        gateway_anthropic_request) echo gateway-anthropic-request ;;
        gateway_openai_request) echo gateway-openai-request ;;
        gateway_responses_request) echo gateway-responses-request ;;
        upstream_response) echo upstream-anthropic-response upstream-openai-response ;;
        sse_stream) echo sse-anthropic sse-openai ;;
        bedrock_eventstream) echo bedrock-eventstream ;;
        config_toml) echo config-toml ;;
        passive_logs) echo passive-claude-code passive-codex ;;
    esac
}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
# -s none: the product is safe Rust (ASan finds nothing a panic would not);
# -a: debug assertions, so integer overflow panics; -O: optimised.
cargo +nightly fuzz build --fuzz-dir fuzz -s none -a -O >&2
failed=0
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    dirs=("fuzz/corpus/$t")
    for s in $(seeds "$t"); do
        # *.rep recipes are expanded by the replay test, not by libFuzzer: skip them.
        mkdir -p "fuzz/seeds/$s"
        find "tests/corpus/$s" -type f ! -name '*.rep' -exec cp -n {} "fuzz/seeds/$s/" \;
        dirs+=("fuzz/seeds/$s")
    done
    log="fuzz/artifacts/$t/last-run.log"
    if cargo +nightly fuzz run --fuzz-dir fuzz -s none -a -O "$t" "${dirs[@]}" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=1048576 \
        -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1; then
        result=ok
    else
        result="CRASH (see $log and fuzz/artifacts/$t/)"
        failed=1
    fi
    stats=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -E 's/^#([0-9]+)[^c]*cov: ([0-9]+).*/\1 execs, cov \2/')
    printf '%-28s %5ss  %s  %s\n' "$t" "$seconds" "${stats:-no stats}" "$result"
done
exit $failed
