#!/usr/bin/env bash
# The engine (package `switchboard`: library + CLI) must not depend on Tauri or
# on its webview/windowing stack (DESIGN.md, STYLE.md rule 1).
#
# `cargo tree -i tauri -p switchboard` answers "package ID specification `tauri`
# did not match any packages" both when tauri is not in Cargo.lock at all and
# when only other workspace members (src-tauri) use it: that is the pass.
set -euo pipefail

cargo=${CARGO:-cargo}
err=$(mktemp)
trap 'rm -f "$err"' EXIT

rc=0
out=$("$cargo" tree --locked -i tauri -p switchboard --target all 2>"$err") || rc=$?
if ((rc == 0)) && [[ -n $out ]]; then
    echo "error: the engine depends on tauri:" >&2
    echo "$out" >&2
    exit 1
fi
if ((rc != 0)) && ! grep -q 'did not match any packages' "$err"; then
    echo "error: cargo tree failed (exit $rc):" >&2
    cat "$err" >&2
    exit 1
fi

# The same for the rest of the GUI stack, in case it arrives without `tauri` itself.
# Allowed: tauri-winrt-notification, notify-rust's Windows toast backend (WinRT
# bindings kept by the Tauri organisation; no part of Tauri or its webview).
gui=$("$cargo" tree --locked -p switchboard --target all -e normal,build,dev --prefix none --format '{p}' |
    grep -E '^(tauri|tauri-[a-z0-9-]+|wry|tao|webkit2gtk|gtk) v' |
    grep -v '^tauri-winrt-notification v' | sort -u || true)
if [[ -n $gui ]]; then
    echo "error: the engine depends on GUI crates:" >&2
    echo "$gui" >&2
    exit 1
fi
echo "ok: switchboard does not depend on tauri"
