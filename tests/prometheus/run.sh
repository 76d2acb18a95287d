#!/usr/bin/env bash
# The `prometheus` stage of `make test`: what deploy/ ships for teams, checked
# with the real tools (Debian's prometheus, prometheus-alertmanager, systemd).
#
#   tests/prometheus/run.sh
#
# 1. promtool check config / check rules, amtool check-config: the examples
#    in deploy/ parse and the rules are valid;
# 2. promtool test rules tests/prometheus/*_test.yml: the alerts fire, stay
#    quiet and say what they should (seed outage, flapping, offline, stale
#    exporter, the fleet view over several watchers, ...);
# 3. systemd-analyze verify and security --offline on the system unit: it
#    loads, and its exposure score is at most 2.0 ("OK");
# 4. tests/prometheus/e2e.py: a real `switchboard watch`, Prometheus and
#    Alertmanager on 127.0.0.1, a fake provider that fails, the webhook that
#    must arrive (and `promtool check metrics` on a real scrape).
# Never prompts; nothing listens beyond 127.0.0.1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

say() { printf 'prometheus: %s\n' "$*"; }
die() {
    printf 'prometheus: error: %s\n' "$*" >&2
    exit 1
}

alertmanager=$(command -v prometheus-alertmanager || command -v alertmanager || true)
for tool in promtool prometheus amtool systemd-analyze python3; do
    command -v "$tool" >/dev/null || die "$tool not found (run: make setup)"
done
[[ -n $alertmanager ]] || die "alertmanager not found (run: make setup)"

# Security exposure the unit must not exceed (systemd-analyze's 0.0-10.0 scale).
max_exposure=2.0

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}
# The release binary: `make test`'s build stage made it and names it in
# SWITCHBOARD_BIN; run alone, this builds it (a no-op when it is fresh).
if [[ -z ${SWITCHBOARD_BIN-} ]]; then
    "${CARGO:-cargo}" build --release --locked --bin switchboard
    SWITCHBOARD_BIN=$CARGO_TARGET_DIR/release/switchboard
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A private copy: another checkout sharing the target dir may rebuild it meanwhile.
bin=$tmp/switchboard
cp "$SWITCHBOARD_BIN" "$bin"

say "1. deploy/ examples"
promtool check config deploy/prometheus/prometheus.yml
promtool check rules deploy/prometheus/switchboard.rules.yml
amtool check-config deploy/alertmanager/alertmanager.yml

say "2. rule unit tests"
promtool test rules tests/prometheus/*_test.yml

say "3. systemd unit"
unit=deploy/systemd/switchboard.service
# verify wants ExecStart= to exist: check a copy that runs the binary just built.
mkdir "$tmp/unit"
sed "s|^ExecStart=/usr/local/bin/switchboard |ExecStart=$bin |" "$unit" >"$tmp/unit/switchboard.service"
grep -q "^ExecStart=$bin " "$tmp/unit/switchboard.service" || die "$unit: ExecStart is not /usr/local/bin/switchboard"
# systemd-analyze verify exits 0 on warnings: fail on any output line about the unit.
verify=$(cd "$tmp/unit" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify ./switchboard.service 2>&1) || die "systemd-analyze verify: $verify"
if grep -F 'switchboard.service' <<<"$verify"; then
    die "systemd-analyze verify complained about the unit"
fi
security=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1) || die "systemd-analyze security: $security"
score=$(sed -n 's/^→ Overall exposure level for switchboard.service: \([0-9.]*\).*/\1/p' <<<"$security")
[[ -n $score ]] || die "no exposure score in: $security"
say "systemd-analyze security: exposure $score (at most $max_exposure)"
awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }' || {
    grep '✗' <<<"$security" || true
    die "exposure $score is above $max_exposure"
}

say "4. end to end: switchboard watch -> Prometheus -> Alertmanager -> webhook"
SWITCHBOARD_BIN=$bin ALERTMANAGER=$alertmanager python3 tests/prometheus/e2e.py
