import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateCharge } from '../src/rule.js';

const charge = (amount) => ({ userId: 1n, amount, balance: 0n, userAttributes: [], now: 0n });

test('a charge up to the limit is accepted', () => {
  assert.equal(validateCharge(charge(1000000n), {}), null);
  assert.equal(validateCharge(charge(500n), { limit: 500 }), null);
});

test('a charge above the limit is refused with the code', () => {
  assert.equal(validateCharge(charge(1000001n), {}).code, 'CHARGE_REFUSED_BY_TEMPLATE');
  assert.equal(validateCharge(charge(501n), { limit: 500 }).code, 'CHARGE_REFUSED_BY_TEMPLATE');
});
