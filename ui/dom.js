// A tiny element builder. Text always goes in as text nodes, never as HTML, so
// nothing a provider or status page sends can become markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, props, children) {
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** h("p", {class: "x"}, "text", h("b", {}, "bold")) */
export function h(tag, props, ...children) {
  return build(document.createElement(tag), props, children);
}

/** The same for SVG elements. */
export function s(tag, props, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}

/**
 * Replaces `old` by `next`, keeping keyboard focus and open disclosures: when
 * focus was inside the old subtree, the element with the same `data-focus`
 * key in the new one gets it; a <details> whose <summary> has a `data-focus`
 * key stays open.
 */
export function swap(old, next) {
  const active = document.activeElement;
  const key = active && old.contains(active) ? active.dataset.focus : undefined;
  for (const summary of old.querySelectorAll("details[open] > summary[data-focus]")) {
    next.querySelector(`summary[data-focus="${CSS.escape(summary.dataset.focus)}"]`)?.parentElement.setAttribute("open", "");
  }
  old.replaceWith(next);
  if (key) next.querySelector(`[data-focus="${CSS.escape(key)}"]`)?.focus({ preventScroll: true });
  return next;
}
