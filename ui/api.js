// The local HTTP API (DESIGN "Local HTTP API"). Every call is same-origin;
// mutations carry the per-install token the server writes into index.html.

const TOKEN =
  document.querySelector('meta[name="switchboard-token"]')?.getAttribute("content") ?? "";

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function call(method, path, body) {
  const headers = { accept: "application/json" };
  if (method !== "GET") headers["x-switchboard-token"] = TOKEN;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError("Switchboard is not answering. Is `switchboard watch` still running?", 0);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML page or a truncated body: report the status below.
  }
  if (!res.ok) {
    const message = (data && typeof data.error === "string" && data.error) || `HTTP ${res.status}`;
    throw new ApiError(message, res.status);
  }
  return data;
}

export const hasToken = TOKEN !== "";

export const api = {
  status: () => call("GET", "/api/status"),
  history: (since) => call("GET", `/api/history?since=${encodeURIComponent(since)}`),
  gateway: () => call("GET", "/api/gateway"),
  check: () => call("POST", "/api/check"),
  setPreferred: (id) => call("PUT", "/api/preferred", { id }),
  setFallback: (order) => call("PUT", "/api/fallback", { order }),
  setAutoSwitch: (enabled) => call("PUT", "/api/auto_switch", { enabled }),
  passive: () => call("GET", "/api/passive"),
  setPassive: (settings) => call("PUT", "/api/passive", settings),
  // What the inference checks would cost a month, then the consent itself.
  inference: () => call("GET", "/api/inference"),
  setInference: (settings) => call("PUT", "/api/inference", settings),
  // Write-only: the key goes out once and is never read back or kept.
  setKey: (id, apiKey) => call("PUT", `/api/credentials/${encodeURIComponent(id)}`, { api_key: apiKey }),
  deleteKey: (id) => call("DELETE", `/api/credentials/${encodeURIComponent(id)}`),
};

/**
 * Follows `/api/events`. The browser reconnects by itself (the server's
 * `retry`); when it gives up (the server answered with an error), we start
 * over after a pause. `onStatus` gets each report, `onLink` "live" |
 * "reconnecting" | "offline".
 */
export function follow({ onStatus, onLink }) {
  const RETRY_MS = 5000;
  let source;
  const open = () => {
    source = new EventSource("/api/events");
    source.addEventListener("open", () => onLink("live"));
    source.addEventListener("status", (e) => {
      try {
        onStatus(JSON.parse(e.data));
      } catch (err) {
        console.error("bad status event", err);
      }
    });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        onLink("offline");
        setTimeout(open, RETRY_MS);
      } else {
        onLink("reconnecting");
      }
    });
  };
  open();
  return () => source.close();
}
