#!/usr/bin/env python3
"""Notifications raised by switchboard-desktop itself, recorded by
python3-dbusmock's `notification_daemon` template on the private session bus
(the same bus our StatusNotifierWatcher and the app's tray are on).

Run by tests/desktop/suite.sh inside xvfb-run and a private session bus.
The config polls every second ([check] interval_secs = 1, confirm_secs = 1);
the fake Claude status page flaps between "All Systems Operational" and
"Elevated Error Rates" on every poll until the outage ends.

1. All well (the flapping page alone is not announced): no notification.
2. Anthropic answers 500 api_error: exactly one "Claude API: outage", with the
   cause (HTTP status, error type, message, request id), the status-page
   verdict, critical urgency and the action "Switch to OpenAI API"; nothing
   more while the page keeps flapping.
3. Recovery (the API answers, the page settles on green): exactly one "Claude API recovered" that carries the outage's
   duration (close to the time the fake failed) and replaces the first notice.
4. Every connection reset (the user's network is down): every provider
   `offline`, the icon grey, and no notification, also when the network comes
   back.
5. Quit exits 0.

Shared pieces: tests/desktop/desktoplib.py.
"""

import os
import re
import subprocess
import time

from desktoplib import (App, NotificationServer, Session, World, api_status, check, config_text, finish, free_port,
                        log, need_session, provider, serve_fakes, wait_for, wait_rounds)


def main():
    need_session()
    session = Session()
    world = World()
    world.claude_page = "flap"
    fakes, base = serve_fakes(world)
    listen = free_port()
    app = App("notify", config_text(base, listen, interval=1, confirm=1, notifications=True))
    server = NotificationServer(session.client, os.path.join(app.tmp, "dbusmock.log"))
    app.start()
    try:
        item = session.wait_item()
        if not check(item is not None, "the tray registers a StatusNotifierItem"):
            raise SystemExit
        check(wait_for(lambda: provider(listen, "anthropic")["probe"] is not None
                       and provider(listen, "openai")["state"] == "operational", "first checks") is not None,
              "both providers checked")
        polls = world.page_polls()
        wait_for(lambda: world.page_polls() >= polls + 4, "four more polls of the flapping page")
        check(server.calls() == [], f"nothing is announced while all works ({server.summaries()})")

        # -- an outage while the page flaps --
        world.anthropic = "500"
        failed_at = time.monotonic()
        calls = wait_for(lambda: (lambda c: c if "Claude API: outage" in [x["summary"] for x in c] else None)(
            server.calls()), "the outage notice")
        check(calls is not None, f"an outage notice appears ({time.monotonic() - failed_at:.1f}s)")
        began = (calls or [{}])[0]
        log(f"began: {began}")
        body = began.get("body", "")
        check(began.get("summary") == "Claude API: outage", f"summary {began.get('summary')!r}")
        check(began.get("app") == "Switchboard", f"app name {began.get('app')!r}")
        check(re.match(r"HTTP 500 api_error: Internal server error · request req_011DESKTOP\d+ · ", body)
              is not None, f"the body has the cause and request id: {body!r}")
        check("status page" in body, f"the body says whether the status page has it: {body!r}")
        check(began.get("actions") == ["switch", "Switch to OpenAI API"],
              f"the action offers the healthy alternative: {began.get('actions')}")
        check(began.get("hints", {}).get("urgency") == 2, f"critical urgency: {began.get('hints')}")
        check(wait_for(lambda: item.colour() == "red", "red icon") is not None, f"the icon is red ({item.colour()})")

        polls = world.page_polls()
        wait_for(lambda: world.page_polls() >= polls + 4, "four more polls of the flapping page")
        check(server.summaries() == ["Claude API: outage"],
              f"the flapping page raised nothing more during the outage ({server.summaries()})")

        # -- recovery: the API answers again and the page settles on green --
        world.anthropic = "ok"
        world.claude_page = "green"
        lasted = time.monotonic() - failed_at
        calls = wait_for(lambda: (lambda c: c if "Claude API recovered" in [x["summary"] for x in c] else None)(
            server.calls()), "the recovery notice")
        check(calls is not None, "a recovery notice appears")
        ended = next((c for c in calls or [] if c["summary"] == "Claude API recovered"), {})
        log(f"ended: {ended}")
        m = re.match(r"after (\d+) s \(outage: HTTP 500 api_error: Internal server error\)", ended.get("body", ""))
        secs = int(m.group(1)) if m else None
        # It runs from the first failing probe to the confirming successes.
        check(secs is not None and lasted - 3 <= secs <= lasted + 10,
              f"the recovery notice carries the duration: {ended.get('body')!r} (the fake failed for {lasted:.0f} s)")
        check(ended.get("replaces_id") == began.get("id"), "the recovery replaces the outage notice")
        wait_for(lambda: provider(listen, "anthropic")["state"] != "outage", "anthropic recovered")
        wait_rounds(listen, 3)
        check(server.summaries() == ["Claude API: outage", "Claude API recovered"],
              f"exactly one began and one ended notice ({server.summaries()})")

        # -- the user's own network is down: offline never alarms --
        world.network_down = True
        offline = wait_for(lambda: all(p["state"] == "offline" for p in api_status(listen)["providers"]),
                           "every provider offline")
        check(offline is not None, "every provider is offline while no connection gets an answer: "
              f"{[(p['id'], p['state']) for p in api_status(listen)['providers']]}")
        check(wait_for(lambda: item.colour() == "grey", "grey icon") is not None,
              f"the icon is grey while offline ({item.colour()})")
        check("offline" in item.header().lower(), f"the header says so: {item.header()!r}")
        wait_rounds(listen, 4)
        world.network_down = False
        back = wait_for(lambda: all(p["state"] in ("operational", "degraded")
                                    for p in api_status(listen)["providers"]), "the providers back")
        check(back is not None, "the providers come back when the network does")
        wait_rounds(listen, 3)
        check(server.summaries() == ["Claude API: outage", "Claude API recovered"],
              f"nothing announced for the offline spell ({server.summaries()})")

        item.click_label("Quit")
        try:
            code = app.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            code = None
        check(code == 0, f"Quit exits 0 (got {code})")
    finally:
        app.stop()
        server.stop()
        fakes.shutdown()
        session.close()
        app.cleanup()
    finish("test_notifications")


if __name__ == "__main__":
    main()
