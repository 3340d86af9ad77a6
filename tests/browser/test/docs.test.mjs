// GET /docs in a real browser (scripts/test-browser starts a server without end-user
// authentication): the page draws this node's document from this node alone, and try-it-out
// reaches the node from the page.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";

import {
  admin,
  baseUrl,
  execute,
  expand,
  foreignRequests,
  launchChromium,
  openDocs,
  operation,
  screenshot,
} from "./support.mjs";

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** Every operation of the document, as "METHOD path". */
async function documentOperations() {
  const document = await (await fetch(`${baseUrl}/openapi.json`)).json();
  const operations = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );
  return { info: document.info, operations };
}

test("/docs draws the edgecart document, every operation of it, from the node's own origin alone", async () => {
  // Arrange
  const { info, operations } = await documentOperations();

  // Act
  const { context, page, requests, consoleErrors } = await openDocs(browser);
  await page.waitForLoadState("networkidle");

  // Assert
  const title = page.locator(".swagger-ui .info .title");
  assert.ok(await title.isVisible());
  assert.ok((await title.innerText()).startsWith(info.title), await title.innerText());
  assert.equal((await title.locator(".version").first().innerText()).trim(), info.version);
  assert.equal(await page.locator(".swagger-ui .info .description").innerText(), info.description);
  for (const [method, path] of [
    ["get", "/api/v1/users/{userId}"],
    ["post", "/api/v1/orders"],
    ["get", "/api/v1/products/{productId}"],
    ["post", "/admin/v1/products"],
  ]) {
    assert.ok(await operation(page, method, path).isVisible(), `${method.toUpperCase()} ${path} is listed`);
  }
  const drawn = await page
    .locator(".swagger-ui .opblock")
    .evaluateAll((blocks) =>
      blocks.map(
        (block) =>
          `${block.querySelector(".opblock-summary-method").textContent} ${block.querySelector(".opblock-summary-path").dataset.path}`,
      ),
    );
  assert.deepEqual(drawn.toSorted(), operations.toSorted());
  const urls = requests.map((request) => new URL(request.url()).pathname);
  assert.ok(urls.includes("/openapi.json") && urls.includes("/docs/swagger-ui-bundle.js"), urls.join(" "));
  assert.deepEqual(foreignRequests(requests), []);
  // A load the page's Content-Security-Policy blocks never becomes a request: it is a console
  // error, so this also holds the page to its own origin.
  assert.deepEqual(consoleErrors, []);
  await screenshot(page, "docs");
  await context.close();
});

test("try-it-out on GET /api/v1/products/{productId} shows the product the admin API created", async () => {
  // Arrange
  const product = await admin("POST", "/admin/v1/products", {
    name: `browser-test-${randomUUID().slice(0, 8)}`,
    price: 4_200,
    stock: 7,
  });
  const { context, page, requests, consoleErrors } = await openDocs(browser);
  const op = operation(page, "get", "/api/v1/products/{productId}");
  await expand(op);
  // The node's Swagger UI opens every operation ready to try (tryItOutEnabled): the button
  // offers Cancel. Cancelling and pressing "Try it out" again goes through the button itself.
  const tryOut = op.locator("button.try-out__btn");
  assert.equal(await tryOut.innerText(), "Cancel");
  await tryOut.click();
  await op.locator("button.try-out__btn", { hasText: "Try it out" }).click();
  await op.locator('tr[data-param-name="productId"] input').fill(String(product.id));

  // Act
  const answer = await execute(op);

  // Assert
  assert.equal(answer.status, "200");
  assert.deepEqual(JSON.parse(answer.body), product);
  assert.ok(await op.locator(".live-responses-table").getByText(product.name).isVisible());
  assert.equal(await op.locator(".request-url pre").innerText(), `${baseUrl}/api/v1/products/${product.id}`);
  assert.deepEqual(foreignRequests(requests), []);
  assert.deepEqual(consoleErrors, []);
  await screenshot(op, "docs-try-it-out");
  await context.close();
});
