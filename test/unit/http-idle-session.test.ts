/**
 * An idle keep-alive connection is the most numerous kind a proxy holds (bench: 10,000 of them),
 * so it keeps only what it needs: its client timer (`timeout http-keep-alive`). The server and
 * queue/connect timers are made when a transaction arms them and let go when it ends — and must
 * still work for the next transaction.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coreHarness, GET, httpConfig, OK } from '../helpers/core-harness.ts';

// the backend's timeout server is the one a transaction uses
const config = httpConfig({ defaults: 'timeout http-keep-alive 60s', backend: 'timeout server 2s' });

/** The session's lazily made timers (protected fields, read as the memory they hold). */
const lazyTimers = (s: object): [unknown, unknown] => {
  const t = s as { lazySrvTimer: unknown; lazyExpTimer: unknown };
  return [t.lazySrvTimer, t.lazyExpTimer];
};

test('an idle keep-alive session holds no server or connect timer; the next transaction arms new ones, and they fire', () => {
  const h = coreHarness(config);
  const c = h.client();
  c.t.data(GET('/'));
  assert.notDeepEqual(lazyTimers(c.s), [null, null], 'a transaction in progress has its timers');
  const srv = h.net.last();
  srv.connectOk();
  srv.data(OK('ok'));
  assert.deepEqual(lazyTimers(c.s), [null, null], 'idle between requests: only the client timer');
  h.clock.advance(10_000);
  // the next request: its server does not answer within timeout server
  c.t.data(GET('/'));
  if (h.net.last() !== srv) h.net.last().connectOk(); // the idle one may have been let go meanwhile
  h.clock.advance(2_100);
  assert.match(c.t.written, /HTTP\/1\.1 504 /, 'timeout server still ends the transaction: 504');
  const line = h.logs.at(-1) ?? '';
  assert.match(line, / sH /, line);
});
