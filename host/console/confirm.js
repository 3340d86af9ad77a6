// The confirmation every change goes through: a modal <dialog> that states what will change
// ("charge-limits 1.2.0 → 1.3.0 on every node; config unchanged") before anything is sent.
// Escape or Cancel sends nothing.

import { h } from "./dom.js";

/**
 * Asks the operator to confirm a change; resolves true only when they press the action button.
 * `summary` is the one-line statement of the change, `details` optional further lines.
 */
export function confirmChange({ title, summary, details = [], action = "Confirm", danger = false }) {
  return new Promise((resolve) => {
    const cancel = h("button", { type: "button", class: "secondary", value: "cancel" }, "Cancel");
    const confirm = h("button", { type: "button", class: danger ? "danger" : "primary", value: "confirm" }, action);
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "confirm-title" },
      h("h2", { id: "confirm-title" }, title),
      h("p", { class: "summary" }, summary),
      details.length ? h("ul", {}, details.map((line) => h("li", {}, line))) : null,
      h("div", { class: "actions" }, cancel, confirm),
    );
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    cancel.addEventListener("click", () => finish(false));
    confirm.addEventListener("click", () => finish(true));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * Confirms a change, then makes it: `change()` is the API call, `done` the notice once it
 * succeeded, `after()` what redraws the page; a refusal is shown as the server said it.
 */
export async function confirmThen(ctx, confirmation, change, done, after) {
  if (!(await confirmChange(confirmation))) return false;
  try {
    await change();
  } catch (error) {
    ctx.fail(error);
    return false;
  }
  ctx.notify(done);
  after();
  return true;
}

/** The lines that say how `after` differs from `before` (two config objects), one per key. */
export function configChanges(before = {}, after = {}) {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .map((key) => `${key}: ${show(before[key])} → ${show(after[key])}`);
}

const show = (value) => (value === undefined ? "(unset)" : JSON.stringify(value));
