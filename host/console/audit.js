// The audit log: every admin change, newest first, with who made it, what it was, and the
// state before and after; filtered by target ("plugin:charge-limits"), paged.

import { admin } from "./api.js";
import { fmt, h, jsonBlock, replace } from "./dom.js";

/** Draws the audit page into `view`. */
export async function auditView(view, ctx) {
  const target = h("input", { id: "audit-target", type: "search", placeholder: "plugin:charge-limits", autocomplete: "off" });
  const rows = h("tbody");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  let cursor = null;
  const load = async (reset) => {
    if (reset) cursor = null;
    const page = await admin.audit({ target: target.value.trim(), cursor });
    if (reset) replace(rows);
    for (const entry of page.items) {
      rows.append(
        h(
          "tr",
          { class: "audit-entry" },
          h("td", {}, fmt.time(entry.at)),
          h("td", { class: "actor" }, entry.actor),
          h("td", { class: "action" }, entry.action),
          h("td", {}, entry.target),
          h("td", {}, h("details", {}, h("summary", {}, "before / after"), h("h4", {}, "Before"), jsonBlock(entry.before), h("h4", {}, "After"), jsonBlock(entry.after))),
        ),
      );
    }
    cursor = page.nextCursor;
    more.hidden = !cursor;
  };
  const filter = h(
    "form",
    { class: "row", on: { submit: (event) => (event.preventDefault(), load(true).catch(ctx.fail)) } },
    h("div", { class: "field" }, h("label", { for: "audit-target" }, "Target"), target),
    h("button", { type: "submit", class: "secondary" }, "Filter"),
  );
  more.addEventListener("click", () => load(false).catch(ctx.fail));
  await load(true);
  replace(
    view,
    h("h1", {}, "Audit log"),
    h(
      "section",
      { class: "panel" },
      filter,
      h("div", { class: "table-scroll" }, h("table", {}, h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Target", "Change"].map((t) => h("th", { scope: "col" }, t)))), rows)),
      more,
    ),
  );
}
