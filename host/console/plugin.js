// One plugin's page: its name, hook, active and shadow version, failure policy and priority;
// the plugin-wide changes (rollback, deactivate, stop the shadow), each behind a confirmation
// that states what will change on every node; and the tabs (overview with live figures and
// versions, config, runs, dry run, replay, history). A viewer sees all of it, no control.

import { admin } from "./api.js";
import { configChanges, confirmThen } from "./confirm.js";
import { badge, fmt, h, jsonBlock, replace, table } from "./dom.js";
import { configTab } from "./plugin-config.js";
import { overviewTab } from "./plugin-overview.js";
import { runsTab } from "./plugin-runs.js";
import { dryRunTab, replayTab } from "./plugin-try.js";

const TABS = [
  ["overview", "Overview", overviewTab],
  ["config", "Config", configTab],
  ["runs", "Runs", runsTab],
  ["dryrun", "Dry run", dryRunTab],
  ["replay", "Replay", replayTab],
  ["history", "History", historyTab],
];

/** Draws plugin `name`'s page with `tab` open; returns what stops the tab's refreshing. */
export async function pluginView(view, ctx, name, tab) {
  const [plugin, history] = await Promise.all([admin.plugin(name), admin.history(name)]);
  const page = { plugin, history, ctx, reload: () => ctx.refresh() };
  const current = TABS.find(([id]) => id === tab) ?? TABS[0];
  const body = h("div", { class: "tab-body", role: "tabpanel", id: "tab-body", "aria-labelledby": `tab-${current[0]}` });
  replace(
    view,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Plugins"), " / ", plugin.hook),
    header(page),
    h(
      "nav",
      { class: "tabs", role: "tablist", "aria-label": `${name} sections` },
      TABS.map(([id, label]) =>
        h(
          "a",
          {
            id: `tab-${id}`,
            role: "tab",
            href: `#/plugins/${encodeURIComponent(name)}/${id}`,
            "aria-selected": id === current[0] ? "true" : "false",
            "aria-controls": "tab-body",
          },
          label,
        ),
      ),
    ),
    body,
  );
  return current[2](body, page);
}

function header({ plugin, history, ctx, reload }) {
  const live = history.filter((snapshot) => !snapshot.rolledBack);
  const previous = live[1];
  const run = (confirmation, change, done) => confirmThen(ctx, confirmation, change, done, reload);
  const actions = [];
  if (ctx.canChange && previous) {
    const changes = configChanges(plugin.config, previous.config ?? {});
    if (previous.priority !== plugin.priority) changes.push(`priority: ${plugin.priority} → ${previous.priority}`);
    if (previous.onFailure && previous.onFailure !== plugin.onFailure) changes.push(`on failure: ${plugin.onFailure} → ${previous.onFailure}`);
    actions.push(
      h("button", {
        type: "button",
        class: "secondary",
        text: "Roll back",
        on: {
          click: () =>
            run(
              {
                title: `Roll back ${plugin.name}?`,
                summary: `${plugin.name} ${plugin.activeVersion ?? "(inactive)"} → ${previous.version} on every node; ${changes.length ? "config restored as it was" : "config unchanged"}.`,
                details: changes,
                action: "Roll back",
              },
              () => admin.rollback(plugin.name),
              `${plugin.name} rolled back to ${previous.version}.`,
            ),
        },
      }),
    );
  }
  if (ctx.canChange && plugin.shadowVersion) {
    actions.push(
      h("button", {
        type: "button",
        class: "secondary",
        text: "Stop shadow",
        on: {
          click: () =>
            run(
              {
                title: `Stop shadowing ${plugin.shadowVersion}?`,
                summary: `${plugin.name}: shadow ${plugin.shadowVersion} stops on every node; answers unchanged.`,
                action: "Stop shadow",
              },
              () => admin.shadow(plugin.name, null),
              `${plugin.name} has no shadow version now.`,
            ),
        },
      }),
    );
  }
  if (ctx.canChange && plugin.activeVersion) {
    actions.push(
      h("button", {
        type: "button",
        class: "danger",
        text: "Deactivate",
        on: {
          click: () =>
            run(
              {
                title: `Deactivate ${plugin.name}?`,
                summary: `${plugin.name} ${plugin.activeVersion} → none on every node: ${plugin.hook} stops running this plugin.`,
                action: "Deactivate",
                danger: true,
              },
              () => admin.deactivate(plugin.name),
              `${plugin.name} is no longer active.`,
            ),
        },
      }),
    );
  }
  return h(
    "header",
    { class: "plugin-header" },
    h(
      "div",
      {},
      h("h1", {}, plugin.name),
      h(
        "p",
        { class: "badges" },
        plugin.activeVersion ? badge(`active ${plugin.activeVersion}`, "good") : badge("inactive", "muted"),
        plugin.shadowVersion ? badge(`shadow ${plugin.shadowVersion}`, "info") : null,
        badge(`on failure: ${plugin.onFailure}`, plugin.onFailure === "skip" ? "warn" : "plain"),
        badge(`priority ${plugin.priority}`),
      ),
    ),
    actions.length ? h("div", { class: "actions" }, actions) : null,
  );
}

/** The activation snapshots, newest first: what a rollback goes back to. */
function historyTab(body, { history }) {
  replace(
    body,
    h("p", { class: "hint" }, "Each activation records the version with its config, priority and failure policy; a rollback restores the one before the newest live snapshot."),
    table(
      ["Activated", "Version", "Config", "Priority", "On failure", "By", ""],
      history.map((s) => [
        fmt.time(s.activatedAt),
        s.version,
        jsonBlock(s.config ?? {}),
        String(s.priority ?? "–"),
        s.onFailure ?? "–",
        s.actor ?? "–",
        s.rolledBack ? badge("rolled back", "muted") : "",
      ]),
      { empty: "Never activated." },
    ),
  );
}
