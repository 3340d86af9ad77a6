// Checking a config against its version's JSON Schema in the browser, before it is sent: the
// keywords the rule schemas use (type, enum, const, required, properties,
// additionalProperties, items, pattern, lengths, bounds, local `$ref`). The server checks again
// with a complete validator and has the last word; its field errors are shown the same way.

/** The schema `schema` stands for, following a local `$ref` ("#/$defs/percent") in `root`. */
export function resolve(schema, root) {
  let current = schema ?? {};
  for (let depth = 0; typeof current.$ref === "string" && depth < 16; depth += 1) {
    const { $ref, ...rest } = current;
    if (!$ref.startsWith("#/")) break;
    const target = $ref
      .slice(2)
      .split("/")
      .reduce((node, part) => node?.[unpointer(part)], root);
    current = { ...(target ?? {}), ...rest };
  }
  return current;
}

/** The JSON Schema type names of `schema`, or null when it allows any type. */
export function types(schema) {
  if (schema.type === undefined) return null;
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

function typeOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function fits(value, allowed) {
  const actual = typeOf(value);
  return allowed.includes(actual) || (actual === "integer" && allowed.includes("number"));
}

/**
 * The errors of `value` against `schema`: `[{path, message}]` with JSON Pointer paths
 * ("/max", "/coupons/0/percent"), as the server reports them.
 */
export function check(value, schema, root = schema, path = "") {
  const s = resolve(schema, root);
  const errors = [];
  const fail = (message) => errors.push({ path, message });
  const allowed = types(s);
  if (allowed && !fits(value, allowed)) {
    fail(`must be ${allowed.join(" or ")}`);
    return errors;
  }
  if (s.enum && !s.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
    fail(`must be one of ${s.enum.map((option) => JSON.stringify(option)).join(", ")}`);
  }
  if (s.const !== undefined && JSON.stringify(s.const) !== JSON.stringify(value)) {
    fail(`must be ${JSON.stringify(s.const)}`);
  }
  if (typeof value === "string") checkString(value, s, fail);
  if (typeof value === "number") checkNumber(value, s, fail);
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) fail(`needs at least ${s.minItems} items`);
    if (s.maxItems !== undefined && value.length > s.maxItems) fail(`takes at most ${s.maxItems} items`);
    if (s.items) value.forEach((item, i) => errors.push(...check(item, s.items, root, `${path}/${i}`)));
  }
  if (typeOf(value) === "object") errors.push(...checkObject(value, s, root, path));
  return errors;
}

function checkString(value, s, fail) {
  const length = [...value].length;
  if (s.minLength !== undefined && length < s.minLength) fail(`needs at least ${s.minLength} characters`);
  if (s.maxLength !== undefined && length > s.maxLength) fail(`takes at most ${s.maxLength} characters`);
  if (s.pattern !== undefined) {
    let pattern = null;
    try {
      pattern = new RegExp(s.pattern, "u");
    } catch {
      return; // A pattern this browser cannot read: the server decides.
    }
    if (!pattern.test(value)) fail(`must match ${s.pattern}`);
  }
}

function checkNumber(value, s, fail) {
  if (s.minimum !== undefined && value < s.minimum) fail(`must be at least ${s.minimum}`);
  if (s.maximum !== undefined && value > s.maximum) fail(`must be at most ${s.maximum}`);
  if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) fail(`must be more than ${s.exclusiveMinimum}`);
  if (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum) fail(`must be less than ${s.exclusiveMaximum}`);
  if (s.multipleOf && !Number.isInteger(value / s.multipleOf)) fail(`must be a multiple of ${s.multipleOf}`);
}

function checkObject(value, s, root, path) {
  const errors = [];
  for (const key of s.required ?? []) {
    if (!(key in value)) errors.push({ path: `${path}/${pointer(key)}`, message: "is required" });
  }
  for (const [key, item] of Object.entries(value)) {
    const property = s.properties?.[key];
    if (property) errors.push(...check(item, property, root, `${path}/${pointer(key)}`));
    else if (s.additionalProperties === false) errors.push({ path: `${path}/${pointer(key)}`, message: "is not a known key" });
    else if (typeof s.additionalProperties === "object") {
      errors.push(...check(item, s.additionalProperties, root, `${path}/${pointer(key)}`));
    }
  }
  return errors;
}

/** `key` as one JSON Pointer segment. */
export function pointer(key) {
  return String(key).replaceAll("~", "~0").replaceAll("/", "~1");
}

/** One JSON Pointer segment as the key it names. */
export function unpointer(segment) {
  return String(segment).replaceAll("~1", "/").replaceAll("~0", "~");
}

/**
 * What the operator typed into a one-line field of `schema`, as the JSON value to send: an
 * integer or number when the schema allows one and the text is one, else the text itself
 * (the check then says what is wrong). Empty text is `undefined` (the key is left out).
 */
export function parseScalar(text, schema) {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const allowed = types(schema) ?? ["string"];
  if (allowed.includes("boolean") && (trimmed === "true" || trimmed === "false")) return trimmed === "true";
  const numeric = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(trimmed);
  if (numeric && (allowed.includes("integer") || allowed.includes("number"))) {
    const number = Number(trimmed);
    if (allowed.includes("number") || (Number.isSafeInteger(number) && Number.isInteger(number))) return number;
  }
  return allowed.includes("string") ? text : trimmed;
}
