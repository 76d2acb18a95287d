#!/usr/bin/env bash
# Runs a command inside a private D-Bus session bus that has a real, unlocked
# Secret Service (gnome-keyring), with a throwaway HOME, so keyring tests write
# to a real keyring without touching the user's.
#
#   scripts/with-secret-service.sh COMMAND [ARG...]
#
# How:
#   1. Create a temp dir; HOME and the XDG_* dirs point into it (the keyring
#      file lands in $XDG_DATA_HOME/keyrings). CARGO_HOME and RUSTUP_HOME keep
#      pointing at the real ones, and CARGO_TARGET_DIR is made absolute, so
#      cargo and rustup still work.
#   2. `dbus-run-session -- <this script> --inside ...` starts a private bus.
#   3. Inside, `gnome-keyring-daemon --unlock --components=secrets --daemonize`
#      gets a non-empty password on stdin: that creates and unlocks a `login`
#      collection. (An empty password creates none, and every write then fails
#      with "result not returned from SS API".) The variables it prints
#      (GNOME_KEYRING_CONTROL, ...) are exported.
#   4. Wait until org.freedesktop.secrets is owned on the bus and, when
#      secret-tool exists, do one store/lookup/clear to prove writes work.
#   5. Run COMMAND, stop the daemon, remove the temp dir, exit with COMMAND's status.
#
# Containers: the Debian binary carries the file capability cap_ipc_lock (to
# mlock secrets). Where the container's bounding set lacks CAP_IPC_LOCK,
# exec fails with "Operation not permitted". Then we run a copy of the binary:
# `cp` drops file capabilities; the daemon merely warns that memory is not locked.
set -euo pipefail

# Any non-empty value: it only protects a keyring that lives for one run.
readonly KEYRING_PASSWORD=switchboard-test
# How long to wait for the daemon to own its bus name.
readonly READY_TIMEOUT_SECS=10

log() { printf 'with-secret-service: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# ---- inside the private bus ------------------------------------------------

# Prints the daemon's variables on stdout; its stderr goes to $tmp/gkd.err.
start_daemon() {
    printf '%s' "$KEYRING_PASSWORD" |
        "$1" --unlock --components=secrets --daemonize 2>"$tmp/gkd.err"
}

bus_call() {
    dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus \
        /org/freedesktop/DBus "org.freedesktop.DBus.$1" "string:org.freedesktop.secrets" 2>/dev/null
}

# shellcheck disable=SC2317 # called from a trap
stop_daemon() {
    if [[ -n ${gkd_pid-} ]] && kill -0 "$gkd_pid" 2>/dev/null; then
        kill "$gkd_pid" 2>/dev/null || true
    fi
}

inside() {
    tmp=$1
    shift
    local gkd out rc=0
    gkd=$(command -v gnome-keyring-daemon) || die "gnome-keyring-daemon not found (run: make setup)"

    out=$(start_daemon "$gkd") || rc=$?
    if ((rc != 0)); then
        log "gnome-keyring-daemon failed (exit $rc): $(tr '\n' ' ' <"$tmp/gkd.err")"
        if grep -qi 'not permitted' "$tmp/gkd.err"; then
            log "probably its file capability cap_ipc_lock, which this container cannot grant"
        fi
        log "retrying with a copy of the binary, without file capabilities"
        mkdir -p "$tmp/bin"
        cp "$gkd" "$tmp/bin/gnome-keyring-daemon"
        rc=0
        out=$(start_daemon "$tmp/bin/gnome-keyring-daemon") || rc=$?
        ((rc == 0)) || die "the copy failed too (exit $rc): $(cat "$tmp/gkd.err")"
    fi

    local line
    while IFS= read -r line; do
        if [[ $line =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
            export "${line?}"
        fi
    done <<<"$out"

    local waited=0
    until bus_call NameHasOwner | grep -q true; do
        ((waited < READY_TIMEOUT_SECS * 10)) ||
            die "no Secret Service on the bus after ${READY_TIMEOUT_SECS}s; daemon said: $(cat "$tmp/gkd.err")"
        sleep 0.1
        waited=$((waited + 1))
    done
    gkd_pid=$(bus_call GetConnectionUnixProcessID | awk '{print $NF}')
    echo "$gkd_pid" >"$tmp/gkd.pid"
    trap stop_daemon EXIT

    if command -v secret-tool >/dev/null; then
        local attrs=(service switchboard-selftest username probe)
        printf 'ok' | secret-tool store --label='switchboard self-test' "${attrs[@]}" ||
            die "the Secret Service refuses writes; daemon said: $(cat "$tmp/gkd.err")"
        [[ $(secret-tool lookup "${attrs[@]}") == ok ]] || die "the Secret Service does not return what was stored"
        secret-tool clear "${attrs[@]}"
    fi
    log "Secret Service ready: gnome-keyring-daemon pid $gkd_pid, bus $DBUS_SESSION_BUS_ADDRESS, HOME $HOME"

    rc=0
    "$@" || rc=$?
    return "$rc"
}

if [[ ${1-} == --inside ]]; then
    shift
    rc=0
    inside "$@" || rc=$?
    exit "$rc"
fi

# ---- outside: temp HOME, then the private bus ------------------------------

(($#)) || die "usage: $0 COMMAND [ARG...]"
command -v dbus-run-session >/dev/null || die "dbus-run-session not found (run: make setup)"
command -v gnome-keyring-daemon >/dev/null || die "gnome-keyring-daemon not found (run: make setup)"

# Keep the toolchain reachable once HOME moves.
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
if [[ -z ${RUSTUP_HOME-} && -d $HOME/.rustup ]]; then
    export RUSTUP_HOME=$HOME/.rustup
fi
if [[ -n ${CARGO_TARGET_DIR-} && $CARGO_TARGET_DIR != /* ]]; then
    export CARGO_TARGET_DIR=$PWD/$CARGO_TARGET_DIR
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-ss.XXXXXX")
# shellcheck disable=SC2317 # called from a trap
cleanup() {
    # The daemon normally exits with its bus; make sure, then drop the keyring.
    local pid
    pid=$(cat "$tmp/gkd.pid" 2>/dev/null || true)
    if [[ -n $pid ]] && grep -qs gnome-keyring "/proc/$pid/cmdline"; then
        kill "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

export HOME=$tmp/home
export XDG_CONFIG_HOME=$HOME/.config
export XDG_DATA_HOME=$HOME/.local/share
export XDG_STATE_HOME=$HOME/.local/state
export XDG_CACHE_HOME=$HOME/.cache
export XDG_RUNTIME_DIR=$tmp/run
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_STATE_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$tmp" "$XDG_RUNTIME_DIR"
# Forget any keyring or bus of the caller's session.
unset GNOME_KEYRING_CONTROL SSH_AUTH_SOCK DBUS_SESSION_BUS_ADDRESS

self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
rc=0
dbus-run-session -- "$self" --inside "$tmp" "$@" || rc=$?
exit "$rc"
