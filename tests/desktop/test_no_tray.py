#!/usr/bin/env python3
"""switchboard-desktop on a desktop that shows no tray icons (stock GNOME
without the AppIndicator extension, a bare window manager).

Run by tests/desktop/suite.sh inside xvfb-run and a private session bus. Here
nobody owns org.kde.StatusNotifierWatcher and no panel owns the XEmbed tray
selection, so the icon could not be seen anywhere.

1. The dashboard window opens at start by itself (with a tray host it does not:
   test_tray checks that no web process runs before "Open dashboard"), and the
   log says why. The window loads the dashboard with `?tray=no-host`, whose
   banner (how to get a tray on this desktop) tests/e2e checks in a browser.
2. Notifications keep working: an outage raises "Claude API: outage" on
   dbusmock's notification server.
3. Closing the window leaves the app running; launching it again (what the
   applications menu does) opens the window again (single instance).
4. SIGTERM ends it cleanly.

SWITCHBOARD_NO_TRAY_SHOT=path.png also saves a screenshot of the window.
Shared pieces: tests/desktop/desktoplib.py.
"""

import os
import subprocess
import time

import dbus

from desktoplib import (WATCHER, App, NotificationServer, World, check, close_window, config_text, find_windows,
                        finish, free_port, log, need_session, serve_fakes, wait_for)


def screenshot(path):
    import gi

    gi.require_version("Gdk", "3.0")
    from gi.repository import Gdk

    Gdk.init([])
    Gdk.Display.get_default().sync()
    root = Gdk.get_default_root_window()
    pix = Gdk.pixbuf_get_from_window(root, 0, 0, root.get_width(), root.get_height())
    pix.savev(path, "png", [], [])
    log(f"wrote {path}")


def main():
    need_session()
    client = dbus.bus.BusConnection(os.environ["DBUS_SESSION_BUS_ADDRESS"])
    if not check(not client.name_has_owner(WATCHER), "nobody owns the StatusNotifierWatcher in this test"):
        finish("test_no_tray")
    world = World()
    fakes, base = serve_fakes(world)
    listen = free_port()
    app = App("no-tray", config_text(base, listen, interval=1, confirm=1, notifications=True))
    server = NotificationServer(client, os.path.join(app.tmp, "dbusmock.log"))
    app.start()
    try:
        wins = wait_for(find_windows, "the dashboard window", timeout=60)
        check(bool(wins), f"with no tray host the dashboard window opens at start "
                          f"({time.monotonic() - app.started:.1f}s)")
        check("no tray host" in app.log_text(), "the log says why the window opened")
        shot = os.environ.get("SWITCHBOARD_NO_TRAY_SHOT")
        if shot and wins:
            time.sleep(10)  # the page's first paint and first report (slow under Xvfb)
            screenshot(shot)

        world.anthropic = "500"
        calls = wait_for(lambda: "Claude API: outage" in server.summaries(), "the outage notice", timeout=60)
        check(calls, f"notifications work without a tray ({server.summaries()})")
        world.anthropic = "ok"

        close_window(wins[0] if wins else 0)
        check(wait_for(lambda: not find_windows(), "the window to close") is not None, "the window closes")
        time.sleep(1)
        check(app.running(), "closing the window does not end the app")

        # The applications menu starts it again: the running one shows its window.
        again = subprocess.run([app.binary, "--config", app.config], env=app.env, timeout=60,
                               capture_output=True)
        check(again.returncode == 0, f"a second launch hands over and exits 0 ({again.returncode})")
        check(wait_for(find_windows, "the window again", timeout=30) is not None,
              "the second launch reopens the dashboard")
    finally:
        code = app.stop()
        check(code == 0, f"SIGTERM ends the app with 0 (got {code})")
        server.stop()
        fakes.shutdown()
        app.cleanup()
    finish("test_no_tray")


if __name__ == "__main__":
    main()
