// Words for states and times. Pure functions: no DOM, no clock reads except
// where a `now` default is given.

/** DESIGN's vocabulary, worst first. */
export const STATES = [
  "outage",
  "auth_error",
  "degraded",
  "rate_limited",
  "unknown",
  "offline",
  "operational",
];

const LABELS = {
  operational: "Operational",
  degraded: "Degraded",
  rate_limited: "Rate limited",
  outage: "Outage",
  auth_error: "Credential problem",
  unknown: "Unknown",
  offline: "Offline (your network)",
};

/** "Outage", "Credential problem"... for any state, even one added later. */
export function stateLabel(state) {
  return LABELS[state] ?? String(state ?? "unknown").replace(/_/g, " ");
}

/** Lower rank is worse; unknown words sort with `unknown`. */
export function severity(state) {
  const i = STATES.indexOf(state);
  return i < 0 ? STATES.indexOf("unknown") : i;
}

/** The colour family a state is drawn in (CSS class suffix). */
export function tone(state) {
  switch (state) {
    case "operational":
      return "ok";
    case "degraded":
    case "rate_limited":
      return "warn";
    case "outage":
      return "bad";
    case "auth_error":
      return "auth";
    default:
      return "idle";
  }
}

/** States a failing probe can produce, where "is it on the status page yet" matters. */
export function isProblem(state) {
  return state === "outage" || state === "degraded" || state === "rate_limited";
}

/** Status-page words ("degraded_performance") for people. */
export function componentLabel(status) {
  const words = {
    operational: "Operational",
    degraded_performance: "Degraded performance",
    partial_outage: "Partial outage",
    major_outage: "Major outage",
    full_outage: "Full outage",
    under_maintenance: "Under maintenance",
  };
  return words[status] ?? String(status ?? "unknown").replace(/_/g, " ");
}

/** Maps a status-page component status to our state vocabulary (for colour). */
export function componentState(status) {
  switch (status) {
    case "operational":
      return "operational";
    case "degraded_performance":
    case "partial_outage":
    case "under_maintenance":
      return "degraded";
    case "major_outage":
    case "full_outage":
      return "outage";
    default:
      return "unknown";
  }
}

function seconds(iso, now) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.max(0, Math.round((now - t) / 1000));
}

/** "just now", "42 s ago", "3 min ago", "5 h ago", "2 d ago". */
export function ago(iso, now = Date.now()) {
  const s = seconds(iso, now);
  if (s === null) return "never";
  if (s < 3) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** A span of seconds for people: "40 s", "4 min", "2 h 5 min", "3 d". */
export function duration(s) {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 48 * 3600) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  return `${Math.floor(s / 86400)} d`;
}

/** "for 4 min" since an RFC 3339 time. */
export function lasting(iso, now = Date.now()) {
  const s = seconds(iso, now);
  return s === null ? "" : `for ${duration(s)}`;
}

/** "12 034 ms" (thin grouping, so long latencies stay readable). */
export function ms(n) {
  if (n === null || n === undefined) return "–";
  return `${Math.round(n).toLocaleString("en-US").replace(/,/g, "\u202f")} ms`;
}

/** "99.93 %", "100 %", or an en dash when there is no data yet. */
export function percent(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  if (n >= 100) return "100 %";
  return `${(Math.floor(n * 100) / 100).toFixed(2)} %`;
}

/** Local clock time: "14:05", with the day when it is not today. */
export function clock(iso, now = Date.now()) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (new Date(now).toDateString() === d.toDateString()) return time;
  return `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
}

/** Only http(s) links are rendered; anything else (javascript:, data:) is dropped. */
export function safeUrl(url) {
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}

/** "status.claude.com" for a link's visible text. */
export function host(url) {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** One line for a probe, as the engine words it: "HTTP 401 invalid_api_key: Incorrect API key". */
export function probeSummary(probe) {
  const detail = [probe.error_type, probe.message].filter(Boolean).join(": ");
  if (probe.http_status == null) return detail || "no response";
  return detail ? `HTTP ${probe.http_status} ${detail}` : `HTTP ${probe.http_status}`;
}
