/**
 * Session ids are per worker (each worker numbers its own sessions from 1), so two workers can
 * have a session with the same id at once. `shutdown session <ptr>` must end only the session
 * the pointer names — its worker is part of it — not every session with that id (it used to ask
 * every worker to kill its session of that id).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { echo } from '../helpers/origins.ts';
import { cleanup, eventually, listenConfig, startProxy } from '../helpers/proxy.ts';

test('shutdown session ends the session of the worker its pointer names, not the same id on another worker', async () => {
  const o = await echo();
  const p = await startProxy(listenConfig(o.port), { threads: 2 });
  const conns: net.Socket[] = [];
  try {
    // one session on each worker (the acceptor gives a new connection to the least loaded one)
    for (const msg of ['a', 'b']) {
      const c = net.connect(p.port('app'), '127.0.0.1');
      c.on('error', () => {});
      conns.push(c);
      await new Promise((r) => c.once('connect', r));
      c.write(msg);
      await new Promise((r) => c.once('data', r));
    }
    const lines = (await p.cli('show sess')).split('\n').filter((l) => l.includes(' fe=app '));
    const ptrs = lines.map((l) => l.slice(0, l.indexOf(':')));
    assert.deepEqual(lines.map((l) => /thr=(\d)/.exec(l)?.[1]).sort(), ['0', '1'], lines.join('\n'));
    // the same session id on both workers: the pointers differ only by their worker part
    assert.equal(Number.parseInt(ptrs[0] as string, 16) % 2 ** 32, Number.parseInt(ptrs[1] as string, 16) % 2 ** 32, ptrs.join(" "));
    const victim = lines.find((l) => l.includes('thr=1')) as string;
    assert.equal((await p.cli(`shutdown session ${victim.slice(0, victim.indexOf(":"))}`)).trim(), "");
    await eventually(async () => (await p.cli('show sess')).split('\n').filter((l) => l.includes(' fe=app ')).length === 1, 2000, 'one session left');
    const left = (await p.cli('show sess')).split('\n').filter((l) => l.includes(' fe=app '));
    assert.match(left[0] as string, /thr=0/, 'the session of worker 0 is untouched');
  } finally {
    for (const c of conns) c.destroy();
    await cleanup(p, o);
  }
});
