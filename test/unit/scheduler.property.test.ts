import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Scheduler, Timer } from '../../src/core/scheduler.ts';
import { WHEEL_TICK_MS } from '../../src/core/scheduler.types.ts';
import { VirtualClock } from '../helpers/fake-net.ts';

const op = fc.oneof(
  fc.record({ kind: fc.constant('arm' as const), timer: fc.integer({ min: 0, max: 7 }), delay: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ kind: fc.constant('cancel' as const), timer: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3000 }) }),
);

test('timer wheel: a timer fires once, never before its expiry, at most one tick late; cancelled never fire', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const clock = new VirtualClock();
      const sched = new Scheduler(clock);
      const due: Array<number | null> = Array(8).fill(null);
      const fired: Array<[number, number]> = [];
      const target = { onTimer: (k: number) => fired.push([k, clock.now()]) };
      const timers = due.map((_, i) => new Timer(target, i));
      const check = () => {
        for (const [k, at] of fired) {
          const d = due[k];
          assert.ok(d !== null && d !== undefined, `timer ${k} fired while not armed`);
          assert.ok(at >= d, `timer ${k} fired at ${at} before its expiry ${d}`);
          assert.ok(at <= d + WHEEL_TICK_MS, `timer ${k} fired at ${at}, more than a tick after ${d}`);
          due[k] = null;
        }
        fired.length = 0;
      };
      for (const o of ops) {
        if (o.kind === 'arm') {
          sched.arm(timers[o.timer] as Timer, o.delay);
          due[o.timer] = clock.now() + o.delay;
        } else if (o.kind === 'cancel') {
          sched.cancel(timers[o.timer] as Timer);
          due[o.timer] = null;
        } else {
          // advance in small steps so "late" is measured against the step, not the whole jump
          for (let left = o.ms; left > 0; left -= 1) {
            clock.advance(1);
            check();
          }
        }
      }
      clock.advance(6000 + WHEEL_TICK_MS);
      check();
      assert.ok(due.every((d) => d === null), 'every armed timer fired');
      assert.equal(sched.timersPending, 0);
    }),
    { numRuns: 150 },
  );
});
