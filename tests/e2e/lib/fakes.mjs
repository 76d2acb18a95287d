// Fake LLM providers and status pages on 127.0.0.1, for the browser tests.
// Nothing here reaches the internet.
//
//   anthropic  GET /v1/models            Anthropic models list, or (fail()) the
//                                        real shape of a 500 api_error with a
//                                        `request-id` header
//              POST /v1/messages         a Messages API answer, or the same 500 while
//                                        failing or while `messagesFailing` (the API
//                                        breaks for real traffic before the probe sees it)
//   openai     GET /v1/models            OpenAI models list for any Bearer key
//                                        (401 without one, or for a reject()ed key);
//                                        remembers every Authorization it saw
//              POST /v1/chat/completions a Chat Completions answer (not streamed)
//   status     GET /claude/api/v2/summary.json   Claude's Statuspage, all green
//              GET /openai/api/v2/summary.json   OpenAI's Statuspage shim, all green

import http from "node:http";
import { randomBytes } from "node:crypto";

/** Starts `handler` on 127.0.0.1 at a free port; resolves to {server, port, url}. */
export function listen(handler) {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    // Longer than any check interval the tests use: a client that reuses a
    // pooled connection just as the server drops it would see a reset, which
    // is a real-world race but not what these tests are about.
    server.keepAliveTimeout = 120_000;
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ server, port, url: `http://127.0.0.1:${port}` });
    });
  });
}

/** Stops listening and drops kept-alive connections. */
function closeServer(server) {
  return new Promise((r) => {
    server.close(r);
    server.closeAllConnections();
  });
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export async function freePort() {
  const { server, port } = await listen(() => {});
  await new Promise((r) => server.close(r));
  return port;
}

function send(res, status, body, headers = {}) {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(data),
    ...headers,
  });
  res.end(data);
}

/** The request body, parsed as JSON (null when it is not). */
async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return null;
  }
}

function notFound(res) {
  send(res, 404, { error: "not found in the fake" });
}

/** A request id in Anthropic's format (`req_` + 24 base62-ish characters). */
export function requestId() {
  return `req_011E2E${randomBytes(12).toString("base64url").replace(/[-_]/g, "x").slice(0, 16)}`;
}

/**
 * The Anthropic API. `failing` starts it in the 500 state. `fail()` / `heal()`
 * switch it and return the time of the switch (ms since epoch).
 */
export async function fakeAnthropic({ failing = false, messagesFailing = false } = {}) {
  let mode = failing ? "fail" : "ok";
  let rid = requestId();
  const seen = [];
  const messages = [];
  const internalError = (res, id) =>
    send(
      res,
      500,
      { type: "error", error: { type: "api_error", message: "Internal server error" }, request_id: id },
      { "request-id": id },
    );
  const { server, url } = await listen(async (req, res) => {
    const path = req.url.split("?")[0];
    if (req.method === "POST" && path === "/v1/messages") {
      const body = await readJson(req);
      messages.push({ at: Date.now(), key: req.headers["x-api-key"] ?? null, body });
      if (mode === "fail" || messagesFailing) return internalError(res, requestId());
      return send(res, 200, {
        id: `msg_${randomBytes(12).toString("hex")}`,
        type: "message",
        role: "assistant",
        model: body?.model ?? "claude-sonnet-4-5-20250929",
        content: [{ type: "text", text: "Hello from the fake Anthropic API." }],
        stop_reason: "end_turn",
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 8 },
      }, { "request-id": requestId() });
    }
    if (req.method !== "GET" || path !== "/v1/models") return notFound(res);
    seen.push({ at: Date.now(), key: req.headers["x-api-key"] ?? null, mode });
    if (mode === "fail") return internalError(res, rid);
    send(res, 200, {
      data: [
        {
          type: "model",
          id: "claude-sonnet-4-5-20250929",
          display_name: "Claude Sonnet 4.5",
          created_at: "2025-09-29T00:00:00Z",
        },
      ],
      has_more: true,
      first_id: "claude-sonnet-4-5-20250929",
      last_id: "claude-sonnet-4-5-20250929",
    }, { "request-id": requestId() });
  });
  return {
    url,
    seen,
    /** Every POST /v1/messages: {at, key, body}. */
    messages,
    get requestId() {
      return rid;
    },
    get failing() {
      return mode === "fail";
    },
    fail() {
      rid = requestId();
      mode = "fail";
      return Date.now();
    },
    heal() {
      mode = "ok";
      return Date.now();
    },
    close: () => closeServer(server),
  };
}

/** The OpenAI API: remembers each `Authorization` header it was sent. */
export async function fakeOpenAI() {
  const seen = [];
  const completions = [];
  const rejected = new Set();
  const { server, url } = await listen(async (req, res) => {
    const path = req.url.split("?")[0];
    const chat = req.method === "POST" && path === "/v1/chat/completions";
    if (!chat && (req.method !== "GET" || path !== "/v1/models")) return notFound(res);
    const auth = req.headers.authorization ?? null;
    const body = chat ? await readJson(req) : null;
    if (chat) completions.push({ at: Date.now(), auth, body });
    else seen.push({ at: Date.now(), auth });
    if (!auth || !auth.startsWith("Bearer ")) {
      return send(res, 401, {
        error: { message: "You didn't provide an API key.", type: "invalid_request_error", param: null, code: null },
      });
    }
    const key = auth.slice("Bearer ".length);
    if (rejected.has(key)) {
      // OpenAI's real answer, which echoes a masked form of the key.
      return send(res, 401, {
        error: {
          message: `Incorrect API key provided: ${key.slice(0, 7)}${"*".repeat(12)}${key.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      });
    }
    if (chat) {
      return send(res, 200, {
        id: `chatcmpl-${randomBytes(12).toString("hex")}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: body?.model ?? "gpt-4o-mini",
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: "Hello from the fake OpenAI API.", refusal: null },
            logprobs: null,
            finish_reason: "stop",
          },
        ],
        usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
      }, { "x-request-id": `req_${randomBytes(16).toString("hex")}` });
    }
    send(res, 200, {
      object: "list",
      data: [{ id: "gpt-4o-mini", object: "model", created: 1721172741, owned_by: "system" }],
    }, { "x-request-id": `req_${randomBytes(16).toString("hex")}` });
  });
  return {
    url: `${url}/v1`,
    seen,
    /** Every POST /v1/chat/completions: {at, auth, body}. */
    completions,
    /** Answers 401 invalid_api_key to this key from now on. */
    reject: (key) => rejected.add(key),
    close: () => closeServer(server),
  };
}

const UPDATED = "2026-11-24T09:58:12.104Z";

function component(id, name, position) {
  return {
    id,
    name,
    status: "operational",
    created_at: "2023-07-11T17:50:33.000Z",
    updated_at: UPDATED,
    position,
    description: null,
    showcase: false,
    start_date: null,
    group_id: null,
    page_id: "tymt9n04zgry",
    group: false,
    only_show_if_degraded: false,
  };
}

const CLAUDE_PAGE = {
  page: {
    id: "tymt9n04zgry",
    name: "Claude",
    url: "https://status.claude.com",
    time_zone: "Etc/UTC",
    updated_at: UPDATED,
  },
  components: [
    component("rwppv331jlwc", "claude.ai", 1),
    component("k8w3r06qmzrp", "Claude API (api.anthropic.com)", 2),
    component("yyzkbfz2thpt", "Claude Code", 3),
  ],
  incidents: [],
  scheduled_maintenances: [],
  status: { indicator: "none", description: "All Systems Operational" },
};

const OPENAI_PAGE = {
  page: {
    id: "01JMBBWVJHXBTHKZ7YMPNNQ0AA",
    name: "OpenAI",
    url: "https://status.openai.com",
    time_zone: "Etc/UTC",
    updated_at: UPDATED,
  },
  components: [
    component("01JMXBRMFE6N2NNT7DG6XZQ6PW", "Chat Completions", 1),
    component("01JP8CD9JR3HR6Y7G4Q75N4DVW", "Responses", 2),
  ],
  incidents: [],
  scheduled_maintenances: [],
  status: { indicator: "none", description: "All Systems Operational" },
};

/** Both status pages, all operational. */
export async function fakeStatusPages() {
  const { server, url } = await listen((req, res) => {
    const path = req.url.split("?")[0];
    if (req.method !== "GET") return notFound(res);
    if (path === "/claude/api/v2/summary.json") return send(res, 200, CLAUDE_PAGE);
    if (path === "/openai/api/v2/summary.json") return send(res, 200, OPENAI_PAGE);
    notFound(res);
  });
  return {
    claude: `${url}/claude/api/v2/summary.json`,
    openai: `${url}/openai/api/v2/summary.json`,
    close: () => closeServer(server),
  };
}
