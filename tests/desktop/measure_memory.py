#!/usr/bin/env python3
"""The measuring half of bench/desktop_memory.sh (which starts the fakes,
writes the config, and runs this under xvfb-run and a private session bus with
a throwaway keyring).

    measure_memory.py CONFIG BINARY

Owns the StatusNotifierWatcher (as a panel would), launches BINARY with CONFIG
and reports, for the whole process tree (the app and every descendant, e.g.
WebKitWebProcess / WebKitNetworkProcess), the sum of Pss from
/proc/PID/smaps_rollup (and, beside it, the tree's Anonymous memory: most of
the PSS is shared libraries' file pages, which the kernel can drop):

1. launch -> tray registered (the watcher's RegisterStatusNotifierItem);
2. tray only, after IDLE_MINUTES (default 5) idle; CPU time (utime + stime of
   the tree) over that idle period, extrapolated to an hour;
3. dashboard open ("Open dashboard" clicked through dbusmenu), DASHBOARD_SECS
   (default 15) after its web process appeared;
4. dashboard closed again (WM_DELETE_WINDOW, as a close button), CLOSED_SECS
   (default 30) after its web process exited.

Settle time before the idle period starts: SETTLE_SECS (default 10).
"""

import os
import subprocess
import sys
import time

from desktoplib import App, Session, children_named, close_window, comm, find_windows, process_tree, wait_for

HZ = os.sysconf("SC_CLK_TCK")


def rollup_kib(pid, field):
    """One field ("Pss", "Anonymous", ...) of /proc/PID/smaps_rollup, in KiB."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # utime, stime, cutime, cstime (fields 14-17): children that exited count too.
        return sum(int(x) for x in fields[11:15])
    except OSError:
        return 0


def exe_name(pid):
    """The program's file name (comm is cut at 15 characters)."""
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return comm(pid)


def tree_pss(pid):
    """(total Pss KiB, total Anonymous KiB, [(program, Pss KiB)]) over pid and its descendants."""
    pids = process_tree(pid)
    parts = [(exe_name(p), rollup_kib(p, "Pss")) for p in pids]
    anon = sum(rollup_kib(p, "Anonymous") for p in pids)
    return sum(k for _, k in parts), anon, parts


def tree_cpu(pid):
    return sum(cpu_ticks(p) for p in process_tree(pid))


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def breakdown(anon, parts):
    merged = {}
    for name, k in parts:
        merged[name] = merged.get(name, 0) + k
    each = ", ".join(f"{n} {mib(k)}" for n, k in sorted(merged.items(), key=lambda x: -x[1]))
    return f"anonymous {mib(anon)}; {each}"


def main():
    config_path, binary = sys.argv[1], sys.argv[2]
    idle_minutes = float(os.environ.get("IDLE_MINUTES", "5"))
    settle = float(os.environ.get("SETTLE_SECS", "10"))
    dashboard_secs = float(os.environ.get("DASHBOARD_SECS", "15"))
    closed_secs = float(os.environ.get("CLOSED_SECS", "30"))
    with open(config_path) as f:
        config = f.read()

    session = Session()
    app = App("bench", config, env={"BENCH_KEY": "bench", "RUST_LOG": "warn"}, binary=binary)
    app.start()
    rows = []
    ok = False
    try:
        item = session.wait_item(timeout=60)
        if item is None:
            raise SystemExit("the tray did not register")
        registered = session.watcher.registered_at[0] - app.started
        rows.append(("launch -> tray registered", f"{registered:.2f} s", ""))

        time.sleep(settle)
        t0, c0 = time.monotonic(), tree_cpu(app.pid)
        print(f"idle for {idle_minutes:g} min ...", file=sys.stderr, flush=True)
        time.sleep(idle_minutes * 60)
        t1, c1 = time.monotonic(), tree_cpu(app.pid)
        total, anon, parts = tree_pss(app.pid)
        rows.append((f"PSS tray only, after {idle_minutes:g} min idle", mib(total), breakdown(anon, parts)))
        cpu = (c1 - c0) / HZ
        rows.append(("CPU per idle hour", f"{cpu / (t1 - t0) * 3600:.1f} s",
                     f"{cpu:.2f} s over {t1 - t0:.0f} s"))

        item.click_label("Open dashboard")
        if not wait_for(lambda: children_named(app.pid, "WebKitWebProces"), "the web process", timeout=60):
            raise SystemExit("the dashboard did not open")
        wait_for(find_windows, "the window", timeout=30)
        time.sleep(dashboard_secs)
        total, anon, parts = tree_pss(app.pid)
        rows.append((f"PSS dashboard open ({dashboard_secs:g} s)", mib(total), breakdown(anon, parts)))

        for w in find_windows():
            close_window(w)
        if not wait_for(lambda: not children_named(app.pid, "WebKitWebProces"), "the web process to exit"):
            raise SystemExit("the web process stayed after the close")
        time.sleep(closed_secs)
        total, anon, parts = tree_pss(app.pid)
        rows.append((f"PSS dashboard closed ({closed_secs:g} s after)", mib(total), breakdown(anon, parts)))

        item.click_label("Quit")
        code = app.proc.wait(timeout=15)
        rows.append(("Quit", f"exit {code}", ""))
        ok = True
    except subprocess.TimeoutExpired:
        rows.append(("Quit", "did not exit in 15 s", ""))
    finally:
        app.stop()
        session.close()
        if not ok:
            print(app.log_text()[-3000:], file=sys.stderr)
    width = max(len(r[0]) for r in rows)
    for name, value, detail in rows:
        print(f"  {name:<{width}}  {value:>10}  {detail}".rstrip())
    import shutil
    shutil.rmtree(app.tmp, ignore_errors=True)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
