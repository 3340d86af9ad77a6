import assert from 'node:assert/strict';
import { test } from 'node:test';
import { priceOrder } from '../src/rule.js';

const line = (productId, quantity, unitPrice) => ({ productId, quantity, unitPrice, name: 'p', attributes: [] });
const order = (...lines) => ({
  userId: 1n, balance: 0n, lines, coupon: undefined, userAttributes: [], paidOrders: 0n, now: 0n,
});

test('lines below minQuantity keep their price, with no reason', () => {
  const { prices } = priceOrder(order(line(1n, 9n, 1000n)), {});
  assert.deepEqual(prices, [{ unitPrice: 1000n, reason: undefined }]);
});

test('lines of minQuantity or more get percent off, rounded down', () => {
  const { prices } = priceOrder(order(line(1n, 10n, 999n), line(2n, 1n, 500n)), { percent: 15 });
  assert.equal(prices[0].unitPrice, 849n);
  assert.equal(prices[0].reason, '15% off 10 or more');
  assert.equal(prices[1].unitPrice, 500n);
});
