#!/usr/bin/env python3
"""The installed package, as a user starts it (tests/package/run.sh runs this
after `dpkg -i`, under Xvfb and a private session bus with a Secret Service).

1. `/usr/bin/switchboard --version` names the package's version and a commit.
2. `/usr/bin/switchboard-desktop` registers its tray with our
   StatusNotifierWatcher and serves the dashboard; "Quit" exits 0.
3. The installed desktop entry, started the way a menu does (`gtk-launch`),
   runs /usr/bin/switchboard-desktop: its tray registers too.

The user's files live under SWITCHBOARD_PACKAGE_STATE (XDG dirs and HOME):
run.sh checks that they outlive `dpkg -r`. Fakes on 127.0.0.1 stand in for
every provider.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "desktop"))
# The installed binary, not the release build `make test` exports for the other stages.
os.environ["SWITCHBOARD_DESKTOP_BIN"] = "/usr/bin/switchboard-desktop"

from desktoplib import (Session, World, api_status, check, config_text, finish, free_port, log,  # noqa: E402
                        need_session, serve_fakes, wait_for)

BIN = "/usr/bin/switchboard-desktop"
CLI = "/usr/bin/switchboard"


def pid_of(session, item):
    return int(session.client.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                            "GetConnectionUnixProcessID", "s", (item.name,)))


def status_or_none(port):
    try:
        return api_status(port)
    except Exception:  # not listening yet
        return None


def quit_app(item, proc, what):
    item.click_label("Quit")
    try:
        code = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = None
    check(code == 0, f"{what}: Quit exits 0 (got {code})")


def main():
    need_session()
    state = os.environ["SWITCHBOARD_PACKAGE_STATE"]
    env = dict(os.environ)
    for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[k] = os.path.join(state, k.lower())
        os.makedirs(env[k], exist_ok=True)
    env["HOME"] = os.path.join(state, "home")
    os.makedirs(env["HOME"], exist_ok=True)
    env.update({"SWITCHBOARD_TEST_ANTHROPIC_KEY": "sk-ant-package-test", "SWITCHBOARD_TEST_OPENAI_KEY": "sk-package-test"})
    env.pop("SWITCHBOARD_CONFIG", None)

    version = subprocess.run([CLI, "--version"], capture_output=True, text=True, env=env)
    log(f"{CLI} --version: {version.stdout.strip()}")
    check(version.returncode == 0 and version.stdout.startswith("switchboard ")
          and "(" in version.stdout and "unknown" not in version.stdout,
          f"the installed CLI prints its version and commit ({version.stdout.strip()!r})")

    world = World()
    fakes, base = serve_fakes(world)
    listen = free_port()
    # The default config location: the desktop entry starts the app without --config.
    config = os.path.join(env["XDG_CONFIG_HOME"], "switchboard", "config.toml")
    os.makedirs(os.path.dirname(config), exist_ok=True)
    with open(config, "w") as f:
        f.write(config_text(base, listen, interval=2, header="# tests/package: every peer is a fake on 127.0.0.1."))

    session = Session()
    log_file = open(os.path.join(state, "app.log"), "w")
    try:
        proc = subprocess.Popen([BIN], env=env, stdout=log_file, stderr=subprocess.STDOUT)
        item = session.wait_item(count=1, timeout=60)
        if check(item is not None, f"the installed {BIN} registers its tray"):
            check(os.readlink(f"/proc/{pid_of(session, item)}/exe") == BIN, "the tray belongs to the installed binary")
            status = wait_for(lambda: status_or_none(listen), "the dashboard API")
            check(bool(status) and {p["id"] for p in status["providers"]} == {"anthropic", "openai"},
                  "the installed app serves the dashboard API with the config's providers")
            quit_app(item, proc, "installed binary")
        else:
            proc.kill()

        # The menu's way: the desktop entry by its id.
        # Not piped: the app it starts would hold the pipes open.
        launched = subprocess.run(["gtk-launch", "Switchboard"], env=env, stdout=log_file, stderr=log_file,
                                  timeout=30)
        check(launched.returncode == 0, f"gtk-launch Switchboard exits 0 ({launched.returncode})")
        item = session.wait_item(count=2, timeout=60)
        if check(item is not None, "the desktop entry starts the app: its tray registers"):
            pid = pid_of(session, item)
            check(os.readlink(f"/proc/{pid}/exe") == BIN, f"the entry runs {BIN}")
            item.click_label("Quit")
            check(wait_for(lambda: not os.path.exists(f"/proc/{pid}"), "the launched app to quit", timeout=20)
                  is not None, "Quit ends the app the entry started")
    finally:
        session.close()
        fakes.shutdown()
        log_file.close()
    time.sleep(0.5)
    finish("test_installed")


if __name__ == "__main__":
    main()
