#!/usr/bin/env python3
"""Generates Switchboard's tray icons, app icon and a preview contact sheet.

Dependency-free on purpose (zlib + struct only), so anyone can regenerate the
icons on any machine with Python 3:

    python3 icons/generate.py

Shapes are signed distance functions evaluated in pixel units; each output
pixel averages SUPERSAMPLE x SUPERSAMPLE hard samples (box-filter
anti-aliasing). Pixels far from every edge are filled from one sample, which
keeps the script fast without changing the result.

Outputs (all relative to this folder):
  tray/<key>[-dot]-<size>.png  key in KEYS, size in TRAY_SIZES
  tray/manifest.json           per file: size, state colour, share of opaque
                               pixels that carry the state's hue
  tray/README.md               what each icon means
  app-icon.png (256), app-icon-128.png, app-icon-32.png
  hicolor/app-<size>.png       size in HICOLOR_SIZES (`--hicolor`: only these)
  preview.png                  contact sheet on light and dark panels
"""

import colorsys
import json
import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TRAY_DIR = os.path.join(HERE, "tray")

TRAY_SIZES = [16, 22, 24, 32, 48]
APP_SIZES = [(256, "app-icon.png"), (128, "app-icon-128.png"), (32, "app-icon-32.png")]
# The app icon at every size of the freedesktop hicolor theme that menus,
# docks and software centres ask for; the packages install them
# (src-tauri/tauri.conf.json, bundle.icon).
HICOLOR_DIR = os.path.join(HERE, "hicolor")
HICOLOR_SIZES = [16, 22, 24, 32, 48, 64, 128, 256, 512]
SUPERSAMPLE = 8

# State colours. Each has relative luminance between ~0.17 and ~0.30, which
# gives at least 3:1 contrast (WCAG non-text) against both a white (#ffffff)
# and a dark (#2b2b2b) panel; checked by contrast_report() on every run.
KEYS = {
    "operational": (0x16, 0xA3, 0x4A),  # green
    "degraded": (0xD9, 0x77, 0x06),  # amber: degraded, overloaded, rate limited
    "outage": (0xE5, 0x3E, 0x3E),  # red
    "auth_error": (0xA8, 0x55, 0xF7),  # purple: credential problem
    "unknown": (0x8B, 0x8F, 0x96),  # grey: unknown, offline
}
BRAND = (0x25, 0x63, 0xEB)
WHITE = (0xFF, 0xFF, 0xFF)
BADGE = (0x1F, 0x23, 0x2B)  # the "another provider has a problem" dot
PANELS = {"light": (0xFF, 0xFF, 0xFF), "dark": (0x2B, 0x2B, 0x2B)}
# The outline is the state colour darkened: same hue, so a hue classifier
# still counts it, but it gives the disc an edge on light panels.
OUTLINE_SHADE = 0.74


# ---------------------------------------------------------------- PNG output


def png_bytes(width, height, rgba_rows):
    """rgba_rows: list of bytearrays, each width*4 bytes, straight alpha."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(row) for row in rgba_rows)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def write_png(path, width, height, rows):
    with open(path, "wb") as f:
        f.write(png_bytes(width, height, rows))


# ---------------------------------------------------------------- shapes (SDF)


def sd_circle(cx, cy, r):
    return lambda x, y: math.hypot(x - cx, y - cy) - r


def sd_segment(ax, ay, bx, by, half_width):
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy

    def d(x, y):
        t = 0.0 if ll == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / ll))
        return math.hypot(x - ax - t * dx, y - ay - t * dy) - half_width

    return d


def sd_polyline(points, half_width):
    segs = [sd_segment(*points[i], *points[i + 1], half_width) for i in range(len(points) - 1)]
    return lambda x, y: min(s(x, y) for s in segs)


def sd_union(*shapes):
    return lambda x, y: min(s(x, y) for s in shapes)


def sd_round_rect(cx, cy, hw, hh, r):
    def d(x, y):
        qx = abs(x - cx) - (hw - r)
        qy = abs(y - cy) - (hh - r)
        outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
        return outside + min(max(qx, qy), 0.0) - r

    return d


def sd_arc(cx, cy, r, a0, a1, half_width):
    """Stroke of a circle arc from angle a0 to a1 (degrees, clockwise on screen: y grows down)."""
    a0r, span = math.radians(a0), math.radians(a1 - a0)
    ends = [(cx + r * math.cos(math.radians(a)), cy + r * math.sin(math.radians(a))) for a in (a0, a1)]

    def d(x, y):
        a = (math.atan2(y - cy, x - cx) - a0r) % (2 * math.pi)
        if a <= span:
            return abs(math.hypot(x - cx, y - cy) - r) - half_width
        return min(math.hypot(x - ex, y - ey) for ex, ey in ends) - half_width

    return d


# ---------------------------------------------------------------- rasteriser


def render(size, layers, ss=SUPERSAMPLE):
    """layers: list of (sdf, (r, g, b)) painted in order, later on top.

    Returns rows of straight-alpha RGBA bytes.
    """
    top_down = list(reversed(layers))
    offsets = [(i + 0.5) / ss for i in range(ss)]
    n = ss * ss
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            cx, cy = px + 0.5, py + 0.5
            # Uniform pixel: every layer's edge is farther than the half diagonal.
            ds = [sdf(cx, cy) for sdf, _ in top_down]
            if all(abs(d) > 0.75 for d in ds):
                colour = next((c for d, (_, c) in zip(ds, top_down) if d < 0), None)
                row += bytes(colour) + b"\xff" if colour else b"\x00\x00\x00\x00"
                continue
            r = g = b = a = 0
            for oy in offsets:
                for ox in offsets:
                    x, y = px + ox, py + oy
                    for sdf, colour in top_down:
                        if sdf(x, y) < 0:
                            r += colour[0]
                            g += colour[1]
                            b += colour[2]
                            a += 1
                            break
            if a == 0:
                row += b"\x00\x00\x00\x00"
            else:
                row += bytes((round(r / a), round(g / a), round(b / a), round(255 * a / n)))
        rows.append(row)
    return rows


# ---------------------------------------------------------------- tray glyphs


def shade(c, f):
    return tuple(round(v * f) for v in c)


def snap(v, size):
    """Snap an edge to the pixel grid at small sizes, where half-pixel blur shows."""
    return round(v) if size <= 24 else v


def rect_edges(x0, y0, x1, y1, size, r=0.0):
    """A rounded rectangle by its edges, snapped to whole pixels at small sizes."""
    x0, y0, x1, y1 = (snap(v, size) for v in (x0, y0, x1, y1))
    r = min(r, (x1 - x0) / 2, (y1 - y0) / 2) if size > 24 else min(r, 0.6)
    return sd_round_rect((x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2, r)


def symbol(key, size, cx, cy, u, sw):
    """The white inner mark that says the state without colour. u: disc radius."""
    hw = sw / 2
    if key == "operational":  # check mark
        pts = [(-0.44, 0.02), (-0.12, 0.34), (0.44, -0.28)]
        return sd_polyline([(cx + a * u, cy + b * u) for a, b in pts], hw)
    if key == "outage":  # cross
        k = 0.33 * u
        return sd_union(
            sd_segment(cx - k, cy - k, cx + k, cy + k, hw),
            sd_segment(cx - k, cy + k, cx + k, cy - k, hw),
        )
    if key == "degraded":  # exclamation mark: pixel-aligned bar and dot
        width = max(2, round(sw))
        left = snap(cx - width / 2, size)
        right = left + width
        bar = rect_edges(left, cy - 0.667 * u, right, cy + 0.133 * u, size)
        dot = rect_edges(left, cy + 0.267 * u, right, cy + 0.267 * u + width, size)
        return sd_union(bar, dot)
    if key == "auth_error":  # padlock: body, shackle
        body = rect_edges(cx - 0.4 * u, cy + 0.0 * u, cx + 0.4 * u, cy + 0.534 * u, size, 0.06 * u)
        shw = max(0.5, 0.075 * u)
        sr = 0.2 * u
        scy = cy - 0.2 * u
        if size <= 24:  # legs exactly one or two pixels wide, on the grid
            shw = round(shw * 2) / 2
            sr = round(sr + shw) - shw
        shackle = sd_union(
            sd_arc(cx, scy, sr, 180, 360, shw),
            sd_segment(cx - sr, scy, cx - sr, cy + 0.1 * u, shw),
            sd_segment(cx + sr, scy, cx + sr, cy + 0.1 * u, shw),
        )
        return sd_union(body, shackle)
    if key == "unknown":  # question mark
        r = 0.25 * u
        acy = cy - 0.24 * u
        shw = hw * 0.85
        return sd_union(
            sd_arc(cx, acy, r, 170, 440, shw),
            sd_segment(cx + r * math.cos(math.radians(80)), acy + r * math.sin(math.radians(80)),
                       cx, cy + 0.16 * u, shw),
            sd_circle(cx, cy + 0.5 * u, hw * 1.05),
        )
    raise ValueError(key)


def tray_layers(key, size, dot):
    colour = KEYS[key]
    margin = max(0.5, size * 0.03)
    c = size / 2
    radius = c - margin
    outline = max(1.0, size / 20)
    sw = size * 0.125
    layers = [
        (sd_circle(c, c, radius), shade(colour, OUTLINE_SHADE)),
        (sd_circle(c, c, radius - outline), colour),
        (symbol(key, size, c, c, radius, sw), WHITE),
    ]
    if key == "auth_error" and size >= 24:  # keyhole
        layers.append((sd_circle(c, c + 0.17 * radius, max(0.8, size * 0.045)), colour))
    if dot:
        br = max(2.0, size * 0.14)
        ring = max(1.0, size * 0.055)
        bc = size - br - ring
        layers.append((sd_circle(bc, bc, br + ring), WHITE))
        layers.append((sd_circle(bc, bc, br), BADGE))
    return layers


# ---------------------------------------------------------------- app icon


def app_layers(size):
    m = size * 0.06
    half = size / 2 - m
    c = size / 2
    layers = [(sd_round_rect(c, c, half, half, size * 0.22), BRAND)]
    # Two toggles, one on, one off: a switchboard.
    ph = size * 0.105  # pill half-height
    pw = size * 0.26  # pill half-width
    stroke = max(1.0, size * 0.035)
    for row, on in ((-0.17, True), (0.19, False)):
        y = c + row * size
        if on:
            layers.append((sd_round_rect(c, y, pw, ph, ph), WHITE))
            layers.append((sd_circle(c + pw - ph, y, ph - stroke * 1.3), BRAND))
        else:
            pill = sd_round_rect(c, y, pw, ph, ph)
            inner = sd_round_rect(c, y, pw - stroke, ph - stroke, ph - stroke)
            layers.append((lambda x, yy, p=pill, i=inner: max(p(x, yy), -i(x, yy)), WHITE))
            layers.append((sd_circle(c - pw + ph, y, ph - stroke * 1.3), WHITE))
    return layers


# ---------------------------------------------------------------- checks


def luminance(c):
    def lin(v):
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(v) for v in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def classify(rgb):
    """The state key whose colour a pixel carries, or None for white/black/mixed.

    Same rule as the Rust test in src/tray.rs: hue for saturated pixels, a
    mid-grey band for the grey key.
    """
    h, s, v = colorsys.rgb_to_hsv(*(x / 255 for x in rgb))
    if s < 0.18:
        return "unknown" if 0.3 <= v <= 0.8 else None
    best, best_d = None, 1.0
    for key, c in KEYS.items():
        if key == "unknown":
            continue
        kh = colorsys.rgb_to_hsv(*(x / 255 for x in c))[0]
        d = min(abs(h - kh), 1 - abs(h - kh))
        if d < best_d:
            best, best_d = key, d
    return best if best_d < 0.06 else None


def state_share(key, rows):
    opaque = hits = 0
    for row in rows:
        for i in range(0, len(row), 4):
            if row[i + 3] >= 128:
                opaque += 1
                hits += classify(tuple(row[i : i + 3])) == key
    return hits / opaque


# ---------------------------------------------------------------- preview


def blend(panel, rows, x0, y0, canvas, scale=1):
    for y, row in enumerate(rows):
        for x in range(len(row) // 4):
            r, g, b, a = row[4 * x : 4 * x + 4]
            for dy in range(scale):
                for dx in range(scale):
                    px, py = x0 + x * scale + dx, y0 + y * scale + dy
                    bg = canvas[py][px]
                    canvas[py][px] = tuple(round((c * a + bgc * (255 - a)) / 255) for c, bgc in zip((r, g, b), bg))


def preview(tray, app):
    """One row per icon; on a light then a dark panel: every size at 1:1, then 16 px at 6x."""
    pad, big = 8, 6
    native_w = sum(TRAY_SIZES) + pad * len(TRAY_SIZES)
    panel_w = max(native_w + 16 * big + 22 * big + pad * 3, 256 + 128 + 32 + pad * 4)
    row_h = max(48, 22 * big) + pad
    width = 2 * panel_w
    height = row_h * len(tray) + 256 + pad * 2
    canvas = [[PANELS["light"] if x < panel_w else PANELS["dark"] for x in range(width)] for _ in range(height)]
    for i, (name, by_size) in enumerate(tray):
        y = pad // 2 + i * row_h
        for p in range(2):
            x = p * panel_w + pad
            for s in TRAY_SIZES:
                blend(None, by_size[s], x, y, canvas)
                x += s + pad
            blend(None, by_size[16], x, y, canvas, big)
            x += 16 * big + pad
            blend(None, by_size[22], x, y, canvas, big)
    y = row_h * len(tray) + pad
    for p in range(2):
        x = p * panel_w + pad
        for s in (256, 128, 32):
            blend(None, app[s], x, y, canvas)
            x += s + pad
    rows = [bytearray(v for px in line for v in (*px, 255)) for line in canvas]
    write_png(os.path.join(HERE, "preview.png"), width, height, rows)


# ---------------------------------------------------------------- main

README = """# Tray icons

The tray icon is a disc in the *preferred* provider's state colour with a white
mark, so colour is never the only signal: **operational** green with a check
mark; **degraded** amber with "!" (also used for overloaded and rate limited);
**outage** red with "×"; **auth_error** purple with a padlock (the user's key or
account is the problem); **unknown** grey with "?" (also used for offline, when
the user's own network is down). The `-dot` variants add a dark, white-ringed
badge in the lower-right corner meaning "another watched provider has a
problem". Each comes at 16, 22, 24, 32 and 48 px (`<key>[-dot]-<size>.png`);
`manifest.json` records each file's state colour and the share of its opaque
pixels that carry that colour. The files are generated: edit and run
`python3 icons/generate.py` (Python 3, no dependencies) rather than editing
PNGs, then look at `icons/preview.png`.
"""


def hicolor():
    os.makedirs(HICOLOR_DIR, exist_ok=True)
    for size in HICOLOR_SIZES:
        rows = render(size, app_layers(size), 4 if size > 64 else SUPERSAMPLE)
        write_png(os.path.join(HICOLOR_DIR, f"app-{size}.png"), size, size, rows)


def main():
    hicolor()
    os.makedirs(TRAY_DIR, exist_ok=True)
    for key, c in KEYS.items():
        cw, cd = contrast(c, PANELS["light"]), contrast(c, PANELS["dark"])
        print(f"{key:12} #{c[0]:02x}{c[1]:02x}{c[2]:02x}  vs light {cw:.2f}:1  vs dark {cd:.2f}:1")
        assert cw >= 3.0 and cd >= 3.0, f"{key} lacks contrast on a panel"
    manifest = {}
    tray = []
    for key in KEYS:
        for dot in (False, True):
            stem = key + ("-dot" if dot else "")
            by_size = {}
            for size in TRAY_SIZES:
                rows = render(size, tray_layers(key, size, dot))
                by_size[size] = rows
                name = f"{stem}-{size}.png"
                write_png(os.path.join(TRAY_DIR, name), size, size, rows)
                share = state_share(key, rows)
                assert share >= 0.5, f"{name}: only {share:.0%} of opaque pixels carry the state colour"
                manifest[name] = {
                    "key": key,
                    "dot": dot,
                    "size": size,
                    "rgb": "#%02x%02x%02x" % KEYS[key],
                    "state_share": round(share, 3),
                }
            tray.append((stem, by_size))
            print(f"{stem:16} share " + " ".join(f"{manifest[f'{stem}-{s}.png']['state_share']:.2f}" for s in TRAY_SIZES))
    app = {}
    for size, name in APP_SIZES:
        rows = render(size, app_layers(size), 4 if size > 64 else SUPERSAMPLE)
        app[size] = rows
        write_png(os.path.join(HERE, name), size, size, rows)
    with open(os.path.join(TRAY_DIR, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(TRAY_DIR, "README.md"), "w") as f:
        f.write(README)
    preview(tray, app)


if __name__ == "__main__":
    import sys

    hicolor() if sys.argv[1:] == ["--hicolor"] else main()
