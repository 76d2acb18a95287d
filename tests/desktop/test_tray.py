#!/usr/bin/env python3
"""End-to-end test of switchboard-desktop's tray, over D-Bus.

Run it inside a private session bus and an X server (tests/desktop/run.sh does:
`xvfb-run -a scripts/with-secret-service.sh tests/desktop/suite.sh`).

1. Owns org.kde.StatusNotifierWatcher on the session bus, so the app's
   libayatana tray registers its StatusNotifierItem with us; dbusmock's
   notification server owns org.freedesktop.Notifications.
2. Starts fake Anthropic / OpenAI APIs and status pages on 127.0.0.1.
3. Launches the app with a temp HOME/XDG dirs and a config pointing at the fakes
   ([notifications] enabled = false).
4. Reads the item's icon (IconName is the path of the PNG tray-icon wrote) and
   checks its dominant colour: green, red while Anthropic answers 500
   api_error, green after recovery.
5. Reads the com.canonical.dbusmenu layout, clicks "OpenAI" under "Preferred
   provider" (Event "clicked"), and checks the config file, GET /api/status and
   the icon follow.
6. Opens the dashboard (a WebKitWebProcess appears), launches a second instance
   (it exits, the first keeps one window), closes and reopens the window, the
   check items, then "Quit": exit code 0. No notification was raised: they
   are switched off in the config.

Shared pieces: tests/desktop/desktoplib.py.
"""

import os
import subprocess
import time

from desktoplib import (App, NotificationServer, Session, World, api_status, check, children_named, close_window,
                        config_text, find, find_windows, finish, free_port, label, log, need_session,
                        serve_fakes, wait_for)


def connections_to(port, pids):
    """Established TCP connections to 127.0.0.1:port owned by one of `pids`."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"dst 127.0.0.1:{port}"],
                         capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if any(f"pid={p}," in line for p in pids)]


def main():
    need_session()
    session = Session()
    world = World()
    fakes, base = serve_fakes(world)
    listen = free_port()
    app = App("tray", config_text(base, listen, interval=2, notifications=False))
    notifications = NotificationServer(session.client, os.path.join(app.tmp, "dbusmock.log"))
    config = app.config
    app.start()
    code = None
    try:
        item = session.wait_item()
        if not check(item is not None, "the tray registers a StatusNotifierItem"):
            raise SystemExit
        log(f"item {item.name} {item.path} after {time.monotonic() - app.started:.1f}s; "
            f"IconName={item.prop('IconName')} ThemePath={item.prop('IconThemePath')}")

        wait_for(lambda: api_status(listen)["providers"] and all(
            p["state"] == "operational" for p in api_status(listen)["providers"]), "both operational")
        check(wait_for(lambda: item.colour() == "green", "green icon") is not None,
              f"icon green while all is well (is {item.colour()})")
        nodes = item.nodes()
        labels = [label(p) for _, p, _, _ in nodes if p.get("label")]
        log(f"menu labels: {labels}")
        for want in ["Preferred provider", "Switch automatically when preferred fails",
                     "Learn from my Claude Code and Codex errors", "Check now",
                     "Open dashboard", "Open status page", "Pause notifications", "Start at login", "Quit"]:
            check(find(nodes, want)[0] is not None, f"menu has {want!r}")
        hdr = nodes[1][1] if len(nodes) > 1 else {}
        check(hdr.get("enabled") in (False, 0), f"header {label(hdr)!r} is disabled")
        oid, oprops = find(nodes, "OpenAI", parent="Preferred provider")
        aid, aprops = find(nodes, "Claude", parent="Preferred provider")
        check(oid is not None and aid is not None, "Preferred provider lists Claude and OpenAI")
        if aprops is not None:
            check(int(aprops.get("toggle-state", -1)) == 1, "Claude is checked")
            check(str(aprops.get("toggle-type", "")) == "checkmark", "provider items are check items")
        if oprops is not None:
            check(int(oprops.get("toggle-state", -1)) == 0, "OpenAI is unchecked")

        # -- outage and recovery --
        world.anthropic = "500"
        t = time.monotonic()
        ok = wait_for(lambda: item.colour() == "red", "red icon")
        check(ok is not None, f"icon turns red when Anthropic answers 500 api_error ({time.monotonic() - t:.1f}s)")
        hdr = wait_for(lambda: "outage" in item.header(), "header text")
        check(hdr is not None, f"the header follows: {item.header()!r}")
        world.anthropic = "ok"
        t = time.monotonic()
        ok = wait_for(lambda: item.colour() == "green", "green icon again")
        check(ok is not None, f"icon green again after recovery ({time.monotonic() - t:.1f}s)")

        # -- choose OpenAI in the menu while Anthropic fails --
        world.anthropic = "500"
        wait_for(lambda: item.colour() == "red", "red icon (second outage)")
        nodes = item.nodes()
        oid, _ = find(nodes, "OpenAI", parent="Preferred provider")
        item.click(oid)
        check(wait_for(lambda: 'preferred = "openai"' in open(config).read(), "config preferred=openai") is not None,
              "clicking OpenAI writes preferred = \"openai\" to the config file")
        check(wait_for(lambda: api_status(listen)["preferred"] == "openai", "API preferred") is not None,
              "GET /api/status says preferred = openai")
        check(wait_for(lambda: item.colour() == "green", "icon green again") is not None,
              f"icon follows the healthy preferred provider (is {item.colour()})")
        nodes = item.nodes()
        _, oprops = find(nodes, "OpenAI", parent="Preferred provider")
        check(oprops is not None and int(oprops.get("toggle-state", -1)) == 1, "OpenAI is checked in the menu")
        n_checked = sum(1 for _, p, _, par in nodes if par and "Preferred" in par and int(p.get("toggle-state", 0)) == 1)
        check(n_checked == 1, f"exactly one provider checked ({n_checked})")
        world.anthropic = "ok"

        # -- dashboard window --
        check(not children_named(app.pid, "WebKitWeb"), "no web process before the dashboard opens")
        did, _ = find(nodes, "Open dashboard")
        item.click(did)
        web = wait_for(lambda: children_named(app.pid, "WebKitWebProces"), "a WebKitWebProcess", timeout=30)
        check(bool(web), f"Open dashboard starts a web process ({web})")
        win = wait_for(find_windows, "the window")
        check(bool(win), f"a window named Switchboard exists ({win})")

        # A second launch hands over to the first and exits.
        second = subprocess.run([app.binary, "--config", config], env=app.env, capture_output=True, timeout=30)
        check(second.returncode == 0, f"a second instance exits 0 (got {second.returncode})")
        check(app.running(), "the first instance keeps running")
        time.sleep(1)
        wins = find_windows()
        check(len(wins) == 1, f"still one dashboard window ({wins})")

        # The page really loaded from the in-process server: its event stream
        # (/api/events) holds a connection from a WebKit process.
        webkit = lambda: children_named(app.pid, "WebKit")  # noqa: E731
        conns = wait_for(lambda: connections_to(listen, webkit()), "the dashboard's connection to the server")
        check(bool(conns), "the dashboard (WebKit) is connected to the in-process server")

        # Closing the window destroys it (its web process exits); the app stays.
        close_window(wins[0] if wins else 0)
        gone = wait_for(lambda: not find_windows(), "the window to go")
        check(gone is not None, "closing the dashboard destroys its window")
        check(wait_for(lambda: not children_named(app.pid, "WebKitWebProces"), "the web process to exit")
              is not None, "the WebKitWebProcess exits after the close")
        check(wait_for(lambda: not children_named(app.pid, "WebKitNetworkPr"), "the network process to exit",
                       timeout=15) is not None,
              "the idle WebKitNetworkProcess is ended after the close (memory back to the tray-only level)")
        time.sleep(1)
        check(app.running(), "the app keeps running with no window")
        item.click(did)
        check(wait_for(find_windows, "the window again") is not None, "Open dashboard after a close opens it again")
        check(wait_for(lambda: connections_to(listen, webkit()), "the dashboard again") is not None,
              "the reopened dashboard loads")

        # -- the other check items --
        nodes = item.nodes()
        sid, _ = find(nodes, "Start at login")
        entry = os.path.join(app.env["XDG_CONFIG_HOME"], "autostart", "switchboard.desktop")
        item.click(sid)
        check(wait_for(lambda: os.path.exists(entry), "the autostart entry") is not None,
              "Start at login writes $XDG_CONFIG_HOME/autostart/switchboard.desktop")
        item.click(sid)
        check(wait_for(lambda: not os.path.exists(entry), "the autostart entry to go") is not None,
              "clicking it again removes the entry")
        aid2, _ = find(nodes, "Switch automatically")
        item.click(aid2)
        check(wait_for(lambda: api_status(listen)["auto_switch"] is True, "auto_switch on") is not None,
              "Switch automatically turns auto_switch on (GET /api/status)")
        check(wait_for(lambda: "auto_switch = true" in open(config).read(), "config auto_switch") is not None,
              "and writes auto_switch = true to the config file")
        lid, lprops = find(nodes, "Learn from my Claude Code")
        check(lprops is not None and int(lprops.get("toggle-state", -1)) == 0,
              "Learn from my Claude Code and Codex errors is off by default")
        item.click(lid)
        check(wait_for(lambda: api_status(listen).get("passive", {}).get("claude_code") is True,
                       "passive on") is not None,
              "clicking it turns [passive] on (GET /api/status)")
        check(wait_for(lambda: "claude_code = true" in open(config).read(), "config passive") is not None,
              "and writes [passive] claude_code = true to the config file")
        pid_, _ = find(nodes, "For 1 hour")
        item.click(pid_)
        paused = wait_for(lambda: find(item.nodes(), "Resume (paused until")[0], "the pause label", timeout=5)
        if paused is None:
            log(f"labels now: {[label(p) for _, p, _, _ in item.nodes() if p.get('label')]}")
        check(paused is not None, "Pause notifications > For 1 hour shows 'Resume (paused until …)'")
        _, rprops = find(item.nodes(), "Resume")
        check(rprops is not None and rprops.get("enabled", True) not in (False, 0), "Resume is enabled while paused")

        # Two outages came and went with [notifications] enabled = false.
        calls = notifications.calls()
        check(calls == [], f"no notification while they are switched off ({[c['summary'] for c in calls]})")

        # -- Quit --
        qid, _ = find(item.nodes(), "Quit")
        item.click(qid)
        try:
            code = app.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            code = None
        check(code == 0, f"Quit exits 0 (got {code})")
    finally:
        app.stop()
        notifications.stop()
        fakes.shutdown()
        session.close()
        app.cleanup()
    finish("test_tray")


if __name__ == "__main__":
    main()
