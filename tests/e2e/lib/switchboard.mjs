// Starts the real `switchboard watch` against the fakes, with a throwaway
// config and data directories, and talks to its API.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { fakeAnthropic, fakeOpenAI, fakeStatusPages, freePort } from "./fakes.mjs";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
// How long `switchboard watch` may take to answer its first request.
const START_TIMEOUT_MS = 30_000;

/** The binary under test: $SWITCHBOARD_BIN, else the release build in $CARGO_TARGET_DIR. */
export function binary() {
  if (process.env.SWITCHBOARD_BIN) return process.env.SWITCHBOARD_BIN;
  const candidates = [
    process.env.CARGO_TARGET_DIR && path.join(process.env.CARGO_TARGET_DIR, "release/switchboard"),
    path.join(os.homedir(), ".cache/switchboard-target/release/switchboard"),
    path.join(REPO, "target/release/switchboard"),
  ].filter(Boolean);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(
      `no switchboard binary: build it (cargo build --release --bin switchboard) or set SWITCHBOARD_BIN; looked in ${candidates.join(", ")}`,
    );
  }
  return found;
}

/** A TOML string. */
const q = (s) => JSON.stringify(String(s));

function configToml({ listen, gateway, anthropic, openai, pages, check }) {
  const lines = [
    "# Written by tests/e2e: every peer is a fake on 127.0.0.1.",
    "use_catalog = false",
    'preferred = "anthropic"',
    'fallback = ["anthropic", "openai"]',
    "auto_switch = false",
    "",
  ];
  if (check) {
    lines.push("[check]");
    for (const [k, v] of Object.entries(check)) lines.push(`${k} = ${v}`);
    lines.push("");
  }
  lines.push(
    "[notifications]",
    "enabled = false",
    "",
    "[server]",
    `listen = ${q(`127.0.0.1:${listen}`)}`,
    "",
    "[gateway]",
    ...(gateway ? ["enabled = true", `listen = ${q(gateway)}`] : ["enabled = false"]),
    "",
    "[[providers]]",
    'id = "anthropic"',
    'kind = "anthropic"',
    'name = "Claude API"',
    `base_url = ${q(anthropic.url)}`,
    `status_page = ${q(pages.claude)}`,
    'status_format = "statuspage"',
    'components = ["k8w3r06qmzrp"]',
    'api_key_env = "SWITCHBOARD_E2E_ANTHROPIC_KEY"',
    'model = "claude-sonnet-4-5"',
    "",
    "[[providers]]",
    'id = "openai"',
    'kind = "openai"',
    'name = "OpenAI API"',
    `base_url = ${q(openai.url)}`,
    `status_page = ${q(pages.openai)}`,
    'status_format = "statuspage"',
    'components = ["Chat Completions", "Responses"]',
    'api_key_env = "SWITCHBOARD_E2E_OPENAI_KEY"',
    'model = "gpt-4o-mini"',
    "",
  );
  return lines.join("\n");
}

/**
 * Fakes + config + `switchboard watch`. Resolves once the API answers and
 * the first round of checks is in.
 *
 * @param {object} o
 * @param {boolean} [o.anthropicFailing] start the Anthropic fake in its 500 state
 * @param {string|null} [o.anthropicKey] the Anthropic key, from an env var; null: no key at all
 * @param {boolean} [o.anthropicMessagesFailing] POST /v1/messages answers 500 while the probe still passes
 * @param {string|null} [o.openaiKey] the OpenAI key, from an env var; null: no key
 * @param {object|null} [o.check] `[check]` keys; null keeps Switchboard's defaults
 * @param {string|null} [o.gateway] `[gateway].listen` ("127.0.0.1:0": any free port); null: gateway off
 * @param {boolean} [o.claudeHome] run with HOME in the temp dir, holding an empty `~/.claude/projects`
 *   (as after a first Claude Code run); `sb.home` is that HOME
 */
export async function startSwitchboard({
  anthropicFailing = false,
  anthropicMessagesFailing = false,
  anthropicKey = "sk-ant-e2e-env-key",
  openaiKey = null,
  check = null,
  gateway = null,
  claudeHome = false,
} = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-e2e-"));
  const anthropic = await fakeAnthropic({ failing: anthropicFailing, messagesFailing: anthropicMessagesFailing });
  const openai = await fakeOpenAI();
  const pages = await fakeStatusPages();
  const listen = await freePort();
  const config = path.join(dir, "config", "config.toml");
  fs.mkdirSync(path.dirname(config), { recursive: true });
  fs.writeFileSync(config, configToml({ listen, gateway, anthropic, openai, pages, check }));

  const logPath = path.join(dir, "switchboard.log");
  const log = fs.openSync(logPath, "a");
  const env = {
    ...process.env,
    // History and caches land in the temp dir, never in the user's.
    XDG_CONFIG_HOME: path.join(dir, "xdg-config"),
    XDG_DATA_HOME: path.join(dir, "xdg-data"),
    XDG_STATE_HOME: path.join(dir, "xdg-state"),
    XDG_CACHE_HOME: path.join(dir, "xdg-cache"),
    RUST_LOG: process.env.RUST_LOG ?? "info",
  };
  const home = path.join(dir, "home");
  if (claudeHome) {
    fs.mkdirSync(path.join(home, ".claude", "projects"), { recursive: true });
    env.HOME = home;
    delete env.CLAUDE_CONFIG_DIR;
    delete env.CODEX_HOME;
  }
  if (anthropicKey) env.SWITCHBOARD_E2E_ANTHROPIC_KEY = anthropicKey;
  else delete env.SWITCHBOARD_E2E_ANTHROPIC_KEY;
  if (openaiKey) env.SWITCHBOARD_E2E_OPENAI_KEY = openaiKey;
  else delete env.SWITCHBOARD_E2E_OPENAI_KEY;
  delete env.SWITCHBOARD_CONFIG;
  const child = spawn(binary(), ["watch", "--config", config], { env, stdio: ["ignore", log, log] });
  let exited = null;
  let stopped = false;
  child.on("exit", (code, signal) => (exited = { code, signal }));

  const base = `http://127.0.0.1:${listen}`;
  const sb = {
    base,
    dir,
    home,
    config,
    anthropic,
    openai,
    child,
    log: () => fs.readFileSync(logPath, "utf8"),
    token: null,
    /** GET a JSON API path. */
    async get(p) {
      const res = await fetch(base + p);
      const text = await res.text();
      if (!res.ok) throw new Error(`GET ${p}: HTTP ${res.status}: ${text}`);
      return { json: JSON.parse(text), text };
    },
    /** A mutation, with the token and a same-origin Origin, as the page sends it. */
    async send(method, p, body, token = sb.token) {
      const res = await fetch(base + p, {
        method,
        headers: { "content-type": "application/json", "x-switchboard-token": token, origin: base },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, text, json: text ? JSON.parse(text) : null };
    },
    async status() {
      return (await sb.get("/api/status")).json;
    },
    /** `GET /api/gateway`. */
    async gateway() {
      return (await sb.get("/api/gateway")).json;
    },
    /**
     * A request through the gateway, as a client sends it: `POST {path}` on
     * the address `/api/gateway` reports. Resolves to {status, headers, json}.
     */
    async throughGateway(p, body, headers = {}) {
      const { listen } = await sb.gateway();
      if (!listen) throw new Error("the gateway is not running");
      const res = await fetch(`http://${listen}${p}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        // Reported as text below.
      }
      return { status: res.status, headers: res.headers, json, text };
    },
    /** Polls `GET /api/status` until `pred(report)` holds. */
    async waitForStatus(pred, what, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      let last;
      while (Date.now() < until) {
        last = await sb.status().catch(() => null);
        if (last && pred(last)) return last;
        await sleep(100);
      }
      throw new Error(`timed out waiting for ${what}; last /api/status: ${JSON.stringify(last)}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (!exited) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await new Promise((r) => (exited ? r() : child.once("exit", r)));
        clearTimeout(killer);
      }
      fs.closeSync(log);
      await Promise.all([anthropic.close(), openai.close(), pages.close()]);
      if (!process.env.SWITCHBOARD_E2E_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    const until = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exited) throw new Error(`switchboard watch exited early (${JSON.stringify(exited)})`);
      const res = await fetch(`${base}/`).catch(() => null);
      if (res?.ok) {
        const html = await res.text();
        sb.token = /<meta name="switchboard-token" content="([^"]*)">/.exec(html)?.[1] ?? "";
        break;
      }
      if (Date.now() > until) throw new Error(`switchboard did not answer on ${base} within ${START_TIMEOUT_MS} ms`);
      await sleep(100);
    }
    // The first round is in when the probe (or, without a key, the status page) has answered.
    await sb.waitForStatus((r) => {
      const p = r.providers?.find((x) => x.id === "anthropic");
      return anthropicKey ? p?.probe : p?.status_page;
    }, "the first round of checks");
  } catch (err) {
    const out = sb.log();
    await sb.stop().catch(() => {});
    err.message += `\n--- switchboard log ---\n${out}`;
    throw err;
  }
  return sb;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
