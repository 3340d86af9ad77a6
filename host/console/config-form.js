// The config form of a plugin, generated from its version's JSON Schema: one field per
// property (its description beside it, required keys marked, enums as choices, structured
// values as JSON), checked in the browser on save and again by the server, whose field errors
// (`errors[].path`) are shown beside the fields they name. A version without a schema (contract
// 0.1) gets the whole config as one JSON object.

import { h, replace } from "./dom.js";
import { check, parseScalar, pointer, resolve, types, unpointer } from "./schema.js";

/** A field holds a scalar in one line unless its schema is an object or an array. */
function isStructured(schema) {
  const allowed = types(schema);
  return allowed !== null && allowed.every((type) => type === "object" || type === "array");
}

/** The form. `read()` → `{ value, errors }`; `showErrors(errors)` puts errors beside fields. */
export function configForm(schema, config, { readOnly }) {
  const fields = new Map();
  const general = h("p", { class: "field-error", role: "alert", hidden: true });
  const element = h("div", { class: "config-form" });
  const properties = schema && typeof schema.properties === "object" ? schema.properties : null;
  if (schema?.description) element.append(h("p", { class: "hint" }, schema.description));

  if (properties) {
    const required = new Set(schema.required ?? []);
    for (const [key, property] of Object.entries(properties)) {
      const field = makeField(key, resolve(property, schema), config[key], required.has(key), readOnly);
      fields.set(key, field);
      element.append(field.element);
    }
  } else {
    fields.set("", makeWholeConfig(config, readOnly));
    element.append(fields.get("").element);
  }
  element.append(general);

  const showErrors = (errors) => {
    for (const field of fields.values()) field.setError(null);
    general.hidden = true;
    const unplaced = [];
    for (const error of errors) {
      const key = properties ? unpointer(error.path.split("/")[1] ?? "") : "";
      const field = fields.get(key);
      if (field) field.setError(`${error.path} ${error.message}`);
      else unplaced.push(`${error.path || "config"} ${error.message}`);
    }
    if (unplaced.length) {
      replace(general, unplaced.join("; "));
      general.hidden = false;
    }
    const first = [...fields.values()].find((field) => field.hasError());
    first?.focus();
  };

  const read = () => {
    const parseErrors = [];
    let value = {};
    if (properties) {
      for (const [key, field] of fields) {
        const parsed = field.read();
        if (parsed.error) parseErrors.push({ path: `/${pointer(key)}`, message: parsed.error });
        else if (parsed.value !== undefined) value[key] = parsed.value;
      }
    } else {
      const parsed = fields.get("").read();
      if (parsed.error) parseErrors.push({ path: "", message: parsed.error });
      else value = parsed.value ?? {};
    }
    const errors = parseErrors.length ? parseErrors : schema ? check(value, schema) : [];
    return { value, errors };
  };
  return { element, read, showErrors };
}

function makeField(key, schema, current, required, readOnly) {
  const id = `field-${key.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  const description = schema.description ? h("p", { class: "hint", id: `${id}-hint` }, schema.description) : null;
  const described = [description ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(" ");
  const structured = isStructured(schema);
  let input;
  if (Array.isArray(schema.enum)) {
    input = h(
      "select",
      { id, disabled: readOnly, "aria-describedby": described },
      required ? null : h("option", { value: "" }, "(default)"),
      schema.enum.map((option) =>
        h("option", { value: JSON.stringify(option), selected: JSON.stringify(option) === JSON.stringify(current) }, String(option)),
      ),
    );
  } else if (structured) {
    input = h("textarea", {
      id,
      rows: 5,
      spellcheck: false,
      readOnly,
      "aria-describedby": described,
      value: current === undefined ? "" : JSON.stringify(current, null, 2),
    });
  } else {
    input = h("input", {
      id,
      type: "text",
      readOnly,
      autocomplete: "off",
      "aria-describedby": described,
      value: current === undefined ? "" : String(current),
    });
  }
  const label = h("label", { for: id }, key, required ? h("span", { class: "required", title: "required" }, " *") : null);
  const typeHint = h("span", { class: "type" }, structured ? "JSON" : (types(schema) ?? ["any"]).join(" | "));
  const element = h("div", { class: "field" }, h("div", { class: "label-row" }, label, typeHint), description, input, error);

  const read = () => {
    if (input.tagName === "SELECT") return { value: input.value === "" ? undefined : JSON.parse(input.value) };
    if (structured) {
      if (input.value.trim() === "") return { value: undefined };
      try {
        return { value: JSON.parse(input.value) };
      } catch {
        return { error: "is not valid JSON" };
      }
    }
    return { value: parseScalar(input.value, schema) };
  };
  const setError = (message) => {
    error.hidden = !message;
    replace(error, message ?? "");
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  return { element, read, setError, hasError: () => !error.hidden, focus: () => input.focus() };
}

function makeWholeConfig(config, readOnly) {
  const id = "field-config";
  const input = h("textarea", { id, rows: 8, spellcheck: false, readOnly, value: JSON.stringify(config, null, 2) });
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  const element = h(
    "div",
    { class: "field" },
    h("label", { for: id }, "Config (JSON object; this version has no schema)"),
    input,
    error,
  );
  const read = () => {
    try {
      const value = JSON.parse(input.value || "{}");
      if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "must be a JSON object" };
      return { value };
    } catch {
      return { error: "is not valid JSON" };
    }
  };
  const setError = (message) => {
    error.hidden = !message;
    replace(error, message ?? "");
  };
  return { element, read, setError, hasError: () => !error.hidden, focus: () => input.focus() };
}
