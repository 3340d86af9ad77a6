// What the browser tests share: the server they run against, Debian's chromium (driven by
// playwright-core, never a browser of its own), the /docs page with every request and console
// error it made recorded, Swagger UI's operation blocks, the admin API for seeding, and the
// screenshots.
//
// EDGECART_URL and EDGECART_ADMIN_TOKEN name the server and its admin token (scripts/lib/server.sh).
// EDGECART_SCREENSHOTS is where the screenshots go (default: the repository's target/screenshots).
// CHROMIUM is the browser's executable (default: /usr/bin/chromium, Debian's package).

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

export const baseUrl = required("EDGECART_URL");
export const adminToken = required("EDGECART_ADMIN_TOKEN");
const screenshots =
  process.env.EDGECART_SCREENSHOTS ?? fileURLToPath(new URL("../../../target/screenshots", import.meta.url));
/** The browser: Debian's package (apt `chromium`), not one playwright downloads. */
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
/** How long one wait on the page may take before the test fails. */
const TIMEOUT_MS = 15_000;

export function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM });
}

/**
 * Opens /docs in a fresh context of `browser` and waits until Swagger UI has drawn the
 * document's operations. `requests` collects every request the page makes, `consoleErrors`
 * every console error and uncaught exception, from before the page loads.
 */
export async function openDocs(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const requests = [];
  const consoleErrors = [];
  page.on("request", (request) => requests.push(request));
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(`uncaught: ${error.message}`));
  await page.goto(`${baseUrl}/docs`);
  await page.locator(".swagger-ui .info .title").waitFor();
  await page.locator(".swagger-ui .opblock").first().waitFor();
  return { context, page, requests, consoleErrors };
}

/** The URLs of `requests` that went anywhere but the node's own origin. */
export function foreignRequests(requests) {
  const origin = new URL(baseUrl).origin;
  return requests.map((request) => request.url()).filter((url) => new URL(url).origin !== origin);
}

/** Swagger UI's block of one operation, e.g. operation(page, "get", "/api/v1/users/{userId}"). */
export function operation(page, method, path) {
  return page.locator(`.opblock.opblock-${method}`).filter({
    has: page.locator(`.opblock-summary-path[data-path="${path}"]`),
  });
}

/** Expands an operation's block and waits for its parameters. */
export async function expand(op) {
  await op.locator(".opblock-summary-control").click();
  await op.locator(".opblock-body .parameters-container").waitFor();
}

/**
 * Clicks Execute and waits for Swagger UI to draw the server's answer; returns the status and
 * the body as the page shows them.
 */
export async function execute(op) {
  await op.locator("button.execute").click();
  const answer = op.locator(".live-responses-table tr.response");
  await answer.waitFor();
  const status = (await answer.locator(".response-col_status").innerText()).trim();
  const body = await answer.locator(".response-col_description .highlight-code pre").innerText();
  return { status, body };
}

/** A call to the admin API with the server's admin token; the parsed answer. */
export async function admin(method, path, body) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  }
  return response.json();
}

/** Saves a screenshot of a page (full page) or of one element as NAME.png; returns its path. */
export async function screenshot(target, name) {
  await mkdir(screenshots, { recursive: true });
  const path = join(screenshots, `${name}.png`);
  const isPage = typeof target.goto === "function";
  await target.screenshot(isPage ? { path, fullPage: true } : { path });
  return path;
}
