import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Scheduler, Timer } from '../../src/core/scheduler.ts';
import { VirtualClock } from '../helpers/fake-net.ts';

function setup() {
  const clock = new VirtualClock();
  const sched = new Scheduler(clock);
  const fired: Array<[number, number]> = [];
  const target = { onTimer: (k: number) => fired.push([k, clock.now()]) };
  return { clock, sched, fired, target };
}

test('a timer fires once, at its expiry rounded to the wheel tick', () => {
  const { clock, sched, fired, target } = setup();
  const t = new Timer(target, 7);
  sched.arm(t, 100);
  clock.advance(99);
  assert.equal(fired.length, 0);
  clock.advance(10);
  assert.equal(fired.length, 1);
  assert.equal(fired[0]?.[0], 7);
  assert.ok((fired[0]?.[1] ?? 0) - 1000 >= 100 && (fired[0]?.[1] ?? 0) - 1000 <= 104);
  assert.equal(sched.timersPending, 0);
  clock.advance(1000);
  assert.equal(fired.length, 1);
});

test('re-arming later (activity refresh) moves the expiry without firing early', () => {
  const { clock, sched, fired, target } = setup();
  const t = new Timer(target, 1);
  sched.arm(t, 50);
  for (let i = 0; i < 10; i++) {
    clock.advance(40);
    sched.arm(t, 50);
  }
  assert.equal(fired.length, 0);
  clock.advance(60);
  assert.equal(fired.length, 1);
});

test('re-arming earlier takes effect, cancel prevents firing, far timers ride extra turns', () => {
  const { clock, sched, fired, target } = setup();
  const a = new Timer(target, 1);
  const b = new Timer(target, 2);
  const c = new Timer(target, 3);
  sched.arm(a, 5000);
  sched.arm(a, 10);
  sched.arm(b, 20);
  sched.cancel(b);
  sched.arm(c, 7000); // beyond one turn of the wheel (512 * 4 ms)
  clock.advance(20);
  assert.deepEqual(fired.map((f) => f[0]), [1]);
  clock.advance(6900);
  assert.deepEqual(fired.map((f) => f[0]), [1]);
  clock.advance(200);
  assert.deepEqual(fired.map((f) => f[0]), [1, 3]);
  assert.equal(sched.timersPending, 0);
});

test('many timers each fire exactly once in expiry order', () => {
  const { clock, sched, fired, target } = setup();
  const delays = Array.from({ length: 300 }, (_, i) => ((i * 7919) % 3000) + 1);
  for (const [i, d] of delays.entries()) sched.arm(new Timer(target, i), d);
  clock.advance(4000);
  assert.equal(fired.length, 300);
  const order = fired.map((f) => delays[f[0]] as number);
  for (let i = 1; i < order.length; i++) assert.ok(Math.ceil((order[i] as number) / 4) >= Math.ceil((order[i - 1] as number) / 4) - 1);
});

test('deferred tasks run after the current callback, in order', () => {
  const { clock, sched } = setup();
  const seen: number[] = [];
  sched.defer(() => seen.push(1));
  sched.defer(() => seen.push(2));
  assert.deepEqual(seen, []);
  clock.flush();
  assert.deepEqual(seen, [1, 2]);
});

test('a timer handler that throws is contained; the other timers of the same tick still fire', () => {
  const { clock, sched, fired, target } = setup();
  const faults: unknown[] = [];
  const bad = {
    onTimer: () => {
      throw new Error('bad handler');
    },
    onFault: (e: unknown) => faults.push(e),
  };
  sched.arm(new Timer(bad, 1), 10);
  sched.arm(new Timer(target, 2), 10);
  clock.advance(20);
  assert.equal(faults.length, 1);
  assert.deepEqual(fired.map((f) => f[0]), [2]);
});
