// Swagger UI's Authorize dialog against a server with EDGECART_AUTH=jwt (scripts/test-browser's
// second run): an end user's token, issued by `edgecart token issue` with the server's
// EDGECART_JWT_HS256_SECRET, entered in the page, is what lets try-it-out read that user.
//
// EDGECART_BIN is the edgecart binary (for `token issue`).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import {
  admin,
  baseUrl,
  execute,
  expand,
  foreignRequests,
  launchChromium,
  openDocs,
  operation,
  required,
  screenshot,
} from "./support.mjs";

const edgecart = required("EDGECART_BIN");
required("EDGECART_JWT_HS256_SECRET");

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** A token for this user from `edgecart token issue` (HS256, the server's secret, from the env). */
async function issueToken(userId) {
  const { stdout } = await promisify(execFile)(edgecart, ["token", "issue", "--user", String(userId), "--ttl", "1h"]);
  return stdout.trim();
}

test("Authorize offers the bearer and user schemes, and a user's token lets try-it-out read that user", async () => {
  // Arrange
  const user = await admin("POST", "/admin/v1/users", { name: "Browser Test", hpNo: "010-1234-4112", amount: 31_000 });
  const token = await issueToken(user.userId);
  const { context, page, requests, consoleErrors } = await openDocs(browser);
  const op = operation(page, "get", "/api/v1/users/{userId}");
  await expand(op);
  await op.locator('tr[data-param-name="userId"] input').fill(String(user.userId));
  // Without a token the server refuses: what follows is the token's doing.
  const refused = await execute(op);
  assert.equal(refused.status, "401", refused.body);
  await op.locator("button.btn-clear").click();
  await op.locator(".live-responses-table").waitFor({ state: "detached" });

  // Act
  await page.locator(".swagger-ui .auth-wrapper button.authorize").click();
  const dialog = page.locator(".swagger-ui .dialog-ux .modal-ux");
  await dialog.waitFor();
  const schemes = await dialog.locator(".auth-container h4 code").allInnerTexts();
  assert.deepEqual(schemes.toSorted(), ["bearer", "user"]);
  const userScheme = dialog
    .locator(".auth-container")
    .filter({ has: page.locator("h4 code", { hasText: /^user$/ }) });
  await userScheme.locator("input").fill(token);
  await userScheme.getByRole("button", { name: "Apply credentials" }).click();
  await userScheme.getByRole("button", { name: "Remove authorization" }).waitFor();
  await screenshot(dialog, "docs-authorize-dialog");
  await dialog.locator("button.close-modal").click();
  await dialog.waitFor({ state: "detached" });
  const answer = await execute(op);

  // Assert
  assert.equal(answer.status, "200", answer.body);
  assert.deepEqual(JSON.parse(answer.body), user);
  const calls = requests.filter((request) => request.url() === `${baseUrl}/api/v1/users/${user.userId}`);
  assert.equal(calls.length, 2);
  assert.equal((await calls[0].allHeaders()).authorization, undefined);
  assert.equal((await calls[1].allHeaders()).authorization, `Bearer ${token}`);
  assert.deepEqual(foreignRequests(requests), []);
  // The browser reports the refused call itself as a failed load; nothing else may fail.
  assert.deepEqual(
    consoleErrors.filter((error) => !/status of 401/.test(error)),
    [],
  );
  await screenshot(op, "docs-authorized");
  await context.close();
});
