// Browser end-to-end tests of the dashboard: the real `switchboard watch`
// against fake providers and status pages on 127.0.0.1, driven in Debian's
// headless Chromium through playwright-core.
//
//   scripts/with-secret-service.sh env SWITCHBOARD_E2E_KEYRING=1 \
//       node --test --test-concurrency=1 tests/e2e/run.mjs
//
// (`make test` does this as its `e2e` stage.) The key tests write to the
// Secret Service, so they run only inside that throwaway keyring session
// (SWITCHBOARD_E2E_KEYRING=1); elsewhere they skip, or fail when
// SWITCHBOARD_REQUIRE_KEYRING=1.
//
// Environment: SWITCHBOARD_BIN (default $CARGO_TARGET_DIR/debug/switchboard),
// CHROMIUM_BIN (default /usr/bin/chromium), SWITCHBOARD_E2E_SCREENSHOTS
// (default docs/screenshots), SWITCHBOARD_E2E_KEEP=1 keeps the temp dirs
// (config, log, history) for a look after a failure.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { accessibilityProblems, contrastProblems, launch, openDashboard, overflowing } from "./lib/browser.mjs";
import { sleep, startSwitchboard } from "./lib/switchboard.mjs";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
// The README shows these; SWITCHBOARD_E2E_SCREENSHOTS sends them elsewhere
// (to keep a working tree clean, say).
const SCREENSHOTS = process.env.SWITCHBOARD_E2E_SCREENSHOTS ?? path.join(REPO, "docs/screenshots");

// Short intervals for the functional tests; bench/ui_detection.mjs measures
// with Switchboard's defaults (60 s / 10 s).
const FAST_CHECK = { interval_secs: 2, confirm_secs: 1, timeout_secs: 5 };
// Upper bound for a state change to reach the page with FAST_CHECK:
// one interval + one confirm + probe time + slack for a loaded CI machine.
const LIVE_TIMEOUT_MS = 15_000;

const KEYRING = process.env.SWITCHBOARD_E2E_KEYRING === "1";
const KEYRING_SKIP =
  !KEYRING && process.env.SWITCHBOARD_REQUIRE_KEYRING !== "1"
    ? "needs a throwaway keyring: run inside scripts/with-secret-service.sh with SWITCHBOARD_E2E_KEYRING=1 (make test does)"
    : false;

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const has = (text, words) => assert.match(text, new RegExp(escape(words), "i"), `expected "${words}" in:\n${text}`);

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

describe("seed outage: Claude API answers HTTP 500 api_error", () => {
  let sb;
  let page;
  let errors;
  let context;
  before(async () => {
    sb = await startSwitchboard({ anthropicFailing: true, check: FAST_CHECK });
    await sb.waitForStatus(
      (r) => r.providers.find((p) => p.id === "anthropic").state === "outage",
      "anthropic in outage",
    );
    ({ context, page, errors } = await openDashboard(browser, sb.base));
  });
  after(async () => {
    await context?.close();
    await sb?.stop();
  });

  test("the card shows the outage, its cause and that the status page has not said so yet", async () => {
    const card = page.locator("#provider-anthropic");
    await card.locator('.card-head .badge[data-state="outage"]').waitFor();
    const text = await card.innerText();
    has(text, "Outage");
    has(text, "HTTP 500");
    has(text, "api_error");
    has(text, "Internal server error");
    has(text, sb.anthropic.requestId);
    has(text, "Not yet on the status page");
    // Status-page components with their status in words.
    has(text, "Claude API (api.anthropic.com)");
    has(text, "All Systems Operational");
    // Where the key comes from, never the key.
    const report = await sb.status();
    const envName = report.providers.find((p) => p.id === "anthropic").api_key_env;
    has(text, envName ?? "environment variable");
    assert.ok(!text.includes("sk-ant-e2e-env-key"));
    // The request id is monospace, so it can be read and copied exactly.
    const font = await card.locator(".reqid code").evaluate((el) => getComputedStyle(el).fontFamily);
    assert.match(font, /mono/i);
    // The headline names the failing provider; the healthy one stays green.
    has(await page.locator("#overview").innerText(), "Claude API: outage");
    await page.locator('#provider-openai .card-head .badge[data-state="operational"]').waitFor();
    // Colour follows the state, and differs between the two.
    const colour = (id) => page.locator(`#provider-${id} .card-head .badge`).evaluate((b) => getComputedStyle(b).backgroundColor);
    assert.notEqual(await colour("anthropic"), await colour("openai"));
    assert.deepEqual(errors, []);
  });

  test("the timeline and uptime come from /api/history", async () => {
    const card = page.locator("#provider-anthropic");
    await card.locator("svg.timeline").waitFor();
    const label = await card.locator("svg.timeline").evaluate((svg) =>
      svg
        .getAttribute("aria-labelledby")
        .split(" ")
        .map((id) => document.getElementById(id).textContent)
        .join(" "),
    );
    has(label, "Claude API: state over the last 24 hours");
    has(label, "Outage");
    has(await card.locator(".uptime").innerText(), "24 h");
    // The outage segment is striped as well as red.
    assert.ok(await card.locator('svg.timeline rect[fill^="url(#"]').count() > 0, "no striped outage segment");
    await page.locator('.seg-btn[data-range="7d"]').click();
    await card.getByRole("heading", { name: "Last 7 days" }).waitFor();
    assert.equal(await page.locator('.seg-btn[data-range="7d"]').getAttribute("aria-pressed"), "true");
    await page.locator('.seg-btn[data-range="24h"]').click();
    await card.getByRole("heading", { name: "Last 24 hours" }).waitFor();
    assert.deepEqual(errors, []);
  });

  test("names, labels and keyboard: every control is reachable and named", async () => {
    assert.deepEqual(await accessibilityProblems(page), []);
    // Tab through the page and collect what gets focus.
    await page.locator("body").focus();
    const reached = new Set();
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press("Tab");
      reached.add(
        await page.evaluate(() => {
          const el = document.activeElement;
          return el.id || el.dataset.focus || el.dataset.range || el.getAttribute("aria-label") || el.textContent.trim();
        }),
      );
    }
    for (const want of ["check-now", "24h", "7d", "copy", "key-openai", "pref-anthropic", "auto"]) {
      assert.ok(reached.has(want), `Tab never reached ${want}; reached: ${[...reached].join(", ")}`);
    }
    // Focus is visible.
    await page.locator("#check-now").focus();
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Tab");
    const outline = await page.locator("#check-now").evaluate((el) => getComputedStyle(el).outlineStyle);
    assert.notEqual(outline, "none");
    assert.deepEqual(errors, []);
  });

  test("screenshots at 390 and 1280 px, light and dark; AA contrast; no sideways scrolling", async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    for (const scheme of ["light", "dark"]) {
      for (const width of [360, 390, 1280]) {
        const shot = await openDashboard(browser, sb.base, { width, scheme });
        await shot.page.locator("#provider-anthropic svg.timeline").waitFor();
        await shot.page.locator("#provider-openai svg.timeline").waitFor();
        assert.deepEqual(await overflowing(shot.page), [], `horizontal overflow at ${width} px (${scheme})`);
        assert.deepEqual(await contrastProblems(shot.page), [], `contrast at ${width} px (${scheme})`);
        if (width !== 360) {
          // Let the toast and any late history settle before the picture.
          await sleep(300);
          const file = path.join(SCREENSHOTS, `dashboard-${width}-${scheme}.png`);
          await shot.page.screenshot({ path: file, fullPage: true });
          assert.ok(fs.statSync(file).size > 10_000, `${file} looks empty`);
        }
        assert.deepEqual(shot.errors, []);
        await shot.context.close();
      }
    }
  });

  test("choosing OpenAI as preferred changes GET /api/status", async () => {
    assert.equal((await sb.status()).preferred, "anthropic");
    await page.locator('#routing input[name="preferred"][value="openai"]').check();
    await sb.waitForStatus((r) => r.preferred === "openai", "preferred = openai");
    await page.locator("#provider-openai .tag", { hasText: "Preferred" }).waitFor();
    assert.equal(await page.locator("#provider-anthropic .tag").count(), 0);
    // And back, with the keyboard this time.
    await page.locator('#routing input[value="openai"]').focus();
    await page.keyboard.press("ArrowUp");
    await sb.waitForStatus((r) => r.preferred === "anthropic", "preferred = anthropic");
    assert.deepEqual(errors, []);
  });

  test("fallback order and automatic switching are saved", async () => {
    await page.getByRole("button", { name: "Move OpenAI API up" }).click();
    await sb.waitForStatus((r) => r.fallback.join() === "openai,anthropic", "fallback = openai, anthropic");
    await page.locator(".order li").first().getByText("OpenAI API").waitFor();
    await page.getByLabel("Switch automatically when the preferred provider fails").check();
    await sb.waitForStatus((r) => r.auto_switch === true, "auto_switch = true");
    await page.getByLabel("Switch automatically when the preferred provider fails").uncheck();
    await sb.waitForStatus((r) => r.auto_switch === false, "auto_switch = false");
    // What the page relies on: the token it was given works, a wrong one does not,
    // and errors come back as {"error": "..."} for the page to show.
    const wrongToken = await sb.send("PUT", "/api/preferred", { id: "openai" }, "0".repeat(64));
    assert.equal(wrongToken.status, 401);
    assert.equal(typeof wrongToken.json.error, "string");
    const unknown = await sb.send("PUT", "/api/preferred", { id: "nope" });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.error, /unknown provider/);
    assert.equal((await sb.status()).preferred, "anthropic");
    assert.deepEqual(errors, []);
  });

  test("Check now asks for a new round and shows it", async () => {
    const before = (await sb.status()).checked_at;
    await page.locator("#check-now").click();
    await sb.waitForStatus((r) => r.checked_at !== before, "a new round");
    await page.locator("#checked").getByText(/Checked (just now|\d s ago)/).waitFor();
    assert.deepEqual(errors, []);
  });

  test("a key entered in the page is stored, reaches the provider, and is never shown", { skip: KEYRING_SKIP }, async () => {
    const card = page.locator("#provider-openai");
    has(await card.locator(".cred-line").innerText(), "No key");
    const apiBodies = [];
    page.on("response", async (res) => {
      if (new URL(res.url()).pathname.startsWith("/api/") && !res.url().includes("/api/events")) {
        apiBodies.push(await res.text().catch(() => ""));
      }
    });

    // A key the provider refuses: its own error, in words.
    const bad = `sk-e2e-bad-${randomBytes(10).toString("hex")}`;
    sb.openai.reject(bad);
    await page.locator("#key-openai").fill(bad);
    await card.getByRole("button", { name: "Save and test" }).click();
    const result = card.locator(".key-result");
    await result.getByText(/refused it/).waitFor({ timeout: 20_000 });
    has(await result.innerText(), "HTTP 401");
    has(await result.innerText(), "Incorrect API key provided");

    // A key that works.
    const key = `sk-e2e-${randomBytes(16).toString("hex")}`;
    await page.locator("#key-openai").fill(key);
    await card.getByRole("button", { name: "Save and test" }).click();
    await result.getByText("Key works").waitFor({ timeout: 20_000 });
    assert.ok(
      sb.openai.seen.some((s) => s.auth === `Bearer ${key}`),
      "the fake OpenAI never saw the key that was entered",
    );
    await card.getByText("Key stored in keyring").waitFor();
    assert.equal(await page.locator("#key-openai").inputValue(), "");
    const report = await sb.waitForStatus(
      (r) => r.providers.find((p) => p.id === "openai").credential === "keyring",
      "openai credential = keyring",
    );
    assert.equal(report.providers.find((p) => p.id === "openai").probe.ok, true);

    // Never shown, never kept: not in the page, its storage, or any API answer.
    const secrets = [key, bad];
    const html = await page.evaluate(() => document.documentElement.outerHTML);
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    const sse = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const es = new EventSource("/api/events");
          es.addEventListener("status", (e) => {
            es.close();
            resolve(e.data);
          });
        }),
    );
    const apis = await Promise.all(
      ["/api/status", "/api/history?since=24h", "/api/history?since=7d", "/metrics"].map(async (p) => (await fetch(sb.base + p)).text()),
    );
    for (const secret of secrets) {
      assert.ok(!html.includes(secret), "the key is in the page HTML");
      assert.ok(!storage.includes(secret), "the key is in web storage");
      assert.ok(!sse.includes(secret), "the key is in /api/events");
      for (const body of [...apiBodies, ...apis]) assert.ok(!body.includes(secret), "the key is in an API answer");
      assert.ok(!fs.readFileSync(sb.config, "utf8").includes(secret), "the key is in the config file");
      assert.ok(!sb.log().includes(secret), "the key is in Switchboard's log");
    }

    // Remove it again.
    await card.getByRole("button", { name: "Remove the OpenAI API key from the keyring" }).click();
    await sb.waitForStatus((r) => r.providers.find((p) => p.id === "openai").credential === "none", "openai credential = none");
    await card.locator(".cred-line", { hasText: "No key" }).waitFor();
    assert.deepEqual(errors, []);
  });
});

describe("live: the card turns red without a reload", () => {
  let sb;
  before(async () => {
    sb = await startSwitchboard({ anthropicFailing: false, check: FAST_CHECK });
  });
  after(async () => {
    await sb?.stop();
  });

  test("operational, then the fake fails, then the page shows the outage by itself", async (t) => {
    const { context, page, errors } = await openDashboard(browser, sb.base);
    try {
      const card = page.locator("#provider-anthropic");
      await card.locator('.card-head .badge[data-state="operational"]').waitFor();
      // Everything operational: said calmly, once.
      await page.locator("#overview").getByText("All providers operational").waitFor();
      await page.locator("#link").getByText("Live").waitFor();

      let navigations = 0;
      page.on("framenavigated", (f) => {
        if (f === page.mainFrame()) navigations++;
      });
      await page.evaluate(() => {
        window.__e2eMarker = "same document";
        new MutationObserver(() => {
          const el = document.querySelector("#provider-anthropic");
          if (!window.__redAt && el?.dataset.state === "outage") window.__redAt = Date.now();
        }).observe(document.body, { subtree: true, attributes: true, childList: true });
      });

      const flippedAt = sb.anthropic.fail();
      await card.locator('.card-head .badge[data-state="outage"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
      const redAt = await page.evaluate(() => window.__redAt);
      t.diagnostic(`fake failing -> card red: ${redAt - flippedAt} ms (interval ${FAST_CHECK.interval_secs} s, confirm ${FAST_CHECK.confirm_secs} s)`);
      assert.equal(navigations, 0, "the page navigated");
      assert.equal(await page.evaluate(() => window.__e2eMarker), "same document", "the page reloaded");
      has(await card.innerText(), "HTTP 500");
      has(await page.locator("#overview").innerText(), "Claude API: outage");
      assert.match(await page.title(), /^Outage/);

      // And back, also live.
      sb.anthropic.heal();
      await card.locator('.card-head .badge[data-state="operational"]').waitFor({ timeout: LIVE_TIMEOUT_MS * 2 });
      assert.equal(navigations, 0, "the page navigated");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

describe("empty states that teach", () => {
  let sb;
  before(async () => {
    sb = await startSwitchboard({ anthropicKey: null, check: FAST_CHECK });
    if (KEYRING) {
      // A key an earlier (failed) test left in this throwaway keyring would hide
      // the empty state. (Never outside it: that would be the user's own keyring.)
      for (const id of ["anthropic", "openai"]) await sb.send("DELETE", `/api/credentials/${id}`);
      await sb.waitForStatus((r) => r.providers.every((p) => p.credential !== "keyring"), "no stored keys");
    }
  });
  after(async () => {
    await sb?.stop();
  });

  // Outside the throwaway keyring, keys the user stored would fill the cards.
  test("no keys at all: how to add one", { skip: KEYRING_SKIP }, async () => {
    const { context, page, errors } = await openDashboard(browser, sb.base);
    try {
      const box = page.locator("#no-keys");
      await box.waitFor();
      const text = await box.innerText();
      has(text, "Add an API key");
      has(text, "switchboard key set anthropic");
      await page.locator("#key-anthropic").waitFor();
      await page.locator("#key-openai").waitFor();
      has(await page.locator("#provider-anthropic .cred-line").innerText(), "No key");
      assert.deepEqual(await accessibilityProblems(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test("when Switchboard stops, the page says so and keeps the last state", async () => {
    const { context, page } = await openDashboard(browser, sb.base);
    try {
      await page.locator("#link").getByText("Live").waitFor();
      await sb.stop();
      await page.locator("#link").getByText(/Reconnecting|Disconnected/).waitFor({ timeout: 10_000 });
      assert.equal(await page.locator("article.card").count(), 2);
    } finally {
      await context.close();
    }
  });
});
