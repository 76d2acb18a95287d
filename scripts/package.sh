#!/usr/bin/env bash
# `make package`: the .deb and .rpm of Switchboard, built with Tauri's bundler.
#
#   scripts/package.sh            packages in dist/ (sizes printed)
#
# 1. Tauri's CLI (pinned below) prebuilt from the npm registry:
#    @tauri-apps/cli, whose platform package (@tauri-apps/cli-linux-x64-gnu)
#    carries the compiled CLI as a Node addon, run by node. Installed under
#    ~/.cache/switchboard-tools/tauri-cli (SWITCHBOARD_TOOLS), outside the
#    clone like the build cache, and reinstalled only when the pin changes:
#    seconds, where `cargo install tauri-cli` compiled for up to an hour.
# 2. The release binaries (`make build`'s cargo run, shared with the
#    other stages through CARGO_TARGET_DIR; a no-op when `make test`'s build
#    stage made them), stripped of their symbol tables.
# 3. Generated files: the AppStream metainfo (version and date of the commit,
#    PROJECT_URL for the screenshots), a Debian changelog, man pages from
#    --help (help2man).
# 4. `cargo tauri bundle --bundles deb,rpm`: both formats are written by
#    tauri-bundler in Rust (no dpkg-deb or rpmbuild needed); the static parts
#    are in src-tauri/tauri.conf.json (bundle) and packaging/linux/.
#
# AppImage and Flatpak are not built: tauri's AppImage bundler downloads
# linuxdeploy and its plugins at build time, and a Flatpak needs the GNOME
# runtime and SDK from Flathub; this build has neither (README "Packages").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The CLI's version: the tauri crate's in Cargo.lock (the two are released
# together); bump it with `cargo update -p tauri`.
readonly TAURI_CLI_VERSION=2.12.5
readonly PROJECT_URL=${PROJECT_URL:-https://switchboard.invalid}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/switchboard-target}
cargo=${CARGO:-cargo}
tools=${SWITCHBOARD_TOOLS:-$HOME/.cache/switchboard-tools}/tauri-cli
tauri=$tools/node_modules/.bin/tauri

for tool in node npm help2man strip gzip; do
    command -v "$tool" >/dev/null || { echo "package: $tool not found (run: make setup)" >&2; exit 1; }
done
if [[ $(cat "$tools/.pin" 2>/dev/null) != "$TAURI_CLI_VERSION" ]] ||
    ! "$tauri" --version 2>/dev/null | grep -qx "tauri-cli $TAURI_CLI_VERSION"; then
    echo "package: installing @tauri-apps/cli@$TAURI_CLI_VERSION from npm into $tools"
    mkdir -p "$tools"
    # The platform package comes as an optional dependency; no install
    # scripts are needed.
    npm install --prefix "$tools" --no-audit --no-fund --ignore-scripts \
        "@tauri-apps/cli@$TAURI_CLI_VERSION" </dev/null
    "$tauri" --version | grep -qx "tauri-cli $TAURI_CLI_VERSION" ||
        { echo "package: $tauri does not run (its platform package missing?)" >&2; exit 1; }
    echo "$TAURI_CLI_VERSION" >"$tools/.pin"
fi
locked=$(awk '/^name = "tauri"$/ {getline; gsub(/"/, "", $3); print $3}' Cargo.lock)
if [[ ${locked%.*} != "${TAURI_CLI_VERSION%.*}" ]]; then
    echo "package: warning: Cargo.lock has tauri $locked, the CLI is $TAURI_CLI_VERSION: bump TAURI_CLI_VERSION" >&2
fi

# The same run as `make build`: both binaries together, so the dependencies
# they share are compiled once.
"$cargo" build --release --locked -p switchboard --bin switchboard -p switchboard-desktop --bin switchboard-desktop
rel=$CARGO_TARGET_DIR/release
# What dh_strip does: symbols and notes out. In place: cargo hard-links these
# from deps/, and strip writes a new file, so its own copies stay as they are.
for bin in switchboard switchboard-desktop; do
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$rel/$bin"
done

version=$("$cargo" metadata --no-deps --format-version 1 --locked |
    python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "switchboard-desktop"))')
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# Dates of the commit, not of the build: the same commit packs the same files.
when=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH=$when

stage=$CARGO_TARGET_DIR/package-stage
rm -rf "$stage"
mkdir -p "$stage/man"
sed -e "s|@VERSION@|$version|" -e "s|@DATE@|$(date -u -d "@$when" +%F)|" \
    -e "s|@PROJECT_URL@|$PROJECT_URL|" -e "s|@SCREENSHOTS@|$PROJECT_URL/docs/screenshots|" \
    packaging/linux/dev.switchboard.desktop.metainfo.xml >"$stage/dev.switchboard.desktop.metainfo.xml"
{
    echo "switchboard ($version) unstable; urgency=medium"
    echo
    echo "  * Switchboard $version, built from commit $commit."
    echo
    echo " -- The Switchboard developers <dev@switchboard.local>  $(date -u -R -d "@$when")"
} | gzip -9n >"$stage/changelog.gz"
help2man -N --no-discard-stderr --version-string="$version" \
    -n "know your LLM provider is failing before its status page does" \
    "$rel/switchboard" | gzip -9n >"$stage/man/switchboard.1.gz"
help2man -N --no-discard-stderr --version-string="$version" \
    -n "Switchboard in the system tray" \
    "$rel/switchboard-desktop" | gzip -9n >"$stage/man/switchboard-desktop.1.gz"

python3 - "$stage" "$rel" <<'PY'
import json, sys
stage, rel = sys.argv[1], sys.argv[2]
common = {
    "/usr/bin/switchboard": f"{rel}/switchboard",
    "/usr/share/metainfo/dev.switchboard.desktop.metainfo.xml": f"{stage}/dev.switchboard.desktop.metainfo.xml",
    "/usr/share/man/man1/switchboard.1.gz": f"{stage}/man/switchboard.1.gz",
    "/usr/share/man/man1/switchboard-desktop.1.gz": f"{stage}/man/switchboard-desktop.1.gz",
}
conf = json.load(open("src-tauri/tauri.conf.json"))
deb = dict(conf["bundle"]["linux"]["deb"]["files"], **common)
deb["/usr/share/doc/switchboard/changelog.gz"] = f"{stage}/changelog.gz"
rpm = dict(conf["bundle"]["linux"]["rpm"]["files"], **common)
json.dump({"bundle": {"active": True, "linux": {"deb": {"files": deb}, "rpm": {"files": rpm}}}},
          open(f"{stage}/overlay.json", "w"), indent=1)
PY

rm -rf "$rel/bundle/deb" "$rel/bundle/rpm"
(cd src-tauri && "$tauri" bundle --bundles deb,rpm --config "$stage/overlay.json")

mkdir -p dist
rm -f dist/*.deb dist/*.rpm
cp "$rel"/bundle/deb/*.deb "$rel"/bundle/rpm/*.rpm dist/
echo "package: built"
for f in dist/*.deb dist/*.rpm; do
    printf '  %-48s %6s KiB\n' "$f" $(($(stat -c %s "$f") / 1024))
done
printf '  installed size (deb): %s KiB\n' "$(dpkg-deb -f dist/*.deb Installed-Size 2>/dev/null || echo '?')"
