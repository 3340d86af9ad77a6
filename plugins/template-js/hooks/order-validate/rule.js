// The rule, a plain function over plain values: refuses an order of more than `maxUnits`
// units in all. `test/rule.test.js` runs it under `node --test`; `src/component.js` connects
// it to the host.

/** The config's JSON Schema (draft 2020-12): the host refuses any config that does not fit. */
export const CONFIG_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    maxUnits: { type: 'integer', minimum: 1, default: 100, description: 'most units per order' },
  },
  additionalProperties: false,
};

/**
 * Accepts the order (returns null) or refuses it (returns `{ code, message }`).
 * Ids, amounts and quantities arrive as BigInt (WIT s64).
 */
export function validateOrder(order, config) {
  const max = BigInt(config.maxUnits ?? 100);
  const units = order.lines.reduce((sum, line) => sum + line.quantity, 0n);
  if (units > max) {
    return { code: 'ORDER_TOO_LARGE', message: `한 주문은 최대 ${max}개입니다.` };
  }
  return null;
}
