// What the console's browser tests share: named admin tokens made with the CLI, charges
// through the public API, a signed-in page with its errors recorded, and the confirmation
// dialog.
//
// EDGECART_BIN is the edgecart binary (for `admin-token create`, against EDGECART_DATABASE_URL).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { admin, baseUrl, required } from "./support.mjs";

const edgecart = required("EDGECART_BIN");
/** A file of the repository. */
export const repo = (path) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

/** A named admin token made as an operator makes one. */
export async function adminToken(name, role) {
  const { stdout } = await promisify(execFile)(edgecart, ["admin-token", "create", "--name", name, "--role", role]);
  return stdout.trim();
}

/** A points charge through the public API; the HTTP status. */
export async function charge(userId, amount) {
  const response = await fetch(`${baseUrl}/api/v1/users/${userId}/charge`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": `console-${userId}-${amount}-${Math.random()}` },
    body: JSON.stringify({ chargeAmount: amount }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** A page signed in with `token`, errors and foreign requests recorded. */
export async function signIn(browser, token, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  await page.goto(`${baseUrl}/console`);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Rule plugins" }).waitFor();
  return { context, page, errors };
}

/** Confirms the open dialog after checking it states `summary`. */
export async function confirmDialog(page, action, summary) {
  const dialog = page.locator("dialog.confirm");
  await dialog.waitFor();
  if (summary) assert.match(await dialog.locator(".summary").innerText(), summary);
  await dialog.getByRole("button", { name: action }).click();
  await dialog.waitFor({ state: "detached" });
}

/** charge-limits as the admin API shows it now. */
export const plugin = () => admin("GET", "/admin/v1/plugins/charge-limits");
