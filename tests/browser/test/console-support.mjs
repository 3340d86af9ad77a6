// What the console's browser tests share: named admin tokens made with the CLI, charges
// through the public API, a signed-in page with its errors recorded, and the confirmation
// dialog.
//
// EDGECART_BIN is the edgecart binary (for `admin-token create`, against EDGECART_DATABASE_URL).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
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

/** Uploads the component at `path` (in the repository) as `name`'s `version`, with the admin API. */
export async function uploadVersion(name, hook, version, path) {
  const upload = await fetch(`${baseUrl}/admin/v1/plugins/${name}/versions?hook=${hook}&version=${version}`, {
    method: "POST",
    headers: { authorization: `Bearer ${required("EDGECART_ADMIN_TOKEN")}`, "content-type": "application/wasm" },
    body: await readFile(repo(path)),
  });
  assert.equal(upload.status, 201, await upload.text());
}

/**
 * Deploys the echo fixture on order.validate and sends it an order whose coupon holds markup,
 * so that echo's recorded rejection message carries it; returns the coupon.
 */
export async function recordMarkupRejection() {
  await uploadVersion("echo", "order.validate", "1.0.0", "tests/fixtures/plugins/dist/fx-echo-order.wasm");
  await admin("POST", "/admin/v1/plugins/echo/activate", { version: "1.0.0" });
  const user = await admin("POST", "/admin/v1/users", { name: "Mallory", hpNo: "010-1234-4113", amount: 50_000 });
  const product = await admin("POST", "/admin/v1/products", { name: "양배추 샐러드", price: 2_500, stock: 10 });
  const coupon = "<script>window.pwned=1</script><b>bold</b>";
  const order = await fetch(`${baseUrl}/api/v1/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId: user.userId, products: [{ id: product.id, quantity: 1 }], paymentAmount: 2_500, couponCode: coupon }),
  });
  assert.notEqual(order.status, 201, await order.text());
  return coupon;
}
