// The dashboard's controller: holds the last report and history, follows
// `/api/events`, and swaps in fresh parts of the page only where something
// changed (so focus, open details and a half-typed key survive live updates).

import { api, follow } from "./api.js";
import { h, swap } from "./dom.js";
import { ago, lasting, probeSummary, stateLabel, tone } from "./format.js";
import { icon } from "./icons.js";
import * as R from "./render.js";

// History is re-read this often even when no state changed, so the timeline keeps moving.
const HISTORY_REFRESH_MS = 60_000;
// Coalesces a burst of state changes into one history request.
const HISTORY_DEBOUNCE_MS = 800;
const TOAST_MS = 6000;
// `/api/gateway` is polled this often while the page is visible: its counters
// change with every request, which sends no event.
const GATEWAY_POLL_MS = 5000;
// After a status event (a failover usually brings one), the gateway is re-read
// at most this often.
const GATEWAY_THROTTLE_MS = 1000;

const $ = (id) => document.getElementById(id);

const app = {
  report: null,
  /** undefined while loading, null when it failed, else the `/api/history` answer. */
  history: undefined,
  /** undefined while loading, null when it failed, else the `/api/gateway` answer. */
  gateway: undefined,
  /** The `/api/passive` answer (which agents' logs exist and are read), once loaded. */
  passive: null,
  /** The inference consent being shown: `{provider, estimate}` from `/api/inference`. */
  inferenceOffer: null,
  range: readRange(),
  statesSig: "",
  slots: {},
};

function readRange() {
  try {
    return localStorage.getItem("switchboard.range") === "7d" ? "7d" : "24h";
  } catch {
    return "24h";
  }
}

/** Swaps a top-level part only when its signature changed. */
function slot(name, container, sig, build) {
  const s = app.slots[name] ?? (app.slots[name] = { sig: null });
  if (s.sig === sig) return;
  s.sig = sig;
  const next = h("div", { class: "slot" }, build());
  if (s.el) s.el = swap(s.el, next);
  else {
    container.replaceChildren(next);
    s.el = next;
  }
}

// ---- toast and clipboard -------------------------------------------------------

let toastTimer;
function toast(message, isError = false) {
  const el = $("toast");
  el.replaceChildren(icon(isError ? "outage" : "operational"), h("span", {}, message));
  el.className = `toast show ${isError ? "tone-bad" : "tone-ok"}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.className = "toast"), TOAST_MS);
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission: select the text so Ctrl+C works.
    const code = button.parentElement.querySelector("code");
    const range = document.createRange();
    range.selectNodeContents(code);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
  }
  const label = button.querySelector(".btn-label");
  if (label) {
    label.textContent = "Copied";
    setTimeout(() => (label.textContent = "Copy"), 1500);
  }
}

// ---- provider cards ---------------------------------------------------------------

class Card {
  constructor(p) {
    this.id = p.id;
    this.sigs = {};
    this.formOpen = false;
    this.parts = {
      head: h("div"),
      body: h("div"),
      history: h("div"),
    };
    this.el = h(
      "article",
      { class: "card", id: `provider-${p.id}`, "aria-labelledby": `h-${p.id}`, dataset: { provider: p.id } },
      this.parts.head,
      this.parts.body,
      this.parts.history,
      this.buildCredential(p),
    );
  }

  part(name, sig, build) {
    if (this.sigs[name] === sig) return;
    this.sigs[name] = sig;
    this.parts[name] = swap(this.parts[name], build());
  }

  update(p, report) {
    this.p = p;
    this.el.className = `card tone-${tone(p.state)}`;
    this.el.dataset.state = p.state;
    this.part("head", JSON.stringify([p.name, p.state, report.preferred]), () => R.cardHead(p, report.preferred));
    const { credential: _c, ...rest } = p;
    const offer = app.inferenceOffer?.provider === p.id ? app.inferenceOffer : null;
    this.part("body", JSON.stringify([rest, offer]), () => R.cardBody(p, copy, inferenceActions));
    this.part("history", JSON.stringify([app.range, app.history === undefined ? "loading" : app.historySig]), () =>
      R.cardHistory(p, app.history, app.range),
    );
    this.updateCredential(p);
  }

  buildCredential(p) {
    const id = `key-${p.id}`;
    this.input = h("input", {
      id,
      type: "password",
      autocomplete: "off",
      autocapitalize: "off",
      spellcheck: "false",
      placeholder: "Paste an API key",
      "aria-describedby": `${id}-help`,
    });
    this.saveBtn = h("button", { type: "submit", class: "btn btn-primary" }, "Save and test");
    this.form = h(
      "form",
      { class: "key-form", onsubmit: (e) => this.save(e) },
      h("label", { for: id, class: "key-label" }, `API key for ${p.name}`),
      h("div", { class: "key-row" }, this.input, this.saveBtn),
      h("p", { class: "hint", id: `${id}-help` }, "Goes to your system keyring and is tested at once. It is never shown again."),
      (this.consent = h("div")),
    );
    /** The `/api/inference` estimate the consent shows, once asked for; and the user's choice. */
    this.estimate = null;
    this.inferChecked = false;
    this.result = h("p", { class: "key-result", role: "status", "aria-live": "polite" });
    this.credLine = h("div");
    this.credSection = h(
      "section",
      { class: "credential" },
      h("h4", { class: "visually-hidden" }, "API key"),
      this.credLine,
      this.form,
      this.result,
    );
    return this.credSection;
  }

  updateCredential(p) {
    this.credSection.hidden = p.credential === "not_needed";
    const needsForm = p.credential === "none" || p.credential === "unavailable" || p.state === "auth_error";
    this.form.hidden = !(needsForm || this.formOpen);
    this.updateConsent(p);
    const sig = JSON.stringify([p.credential, p.state === "auth_error", this.form.hidden]);
    if (this.sigs.cred === sig) return;
    this.sigs.cred = sig;
    const buttons = [];
    if (!needsForm && !this.formOpen) {
      const label = p.credential === "keyring" ? "Replace key" : "Store a key in the keyring";
      buttons.push(
        h(
          "button",
          { type: "button", class: "btn btn-ghost btn-sm", dataset: { focus: "replace" }, onclick: () => this.openForm() },
          label,
        ),
      );
    } else if (this.formOpen && !needsForm) {
      buttons.push(
        h(
          "button",
          { type: "button", class: "btn btn-ghost btn-sm", dataset: { focus: "cancel" }, onclick: () => this.closeForm() },
          "Cancel",
        ),
      );
    }
    if (p.credential === "keyring") {
      buttons.push(
        h(
          "button",
          {
            type: "button",
            class: "btn btn-ghost btn-sm btn-danger",
            dataset: { focus: "remove" },
            "aria-label": `Remove the ${p.name} key from the keyring`,
            onclick: (e) => this.remove(e.currentTarget),
          },
          "Remove",
        ),
      );
    }
    this.credLine = swap(this.credLine, h("div", { class: "cred-row" }, R.credentialLine(p), h("span", { class: "cred-actions" }, buttons)));
  }

  /** The inference offer inside the key form, with its cost fetched when the form shows. */
  updateConsent(p) {
    const offered = !this.form.hidden && p.inference && !p.inference.enabled && (p.models ?? []).length > 0;
    if (offered && !this.estimate && !this.estimating) {
      this.estimating = true;
      api
        .inference()
        .then((estimate) => {
          this.estimate = estimate;
          this.updateConsent(this.p);
        })
        .catch((err) => toast(`Could not estimate the inference checks' cost: ${err.message}`, true))
        .finally(() => (this.estimating = false));
    }
    const sig = JSON.stringify([offered, p.inference?.enabled, p.models?.map((m) => m.id), this.estimate, this.inferChecked]);
    if (this.sigs.consent === sig) return;
    this.sigs.consent = sig;
    const block = offered ? R.keyFormConsent(p, this.estimate, this.inferChecked, (on) => (this.inferChecked = on)) : null;
    this.consent = swap(this.consent, h("div", {}, block));
  }

  openForm() {
    this.formOpen = true;
    this.updateCredential(this.p);
    this.input.focus();
  }

  closeForm() {
    this.formOpen = false;
    this.input.value = "";
    this.updateCredential(this.p);
  }

  showResult(ok, text) {
    this.result.className = `key-result tone-text-${ok ? "ok" : "bad"}`;
    this.result.replaceChildren(icon(ok ? "operational" : "outage"), h("span", {}, text));
  }

  async save(e) {
    e.preventDefault();
    const key = this.input.value.trim();
    // The key leaves the page with this request and is kept nowhere: not in
    // the input, not in a variable that outlives this call, not in storage.
    this.input.value = "";
    if (!key) {
      this.showResult(false, "Paste a key first.");
      this.input.focus();
      return;
    }
    this.saveBtn.disabled = true;
    this.saveBtn.textContent = "Testing…";
    this.result.replaceChildren();
    try {
      const r = await api.setKey(this.id, key);
      await refresh();
      if (r?.stored && r.test?.ok) {
        this.formOpen = false;
        let words = "Key works. Stored in keyring.";
        if (this.inferChecked && this.estimate) {
          // Consent given in the form, the cost read beside it.
          try {
            await api.setInference({ enabled: true });
            words += " Inference checks on: each model gets a 1-token request.";
            await refresh();
          } catch (err) {
            words += ` Inference checks not turned on: ${err.message}`;
          }
          this.inferChecked = false;
        }
        this.showResult(true, words);
      } else if (r?.stored) {
        // The provider's own words: the probe that just ran. (The report's
        // summary may still describe the state from before, which hysteresis
        // holds for a round.)
        const probe = app.report?.providers.find((p) => p.id === this.id)?.probe;
        const why =
          probe && !probe.ok
            ? probeSummary(probe)
            : r.test?.summary || stateLabel(r.test?.state ?? "unknown");
        this.showResult(false, `Stored in keyring, but the provider refused it: ${why}`);
      } else {
        this.showResult(false, "The key was not stored.");
      }
    } catch (err) {
      this.showResult(false, `Not stored: ${err.message}`);
    } finally {
      this.saveBtn.disabled = false;
      this.saveBtn.textContent = "Save and test";
    }
  }

  async remove(button) {
    button.disabled = true;
    try {
      const r = await api.deleteKey(this.id);
      this.result.replaceChildren();
      toast(r?.deleted ? `Removed the ${this.p.name} key from the keyring.` : `No ${this.p.name} key was stored.`);
      await refresh();
    } catch (err) {
      toast(`Could not remove the key: ${err.message}`, true);
      button.disabled = false;
    }
  }
}

const cards = new Map();

function renderCards(report) {
  const container = $("cards");
  const seen = new Set();
  let prev = null;
  for (const p of report.providers ?? []) {
    seen.add(p.id);
    let card = cards.get(p.id);
    if (!card) {
      card = new Card(p);
      cards.set(p.id, card);
    }
    card.update(p, report);
    // Keep DOM order equal to report order without moving nodes needlessly
    // (moving a node drops its focus).
    const want = prev ? prev.nextSibling : container.firstChild;
    if (want !== card.el) container.insertBefore(card.el, want);
    prev = card.el;
  }
  for (const [id, card] of cards) {
    if (!seen.has(id)) {
      card.el.remove();
      cards.delete(id);
    }
  }
}

// ---- routing -----------------------------------------------------------------------

async function mutate(action, done) {
  try {
    await action();
    toast(done);
    await refresh();
  } catch (err) {
    toast(err.message, true);
    // Put the controls back to what the server says.
    app.slots.routing.sig = null;
    if (app.report) render(app.report);
  }
}

const routingActions = {
  setPreferred: (id) => {
    const name = app.report?.providers.find((p) => p.id === id)?.name ?? id;
    return mutate(() => api.setPreferred(id), `Preferred provider: ${name}.`);
  },
  setAutoSwitch: (on) =>
    mutate(() => api.setAutoSwitch(on), on ? "Automatic switching is on." : "Automatic switching is off."),
  setFallback: (order) => mutate(() => api.setFallback(order), "Fallback order saved."),
};

// ---- the whole page ------------------------------------------------------------------

function render(report) {
  app.report = report;
  document.body.dataset.overall = report.overall ?? "";

  const troubled = (report.providers ?? []).filter((p) => p.state !== "operational");
  document.title = troubled.length
    ? `${stateLabel(report.overall)} · Switchboard`
    : "All operational · Switchboard";

  updateChecked();
  slot("overview", $("overview"), overviewSig(report), () => R.overview(report));
  slot("notices", $("notices"), noticesSig(report), () => [
    ...R.notices(report),
    ...R.passiveOffer(app.passive, passiveDismissed(), passiveActions),
  ]);
  renderCards(report);
  slot(
    "routing",
    $("routing"),
    JSON.stringify([
      report.preferred,
      report.fallback,
      report.auto_switch,
      (report.providers ?? []).map((p) => [p.id, p.name, p.state, p.credential]),
    ]),
    () => R.routing(report, routingActions),
  );
  renderGateway();

  const statesSig = JSON.stringify((report.providers ?? []).map((p) => [p.id, p.state]));
  if (statesSig !== app.statesSig) {
    app.statesSig = statesSig;
    scheduleHistory();
  }
}

function overviewSig(report) {
  return JSON.stringify([
    report.preferred,
    report.auto_switch,
    (report.providers ?? []).map((p) => [p.id, p.name, p.state]),
  ]);
}

function noticesSig(report) {
  return JSON.stringify([
    report.config_error ?? null,
    report.engine_error ?? null,
    report.history_paused ?? null,
    (report.providers ?? []).map((p) => p.credential),
    app.passive,
    passiveDismissed(),
  ]);
}

// ---- inference checks: consent with the cost shown first ---------------------------

const inferenceActions = {
  get offer() {
    return app.inferenceOffer;
  },
  ask: async (provider) => {
    try {
      app.inferenceOffer = { provider, estimate: await api.inference() };
    } catch (err) {
      toast(err.message, true);
    }
    if (app.report) render(app.report);
  },
  enable: async () => {
    try {
      await api.setInference({ enabled: true });
      toast("Inference checks on: each model gets a 1-token request.");
    } catch (err) {
      toast(err.message, true);
    }
    app.inferenceOffer = null;
    if (app.report) render(app.report);
  },
  cancel: () => {
    app.inferenceOffer = null;
    if (app.report) render(app.report);
  },
};

// ---- passive signals (the user's coding-agent session logs) ------------------------

const PASSIVE_DISMISSED = "switchboard.passive-offer-dismissed";

function passiveDismissed() {
  try {
    return localStorage.getItem(PASSIVE_DISMISSED) === "1";
  } catch {
    return false;
  }
}

async function loadPassive() {
  try {
    app.passive = await api.passive();
  } catch {
    app.passive = null;
  }
  if (app.report) render(app.report);
}

const passiveActions = {
  enable: async (agents) => {
    const settings = Object.fromEntries(agents.map((a) => [a, true]));
    try {
      app.passive = await api.setPassive(settings);
      toast("Reading API errors from your agents' session logs.");
    } catch (err) {
      toast(err.message, true);
    }
    if (app.report) render(app.report);
  },
  dismiss: () => {
    try {
      localStorage.setItem(PASSIVE_DISMISSED, "1");
    } catch {
      // Private mode: the offer comes back next time, which is harmless.
    }
    if (app.report) render(app.report);
  },
};

function updateChecked() {
  const at = app.report?.checked_at;
  $("checked").textContent = at ? `Checked ${ago(at)}` : "Not checked yet";
  if (at) $("checked").title = new Date(at).toLocaleString();
}

// ---- history ---------------------------------------------------------------------------

let historyTimer;
function scheduleHistory(delay = HISTORY_DEBOUNCE_MS) {
  clearTimeout(historyTimer);
  historyTimer = setTimeout(loadHistory, delay);
}

async function loadHistory() {
  clearTimeout(historyTimer);
  const range = app.range;
  try {
    const hist = await api.history(range);
    if (range !== app.range) return;
    app.history = hist;
    app.historySig = JSON.stringify(hist?.providers ?? null);
  } catch (err) {
    console.warn("history:", err.message);
    if (app.history === undefined) {
      app.history = null;
      app.historySig = "failed";
    }
  }
  if (app.report) renderCards(app.report);
  historyTimer = setTimeout(loadHistory, HISTORY_REFRESH_MS);
}

function setRange(range) {
  if (range === app.range) return;
  app.range = range;
  try {
    localStorage.setItem("switchboard.range", range);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  for (const b of document.querySelectorAll(".seg-btn")) b.setAttribute("aria-pressed", String(b.dataset.range === range));
  app.history = undefined;
  if (app.report) renderCards(app.report);
  loadHistory();
}

// ---- gateway ----------------------------------------------------------------------------

function renderGateway() {
  const gw = app.gateway;
  const report = app.report;
  const order = report && [report.preferred, report.fallback, (report.providers ?? []).map((p) => [p.id, p.name, p.kind])];
  slot("gatewayBadge", $("gateway-badge"), JSON.stringify(gw ? [gw.enabled, gw.running] : null), () => R.gatewayBadge(gw));
  slot("gateway", $("gateway"), JSON.stringify([gw === undefined ? "loading" : gw, order ?? null]), () =>
    R.gateway(gw, report, copy),
  );
}

const gatewayPoll = { timer: null, soon: null, last: 0, busy: false, again: false };

async function loadGateway() {
  const g = gatewayPoll;
  clearTimeout(g.timer);
  if (g.busy) {
    // An answer is on its way; ask once more after it, it may predate the news.
    g.again = true;
    return;
  }
  g.busy = true;
  g.last = Date.now();
  try {
    app.gateway = await api.gateway();
  } catch (err) {
    console.warn("gateway:", err.message);
    // Keep the last answer on a passing failure; the link state says Switchboard is gone.
    if (app.gateway === undefined) app.gateway = null;
  } finally {
    g.busy = false;
  }
  renderGateway();
  if (g.again) {
    g.again = false;
    gatewaySoon();
  }
  clearTimeout(g.timer);
  if (!document.hidden) g.timer = setTimeout(loadGateway, GATEWAY_POLL_MS);
}

/** Re-reads the gateway soon, at most once per GATEWAY_THROTTLE_MS. */
function gatewaySoon() {
  const g = gatewayPoll;
  if (document.hidden || g.soon) return;
  const wait = Math.max(0, g.last + GATEWAY_THROTTLE_MS - Date.now());
  g.soon = setTimeout(() => {
    g.soon = null;
    loadGateway();
  }, wait);
}

function onVisibility() {
  if (document.hidden) {
    // A hidden page stops polling; it catches up the moment it is shown.
    clearTimeout(gatewayPoll.timer);
    clearTimeout(gatewayPoll.soon);
    gatewayPoll.soon = null;
  } else {
    loadGateway();
  }
}

// ---- wiring -------------------------------------------------------------------------------

async function refresh() {
  try {
    render(await api.status());
  } catch (err) {
    console.warn("status:", err.message);
  }
}

async function checkNow() {
  const btn = $("check-now");
  const words = $("check-now-words");
  btn.disabled = true;
  btn.setAttribute("aria-busy", "true");
  words.textContent = "Checking…";
  try {
    render(await api.check());
  } catch (err) {
    toast(`Check failed: ${err.message}`, true);
  } finally {
    btn.disabled = false;
    btn.removeAttribute("aria-busy");
    words.textContent = "Check now";
  }
}

function setLink(link) {
  const el = $("link");
  el.dataset.link = link;
  $("link-words").textContent = { live: "Live", reconnecting: "Reconnecting…", offline: "Disconnected" }[link] ?? link;
  el.title =
    link === "live"
      ? "Updates arrive as they happen"
      : "Lost the connection to Switchboard; trying again. The page shows the last known state.";
}

function tick() {
  const now = Date.now();
  updateChecked();
  for (const t of document.querySelectorAll("time[data-rel]")) {
    const iso = t.getAttribute("datetime");
    const text = t.dataset.rel === "for" ? lasting(iso, now) : ago(iso, now);
    if (t.textContent !== text) t.textContent = text;
  }
}

/**
 * A page served to another machine (`watch --allow-remote`) carries no token:
 * it shows everything and changes nothing. Mutating controls are disabled
 * (routing, Check now) or hidden (key forms), and a note says why.
 */
function readOnly() {
  if (!document.querySelector('meta[name="switchboard-read-only"]')) return;
  document.body.classList.add("read-only");
  const btn = $("check-now");
  btn.disabled = true;
  btn.title = "Read-only: open the dashboard on the machine running Switchboard to check now";
  $("routing").inert = true;
  $("notices").before(
    h(
      "div",
      { class: "notice tone-info", id: "read-only" },
      h("h2", { class: "notice-title" }, "Read-only dashboard"),
      h(
        "p",
        {},
        "You are viewing Switchboard from another machine. Changing the preferred provider, the fallback order " +
          "or keys works only from the machine that runs it (http://127.0.0.1 there).",
      ),
    ),
  );
}

/** The desktop app's "no tray here" banner, from the URL it opened (render.noTrayNotice). */
function desktopNotice() {
  const reason = new URLSearchParams(location.search).get("tray");
  const notice = R.noTrayNotice(reason);
  if (notice) $("desktop-notice").replaceChildren(notice);
}

function start() {
  readOnly();
  desktopNotice();
  $("check-now").addEventListener("click", checkNow);
  for (const b of document.querySelectorAll(".seg-btn")) {
    b.setAttribute("aria-pressed", String(b.dataset.range === app.range));
    b.addEventListener("click", () => setRange(b.dataset.range));
  }
  follow({
    onStatus: (report) => {
      render(report);
      gatewaySoon();
    },
    onLink: setLink,
  });
  refresh();
  loadHistory();
  loadGateway();
  loadPassive();
  document.addEventListener("visibilitychange", onVisibility);
  setInterval(tick, 1000);
}

start();
