// Building the page without HTML strings: every element is made with `h()`, and every piece of
// text (a plugin's log line, a rejection message, a config value) goes in as a text node, so
// nothing a plugin or a client wrote is ever parsed as markup. Plus the small formatters the
// views share.

/** Properties that would parse markup: refused, so no view can reach them through `h()`. */
const MARKUP = new Set(["innerHTML", "outerHTML", "srcdoc"]);

/**
 * A new element: `h("button", { class: "primary", on: { click } }, "Save")`.
 * `props`: `class`, `text`, `on` (event handlers), `dataset`, DOM properties (`value`,
 * `disabled`, `hidden`, `type`, …) and any other attribute (`role`, `aria-*`, `for`).
 * Children: nodes, strings and numbers (as text), arrays of those; null and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (MARKUP.has(key)) throw new Error(`h(): ${key} is not allowed`);
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "on") for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node && !key.includes("-")) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/** Appends `children` (as for `h()`) to `node`. */
export function append(node, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces everything in `node` with `children`. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** A table: `headers` as column titles, `rows` as arrays of cells (nodes or text). */
export function table(headers, rows, { caption, empty = "Nothing yet." } = {}) {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((title) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
    ),
  );
}

/** A small label: `badge("active 1.2.0", "good")`. */
export function badge(text, tone = "plain") {
  return h("span", { class: `badge ${tone}` }, text);
}

/** JSON, indented, as preformatted text. */
export function jsonBlock(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

/** Formatters: thousands separators, local date and time, short hashes, JSON on one line. */
export const fmt = {
  number: (n) => (typeof n === "number" ? n.toLocaleString("en-US") : "–"),
  time: (iso) => {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString("en-GB", { hour12: false });
  },
  hash: (sha256) => String(sha256).slice(0, 12),
  bytes: (size) => (size >= 1024 * 1024 ? `${(size / 1024 / 1024).toFixed(1)} MiB` : `${(size / 1024).toFixed(1)} KiB`),
  inline: (value) => (value === undefined ? "(unset)" : JSON.stringify(value)),
  micros: (us) => (typeof us === "number" ? (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us} µs`) : "–"),
};
