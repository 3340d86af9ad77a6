// The rule console (GET /console) in a real browser against a live server (scripts/test-browser's
// console run, EDGECART_PLUGIN_RUN_SAMPLE=1 so every call is recorded): an editor takes a new
// charge-limits version from upload through replay, shadow, a config change and activation to a
// rollback, each step checked through the API and the audit log; the same editor from the
// keyboard alone; a config the server refuses (checked against a shadow version's schema too)
// shows the server's error beside its field; a viewer sees no control that changes anything
// and a forged call is refused; a rejection message holding markup shows as text. Screenshots
// at desktop and phone widths.
//
// In Debian's chromium (support.mjs).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { adminToken, charge, confirmDialog, plugin, recordMarkupRejection, repo, signIn, uploadVersion } from "./console-support.mjs";
import { admin, baseUrl, launchChromium, required, screenshot } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

test("an editor takes a new charge-limits version from upload to active and back", async () => {
  const user = await admin("POST", "/admin/v1/users", { name: "김콘솔", hpNo: "010-1234-4112", amount: 0 });
  for (const amount of [5_000, 20_000, 500]) await charge(user.userId, amount);
  const token = await adminToken("eddie", "editor");
  const { context, page, errors } = await signIn(browser, token);
  await screenshot(page, "console-plugins");

  await page.getByRole("link", { name: "charge-limits" }).click();
  await page.getByRole("heading", { name: "charge-limits", exact: true }).waitFor();
  // Upload through the file picker.
  await page.locator("#upload-file").setInputFiles(repo("plugins/dist/charge-limits.wasm"));
  await page.locator("#upload-version").fill("1.3.0");
  await page.locator("#upload-note").fill("from the console");
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByRole("button", { name: "Activate 1.3.0" }).waitFor();
  assert.ok((await plugin()).versions.some((v) => v.version === "1.3.0"));

  // Replay: the same rule agrees with every recorded run.
  await page.getByRole("tab", { name: "Replay" }).click();
  await page.locator("#replay-version").selectOption("1.3.0");
  await page.getByRole("button", { name: "Replay" }).click();
  const agreed = await page.locator(".report .agreed").innerText();
  assert.match(agreed, /^[1-9][0-9]* agreed$/);
  assert.match(await page.locator(".report").innerText(), / 0 disagreed, 0 failed/);
  await screenshot(page, "console-replay");

  // Shadow it.
  await page.getByRole("tab", { name: "Overview" }).click();
  await page.getByRole("button", { name: "Shadow 1.3.0" }).click();
  await confirmDialog(page, "Shadow", /charge-limits: 1\.3\.0 runs as shadow beside 0\.2\.0 on every node/);
  await page.locator(".badges", { hasText: "shadow 1.3.0" }).waitFor();
  assert.equal((await plugin()).shadowVersion, "1.3.0");

  // Config: a wrong type is refused in the form, nothing is sent; then max = 3000 is saved.
  await page.getByRole("tab", { name: "Config" }).click();
  await page.locator("#field-max").fill("lots");
  await page.getByRole("button", { name: "Save config" }).click();
  assert.match(await page.locator("#field-max-error").innerText(), /\/max must match/);
  assert.equal(await page.locator("dialog.confirm").count(), 0);
  assert.deepEqual((await plugin()).config, {});
  await screenshot(page, "console-config-refused");
  await page.locator("#field-max").fill("3000");
  await page.getByRole("button", { name: "Save config" }).click();
  const dialog = page.locator("dialog.confirm");
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /max: \(unset\) → 3000/);
  await confirmDialog(page, "Save");
  // The dialog closes before the call answers: the notice comes once the server saved it.
  await page.locator("#notice", { hasText: "config is saved" }).waitFor();
  assert.deepEqual((await plugin()).config, { max: 3000 });

  // Activate 1.3.0; a charge over the new limit is refused through the API.
  await page.getByRole("tab", { name: "Overview" }).click();
  await page.getByRole("button", { name: "Activate 1.3.0" }).click();
  await confirmDialog(
    page,
    "Activate",
    /^charge-limits 0\.2\.0 → 1\.3\.0 on every node; config unchanged; 1\.3\.0 stops running as shadow\.$/,
  );
  await page.locator(".badges", { hasText: "active 1.3.0" }).waitFor();
  assert.equal(await page.locator(".badges", { hasText: "shadow" }).count(), 0);
  assert.equal((await plugin()).shadowVersion, null);
  assert.equal(await charge(user.userId, 5_000), 400);
  assert.equal(await charge(user.userId, 2_000), 200);
  // The live figures count 1.3.0's calls.
  await page.locator(".figures td", { hasText: "1.3.0" }).waitFor();
  await screenshot(page, "console-plugin");

  // Roll back: 0.2.0 with its old (empty) config.
  await page.getByRole("button", { name: "Roll back" }).click();
  await confirmDialog(page, "Roll back", /charge-limits 1\.3\.0 → 0\.2\.0 on every node; config restored/);
  await page.locator(".badges", { hasText: "active 0.2.0" }).waitFor();
  const restored = await plugin();
  assert.equal(restored.activeVersion, "0.2.0");
  assert.deepEqual(restored.config, {});
  assert.equal(await charge(user.userId, 5_000), 200);

  // The audit log names the editor for each step.
  await page.getByRole("link", { name: "Audit log" }).click();
  await page.locator("#audit-target").fill("plugin:charge-limits");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.locator("tr.audit-entry .action", { hasText: "rollback" }).first().waitFor();
  const entries = await page.locator("tr.audit-entry").evaluateAll((rows) =>
    rows.map((row) => [row.querySelector(".actor").textContent, row.querySelector(".action").textContent]),
  );
  const byEddie = entries.filter(([actor]) => actor === "eddie").map(([, action]) => action);
  for (const action of ["plugin.upload", "plugin.shadow", "plugin.configure", "plugin.activate", "plugin.rollback"]) {
    assert.ok(byEddie.includes(action), `audit has ${action} by eddie: ${JSON.stringify(entries)}`);
  }
  await screenshot(page, "console-audit");
  assert.deepEqual(errors, []);
  await context.close();
});

/** What has the keyboard focus: its id and its text (or label). */
function focused(page) {
  return page.evaluate(() => {
    const element = document.activeElement;
    const label = element?.id ? document.querySelector(`label[for="${element.id}"]`) : null;
    return { id: element?.id ?? "", text: (label ?? element)?.textContent?.trim() ?? "" };
  });
}

/** Presses Tab until the focus is on the control named `name` (its text or id). */
async function tabTo(page, name) {
  for (let presses = 0; presses < 80; presses += 1) {
    await page.keyboard.press("Tab");
    const { id, text } = await focused(page);
    if (text === name || id === name) return;
  }
  assert.fail(`Tab never reached ${name}`);
}

test("an editor works the console from the keyboard; a confirmation starts on Cancel and Escape changes nothing", async () => {
  const token = await adminToken("kai", "editor");
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${baseUrl}/console`);
  // The token field has the focus; Enter signs in.
  await page.getByLabel("Admin token").waitFor();
  assert.equal((await focused(page)).text, "Admin token");
  await page.keyboard.type(token);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Rule plugins" }).waitFor();

  await tabTo(page, "charge-limits");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "charge-limits", exact: true }).waitFor();
  const before = await plugin();
  await tabTo(page, "Deactivate");
  const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(ring, "none", "the focused control shows a focus ring");
  await page.keyboard.press("Enter");
  const dialog = page.locator("dialog.confirm");
  await dialog.waitFor();
  assert.equal((await focused(page)).text, "Cancel", "a confirmation opens on Cancel");
  await screenshot(page, "console-keyboard-confirm");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  assert.equal((await plugin()).activeVersion, before.activeVersion);

  // The tabs and the config form are reachable too; Enter in a field submits the form.
  await tabTo(page, "Config");
  await page.keyboard.press("Enter");
  await page.locator("#field-max").waitFor();
  await tabTo(page, "field-max");
  await page.keyboard.type("lots");
  await page.keyboard.press("Enter");
  assert.match(await page.locator("#field-max-error").innerText(), /\/max must match/);
  assert.deepEqual((await plugin()).config, before.config);
  await context.close();
});

test("a config the server refuses shows the server's error beside its field, and nothing changes", async () => {
  // The form follows the active version's schema; the server also checks the shadow
  // version's. Here another editor shadows a stricter version (max: an integer, at least 1)
  // while the page is open, so 0 passes the form and the server refuses it.
  const token = await adminToken("erin", "editor");
  const { context, page, errors } = await signIn(browser, token);
  await page.goto(`${baseUrl}/console#/plugins/charge-limits/config`);
  await page.locator("#field-max").waitFor();
  await uploadVersion("charge-limits", "charge.validate", "9.0.0", "tests/fixtures/plugins/dist/fx-echo-charge.wasm");
  await admin("POST", "/admin/v1/plugins/charge-limits/shadow", { version: "9.0.0" });
  const before = await plugin();

  await page.locator("#field-max").fill("0");
  await page.getByRole("button", { name: "Save config" }).click();
  await confirmDialog(page, "Save");
  await page.getByText(/^The server refused the config/).waitFor();
  assert.match(await page.locator("#field-max-error").innerText(), /minimum of 1/);
  assert.deepEqual((await plugin()).config, before.config);
  await screenshot(page, "console-config-server-refused");
  // The browser reports the refused call itself; nothing else went wrong.
  assert.deepEqual(
    errors.filter((error) => !/status of 400/.test(error)),
    [],
  );
  await admin("POST", "/admin/v1/plugins/charge-limits/shadow", { version: null });
  await context.close();
});

test("a viewer sees every screen and no control that changes anything; a forged call is 403", async () => {
  const token = await adminToken("vera", "viewer");
  const { context, page, errors } = await signIn(browser, token, { width: 390, height: 844 });
  assert.equal(await page.locator("#upload-file").count(), 0);
  await page.getByRole("link", { name: "charge-limits" }).click();
  await page.getByRole("heading", { name: "charge-limits", exact: true }).waitFor();
  await page.locator(".figures").waitFor();
  for (const name of ["Activate", "Shadow", "Roll back", "Deactivate", "Upload", "Stop shadow"]) {
    assert.equal(await page.getByRole("button", { name }).count(), 0, `no ${name} button`);
  }
  await page.getByRole("tab", { name: "Config" }).click();
  assert.equal(await page.getByRole("button", { name: "Save config" }).count(), 0);
  assert.equal(await page.locator("#field-max").isEditable(), false);
  await screenshot(page, "console-viewer-phone");
  assert.deepEqual(errors, []);
  const forged = await page.evaluate(async (bearer) => {
    const response = await fetch("/admin/v1/plugins/charge-limits/deactivate", { method: "POST", headers: { authorization: `Bearer ${bearer}` } });
    return response.status;
  }, token);
  assert.equal(forged, 403);
  assert.notEqual((await plugin()).activeVersion, null);
  await context.close();
});

test("a rejection message holding markup shows as text, and nothing in it runs", async () => {
  const coupon = await recordMarkupRejection();

  const { context, page, errors } = await signIn(browser, required("EDGECART_ADMIN_TOKEN"));
  await page.goto(`${baseUrl}/console#/plugins/echo/runs`);
  const run = page.locator("details.run").first();
  await run.locator("summary").click();
  assert.ok((await run.locator(".decision").innerText()).includes(coupon));
  assert.equal(await page.locator(".runs b, .runs script").count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  await screenshot(page, "console-runs-markup-as-text");
  assert.deepEqual(errors, []);
  await context.close();
});
