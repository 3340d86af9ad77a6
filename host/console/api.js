// The admin API as the console calls it: the operator's token from session storage as the
// bearer token (never in a URL, gone when the tab closes), JSON in and out, and every refusal
// turned into an `ApiError` carrying the problem+json `code`, `detail` and field `errors`. The
// console uses nothing but this public API.

const TOKEN_KEY = "edgecart.adminToken";

/** The signed-in operator's token, kept for this browser tab only. */
export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** A refused or failed call: the HTTP status and the server's problem+json. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `The server answered ${status}.`);
    this.status = status;
    this.code = problem?.code ?? null;
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [];
  }
}

/** Fired on `window` when the server says the token is missing or no longer valid (401). */
export const UNAUTHENTICATED = "edgecart:unauthenticated";

/**
 * One call. `json` is sent as a JSON body; `body` with `contentType` as it is (a file).
 * `token` overrides the session's (sign-in checks a token before keeping it).
 */
export async function call(method, path, { json, body, contentType, token = session.token() } = {}) {
  const headers = { accept: "application/json, application/problem+json" };
  if (token) headers.authorization = `Bearer ${token}`;
  let payload = body;
  if (json !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(json);
  } else if (contentType) {
    headers["content-type"] = contentType;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: "omit", cache: "no-store" });
  } catch {
    throw new ApiError(0, { code: "NETWORK", detail: "The server could not be reached." });
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHENTICATED));
    throw new ApiError(response.status, parsed);
  }
  return parsed;
}

const plugin = (name) => `/admin/v1/plugins/${encodeURIComponent(name)}`;
const version = (name, v) => `${plugin(name)}/versions/${encodeURIComponent(v)}`;
const query = (params) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : "";
};

/** The admin calls the console makes, one function each. */
export const admin = {
  me: (token) => call("GET", "/admin/v1/me", { token }),
  plugins: () => call("GET", "/admin/v1/plugins"),
  plugin: (name) => call("GET", plugin(name)),
  stats: (name) => call("GET", `${plugin(name)}/stats`),
  history: (name) => call("GET", `${plugin(name)}/history`),
  runs: (name, { outcome, cursor, limit = 20 } = {}) =>
    call("GET", `${plugin(name)}/runs${query({ outcome, cursor, limit })}`),
  upload: (name, { hook, version: v, note, file }) =>
    call("POST", `${plugin(name)}/versions${query({ hook, version: v, note })}`, {
      body: file,
      contentType: "application/wasm",
    }),
  activate: (name, v) => call("POST", `${plugin(name)}/activate`, { json: { version: v } }),
  shadow: (name, v) => call("POST", `${plugin(name)}/shadow`, { json: { version: v } }),
  rollback: (name) => call("POST", `${plugin(name)}/rollback`),
  deactivate: (name) => call("POST", `${plugin(name)}/deactivate`),
  configure: (name, body) => call("PUT", `${plugin(name)}/config`, { json: body }),
  evaluate: (name, v, body) => call("POST", `${version(name, v)}/evaluate`, { json: body }),
  replay: (name, v, body) => call("POST", `${version(name, v)}/replay`, { json: body }),
  audit: ({ target, cursor, limit = 50 } = {}) => call("GET", `/admin/v1/audit${query({ target, cursor, limit })}`),
};
