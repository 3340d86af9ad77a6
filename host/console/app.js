// The console's shell: sign-in with an admin token (checked with GET /admin/v1/me, kept in
// session storage), the header with who is signed in and their role, notices, and the hash
// router (#/, #/plugins/NAME/TAB, #/audit). Each view draws itself into <main> and may return a
// function that stops what it started (the live figures' polling) when the view is left.

import { ApiError, UNAUTHENTICATED, admin, session } from "./api.js";
import { auditView } from "./audit.js";
import { h, replace } from "./dom.js";
import { pluginView } from "./plugin.js";
import { pluginsView } from "./plugins.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const identityBox = document.getElementById("identity");
const notice = document.getElementById("notice");

let identity = null;
let leaveView = null;
let noticeTimer = null;

/** Shows a short message under the header: `tone` is "good" or "bad". */
function notify(message, tone = "good") {
  clearTimeout(noticeTimer);
  notice.className = `notice ${tone}`;
  replace(notice, message);
  noticeTimer = setTimeout(() => replace(notice), tone === "bad" ? 15_000 : 6_000);
}

/** The message to show for a failed call. */
function describe(error) {
  if (error instanceof ApiError) {
    if (error.status === 403) return `Not allowed for your role (${identity?.role ?? "unknown"}): ${error.message}`;
    return error.code ? `${error.message} (${error.code})` : error.message;
  }
  return String(error?.message ?? error);
}

function context() {
  return {
    identity,
    canChange: identity?.role === "editor" || identity?.role === "admin",
    notify,
    fail: (error) => notify(describe(error), "bad"),
    describe,
    refresh: route,
  };
}

async function route() {
  leaveView?.();
  leaveView = null;
  if (!identity) return;
  const [, section, name, tab] = (location.hash || "#/").slice(1).split("/").map(decodeURIComponent);
  for (const link of nav.querySelectorAll("a")) {
    const current = link.getAttribute("href") === (section === "audit" ? "#/audit" : "#/");
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  replace(view, h("p", { class: "loading" }, "Loading…"));
  try {
    if (section === "plugins" && name) leaveView = await pluginView(view, context(), name, tab || "overview");
    else if (section === "audit") leaveView = await auditView(view, context());
    else leaveView = await pluginsView(view, context());
  } catch (error) {
    replace(view, h("div", { class: "panel" }, h("h1", {}, "Could not load this page"), h("p", { role: "alert" }, describe(error))));
  }
}

function showSignedIn() {
  document.body.classList.toggle("read-only", !context().canChange);
  nav.hidden = false;
  identityBox.hidden = false;
  replace(
    identityBox,
    h("span", { class: "who" }, identity.name),
    h("span", { class: `badge role-${identity.role}` }, identity.role),
    h("button", { type: "button", class: "secondary small", on: { click: signOut } }, "Sign out"),
  );
}

function signOut() {
  session.signOut();
  identity = null;
  leaveView?.();
  leaveView = null;
  nav.hidden = true;
  identityBox.hidden = true;
  showSignIn();
}

function showSignIn(message) {
  const token = h("input", { id: "token", type: "password", autocomplete: "off", required: true, spellcheck: false });
  const error = h("p", { class: "field-error", role: "alert", hidden: !message }, message ?? "");
  const form = h(
    "form",
    { class: "panel sign-in", on: { submit: (event) => submit(event, token, error) } },
    h("h1", {}, "Sign in"),
    h("p", {}, "Paste your admin token. It is kept in this browser tab only and sent to this node alone."),
    h("label", { for: "token" }, "Admin token"),
    token,
    error,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  replace(view, form);
  token.focus();
}

async function submit(event, input, error) {
  event.preventDefault();
  const token = input.value.trim();
  try {
    identity = await admin.me(token);
  } catch (failure) {
    error.hidden = false;
    if (failure instanceof ApiError && (failure.status === 401 || failure.status === 403)) replace(error, "That token is not valid.");
    else if (failure instanceof ApiError && failure.status === 404) {
      replace(error, "The admin API is closed on this node: no admin token is configured.");
    } else replace(error, describe(failure));
    return;
  }
  session.signIn(token);
  showSignedIn();
  await route();
}

async function start() {
  const token = session.token();
  if (!token) return showSignIn();
  try {
    identity = await admin.me(token);
  } catch {
    session.signOut();
    return showSignIn("Your session ended: sign in again.");
  }
  showSignedIn();
  await route();
}

window.addEventListener("hashchange", route);
window.addEventListener(UNAUTHENTICATED, () => {
  if (identity) {
    signOut();
    showSignIn("Your token is no longer accepted: sign in again.");
  }
});
start();
