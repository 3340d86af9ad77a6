import assert from 'node:assert/strict';
import { test } from 'node:test';
import { priceOrder } from '../src/rule.js';

const line = (productId, quantity, unitPrice) => ({ productId, quantity, unitPrice, name: 'p', attributes: [] });
const order = (...lines) => ({
  userId: 1n, balance: 0n, lines, coupon: undefined, userAttributes: [], paidOrders: 0n, now: 0n,
});

test('lines below the threshold keep their price, with no reason', () => {
  const { prices } = priceOrder(order(line(1n, 9n, 1000n)), {});
  assert.deepEqual(prices, [{ unitPrice: 1000n, reason: undefined }]);
});

test('lines of the threshold or more get percent off, rounded down', () => {
  const { prices } = priceOrder(order(line(1n, 10n, 999n), line(2n, 1n, 500n)), { percent: 15 });
  assert.equal(prices[0].unitPrice, 849n);
  assert.equal(prices[0].reason, '15% off from 10 units');
  assert.deepEqual(prices[1], { unitPrice: 500n, reason: undefined });
});

test('numbers may come as strings of digits, as the Rust rules take them', () => {
  const { prices } = priceOrder(order(line(1n, 2n, 2500n)), { threshold: '2', percent: '20' });
  assert.deepEqual(prices, [{ unitPrice: 2000n, reason: '20% off from 2 units' }]);
});

test('a price the discount does not change keeps no reason', () => {
  const { prices } = priceOrder(order(line(1n, 10n, 0n), line(2n, 10n, 1000n)), { percent: 0 });
  assert.deepEqual(prices, [
    { unitPrice: 0n, reason: undefined },
    { unitPrice: 1000n, reason: undefined },
  ]);
});
