// The rule console in Debian's Firefox ESR, at desktop and phone widths, driven by
// puppeteer-core over WebDriver BiDi (playwright-core's Firefox needs its own patched build, or
// BiDi commands this Firefox lacks). The same release path as in chromium (sign in from the
// keyboard, upload by file picker, shadow, a config refused in the form then saved, activate,
// roll back to the old config), a viewer on a phone who sees no changing control, and a
// rejection message holding markup shown as text. Screenshots are named console-*-firefox.png.
//
// FIREFOX is the browser's executable (default: /usr/bin/firefox-esr, Debian's package).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import puppeteer from "puppeteer-core";

import { adminToken, charge, plugin, recordMarkupRejection, repo } from "./console-support.mjs";
import { admin, baseUrl, required, screenshot } from "./support.mjs";

const FIREFOX = process.env.FIREFOX ?? "/usr/bin/firefox-esr";

let browser;
before(async () => {
  browser = await puppeteer.launch({ browser: "firefox", executablePath: FIREFOX, headless: true });
});
after(async () => {
  await browser?.close();
});

/** A page of a fresh context at `viewport`, signed in with `token` from the keyboard. */
async function signIn(token, viewport = { width: 1280, height: 900 }) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.setViewport(viewport);
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  await page.goto(`${baseUrl}/console`);
  await page.waitForSelector("#token");
  await page.keyboard.type(token);
  await page.keyboard.press("Enter");
  await page.waitForSelector("h1::-p-text(Rule plugins)");
  return { context, page, errors };
}

/** Waits until an element matching `selector` has text matching `pattern`; returns that text. */
async function textOf(page, selector, pattern) {
  const handle = await page.waitForFunction(
    (selector, source) =>
      [...document.querySelectorAll(selector)].map((e) => e.textContent).find((t) => new RegExp(source).test(t)),
    {},
    selector,
    pattern.source,
  );
  return handle.jsonValue();
}

/** Clicks `button`, checks the confirmation states `summary`, and confirms it. */
async function confirmed(page, button, summary) {
  await page.locator(button).click();
  await textOf(page, "dialog.confirm .summary", summary);
  await page.locator("dialog.confirm .actions button:nth-child(2)").click();
  await page.waitForSelector("dialog.confirm", { hidden: true });
}

/** Opens `tab` of the plugin page. */
const openTab = (page, tab) => page.locator(`[role="tab"]::-p-text(${tab})`).click();

test("in Firefox, an editor takes a new charge-limits version from upload to active and back", async () => {
  const user = await admin("POST", "/admin/v1/users", { name: "김파폭", hpNo: "010-1234-4120", amount: 0 });
  const { context, page, errors } = await signIn(await adminToken("fiona", "editor"));
  await screenshot(page, "console-plugins-firefox");
  await page.locator("a::-p-text(charge-limits)").click();
  await page.waitForSelector("h1::-p-text(charge-limits)");

  const picker = await page.waitForSelector("#upload-file");
  await picker.uploadFile(repo("plugins/dist/charge-limits.wasm"));
  await page.locator("#upload-version").fill("1.3.0");
  await page.locator("button::-p-text(Upload)").click();
  await page.waitForSelector('button[aria-label="Shadow 1.3.0"]');

  await confirmed(page, 'button[aria-label="Shadow 1.3.0"]', /charge-limits: 1\.3\.0 runs as shadow beside 0\.2\.0/);
  await textOf(page, ".badges", /shadow 1\.3\.0/);

  await openTab(page, "Config");
  await page.locator("#field-max").fill("lots");
  await page.locator("button::-p-text(Save config)").click();
  assert.match(await textOf(page, "#field-max-error", /./), /\/max must match/);
  assert.equal(await page.$("dialog.confirm"), null, "nothing is sent");
  await page.locator("#field-max").fill("3000");
  await confirmed(page, "button::-p-text(Save config)", /config changes on every node/);
  await textOf(page, "#notice", /config is saved/);
  assert.deepEqual((await plugin()).config, { max: 3000 });

  await openTab(page, "Overview");
  await confirmed(page, 'button[aria-label="Activate 1.3.0"]', /^charge-limits 0\.2\.0 → 1\.3\.0 on every node/);
  await textOf(page, ".badges", /active 1\.3\.0/);
  assert.equal(await charge(user.userId, 5_000), 400);
  await textOf(page, ".figures td", /^1\.3\.0$/);
  await screenshot(page, "console-plugin-firefox");

  await confirmed(page, "button::-p-text(Roll back)", /1\.3\.0 → 0\.2\.0 on every node; config restored/);
  await textOf(page, ".badges", /active 0\.2\.0/);
  const restored = await plugin();
  assert.equal(restored.activeVersion, "0.2.0");
  assert.deepEqual(restored.config, {});
  assert.deepEqual(errors, []);
  await context.close();
});

test("in Firefox on a phone, a viewer sees the plugin and no control that changes anything", async () => {
  const { context, page, errors } = await signIn(await adminToken("victor", "viewer"), { width: 390, height: 844 });
  assert.equal(await page.$("#upload-file"), null);
  await page.locator("a::-p-text(charge-limits)").click();
  await page.waitForSelector(".figures");
  const buttons = await page.$$eval("main button, #view button", (all) => all.map((b) => b.textContent.trim()));
  for (const name of ["Activate", "Shadow", "Roll back", "Deactivate", "Upload", "Stop shadow"]) {
    assert.ok(!buttons.some((text) => text.startsWith(name)), `no ${name} button: ${buttons}`);
  }
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, "nothing overflows the phone's width");
  await screenshot(page, "console-viewer-phone-firefox");
  assert.deepEqual(errors, []);
  await context.close();
});

test("in Firefox, a rejection message holding markup shows as text", async () => {
  const coupon = await recordMarkupRejection();
  const { context, page, errors } = await signIn(required("EDGECART_ADMIN_TOKEN"));
  await page.goto(`${baseUrl}/console#/plugins/echo/runs`);
  await page.locator("details.run summary").click();
  assert.ok((await textOf(page, "details.run .decision", /./)).includes(coupon));
  assert.equal(await page.$(".runs b, .runs script"), null);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  await screenshot(page, "console-runs-markup-as-text-firefox");
  assert.deepEqual(errors, []);
  await context.close();
});
