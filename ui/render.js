// Builds the page's parts from the API's JSON: the overview line, the notices,
// one card per provider and the routing panel. Every function returns fresh
// DOM; app.js decides when to swap it in.

import { h } from "./dom.js";
import {
  ago,
  clock,
  componentLabel,
  componentState,
  host,
  isProblem,
  lasting,
  ms,
  percent,
  safeUrl,
  severity,
  stateLabel,
  tone,
} from "./format.js";
import { icon } from "./icons.js";
import { timeline } from "./timeline.js";

/** A relative time that the page's one-second ticker keeps current. */
export function rel(iso, mode = "ago") {
  const text = mode === "for" ? lasting(iso) : ago(iso);
  return h("time", { datetime: iso, dataset: { rel: mode }, title: new Date(iso).toLocaleString() }, text);
}

/** Icon and words: the state never rests on colour alone. */
export function badge(state, extra = "") {
  return h(
    "span",
    { class: `badge tone-${tone(state)} ${extra}`.trim(), dataset: { state } },
    icon(state),
    h("span", { class: "badge-text" }, stateLabel(state)),
  );
}

function link(url, text, cls) {
  const href = safeUrl(url);
  if (!href) return h("span", { class: cls }, text);
  return h(
    "a",
    { href, target: "_blank", rel: "noopener noreferrer", class: cls },
    text,
    h("span", { class: "visually-hidden" }, " (opens in a new tab)"),
    icon("external", "icon icon-ext"),
  );
}

// ---- overview and notices ---------------------------------------------------

/** The calm line at the top: all good, or who is failing and for how long. */
export function overview(report) {
  const providers = report.providers ?? [];
  if (!providers.length) {
    return h(
      "div",
      { class: "overview tone-idle" },
      h("p", { class: "overview-title" }, "Waiting for the first round of checks…"),
      h(
        "p",
        { class: "overview-sub" },
        "If no provider appears, none is enabled: add a ",
        h("code", {}, "[[providers]]"),
        " entry to the config file, or remove ",
        h("code", {}, "use_catalog = false"),
        " to watch the built-in catalog.",
      ),
    );
  }
  const troubled = providers
    .filter((p) => p.state !== "operational")
    .sort((a, b) => severity(a.state) - severity(b.state));
  if (!troubled.length) {
    return h(
      "div",
      { class: "overview tone-ok calm" },
      icon("operational", "icon overview-icon"),
      h(
        "div",
        {},
        h("p", { class: "overview-title", id: "overall-words" }, "All providers operational"),
        h(
          "p",
          { class: "overview-sub" },
          `${providers.length === 1 ? "One provider" : `${providers.length} providers`} checked, nothing needs your attention. `,
          "If one starts failing, it shows here, usually before its status page says so.",
        ),
      ),
    );
  }
  const worst = troubled[0].state;
  const preferred = providers.find((p) => p.id === report.preferred);
  const okCount = providers.length - troubled.length;
  return h(
    "div",
    { class: `overview tone-${tone(worst)}` },
    icon(worst, "icon overview-icon"),
    h(
      "div",
      {},
      h(
        "p",
        { class: "overview-title", id: "overall-words" },
        troubled.map((p, i) => [
          i ? ", " : "",
          h("a", { href: `#provider-${p.id}`, class: "quiet-link" }, p.name),
          ": ",
          h("span", { class: `overview-state tone-${tone(p.state)}` }, stateLabel(p.state).toLowerCase()),
        ]),
      ),
      h(
        "p",
        { class: "overview-sub" },
        okCount ? `${okCount} other${okCount === 1 ? "" : "s"} operational. ` : "",
        preferred
          ? [
              "Preferred: ",
              h("strong", {}, preferred.name),
              ` (${stateLabel(preferred.state).toLowerCase()})`,
              preferred.state !== "operational" && report.auto_switch === false
                ? ". Automatic switching is off: choose another provider under Routing."
                : ".",
            ]
          : "",
      ),
    ),
  );
}

/**
 * Why the desktop app opened this window by itself: it found no tray to put
 * its icon in (`?tray=no-host`: nobody owns org.kde.StatusNotifierWatcher,
 * e.g. stock GNOME) or could not create one (`?tray=no-library`). The desktop
 * shell adds the query parameter; a browser never has it.
 */
export function noTrayNotice(reason) {
  if (reason !== "no-host" && reason !== "no-library") return null;
  const why =
    reason === "no-host"
      ? "Your desktop has no tray for Switchboard's icon (no StatusNotifierWatcher on the session bus), so Switchboard opened this window instead."
      : "Switchboard could not create its tray icon (libayatana-appindicator3 is missing), so it opened this window instead.";
  const how =
    reason === "no-host"
      ? [
          h("li", {}, [
            h("strong", {}, "GNOME: "),
            "install the AppIndicator extension (",
            h("code", {}, "sudo apt install gnome-shell-extension-appindicator"),
            " or ",
            h("code", {}, "sudo dnf install gnome-shell-extension-appindicator"),
            "), log out and back in, then turn it on in Extensions.",
          ]),
          h("li", {}, "KDE Plasma, Xfce, Cinnamon, MATE and Budgie show tray icons out of the box."),
          h("li", {}, "Window managers (sway, i3, Hyprland): run a tray host, e.g. waybar's tray module."),
        ]
      : [
          h("li", {}, [
            "Install it: ",
            h("code", {}, "sudo apt install libayatana-appindicator3-1"),
            " (Fedora: ",
            h("code", {}, "libayatana-appindicator-gtk3"),
            "), then restart Switchboard.",
          ]),
        ];
  return h(
    "div",
    { class: "notice tone-info", id: "no-tray", role: "status" },
    icon("unknown", "icon notice-icon"),
    h(
      "div",
      {},
      h("h2", { class: "notice-title" }, "No tray icon on this desktop"),
      h("p", {}, why),
      h("p", {}, "Monitoring and notifications work as usual. To get the tray icon:"),
      h("ul", { class: "notice-list" }, how),
      h(
        "p",
        {},
        "Closing this window keeps Switchboard running; open it again from your applications menu. ",
        h("code", {}, "switchboard doctor"),
        " checks the whole setup.",
      ),
    ),
  );
}

/** Empty states that teach: shown above the cards when they apply. */
export function notices(report) {
  const out = [];
  if (report.config_error) {
    out.push(
      h(
        "div",
        { class: "notice tone-warn", role: "alert" },
        h("h2", { class: "notice-title" }, "The config file has an error"),
        h("p", {}, "Switchboard keeps running on the last good config. Fix this and save the file:"),
        h("pre", { class: "mono" }, String(report.config_error)),
      ),
    );
  }
  if (report.engine_error) {
    out.push(
      h(
        "div",
        { class: "notice tone-warn", role: "alert", id: "engine-error" },
        h("h2", { class: "notice-title" }, "The monitor crashed and was restarted"),
        h("p", {}, "Health history starts over from the restart. Please report this:"),
        h("pre", { class: "mono" }, String(report.engine_error)),
      ),
    );
  }
  if (report.history_paused) {
    const paused = report.history_paused;
    out.push(
      h(
        "div",
        { class: "notice tone-warn", role: "status", id: "history-paused" },
        h("h2", { class: "notice-title" }, "History is paused"),
        h(
          "p",
          {},
          "Monitoring goes on, but checks and incidents are not being recorded (since ",
          rel(paused.since),
          "). Recording resumes by itself once the history database takes writes again, for example after disk space is freed:",
        ),
        h("pre", { class: "mono" }, String(paused.reason ?? "")),
      ),
    );
  }
  const needKeys = (report.providers ?? []).filter((p) => p.credential !== "not_needed");
  const haveKey = needKeys.some((p) => p.credential === "keyring" || p.credential === "env");
  if (needKeys.length && !haveKey) {
    const first = needKeys[0];
    out.push(
      h(
        "div",
        { class: "notice tone-info", id: "no-keys" },
        icon("key", "icon notice-icon"),
        h(
          "div",
          {},
          h("h2", { class: "notice-title" }, "Add an API key to catch outages early"),
          h(
            "p",
            {},
            "Without keys, Switchboard only reads the public status pages, which often lag by many minutes. ",
            "With a key it also asks each API directly, using a model-list call that costs no tokens.",
          ),
          h(
            "p",
            {},
            "Paste a key into a provider's card below, or run ",
            h("code", {}, `switchboard key set ${first.id}`),
            " in a terminal. Keys go to your system keyring and are never shown again.",
          ),
        ),
      ),
    );
  }
  if (needKeys.some((p) => p.credential === "unavailable")) {
    out.push(
      h(
        "div",
        { class: "notice tone-warn" },
        h("h2", { class: "notice-title" }, "The system keyring is unavailable"),
        h(
          "p",
          {},
          "Switchboard cannot read stored keys (the keyring is locked or no Secret Service is running). ",
          "It keeps watching status pages and keys from environment variables. Unlock the keyring, then press Check now.",
        ),
      ),
    );
  }
  return out;
}

const AGENT_NAMES = { claude_code: "Claude Code", codex: "Codex" };

/**
 * The consent offer for passive signals: shown when an agent's logs exist
 * here, reading them is off, and the user has not said "Not now". Says
 * exactly what is read before anything is.
 */
export function passiveOffer(passive, dismissed, act) {
  if (!Array.isArray(passive) || dismissed) return [];
  const offer = passive.filter((a) => a.found && !a.enabled);
  if (!offer.length) return [];
  const names = offer.map((a) => AGENT_NAMES[a.agent] ?? a.agent).join(" and ");
  return [
    h(
      "div",
      { class: "notice tone-info", id: "passive-offer" },
      icon("operational", "icon notice-icon"),
      h(
        "div",
        {},
        h("h2", { class: "notice-title" }, `Learn from the errors ${names} already sees`),
        h(
          "p",
          {},
          `${names} writes every API error it hits into its session logs. Switchboard can read those errors `,
          "to tell you of an outage the moment your own requests fail, even without an API key.",
        ),
        h(
          "p",
          {},
          "Only these fields are read and kept: ",
          h("strong", {}, offer[0].fields.join(", ")),
          ". Prompts, answers, tool output and file paths are never stored, logged or shown. Files read: ",
          offer.map((a, i) => [i ? ", " : "", h("code", { class: "mono" }, a.reads ?? "")]),
          ".",
        ),
        h(
          "div",
          { class: "notice-actions" },
          h(
            "button",
            { type: "button", class: "btn btn-primary", id: "passive-enable", onclick: () => act.enable(offer.map((a) => a.agent)) },
            "Turn on",
          ),
          h("button", { type: "button", class: "btn btn-ghost", id: "passive-dismiss", onclick: () => act.dismiss() }, "Not now"),
        ),
      ),
    ),
  ];
}

// ---- provider card ----------------------------------------------------------

/** The card's heading row: name, preferred tag, state badge. */
export function cardHead(p, preferred) {
  return h(
    "div",
    { class: "card-head" },
    h(
      "div",
      { class: "card-title" },
      h("h3", { id: `h-${p.id}` }, p.name),
      p.id === preferred ? h("span", { class: "tag" }, "Preferred") : null,
    ),
    badge(p.state),
  );
}

/** Cause, facts, status page: everything the last check said. */
export function cardBody(p, copy, infer = null) {
  const probe = p.probe;
  const failing = probe && probe.ok === false;
  const lines = [];

  lines.push(h("p", { class: "summary" }, p.summary || stateLabel(p.state)));

  const meta = [];
  if (p.since && p.state !== "operational") meta.push(h("span", {}, rel(p.since, "for")));
  else if (p.since) meta.push(h("span", {}, "Operational ", rel(p.since, "for")));
  if (isProblem(p.state) && failing) {
    meta.push(
      p.confirmed_by_status_page
        ? h("span", { class: "ack ack-yes" }, icon("operational", "icon"), "Confirmed by the status page")
        : h("span", { class: "ack ack-no" }, icon("degraded", "icon"), "Not yet on the status page"),
    );
  }
  if (p.state === "auth_error") meta.push(h("span", { class: "ack" }, "Your key or account, not the provider"));
  if (p.state === "offline") meta.push(h("span", { class: "ack" }, "Your network seems down; the provider may be fine"));
  if (meta.length) lines.push(h("p", { class: "meta-line" }, meta));
  if (p.agent_errors) {
    lines.push(
      h(
        "p",
        { class: "agent-errors", title: p.agent_errors.last_request_id ?? "" },
        icon("degraded", "icon"),
        h("span", { class: "agent-errors-text" }, p.agent_errors.summary),
      ),
    );
  }

  if (probe) {
    const facts = [];
    const fact = (dt, dd, cls) => facts.push(h("div", { class: cls }, h("dt", {}, dt), h("dd", {}, dd)));
    fact("HTTP status", probe.http_status != null ? String(probe.http_status) : "no response");
    if (probe.error_type) fact("Error type", h("code", {}, probe.error_type));
    // An error read from a coding agent's log has no latency to show.
    if (probe.latency_ms != null) fact("Latency", ms(probe.latency_ms));
    fact("Last check", rel(probe.at));
    if (probe.retry_after_secs != null) fact("Retry after", `${probe.retry_after_secs} s`);
    if (probe.quota) fact("Quota", String(probe.quota).replace(/_/g, " "));
    if (probe.request_id) {
      fact(
        "Request id",
        h(
          "span",
          { class: "reqid" },
          h("code", { class: "mono selectable" }, probe.request_id),
          h(
            "button",
            {
              type: "button",
              class: "btn btn-ghost btn-xs",
              "aria-label": `Copy request id ${probe.request_id}`,
              dataset: { focus: "copy" },
              onclick: (e) => copy(probe.request_id, e.currentTarget),
            },
            icon("copy"),
            h("span", { class: "btn-label" }, "Copy"),
          ),
        ),
        "wide",
      );
    }
    lines.push(h("dl", { class: "facts" }, facts));
  } else if (p.credential === "not_needed" && p.status_page) {
    lines.push(h("p", { class: "hint" }, "Watched through its status page."));
  }

  const models = modelsSection(p, infer);
  if (models) lines.push(models);
  lines.push(statusPage(p));
  return h("div", { class: "card-body" }, lines);
}

const usd = (n) => `$${Number(n ?? 0).toFixed(2)}`;

/** The inference checks in words: "$0.12 of $1.00 this month, every 60 s per model". */
export function inferenceWords(inf) {
  if (!inf || !inf.enabled) return "Reachability only: the model list is checked, not whether a model answers.";
  const head = `Inference checks: ${usd(inf.spent_usd_month)} of ${usd(inf.budget_usd_month)} this month`;
  return inf.stopped ? `${head}; stopped, the budget is spent (nothing alarms).` : `${head}, every ${inf.interval_secs} s per model.`;
}

/**
 * The models the user relies on, one row each with its own state, and the
 * consent offer for inference checks: the estimated monthly cost comes
 * first, the checks only start after "Turn on".
 */
function modelsSection(p, infer) {
  const models = p.models ?? [];
  if (!models.length && !p.inference) return null;
  const inf = p.inference;
  const items = [h("div", { class: "section-head" }, h("h4", {}, "Models"))];
  items.push(h("p", { class: "hint inference-words" }, inferenceWords(inf)));
  if (models.length) {
    items.push(
      h(
        "ul",
        { class: "models", "aria-label": "Models" },
        models.map((m) =>
          h(
            "li",
            { class: "model-row", dataset: { model: m.id, state: m.state } },
            h("span", { class: `model-state tone-text-${tone(m.state)}` }, icon(m.state, "icon"), stateLabel(m.state)),
            // The id on the first line, what its last check said under it:
            // a long id or a long error wraps in its own column.
            h(
              "div",
              { class: "model-main" },
              h("code", { class: "model-id" }, m.id),
              m.seen_in_traffic ? h("span", { class: "muted" }, " (seen in gateway traffic)") : null,
              h(
                "div",
                { class: "model-summary" },
                m.summary,
                m.probe?.latency_ms != null ? h("span", { class: "muted" }, ` · ${ms(m.probe.latency_ms)}`) : null,
              ),
            ),
          ),
        ),
      ),
    );
  }
  if (infer && inf && !inf.enabled && models.length) {
    const offer = infer.offer?.provider === p.id ? infer.offer.estimate : null;
    const first = models[0].id;
    if (!offer) {
      items.push(
        h(
          "button",
          { type: "button", class: "btn btn-ghost inference-offer", id: `inference-offer-${p.id}`, onclick: () => infer.ask(p.id) },
          `Also check that ${first} answers…`,
        ),
      );
    } else {
      items.push(
        h(
          "div",
          { class: "notice tone-info inference-confirm", id: `inference-confirm-${p.id}` },
          h("p", { class: "inference-estimate" }, estimateWords(p.id, first, offer)),
          h(
            "div",
            { class: "actions" },
            h("button", { type: "button", class: "btn btn-primary", id: `inference-enable-${p.id}`, onclick: () => infer.enable() }, "Turn on"),
            h("button", { type: "button", class: "btn btn-ghost", onclick: () => infer.cancel() }, "Cancel"),
          ),
        ),
      );
    }
  }
  return h("section", { class: "models-section" }, items);
}

/**
 * What turning the inference checks on costs, from the `/api/inference`
 * estimate: "Sends a 1-token request to gpt-4o-mini every 60 s: about $0.35 a
 * month here, $1.20 for all your models, capped at $1.00 a month (…)".
 */
export function estimateWords(id, first, estimate) {
  const mine = estimate.providers?.find((x) => x.id === id);
  const cost = (mine?.models ?? []).reduce((a, m) => a + m.usd_month, 0);
  return (
    `Sends a 1-token request to ${(mine?.models ?? []).map((m) => m.id).join(", ") || first} every ${estimate.interval_secs} s: ` +
    `about ${usd(cost)} a month here, ${usd(estimate.total_usd_month)} for all your models, ` +
    `capped at ${usd(estimate.budget_usd_month)} a month (the checks slow down, then stop, at the cap).`
  );
}

/**
 * The key form's offer of inference checks: a checkbox "Also check that
 * <model> answers" whose label carries the estimated monthly cost, so the
 * cost is read before the box is ticked; the box stays disabled until the
 * estimate is in. `null` when the checks are on already or there is no model.
 */
export function keyFormConsent(p, estimate, checked, onchange) {
  const models = p.models ?? [];
  if (!p.inference || p.inference.enabled || !models.length) return null;
  const first = models[0].id;
  const id = `key-infer-${p.id}`;
  return h(
    "div",
    { class: "key-consent" },
    h(
      "label",
      { class: "check", for: id },
      h("input", {
        type: "checkbox",
        id,
        checked: !!checked && !!estimate,
        disabled: !estimate,
        dataset: { focus: "infer" },
        "aria-describedby": `${id}-cost`,
        onchange: (e) => onchange(e.currentTarget.checked),
      }),
      h("span", {}, `Also check that ${first} answers`),
    ),
    h(
      "p",
      { class: "hint inference-estimate", id: `${id}-cost` },
      estimate ? estimateWords(p.id, first, estimate) : "Working out what it would cost…",
    ),
  );
}

function statusPage(p) {
  const page = p.status_page;
  const head = h(
    "div",
    { class: "section-head" },
    h("h4", {}, "Status page"),
    p.status_url ? link(p.status_url, host(p.status_url), "ext-link") : null,
  );
  if (!page) {
    return h("section", { class: "status-page" }, head, h("p", { class: "hint" }, "No public status page; the probe decides."));
  }
  const items = [];
  const pageState = { none: "operational", minor: "degraded", maintenance: "degraded", major: "outage", critical: "outage" }[page.indicator] ?? "unknown";
  items.push(
    h("p", { class: `page-desc tone-text-${tone(pageState)}` }, icon(pageState, "icon"), h("span", {}, page.description || "No description")),
  );
  if (page.components?.length) {
    items.push(
      h(
        "ul",
        { class: "components", "aria-label": "Components" },
        page.components.map((c) => {
          const st = componentState(c.status);
          return h(
            "li",
            {},
            h("span", { class: "comp-name" }, c.group ? h("span", { class: "muted" }, `${c.group} / `) : null, c.name),
            h("span", { class: `comp-status tone-text-${tone(st)}` }, icon(st, "icon"), componentLabel(c.status)),
          );
        }),
      ),
    );
  }
  const incidents = [...(page.incidents ?? []).map((i) => [i, false]), ...(page.maintenances ?? []).map((i) => [i, true])];
  if (incidents.length) {
    items.push(
      h(
        "ul",
        { class: "incidents", "aria-label": "Open incidents" },
        incidents.map(([i, maint]) =>
          h(
            "li",
            // The engine judged it to name only models this provider does not use:
            // shown for context, never alarmed.
            i.relevant === false ? { class: "not-mine", title: "This incident names only models you do not use: no alarm." } : {},
            h("span", { class: "inc-kind" }, maint ? "Maintenance" : "Incident", i.relevant === false ? h("span", { class: "inc-tag" }, "not your models") : null),
            i.url ? link(i.url, i.name, "inc-name") : h("span", { class: "inc-name" }, i.name),
            h(
              "span",
              { class: "inc-meta" },
              [i.status, i.impact && i.impact !== "none" ? `${i.impact} impact` : null, i.started_at ? `since ${clock(i.started_at)}` : null]
                .filter(Boolean)
                .join(" · "),
            ),
          ),
        ),
      ),
    );
  } else {
    items.push(h("p", { class: "hint" }, "No open incidents."));
  }
  return h("section", { class: "status-page" }, head, items);
}

/** Timeline, uptime and detection lead, from `/api/history`. */
export function cardHistory(p, hist, range) {
  const head = h("div", { class: "section-head" }, h("h4", {}, range === "7d" ? "Last 7 days" : "Last 24 hours"));
  if (!hist) {
    return h("section", { class: "history" }, head, h("p", { class: "hint" }, hist === null ? "History unavailable." : "Loading history…"));
  }
  const entry = hist.providers?.find((x) => x.id === p.id);
  const parts = [head];
  parts.push(
    timeline({ name: p.name, segments: entry?.timeline ?? [], since: hist.since, until: hist.until, range }),
    h(
      "div",
      { class: "axis", "aria-hidden": "true" },
      h("span", {}, range === "7d" ? "7 d ago" : "24 h ago"),
      h("span", {}, range === "7d" ? "" : "12 h"),
      h("span", {}, "now"),
    ),
  );
  const up = entry?.uptime ?? {};
  parts.push(
    h(
      "div",
      { class: "uptime" },
      h("span", { class: "uptime-label", id: `up-${p.id}` }, "Uptime"),
      h(
        "dl",
        { "aria-labelledby": `up-${p.id}` },
        ["24h", "7d", "30d"].map((k) =>
          h("div", {}, h("dt", {}, k.replace(/(\d+)/, "$1 ")), h("dd", {}, percent(up[k]))),
        ),
      ),
    ),
  );
  const lead = entry?.detection_lead_minutes;
  if (typeof lead === "number" && lead > 0) {
    parts.push(
      h(
        "p",
        { class: "lead-line" },
        icon("rate_limited", "icon"),
        h("span", {}, "Detected ", h("strong", {}, `${Math.round(lead)} min`), " before the status page"),
      ),
    );
  }
  const incidents = (entry?.incidents ?? []).slice(-5).reverse();
  if (incidents.length) {
    parts.push(
      h(
        "details",
        { class: "past" },
        h("summary", { dataset: { focus: "past" } }, `${incidents.length} recent incident${incidents.length === 1 ? "" : "s"}`),
        h(
          "ul",
          {},
          incidents.map((i) =>
            h(
              "li",
              {},
              badge(i.state, "badge-sm"),
              h(
                "span",
                {},
                `${clock(i.started_at)}${i.ended_at ? `–${clock(i.ended_at)}` : ", ongoing"}`,
                i.cause ? ` · ${i.cause}` : "",
                typeof i.lead_minutes === "number" && i.lead_minutes > 0 ? ` · ${Math.round(i.lead_minutes)} min before the status page` : "",
              ),
            ),
          ),
        ),
      ),
    );
  }
  return h("section", { class: "history" }, parts);
}

/** "Stored in keyring" and friends; never the key. */
export function credentialLine(p) {
  // `api_key_env` when the server reports it; a config may rename the variable,
  // so it is not guessed from the provider id.
  const env = p.api_key_env;
  switch (p.credential) {
    case "keyring":
      return h("p", { class: "cred-line" }, icon("key", "icon"), h("span", {}, "Key stored in keyring"));
    case "env":
      return h(
        "p",
        { class: "cred-line" },
        icon("key", "icon"),
        h("span", {}, "Key from ", env ? h("code", {}, env) : "an environment variable"),
      );
    case "unavailable":
      return h("p", { class: "cred-line tone-text-warn" }, icon("degraded", "icon"), h("span", {}, "Keyring unavailable"));
    default:
      return h("p", { class: "cred-line muted" }, icon("key", "icon"), h("span", {}, "No key — add one to probe this API"));
  }
}

// ---- routing panel ----------------------------------------------------------

/**
 * Preferred provider (radio group), automatic switching and fallback order.
 * `act` has setPreferred(id), setAutoSwitch(bool), setFallback(order).
 */
export function routing(report, act) {
  const providers = report.providers ?? [];
  const byId = new Map(providers.map((p) => [p.id, p]));
  const order = (report.fallback ?? []).filter((id) => byId.has(id));
  const rest = providers.filter((p) => !order.includes(p.id));
  const nameOf = (id) => byId.get(id)?.name ?? id;

  return h(
    "div",
    { class: "routing-body" },
    preferredRadios(report, providers, act),
    autoSwitchToggle(report, act),
    h(
      "div",
      { class: "fallback" },
      h("h3", { id: "fallback-h" }, "Fallback order"),
      h("p", { class: "hint" }, "When the preferred provider fails, Switchboard and its gateway pick the healthiest of these; among equally healthy ones, this order decides."),
      fallbackList(order, nameOf, act),
      addToFallback(rest, order, act),
    ),
  );
}

/** The "Preferred provider" radio group, each with its state. */
function preferredRadios(report, providers, act) {
  return h(
    "fieldset",
    { class: "radios" },
    h("legend", {}, "Preferred provider"),
    providers.map((p) =>
      h(
        "label",
        { class: "radio" },
        h("input", {
          type: "radio",
          name: "preferred",
          value: p.id,
          checked: p.id === report.preferred,
          dataset: { focus: `pref-${p.id}` },
          onchange: () => act.setPreferred(p.id),
        }),
        h("span", { class: "radio-name" }, p.name),
        h("span", { class: `mini tone-text-${tone(p.state)}` }, icon(p.state, "icon"), stateLabel(p.state)),
      ),
    ),
  );
}

/** "Switch automatically when the preferred provider fails". */
function autoSwitchToggle(report, act) {
  return h(
    "label",
    { class: "check" },
    h("input", {
      type: "checkbox",
      checked: !!report.auto_switch,
      dataset: { focus: "auto" },
      onchange: (e) => act.setAutoSwitch(e.currentTarget.checked),
    }),
    h("span", {}, "Switch automatically when the preferred provider fails"),
  );
}

/** The fallback order, each entry with move up / move down / remove. */
function fallbackList(order, nameOf, act) {
  if (!order.length) {
    return h("p", { class: "hint" }, "No fallback order yet: requests go to the preferred provider only.");
  }
  const move = (i, d) => {
    const next = [...order];
    [next[i], next[i + d]] = [next[i + d], next[i]];
    act.setFallback(next);
  };
  const iconBtn = (name, label, focus, onclick, disabled) =>
    h(
      "button",
      { type: "button", class: "btn btn-ghost btn-icon", "aria-label": label, title: label, disabled, dataset: { focus }, onclick },
      icon(name),
    );
  return h(
    "ol",
    { class: "order" },
    order.map((id, i) =>
      h(
        "li",
        {},
        h("span", { class: "order-n", "aria-hidden": "true" }, String(i + 1)),
        h("span", { class: "order-name" }, nameOf(id)),
        h(
          "span",
          { class: "order-actions" },
          iconBtn("up", `Move ${nameOf(id)} up`, `up-${id}`, () => move(i, -1), i === 0),
          iconBtn("down", `Move ${nameOf(id)} down`, `down-${id}`, () => move(i, 1), i === order.length - 1),
          iconBtn("close", `Remove ${nameOf(id)} from the fallback order`, `rm-${id}`, () =>
            act.setFallback(order.filter((x) => x !== id)),
          ),
        ),
      ),
    ),
  );
}

/** "Not in the order:" with an Add button per provider that can serve requests. */
function addToFallback(rest, order, act) {
  const addable = rest.filter((p) => p.credential !== "not_needed" || p.id === "ollama");
  if (!addable.length) return null;
  return h(
    "div",
    { class: "add-list" },
    h("p", { class: "hint" }, "Not in the order:"),
    h(
      "ul",
      {},
      addable.map((p) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "btn btn-ghost btn-sm",
              dataset: { focus: `add-${p.id}` },
              onclick: () => act.setFallback([...order, p.id]),
            },
            icon("plus"),
            h("span", {}, `Add ${p.name}`),
          ),
        ),
      ),
    ),
  );
}

// ---- gateway panel ----------------------------------------------------------

/** "http://127.0.0.1:7462" from the address the gateway listens on. */
export function gatewayOrigin(listen) {
  // A gateway opened to the network (0.0.0.0 or [::]) is still reached
  // through loopback from this machine.
  const local = String(listen).replace(/^0\.0\.0\.0:/, "127.0.0.1:").replace(/^\[::\]:/, "[::1]:");
  return `http://${local}`;
}

/**
 * The providers the gateway sends requests to, in its order: the preferred
 * one, then the fallback order (status-only surfaces cannot take requests),
 * then any other provider that still has traffic from before a change.
 */
export function gatewayProviders(report, gw) {
  const byId = new Map((report?.providers ?? []).map((p) => [p.id, p]));
  const traffic = gw?.providers ?? {};
  const ids = [];
  for (const id of [report?.preferred, ...(report?.fallback ?? [])]) {
    const p = byId.get(id);
    if (id && !ids.includes(id) && ((p && p.kind !== "status") || traffic[id])) ids.push(id);
  }
  for (const id of Object.keys(traffic)) if (!ids.includes(id)) ids.push(id);
  return ids.map((id) => ({ id, name: byId.get(id)?.name ?? id, traffic: traffic[id] ?? null }));
}

/** The state words next to the panel's heading. */
export function gatewayBadge(gw) {
  if (!gw) return null;
  const [state, tone, words] = !gw.enabled
    ? ["offline", "idle", "Off"]
    : gw.running
      ? ["operational", "ok", "Running"]
      : ["outage", "bad", "Not running"];
  return h(
    "span",
    { class: `badge badge-sm tone-${tone}`, id: "gateway-state" },
    icon(state),
    h("span", { class: "badge-text" }, words),
  );
}

/** The panel when the gateway is switched off in the config. */
function gatewayOff() {
  return h(
    "div",
    { class: "gateway-body", id: "gateway-off" },
    h("p", {}, "Gateway off: set ", h("code", { class: "nowrap" }, "[gateway] enabled = true"), " in the config file."),
    h(
      "p",
      { class: "hint" },
      "It gives Claude Code and the SDKs one local address that follows the preferred provider and fails over when it breaks.",
    ),
  );
}

/** The panel when the gateway is enabled but could not start. */
function gatewayNotRunning(gw) {
  return h(
    "div",
    { class: "gateway-body", id: "gateway-error" },
    h("p", { class: "gateway-problem" }, "Enabled, but not running:"),
    h("p", { class: "gateway-why mono" }, gw.error || "it could not start."),
    h("p", { class: "hint" }, "The gateway starts with Switchboard: restart it once the address is free or changed."),
  );
}

/** One `NAME=value` line that points a kind of tool at the gateway, with a copy button. */
function envLine(id, who, name, value, copy) {
  const text = `${name}=${value}`;
  return h(
    "div",
    { class: "env-line" },
    h("p", { class: "env-for" }, who),
    h(
      "div",
      { class: "env-box" },
      // The break after "=" keeps a long line readable in the narrow column.
      h("code", { class: "env-code selectable", id: `env-${id}` }, `${name}=`, h("wbr"), value),
      h(
        "button",
        {
          type: "button",
          class: "btn btn-ghost btn-xs",
          "aria-label": `Copy ${text}`,
          dataset: { focus: `copy-env-${id}` },
          onclick: (e) => copy(text, e.currentTarget),
        },
        icon("copy"),
        h("span", { class: "btn-label" }, "Copy"),
      ),
    ),
  );
}

/** A line with an icon and words, e.g. the last error or the last skip reason. */
function trafficNote(cls, state, label, words, at) {
  return h(
    "p",
    { class: cls },
    icon(state, `icon tone-text-${state === "outage" ? "bad" : "warn"}`),
    h("span", {}, h("span", { class: "visually-hidden" }, label), words, at ? [" · ", rel(at)] : null),
  );
}

/** One provider's row of the traffic list: counters, last error, last skip reason. */
function trafficRow(r, i) {
  const t = r.traffic ?? { requests: 0, failovers: 0, errors: 0, skipped: 0 };
  const stat = (label, n, cls) => h("div", {}, h("dt", {}, label), h("dd", { class: cls }, String(n ?? 0)));
  return h(
    "li",
    { id: `traffic-${r.id}`, dataset: { provider: r.id } },
    h(
      "div",
      { class: "traffic-head" },
      h("span", { class: "order-n", "aria-hidden": "true" }, String(i + 1)),
      h("span", { class: "traffic-name" }, r.name),
      t.last_request_at ? h("span", { class: "traffic-when" }, "served ", rel(t.last_request_at)) : null,
    ),
    h(
      "dl",
      { class: "traffic-stats", "aria-label": `${r.name} through the gateway` },
      stat("Requests", t.requests),
      stat("Failovers", t.failovers),
      stat("Errors", t.errors, t.errors ? "tone-text-bad" : null),
      // Only when it happened: three counters fit the narrow column on one line.
      t.skipped ? stat("Skipped", t.skipped, "tone-text-warn") : null,
    ),
    t.last_error ? trafficNote("traffic-error", "outage", "Last error: ", t.last_error, t.last_error_at) : null,
    // Why requests passed this provider by: no key, a body it cannot take, a known outage.
    t.last_skip ? trafficNote("traffic-skip", "degraded", "Last skipped because: ", `Skipped: ${t.last_skip}`, t.last_skip_at) : null,
  );
}

/** What went through the gateway per provider, or a hint when nothing has yet. */
function trafficList(rows) {
  const seen = rows.some((r) => r.traffic && (r.traffic.requests || r.traffic.errors || r.traffic.skipped));
  if (!seen) {
    return h(
      "p",
      { class: "hint", id: "traffic-empty" },
      "No requests yet. Point a tool here: requests go to the preferred provider, and to the next healthy one when it fails.",
    );
  }
  return h("ol", { class: "traffic", "aria-labelledby": "traffic-h" }, rows.map(trafficRow));
}

/**
 * Where the gateway listens, the two variables that point tools at it, and
 * what went through it per provider (with why a provider was skipped). `gw`
 * is `/api/gateway` (undefined while loading, null when it could not be
 * read); `copy(text, button)` copies.
 */
export function gateway(gw, report, copy) {
  if (gw === undefined) return h("p", { class: "hint" }, "Loading…");
  if (gw === null) return h("p", { class: "hint" }, "The gateway's state could not be read.");
  if (!gw.enabled) return gatewayOff();
  if (!gw.running) return gatewayNotRunning(gw);
  const origin = gatewayOrigin(gw.listen);
  return h(
    "div",
    { class: "gateway-body" },
    h("p", { class: "gateway-listen" }, "Listening on ", h("code", { class: "mono", id: "gateway-listen" }, String(gw.listen))),
    h(
      "div",
      { class: "env-list" },
      envLine("anthropic", "Claude Code, Anthropic SDKs", "ANTHROPIC_BASE_URL", origin, copy),
      envLine("openai", "OpenAI SDKs, Codex, most tools", "OPENAI_BASE_URL", `${origin}/v1`, copy),
    ),
    h(
      "section",
      { class: "gateway-traffic" },
      h("h3", { id: "traffic-h" }, "Traffic since Switchboard started"),
      trafficList(gatewayProviders(report, gw)),
    ),
  );
}
