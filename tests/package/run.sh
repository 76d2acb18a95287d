#!/usr/bin/env bash
# The `package` stage of `make test`: the .deb and .rpm as a user gets them.
#
#   tests/package/run.sh
#
# 1. builds them (scripts/package.sh: the release build, shared with `make
#    build` / `make run` through CARGO_TARGET_DIR);
# 2. lints them: lintian (errors and warnings fail; the overrides shipped in
#    the package say why each is there), desktop-file-validate, appstreamcli
#    validate, systemd-analyze verify of the user unit; the .rpm holds the
#    same files as the .deb;
# 3. as root (CI: a throwaway machine) and only when no `switchboard` package
#    is installed already: `dpkg -i`, then tests/package/test_installed.py under
#    Xvfb on a private session bus (the installed /usr/bin/switchboard-desktop
#    registers its tray; `gtk-launch` of the installed desktop entry starts
#    it; the installed CLI prints the version), `dpkg -r`, and no file of the
#    package is left while the user's config and history stay. The package
#    is removed on every exit path.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

for tool in lintian desktop-file-validate appstreamcli systemd-analyze rpm dpkg-deb gtk-launch xvfb-run; do
    command -v "$tool" >/dev/null || { echo "package: $tool not found (run: make setup)" >&2; exit 1; }
done

scripts/package.sh
deb=$(ls dist/*.deb)
rpm=$(ls dist/*.rpm)
fail=0
step() { echo "---- package: $*"; }

work=$(mktemp -d)
installed=0
cleanup() {
    if ((installed)); then
        dpkg -r switchboard >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

step "lintian $deb"
# --fail-on warning: an unexplained warning fails like an error. Overrides
# (packaging/linux/lintian-overrides, installed with the package) are shown.
lintian --fail-on error,warning --info "$deb" || fail=1
# (--show-overrides alone would count the overridden tags as failures.)
lintian --show-overrides "$deb" 2>/dev/null | grep '^O:' || true

dpkg-deb -x "$deb" "$work/root"
step "desktop-file-validate"
desktop-file-validate "$work"/root/usr/share/applications/*.desktop || fail=1
step "appstreamcli validate"
appstreamcli validate --no-net --explain "$work"/root/usr/share/metainfo/*.metainfo.xml || fail=1
step "systemd-analyze verify (user unit)"
# Its ExecStart must exist: point it at the extracted binary.
mkdir -p "$work/unit"
sed "s|/usr/bin/switchboard|$work/root/usr/bin/switchboard|" \
    "$work/root/usr/lib/systemd/user/switchboard.service" >"$work/unit/switchboard.service"
MANPATH="$work/root/usr/share/man" systemd-analyze verify --man=no "$work/unit/switchboard.service" || fail=1

step "the .rpm holds what the .deb holds"
# Paths without their leading "./" or "/"; Debian's doc and lintian files and
# the rpm's license directory are each format's own.
deb_files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {sub(/^\.?\//, "", $6); print $6}' |
    grep -v '^usr/share/\(doc\|lintian\)/' | sort)
rpm_files=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" 2>/dev/null |
    awk '$1 !~ /^d/ {sub(/^\.?\//, "", $2); print $2}' | grep -v '^usr/share/licenses/' | sort)
if [[ $deb_files != "$rpm_files" ]]; then
    echo "package: the .deb and .rpm differ:"
    diff <(echo "$deb_files") <(echo "$rpm_files") || true
    fail=1
fi
echo "$deb_files"
rpm -qp --requires "$rpm" 2>/dev/null | sed 's/^/  rpm requires: /'
dpkg-deb -f "$deb" Depends Recommends Installed-Size | sed 's/^/  deb /'

if ((EUID != 0)); then
    echo "package: not root: the install test (dpkg -i / -r) is skipped"
    ((fail == 0)) || exit 1
    [[ -z ${CI-} ]] || { echo "package: CI must run the install test (as root)" >&2; exit 1; }
    exit 0
fi
if dpkg-query -W -f '${Status}' switchboard 2>/dev/null | grep -q 'installed'; then
    echo "package: a switchboard package is installed on this machine: the install test leaves it alone and is skipped" >&2
    exit 1
fi

step "dpkg -i"
installed=1
dpkg -i "$deb"
files=$(dpkg -L switchboard | while read -r f; do [[ -f $f || -L $f ]] && echo "$f"; done)

step "the installed app (Xvfb, private session bus)"
export WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1 NO_AT_BRIDGE=1 PYTHONDONTWRITEBYTECODE=1
export SWITCHBOARD_PACKAGE_STATE=$work/user
xvfb-run -a -s "-screen 0 1280x1024x24" \
    scripts/with-secret-service.sh /usr/bin/python3 tests/package/test_installed.py || fail=1

step "dpkg -r"
dpkg -r switchboard
installed=0
left=0
while read -r f; do
    if [[ -e $f || -L $f ]]; then
        echo "package: left behind: $f"
        left=1
    fi
done <<<"$files"
((left == 0)) && echo "no file of the package is left ($(wc -l <<<"$files") files removed)" || fail=1
for kept in "$SWITCHBOARD_PACKAGE_STATE"/xdg_config_home/switchboard/config.toml \
    "$SWITCHBOARD_PACKAGE_STATE"/xdg_data_home/switchboard; do
    if [[ -e $kept ]]; then
        echo "the user's $(basename "$kept") stays"
    else
        echo "package: the user's $kept is gone" >&2
        fail=1
    fi
done
((fail == 0))
