import assert from 'node:assert/strict';
import { test } from 'node:test';
import { docBlock, MACHINES, renderMachine } from '../helpers/state-doc.ts';

for (const m of MACHINES) {
  test(`${m.file} matches the ${m.name} transition table in the code`, () => {
    assert.equal(docBlock(m), renderMachine(m), `run 'npm run docs:states' to regenerate ${m.file}`);
  });
}

test('every state named as a target exists, and every state is reachable', () => {
  for (const m of MACHINES) {
    const states = Object.keys(m.transitions);
    const reached = new Set([states[0]]);
    for (const [, to] of Object.entries(m.transitions)) for (const t of to) {
      assert.ok(states.includes(t), `${m.name}: unknown target ${t}`);
      reached.add(t);
    }
    assert.deepEqual([...reached].sort(), [...states].sort(), `${m.name}: unreachable states`);
  }
});
