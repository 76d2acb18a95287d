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
// Environment: SWITCHBOARD_BIN (default $CARGO_TARGET_DIR/release/switchboard),
// CHROMIUM_BIN (default /usr/bin/chromium), SWITCHBOARD_E2E_SCREENSHOTS
// (default docs/screenshots), SWITCHBOARD_E2E_KEEP=1 keeps the temp dirs
// (config, log, history) for a look after a failure.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
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

// Cards are re-rendered on every check round: an element found a moment ago
// may be detached by the time it is read (its computed style is then empty,
// its ids no longer in the document). `read` answers null for a detached
// element; this reads again until it gets an answer.
async function readLive(locator, read) {
  for (let i = 0; i < 20; i++) {
    const value = await locator.evaluate(read);
    if (value !== null) return value;
    await sleep(50);
  }
  throw new Error(`${locator} stayed detached`);
}

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
    const font = await readLive(card.locator(".reqid code"), (el) =>
      el.isConnected ? getComputedStyle(el).fontFamily : null,
    );
    assert.match(font, /mono/i);
    // The headline names the failing provider; the healthy one stays green.
    has(await page.locator("#overview").innerText(), "Claude API: outage");
    await page.locator('#provider-openai .card-head .badge[data-state="operational"]').waitFor();
    // Colour follows the state, and differs between the two.
    const colour = (id) => readLive(page.locator(`#provider-${id} .card-head .badge`), (b) =>
        b.isConnected ? getComputedStyle(b).backgroundColor : null,
      );
    assert.notEqual(await colour("anthropic"), await colour("openai"));
    assert.deepEqual(errors, []);
  });

  test("the timeline and uptime come from /api/history", async () => {
    const card = page.locator("#provider-anthropic");
    await card.locator("svg.timeline").waitFor();
    const label = await readLive(card.locator("svg.timeline"), (svg) =>
      svg.isConnected
        ? svg
            .getAttribute("aria-labelledby")
            .split(" ")
            .map((id) => document.getElementById(id).textContent)
            .join(" ")
        : null,
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

  test("AA contrast and no sideways scrolling at 360 and 1280 px, light and dark", async () => {
    // The README's screenshots come from the gateway suite below, which shows
    // the same outage with traffic in the Gateway panel; this one covers the
    // keyless OpenAI card and the gateway's off state.
    for (const scheme of ["light", "dark"]) {
      for (const width of [360, 1280]) {
        const shot = await openDashboard(browser, sb.base, { width, scheme });
        await shot.page.locator("#provider-openai svg.timeline").waitFor();
        await shot.page.locator("#gateway-off").waitFor();
        assert.deepEqual(await overflowing(shot.page), [], `horizontal overflow at ${width} px (${scheme})`);
        assert.deepEqual(await contrastProblems(shot.page), [], `contrast at ${width} px (${scheme})`);
        assert.deepEqual(shot.errors, []);
        await shot.context.close();
      }
    }
  });

  test("the Gateway panel says it is off and how to turn it on", async () => {
    assert.equal((await sb.gateway()).enabled, false);
    const panel = page.locator("#gateway-panel");
    await panel.locator("#gateway-off").waitFor();
    has(await panel.locator("#gateway-state").innerText(), "Off");
    const text = await panel.innerText();
    has(text, "Gateway off: set [gateway] enabled = true");
    assert.equal(await panel.locator(".env-code").count(), 0, "no addresses for a gateway that does not run");
    assert.deepEqual(errors, []);
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
    // Turned on while the preferred provider is in outage: the switch happens at once.
    await sb.waitForStatus((r) => r.auto_switch === true && r.preferred === "openai", "auto_switch = true, preferred = openai");
    await page.locator("#provider-openai .tag", { hasText: "Preferred" }).waitFor();
    await page.getByLabel("Switch automatically when the preferred provider fails").uncheck();
    await sb.waitForStatus((r) => r.auto_switch === false, "auto_switch = false");
    // And back, by hand.
    await page.locator('#routing input[name="preferred"][value="anthropic"]').check();
    await sb.waitForStatus((r) => r.preferred === "anthropic", "preferred = anthropic");
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

/** `{Requests: 1, Failovers: 1, Errors: 0}` (and `Skipped` when any) as the Gateway panel shows it for one provider. */
function trafficCounts(page, id) {
  return page.evaluate((id) => {
    const row = document.getElementById(`traffic-${id}`);
    if (!row) return null;
    const out = {};
    for (const div of row.querySelectorAll("dl.traffic-stats > div")) {
      out[div.querySelector("dt").textContent.trim()] = Number(div.querySelector("dd").textContent);
    }
    return out;
  }, id);
}

/** A Claude Code–style request: what `claude` sends to ANTHROPIC_BASE_URL (not streamed). */
const CLAUDE_REQUEST = {
  model: "claude-sonnet-4-5-20250929",
  max_tokens: 256,
  system: "You are Claude Code.",
  messages: [{ role: "user", content: "Say hello." }],
};

describe("gateway: a request fails over to OpenAI, and the panel counts it", () => {
  // The upstream key comes from Switchboard's environment; the client's is ignored.
  const OPENAI_KEY = `sk-e2e-gateway-${randomBytes(12).toString("hex")}`;
  const CLIENT_KEY = `sk-ant-client-${randomBytes(12).toString("hex")}`;
  let sb;
  let page;
  let errors;
  let context;
  let port;
  before(async () => {
    // The Messages API fails for real traffic while the model-list probe still
    // passes: the gateway meets the 500 before the health check does.
    sb = await startSwitchboard({
      check: FAST_CHECK,
      gateway: "127.0.0.1:0",
      openaiKey: OPENAI_KEY,
      anthropicMessagesFailing: true,
    });
    await sb.waitForStatus(
      (r) => r.providers.every((p) => p.state === "operational"),
      "both providers operational",
    );
    const gw = await sb.gateway();
    port = Number(gw.listen?.split(":").pop());
    ({ context, page, errors } = await openDashboard(browser, sb.base));
  });
  after(async () => {
    await context?.close();
    await sb?.stop();
  });

  test("running, no traffic yet: where it listens and the two variables, with the real port", async () => {
    const gw = await sb.gateway();
    assert.equal(gw.enabled, true);
    assert.equal(gw.running, true);
    assert.equal(gw.error, null);
    assert.ok(port > 0, `port 0 was asked for, a real one must be shown: ${gw.listen}`);
    const panel = page.locator("#gateway-panel");
    await panel.locator("#traffic-empty").waitFor();
    has(await panel.locator("#gateway-state").innerText(), "Running");
    assert.equal(await panel.locator("#gateway-listen").innerText(), `127.0.0.1:${port}`);
    assert.equal(await panel.locator("#env-anthropic").innerText(), `ANTHROPIC_BASE_URL=http://127.0.0.1:${port}`);
    assert.equal(await panel.locator("#env-openai").innerText(), `OPENAI_BASE_URL=http://127.0.0.1:${port}/v1`);
    has(await panel.locator("#traffic-empty").innerText(), "No requests yet");
    // Copy puts the exact line on the clipboard.
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: sb.base });
    await panel.getByRole("button", { name: `Copy OPENAI_BASE_URL=http://127.0.0.1:${port}/v1` }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `OPENAI_BASE_URL=http://127.0.0.1:${port}/v1`);
    await panel.getByText("Copied").waitFor();
    assert.deepEqual(await accessibilityProblems(page), []);
    assert.deepEqual(errors, []);
  });

  test("Claude API answers 500 api_error, the client gets OpenAI's answer, the panel shows it without a reload", async () => {
    let navigations = 0;
    page.on("framenavigated", (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    await page.evaluate(() => (window.__e2eMarker = "same document"));
    // Focus on a Copy button must survive the panel's refresh.
    await page.locator('#gateway button[data-focus="copy-env-anthropic"]').focus();

    const res = await sb.throughGateway("/v1/messages", CLAUDE_REQUEST, {
      "anthropic-version": "2023-06-01",
      "x-api-key": CLIENT_KEY,
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get("x-switchboard-provider"), "openai");
    // A valid Anthropic answer, translated from the fake OpenAI's.
    assert.equal(res.json.type, "message");
    assert.equal(res.json.role, "assistant");
    assert.equal(res.json.content[0].text, "Hello from the fake OpenAI API.");
    // The preferred provider was tried first, then the fallback, each with its own key.
    assert.equal(sb.anthropic.messages.length, 1, "the fake Anthropic API was not tried");
    assert.equal(sb.anthropic.messages[0].key, "sk-ant-e2e-env-key");
    assert.equal(sb.openai.completions.length, 1);
    assert.equal(sb.openai.completions[0].auth, `Bearer ${OPENAI_KEY}`);
    assert.equal(sb.openai.completions[0].body.model, "gpt-4o-mini");

    const gw = await sb.gateway();
    assert.deepEqual(
      [gw.providers.openai.requests, gw.providers.openai.failovers, gw.providers.openai.errors],
      [1, 1, 0],
    );
    assert.deepEqual([gw.providers.anthropic.requests, gw.providers.anthropic.errors], [0, 1]);

    // The page polls /api/gateway: the counts arrive by themselves.
    await page.waitForFunction(
      () => document.querySelector("#traffic-openai dd") && !document.getElementById("traffic-empty"),
      null,
      { timeout: 12_000 },
    );
    assert.deepEqual(await trafficCounts(page, "openai"), { Requests: 1, Failovers: 1, Errors: 0 });
    assert.deepEqual(await trafficCounts(page, "anthropic"), { Requests: 0, Failovers: 0, Errors: 1 });
    const claude = await page.locator("#traffic-anthropic").innerText();
    has(claude, "Claude API");
    has(claude, "HTTP 500 api_error: Internal server error");
    assert.match(claude, /just now|\d+ s ago/);
    // In the routing's order: the preferred provider first.
    assert.deepEqual(
      await page.locator(".traffic > li").evaluateAll((lis) => lis.map((li) => li.dataset.provider)),
      ["anthropic", "openai"],
    );
    assert.equal(navigations, 0, "the page navigated");
    assert.equal(await page.evaluate(() => window.__e2eMarker), "same document", "the page reloaded");
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.focus), "copy-env-anthropic", "focus was lost");

    // No key anywhere: not the upstream keys, not the client's.
    const html = await page.evaluate(() => document.documentElement.outerHTML);
    for (const secret of [OPENAI_KEY, CLIENT_KEY, "sk-ant-e2e-env-key"]) {
      assert.ok(!JSON.stringify(gw).includes(secret), "a key is in /api/gateway");
      assert.ok(!html.includes(secret), "a key is in the page");
      assert.ok(!sb.log().includes(secret), "a key is in Switchboard's log");
    }
    assert.deepEqual(errors, []);
  });

  test("the panel re-reads /api/gateway while the page is visible, and not while it is hidden", async () => {
    const reads = [];
    const onRequest = (req) => {
      if (new URL(req.url()).pathname === "/api/gateway") reads.push(Date.now());
    };
    page.on("request", onRequest);
    try {
      // Visible: the 5 s poll (and status events, throttled) keep it fresh.
      await sleep(6_000);
      assert.ok(reads.length >= 1, "no /api/gateway request in 6 s while visible");
      assert.ok(reads.length <= 8, `${reads.length} /api/gateway requests in 6 s: not throttled`);
      // Hidden (a background tab): nothing, even as status events keep coming.
      const setHidden = (hidden) =>
        page.evaluate((hidden) => {
          Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
          Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
          document.dispatchEvent(new Event("visibilitychange"));
        }, hidden);
      await setHidden(true);
      await sleep(300);
      const hiddenFrom = reads.length;
      await sleep(6_000);
      assert.equal(reads.length, hiddenFrom, "/api/gateway was polled while the page was hidden");
      // Shown again: at once.
      const next = page.waitForRequest((req) => new URL(req.url()).pathname === "/api/gateway", { timeout: 1_000 });
      await setHidden(false);
      await next;
    } finally {
      page.off("request", onRequest);
    }
    assert.deepEqual(errors, []);
  });

  test("screenshots at 390 and 1280 px, light and dark, with the outage and the gateway's traffic; AA contrast; no sideways scrolling", async () => {
    // The probe now meets the 500 as well: the README's picture is Claude API in
    // outage while the gateway keeps answering through OpenAI.
    sb.anthropic.fail();
    await sb.waitForStatus(
      (r) => r.providers.find((p) => p.id === "anthropic").state === "outage",
      "anthropic in outage",
      LIVE_TIMEOUT_MS,
    );
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    for (const scheme of ["light", "dark"]) {
      for (const width of [360, 390, 1280]) {
        const shot = await openDashboard(browser, sb.base, { width, scheme });
        await shot.page.locator('#provider-anthropic .card-head .badge[data-state="outage"]').waitFor();
        await shot.page.locator("#provider-anthropic svg.timeline").waitFor();
        await shot.page.locator("#provider-openai svg.timeline").waitFor();
        await shot.page.locator("#traffic-openai").waitFor();
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
});

describe("gateway: its port is taken", () => {
  let sb;
  let holder;
  before(async () => {
    holder = net.createServer();
    await new Promise((r) => holder.listen(0, "127.0.0.1", r));
    sb = await startSwitchboard({ check: FAST_CHECK, gateway: `127.0.0.1:${holder.address().port}` });
  });
  after(async () => {
    await sb?.stop();
    await new Promise((r) => holder?.close(r));
  });

  test("the dashboard runs, and the Gateway panel says why the gateway does not", async () => {
    const gw = await sb.gateway();
    assert.deepEqual([gw.enabled, gw.running, gw.listen], [true, false, null]);
    const { context, page, errors } = await openDashboard(browser, sb.base);
    try {
      const panel = page.locator("#gateway-panel");
      await panel.locator("#gateway-error").waitFor();
      has(await panel.locator("#gateway-state").innerText(), "Not running");
      const text = await panel.innerText();
      has(text, `127.0.0.1:${holder.address().port}`);
      has(text, "in use");
      assert.equal(await panel.locator(".env-code").count(), 0);
      assert.deepEqual(await contrastProblems(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
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

// Holds SQLite's write lock on `db` (another program with the history open,
// like a backup tool or the sqlite3 shell) until `release()`: every write of
// `switchboard watch` fails with "database is locked" after its busy timeout,
// the way a full disk fails them (tests/faults.rs has the real full disk).
async function holdWriteLock(db) {
  const script = [
    "import sqlite3, sys",
    "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)",
    "c.execute('BEGIN EXCLUSIVE')",
    "print('locked', flush=True)",
    "sys.stdin.read()",
    "c.execute('ROLLBACK')",
  ].join("\n");
  const child = spawn("python3", ["-c", script, db], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise((r) => child.once("exit", r));
  await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => String(d).includes("locked") && resolve());
    child.once("exit", (code) => reject(new Error(`python3 could not lock ${db} (exit ${code})`)));
  });
  return {
    async release() {
      child.stdin.end();
      await exited;
    },
  };
}

describe("history paused: the history database refuses writes", () => {
  let sb;
  before(async () => {
    sb = await startSwitchboard({ check: FAST_CHECK });
  });
  after(async () => {
    await sb?.stop();
  });

  test("the API says history_paused, the page shows a banner with the reason, and both clear by themselves", async () => {
    const { context, page, errors } = await openDashboard(browser, sb.base);
    try {
      assert.equal(await page.locator("#history-paused").count(), 0, "no banner while history is recorded");
      const lock = await holdWriteLock(path.join(sb.dir, "xdg-data", "switchboard", "history.sqlite3"));
      let report;
      try {
        report = await sb.waitForStatus((r) => r.history_paused, "history_paused", 30_000);
        has(report.history_paused.reason, "database is locked");
        const banner = page.locator("#history-paused");
        await banner.waitFor({ timeout: LIVE_TIMEOUT_MS });
        const text = await banner.innerText();
        has(text, "History is paused");
        has(text, "Monitoring goes on");
        has(text, "database is locked");
        // Monitoring does go on: the cards are still live.
        await page.locator('#provider-anthropic .card-head .badge[data-state="operational"]').waitFor();
        assert.deepEqual(await contrastProblems(page), []);
        assert.deepEqual(await accessibilityProblems(page), []);
        await page.locator("#notices").screenshot({ path: path.join(SCREENSHOTS, "history-paused.png") });
      } finally {
        await lock.release();
      }
      await sb.waitForStatus((r) => !r.history_paused, "history_paused cleared", 30_000);
      await page.locator("#history-paused").waitFor({ state: "detached", timeout: LIVE_TIMEOUT_MS });
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

  // The desktop app opens the dashboard with ?tray=… when no tray can show its icon.
  test("the desktop app's no-tray banner says why and how to get a tray; never without ?tray", async () => {
    const cases = [
      ["no-host", "gnome-shell-extension-appindicator"],
      ["no-library", "libayatana-appindicator3-1"],
    ];
    for (const [reason, fix] of cases) {
      for (const width of [360, 1280]) {
        const { context, page, errors } = await openDashboard(browser, sb.base, { width, path: `/?tray=${reason}` });
        try {
          const text = await page.locator("#no-tray").innerText();
          has(text, "No tray icon on this desktop");
          has(text, fix);
          has(text, "Monitoring and notifications work as usual");
          has(text, "switchboard doctor");
          assert.deepEqual(await overflowing(page), [], `horizontal overflow at ${width} px (${reason})`);
          assert.deepEqual(await contrastProblems(page), [], `contrast at ${width} px (${reason})`);
          assert.deepEqual(await accessibilityProblems(page), []);
          assert.deepEqual(errors, []);
        } finally {
          await context.close();
        }
      }
    }
    const { context, page } = await openDashboard(browser, sb.base);
    try {
      assert.equal(await page.locator("#no-tray").count(), 0, "a browser (no ?tray) sees no banner");
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

describe("passive signals: the user's consent, then their own Claude Code errors on the card", () => {
  let sb;
  before(async () => {
    sb = await startSwitchboard({ check: FAST_CHECK, claudeHome: true });
  });
  after(async () => {
    await sb?.stop();
  });

  test("the offer says what is read before anything is; Turn on saves it; errors reach the card", async () => {
    const { context, page, errors } = await openDashboard(browser, sb.base);
    try {
      const offer = page.locator("#passive-offer");
      await offer.waitFor();
      const text = await offer.innerText();
      has(text, "Claude Code");
      has(text, "HTTP status, error type, request id, time, model");
      has(text, "never stored, logged or shown");
      has(text, path.join(sb.home, ".claude", "projects"));
      assert.equal((await sb.get("/api/passive")).json[0].enabled, false, "nothing is read before consent");
      await page.setViewportSize({ width: 1280, height: 900 });
      await offer.screenshot({ path: path.join(SCREENSHOTS, "passive-offer.png") });

      await page.locator("#passive-enable").click();
      await offer.waitFor({ state: "detached" });
      assert.equal((await sb.get("/api/passive")).json[0].enabled, true);
      has(fs.readFileSync(sb.config, "utf8"), "claude_code = true");

      // Every rendering of the card's facts while they are the agent's error (its
      // request id): a round's probe, with a latency of its own, soon replaces them.
      await page.evaluate(() => {
        window.__agentFacts = [];
        new MutationObserver(() => {
          const dl = document.querySelector("#provider-anthropic dl.facts");
          if (dl?.innerText.includes("req_e2e_")) window.__agentFacts.push(dl.innerText);
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });

      // Claude Code writes a session with three failed requests (the shape its 2.1 CLI writes).
      const session = path.join(sb.home, ".claude", "projects", "-home-user-app");
      fs.mkdirSync(session, { recursive: true });
      const file = path.join(session, "0b7c.jsonl");
      fs.appendFileSync(file, JSON.stringify({ type: "user", message: { role: "user", content: "CANARY-E2E-PROMPT" } }) + "\n");
      for (let i = 0; i < 3; i++) {
        const line = {
          type: "assistant",
          timestamp: new Date().toISOString(),
          message: { model: "<synthetic>", role: "assistant", content: [{ type: "text", text: "API Error: 500" }] },
          requestId: `req_e2e_${i}`,
          error: "server_error",
          isApiErrorMessage: true,
          apiErrorStatus: 500,
        };
        fs.appendFileSync(file, JSON.stringify(line) + "\n");
        await sleep(300);
      }
      const seen = page.locator("#provider-anthropic .agent-errors");
      await seen.waitFor({ timeout: LIVE_TIMEOUT_MS });
      has(await seen.innerText(), "seen in your Claude Code sessions: 3 × HTTP 500 server_error in the last 5 min");
      assert.ok(!(await page.content()).includes("CANARY-E2E-PROMPT"));
      // The README's picture: the card while its facts are still the agent's, when it can.
      await page
        .waitForFunction(() => document.querySelector("#provider-anthropic dl.facts")?.innerText.includes("req_e2e_"), null, {
          timeout: 2000,
        })
        .catch(() => {});
      await page.locator("#provider-anthropic").screenshot({ path: path.join(SCREENSHOTS, "passive-card.png") });
      // The agent's error has no latency: a line read from a log was never timed
      // (the card said "Latency 0 ms").
      await page.waitForFunction(() => window.__agentFacts.length > 0, null, { timeout: LIVE_TIMEOUT_MS });
      for (const facts of await page.evaluate(() => window.__agentFacts)) {
        has(facts, "HTTP status");
        assert.doesNotMatch(facts, /Latency|\b0\s*ms/, facts);
      }
      assert.deepEqual(await accessibilityProblems(page), []);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

describe("gateway: a page from another origin cannot spend the user's credits", () => {
  // The attack of issue 16: a page on another site (here: another local port)
  // aims every "simple" request a browser sends without a CORS preflight at
  // the gateway. None may reach a provider.
  let sb;
  let attacker;
  let context;
  before(async () => {
    sb = await startSwitchboard({ check: FAST_CHECK, gateway: "127.0.0.1:0", openaiKey: "sk-e2e-origin-openai" });
    const { listen: gwListen } = await sb.gateway();
    const target = `http://${gwListen}/v1/messages`;
    const body = JSON.stringify({ ...CLAUDE_REQUEST, max_tokens: 32000 });
    const page = `<!doctype html><html><head><meta charset="utf-8"><title>attacker</title></head><body>
<iframe name="sink" style="display:none"></iframe>
<form id="f" method="POST" action="${target}" enctype="text/plain" target="sink">
<input type="hidden" name='${body.slice(0, -1)},"x":"' value='"}'></form>
<script>
window.attacks = (async () => {
  const out = {};
  const t = ${JSON.stringify(target)};
  const b = ${JSON.stringify(body)};
  out.textPlain = await fetch(t, { method: "POST", headers: { "content-type": "text/plain" }, body: b })
    .then((r) => "status " + r.status, (e) => "error " + e.message);
  out.noCors = await fetch(t, { method: "POST", mode: "no-cors", body: b })
    .then((r) => "opaque " + r.type, (e) => "error " + e.message);
  out.beacon = navigator.sendBeacon(t, b);
  document.getElementById("f").submit();
  out.form = "submitted";
  return out;
})();
</script></body></html>`;
    const http = await import("node:http");
    attacker = await new Promise((resolve) => {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(page);
      });
      server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` }));
    });
    context = await browser.newContext();
  });
  after(async () => {
    await context?.close();
    await new Promise((r) => (attacker ? attacker.server.close(r) : r()));
    await sb?.stop();
  });

  test("text/plain fetch, no-cors, a form POST and sendBeacon all stop at the gateway", async () => {
    const page = await context.newPage();
    await page.goto(attacker.url);
    const results = await page.evaluate(() => window.attacks);
    assert.equal(results.beacon, true, `the browser did not queue the beacon: ${JSON.stringify(results)}`);
    // All four reached the gateway and were refused there (not blocked by the
    // browser, which would prove nothing): one log line each.
    const refused = () => (sb.log().match(/gateway request refused/g) ?? []).length;
    const until = Date.now() + 10_000;
    while (refused() < 4 && Date.now() < until) await sleep(100);
    assert.ok(refused() >= 4, `expected 4 refusals, log:\n${sb.log()}`);
    await sleep(500);
    assert.equal(sb.anthropic.messages.length, 0, "the fake Anthropic API saw a request from the page");
    assert.equal(sb.openai.completions.length, 0, "the fake OpenAI API saw a request from the page");
    // The same request from an API client (no Origin, JSON) still goes through,
    // so the fakes would have seen the page's requests had they passed.
    const res = await sb.throughGateway("/v1/messages", CLAUDE_REQUEST, { "anthropic-version": "2023-06-01" });
    assert.equal(res.status, 200, res.text);
    assert.equal(sb.anthropic.messages.length, 1);
  });
});

describe("inference checks: the cost first, then per-model rows that see what the model list cannot", () => {
  // The seed case: GET /v1/models answers 200 while POST /v1/messages answers 500.
  let sb;
  before(async () => {
    sb = await startSwitchboard({ check: FAST_CHECK, anthropicMessagesFailing: true });
    await sb.waitForStatus((r) => r.providers.find((p) => p.id === "anthropic").state === "operational", "anthropic up");
  });
  after(async () => {
    await sb?.stop();
  });

  test("reachability only until the user turns it on after seeing the estimate; then the model row shows the outage", async () => {
    const { context, page, errors } = await openDashboard(browser, sb.base);
    try {
      const card = page.locator("#provider-anthropic");
      const row = card.locator('.model-row[data-model="claude-sonnet-4-5"]');
      await row.waitFor();
      has(await card.locator(".models-section").innerText(), "Reachability only");
      await card.locator("#inference-offer-anthropic").click();
      const confirm = card.locator("#inference-confirm-anthropic");
      await confirm.waitFor();
      const words = await confirm.innerText();
      has(words, "claude-sonnet-4-5");
      assert.match(words, /about \$\d+\.\d\d a month/i, words);
      has(words, "capped at $1.00 a month");
      // Nothing has been sent, and nothing saved, before "Turn on".
      assert.equal(sb.anthropic.messages.length, 0, "no inference request before consent");
      assert.equal((await sb.get("/api/inference")).json.enabled, false);

      await card.locator("#inference-enable-anthropic").click();
      await card.locator('.model-row[data-model="claude-sonnet-4-5"][data-state="outage"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
      await card.locator('.card-head .badge[data-state="outage"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
      has(await card.innerText(), "claude-sonnet-4-5: HTTP 500 api_error");
      has(await card.locator(".models-section").innerText(), "Inference checks: $");
      has(fs.readFileSync(sb.config, "utf8"), "[inference]");
      const sent = sb.anthropic.messages[0].body;
      assert.equal(sent.max_tokens, 1);
      assert.equal(sent.model, "claude-sonnet-4-5");
      assert.equal(sent.system, undefined);
      assert.equal(sent.tools, undefined);
      const status = await sb.status();
      const p = status.providers.find((x) => x.id === "anthropic");
      assert.equal(p.confirmed_by_status_page, false);
      assert.equal(p.inference.enabled, true);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

describe("the key form offers the inference check with its cost before it is turned on", () => {
  // OpenAI starts with no key: its card shows the key form.
  let sb;
  before(async () => {
    sb = await startSwitchboard({ check: FAST_CHECK });
  });
  after(async () => {
    await sb?.stop();
  });

  test("the estimate is read beside 'Also check that gpt-4o-mini answers'; ticking it with a working key turns the checks on", { skip: KEYRING_SKIP }, async () => {
    const { context, page, errors } = await openDashboard(browser, sb.base);
    try {
      const card = page.locator("#provider-openai");
      const consent = card.locator(".key-consent");
      await consent.getByText(/about \$\d+\.\d\d a month here/).waitFor({ timeout: LIVE_TIMEOUT_MS });
      const words = await consent.innerText();
      has(words, "Also check that gpt-4o-mini answers");
      has(words, "every 60 s");
      has(words, "capped at $1.00 a month");
      const box = card.locator("#key-infer-openai");
      assert.equal(await box.isChecked(), false, "off until the user ticks it");
      assert.equal(await box.isEnabled(), true, "enabled once the cost is shown");
      // Showing the offer sent nothing and saved nothing.
      assert.equal(sb.openai.completions.length, 0);
      assert.equal((await sb.get("/api/inference")).json.enabled, false);
      assert.ok(!fs.readFileSync(sb.config, "utf8").includes("[inference]"), "nothing saved before consent");

      const key = `sk-e2e-${randomBytes(16).toString("hex")}`;
      await page.locator("#key-openai").fill(key);
      await box.check();
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      await card.locator(".key-form").screenshot({ path: path.join(SCREENSHOTS, "inference-key-form.png") });
      await card.getByRole("button", { name: "Save and test" }).click();
      await card.locator(".key-result").getByText(/Inference checks on/).waitFor({ timeout: 20_000 });
      has(await card.locator(".key-result").innerText(), "Key works");
      assert.equal((await sb.get("/api/inference")).json.enabled, true);
      has(fs.readFileSync(sb.config, "utf8"), "[inference]");
      // The check itself: one real 1-token request with the key just entered.
      const until = Date.now() + LIVE_TIMEOUT_MS;
      while (sb.openai.completions.length === 0 && Date.now() < until) await sleep(100);
      const sent = sb.openai.completions[0];
      assert.ok(sent, "no inference request reached the fake OpenAI API");
      assert.equal(sent.auth, `Bearer ${key}`);
      assert.equal(sent.body.model, "gpt-4o-mini");
      assert.equal(sent.body.max_completion_tokens ?? sent.body.max_tokens, 1);
      await card.locator('.model-row[data-model="gpt-4o-mini"][data-state="operational"]').waitFor({ timeout: LIVE_TIMEOUT_MS });
      // The checks are on: the form offers them no more.
      await card.locator(".key-consent").waitFor({ state: "detached", timeout: LIVE_TIMEOUT_MS });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
