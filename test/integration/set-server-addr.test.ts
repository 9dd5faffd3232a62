/**
 * `set server B/S addr IP [port P]`: every worker sends new requests to the new address at once,
 * idle connections to the old one are closed, the health check follows, and `show servers state`
 * and `show stat` report the new address.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { get, httpOrigin, ok, request } from '../helpers/http.ts';
import { cleanup, eventually, startProxy } from '../helpers/proxy.ts';

test('set server addr moves traffic and the health check to the new address, in every worker', async () => {
  const a = await httpOrigin(() => ok('a'));
  const b = await httpOrigin(() => ok('b'));
  const p = await startProxy(
    `
defaults
    mode http
    timeout connect 500ms
    timeout client 2s
    timeout server 2s
listen app
    bind 127.0.0.1:0
    http-reuse always
    server s1 127.0.0.1:${a.port} check inter 100ms pool-purge-delay 300ms
`,
    { threads: 2 },
  );
  try {
    for (let i = 0; i < 4; i++) assert.equal((await request(p.port('app'), get('/'))).body, 'a');
    assert.equal(await p.cli(`set server app/s1 addr 127.0.0.1 port ${b.port}`), `no need to change the addr, port changed from '${a.port}' to '${b.port}' by 'stats socket command'\n\n`);
    for (let i = 0; i < 6; i++) assert.equal((await request(p.port('app'), get('/'))).body, 'b', 'both workers use the new address, no idle connection to the old one is reused');
    const state = (await p.cli('show servers state app')).split('\n')[2]?.split(' ') ?? [];
    assert.equal(state[4], '127.0.0.1');
    assert.equal(state[18], String(b.port), 'srv_port');
    assert.match(await p.cli('show stat'), new RegExp(`^app,s1,.*,127\\.0\\.0\\.1:${b.port},`, 'm'));
    // the old address goes away: the check now probes the new one, the server stays UP
    await a.close();
    const checksBefore = b.accepted;
    await eventually(() => b.accepted > checksBefore + 2, 2000, 'checks reach the new address');
    assert.ok(!p.stderr.some((l) => /Server app\/s1 is DOWN/.test(l)), 'still UP');
    assert.equal(await p.cli('set server app/s1 addr not-an-ip'), 'set server <b>/<s> addr requires an address and optionally a port.\n\n');
    assert.equal(await p.cli('set server app/nope addr 127.0.0.1'), 'No such server.\n\n');
  } finally {
    await cleanup(p, b);
  }
});
