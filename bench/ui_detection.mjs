#!/usr/bin/env node
// How long from a provider starting to fail to its card turning red in the
// browser, with Switchboard's default schedule (interval 60 s, confirm 10 s,
// failures_to_open 2).
//
//   scripts/with-secret-service.sh node bench/ui_detection.mjs [TRIALS]
//                                              (default 3; each takes ~75 s)
//
// Needs what the e2e tests need: `npm ci --prefix tests/e2e`, /usr/bin/chromium
// and a debug build (SWITCHBOARD_BIN or $CARGO_TARGET_DIR/debug/switchboard).
// The Anthropic key comes from an environment variable; the wrapper keeps your
// own keyring (which Switchboard reads first) out of the measurement.
//
// Each trial starts a fresh `switchboard watch` (its first round probes at
// once), opens the dashboard, and makes the fake Anthropic API answer HTTP 500
// at a chosen phase of the 60 s cycle: trial i of N fails (i + 0.5) / N of
// the way between two scheduled probes, so the trials cover the cycle evenly.
// Expected: (time left until the next probe) + confirm_secs + probe time,
// i.e. between ~10 s and ~70 s, ~40 s on average. Reported per trial:
//   next probe   failing -> first failing probe (waiting for the schedule)
//   confirmed    first failing probe -> the confirming probe (confirm_secs)
//   server       failing -> the engine decided "outage" (its log line's timestamp)
//   page         failing -> the card is red in the browser (MutationObserver time)
//   push         server -> page: what the event stream and rendering add

import { launch, openDashboard } from "../tests/e2e/lib/browser.mjs";
import { sleep, startSwitchboard } from "../tests/e2e/lib/switchboard.mjs";

const TRIALS = Number(process.argv[2] ?? process.env.TRIALS ?? 3);
// Switchboard's default check interval, which this bench does not override.
const INTERVAL_MS = 60_000;
// A trial that has not turned red after this long has failed.
const GIVE_UP_MS = 2 * INTERVAL_MS;

const s = (ms) => (ms / 1000).toFixed(1).padStart(6);

/**
 * When the engine logged anthropic's change to outage: the tracing line
 * ("... state changed provider=anthropic from=operational to=outage") or the
 * plain one `watch` prints ("<RFC 3339> anthropic: operational -> outage").
 */
function decidedAt(log) {
  for (const raw of log.split("\n")) {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, "");
    if (!/anthropic/.test(line) || !/(to=outage|-> outage)/.test(line)) continue;
    const t = Date.parse(/^\S+/.exec(line)?.[0]);
    if (!Number.isNaN(t)) return t;
  }
  return NaN;
}

const browser = await launch();
const rows = [];
try {
  for (let i = 0; i < TRIALS; i++) {
    const sb = await startSwitchboard({ anthropicFailing: false, check: null });
    try {
      const { page, context } = await openDashboard(browser, sb.base);
      await page.locator('#provider-anthropic[data-state="operational"]').waitFor();
      await page.evaluate(() => {
        new MutationObserver(() => {
          const el = document.querySelector("#provider-anthropic");
          if (!window.__redAt && el?.dataset.state === "outage") window.__redAt = Date.now();
        }).observe(document.body, { subtree: true, attributes: true, childList: true });
      });

      const lastProbe = sb.anthropic.seen.at(-1).at;
      const phase = ((i + 0.5) / TRIALS) * INTERVAL_MS;
      await sleep(Math.max(0, lastProbe + phase - Date.now()));
      const failAt = sb.anthropic.fail();

      try {
        await page.locator('#provider-anthropic[data-state="outage"]').waitFor({ timeout: GIVE_UP_MS });
      } catch (err) {
        const report = await sb.status().catch((e) => e.message);
        err.message += `\n--- /api/status ---\n${JSON.stringify(report)}\n--- switchboard log ---\n${sb.log()}`;
        throw err;
      }
      const pageAt = await page.evaluate(() => window.__redAt);
      const serverAt = decidedAt(sb.log());
      const failing = sb.anthropic.seen.filter((x) => x.mode === "fail");
      const row = {
        phase,
        nextProbe: failing[0].at - failAt,
        confirmed: failing[1] ? failing[1].at - failing[0].at : NaN,
        server: serverAt - failAt,
        page: pageAt - failAt,
        push: pageAt - serverAt,
      };
      rows.push(row);
      console.log(
        `trial ${i + 1}/${TRIALS}: failing at ${s(row.phase)} s into the cycle; next probe ${s(row.nextProbe)} s, ` +
          `confirmed ${s(row.confirmed)} s later, server ${s(row.server)} s, page red ${s(row.page)} s (push ${row.push} ms)`,
      );
      await context.close();
    } finally {
      await sb.stop();
    }
  }
} finally {
  await browser.close();
}

const pages = rows.map((r) => r.page);
const mean = pages.reduce((a, b) => a + b, 0) / pages.length;
const pushes = rows.map((r) => r.push).filter((x) => !Number.isNaN(x));
console.log(
  `\nfailing -> card red (interval 60 s, confirm 10 s): mean ${(mean / 1000).toFixed(1)} s, ` +
    `min ${(Math.min(...pages) / 1000).toFixed(1)} s, max ${(Math.max(...pages) / 1000).toFixed(1)} s over ${rows.length} trials; ` +
    (pushes.length ? `engine decision -> page red ${Math.min(...pushes)}-${Math.max(...pushes)} ms` : "no engine log line to split the time"),
);
