// Imported first by src/component.js: the engine, built without clocks and randomness, would
// still answer Date.now() and Math.random() with made-up values; a rule that asks for either
// fails its call instead (503 PLUGIN_FAILED). The only clock is the input's `now`.
const refuse = (what) => () => {
  throw new Error(`${what} is not available to a rule: use the input's now, and no randomness`);
};
Date.now = refuse('Date.now()');
Math.random = refuse('Math.random()');
globalThis.Date = new Proxy(Date, {
  construct(target, args) {
    if (args.length === 0) refuse('new Date()')();
    return new target(...args);
  },
  apply: refuse('Date()'),
});
