#!/usr/bin/env bash
# Installs what building and testing Switchboard needs, and nothing when it is
# all there already (so CI pays for apt only on a fresh machine).
#
#   scripts/setup.sh DEBIAN_PACKAGE...
#
# - Debian packages: installed only when `dpkg-query` says they are missing;
#   `apt-get update` runs only then. Uses sudo (non-interactive) when not root.
# - Rust: rustfmt and clippy, added with rustup only when `cargo fmt` /
#   `cargo clippy` do not already work.
#
# Never prompts: CI has no stdin.
set -euo pipefail

log() { printf 'setup: %s\n' "$*"; }
die() {
    printf 'setup: error: %s\n' "$*" >&2
    exit 1
}

# ---- Debian packages -------------------------------------------------------

missing=()
for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
    sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || die "missing packages (${missing[*]}): run as root or install sudo"
        # -n: fail instead of waiting for a password nobody can type.
        sudo=(sudo -n)
    fi
    apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y
        -o DPkg::Lock::Timeout=300
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    log "installing: ${missing[*]}"
    "${apt[@]}" update </dev/null
    "${apt[@]}" install --no-install-recommends "${missing[@]}" </dev/null
else
    log "Debian packages present ($#)"
fi

# ---- Rust components -------------------------------------------------------

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
for comp in rustfmt clippy; do
    sub=${comp/rustfmt/fmt}
    if cargo "$sub" --version >/dev/null 2>&1; then
        continue
    fi
    command -v rustup >/dev/null || die "cargo $sub is missing and rustup is not available to add $comp"
    log "adding Rust component $comp"
    rustup component add "$comp" </dev/null
done
log "Rust: $(rustc --version)"
