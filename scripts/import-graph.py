#!/usr/bin/env python3
"""Print the import graph of the engine's top-level modules and check its shape.

An edge `a -> b` means some file of module `a` (src/a.rs or src/a/**) names
`crate::b` (in a `use` or a path; comments are ignored). The check fails
(exit 1) when the graph has a cycle, or when a module imports one from a higher
layer than its own (LAYERS below, lowest first). Modules within one layer may
import each other as long as that makes no cycle. A top-level module missing
from LAYERS is an error too, so a new module has to be placed deliberately.

Usage: scripts/import-graph.py [SRC_DIR]   (default: src)
"""
import os
import re
import sys

# Lowest first. A module may import only modules of its own layer or below.
LAYERS = [
    # vocabulary: provider kinds, states, reports; words for people
    ["model", "text"],
    # the configuration and the built-in catalog it is merged over
    ["catalog", "config", "config_edit"],
    # plumbing: the HTTP client, listening and serving with limits, stored secrets,
    # cloud credentials and signing
    ["http", "net", "serve", "secrets", "cloud"],
    # what the desktop session offers on D-Bus (tray host, notification server)
    ["session_bus"],
    # which credential a provider uses (keyring, environment, cloud)
    ["credentials"],
    # "send this body to this provider": URLs, auth headers, signing
    ["upstream"],
    # what the outside world says: status pages and probes
    ["status", "probe"],
    # deciding health, ordering providers by it, gateway traffic counters, the
    # tally of the user's own agent errors
    ["health", "routing", "traffic", "agent_errors"],
    # one full check, the tray view model
    ["check", "tray"],
    # the one owner of state
    ["engine"],
    # subscribers of the engine's events, and what feeds it real traffic
    # (the gateway, the coding agents' session logs)
    ["config_watch", "store", "notify", "metrics", "gateway", "passive"],
    # the dashboard server (reads the store, metrics and traffic)
    ["server"],
    # wiring everything for `watch` and the desktop app; `doctor`, which
    # checks what all of them need
    ["app", "doctor"],
]

RANK = {m: i for i, layer in enumerate(LAYERS) for m in layer}


def strip_comments(text):
    """Drop // comments (including doc comments) and /* */ blocks, keep strings."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i)
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def group_heads(text, start):
    """Top-level names in the `{...}` group that opens at text[start]."""
    depth, names, i, token = 0, [], start, ""
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
            token = ""
        elif c == "}":
            depth -= 1
            if depth == 0:
                break
        elif depth == 1:
            if c.isalnum() or c == "_":
                token += c
            elif c in ", \n\t\r" and not token:
                pass  # between items
            else:
                if token:
                    names.append(token)
                token = ""
                # skip the rest of this item up to the next top-level comma
                k, d = i, 0
                while k < len(text):
                    if text[k] == "{":
                        d += 1
                    elif text[k] == "}":
                        if d == 0:
                            break
                        d -= 1
                    elif text[k] == "," and d == 0:
                        break
                    k += 1
                i = k
                continue
        i += 1
    if token:
        names.append(token)
    return names


def module_of(src, path):
    rel = os.path.relpath(path, src)
    head = rel.split(os.sep)[0]
    return head[:-3] if head.endswith(".rs") else head


def graph(src):
    edges = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            mod = module_of(src, path)
            if mod in ("lib", "main"):
                continue
            text = strip_comments(open(path, encoding="utf-8").read())
            targets = edges.setdefault(mod, set())
            for m in re.finditer(r"\bcrate::(\{|[A-Za-z_][A-Za-z0-9_]*)", text):
                names = group_heads(text, m.start(1)) if m.group(1) == "{" else [m.group(1)]
                for name in names:
                    if name not in ("self", mod):
                        targets.add(name)
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "src"
    edges = graph(src)
    problems = []
    print("module import graph (layer: module -> imports):")
    for mod in sorted(edges, key=lambda m: (RANK.get(m, -1), m)):
        layer = RANK.get(mod, "?")
        print(f"  {layer}: {mod} -> {', '.join(sorted(edges[mod])) or '-'}")
        if mod not in RANK:
            problems.append(f"module `{mod}` has no layer in scripts/import-graph.py")
            continue
        for dep in sorted(edges[mod]):
            if dep not in RANK:
                if dep not in edges:
                    continue  # not a module of ours (e.g. a macro path)
                continue  # reported once, as a module without a layer
            if RANK[dep] > RANK[mod]:
                problems.append(f"upward import: {mod} (layer {RANK[mod]}) -> {dep} (layer {RANK[dep]})")
    for comp in cycles(edges):
        problems.append("import cycle among: " + ", ".join(comp))
    if problems:
        print("\nviolations:")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print("\nok: no import cycle, no upward import")


if __name__ == "__main__":
    main()
