#!/usr/bin/env python3
"""Talks to the fake notification server of tests/notify.rs.

The server is python3-dbusmock's `notification_daemon` template, started by the
test on a private bus (DBUS_SESSION_BUS_ADDRESS). This helper only asks it
things, through dbusmock's org.freedesktop.DBus.Mock interface:

    fake_desktop.py wait-name SECONDS    exit 0 once org.freedesktop.Notifications is owned
    fake_desktop.py calls                every Notify call so far, as JSON (see below)
    fake_desktop.py emit-action ID KEY   send ActionInvoked(ID, KEY), as a user's click would

`calls` prints a list of objects: app, replaces_id, icon, summary, body,
actions (flat list: key, label, ...), hints, timeout, and id, the id the
template returned (it counts up from 1 for new notifications and returns
replaces_id for a replacement).
"""

import json
import os
import sys
import time

import dbus

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
MOCK = "org.freedesktop.DBus.Mock"


def bus():
    return dbus.bus.BusConnection(os.environ["DBUS_SESSION_BUS_ADDRESS"])


def plain(value):
    """dbus-python values as JSON-able Python values."""
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


def wait_name(seconds):
    deadline = time.monotonic() + seconds
    b = bus()
    while time.monotonic() < deadline:
        if b.name_has_owner(NAME):
            return 0
        time.sleep(0.05)
    print(f"{NAME} did not appear on the bus within {seconds} s", file=sys.stderr)
    return 1


def calls():
    mock = bus().get_object(NAME, PATH)
    out = []
    next_id = 1
    for _stamp, args in mock.GetMethodCalls("Notify", dbus_interface=MOCK):
        app, replaces_id, icon, summary, body, actions, hints, timeout = plain(args)
        if replaces_id:
            nid = replaces_id
        else:
            nid = next_id
            next_id += 1
        out.append(
            {
                "id": nid,
                "app": app,
                "replaces_id": replaces_id,
                "icon": icon,
                "summary": summary,
                "body": body,
                "actions": actions,
                "hints": hints,
                "timeout": timeout,
            }
        )
    print(json.dumps(out))
    return 0


def emit_action(nid, key):
    mock = bus().get_object(NAME, PATH)
    mock.EmitSignal(NAME, "ActionInvoked", "us", [dbus.UInt32(nid), key], dbus_interface=MOCK)
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "wait-name":
        return wait_name(float(argv[2]))
    if len(argv) == 2 and argv[1] == "calls":
        return calls()
    if len(argv) == 4 and argv[1] == "emit-action":
        return emit_action(int(argv[2]), argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
