/** maxconn at global and bind level: accept is held (clients wait), never refused, and resumes. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { echo, exchange } from '../helpers/origins.ts';
import { cleanup, eventually, listenConfig, parseInfo, startProxy } from '../helpers/proxy.ts';

async function openHeld(port: number, n: number): Promise<net.Socket[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const c = net.connect(port, '127.0.0.1');
      c.on('error', () => {});
      await new Promise((r) => c.once('connect', r));
      c.write('x');
      return c;
    }),
  );
}

for (const [where, global, bind] of [
  ['bind', '', ' maxconn 2'],
  ['global', '    maxconn 2', ''],
] as const) {
  test(`${where} maxconn 2: the origin never sees more than 2, the others wait and are served in turn`, async () => {
    const o = await echo();
    const p = await startProxy(listenConfig(o.port, { global, bind }), { threads: 2 });
    const conns = await openHeld(p.port('app'), 5);
    try {
      await eventually(() => o.accepted === 2, 2000, 'two sessions forwarded');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(o.accepted, 2, 'no more than maxconn reach the origin');
      const info = parseInfo(await p.cli('show info'));
      assert.equal(info.get('CurrConns'), '2');
      assert.equal(info.get('Held_sockets'), '3', 'the other three are accepted and held, not refused');
      for (const c of conns.slice(0, 2)) c.end();
      await eventually(() => o.accepted === 4, 2000, 'two held sessions admitted');
      for (const c of conns.slice(2)) c.end();
      await eventually(() => o.accepted === 5, 2000, 'the last one admitted');
      const r = await exchange(p.port('app'), 'after');
      assert.equal(r.data, 'after');
    } finally {
      for (const c of conns) c.destroy();
      await cleanup(p, o);
    }
  });
}
