// The client against a live server (scripts/test-client starts one): every test seeds its own
// users and products through the admin API, so it depends on nothing else on the server.
//
// EDGECART_URL and EDGECART_ADMIN_TOKEN name the server and its admin token. When the server
// runs with EDGECART_AUTH=jwt, EDGECART_JWT_HS256_SECRET is its secret, and each user's
// client carries a token for that user signed here.

import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { test } from "node:test";

import { EdgecartError, createClient } from "../dist/index.js";

const baseUrl = required("EDGECART_URL");
const adminToken = required("EDGECART_ADMIN_TOKEN");
const jwtSecret = process.env.EDGECART_JWT_HS256_SECRET;
const { admin } = createClient({ baseUrl, adminToken });

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

/** An HS256 token for a user, valid for an hour. */
function userToken(userId) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({ sub: String(userId), iat: now, exp: now + 3600 })}`;
  const signature = createHmac("sha256", jwtSecret).update(unsigned).digest("base64url");
  return `${unsigned}.${signature}`;
}

/** A client acting as this user (with the user's token when the server wants one). */
function clientOf(userId) {
  return createClient({ baseUrl, token: jwtSecret ? userToken(userId) : undefined });
}

function seedUser(amount) {
  return admin.createUser({ name: "클라이언트 테스트", hpNo: "010-1234-4112", amount });
}

function seedProduct(price, stock) {
  return admin.createProduct({ name: `client-test-${randomUUID().slice(0, 8)}`, price, stock });
}

/** Asserts that `call` is refused with this status, code and detail. */
async function assertRefused(call, status, code, detail) {
  await assert.rejects(call, (error) => {
    assert.ok(error instanceof EdgecartError, `${error}`);
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    assert.equal(error.detail, detail);
    return true;
  });
}

test("balance answers the seeded user", async () => {
  const user = await seedUser(10_000);

  const balance = await clientOf(user.userId).balance(user.userId);

  assert.deepEqual(balance, user);
  assert.equal(balance.amount, 10_000);
});

test("a charge with an Idempotency-Key is applied once, and its replay gets the same answer", async () => {
  const user = await seedUser(0);
  const client = clientOf(user.userId);
  const idempotencyKey = randomUUID();

  const first = await client.charge(user.userId, 50_000, { idempotencyKey });
  const replay = await client.charge(user.userId, 50_000, { idempotencyKey });
  const raw = await client.api.POST("/api/v1/users/{userId}/charge", {
    params: { path: { userId: user.userId }, header: { "Idempotency-Key": idempotencyKey } },
    body: { chargeAmount: 50_000 },
  });

  assert.equal(first.amount, 50_000);
  assert.deepEqual(replay, first);
  assert.deepEqual(raw.data, first);
  assert.equal(raw.response.headers.get("Idempotent-Replayed"), "true");
  assert.equal((await client.balance(user.userId)).amount, 50_000);
});

test("charges without a key each get a key of their own", async () => {
  const user = await seedUser(0);
  const client = clientOf(user.userId);

  await client.charge(user.userId, 1_000);
  const second = await client.charge(user.userId, 1_000);

  assert.equal(second.amount, 2_000);
});

test("popular products revalidate with their ETag: 304, no body", async () => {
  const client = createClient({ baseUrl });

  const first = await client.popular();
  assert.equal(first.notModified, false);
  assert.ok(Array.isArray(first.items));
  assert.equal(typeof first.etag, "string");
  const again = await client.popular({ etag: first.etag });

  assert.deepEqual(again, { notModified: true, etag: first.etag });
  const raw = await client.api.GET("/api/v1/products/popular", {
    params: { header: { "If-None-Match": first.etag } },
  });
  assert.equal(raw.response.status, 304);
});

test("an order is placed, read back and cancelled, and the points come back", async () => {
  const user = await seedUser(100_000);
  const product = await seedProduct(2_500, 10);
  const client = clientOf(user.userId);

  const placed = await client.placeOrder({
    user_id: user.userId,
    products: [{ id: product.id, quantity: 2 }],
    paymentAmount: 5_000,
  });
  const read = await client.order(placed.orderId);
  const paidBalance = await client.balance(user.userId);
  const cancelled = await client.cancelOrder(placed.orderId);

  assert.equal(placed.status, "PAID");
  assert.equal(placed.userId, user.userId);
  assert.equal(placed.totalAmount, 5_000);
  assert.deepEqual(placed.items, [{ productId: product.id, quantity: 2, unitPrice: 2_500 }]);
  assert.deepEqual(read, placed);
  assert.equal(paidBalance.amount, 95_000);
  assert.equal(cancelled.status, "CANCELLED");
  assert.equal(cancelled.orderId, placed.orderId);
  assert.equal((await client.balance(user.userId)).amount, 100_000);
});

test("an order past the stock is an EdgecartError naming OUT_OF_STOCK, and changes nothing", async () => {
  const user = await seedUser(100_000);
  const product = await seedProduct(3_000, 1);
  const client = clientOf(user.userId);

  const order = client.placeOrder({
    user_id: user.userId,
    products: [{ id: product.id, quantity: 2 }],
    paymentAmount: 6_000,
  });

  await assertRefused(order, 409, "OUT_OF_STOCK", "품절된 상품이 존재합니다.");
  assert.equal((await client.balance(user.userId)).amount, 100_000);
});

test("an unknown user is an EdgecartError naming USER_NOT_FOUND", async () => {
  const unknown = 9_000_000_000_000;

  await assertRefused(clientOf(unknown).balance(unknown), 404, "USER_NOT_FOUND", "존재하지 않는 유저입니다.");
});

test("the admin API refuses a client without the admin token", async () => {
  const anonymous = createClient({ baseUrl });

  await assert.rejects(anonymous.admin.createUser({ name: "x", hpNo: "010-0000-0000", amount: 0 }), (error) => {
    assert.ok(error instanceof EdgecartError);
    assert.equal(error.status, 401);
    assert.equal(error.code, "UNAUTHORIZED");
    return true;
  });
});

test("with end-user tokens, another user's balance is FORBIDDEN", { skip: !jwtSecret && "the server runs without end-user tokens" }, async () => {
  const [user, other] = [await seedUser(0), await seedUser(0)];

  await assertRefused(clientOf(user.userId).balance(other.userId), 403, "FORBIDDEN", "권한이 없습니다.");
  await assertRefused(createClient({ baseUrl }).balance(user.userId), 401, "UNAUTHENTICATED", "인증이 필요합니다.");
});
