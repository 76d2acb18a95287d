#!/usr/bin/env python3
"""A key stored through switchboard-desktop's dashboard API, and the menu
actions "Check now" and "Open status page".

Run by tests/desktop/suite.sh inside xvfb-run and a private session bus with a
real, unlocked gnome-keyring-daemon (scripts/with-secret-service.sh). The app
runs with RUST_LOG=debug, polls every 60 s (so a probe within seconds of a
click is the click's doing), has no env-var key for Anthropic, and finds a
fake `xdg-open` first on PATH that records its arguments. dbusmock's
notification server records the notifications.

1. No key: Anthropic is not probed.
2. PUT /api/credentials/anthropic on the app's in-process server: refused
   without the per-install token (the file `token` beside the config) or from
   another Origin; accepted with both.
3. A wrong key: the fake answers 401 authentication_error, and the app raises
   its own notice "Anthropic rejected your key" (authentication_error), not an
   outage; the icon turns purple.
4. The right key: it is in the real keyring (`secret-tool lookup service
   switchboard username anthropic`), the fake received it in `x-api-key`, and
   the provider is operational; "Anthropic accepts your key again" follows.
5. "Check now": the fake sees a probe within seconds of the click.
6. "Open status page": xdg-open gets the preferred provider's status page URL.
7. Neither key appears in any file under the app's temp HOME/config/data/tmp
   tree or the keyring's HOME, in the app's output (RUST_LOG=debug), in any
   notification, or in any API response (the PUT answers, GET /api/status,
   /api/history, /metrics, /api/events, /).
8. Quit exits 0.

Shared pieces: tests/desktop/desktoplib.py.
"""

import os
import secrets
import socket
import subprocess
import time

from desktoplib import (App, NotificationServer, Session, World, check, config_text, finish, free_port, http, log,
                        need_session, provider, serve_fakes, wait_for)


def read_events(port, seconds=3.0):
    """The first bytes of GET /api/events (Server-Sent Events), for `seconds`."""
    s = socket.create_connection(("127.0.0.1", port), timeout=seconds)
    s.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
    data, end = b"", time.monotonic() + seconds
    try:
        while time.monotonic() < end and len(data) < 1 << 20:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\ndata:" in data and data.endswith(b"\n\n"):
                break
    except socket.timeout:
        pass
    finally:
        s.close()
    return data.decode(errors="replace")


def files_containing(roots, needles):
    """(path, needle) for every regular file under `roots` that holds a needle."""
    hits = []
    for root in roots:
        for dirpath, _, names in os.walk(root):
            for n in names:
                path = os.path.join(dirpath, n)
                if not os.path.isfile(path) or os.path.islink(path):
                    continue
                try:
                    with open(path, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                hits += [(path, k) for k in needles if k.encode() in data]
    return hits


def main():
    need_session()
    good = "sk-ant-api03-desktop-" + secrets.token_hex(16)
    wrong = "sk-ant-api03-revoked-" + secrets.token_hex(16)
    session = Session()
    world = World()
    world.anthropic_key = good
    fakes, base = serve_fakes(world)
    listen = free_port()
    app = App("keyring", config_text(base, listen, interval=60, confirm=1, notifications=True,
                                     anthropic_env=False),
              env={"RUST_LOG": "debug"})
    bindir = os.path.join(app.tmp, "bin")
    opened = os.path.join(app.tmp, "xdg-open.args")
    os.makedirs(bindir)
    with open(os.path.join(bindir, "xdg-open"), "w") as f:
        f.write(f"#!/bin/sh\n# Stands in for xdg-open: records what the app asked to open.\n"
                f"printf '%s\\n' \"$@\" >> '{opened}'\n")
    os.chmod(os.path.join(bindir, "xdg-open"), 0o755)
    app.env["PATH"] = bindir + os.pathsep + app.env["PATH"]
    server = NotificationServer(session.client, os.path.join(app.tmp, "dbusmock.log"))
    answers = []  # every API response body, for the leak check

    def api(path, method="GET", body=None, headers=None):
        status, text = http(listen, path, method, body, headers)
        answers.append((f"{method} {path}", text))
        return status, text

    app.start()
    try:
        item = session.wait_item()
        if not check(item is not None, "the tray registers a StatusNotifierItem"):
            raise SystemExit
        check(wait_for(lambda: provider(listen, "openai")["state"] == "operational", "the first round")
              is not None, "the first round ran")
        check(world.probes("/anthropic") == [], "no key: Anthropic is not probed")
        check(provider(listen, "anthropic")["credential"] == "none",
              f"credential none ({provider(listen, 'anthropic')['credential']})")

        token_path = os.path.join(os.path.dirname(app.config), "token")
        with open(token_path) as f:
            token = f.read().strip()
        check(oct(os.stat(token_path).st_mode & 0o777) == "0o600", "the token file is private (0600)")
        origin = f"http://127.0.0.1:{listen}"
        put = "/api/credentials/anthropic"

        # -- the server's rules --
        status, text = api(put, "PUT", {"api_key": wrong}, {"Origin": origin})
        check(status in (401, 403), f"without the token: refused ({status} {text[:100]})")
        status, text = api(put, "PUT", {"api_key": wrong},
                           {"Origin": "http://evil.example", "x-switchboard-token": token})
        check(status == 403, f"from another Origin: refused ({status} {text[:100]})")
        check(world.probes("/anthropic") == [], "a refused key is not used")

        # -- a wrong key --
        status, text = api(put, "PUT", {"api_key": wrong}, {"Origin": origin, "x-switchboard-token": token})
        check(status == 200 and '"stored":true' in text.replace(" ", ""), f"the wrong key is stored ({status} {text})")
        check('"ok":false' in text.replace(" ", "") and "auth_error" in text,
              "the answer says the provider refused it")
        calls = wait_for(lambda: (lambda c: c if c else None)(server.calls()), "the credential notice")
        notice = (calls or [{}])[0]
        log(f"notice: {notice}")
        check(notice.get("summary") == "Anthropic rejected your key", f"its own notice: {notice.get('summary')!r}")
        check(notice.get("body", "").startswith("authentication_error: invalid x-api-key"),
              f"with the error type: {notice.get('body')!r}")
        check("outage" not in notice.get("body", ""), "not called an outage")
        check(wait_for(lambda: item.colour() == "purple", "purple icon") is not None,
              f"the icon is purple ({item.colour()})")
        check(provider(listen, "anthropic")["state"] == "auth_error", "state auth_error")

        # -- the right key --
        status, text = api(put, "PUT", {"api_key": good}, {"Origin": origin, "x-switchboard-token": token})
        check(status == 200 and '"ok":true' in text.replace(" ", ""), f"the right key is stored and works ({text})")
        looked_up = subprocess.run(["secret-tool", "lookup", "service", "switchboard", "username", "anthropic"],
                                   capture_output=True, text=True)
        check(looked_up.stdout == good, "secret-tool finds the key in gnome-keyring-daemon "
              f"(service switchboard, username anthropic; rc {looked_up.returncode})")
        probes = world.probes("/anthropic")
        check(bool(probes) and probes[-1][1].get("x-api-key") == good, "the fake received the key in x-api-key")
        check(wait_for(lambda: provider(listen, "anthropic")["state"] == "operational", "operational") is not None,
              "Anthropic is operational with the right key")
        check(provider(listen, "anthropic")["credential"] == "keyring",
              f"the key comes from the keyring ({provider(listen, 'anthropic')['credential']})")
        fixed = wait_for(lambda: "Anthropic accepts your key again" in server.summaries(), "the fixed notice")
        check(fixed is not None, f"the fix is announced ({server.summaries()})")
        check(wait_for(lambda: item.colour() == "green", "green icon") is not None, "the icon is green again")

        # -- Check now --
        def quiet():
            last = world.probes("/anthropic")[-1][0]
            return time.monotonic() - last > 2.5
        wait_for(quiet, "no probe for 2.5 s", timeout=30)
        before = len(world.probes("/anthropic"))
        clicked = time.monotonic()
        item.click_label("Check now")
        probed = wait_for(lambda: len(world.probes("/anthropic")) > before, "a probe after Check now", timeout=10,
                          interval=0.05)
        delay = world.probes("/anthropic")[before][0] - clicked if probed else None
        check(probed is not None and delay < 5,
              f"Check now probes at once ({'%.2f s' % delay if delay is not None else 'no probe'} after the click; "
              "the interval is 60 s)")

        # -- Open status page --
        want = provider(listen, "anthropic")["status_url"]
        item.click_label("Open status page")
        got = wait_for(lambda: open(opened).read().split() if os.path.exists(opened) else None, "xdg-open",
                       timeout=10)
        check(got == [want], f"Open status page runs xdg-open {want} (got {got})")
        check(want.startswith(base), f"the preferred provider's page on the fake ({want})")

        # -- where the keys must not be --
        for path in ("/api/status", "/api/history?since=24h", "/metrics", "/"):
            api(path)
        answers.append(("GET /api/events", read_events(listen)))
        check(any("operational" in t for _, t in answers), "the API answered")
        leaks = [(what, k) for what, t in answers for k in (good, wrong) if k in t]
        check(leaks == [], f"no key in any API response ({len(answers)} responses; leaks: {leaks})")
        shown = [c["summary"] + " " + c["body"] for c in server.calls()]
        check(not any(good in s or wrong in s for s in shown), "no key in any notification")

        item.click_label("Quit")
        try:
            code = app.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            code = None
        check(code == 0, f"Quit exits 0 (got {code})")
        out = app.log_text()
        check("DEBUG" in out, f"the app logged at debug level ({len(out.splitlines())} lines)")
        check(good not in out and wrong not in out, "no key in the app's output (RUST_LOG=debug)")
        roots = [app.tmp, os.environ["HOME"]]
        hits = files_containing(roots, [good, wrong])
        check(hits == [], f"no key in any file under {roots} ({hits})")
    finally:
        app.stop()
        server.stop()
        fakes.shutdown()
        session.close()
        app.cleanup()
    finish("test_keyring")


if __name__ == "__main__":
    main()
