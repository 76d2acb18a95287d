#!/usr/bin/env python3
"""End-to-end test of switchboard-desktop's tray, over D-Bus.

Run it inside a private session bus and an X server (tests/desktop/run.sh does:
`xvfb-run -a scripts/with-secret-service.sh python3 tests/desktop/test_tray.py`).

1. Owns org.kde.StatusNotifierWatcher on the session bus, so the app's
   libayatana tray registers its StatusNotifierItem with us.
2. Starts fake Anthropic / OpenAI APIs and status pages on 127.0.0.1.
3. Launches the app with a temp HOME/XDG dirs and a config pointing at the fakes.
4. Reads the item's icon (IconName is the path of the PNG tray-icon wrote) and
   checks its dominant colour: green, red while Anthropic answers 500
   api_error, green after recovery.
5. Reads the com.canonical.dbusmenu layout, clicks "OpenAI" under "Preferred
   provider" (Event "clicked"), and checks the config file, GET /api/status and
   the icon follow.
6. Opens the dashboard (a WebKitWebProcess appears), launches a second instance
   (it exits, the first keeps one window), then "Quit": exit code 0.

Only the Python standard library, python3-dbus and python3-gi (Debian).
"""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/switchboard-target"))
BINARY = os.environ.get("SWITCHBOARD_DESKTOP_BIN", os.path.join(TARGET, "release", "switchboard-desktop"))
LIVE_TIMEOUT = float(os.environ.get("SWITCHBOARD_DESKTOP_TIMEOUT", "30"))

failures = []


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def check(cond, what):
    if cond:
        log(f"ok   {what}")
    else:
        log(f"FAIL {what}")
        failures.append(what)
    return cond


def wait_for(pred, what, timeout=LIVE_TIMEOUT, interval=0.25):
    """Polls pred() until it returns a truthy value; returns it (or None after timeout)."""
    end = time.monotonic() + timeout
    last_err = None
    while time.monotonic() < end:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - the D-Bus peer may not be there yet
            last_err = e
        time.sleep(interval)
    log(f"timed out waiting for {what}" + (f" (last error: {last_err})" if last_err else ""))
    return None


# ---- fakes -------------------------------------------------------------------

class Fakes:
    anthropic_failing = False


def component(cid, name, pos):
    return {"id": cid, "name": name, "status": "operational", "position": pos,
            "created_at": "2023-07-11T17:50:33.000Z", "updated_at": "2026-11-24T09:58:12.104Z",
            "description": None, "showcase": False, "start_date": None, "group_id": None,
            "page_id": "p", "group": False, "only_show_if_degraded": False}


def page(name, comps):
    return {"page": {"id": "p", "name": name, "url": "https://status.example", "time_zone": "Etc/UTC",
                     "updated_at": "2026-11-24T09:58:12.104Z"},
            "components": comps, "incidents": [], "scheduled_maintenances": [],
            "status": {"indicator": "none", "description": "All Systems Operational"}}


CLAUDE_PAGE = page("Claude", [component("k8w3r06qmzrp", "Claude API (api.anthropic.com)", 1)])
OPENAI_PAGE = page("OpenAI", [component("01JMXBRMFE6N2NNT7DG6XZQ6PW", "Chat Completions", 1),
                              component("01JP8CD9JR3HR6Y7G4Q75N4DVW", "Responses", 2)])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/anthropic/v1/models":
            rid = "req_011DESKTOP%016d" % int(time.time() * 1000)
            if Fakes.anthropic_failing:
                return self.send(500, {"type": "error", "error": {"type": "api_error",
                                                                  "message": "Internal server error"},
                                       "request_id": rid}, [("request-id", rid)])
            return self.send(200, {"data": [{"type": "model", "id": "claude-sonnet-4-5-20250929",
                                             "display_name": "Claude Sonnet 4.5",
                                             "created_at": "2025-09-29T00:00:00Z"}],
                                   "has_more": False, "first_id": "claude-sonnet-4-5-20250929",
                                   "last_id": "claude-sonnet-4-5-20250929"}, [("request-id", rid)])
        if path == "/openai/v1/models":
            if not (self.headers.get("authorization") or "").startswith("Bearer "):
                return self.send(401, {"error": {"message": "no key", "type": "invalid_request_error"}})
            return self.send(200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model",
                                                                "created": 1721172741, "owned_by": "system"}]})
        if path == "/claude/api/v2/summary.json":
            return self.send(200, CLAUDE_PAGE)
        if path == "/openai/api/v2/summary.json":
            return self.send(200, OPENAI_PAGE)
        self.send(404, {"error": "not found in the fake"})


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- StatusNotifierWatcher ---------------------------------------------------

WATCHER = "org.kde.StatusNotifierWatcher"


class Watcher(dbus.service.Object):
    def __init__(self, bus):
        self.items = []  # (sender, service-or-path)
        super().__init__(bus, "/StatusNotifierWatcher")

    @dbus.service.method(WATCHER, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        log(f"watcher: RegisterStatusNotifierItem({service}) from {sender}")
        self.items.append((str(sender), str(service)))
        self.StatusNotifierItemRegistered(f"{sender}{service}" if service.startswith("/") else service)

    @dbus.service.method(WATCHER, in_signature="s", out_signature="")
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.signal(WATCHER, signature="s")
    def StatusNotifierItemRegistered(self, service):
        pass

    @dbus.service.signal(WATCHER, signature="")
    def StatusNotifierHostRegistered(self):
        pass

    def props(self):
        return {"RegisteredStatusNotifierItems": dbus.Array([s + p for s, p in self.items], signature="s"),
                "IsStatusNotifierHostRegistered": dbus.Boolean(True),
                "ProtocolVersion": dbus.Int32(0)}

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        return self.props()[prop]

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return self.props()


# ---- PNG ---------------------------------------------------------------------

def decode_png(data):
    """8-bit RGB/RGBA, non-interlaced PNG -> (w, h, list of (r, g, b, a))."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        (n,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
        elif kind == b"IDAT":
            idat += body
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    pixels = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(w):
            px = line[x * bpp:(x + 1) * bpp]
            pixels.append(tuple(px) if bpp == 4 else tuple(px) + (255,))
        prev = line
    return w, h, pixels


def colour_name(r, g, b):
    if r > 150 and g > 100 and b < 90 and r - g < 110 and g > b + 40:
        return "amber"
    if r > g + 50 and r > b + 50:
        return "red"
    if g > r + 40 and g > b + 20:
        return "green"
    if abs(r - g) < 30 and abs(g - b) < 30:
        return "grey"
    return "other"


def dominant(pixels):
    counts = {}
    for r, g, b, a in pixels:
        if a < 128:
            continue
        n = colour_name(r, g, b)
        counts[n] = counts.get(n, 0) + 1
    ranked = sorted(((v, k) for k, v in counts.items() if k != "other"), reverse=True)
    return (ranked[0][1] if ranked else "none"), counts


# ---- the tray item -----------------------------------------------------------

class Item:
    def __init__(self, bus, name, path):
        self.bus, self.name, self.path = bus, name, path
        self.obj = bus.get_object(name, path)

    def prop(self, p):
        return self.obj.Get("org.kde.StatusNotifierItem", p, dbus_interface=dbus.PROPERTIES_IFACE)

    def icon_png(self):
        name = str(self.prop("IconName"))
        if not os.path.isabs(name):
            theme = str(self.prop("IconThemePath"))
            name = os.path.join(theme, name + ".png")
        with open(name, "rb") as f:
            return name, f.read()

    def colour(self):
        path, data = self.icon_png()
        _, _, px = decode_png(data)
        return dominant(px)[0]

    def menu(self):
        return self.bus.get_object(self.name, str(self.prop("Menu")))

    def layout(self):
        _, tree = self.menu().GetLayout(0, -1, dbus.Array([], signature="s"),
                                        dbus_interface="com.canonical.dbusmenu")
        return tree

    def click(self, item_id):
        self.menu().Event(dbus.Int32(item_id), "clicked", dbus.Int32(0, variant_level=1),
                          dbus.UInt32(int(time.time())), dbus_interface="com.canonical.dbusmenu")


def flatten(tree, depth=0, parent=None):
    """(id, props, depth, parent label) for every node."""
    item_id, props, children = tree
    props = {str(k): v for k, v in props.items()}
    out = [(int(item_id), props, depth, parent)]
    for c in children:
        out += flatten(c, depth + 1, str(props.get("label", "")))
    return out


def find(nodes, label, parent=None):
    for item_id, props, _, par in nodes:
        lab = str(props.get("label", "")).replace("_", "")
        if label.lower() in lab.lower() and (parent is None or parent.lower() in (par or "").replace("_", "").lower()):
            return item_id, props
    return None, None


def api_status(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as r:
        return json.load(r)


def children_named(pid, name):
    out = subprocess.run(["ps", "-eo", "pid,ppid,comm"], capture_output=True, text=True).stdout.splitlines()[1:]
    rows = [line.split(None, 2) for line in out]
    kids, frontier = set(), {str(pid)}
    while frontier:
        nxt = {p for p, pp, _ in rows if pp in frontier and p not in kids}
        kids |= nxt
        frontier = nxt
    return [p for p, _, c in rows if p in kids and name in c]


def close_window(xid):
    """Asks window `xid` to close the way a window manager's close button does
    (a WM_DELETE_WINDOW client message), with Xlib through ctypes."""
    import ctypes
    import ctypes.util

    x = ctypes.CDLL(ctypes.util.find_library("X11"))
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XInternAtom.restype = ctypes.c_ulong
    x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    x.XFlush.argtypes = [ctypes.c_void_p]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                    ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("data", ctypes.c_long * 5), ("pad", ctypes.c_long * 12)]

    d = x.XOpenDisplay(None)
    ev = ClientMessage()
    ev.type = 33  # ClientMessage
    ev.window = int(xid)
    ev.message_type = x.XInternAtom(d, b"WM_PROTOCOLS", 0)
    ev.format = 32
    ev.data[0] = x.XInternAtom(d, b"WM_DELETE_WINDOW", 0)
    ev.data[1] = 0  # CurrentTime
    x.XSendEvent(d, int(xid), 0, 0, ctypes.byref(ev))
    x.XFlush(d)
    x.XCloseDisplay(d)


def connections_to(port, pids):
    """Established TCP connections to 127.0.0.1:port owned by one of `pids`."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"dst 127.0.0.1:{port}"],
                         capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if any(f"pid={p}," in line for p in pids)]


def find_windows():
    return subprocess.run(["xdotool", "search", "--name", "^Switchboard$"], capture_output=True,
                          text=True).stdout.split()


def main():
    if not os.path.exists(BINARY):
        sys.exit(f"no binary at {BINARY}: build it with `cargo build --release -p switchboard-desktop`")
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") or not os.environ.get("DISPLAY"):
        sys.exit("needs a private session bus and an X display (run tests/desktop/run.sh)")

    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    watcher = Watcher(bus)
    name = dbus.service.BusName(WATCHER, bus, do_not_queue=True)  # noqa: F841 - keeps the name
    loop = GLib.MainLoop()
    threading.Thread(target=loop.run, daemon=True).start()
    client = dbus.bus.BusConnection(os.environ["DBUS_SESSION_BUS_ADDRESS"])

    fakes = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=fakes.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{fakes.server_address[1]}"

    tmp = tempfile.mkdtemp(prefix="switchboard-desktop-test-")
    listen = free_port()
    config = os.path.join(tmp, "config", "config.toml")
    os.makedirs(os.path.dirname(config))
    with open(config, "w") as f:
        f.write(f"""# Written by tests/desktop: every peer is a fake on 127.0.0.1.
use_catalog = false
preferred = "anthropic"
fallback = ["anthropic", "openai"]
auto_switch = false

[check]
interval_secs = 2
confirm_secs = 1
timeout_secs = 5

[notifications]
enabled = false

[server]
listen = "127.0.0.1:{listen}"

[gateway]
enabled = false

[[providers]]
id = "anthropic"
kind = "anthropic"
name = "Claude API"
base_url = "{base}/anthropic"
status_page = "{base}/claude/api/v2/summary.json"
status_format = "statuspage"
components = ["k8w3r06qmzrp"]
api_key_env = "SWITCHBOARD_TEST_ANTHROPIC_KEY"

[[providers]]
id = "openai"
kind = "openai"
name = "OpenAI API"
base_url = "{base}/openai/v1"
status_page = "{base}/openai/api/v2/summary.json"
status_format = "statuspage"
components = ["Chat Completions", "Responses"]
api_key_env = "SWITCHBOARD_TEST_OPENAI_KEY"
""")
    env = dict(os.environ)
    for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[k] = os.path.join(tmp, k.lower())
    env.update({
        "HOME": os.path.join(tmp, "home"),
        "TMPDIR": tmp,
        "SWITCHBOARD_TEST_ANTHROPIC_KEY": "sk-ant-desktop-test",
        "SWITCHBOARD_TEST_OPENAI_KEY": "sk-desktop-test",
        "WEBKIT_DISABLE_COMPOSITING_MODE": "1",
        "WEBKIT_DISABLE_DMABUF_RENDERER": "1",
        "RUST_LOG": env.get("RUST_LOG", "switchboard=info,switchboard_desktop=debug,warn"),
    })
    env.pop("SWITCHBOARD_CONFIG", None)
    os.makedirs(env["HOME"])
    log_path = os.path.join(tmp, "app.log")
    log_file = open(log_path, "w")
    t0 = time.monotonic()
    app = subprocess.Popen([BINARY, "--config", config], env=env, stdout=log_file, stderr=subprocess.STDOUT)
    code = None
    try:
        reg = wait_for(lambda: watcher.items, "the tray to register with the watcher", timeout=30)
        if not check(bool(reg), "the tray registers a StatusNotifierItem"):
            raise SystemExit
        sender, where = watcher.items[0]
        item = Item(client, sender, where if where.startswith("/") else "/StatusNotifierItem")
        log(f"item {sender} {item.path} after {time.monotonic() - t0:.1f}s; "
            f"IconName={item.prop('IconName')} ThemePath={item.prop('IconThemePath')}")

        wait_for(lambda: api_status(listen)["providers"] and all(
            p["state"] == "operational" for p in api_status(listen)["providers"]), "both operational")
        check(wait_for(lambda: item.colour() == "green", "green icon") is not None,
              f"icon green while all is well (is {item.colour()})")
        nodes = flatten(item.layout())
        labels = [str(p.get("label", "")) for _, p, _, _ in nodes if p.get("label")]
        log(f"menu labels: {labels}")
        for want in ["Preferred provider", "Switch automatically when preferred fails", "Check now",
                     "Open dashboard", "Open status page", "Pause notifications", "Start at login", "Quit"]:
            check(find(nodes, want)[0] is not None, f"menu has {want!r}")
        hdr = nodes[1][1] if len(nodes) > 1 else {}
        check(hdr.get("enabled") in (False, 0), f"header {str(hdr.get('label'))!r} is disabled")
        oid, oprops = find(nodes, "OpenAI", parent="Preferred provider")
        aid, aprops = find(nodes, "Claude", parent="Preferred provider") if find(nodes, "Claude", parent="Preferred provider")[0] else find(nodes, "anthropic", parent="Preferred provider")
        check(oid is not None and aid is not None, "Preferred provider lists Claude and OpenAI")
        if aprops is not None:
            check(int(aprops.get("toggle-state", -1)) == 1, "Claude is checked")
            check(str(aprops.get("toggle-type", "")) == "checkmark", "provider items are check items")
        if oprops is not None:
            check(int(oprops.get("toggle-state", -1)) == 0, "OpenAI is unchecked")

        # -- outage and recovery --
        Fakes.anthropic_failing = True
        t = time.monotonic()
        ok = wait_for(lambda: item.colour() == "red", "red icon")
        check(ok is not None, f"icon turns red when Anthropic answers 500 api_error ({time.monotonic() - t:.1f}s)")
        hdr = wait_for(lambda: "outage" in str(flatten(item.layout())[1][1].get("label", "")), "header text")
        check(hdr is not None, f"the header follows: {str(flatten(item.layout())[1][1].get('label'))!r}")
        Fakes.anthropic_failing = False
        t = time.monotonic()
        ok = wait_for(lambda: item.colour() == "green", "green icon again")
        check(ok is not None, f"icon green again after recovery ({time.monotonic() - t:.1f}s)")

        # -- choose OpenAI in the menu while Anthropic fails --
        Fakes.anthropic_failing = True
        wait_for(lambda: item.colour() == "red", "red icon (second outage)")
        nodes = flatten(item.layout())
        oid, _ = find(nodes, "OpenAI", parent="Preferred provider")
        item.click(oid)
        check(wait_for(lambda: 'preferred = "openai"' in open(config).read(), "config preferred=openai") is not None,
              "clicking OpenAI writes preferred = \"openai\" to the config file")
        check(wait_for(lambda: api_status(listen)["preferred"] == "openai", "API preferred") is not None,
              "GET /api/status says preferred = openai")
        check(wait_for(lambda: item.colour() == "green", "icon green again") is not None,
              f"icon follows the healthy preferred provider (is {item.colour()})")
        nodes = flatten(item.layout())
        _, oprops = find(nodes, "OpenAI", parent="Preferred provider")
        check(oprops is not None and int(oprops.get("toggle-state", -1)) == 1, "OpenAI is checked in the menu")
        n_checked = sum(1 for _, p, _, par in nodes if par and "Preferred" in par and int(p.get("toggle-state", 0)) == 1)
        check(n_checked == 1, f"exactly one provider checked ({n_checked})")
        Fakes.anthropic_failing = False

        # -- dashboard window --
        check(not children_named(app.pid, "WebKitWeb"), "no web process before the dashboard opens")
        did, _ = find(nodes, "Open dashboard")
        item.click(did)
        web = wait_for(lambda: children_named(app.pid, "WebKitWebProces"), "a WebKitWebProcess", timeout=30)
        check(bool(web), f"Open dashboard starts a web process ({web})")
        win = wait_for(lambda: subprocess.run(["xdotool", "search", "--name", "^Switchboard$"],
                                              capture_output=True, text=True).stdout.split(), "the window")
        check(bool(win), f"a window named Switchboard exists ({win})")

        # A second launch hands over to the first and exits.
        second = subprocess.run([BINARY, "--config", config], env=env, capture_output=True, timeout=30)
        check(second.returncode == 0, f"a second instance exits 0 (got {second.returncode})")
        check(app.poll() is None, "the first instance keeps running")
        time.sleep(1)
        wins = subprocess.run(["xdotool", "search", "--name", "^Switchboard$"], capture_output=True,
                              text=True).stdout.split()
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
        time.sleep(1)
        check(app.poll() is None, "the app keeps running with no window")
        item.click(did)
        check(wait_for(find_windows, "the window again") is not None, "Open dashboard after a close opens it again")
        check(wait_for(lambda: connections_to(listen, webkit()), "the dashboard again") is not None,
              "the reopened dashboard loads")

        # -- the other check items --
        nodes = flatten(item.layout())
        sid, _ = find(nodes, "Start at login")
        entry = os.path.join(env["XDG_CONFIG_HOME"], "autostart", "switchboard.desktop")
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
        pid_, _ = find(nodes, "For 1 hour")
        item.click(pid_)
        paused = wait_for(lambda: find(flatten(item.layout()), "Resume (paused until")[0],
                          "the pause label", timeout=5)
        if paused is None:
            log(f"labels now: {[str(p.get('label')) for _, p, _, _ in flatten(item.layout()) if p.get('label')]}")
        check(paused is not None, "Pause notifications > For 1 hour shows 'Resume (paused until …)'")
        _, rprops = find(flatten(item.layout()), "Resume")
        check(rprops is not None and rprops.get("enabled", True) not in (False, 0), "Resume is enabled while paused")

        # -- Quit --
        qid, _ = find(flatten(item.layout()), "Quit")
        item.click(qid)
        try:
            code = app.wait(timeout=15)
        except subprocess.TimeoutExpired:
            code = None
        check(code == 0, f"Quit exits 0 (got {code})")
    finally:
        if app.poll() is None:
            app.send_signal(signal.SIGTERM)
            try:
                app.wait(timeout=10)
            except subprocess.TimeoutExpired:
                app.kill()
        log_file.close()
        fakes.shutdown()
        loop.quit()
        if failures or os.environ.get("SWITCHBOARD_DESKTOP_SHOW_LOG"):
            print("---- app log ----")
            print(open(log_path).read()[-6000:])
        if failures:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        log(f"{len(failures)} check(s) failed: {failures}")
        sys.exit(1)
    log("all desktop checks passed")


if __name__ == "__main__":
    main()
