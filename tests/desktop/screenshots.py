#!/usr/bin/env python3
"""Takes the README's desktop screenshots from the real app on a real (small)
desktop under Xvfb: run it through tests/desktop/screenshots.sh.

- Panel: tint2 at the bottom, with an XEmbed system tray and a clock. No StatusNotifierWatcher
  is on the bus, so libayatana-appindicator shows the app's own GtkMenu
  through its XEmbed fallback (GtkStatusIcon): the menu in the picture is the
  app's GTK menu, drawn by GTK, as an XEmbed tray shows it.
- Notifications: notification-daemon (GNOME's freedesktop notification server),
  showing what switchboard-desktop itself sends over D-Bus.
- Providers: the fakes of desktoplib on 127.0.0.1. Claude API starts failing
  with HTTP 500 api_error; the outage notice is captured, then, once the
  outage is a minute old, the tray menu with "Preferred provider" open.

Pictures are read from the X server (GdkPixbuf from the root window) and
cropped around the windows that matter. Writes
docs/screenshots/notification-outage.png and docs/screenshots/tray-menu.png
(or into the directory given as the first argument).
"""

import os
import shutil
import subprocess
import sys
import time
from datetime import datetime

import dbus
import gi

gi.require_version("Gdk", "3.0")
from gi.repository import Gdk  # noqa: E402

from desktoplib import (NOTIFICATIONS, NOTIFICATIONS_PATH, ROOT, App, World, config_text, free_port,  # noqa: E402
                        log, provider, serve_fakes, wait_for)

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "screenshots")
PANEL_HEIGHT = 32
WALLPAPER = ("#41607f", "#1c2a38")

TINT2RC = f"""# tint2 panel for Switchboard's screenshots: spacer, system tray, clock.
rounded = 0
border_width = 0
background_color = #20262e 100
border_color = #000000 0

rounded = 0
border_width = 0
background_color = #000000 0
border_color = #000000 0

panel_items = FSC
panel_size = 100% {PANEL_HEIGHT}
panel_margin = 0 0
panel_padding = 8 0 8
panel_background_id = 1
panel_position = bottom center horizontal
panel_layer = top
panel_dock = 0
wm_menu = 0
strut_policy = follow_size
disable_transparency = 1

systray_padding = 6 0 8
systray_background_id = 2
systray_sort = ascending
systray_icon_size = 22
systray_icon_asb = 100 0 0
systray_monitor = 1

time1_format = %a %d %b  %H:%M
time1_font = DejaVu Sans Bold 10
clock_font_color = #eef1f5 100
clock_padding = 6 0
clock_background_id = 2
"""

WALLPAPER_PY = f"""
import gi
gi.require_version("Gtk", "3.0")
from gi.repository import Gtk, Gdk
css = Gtk.CssProvider()
css.load_from_data(b"window {{ background-image: linear-gradient(160deg, {WALLPAPER[0]}, {WALLPAPER[1]}); }}")
Gtk.StyleContext.add_provider_for_screen(Gdk.Screen.get_default(), css, Gtk.STYLE_PROVIDER_PRIORITY_USER)
w = Gtk.Window(title="wallpaper")
w.set_type_hint(Gdk.WindowTypeHint.DESKTOP)
w.set_decorated(False)
g = Gdk.Display.get_default().get_monitor(0).get_geometry()
w.set_default_size(g.width, g.height)
w.move(0, 0)
w.show_all()
Gtk.main()
"""


def xdotool(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True).stdout


def windows(classname, min_size=20):
    """Visible windows whose WM_CLASS instance matches `classname` (a regex),
    larger than `min_size` (GTK's hidden helper windows are not)."""
    found = xdotool("search", "--onlyvisible", "--classname", classname).split()
    return [w for w in found if min(geometry(w)[2:]) > min_size]


def geometry(wid):
    """(x, y, w, h) of a window on the screen."""
    out = subprocess.run(["xwininfo", "-id", str(wid)], capture_output=True, text=True).stdout
    v = {}
    for line in out.splitlines():
        line = line.strip()
        for key, name in (("Absolute upper-left X:", "x"), ("Absolute upper-left Y:", "y"),
                          ("Width:", "w"), ("Height:", "h")):
            if line.startswith(key):
                v[name] = int(line.split(":")[1])
    return v["x"], v["y"], v["w"], v["h"]


def union(boxes, margin, screen):
    x0 = max(0, min(b[0] for b in boxes) - margin)
    y0 = max(0, min(b[1] for b in boxes) - margin)
    x1 = min(screen[0], max(b[0] + b[2] for b in boxes) + margin)
    y1 = min(screen[1], max(b[1] + b[3] for b in boxes) + margin)
    return x0, y0, x1 - x0, y1 - y0


def grab(box, path):
    Gdk.Display.get_default().sync()
    root = Gdk.get_default_root_window()
    pix = Gdk.pixbuf_get_from_window(root, *box)
    pix.savev(path, "png", [], [])
    log(f"wrote {path} ({box[2]}x{box[3]})")


def main():
    Gdk.init([])
    geo = Gdk.Display.get_default().get_monitor(0).get_geometry()
    size = (geo.width, geo.height)
    os.makedirs(OUT, exist_ok=True)
    world = World()
    world.request_id = "req_011CSHoEeqs5C35K2UUqR7Fy"
    fakes, base = serve_fakes(world)
    listen = free_port()
    app = App("screenshots", config_text(base, listen, interval=2, notifications=True,
                                         header="# tests/desktop/screenshots.py"))
    rc = os.path.join(app.tmp, "tint2rc")
    with open(rc, "w") as f:
        f.write(TINT2RC)
    helpers = [subprocess.Popen([sys.executable, "-c", WALLPAPER_PY], stderr=subprocess.DEVNULL)]
    helpers.append(subprocess.Popen(["tint2", "-c", rc], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    # With no window manager tint2 waits about 15 s for one before it shows the panel.
    if not wait_for(lambda: windows("^tint2$"), "the tint2 panel", timeout=40):
        raise SystemExit("tint2 showed no panel")
    daemon = subprocess.Popen(["/usr/lib/notification-daemon/notification-daemon", "--replace"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    helpers.append(daemon)
    time.sleep(1)
    app.start()
    menu_class = "^" + os.path.basename(app.binary) + "$"  # GTK names windows after the program
    ok = False
    try:
        icon = wait_for(lambda: windows("^tray-icon tray app", min_size=8), "the tray icon in the panel")
        if not icon:
            raise SystemExit("the tray icon did not appear in tint2's tray")
        wait_for(lambda: provider(listen, "anthropic")["state"] == "operational", "operational")

        # The outage notice, as notification-daemon shows it.
        world.anthropic = "500"
        bubble = wait_for(lambda: windows("^notification-daemon$", min_size=60), "the notification bubble")
        if not bubble:
            raise SystemExit("no notification appeared")
        time.sleep(1.5)  # laid out and faded in
        boxes = [geometry(w) for w in windows("^notification-daemon$", min_size=60)]
        log(f"notification windows: {boxes}")
        grab(union(boxes, 24, size), os.path.join(OUT, "notification-outage.png"))
        bus = dbus.bus.BusConnection(os.environ["DBUS_SESSION_BUS_ADDRESS"])
        bus.get_object(NOTIFICATIONS, NOTIFICATIONS_PATH).CloseNotification(
            dbus.UInt32(1), dbus_interface=NOTIFICATIONS)
        wait_for(lambda: not windows("^notification-daemon$"), "the bubble to close", timeout=10)

        # The menu once the outage has lasted a minute ("… for 1 min").
        wait_for(lambda: (provider(listen, "anthropic").get("since") and
                          time.time() - since_epoch(provider(listen, "anthropic")["since"]) > 62),
                 "a minute of outage", timeout=90, interval=1)
        time.sleep(3)  # the menu follows every round (2 s)
        icon_box = geometry(icon[0])
        cx, cy = icon_box[0] + icon_box[2] // 2, icon_box[1] + icon_box[3] // 2
        xdotool("mousemove", str(cx), str(cy), "click", "1")
        menus = wait_for(lambda: windows(menu_class), "the menu")
        if not menus:
            raise SystemExit("the tray menu did not open")
        time.sleep(0.5)
        xdotool("key", "Down")
        time.sleep(0.3)
        xdotool("key", "Right")
        opened = wait_for(lambda: (lambda m: m if len(m) >= 2 else None)(windows(menu_class)), "the submenu",
                          timeout=5)
        time.sleep(0.8)
        menus = opened or menus
        boxes = [geometry(w) for w in menus] + [icon_box]
        box = union(boxes, 16, size)
        # From the menus down to the panel at the bottom, and right to the clock.
        box = (box[0], box[1], size[0] - box[0], size[1] - box[1])
        grab(box, os.path.join(OUT, "tray-menu.png"))
        xdotool("key", "Escape")
        xdotool("key", "Escape")
        ok = True
    finally:
        app.stop()
        for h in helpers:
            h.terminate()
        fakes.shutdown()
        if not ok:
            print(app.log_text()[-4000:])
        shutil.rmtree(app.tmp, ignore_errors=True)


def since_epoch(rfc3339):
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    main()
