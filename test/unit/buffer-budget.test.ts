/** The per-worker buffer budget (`tune.buffers.limit`, `tune.buffers.reserve`). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferBudget } from '../../src/core/buffer-budget.ts';

test('takes up to limit − reserve, refuses past it and counts the refusals; gives back', () => {
  const b = new BufferBudget(6, 2);
  assert.equal(b.take(2), true);
  assert.equal(b.take(2), true);
  assert.equal(b.take(2), false, 'the reserve is not for new streams');
  assert.equal(b.take(1), false);
  assert.deepEqual(b.info(), { limit: 6, reserve: 2, used: 4, max: 4, failed: 2 });
  b.give(2);
  assert.equal(b.take(2), true);
  b.give(4);
  assert.deepEqual(b.info(), { limit: 6, reserve: 2, used: 0, max: 4, failed: 2 });
});

test('limit 0 is unlimited', () => {
  const b = new BufferBudget(0, 2);
  for (let i = 0; i < 10_000; i++) assert.equal(b.take(2), true);
  assert.equal(b.used, 20_000);
  assert.equal(b.info().failed, 0);
});

test('giving back more than was taken is a bug, not a silent negative count', () => {
  const b = new BufferBudget(10, 2);
  b.take(2);
  assert.throws(() => b.give(3), /never taken/);
});

test('clear counters: the maximum restarts from what is used now; all: the refusals too', () => {
  const b = new BufferBudget(4, 2);
  b.take(2);
  b.take(2);
  b.give(2);
  b.clear(false);
  assert.deepEqual(b.info(), { limit: 4, reserve: 2, used: 0, max: 0, failed: 1 });
  b.clear(true);
  assert.equal(b.info().failed, 0);
});
