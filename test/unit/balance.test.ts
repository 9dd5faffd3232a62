/** Distribution of every `balance` algorithm, measured on the real backend code. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServerRuntime } from '../../src/core/backend.types.ts';
import { AssignResult } from '../../src/core/backend.types.ts';
import { ServerOpState, ServerSlot } from '../../src/shared-state/server-table.types.ts';
import { coreHarness } from '../helpers/core-harness.ts';

const backend = (balance: string, servers: string) =>
  coreHarness(`
defaults
    mode tcp
backend app
    balance ${balance}
${servers}
`);

function pickMany(balance: string, servers: string, n: number, opts: { release?: boolean; src?: (i: number) => string } = {}) {
  const h = backend(balance, servers);
  const be = h.rt.backends[0]!;
  const count = new Map<string, number>();
  const held: ServerRuntime[] = [];
  for (let i = 0; i < n; i++) {
    const { result, server } = be.assign(opts.src ? opts.src(i) : '127.0.0.1', null);
    assert.equal(result, AssignResult.OK);
    assert.ok(server);
    count.set(server.cfg.name, (count.get(server.cfg.name) ?? 0) + 1);
    if (opts.release !== false) be.release(server);
    else held.push(server);
  }
  return { count, h, be, held };
}

const three = '    server a 10.0.0.1:80 weight 1\n    server b 10.0.0.2:80 weight 2\n    server c 10.0.0.3:80 weight 3';

test('roundrobin and static-rr: exactly proportional to weights, smoothly interleaved', () => {
  for (const algo of ['roundrobin', 'static-rr']) {
    const { count } = pickMany(algo, three, 600);
    assert.deepEqual(Object.fromEntries(count), { a: 100, b: 200, c: 300 }, algo);
  }
  // smooth: the heaviest server never takes more than its share in a row
  const h = backend('roundrobin', three);
  const be = h.rt.backends[0]!;
  const seq = Array.from({ length: 6 }, () => {
    const s = be.assign('x', null).server!;
    be.release(s);
    return s.cfg.name;
  }).join('');
  assert.equal(seq, 'cbacbc');
});

test('leastconn: goes to the server with fewest connections relative to weight', () => {
  const { count } = pickMany('leastconn', three, 60, { release: false });
  // with nothing released, connections end up proportional to weight
  assert.deepEqual(Object.fromEntries(count), { a: 10, b: 20, c: 30 });
});

test('first: fills the first server up to its maxconn before using the next', () => {
  const { count } = pickMany('first', '    server a 10.0.0.1:80 maxconn 3\n    server b 10.0.0.2:80 maxconn 3\n    server c 10.0.0.3:80', 8, { release: false });
  assert.deepEqual(Object.fromEntries(count), { a: 3, b: 3, c: 2 });
});

test('source: the same client address always lands on the same server; addresses spread by weight', () => {
  const { count } = pickMany('source', three, 600, { src: (i) => `10.1.${i >> 8}.${i & 255}` });
  assert.deepEqual(Object.fromEntries(count), { a: 100, b: 200, c: 300 });
  const h = backend('source', three);
  const be = h.rt.backends[0]!;
  const first = be.assign('192.168.7.9', null).server!;
  for (let i = 0; i < 20; i++) {
    const s = be.assign('192.168.7.9', null).server!;
    assert.equal(s, first);
  }
});

test('uri and hdr(): the same key lands on the same server, keys spread by weight; a redispatch avoids the failed server', () => {
  const { count } = pickMany('uri', three, 600, { src: (i) => `/item/${i}` });
  assert.equal(count.size, 3);
  assert.ok((count.get('c') ?? 0) > (count.get('a') ?? 0), `weights respected: ${JSON.stringify(Object.fromEntries(count))}`);
  const h = backend('hdr(x-user)', three);
  const be = h.rt.backends[0]!;
  const alice = be.assign('alice', null).server!;
  for (let i = 0; i < 10; i++) assert.equal(be.assign('alice', null).server, alice);
  const other = be.assign('alice', alice).server!;
  assert.notEqual(other, alice, 'a redispatch leaves the hashed server');
  // no header: round robin over all of them
  const rr = new Set(Array.from({ length: 6 }, () => be.assign('', null).server?.cfg.name));
  assert.equal(rr.size, 3);
});

test('random: every server used, roughly by weight (power of two choices)', () => {
  const { count } = pickMany('random', three, 3000);
  const a = count.get('a') ?? 0;
  const c = count.get('c') ?? 0;
  assert.ok(a > 250 && a < 750, `a=${a}`);
  assert.ok(c > 1000 && c < 2000, `c=${c}`);
});

test('DOWN, MAINT and weight 0 servers get nothing; backups only when no active server is usable', () => {
  const h = backend('roundrobin', '    server a 10.0.0.1:80\n    server b 10.0.0.2:80\n    server bk 10.0.0.9:80 backup');
  const be = h.rt.backends[0]!;
  const ids = be.servers.map((s) => s.id);
  h.table.setSrv(ids[0]!, ServerSlot.STATE, ServerOpState.DOWN);
  for (let i = 0; i < 10; i++) assert.equal(be.assign('x', null).server?.cfg.name, 'b');
  h.table.setSrv(ids[1]!, ServerSlot.WEIGHT, 0);
  assert.equal(be.assign('x', null).server?.cfg.name, 'bk');
  h.table.setSrv(ids[2]!, ServerSlot.STATE, ServerOpState.MAINT);
  assert.equal(be.assign('x', null).result, AssignResult.NONE);
});

test('maxconn is a global slot count (shared table), not per worker', () => {
  const h1 = backend('roundrobin', '    server a 10.0.0.1:80 maxconn 2');
  // a second "worker" on the same shared table
  const h2 = coreHarness('defaults\n    mode tcp\nbackend app\n    server a 10.0.0.1:80 maxconn 2\n', { table: h1.table });
  const be1 = h1.rt.backends[0]!;
  const be2 = h2.rt.backends[0]!;
  assert.equal(be1.assign('x', null).result, AssignResult.OK);
  assert.equal(be2.assign('x', null).result, AssignResult.OK);
  assert.equal(be1.assign('x', null).result, AssignResult.FULL);
  assert.equal(be2.assign('x', null).result, AssignResult.FULL);
  be2.release(be2.servers[0]!);
  assert.equal(be1.assign('x', null).result, AssignResult.OK);
});
