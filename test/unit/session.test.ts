/**
 * The seed rules, driven through the real session code on the fake network and virtual clock:
 * every event happens exactly when the test says.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coreHarness, terminationOf } from '../helpers/core-harness.ts';

const cfg = (backend: string, extra = '') => `
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
${extra}
frontend fe
    bind 127.0.0.1:8000
    default_backend app

backend app
${backend}
`;

test('seed 004: the server connection is allocated on first need; allocation failure ends with R', () => {
  const h = coreHarness(cfg('    server s1 10.0.0.1:80 maxconn 1'));
  const a = h.client();
  assert.equal(h.net.opened.length, 1, 'first session connects at once (TCP)');
  const b = h.client();
  assert.equal(b.s.ep.state, 'QUE');
  assert.equal(b.s.ep.conn, null, 'a queued session holds no connection object');
  assert.equal(h.net.opened.length, 1);
  h.net.failNext = true;
  h.net.last().connectOk();
  a.t.peerEnd();
  h.net.opened[0]?.peerEnd();
  h.net.opened[0]?.closed();
  a.t.closed();
  h.clock.flush(); // the freed slot is granted to b, whose allocation fails
  assert.equal(terminationOf(h.logs.at(-1)), 'RC');
  assert.equal(h.rt.sessions.size, 0);
});

test('seed 000: on connect error the connection is fully detached and closed before the retry', () => {
  const h = coreHarness(cfg('    retries 3\n    server s1 10.0.0.1:80'));
  const { t: cli, s } = h.client();
  const first = h.net.last();
  first.refuse();
  assert.equal(s.ep.state, 'TAR');
  assert.equal(s.ep.conn, null, 'no connection attached during the turn-around');
  assert.equal(first.destroyed, true);
  // the client speaks during the turn-around: nothing may reach any socket
  cli.data('hello');
  assert.equal(first.writes.length, 0);
  // late events of the failed attempt are dropped, and touch nothing
  const staleBefore = h.rt.stats.staleEvents;
  first.receiver?.onError({ code: 'ECONNREFUSED', message: 'late' });
  first.receiver?.onData(Buffer.from('late'));
  assert.equal(s.ep.state, 'TAR');
  assert.equal(cli.writes.length, 0);
  assert.ok(h.rt.stats.staleEvents + h.rt.stats.staleCommands >= staleBefore);
  h.clock.advance(1000);
  assert.equal(h.net.opened.length, 2, 'retried on a fresh connection');
  const second = h.net.last();
  assert.notEqual(second, first);
  second.connectOk();
  assert.equal(second.written, 'hello', 'the held client data goes to the new connection');
  assert.equal(s.ep.state, 'EST');
});

test('seed 002: the endpoint is reset, not released, across retries', () => {
  const h = coreHarness(cfg('    retries 2\n    server s1 10.0.0.1:80'));
  const { s } = h.client();
  const ep = s.ep;
  ep.trace = [ep.state];
  h.net.last().refuse();
  h.clock.advance(1000);
  h.net.last().refuse();
  h.clock.advance(1000);
  h.net.last().connectOk();
  assert.equal(s.ep, ep, 'same endpoint object');
  assert.equal(ep.resets, 2);
  assert.equal(ep.attempts, 3);
  assert.deepEqual(ep.trace, ['CON', 'CER', 'TAR', 'ASS', 'CON', 'CER', 'TAR', 'ASS', 'CON', 'EST']);
});

test('seed 001: the target survives retries on the same server and is cleared on redispatch', () => {
  // a hashing algorithm: HAProxy redispatches at once from any other kind when another server is up
  const h = coreHarness(cfg('    balance source\n    retries 3\n    option redispatch 2\n    server s1 10.0.0.1:80\n    server s2 10.0.0.2:80'));
  const { s } = h.client();
  const target = s.ep.server;
  const firstHost = h.net.last().target?.host;
  h.net.last().refuse();
  assert.equal(s.ep.server, target, 'kept during the turn-around');
  h.clock.advance(1000);
  assert.equal(h.net.last().target?.host, firstHost, 'retry 1 goes to the same address');
  h.net.last().refuse(); // retry 2 is a redispatch (every 2nd retry)
  assert.notEqual(s.ep.server, target, 'redispatch picked another server');
  assert.notEqual(h.net.last().target?.host, firstHost);
  assert.equal(h.net.opened.length, 3, 'redispatch connects at once, no turn-around');
});

test('turn-around: min(timeout connect, 1s) on the same server, none on redispatch', () => {
  const h = coreHarness(cfg('    retries 3\n    timeout connect 300ms\n    server s1 10.0.0.1:80'));
  h.client();
  h.net.last().refuse();
  h.clock.advance(290);
  assert.equal(h.net.opened.length, 1, 'still waiting');
  h.clock.advance(20);
  assert.equal(h.net.opened.length, 2);

  const r = coreHarness(cfg('    retries 3\n    option redispatch\n    server s1 10.0.0.1:80\n    server s2 10.0.0.2:80'));
  r.client();
  r.net.last().refuse();
  assert.equal(r.net.opened.length, 2, 'round robin with two servers redispatches at once');
});

test('redispatch after the last retry reaches a live server; every attempt counted in the log', () => {
  const h = coreHarness(cfg('    balance source\n    retries 2\n    option redispatch\n    server live 10.0.0.2:80\n    server dead 10.0.0.1:80'));
  assert.equal(h.net.opened.length, 0);
  const { t: cli, s } = h.client();
  for (let i = 0; i < 3; i++) {
    const c = h.net.last();
    if (c.target?.host === '10.0.0.2') break;
    c.refuse();
    h.clock.advance(1000);
  }
  const live = h.net.last();
  assert.equal(live.target?.host, '10.0.0.2');
  live.connectOk();
  live.data('hi');
  assert.equal(cli.written, 'hi');
  cli.peerEnd();
  live.peerEnd();
  live.closed();
  cli.closed();
  assert.equal(s.closed, true);
  assert.match(h.logs.at(-1) ?? '', / fe app\/live \d+\/\d+\/\d+ 2 -- .*\/\+2 0\/0$/);
});

test('all retries refused: SC, the client is closed, nothing left', () => {
  const h = coreHarness(cfg('    retries 1\n    server s1 10.0.0.1:80'));
  const { t: cli } = h.client();
  h.net.last().refuse();
  h.clock.advance(1000);
  h.net.last().refuse();
  assert.equal(terminationOf(h.logs.at(-1)), 'SC');
  assert.equal(cli.destroyed, true);
  assert.equal(h.rt.sessions.size, 0);
  assert.equal(h.rt.sched.timersPending, 0);
});

test('connect timeout: sC', () => {
  const h = coreHarness(cfg('    retries 0\n    timeout connect 100ms\n    server s1 10.0.0.1:80'));
  h.client();
  h.clock.advance(150);
  assert.equal(terminationOf(h.logs.at(-1)), 'sC');
  assert.equal(h.net.last().destroyed, true);
});

test('maxconn and queue: a freed slot is granted to the queued session; timeout queue gives sQ', () => {
  const h = coreHarness(cfg('    timeout queue 100ms\n    server s1 10.0.0.1:80 maxconn 1'));
  const a = h.client();
  const b = h.client();
  assert.equal(b.s.ep.state, 'QUE');
  const ca = h.net.last();
  ca.connectOk();
  a.t.rst();
  h.clock.flush();
  assert.equal(b.s.ep.state, 'CON', 'b got the slot');
  const c = h.client();
  assert.equal(c.s.ep.state, 'QUE');
  h.clock.advance(150);
  assert.equal(terminationOf(h.logs.at(-1)), 'sQ');
  assert.equal(c.t.destroyed, true);
});

test('no usable server: SC with <NOSRV>', () => {
  const h = coreHarness(cfg('    server s1 10.0.0.1:80 disabled'));
  h.client();
  assert.match(h.logs.at(-1) ?? '', / fe app\/<NOSRV> -1\/-1\/\d+ 0 SC /);
});

test('relay: both directions, half-close forwarded, orderly end is --', () => {
  const h = coreHarness(cfg('    server s1 10.0.0.1:80'));
  const { t: cli, s } = h.client();
  const srv = h.net.last();
  cli.data('early');
  srv.connectOk();
  assert.equal(srv.written, 'early');
  cli.data(' more');
  srv.data('reply');
  assert.equal(srv.written, 'early more');
  assert.equal(cli.written, 'reply');
  cli.peerEnd();
  assert.equal(srv.ended, true, 'client FIN forwarded to the server');
  assert.equal(cli.ended, false, 'the other direction stays open');
  srv.data(' tail');
  assert.equal(cli.written, 'reply tail');
  srv.peerEnd();
  assert.equal(cli.ended, true);
  srv.closed();
  cli.closed();
  assert.equal(s.closed, true);
  assert.equal(terminationOf(h.logs.at(-1)), '--');
  assert.equal(h.rt.sched.timersPending, 0);
});

test('backpressure: a full server side pauses the client until it drains', () => {
  const h = coreHarness(cfg('    server s1 10.0.0.1:80'));
  const { t: cli } = h.client();
  const srv = h.net.last();
  srv.connectOk();
  srv.full = true;
  cli.data('x');
  assert.equal(cli.paused, true);
  srv.drain();
  assert.equal(cli.paused, false);
  cli.full = true;
  srv.data('y');
  assert.equal(srv.paused, true);
  cli.drain();
  assert.equal(srv.paused, false);
});

test('timeouts: client inactivity cD, server inactivity sD; tunnel supersedes both', () => {
  const c = coreHarness(cfg('    server s1 10.0.0.1:80').replace('timeout client 30s', 'timeout client 100ms'));
  c.client();
  c.net.last().connectOk();
  c.clock.advance(150);
  assert.equal(terminationOf(c.logs.at(-1)), 'cD');

  const s = coreHarness(cfg('    timeout server 100ms\n    server s1 10.0.0.1:80'));
  s.client();
  s.net.last().connectOk();
  s.clock.advance(150);
  assert.equal(terminationOf(s.logs.at(-1)), 'sD');

  const t = coreHarness(cfg('    timeout server 100ms\n    timeout tunnel 1s\n    server s1 10.0.0.1:80').replace('timeout client 30s', 'timeout client 100ms'));
  t.client();
  t.net.last().connectOk();
  t.clock.advance(500);
  assert.equal(t.logs.length, 0, 'tunnel timeout applies once established');
  t.clock.advance(600);
  assert.equal(t.logs.length, 1);
});

test('client reset during data: CD; server reset: SD', () => {
  const a = coreHarness(cfg('    server s1 10.0.0.1:80'));
  const { t } = a.client();
  a.net.last().connectOk();
  t.rst();
  assert.equal(terminationOf(a.logs.at(-1)), 'CD');
  assert.equal(a.net.last().destroyed, true);

  const b = coreHarness(cfg('    server s1 10.0.0.1:80'));
  const { t: cli } = b.client();
  b.net.last().connectOk();
  b.net.last().rst();
  assert.equal(terminationOf(b.logs.at(-1)), 'SD');
  assert.equal(cli.destroyed, true);
});

test('a client FIN while connecting does not abort (no abortonclose): data and FIN are forwarded', () => {
  const h = coreHarness(cfg('    server s1 10.0.0.1:80'));
  const { t, s } = h.client();
  t.data('req');
  t.peerEnd();
  assert.equal(s.closed, false);
  const srv = h.net.last();
  srv.connectOk();
  assert.equal(srv.written, 'req');
  assert.equal(srv.ended, true);
  srv.data('resp');
  assert.equal(t.written, 'resp');
});

test('client reset while connecting: CC', () => {
  const h = coreHarness(cfg('    server s1 10.0.0.1:80'));
  const { t } = h.client();
  t.rst();
  assert.equal(terminationOf(h.logs.at(-1)), 'CC');
  assert.equal(h.net.last().destroyed, true);
});

test('maxqueue: a full server queue redispatches with option redispatch, else refuses with SQ', () => {
  const servers = '    balance source\n    server a 10.0.0.1:80 maxconn 1 maxqueue 1\n    server b 10.0.0.2:80 maxconn 1 maxqueue 1';
  const h = coreHarness(cfg(servers));
  // the same client address always hashes to the same server
  const first = h.client(0, '192.0.2.7');
  const target = first.s.ep.server;
  const queued = h.client(0, '192.0.2.7');
  assert.equal(queued.s.ep.state, 'QUE', 'waits in its server queue');
  assert.equal(queued.s.ep.server, target);
  const refused = h.client(0, '192.0.2.7');
  assert.equal(refused.s.closed, true, 'server queue full and no redispatch: refused');
  assert.equal(terminationOf(h.logs.at(-1)), 'SQ');

  const r = coreHarness(cfg(`    option redispatch\n${servers}`));
  const a = r.client(0, '192.0.2.7');
  r.client(0, '192.0.2.7');
  const third = r.client(0, '192.0.2.7');
  assert.equal(third.s.ep.state, 'CON', 'redispatched to the other server');
  assert.notEqual(third.s.ep.server, a.s.ep.server);
});

test('client-fin and server-fin: the half-closed side gets its own timeout', () => {
  const h = coreHarness(cfg('    timeout server-fin 100ms\n    server s1 10.0.0.1:80'));
  const { t: cli } = h.client();
  const srv = h.net.last();
  srv.connectOk();
  cli.peerEnd(); // client done sending: server write side shut, server-fin applies
  h.clock.advance(150);
  assert.equal(terminationOf(h.logs.at(-1)), 'sD');

  const c = coreHarness(cfg('    server s1 10.0.0.1:80', '    timeout client-fin 100ms'));
  c.client();
  const s2 = c.net.last();
  s2.connectOk();
  s2.peerEnd(); // server done: client write side shut, client-fin applies
  c.clock.advance(150);
  assert.equal(terminationOf(c.logs.at(-1)), 'cD');
});

test('crash containment: an exception inside one session ends that session with I, not the others', () => {
  const h = coreHarness(cfg('    server s1 10.0.0.1:80'));
  const a = h.client();
  const b = h.client();
  const [sa, sb] = [h.net.opened[0], h.net.opened[1]];
  sa?.connectOk();
  sb?.connectOk();
  const original = a.s.onConnData;
  a.s.onConnData = () => {
    throw new Error('injected bug');
  };
  const warn = process.emitWarning;
  const warned: string[] = [];
  process.emitWarning = ((w: string) => warned.push(String(w))) as typeof process.emitWarning;
  try {
    sa?.data('boom');
  } finally {
    process.emitWarning = warn;
    a.s.onConnData = original;
  }
  assert.equal(a.s.closed, true);
  assert.equal(terminationOf(h.logs.at(-1)), 'ID');
  assert.equal(sa?.destroyed, true);
  assert.equal(a.t.destroyed, true);
  assert.match(warned[0] ?? '', new RegExp(`session ${a.s.id}: internal error, session closed: Error: injected bug`));
  assert.equal(h.rt.stats.internalErrors, 1);
  // the other session is untouched
  sb?.data('fine');
  assert.equal(b.t.written, 'fine');
  assert.equal(b.s.closed, false);
});
