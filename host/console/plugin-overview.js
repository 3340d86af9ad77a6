// A plugin's overview tab: the live figures of each version on the node that answers (calls,
// rejections, failures by kind, p99 duration, shadow agreement), refreshed every two seconds
// while the tab is open; its versions with activate and shadow behind confirmations; and the
// upload of a new version.

import { admin } from "./api.js";
import { confirmThen } from "./confirm.js";
import { badge, fmt, h, replace, table } from "./dom.js";
import { uploadForm } from "./upload.js";

/** How often the live figures are asked for again. */
const REFRESH_MS = 2_000;

/** Draws the tab; returns the function that stops the refreshing. */
export function overviewTab(body, page) {
  const { plugin, ctx } = page;
  const figures = h("div", { class: "figures", "aria-live": "off" }, h("p", { class: "loading" }, "Loading figures…"));
  const updated = h("p", { class: "hint updated" });
  replace(
    body,
    h("section", { class: "panel" }, h("h2", {}, "Live figures on this node"), updated, figures),
    h("section", { class: "panel" }, h("h2", {}, "Versions"), versions(page)),
    ctx.canChange ? h("section", { class: "panel" }, uploadForm(ctx, plugin, () => page.reload())) : null,
  );
  let stopped = false;
  const refresh = async () => {
    try {
      const stats = await admin.stats(plugin.name);
      if (stopped) return;
      replace(figures, figuresTable(stats.versions));
      replace(updated, `Since this node started; updated ${new Date().toLocaleTimeString("en-GB", { hour12: false })}.`);
    } catch (error) {
      if (!stopped) replace(updated, `Figures unavailable: ${ctx.describe(error)}`);
    }
  };
  refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

function figuresTable(versions) {
  const called = versions.filter((v) => v.calls > 0 || Object.keys(v.shadow).length > 0);
  return table(
    ["Version", "Calls", "Accepted", "Rejected", "Failed", "Skipped", "p99", "Shadow runs"],
    called.map((v) => [
      v.version,
      fmt.number(v.calls),
      fmt.number(v.accepted),
      fmt.number(v.rejected),
      v.failed ? `${fmt.number(v.failed)} (${kinds(v.failures)})` : "0",
      fmt.number(v.skipped),
      v.p99Micros === null || v.p99Micros === undefined ? "–" : fmt.micros(v.p99Micros),
      shadowSummary(v.shadow),
    ]),
    { empty: "No calls on this node since it started." },
  );
}

const kinds = (failures) =>
  Object.entries(failures)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");

function shadowSummary(shadow) {
  const total = Object.values(shadow).reduce((sum, n) => sum + n, 0);
  if (total === 0) return "–";
  const agree = shadow.agree ?? 0;
  const rest = Object.entries(shadow)
    .filter(([result]) => result !== "agree")
    .map(([result, n]) => `${result} ${n}`);
  return `${agree} of ${total} agree (${Math.round((agree / total) * 100)}%)${rest.length ? `; ${rest.join(", ")}` : ""}`;
}

function versions({ plugin, ctx, reload }) {
  const act = (confirmation, change, done) => confirmThen(ctx, confirmation, change, done, reload);
  const rows = [...plugin.versions].reverse().map((v) => {
    const state = [];
    if (v.version === plugin.activeVersion) state.push(badge("active", "good"));
    if (v.version === plugin.shadowVersion) state.push(badge("shadow", "info"));
    const controls = [];
    if (ctx.canChange && v.version !== plugin.activeVersion) {
      controls.push(
        h("button", {
          type: "button",
          class: "small primary",
          text: "Activate",
          "aria-label": `Activate ${v.version}`,
          on: {
            click: () =>
              act(
                {
                  title: `Activate ${plugin.name} ${v.version}?`,
                  summary: `${plugin.name} ${plugin.activeVersion ?? "(inactive)"} → ${v.version} on every node; config unchanged${
                    v.version === plugin.shadowVersion ? `; ${v.version} stops running as shadow` : ""
                  }.`,
                  details: [
                    "The config in force is checked against this version's schema first; nothing changes if it does not fit.",
                    "Roll back restores the current version with its config.",
                  ],
                  action: "Activate",
                },
                () => admin.activate(plugin.name, v.version),
                `${plugin.name} ${v.version} is active on every node.`,
              ),
          },
        }),
      );
      if (v.version !== plugin.shadowVersion) {
        controls.push(
          h("button", {
            type: "button",
            class: "small secondary",
            text: "Shadow",
            "aria-label": `Shadow ${v.version}`,
            on: {
              click: () =>
                act(
                  {
                    title: `Shadow ${plugin.name} ${v.version}?`,
                    summary: `${plugin.name}: ${v.version} runs as shadow beside ${plugin.activeVersion ?? "no active version"} on every node; answers unchanged${plugin.shadowVersion ? `, replacing shadow ${plugin.shadowVersion}` : ""}.`,
                    action: "Shadow",
                  },
                  () => admin.shadow(plugin.name, v.version),
                  `${plugin.name} ${v.version} runs as shadow.`,
                ),
            },
          }),
        );
      }
    }
    return [
      h("span", { class: "version" }, v.version),
      state.length ? state : "",
      fmt.time(v.createdAt),
      fmt.bytes(v.size),
      h("code", { title: v.sha256 }, fmt.hash(v.sha256)),
      v.note ?? "",
      v.configSchema ? "typed config" : "string map (0.1)",
      controls.length ? h("div", { class: "row-actions" }, controls) : "",
    ];
  });
  return table(["Version", "State", "Uploaded", "Size", "SHA-256", "Note", "Config", ""], rows, { empty: "No version uploaded." });
}
