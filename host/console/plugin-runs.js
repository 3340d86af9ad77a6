// A plugin's runs tab: the live calls this plugin's nodes recorded (every rejection and
// failure, a sample of acceptances), newest first, filtered by outcome; each opens to its
// input, config, decision, fuel and logs (as text, whatever a plugin wrote) and can be taken
// to the dry run as its input.

import { admin } from "./api.js";
import { badge, fmt, h, jsonBlock, replace } from "./dom.js";
import { pickInput } from "./plugin-try.js";

const TONES = { accepted: "good", rejected: "warn", failed: "bad" };

/** Draws the tab. */
export function runsTab(body, { plugin, ctx }) {
  const outcome = h(
    "select",
    { id: "runs-outcome" },
    ["", "accepted", "rejected", "failed"].map((value) => h("option", { value }, value || "every outcome")),
  );
  const list = h("div", { class: "runs" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  let cursor = null;

  const load = async (reset) => {
    if (reset) {
      cursor = null;
      replace(list, h("p", { class: "loading" }, "Loading runs…"));
    }
    try {
      const page = await admin.runs(plugin.name, { outcome: outcome.value, cursor });
      if (reset) replace(list);
      if (reset && page.items.length === 0) list.append(h("p", { class: "empty" }, "No recorded run."));
      for (const run of page.items) list.append(runEntry(plugin, run));
      cursor = page.nextCursor;
      more.hidden = !cursor;
    } catch (error) {
      ctx.fail(error);
    }
  };
  outcome.addEventListener("change", () => load(true));
  more.addEventListener("click", () => load(false));
  replace(
    body,
    h(
      "section",
      { class: "panel" },
      h("h2", {}, "Recorded runs"),
      h("p", { class: "hint" }, "Every rejection and failure, and a sample of accepted calls (EDGECART_PLUGIN_RUN_SAMPLE)."),
      h("div", { class: "field inline" }, h("label", { for: "runs-outcome" }, "Outcome"), outcome),
      list,
      more,
    ),
  );
  load(true);
}

/** One run, as a disclosure: the summary line, then everything recorded. */
function runEntry(plugin, run) {
  const logs = Array.isArray(run.logs) ? run.logs : [];
  return h(
    "details",
    { class: "run", dataset: { runId: String(run.id) } },
    h(
      "summary",
      {},
      badge(run.outcome, TONES[run.outcome] ?? "plain"),
      h("span", { class: "when" }, fmt.time(run.recordedAt)),
      h("span", { class: "version" }, run.version),
      h("span", { class: "decision" }, decisionText(run.decision)),
    ),
    h(
      "div",
      { class: "run-body" },
      h("p", { class: "hint" }, `run ${run.id} · fuel ${fmt.number(run.fuel)} · ${fmt.micros(run.durationMicros)}`),
      h("h4", {}, "Input"),
      jsonBlock(run.input),
      h("h4", {}, "Config"),
      jsonBlock(run.config),
      h("h4", {}, "Decision"),
      jsonBlock(run.decision),
      h("h4", {}, "Logs"),
      logs.length
        ? h("ol", { class: "logs" }, logs.map((line) => h("li", {}, h("span", { class: "level" }, line.level), " ", h("span", { class: "message" }, line.message))))
        : h("p", { class: "empty" }, "No log line."),
      h(
        "button",
        {
          type: "button",
          class: "secondary small",
          on: {
            click: () => {
              pickInput(plugin.name, run.input, run.config);
              location.hash = `#/plugins/${encodeURIComponent(plugin.name)}/dryrun`;
            },
          },
        },
        "Dry run with this input",
      ),
    ),
  );
}

/** A decision in a few words: accepted, the rejection's code and message, or the failure. */
export function decisionText(decision) {
  if (decision?.reject) return `${decision.reject.code}: ${decision.reject.message}`;
  if (decision?.accept) return "accepted";
  if (decision?.prices) return `priced ${decision.prices.length} lines`;
  if (decision?.failure) return `failed (${decision.failure.kind}): ${decision.failure.message}`;
  return JSON.stringify(decision);
}
