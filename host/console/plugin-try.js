// Trying a version without touching live traffic: the dry run (one input, edited or picked
// from a recorded run, through any version with any config; nothing stored) and the replay
// (a version against the recorded runs, with the agreement report and samples).

import { admin } from "./api.js";
import { fmt, h, jsonBlock, replace, table } from "./dom.js";
import { decisionText } from "./plugin-runs.js";

/** The input picked from a recorded run, per plugin, until the dry run tab takes it. */
const picked = new Map();

/** Keeps `input` (and its `config`) for `plugin`'s next dry run. */
export function pickInput(plugin, input, config) {
  picked.set(plugin, { input, config });
}

const EXAMPLES = {
  "charge.validate": { userId: 1, amount: 10_000, balance: 0, userAttributes: {} },
  "order.validate": {
    userId: 1,
    balance: 100_000,
    lines: [{ productId: 1, quantity: 1, unitPrice: 2_500, name: "양배추 샐러드", attributes: {} }],
    coupon: null,
    userAttributes: {},
    paidOrders: 0,
  },
};
EXAMPLES["order.price"] = EXAMPLES["order.validate"];

function versionPicker(id, plugin) {
  return h(
    "select",
    { id },
    [...plugin.versions].reverse().map((v) =>
      h("option", { value: v.version, selected: v.version === plugin.activeVersion }, v.version === plugin.activeVersion ? `${v.version} (active)` : v.version),
    ),
  );
}

function parseObject(text, what) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON.`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${what} must be a JSON object.`);
  return value;
}

/** Draws the dry run tab. */
export function dryRunTab(body, { plugin, ctx }) {
  const chosen = picked.get(plugin.name);
  picked.delete(plugin.name);
  const version = versionPicker("dry-version", plugin);
  const input = h("textarea", { id: "dry-input", rows: 12, spellcheck: false, value: JSON.stringify(chosen?.input ?? EXAMPLES[plugin.hook] ?? {}, null, 2) });
  const config = h("textarea", { id: "dry-config", rows: 4, spellcheck: false, value: JSON.stringify(chosen?.config ?? plugin.config ?? {}, null, 2) });
  const result = h("div", { class: "result", "aria-live": "polite" });
  const run = async (event) => {
    event.preventDefault();
    try {
      const answer = await admin.evaluate(plugin.name, version.value, {
        input: parseObject(input.value, "The input"),
        config: parseObject(config.value, "The config"),
      });
      replace(
        result,
        h("h3", {}, `Decision: ${decisionText(answer.decision)}`),
        h("p", { class: "hint" }, `fuel ${fmt.number(answer.fuel)} · ${fmt.micros(answer.durationMicros)}`),
        jsonBlock(answer.decision),
        h("h4", {}, "Logs"),
        answer.logs.length ? h("ol", { class: "logs" }, answer.logs.map((l) => h("li", {}, `${l.level} ${l.message}`))) : h("p", { class: "empty" }, "No log line."),
      );
    } catch (error) {
      replace(result, h("p", { class: "field-error", role: "alert" }, ctx.describe(error)));
    }
  };
  replace(
    body,
    h(
      "form",
      { class: "panel", on: { submit: run } },
      h("h2", {}, "Dry run"),
      h("p", { class: "hint" }, chosen ? "The input of the run you picked. Nothing is stored." : "Edit the input, or pick one from Runs. Nothing is stored."),
      h("div", { class: "field" }, h("label", { for: "dry-version" }, "Version"), version),
      h("div", { class: "field" }, h("label", { for: "dry-input" }, "Input (the hook's input as JSON)"), input),
      h("div", { class: "field" }, h("label", { for: "dry-config" }, "Config"), config),
      ctx.canChange ? h("button", { type: "submit", class: "primary" }, "Run") : h("p", { class: "hint" }, "A dry run needs the editor role."),
      result,
    ),
  );
}

/** Draws the replay tab. */
export function replayTab(body, { plugin, ctx }) {
  const version = versionPicker("replay-version", plugin);
  const limit = h("input", { id: "replay-limit", type: "number", min: 1, max: 10_000, value: "1000" });
  const result = h("div", { class: "result", "aria-live": "polite" });
  const run = async (event) => {
    event.preventDefault();
    replace(result, h("p", { class: "loading" }, "Replaying…"));
    try {
      const report = await admin.replay(plugin.name, version.value, { limit: Number(limit.value) });
      replace(
        result,
        h(
          "p",
          { class: "report" },
          `${version.value} on ${fmt.number(report.runs)} recorded runs: `,
          h("strong", { class: "agreed" }, `${fmt.number(report.agreed)} agreed`),
          `, ${fmt.number(report.disagreed)} disagreed, ${fmt.number(report.failed)} failed.`,
        ),
        table(
          ["Run", "Recorded", "Replayed"],
          report.samples.map((s) => [String(s.runId), decisionText(s.recorded), decisionText(s.replayed)]),
          { empty: "No disagreement to show." },
        ),
      );
    } catch (error) {
      replace(result, h("p", { class: "field-error", role: "alert" }, ctx.describe(error)));
    }
  };
  replace(
    body,
    h(
      "form",
      { class: "panel", on: { submit: run } },
      h("h2", {}, "Replay"),
      h("p", { class: "hint" }, "Runs a version on the recorded runs, each with its own config, in the sandbox; nothing is stored or changed."),
      h("div", { class: "row" }, h("div", { class: "field" }, h("label", { for: "replay-version" }, "Version"), version), h("div", { class: "field" }, h("label", { for: "replay-limit" }, "Runs (newest)"), limit)),
      ctx.canChange ? h("button", { type: "submit", class: "primary" }, "Replay") : h("p", { class: "hint" }, "A replay needs the editor role."),
      result,
    ),
  );
}
