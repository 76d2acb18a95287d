// A provider's history as one SVG bar: time runs left to right, each segment
// is coloured by state, outages also carry diagonal stripes (colour is never
// the only signal), and <title>/<desc> say the same in words for screen readers.
//
// Segment positions are percentages, so the bar stretches to any width
// without distorting the stripes.

import { s } from "./dom.js";
import { clock, duration, stateLabel, tone } from "./format.js";

// A segment shorter than this share of the bar is widened to it: a 1 min
// outage in a 7 day window would otherwise be invisible.
const MIN_WIDTH_PERCENT = 1;
// At most this many problem spans are read out in the description.
const MAX_SPANS_IN_DESC = 5;

let uid = 0;

/**
 * @param {object} o
 * @param {string} o.name provider name
 * @param {{from:string,to:string,state:string}[]} o.segments
 * @param {string} o.since RFC 3339 start of the window
 * @param {string} o.until RFC 3339 end of the window
 * @param {string} o.range "24h" | "7d"
 */
export function timeline({ name, segments, since, until, range }) {
  const id = `tl${++uid}`;
  const t0 = Date.parse(since);
  const t1 = Date.parse(until);
  const span = Math.max(1, t1 - t0);
  const rangeWords = range === "7d" ? "last 7 days" : "last 24 hours";

  const rects = [];
  const problems = [];
  for (const seg of segments ?? []) {
    const a = Math.max(t0, Date.parse(seg.from));
    const b = Math.min(t1, Date.parse(seg.to ?? until));
    if (!(b > a)) continue;
    let x = ((a - t0) / span) * 100;
    let w = ((b - a) / span) * 100;
    if (w < MIN_WIDTH_PERCENT) {
      x = Math.max(0, Math.min(100 - MIN_WIDTH_PERCENT, x - (MIN_WIDTH_PERCENT - w) / 2));
      w = MIN_WIDTH_PERCENT;
    }
    const words = `${stateLabel(seg.state)}, ${clock(seg.from)} to ${clock(seg.to ?? until)} (${duration(Math.round((b - a) / 1000))})`;
    const attrs = { x: `${x}%`, y: 0, width: `${w}%`, height: "100%" };
    rects.push(s("rect", { ...attrs, class: `tl-seg tl-${tone(seg.state)}` }, s("title", {}, words)));
    if (seg.state === "outage" || seg.state === "auth_error") {
      rects.push(s("rect", { ...attrs, fill: `url(#${id}-hatch)`, "pointer-events": "none" }));
    }
    if (seg.state !== "operational") problems.push(words);
  }

  let desc;
  if (!rects.length) desc = `No history yet for the ${rangeWords}.`;
  else if (!problems.length) desc = `Operational for the whole of the recorded ${rangeWords}.`;
  else {
    const more = problems.length - MAX_SPANS_IN_DESC;
    desc =
      `${problems.slice(0, MAX_SPANS_IN_DESC).join("; ")}` +
      (more > 0 ? `; and ${more} more.` : ". Operational otherwise, where recorded.");
  }

  // Hour or day ticks, faint, so a segment can be placed in time at a glance.
  const ticks = [];
  const step = range === "7d" ? 24 * 3600e3 : 6 * 3600e3;
  for (let t = t1 - step; t > t0; t -= step) {
    const x = `${((t - t0) / span) * 100}%`;
    ticks.push(s("line", { x1: x, x2: x, y1: 0, y2: "100%", class: "tl-tick" }));
  }

  return s(
    "svg",
    {
      class: "timeline",
      role: "img",
      width: "100%",
      height: 22,
      "aria-labelledby": `${id}-title ${id}-desc`,
    },
    s("title", { id: `${id}-title` }, `${name}: state over the ${rangeWords}`),
    s("desc", { id: `${id}-desc` }, desc),
    s(
      "defs",
      {},
      s(
        "pattern",
        { id: `${id}-hatch`, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
        s("rect", { width: 2.5, height: 6, class: "tl-hatch" }),
      ),
      s("pattern", { id: `${id}-none`, width: 4, height: 4, patternUnits: "userSpaceOnUse" }, s("rect", { width: 1, height: 1, class: "tl-dot" })),
      s("clipPath", { id: `${id}-clip` }, s("rect", { width: "100%", height: "100%", rx: 4 })),
    ),
    s(
      "g",
      { "clip-path": `url(#${id}-clip)` },
      s("rect", { width: "100%", height: "100%", class: "tl-empty" }),
      s("rect", { width: "100%", height: "100%", fill: `url(#${id}-none)` }),
      rects,
      ticks,
    ),
  );
}
