/**
 * Slowloris at scale: 1,000 connections that send a request head one byte at a time must not
 * take the proxy from normal clients. Each slow connection ends with 408 at `timeout
 * http-request`; meanwhile keep-alive clients keep their throughput (requests completed in a
 * fixed window, compared with the same window without the attack, best of rounds).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { get, httpOrigin, ok, RawClient } from '../helpers/http.ts';
import type { Origin } from '../helpers/origins.ts';
import { cleanup, eventually, liveSessions, type RunningProxy, startProxy } from '../helpers/proxy.ts';

const SLOW = 1000;
const WINDOW_MS = 1500;

let p: RunningProxy;
let app: Origin;

before(async () => {
  app = await httpOrigin(() => ok('fine'));
  p = await startProxy(
    `
global
    maxconn 5000
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout http-request 3s
listen app
    bind 127.0.0.1:0
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
`,
    { threads: 2 },
  );
});

after(async () => {
  await cleanup(p, app);
});

/** Requests completed by 8 keep-alive clients in WINDOW_MS (every one must get its 200). */
async function throughput(): Promise<number> {
  const end = Date.now() + WINDOW_MS;
  const counts = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const c = await RawClient.connect(p.port('app'));
      let n = 0;
      while (Date.now() < end) {
        c.send(get('/'));
        const r = await c.response();
        assert.equal(r.status, 200);
        n++;
      }
      c.close();
      return n;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

test(`${SLOW} slowloris connections: each gets 408 cR, normal clients keep their throughput`, async () => {
  const base = Math.max(await throughput(), await throughput());
  // the attacker runs in its own process: its CPU is not taken from the normal clients
  const child = spawn(process.execPath, [new URL('../helpers/slowloris-child.ts', import.meta.url).pathname, String(p.port('app')), String(SLOW), '1000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buf = '';
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await eventually(() => lines.includes('open'), 10_000, `${SLOW} slow connections open`);
    const attacked = Math.max(await throughput(), await throughput());
    const ratio = attacked / base;
    process.stderr.write(`slowloris: ${base} requests in ${WINDOW_MS} ms alone, ${attacked} under ${SLOW} slow connections (${(ratio * 100).toFixed(0)}%)\n`);
    // a loose bound (this 2-core machine runs the clients, the origin and the attacker too, and
    // rounds alone vary by 2x when other work runs): catches starvation, not a few percent; the
    // figure itself is printed above (≈ 90-110% on a quiet machine)
    assert.ok(ratio >= 0.5, `normal clients kept ${(ratio * 100).toFixed(0)}% of their throughput`);
    // every slow connection is answered 408 at timeout http-request, then closed
    await exited;
    const answers = lines.filter((l) => l.startsWith('HTTP/'));
    assert.equal(answers.length, SLOW, `${SLOW - answers.length} slow connections closed without a 408 (${lines.filter((l) => !l.startsWith('HTTP/') && l !== 'open').slice(0, 3).join('|')})`);
    assert.ok(answers.every((a) => a === 'HTTP/1.1 408 Request Time-out'));
  } finally {
    child.kill();
  }
  await eventually(async () => (await liveSessions(p)).length === 0, 5000, 'no session left');
});
