// Uploading a component through a file picker: a new version of a plugin, or the first
// version of a new one. An upload changes nothing that runs (a version runs only once it is
// activated or shadowed), so it needs no confirmation; the server checks the component
// (world, imports, smoke call) and its refusal is shown as it said it.

import { admin } from "./api.js";
import { h, replace } from "./dom.js";

const HOOKS = ["charge.validate", "order.validate", "order.price"];

/** The form; `plugin` is `{name, hook}` for a new version, or null for a new plugin. */
export function uploadForm(ctx, plugin, onUploaded) {
  const file = h("input", { id: "upload-file", type: "file", accept: ".wasm,application/wasm", required: true });
  const version = h("input", {
    id: "upload-version",
    type: "text",
    required: true,
    placeholder: "1.3.0",
    pattern: "[0-9]+\\.[0-9]+\\.[0-9]+([\\-+][0-9A-Za-z.\\-+]*)?",
    autocomplete: "off",
  });
  const note = h("input", { id: "upload-note", type: "text", maxLength: 200, placeholder: "What changed", autocomplete: "off" });
  const name = plugin ? null : h("input", { id: "upload-name", type: "text", required: true, pattern: "[a-z0-9\\-]{1,64}", autocomplete: "off" });
  const hook = plugin
    ? null
    : h("select", { id: "upload-hook" }, HOOKS.map((value) => h("option", { value }, value)));
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Upload");

  const upload = async (event) => {
    event.preventDefault();
    error.hidden = true;
    const picked = file.files?.[0];
    if (!picked) return;
    const target = plugin ?? { name: name.value.trim(), hook: hook.value };
    submit.disabled = true;
    try {
      const stored = await admin.upload(target.name, {
        hook: target.hook,
        version: version.value.trim(),
        note: note.value.trim(),
        file: picked,
      });
      ctx.notify(`Uploaded ${stored.name} ${stored.version} (${stored.size.toLocaleString("en-US")} bytes). It runs once you shadow or activate it.`);
      onUploaded(stored);
    } catch (failure) {
      error.hidden = false;
      replace(error, ctx.describe(failure));
    } finally {
      submit.disabled = false;
    }
  };

  return h(
    "form",
    { class: "upload", on: { submit: upload } },
    h("h3", {}, plugin ? `Upload a new version of ${plugin.name}` : "Upload a new plugin"),
    h(
      "div",
      { class: "row" },
      name ? field("Plugin name", name) : null,
      hook ? field("Hook", hook) : null,
      field("Component (.wasm)", file),
      field("Version", version),
      field("Note", note),
    ),
    error,
    submit,
  );
}

function field(text, input) {
  return h("div", { class: "field" }, h("label", { for: input.id }, text), input);
}

export { HOOKS };
