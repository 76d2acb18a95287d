"""Shared by the desktop tests (tests/desktop/test_*.py), the screenshot script
and bench/desktop_memory.sh: the pieces of a fake desktop session on a private
D-Bus session bus, and the fake providers the app watches.

- `Watcher`: owns org.kde.StatusNotifierWatcher, so libayatana's tray item
  registers with us (as with a real panel), and records when.
- `Item`: the registered StatusNotifierItem: its icon (the PNG tray-icon wrote,
  decoded here) and its com.canonical.dbusmenu menu (layout, clicks).
- `NotificationServer`: python3-dbusmock's `notification_daemon` template,
  owning org.freedesktop.Notifications; `calls()` reads every Notify call.
- `World` / `serve_fakes`: fake Anthropic and OpenAI APIs and their
  Statuspage summaries on 127.0.0.1, with switches the tests flip (500s, a
  status page flapping on every poll, the whole network down, a key check).
- `App`: switchboard-desktop in a throwaway HOME/XDG tree, its output in a log.

Only the Python standard library, python3-dbus, python3-gi and python3-dbusmock
(Debian packages; `make setup` installs them).
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


def finish(name):
    """Prints the verdict of a test file and exits with its status."""
    if failures:
        log(f"{name}: {len(failures)} check(s) failed: {failures}")
        sys.exit(1)
    log(f"{name}: all checks passed")


def need_session():
    if not os.path.exists(BINARY):
        sys.exit(f"no binary at {BINARY}: build it with `make build` "
                 "and set SWITCHBOARD_DESKTOP_BIN")
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") or not os.environ.get("DISPLAY"):
        sys.exit("needs a private session bus and an X display (run tests/desktop/run.sh)")


# ---- fakes -------------------------------------------------------------------

ERROR_500 = {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}
ERROR_401 = {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
MODELS_ANTHROPIC = {"data": [{"type": "model", "id": "claude-sonnet-4-5-20250929",
                              "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"}],
                    "has_more": False, "first_id": "claude-sonnet-4-5-20250929",
                    "last_id": "claude-sonnet-4-5-20250929"}
MODELS_OPENAI = {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model",
                                             "created": 1721172741, "owned_by": "system"}]}


def component(cid, name, pos, status="operational"):
    return {"id": cid, "name": name, "status": status, "position": pos,
            "created_at": "2023-07-11T17:50:33.000Z", "updated_at": "2026-11-24T09:58:12.104Z",
            "description": None, "showcase": False, "start_date": None, "group_id": None,
            "page_id": "p", "group": False, "only_show_if_degraded": False}


def page(name, comps, indicator="none", description="All Systems Operational"):
    return {"page": {"id": "p", "name": name, "url": "https://status.example", "time_zone": "Etc/UTC",
                     "updated_at": "2026-11-24T09:58:12.104Z"},
            "components": comps, "incidents": [], "scheduled_maintenances": [],
            "status": {"indicator": indicator, "description": description}}


def claude_page(elevated=False):
    status = "degraded_performance" if elevated else "operational"
    comps = [component("k8w3r06qmzrp", "Claude API (api.anthropic.com)", 1, status)]
    if elevated:
        return page("Claude", comps, "minor", "Elevated Error Rates")
    return page("Claude", comps)


OPENAI_PAGE = page("OpenAI", [component("01JMXBRMFE6N2NNT7DG6XZQ6PW", "Chat Completions", 1),
                              component("01JP8CD9JR3HR6Y7G4Q75N4DVW", "Responses", 2)])


class World:
    """What the fakes answer; the tests flip the fields.

    anthropic: "ok" or "500" (api_error with a request id).
    anthropic_key: when set, /anthropic answers 401 authentication_error to any
        other x-api-key.
    claude_page: "green", or "flap" (green and "Elevated Error Rates" in turn on
        every request).
    network_down: every connection is reset before an answer (no HTTP
        response at all): the user's own network is down.
    requests: (monotonic time, path, headers) of every request.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.anthropic = "ok"
        self.anthropic_key = None
        self.claude_page = "green"
        self.network_down = False
        self.requests = []
        self.claude_polls = 0
        self.request_id = None  # None: a new one per answer

    def probes(self, prefix):
        """(time, headers) of the API probes under `prefix` ("/anthropic", "/openai")."""
        with self.lock:
            return [(t, h) for t, p, h in self.requests if p.startswith(prefix + "/")]

    def page_polls(self):
        with self.lock:
            return self.claude_polls


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

    def reset(self):
        """Drops the connection with a RST and no answer, as a dead network does."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def do_GET(self):
        w = self.server.world
        path = self.path.split("?")[0]
        with w.lock:
            w.requests.append((time.monotonic(), path, {k.lower(): v for k, v in self.headers.items()}))
            down = w.network_down
        if down:
            return self.reset()
        if path == "/anthropic/v1/models":
            rid = w.request_id or "req_011DESKTOP%016d" % int(time.time() * 1000)
            key = self.headers.get("x-api-key")
            if w.anthropic_key is not None and key != w.anthropic_key:
                return self.send(401, ERROR_401, [("request-id", rid)])
            if w.anthropic == "500":
                return self.send(500, dict(ERROR_500, request_id=rid), [("request-id", rid)])
            return self.send(200, MODELS_ANTHROPIC, [("request-id", rid)])
        if path == "/openai/v1/models":
            if not (self.headers.get("authorization") or "").startswith("Bearer "):
                return self.send(401, {"error": {"message": "no key", "type": "invalid_request_error"}})
            return self.send(200, MODELS_OPENAI)
        if path == "/claude/api/v2/summary.json":
            with w.lock:
                n = w.claude_polls
                w.claude_polls += 1
            return self.send(200, claude_page(elevated=w.claude_page == "flap" and n % 2 == 1))
        if path == "/openai/api/v2/summary.json":
            return self.send(200, OPENAI_PAGE)
        self.send(404, {"error": "not found in the fake"})


def serve_fakes(world):
    """Starts the fakes on a free port; returns (server, base URL)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.world = world
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config_text(base, listen, *, interval=2, confirm=1, notifications=False, anthropic_env=True,
                header="# Written by tests/desktop: every peer is a fake on 127.0.0.1."):
    """A config with Claude API (preferred) and OpenAI API on the fakes at `base`."""
    env_line = 'api_key_env = "SWITCHBOARD_TEST_ANTHROPIC_KEY"' if anthropic_env else \
        'api_key_env = "SWITCHBOARD_TEST_NO_SUCH_KEY"'
    return f"""{header}
use_catalog = false
preferred = "anthropic"
fallback = ["anthropic", "openai"]
auto_switch = false

[check]
interval_secs = {interval}
confirm_secs = {confirm}
timeout_secs = 5

[notifications]
enabled = {"true" if notifications else "false"}

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
{env_line}

[[providers]]
id = "openai"
kind = "openai"
name = "OpenAI API"
base_url = "{base}/openai/v1"
status_page = "{base}/openai/api/v2/summary.json"
status_format = "statuspage"
components = ["Chat Completions", "Responses"]
api_key_env = "SWITCHBOARD_TEST_OPENAI_KEY"
"""


# ---- the session bus ---------------------------------------------------------

WATCHER = "org.kde.StatusNotifierWatcher"


class Watcher(dbus.service.Object):
    def __init__(self, bus):
        self.items = []  # (sender, service-or-path)
        self.registered_at = []  # time.monotonic() of each registration
        super().__init__(bus, "/StatusNotifierWatcher")

    @dbus.service.method(WATCHER, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        self.registered_at.append(time.monotonic())
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

    def item(self, client, index=-1):
        sender, where = self.items[index]
        return Item(client, sender, where if where.startswith("/") else "/StatusNotifierItem")


class Session:
    """The test's side of the session bus: the watcher (served from a GLib main
    loop thread) and a second connection for the test's own calls."""

    def __init__(self):
        DBusGMainLoop(set_as_default=True)
        self.bus = dbus.SessionBus()
        self.watcher = Watcher(self.bus)
        self._name = dbus.service.BusName(WATCHER, self.bus, do_not_queue=True)
        self.loop = GLib.MainLoop()
        threading.Thread(target=self.loop.run, daemon=True).start()
        self.client = dbus.bus.BusConnection(os.environ["DBUS_SESSION_BUS_ADDRESS"])

    def wait_item(self, count=1, timeout=30):
        """The tray item once `count` registrations have been seen, else None."""
        if not wait_for(lambda: len(self.watcher.items) >= count, "the tray to register", timeout=timeout):
            return None
        return self.watcher.item(self.client)

    def close(self):
        self.loop.quit()


# ---- notifications -----------------------------------------------------------

NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
MOCK = "org.freedesktop.DBus.Mock"


def plain(value):
    """dbus-python values as plain Python values."""
    if isinstance(value, dbus.Dictionary):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (dbus.Array, dbus.Struct, list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dbus.String):
        return str(value)
    if isinstance(value, dbus.Boolean):
        return bool(value)
    if isinstance(value, (dbus.Byte, dbus.Int16, dbus.UInt16, dbus.Int32, dbus.UInt32, dbus.Int64, dbus.UInt64)):
        return int(value)
    if isinstance(value, dbus.Double):
        return float(value)
    return value


class NotificationServer:
    """python3-dbusmock's notification_daemon on the session bus."""

    def __init__(self, client, log_path):
        self.client = client
        self.log_path = log_path
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dbusmock", "--session", "-t", "notification_daemon"],
            stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
        if not wait_for(lambda: client.name_has_owner(NOTIFICATIONS), "dbusmock's notification server",
                        timeout=15, interval=0.05):
            raise SystemExit(f"the fake notification server did not start: {open(log_path).read()}")

    def calls(self):
        """Every Notify call so far: dicts with app, replaces_id, icon, summary,
        body, actions, hints, timeout, and id (what the template returned)."""
        mock = self.client.get_object(NOTIFICATIONS, NOTIFICATIONS_PATH)
        out, next_id = [], 1
        for _stamp, args in mock.GetMethodCalls("Notify", dbus_interface=MOCK):
            app, replaces_id, icon, summary, body, actions, hints, timeout = plain(args)
            if replaces_id:
                nid = replaces_id
            else:
                nid, next_id = next_id, next_id + 1
            out.append({"id": nid, "app": app, "replaces_id": replaces_id, "icon": icon, "summary": summary,
                        "body": body, "actions": actions, "hints": hints, "timeout": timeout})
        return out

    def summaries(self):
        return [c["summary"] for c in self.calls()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


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
    if b > g + 60 and r > g + 40:
        return "purple"
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
    # White is the mark drawn on the disc, not the disc's colour.
    ranked = sorted(((v, k) for k, v in counts.items() if k != "other"), reverse=True)
    return (ranked[0][1] if ranked else "none"), counts


# ---- the tray item -----------------------------------------------------------

class Item:
    def __init__(self, bus, name, path):
        self.bus, self.name, self.path = bus, name, path
        self.obj = bus.get_object(name, path)

    def prop(self, p):
        return self.obj.Get("org.kde.StatusNotifierItem", p, dbus_interface=dbus.PROPERTIES_IFACE)

    def icon_path(self):
        name = str(self.prop("IconName"))
        if not os.path.isabs(name):
            theme = str(self.prop("IconThemePath"))
            name = os.path.join(theme, name + ".png")
        return name

    def icon_png(self):
        name = self.icon_path()
        with open(name, "rb") as f:
            return name, f.read()

    def colour(self):
        _, data = self.icon_png()
        _, _, px = decode_png(data)
        return dominant(px)[0]

    def menu(self):
        return self.bus.get_object(self.name, str(self.prop("Menu")))

    def layout(self):
        _, tree = self.menu().GetLayout(0, -1, dbus.Array([], signature="s"),
                                        dbus_interface="com.canonical.dbusmenu")
        return tree

    def nodes(self):
        return flatten(self.layout())

    def header(self):
        """The menu's first item: the preferred provider's state in words."""
        nodes = self.nodes()
        return label(nodes[1][1]) if len(nodes) > 1 else ""

    def click(self, item_id):
        self.menu().Event(dbus.Int32(item_id), "clicked", dbus.Int32(0, variant_level=1),
                          dbus.UInt32(int(time.time())), dbus_interface="com.canonical.dbusmenu")

    def click_label(self, text, parent=None):
        item_id, _ = find(self.nodes(), text, parent)
        if item_id is None:
            raise AssertionError(f"no menu item {text!r}")
        self.click(item_id)


def flatten(tree, depth=0, parent=None):
    """(id, props, depth, parent label) for every node."""
    item_id, props, children = tree
    props = {str(k): v for k, v in props.items()}
    out = [(int(item_id), props, depth, parent)]
    for c in children:
        out += flatten(c, depth + 1, str(props.get("label", "")))
    return out


def label(props):
    """A dbusmenu label as shown: "_" marks a mnemonic, "__" is a literal underscore."""
    return str(props.get("label", "")).replace("__", "\0").replace("_", "").replace("\0", "_")


def find(nodes, text, parent=None):
    for item_id, props, _, par in nodes:
        lab = label(props)
        if text.lower() in lab.lower() and (parent is None or parent.lower() in (par or "").replace("_", "").lower()):
            return item_id, props
    return None, None


# ---- HTTP to the app ---------------------------------------------------------

def http(port, path, method="GET", body=None, headers=None, timeout=30):
    """(status, body text) of a request to the app's server."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode())
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    if body is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def api_status(port):
    status, text = http(port, "/api/status", timeout=5)
    assert status == 200, (status, text)
    return json.loads(text)


def provider(port, pid):
    return next(p for p in api_status(port)["providers"] if p["id"] == pid)


def wait_rounds(port, rounds):
    """Waits until `rounds` more rounds have been published (checked_at moved)."""
    last = wait_for(lambda: api_status(port)["checked_at"], "a report")
    for _ in range(rounds):
        seen = last
        last = wait_for(lambda: (lambda c: c if c != seen else None)(api_status(port)["checked_at"]),
                        "another round")


# ---- processes ---------------------------------------------------------------

def process_tree(pid):
    """`pid` and all its descendants (from /proc)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def children_named(pid, name):
    return [p for p in process_tree(pid) if p != pid and name in comm(p)]


def find_windows():
    return subprocess.run(["xdotool", "search", "--name", "^Switchboard$"], capture_output=True,
                          text=True).stdout.split()


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


class App:
    """switchboard-desktop with its own HOME, XDG dirs and TMPDIR under one temp
    dir (kept when a check failed), the config at <tmp>/config/config.toml, and
    stdout + stderr in <tmp>/app.log."""

    def __init__(self, name, config, env=None, binary=None):
        self.tmp = tempfile.mkdtemp(prefix=f"switchboard-desktop-{name}-")
        self.config = os.path.join(self.tmp, "config", "config.toml")
        os.makedirs(os.path.dirname(self.config))
        with open(self.config, "w") as f:
            f.write(config)
        e = dict(os.environ)
        for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            e[k] = os.path.join(self.tmp, k.lower())
        e.update({
            "HOME": os.path.join(self.tmp, "home"),
            "TMPDIR": self.tmp,
            "SWITCHBOARD_TEST_ANTHROPIC_KEY": "sk-ant-desktop-test",
            "SWITCHBOARD_TEST_OPENAI_KEY": "sk-desktop-test",
            "WEBKIT_DISABLE_COMPOSITING_MODE": "1",
            "WEBKIT_DISABLE_DMABUF_RENDERER": "1",
            "RUST_LOG": e.get("RUST_LOG", "switchboard=info,switchboard_desktop=debug,warn"),
        })
        e.pop("SWITCHBOARD_CONFIG", None)
        e.update(env or {})
        os.makedirs(e["HOME"])
        self.env = e
        self.binary = binary or BINARY
        self.log_path = os.path.join(self.tmp, "app.log")
        self.proc = None
        self.started = None

    def start(self):
        self._log = open(self.log_path, "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([self.binary, "--config", self.config], env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc.poll() is None

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        """Ends the app if it still runs (SIGTERM, then SIGKILL); its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def cleanup(self, show_log_chars=6000):
        """Removes the temp dir, or keeps it and prints the log's tail after a failure."""
        if failures or os.environ.get("SWITCHBOARD_DESKTOP_SHOW_LOG"):
            print("---- app log ----")
            print(self.log_text()[-show_log_chars:])
        if failures:
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
