// The component's exports for world charge-validate: parse the config, call the rule, log a
// refusal, and turn it into the WIT `result` (a throw is the `err` case).
import './guard.js';
import { log } from 'edgecart:rules/host@0.2.0';
import { CONFIG_SCHEMA, validateCharge as rule } from './rule.js';

export function configSchema() {
  return JSON.stringify(CONFIG_SCHEMA);
}

export function validateCharge(charge, config) {
  const rejection = rule(charge, JSON.parse(config));
  if (rejection) {
    log('info', `refused ${charge.amount}: ${rejection.code}`);
    throw rejection;
  }
}
