/**
 * The simulator in the suite: 2,000 seeded scenarios, a fast-check property that shrinks a failing
 * scenario to a minimal one, and proof that known bug classes are caught when injected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ServerEndpoint } from '../../src/core/endpoint.ts';
import { ClientKinds, ServerKinds, Sim, type SimConfig, scenario } from './sim.ts';

const RUNS = 2000;

test(`${RUNS} seeded scenarios hold every invariant (replay a failure with npm run sim -- --seed N)`, () => {
  const failures: string[] = [];
  for (let seed = 1; seed <= RUNS; seed++) {
    const v = new Sim(scenario(seed)).run();
    if (v.length > 0) failures.push(`seed ${seed}: ${v[0]?.what}`);
  }
  assert.deepEqual(failures, []);
});

const simConfig: fc.Arbitrary<SimConfig> = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  clients: fc.integer({ min: 1, max: 6 }),
  servers: fc.array(fc.constantFrom(...ServerKinds), { minLength: 1, maxLength: 3 }),
  backend: fc
    .tuple(fc.constantFrom('roundrobin', 'leastconn', 'first', 'source', 'random'), fc.integer({ min: 0, max: 3 }), fc.constantFrom('', '    option redispatch', '    option redispatch 1'))
    .map(([b, r, red]) => `    balance ${b}\n    retries ${r}\n${red}`),
  maxconn: fc.integer({ min: 0, max: 2 }),
  timeouts: fc
    .tuple(fc.integer({ min: 20, max: 300 }), fc.integer({ min: 100, max: 2000 }), fc.integer({ min: 100, max: 2000 }), fc.integer({ min: 50, max: 500 }))
    .map(([c, cl, s, q]) => `    timeout connect ${c}ms\n    timeout client ${cl}ms\n    timeout server ${s}ms\n    timeout queue ${q}ms`),
});

test('fast-check: any generated scenario holds the invariants (shrinks to a minimal failing one)', () => {
  fc.assert(
    fc.property(simConfig, (cfg) => {
      const v = new Sim(cfg).run();
      assert.deepEqual(v, [], `scenario ${JSON.stringify(cfg)}`);
    }),
    { numRuns: 300 },
  );
});

test('client and server kinds all appear in the seeded scenarios', () => {
  const seenServers = new Set<string>();
  for (let seed = 1; seed <= 200; seed++) for (const k of scenario(seed).servers) seenServers.add(k);
  assert.deepEqual([...seenServers].sort(), [...ServerKinds].sort());
  assert.ok(ClientKinds.length >= 4);
});

/** Run `runs` scenarios with a bug injected; the first violation found, if any. */
function withBug(patch: () => () => void, runs = 2000): string | undefined {
  const undo = patch();
  try {
    for (let seed = 1; seed <= runs; seed++) {
      const v = new Sim(scenario(seed)).run();
      if (v.length > 0) return `seed ${seed}: ${v[0]?.what}`;
    }
    return undefined;
  } finally {
    undo();
  }
}

test('caught: an endpoint without epochs that does not detach on connect error (seed 000)', () => {
  const found = withBug(() => {
    const proto = ServerEndpoint.prototype;
    const { current, detachFailed } = proto;
    // the pre-fix HAProxy shape: the failed connection is "closed" in name only — still attached
    // to its owner — and events are matched by endpoint, not by epoch
    proto.current = function (this: ServerEndpoint) {
      return this.conn;
    };
    proto.detachFailed = function (this: ServerEndpoint) {
      this.conn = null;
      this.resets++;
    };
    return () => {
      proto.current = current;
      proto.detachFailed = detachFailed;
    };
  });
  assert.ok(found, 'the simulator must catch the seed 000 bug class');
});

test('caught: releasing the endpoint instead of resetting it on retry (seed 002)', () => {
  const found = withBug(() => {
    const proto = ServerEndpoint.prototype;
    const { detachFailed } = proto;
    proto.detachFailed = function (this: ServerEndpoint) {
      detachFailed.call(this);
      // released: the target and its reserved slot are forgotten
      this.server = null;
      this.slotHeld = false;
    };
    return () => {
      proto.detachFailed = detachFailed;
    };
  });
  assert.ok(found, 'the simulator must catch the seed 002 bug class');
});

test('caught: a session that keeps its server connection after it ends', () => {
  const found = withBug(() => {
    const proto = ServerEndpoint.prototype;
    const { attach } = proto;
    // leak: the connection is attached a second time under a stale epoch, so close() cannot reach it
    proto.attach = function (this: ServerEndpoint, conn, epoch) {
      attach.call(this, conn, epoch + 1000);
    };
    return () => {
      proto.attach = attach;
    };
  }, 200);
  assert.ok(found, 'the simulator must catch a leaked connection');
});
