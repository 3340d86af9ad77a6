// The rule, a plain function over plain values: refuses any charge above `limit` won.
// `test/rule.test.js` runs it under `node --test`; `src/component.js` connects it to the host.

/** The config's JSON Schema (draft 2020-12): the host refuses any config that does not fit. */
export const CONFIG_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 0, default: 1000000, description: 'largest charge in won' },
  },
  additionalProperties: false,
};

/**
 * Accepts the charge (returns null) or refuses it (returns `{ code, message }`).
 * Amounts arrive as BigInt (WIT s64); compare them with BigInt values.
 */
export function validateCharge(charge, config) {
  const limit = BigInt(config.limit ?? 1000000);
  if (charge.amount > limit) {
    return {
      code: 'CHARGE_REFUSED_BY_TEMPLATE',
      message: `충전 금액은 최대 ${limit.toLocaleString('en-US')}원 입니다.`,
    };
  }
  return null;
}
