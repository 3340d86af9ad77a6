// The console's first page: every hook with its plugins in the order they run (ascending
// priority, the first rejection wins), each with its active and shadow version and failure
// policy; an editor can upload a new plugin from here.

import { admin } from "./api.js";
import { badge, h, replace, table } from "./dom.js";
import { HOOKS, uploadForm } from "./upload.js";

const ABOUT = {
  "charge.validate": "Runs before a points charge; may refuse it.",
  "order.validate": "Runs before an order is placed; may refuse it.",
  "order.price": "Prices each line of an order, each plugin seeing the previous prices.",
};

/** Draws the hooks page into `view`. */
export async function pluginsView(view, ctx) {
  const plugins = await admin.plugins();
  const hooks = [...new Set([...HOOKS, ...plugins.map((p) => p.hook)])];
  const sections = hooks.map((hook) => {
    const onHook = plugins
      .filter((p) => p.hook === hook)
      .sort((a, b) => (a.activeVersion ? 0 : 1) - (b.activeVersion ? 0 : 1) || a.priority - b.priority || a.name.localeCompare(b.name));
    const rows = onHook.map((p) => [
      p.activeVersion ? String(p.priority) : "–",
      h("a", { href: `#/plugins/${encodeURIComponent(p.name)}`, class: "plugin-link" }, p.name),
      p.activeVersion ? badge(p.activeVersion, "good") : badge("inactive", "muted"),
      p.shadowVersion ? badge(`shadow ${p.shadowVersion}`, "info") : "–",
      p.onFailure === "skip" ? badge("skip on failure", "warn") : "reject on failure",
      String(p.versions.length),
    ]);
    return h(
      "section",
      { class: "panel hook", "aria-labelledby": `hook-${hook}` },
      h("h2", { id: `hook-${hook}` }, hook),
      h("p", { class: "hint" }, ABOUT[hook] ?? ""),
      table(["Order", "Plugin", "Active", "Shadow", "Failure policy", "Versions"], rows, { empty: "No plugin on this hook." }),
    );
  });
  replace(
    view,
    h("h1", {}, "Rule plugins"),
    sections,
    ctx.canChange ? h("section", { class: "panel" }, uploadForm(ctx, null, (stored) => (location.hash = `#/plugins/${stored.name}`))) : null,
  );
}
