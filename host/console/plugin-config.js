// A plugin's config tab: the form generated from the active version's JSON Schema, with the
// priority and the failure policy. Save checks the form in the browser, states the change in
// a confirmation, and sends it; the server checks it again (against the shadow version's
// schema too) and its field errors appear beside the fields.

import { ApiError, admin } from "./api.js";
import { configChanges, confirmChange } from "./confirm.js";
import { configForm } from "./config-form.js";
import { h, replace } from "./dom.js";

/** Draws the tab. */
export function configTab(body, { plugin, ctx, reload }) {
  const readOnly = !ctx.canChange;
  const version =
    plugin.versions.find((v) => v.version === plugin.activeVersion) ?? plugin.versions[plugin.versions.length - 1];
  const schema = version?.configSchema ?? null;
  const form = configForm(schema, plugin.config ?? {}, { readOnly });
  const priority = h("input", { id: "field-priority", type: "number", step: 1, value: String(plugin.priority), readOnly });
  const onFailure = h(
    "select",
    { id: "field-onFailure", disabled: readOnly },
    h("option", { value: "reject", selected: plugin.onFailure === "reject" }, "reject: a failed call fails the request (503)"),
    h("option", { value: "skip", selected: plugin.onFailure === "skip" }, "skip: a failed call counts as an acceptance"),
  );
  const formError = h("p", { class: "field-error", role: "alert", hidden: true });

  const save = async (event) => {
    event.preventDefault();
    formError.hidden = true;
    const { value, errors } = form.read();
    form.showErrors(errors);
    const rank = Number(priority.value);
    if (!Number.isSafeInteger(rank)) {
      formError.hidden = false;
      replace(formError, "priority must be a whole number");
      return;
    }
    if (errors.length) return;
    const changes = configChanges(plugin.config ?? {}, value);
    if (rank !== plugin.priority) changes.push(`priority: ${plugin.priority} → ${rank}`);
    if (onFailure.value !== plugin.onFailure) changes.push(`on failure: ${plugin.onFailure} → ${onFailure.value}`);
    if (changes.length === 0) {
      ctx.notify("Nothing changed.");
      return;
    }
    const confirmed = await confirmChange({
      title: `Save ${plugin.name}'s config?`,
      summary: `${plugin.name} ${plugin.activeVersion ?? "(inactive)"}: config changes on every node from the next call; version unchanged.`,
      details: changes,
      action: "Save",
    });
    if (!confirmed) return;
    try {
      await admin.configure(plugin.name, { config: value, priority: rank, onFailure: onFailure.value });
    } catch (error) {
      if (error instanceof ApiError && error.errors.length) {
        form.showErrors(error.errors);
        formError.hidden = false;
        replace(formError, `The server refused the config: ${error.message}`);
      } else {
        ctx.fail(error);
      }
      return;
    }
    ctx.notify(`${plugin.name}'s config is saved; every node uses it from the next call.`);
    reload();
  };

  replace(
    body,
    h(
      "form",
      { class: "panel", novalidate: true, on: { submit: save } },
      h("h2", {}, "Config"),
      h(
        "p",
        { class: "hint" },
        schema
          ? `The form follows the schema of ${version.version}. The server checks it again when you save.`
          : "This version declares no schema: any string map is accepted.",
      ),
      form.element,
      h(
        "div",
        { class: "row" },
        h("div", { class: "field" }, h("label", { for: "field-priority" }, "Priority (lower runs first)"), priority),
        h("div", { class: "field" }, h("label", { for: "field-onFailure" }, "Failure policy"), onFailure),
      ),
      formError,
      readOnly ? h("p", { class: "hint" }, "Your role can read this config but not change it.") : h("button", { type: "submit", class: "primary" }, "Save config"),
    ),
  );
}
