// Debian's Chromium driven by playwright-core (no browser downloads), and
// checks that run inside the page: accessible names, colour contrast,
// horizontal overflow.

import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";

export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/**
 * A fresh context and page on the dashboard. `errors` collects uncaught page
 * errors and console errors, which every test asserts to be empty.
 */
export async function openDashboard(browser, base, { width = 1280, height = 900, scheme = "light", path = "/" } = {}) {
  const context = await browser.newContext({
    viewport: { width, height },
    colorScheme: scheme,
    deviceScaleFactor: 1,
    reducedMotion: "reduce",
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  await page.goto(`${base}${path}`);
  await page.locator("article.card").first().waitFor();
  return { context, page, errors };
}

/** Problems a screen reader or keyboard user would hit; [] when none. */
export function accessibilityProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const name = (el) => {
      const label = el.getAttribute("aria-label");
      if (label?.trim()) return label.trim();
      const by = el.getAttribute("aria-labelledby");
      if (by) return by.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? "").join(" ").trim();
      if (el.labels?.length) return [...el.labels].map((l) => l.textContent).join(" ").trim();
      return el.textContent.trim();
    };
    const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
    if (!document.documentElement.lang) problems.push("<html> has no lang");
    if (document.querySelectorAll("h1").length !== 1) problems.push("the page needs exactly one h1");
    for (const el of document.querySelectorAll("button, a[href], input, select, textarea, summary")) {
      if (!visible(el) || el.type === "hidden") continue;
      if (!name(el)) problems.push(`no accessible name: ${el.outerHTML.slice(0, 120)}`);
    }
    for (const img of document.querySelectorAll("img")) {
      if (!img.hasAttribute("alt")) problems.push(`img without alt: ${img.src}`);
    }
    for (const svg of document.querySelectorAll('svg[role="img"]')) {
      if (!name(svg)) problems.push("svg role=img without a name");
    }
    for (const svg of document.querySelectorAll("svg:not([role])")) {
      if (svg.getAttribute("aria-hidden") !== "true") problems.push(`decorative svg not aria-hidden in ${svg.parentElement?.className}`);
    }
    const ids = new Map();
    for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) ?? 0) + 1);
    for (const [id, n] of ids) if (n > 1) problems.push(`duplicate id ${id} (${n}x)`);
    for (const b of document.querySelectorAll(".badge")) {
      if (!b.textContent.trim()) problems.push("a state badge without words");
      if (!b.querySelector("svg")) problems.push("a state badge without a shape");
    }
    for (const card of document.querySelectorAll("article")) {
      if (!card.getAttribute("aria-labelledby") || !name(card)) problems.push(`article without a heading name: ${card.id}`);
    }
    return problems;
  });
}

/**
 * Visible text whose contrast with its background is below WCAG AA (4.5:1,
 * or 3:1 for large text). Backgrounds are found by walking up to the first
 * opaque ancestor; disabled controls are exempt, as WCAG allows.
 */
export function contrastProblems(page) {
  return page.evaluate(() => {
    const rgba = (c) => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const over = (top, bottom) => ({
      r: top.r * top.a + bottom.r * (1 - top.a),
      g: top.g * top.a + bottom.g * (1 - top.a),
      b: top.b * top.a + bottom.b * (1 - top.a),
      a: 1,
    });
    const lum = ({ r, g, b }) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const ratio = (a, b) => {
      const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
      return (x + 0.05) / (y + 0.05);
    };
    const background = (el) => {
      const layers = [];
      for (let e = el; e; e = e.parentElement) {
        const bg = rgba(getComputedStyle(e).backgroundColor);
        if (bg && bg.a > 0) {
          layers.push(bg);
          if (bg.a >= 1) break;
        }
      }
      let color = { r: 255, g: 255, b: 255, a: 1 };
      for (const layer of layers.reverse()) color = over(layer, color);
      return color;
    };
    const problems = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.textContent.trim() || seen.has(el) || el.closest("svg, noscript, .visually-hidden, [hidden]")) continue;
      seen.add(el);
      if (!el.getClientRects().length || el.closest(":disabled")) continue;
      const style = getComputedStyle(el);
      let opacity = 1;
      for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
      if (opacity === 0 || style.visibility === "hidden") continue;
      const fg = rgba(style.color);
      const bg = background(el);
      const size = parseFloat(style.fontSize);
      const bold = Number(style.fontWeight) >= 700;
      const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      const r = ratio(over(fg, bg), bg);
      if (r < need) {
        problems.push(`${r.toFixed(2)}:1 < ${need}:1 for "${n.textContent.trim().slice(0, 40)}" (${style.color} on ${JSON.stringify(bg)})`);
      }
    }
    return problems;
  });
}

/** Elements that stick out sideways (would make the page scroll horizontally); [] when none. */
export function overflowing(page) {
  return page.evaluate(() => {
    if (document.documentElement.scrollWidth <= window.innerWidth) return [];
    const out = [];
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width && r.right > window.innerWidth + 0.5) {
        out.push(`${el.tagName.toLowerCase()}.${el.className?.baseVal ?? el.className} right=${Math.round(r.right)}: ${el.textContent.trim().slice(0, 50)}`);
      }
    }
    return out.length ? out.slice(-8) : [`scrollWidth ${document.documentElement.scrollWidth} > ${window.innerWidth}`];
  });
}
