// One shape per state, so the state reads without colour (a check, a
// triangle, an octagon...). Decorative: the words next to them carry the meaning.

import { s } from "./dom.js";

const SHAPES = {
  operational: ["M8 1.75a6.25 6.25 0 1 0 0 12.5a6.25 6.25 0 1 0 0-12.5z", "M5.2 8.2l1.9 1.9l3.7-3.9"],
  degraded: ["M8 1.9l6.4 11.3H1.6z", "M8 6.2v3.1", "M8 11.4v.1"],
  rate_limited: ["M8 1.75a6.25 6.25 0 1 0 0 12.5a6.25 6.25 0 1 0 0-12.5z", "M8 4.6V8l2.4 1.5"],
  outage: ["M5.4 1.75h5.2l3.65 3.65v5.2l-3.65 3.65H5.4L1.75 10.6V5.4z", "M5.9 5.9l4.2 4.2", "M10.1 5.9l-4.2 4.2"],
  auth_error: ["M3.75 7.25h8.5v6.5h-8.5z", "M5.5 7.25V5.2a2.5 2.5 0 0 1 5 0v2.05", "M8 9.8v1.4"],
  unknown: [
    "M8 1.75a6.25 6.25 0 1 0 0 12.5a6.25 6.25 0 1 0 0-12.5z",
    "M6.1 6.3a1.95 1.95 0 1 1 2.7 1.8c-.5.2-.8.6-.8 1.1v.3",
    "M8 11.5v.1",
  ],
  offline: ["M8 1.75a6.25 6.25 0 1 0 0 12.5a6.25 6.25 0 1 0 0-12.5z", "M3.6 12.4l8.8-8.8"],
  key: ["M5 5.2a2.8 2.8 0 1 0 0 5.6a2.8 2.8 0 1 0 0-5.6z", "M7.8 8h6.2", "M12.4 8v2.4", "M10.4 8v1.8"],
  external: ["M9.5 2.5h4v4", "M13.5 2.5L8 8", "M12 9.5v3a1 1 0 0 1-1 1H3.5a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1h3"],
  refresh: ["M13.5 8a5.5 5.5 0 1 1-1.7-4", "M12.2 1.8v2.5H9.7"],
  up: ["M8 12.5v-9", "M4.5 7l3.5-3.5L11.5 7"],
  down: ["M8 3.5v9", "M4.5 9l3.5 3.5L11.5 9"],
  close: ["M4.5 4.5l7 7", "M11.5 4.5l-7 7"],
  plus: ["M8 3.5v9", "M3.5 8h9"],
  copy: ["M5.5 5.5h7v8h-7z", "M3.5 10.5v-8h7"],
};

/** An inline 16 px icon; `name` is a state or one of the UI glyphs above. */
export function icon(name, cls = "icon") {
  const paths = SHAPES[name] ?? SHAPES.unknown;
  return s(
    "svg",
    { class: cls, viewBox: "0 0 16 16", width: 16, height: 16, "aria-hidden": "true", focusable: "false" },
    paths.map((d) => s("path", { d })),
  );
}
