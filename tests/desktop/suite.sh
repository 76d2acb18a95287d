#!/usr/bin/env bash
# Runs the desktop test files one after another on the caller's session bus and
# X display (tests/desktop/run.sh provides both), and prints one summary line.
#
#   tests/desktop/suite.sh [test_name ...]    default: every tests/desktop/test_*.py
#
# One at a time: each owns org.kde.StatusNotifierWatcher (and most own
# org.freedesktop.Notifications) while it runs, and the app is single-instance
# on the bus.
set -uo pipefail
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ beside the tests
cd "$(dirname "${BASH_SOURCE[0]}")" || exit 1

if (($#)); then
    tests=()
    for t in "$@"; do tests+=("${t%.py}.py"); done
else
    tests=(test_*.py)
fi
passed=0 failed=0 failed_names=()
for t in "${tests[@]}"; do
    echo "==== $t"
    start=$SECONDS
    if /usr/bin/python3 "$t"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failed_names+=("$t")
    fi
    echo "==== $t: $((SECONDS - start)) s"
done
((failed == 0)) || echo "desktop: failed: ${failed_names[*]}"
echo "desktop: $passed passed, $failed failed"
((failed == 0))
