#!/usr/bin/env python3
"""`kill -9` of switchboard-desktop while it writes its history (issue 16; the
CLI's `watch` has the same fault in tests/faults.rs).

Run by tests/desktop/suite.sh inside xvfb-run and a private session bus, with
our StatusNotifierWatcher (so the app shows its tray and opens no window). The
config checks every second and Claude API answers 500, so every second a round
of checks is written and the outage's incident is written and updated.

Three times on the same data directory:
1. start the app (after the first time: on the database the killed one left,
   with its write-ahead log not checkpointed) and wait for two published
   rounds (`checked_at` of /api/status moves, both providers probed);
2. give the recorder, which writes beside the API, a second; SIGKILL the app
   while it goes on writing a round a second;
3. SQLite's `PRAGMA integrity_check` says "ok", and the round the API published
   before the kill is on disk for both providers: no round lost.
Finally the incident of the failing provider is in the history.

Shared pieces: tests/desktop/desktoplib.py.
"""

import os
import re
import signal
import sqlite3
import time
from datetime import datetime, timezone

from desktoplib import (App, Session, World, api_status, check, config_text, finish, free_port, log, need_session,
                        serve_fakes, wait_for)

RUNS = 3


def millis(rfc3339):
    """Milliseconds since the epoch of an RFC 3339 time with any number of
    fractional digits (the history stores `at` in milliseconds)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", rfc3339)
    assert m, rfc3339
    base = datetime.fromisoformat(m.group(1) + ("+00:00" if m.group(3) == "Z" else m.group(3)))
    frac = (m.group(2) or "0")[:3].ljust(3, "0")
    return int(base.astimezone(timezone.utc).timestamp()) * 1000 + int(frac)


def probed_round(port):
    """`checked_at` of the latest report once both providers have a probe."""
    report = api_status(port)
    if all(p["probe"] is not None for p in report["providers"]):
        return report["checked_at"]
    return None


def inspect(db, at_ms):
    """(PRAGMA integrity_check, rows of the round at `at_ms`, incidents of anthropic)."""
    conn = sqlite3.connect(f"file:{db}?mode=rw", uri=True)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM checks WHERE at = ?", (at_ms,)).fetchone()[0]
        incidents = conn.execute("SELECT count(*) FROM incidents WHERE provider = 'anthropic'").fetchone()[0]
    finally:
        conn.close()
    return integrity, rows, incidents


def main():
    need_session()
    session = Session()
    world = World()
    world.anthropic = "500"
    fakes, base = serve_fakes(world)
    listen = free_port()
    app = App("kill9", config_text(base, listen, interval=1, confirm=1))
    db = os.path.join(app.env["XDG_DATA_HOME"], "switchboard", "history.sqlite3")
    incidents = 0
    try:
        for run in range(RUNS):
            app.start()
            check(session.wait_item(count=run + 1) is not None, f"run {run}: the tray registers")
            rounds = []

            def next_round():
                at = probed_round(listen)
                if at and (not rounds or rounds[-1] != at):
                    rounds.append(at)
                return len(rounds) >= 2

            if not check(wait_for(next_round, f"run {run}: two published rounds", timeout=60, interval=0.1),
                         f"run {run}: the app publishes rounds ({rounds})"):
                break
            time.sleep(1)
            os.kill(app.pid, signal.SIGKILL)
            app.proc.wait()
            app._log.close()
            check(app.proc.returncode == -signal.SIGKILL, f"run {run}: killed by SIGKILL ({app.proc.returncode})")
            integrity, rows, incidents = inspect(db, millis(rounds[1]))
            check(integrity == "ok", f"run {run}: integrity_check after kill -9: {integrity}")
            check(rows >= 2, f"run {run}: the round of {rounds[1]} (both providers) is on disk ({rows} rows)")
        check(incidents >= 1, f"the outage's incident is in the history ({incidents})")
    finally:
        app.stop()
        session.close()
        fakes.shutdown()
        app.cleanup()
    finish("test_kill9")


if __name__ == "__main__":
    main()
