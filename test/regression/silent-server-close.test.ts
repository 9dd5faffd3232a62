/**
 * Bug fixed 2026-12-06: the proxy closed the HTTP server connections it was done with (evicted
 * from the idle pool, not reusable after a transaction) with a FIN, so each one left a socket in
 * TIME_WAIT on the proxy's side toward the server — one per request with `Connection: close`
 * clients under `http-reuse safe` (their first request never takes a shared idle connection), and
 * every later connect() to that server searched for a free port among them. HAProxy closes them
 * silently (an RST, SO_LINGER 0); so does switchyard now. A server connection the server ends
 * itself, and TCP mode, are not concerned.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { origin } from '../helpers/origins.ts';
import { eventually, startProxy } from '../helpers/proxy.ts';

/** Sockets in TIME_WAIT (state 06) whose remote port is `port`, from /proc/net/tcp. */
function timeWaitTo(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return fs
    .readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => {
      const f = l.trim().split(/\s+/);
      return f[3] === '06' && (f[2] ?? '').endsWith(`:${hex}`);
    }).length;
}

test('HTTP server connections the proxy is done with are closed by RST: no TIME_WAIT toward the server', async () => {
  let resets = 0;
  let fins = 0;
  // a keep-alive origin: one canned answer per request head, never closes by itself
  const o = await origin((sock) => {
    sock.on('data', (d: Buffer) => {
      for (let i = d.indexOf('\r\n\r\n'); i >= 0; i = d.indexOf('\r\n\r\n', i + 4)) sock.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET') resets++;
    });
    sock.on('end', () => {
      fins++;
      sock.end();
    });
  });
  const p = await startProxy(`
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
listen app
    bind 127.0.0.1:0
    server s1 127.0.0.1:${o.port} pool-max-conn 2 pool-purge-delay 100ms
`);
  try {
    const before = timeWaitTo(o.port);
    const N = 20;
    for (let i = 0; i < N; i++) {
      // a new client connection per request: under http-reuse safe each opens its own server connection
      const answer = await new Promise<string>((resolve, reject) => {
        const c = net.connect(p.port('app'), '127.0.0.1', () => c.write('GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n'));
        let got = '';
        c.on('data', (d: Buffer) => (got += d.toString('latin1')));
        c.on('error', reject);
        c.on('close', () => resolve(got));
      });
      assert.match(answer, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/);
    }
    // every server connection is closed by now or soon (pool of 2, purged after 100 ms)
    await eventually(() => resets + fins >= N, 3000, `the origin saw its ${N} connections closed`);
    assert.equal(fins, 0, 'no server connection was closed with a FIN');
    assert.equal(resets, N);
    assert.equal(timeWaitTo(o.port) - before, 0, 'no socket left in TIME_WAIT toward the server');
  } finally {
    await p.stop();
    await o.close();
  }
});
