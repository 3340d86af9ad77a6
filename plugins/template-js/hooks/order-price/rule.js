// The rule, a plain function over plain values: `percent` off every line of `minQuantity`
// units or more (a bulk discount). `test/rule.test.js` runs it under `node --test`;
// `src/component.js` connects it to the host.

/** The config's JSON Schema (draft 2020-12): the host refuses any config that does not fit. */
export const CONFIG_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    minQuantity: { type: 'integer', minimum: 1, default: 10, description: 'units for the discount' },
    percent: { type: 'integer', minimum: 0, maximum: 100, default: 10, description: 'percent off' },
  },
  additionalProperties: false,
};

/**
 * One `{ unitPrice, reason }` per line, in the order of `order.lines` (or a refusal
 * `{ code, message }` under `rejection`). Prices arrive and leave as BigInt (WIT s64), whole won.
 */
export function priceOrder(order, config) {
  const minQuantity = BigInt(config.minQuantity ?? 10);
  const percent = BigInt(config.percent ?? 10);
  return {
    prices: order.lines.map((line) => {
      if (line.quantity < minQuantity || percent === 0n) {
        return { unitPrice: line.unitPrice, reason: undefined };
      }
      // Whole won, rounded down: never below zero, never above the price it was.
      const unitPrice = (line.unitPrice * (100n - percent)) / 100n;
      return { unitPrice, reason: `${percent}% off ${minQuantity} or more` };
    }),
  };
}
