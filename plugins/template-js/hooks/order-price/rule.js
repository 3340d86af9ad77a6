// The rule, a plain function over plain values: a line ordered in bulk gets a percentage off
// its unit price, exactly as the Rust `bulk-discount` plugin does (same config, same prices,
// same reasons), so either can shadow the other. `test/rule.test.js` runs it under
// `node --test`; `src/component.js` connects it to the host.

/** A whole number of at least 0: a JSON integer or a string of digits, as the Rust rules take. */
const whole = (description, extra = {}) => ({
  description,
  type: ['integer', 'string'],
  pattern: '^[0-9]{1,18}$',
  minimum: 0,
  ...extra,
});

/** The config's JSON Schema (draft 2020-12): the host refuses any config that does not fit. */
export const CONFIG_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'bulk-discount (JavaScript)',
  type: 'object',
  additionalProperties: false,
  properties: {
    threshold: whole('Least quantity on a line for the discount (default 10).'),
    percent: whole('Discount in percent, 0 to 100 (default 10).', {
      pattern: '^(100|[1-9]?[0-9])$',
      maximum: 100,
    }),
  },
};

/**
 * One `{ unitPrice, reason }` per line, in the order of `order.lines` (or a refusal
 * `{ code, message }` under `rejection`). A line of `threshold` units or more costs
 * `unitPrice * (100 - percent) / 100`, rounded down; a price that does not change keeps no
 * reason. Prices arrive and leave as BigInt (WIT s64), whole won.
 */
export function priceOrder(order, config) {
  const threshold = BigInt(config.threshold ?? 10);
  const percent = BigInt(config.percent ?? 10);
  const reason = `${percent}% off from ${threshold} units`;
  return {
    prices: order.lines.map((line) => {
      if (line.quantity < threshold || line.unitPrice < 0n) {
        return { unitPrice: line.unitPrice, reason: undefined };
      }
      const unitPrice = (line.unitPrice * (100n - percent)) / 100n;
      return { unitPrice, reason: unitPrice === line.unitPrice ? undefined : reason };
    }),
  };
}
