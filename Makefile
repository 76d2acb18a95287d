# Switchboard: the two commands a user or CI needs.
#
#   make run    install what is missing, build, start Switchboard (ARGS="..." passes arguments)
#   make test   install what is missing, then format, lint, dependency, layer and test checks
#
# Also: make setup | build | package | package-test | gateway-sdk | prometheus | real-clients | clean.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build
.DELETE_ON_ERROR:
# Stages share cargo's lock and one log: never interleave them.
.NOTPARALLEL:

# Build output lives outside the clone, so repeated CI runs in fresh clones start
# warm. It must be absolute: the test stage runs under a different HOME and cwd.
CARGO_TARGET_DIR ?= $(HOME)/.cache/switchboard-target
override CARGO_TARGET_DIR := $(abspath $(CARGO_TARGET_DIR))
export CARGO_TARGET_DIR

# CI may start us without ~/.cargo/bin on PATH (non-login shell).
ifeq ($(shell command -v cargo),)
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)
endif

# Debian packages the build and the tests need. `make setup` installs only the
# missing ones.
#   build-essential, pkg-config, libssl-dev  C toolchain for -sys crates (aws-lc-sys, later Tauri)
#   dbus             dbus-run-session: the private session bus of the keyring tests;
#                    dbus-daemon: the private buses of the notification tests
#   gnome-keyring    the real Secret Service the keyring tests write to
#   libsecret-tools  secret-tool: the tests check that keys land where other tools find them
#   python3-dbusmock the fake notification server (template notification_daemon) that
#                    `watch --notify` is tested against, each test on a private dbus-daemon,
#                    and that records the desktop app's notifications (tests/desktop)
# Not needed: libdbus-1-dev (zbus is pure Rust), dbus-x11 (no X autolaunch; the
# session comes from dbus-run-session; python3-dbusmock pulls it in all the same).
DEB_PACKAGES := build-essential pkg-config libssl-dev dbus gnome-keyring libsecret-tools python3-dbusmock
# Browser end-to-end tests (the `e2e` stage):
#   chromium         Debian's headless browser, driven by playwright-core (npm); no browser downloads
#   nodejs, npm      only when no `node` is on PATH (a NodeSource or nvm node stays as it is);
#                    Debian 12's nodejs 18 is enough (playwright-core is pinned to a release that supports it)
DEB_PACKAGES_E2E := chromium $(if $(shell command -v node),,nodejs npm)
# Desktop shell (switchboard-desktop, Tauri 2; the `desktop` stage):
#   libwebkit2gtk-4.1-dev, librsvg2-dev  the webview (pulls GTK 3) and SVG icons, for the build
#   libayatana-appindicator3-dev         the tray (dlopen'ed at run time; the app runs without it)
#   libxdo-dev                           linked by tauri's menu crate (muda)
#   xvfb, xauth                          xvfb-run: an X server for the tray test
#   xdotool                              the test finds the dashboard window
#   python3-dbus, python3-gi             the test's StatusNotifierWatcher and dbusmenu client
#   tint2, notification-daemon, x11-utils  tests/desktop/screenshots.sh: a panel with an XEmbed
#                                        tray, notification bubbles, xwininfo (README screenshots)
DEB_PACKAGES_DESKTOP := libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev \
	xvfb xauth xdotool python3-dbus python3-gi tint2 notification-daemon x11-utils
# Packages (`make package`, and the `package` stage that installs and lints them):
#   help2man             the man pages, from --help
#   lintian              the .deb's policy checks
#   desktop-file-utils   desktop-file-validate
#   appstream            appstreamcli validate (the metainfo)
#   rpm                  rpm -qlp: the .rpm's file list (tauri-bundler writes the .rpm itself)
#   libgtk-3-bin         gtk-launch: start the installed desktop entry as a menu does
#   binutils             strip (build-essential has it; named for clarity)
#   nodejs, npm          only when no `node` is on PATH: Tauri's CLI (the bundler) is the npm
#                        registry's prebuilt @tauri-apps/cli, a Node addon
# systemd (systemd-analyze) and xvfb come with the stages above.
DEB_PACKAGES_PACKAGE := help2man lintian desktop-file-utils appstream rpm libgtk-3-bin binutils \
	$(if $(shell command -v node),,nodejs npm)
# Gateway SDK tests (the `gateway-sdk` stage): the official anthropic and openai
# Python SDKs from PyPI, pinned in tests/gateway_sdk/requirements.txt, in a venv
# under ~/.cache (created once, reinstalled only when the pins change):
#   python3-venv     venv + ensurepip for Debian's python3
DEB_PACKAGES_GATEWAY_SDK := python3-venv
# Prometheus and Alertmanager (the `prometheus` stage: deploy/ checked with the real tools):
#   prometheus               prometheus (the e2e server) and promtool (check and unit-test the rules,
#                            lint a real /metrics scrape)
#   prometheus-alertmanager  the e2e Alertmanager (prometheus-alertmanager) and amtool (check its config)
#   systemd                  systemd-analyze: verify the system unit and score its exposure (offline,
#                            no running systemd needed)
# The stage starts its own servers on free loopback ports. Where systemd runs, installing the
# packages also starts Debian's prometheus.service (:9090) and prometheus-alertmanager.service
# (:9093); the stage does not need them (`systemctl disable --now prometheus prometheus-alertmanager`).
DEB_PACKAGES_PROMETHEUS := prometheus prometheus-alertmanager systemd
# Real clients (the `real-clients` stage): Claude Code and the Codex CLI from npm
# (pinned in tests/real_clients/run.sh, installed under ~/.cache), driven
# through the gateway in a private network namespace:
#   util-linux       unshare --net
#   iproute2         ip link set lo up inside the namespace
#   nodejs, npm      only when no `node` is on PATH (the clients' launchers; their
#                    native binaries come in platform packages)
DEB_PACKAGES_REAL_CLIENTS := util-linux iproute2 $(if $(shell command -v node),,nodejs npm)

CARGO ?= cargo
BIN := $(CARGO_TARGET_DIR)/release/switchboard
BIN_DESKTOP := $(CARGO_TARGET_DIR)/release/switchboard-desktop
ARGS ?=
STAGE := scripts/stage.sh

.PHONY: setup build run test package package-test gateway-sdk prometheus real-clients fuzz clean

setup:
	@$(STAGE) setup scripts/setup.sh $(DEB_PACKAGES) $(DEB_PACKAGES_E2E) $(DEB_PACKAGES_DESKTOP) \
		$(DEB_PACKAGES_GATEWAY_SDK) $(DEB_PACKAGES_PROMETHEUS) $(DEB_PACKAGES_REAL_CLIENTS) \
		$(DEB_PACKAGES_PACKAGE)

# One cargo run for both binaries: built apart, the dependencies the engine and
# Tauri share would be compiled twice (Tauri asks for more features of 186 of
# them, so the engine-only build's copies could not be reused).
RELEASE_BUILD := build --release --locked -p switchboard --bin switchboard -p switchboard-desktop --bin switchboard-desktop
build:
	@$(STAGE) build $(CARGO) $(RELEASE_BUILD)

# The .deb and .rpm in dist/ (tauri's bundler, from the npm registry's prebuilt
# @tauri-apps/cli, pinned in scripts/package.sh and cached in ~/.cache/switchboard-tools).
# PROJECT_URL: the project's web home, for the AppStream metainfo's homepage
# and screenshot URLs (software centres fetch them).
package: setup
	@CARGO=$(CARGO) $(STAGE) package scripts/package.sh

# The desktop app: tray icon + dashboard window over the in-process engine.
# The headless engine is `$(BIN) watch`.
run: setup build
	$(BIN_DESKTOP) $(ARGS)

# Every stage runs even when an earlier one failed, so one log shows all
# problems; the summary at the end gives each stage's time and the exit status.
# SWITCHBOARD_REQUIRE_KEYRING=1: the keyring tests fail instead of skipping when
# the Secret Service is missing.
# The release binaries are built once, by the build stage (`make build`'s
# cargo run), and every stage that runs a binary gets them through
# SWITCHBOARD_BIN / SWITCHBOARD_DESKTOP_BIN; the desktop stage lints and tests
# the desktop crate in the release profile too, so Tauri is compiled once (the
# debug profile is only the engine's: clippy and `cargo test`).
# The tests' release build skips link-time optimisation (CARGO_PROFILE_RELEASE_*,
# the same optimisation level otherwise): thin LTO of the two binaries costs
# minutes per commit, since --version names the commit and every commit relinks.
# `make build`, `make run` and `make package` keep the full release profile.
test: export CARGO_PROFILE_RELEASE_LTO := false
test: export CARGO_PROFILE_RELEASE_CODEGEN_UNITS := 16
test: setup
	@export SWITCHBOARD_REQUIRE_KEYRING=1 SWITCHBOARD_BIN=$(BIN) SWITCHBOARD_DESKTOP_BIN=$(BIN_DESKTOP); \
	STAGE_SUMMARY=$$(mktemp); export STAGE_SUMMARY; \
	t0=$$(date +%s); \
	$(STAGE) fmt $(CARGO) fmt --all -- --check || true; \
	$(STAGE) build $(CARGO) $(RELEASE_BUILD) || true; \
	$(STAGE) clippy $(CARGO) clippy --all-targets --locked -- -D warnings || true; \
	$(STAGE) no-tauri scripts/check-no-tauri.sh || true; \
	$(STAGE) layers scripts/import-graph.py || true; \
	$(STAGE) tests scripts/with-secret-service.sh $(CARGO) test --locked --all-targets || true; \
	CARGO=$(CARGO) $(STAGE) e2e tests/e2e/run.sh || true; \
	CARGO=$(CARGO) $(STAGE) desktop tests/desktop/run.sh || true; \
	CARGO=$(CARGO) $(STAGE) gateway-sdk tests/gateway_sdk/run.sh || true; \
	CARGO=$(CARGO) $(STAGE) prometheus tests/prometheus/run.sh || true; \
	CARGO=$(CARGO) $(STAGE) real-clients tests/real_clients/run.sh || true; \
	CARGO=$(CARGO) $(STAGE) package tests/package/run.sh || true; \
	scripts/stage.sh --summary "$$STAGE_SUMMARY" "$$t0"

# The installable packages checked with the real tools (lintian, desktop-file-validate,
# appstreamcli, systemd-analyze, dpkg -i / -r, the installed app's tray under Xvfb),
# alone: the `package` stage of `make test`.
package-test: setup
	@CARGO=$(CARGO) $(STAGE) package tests/package/run.sh

# The gateway with the official Python SDKs as clients, alone (ARGS="-k midstream"
# passes pytest arguments).
gateway-sdk: setup
	@CARGO=$(CARGO) $(STAGE) gateway-sdk tests/gateway_sdk/run.sh $(ARGS)

# deploy/ (rules, Alertmanager route, systemd unit) against the real tools, alone.
prometheus: setup
	@CARGO=$(CARGO) $(STAGE) prometheus tests/prometheus/run.sh

# Claude Code and the Codex CLI through the gateway, alone (ARGS passes pytest arguments).
real-clients: setup
	@CARGO=$(CARGO) $(STAGE) real-clients tests/real_clients/run.sh $(ARGS)

# Coverage-guided fuzzing (cargo-fuzz + libFuzzer, nightly only; never part of
# `make test`, which replays tests/corpus/ instead). Every target in fuzz/ runs
# FUZZ_SECONDS, seeded from tests/corpus/<parser>/; new inputs libFuzzer finds
# stay in fuzz/corpus/ (not in git), crashes in fuzz/artifacts/<target>/.
# FUZZ_TARGETS="sse_stream config_toml" runs a subset.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	$(CARGO) clean
