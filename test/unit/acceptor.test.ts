import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leastLoaded } from '../../src/acceptor/acceptor.ts';
import type { WorkerState } from '../../src/acceptor/acceptor.types.ts';

const w = (live: number, state: WorkerState = 'READY') => ({ state, live });

test('handoff picks the ready worker with the fewest live sessions', () => {
  const ws = [w(5), w(2), w(7)];
  assert.equal(leastLoaded(ws, 0), ws[1]);
});

test('ties are broken round-robin from the rotating start', () => {
  const ws = [w(1), w(1), w(1)];
  assert.deepEqual([0, 1, 2, 3].map((start) => ws.indexOf(leastLoaded(ws, start) as (typeof ws)[number])), [0, 1, 2, 0]);
});

test('workers not READY, and workers a transfer already failed on, are skipped (re-route)', () => {
  const ws = [w(0, 'STARTING'), w(1), w(2, 'DEAD'), w(3)];
  assert.equal(leastLoaded(ws, 0), ws[1]);
  assert.equal(leastLoaded(ws, 0, new Set([ws[1] as (typeof ws)[number]])), ws[3]);
  assert.equal(leastLoaded(ws, 0, new Set([ws[1], ws[3]] as Array<(typeof ws)[number]>)), undefined);
});
