import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateOrder } from '../src/rule.js';

const line = (productId, quantity) => ({ productId, quantity, unitPrice: 1000n, name: 'p', attributes: [] });
const order = (...lines) => ({
  userId: 1n, balance: 0n, lines, coupon: undefined, userAttributes: [], paidOrders: 0n, now: 0n,
});

test('an order up to maxUnits is accepted', () => {
  assert.equal(validateOrder(order(line(1n, 60n), line(2n, 40n)), {}), null);
});

test('an order above maxUnits is refused', () => {
  assert.equal(validateOrder(order(line(1n, 60n), line(2n, 41n)), {}).code, 'ORDER_TOO_LARGE');
  assert.equal(validateOrder(order(line(1n, 3n)), { maxUnits: 2 }).code, 'ORDER_TOO_LARGE');
});
