// The component's exports for world order-validate: parse the config, call the rule, log a
// refusal, and turn it into the WIT `result` (a throw is the `err` case).
import './guard.js';
import { log } from 'edgecart:rules/host@0.2.0';
import { CONFIG_SCHEMA, validateOrder as rule } from './rule.js';

export function configSchema() {
  return JSON.stringify(CONFIG_SCHEMA);
}

export function validateOrder(order, config) {
  const rejection = rule(order, JSON.parse(config));
  if (rejection) {
    log('info', `refused an order of user ${order.userId}: ${rejection.code}`);
    throw rejection;
  }
}
