/**
 * Seed 000 (HAProxy, "completely detach connection on connect error"): sessions retrying a
 * refused server on one listener, while clients speak during the turn-around and give up after
 * 100 ms, must never disable or time out connections of another listener whose server answers
 * after ~50 ms. Afterwards no session is left but the CLI's own.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { closedPort, slow } from '../helpers/origins.ts';
import { cleanup, eventually, liveSessions, parseInfo, startProxy } from '../helpers/proxy.ts';

function shortClient(port: number, payload: string, timeoutMs: number): Promise<{ reply: string; ms: number }> {
  return new Promise((resolve) => {
    const start = Date.now();
    const c = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = () => {
      clearTimeout(timer);
      c.destroy();
      resolve({ reply, ms: Date.now() - start });
    };
    const timer = setTimeout(done, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(payload));
    c.on('data', (d: string) => {
      reply += d;
      if (reply.length >= 4) done();
    });
    c.on('error', done);
    c.on('close', done);
  });
}

test('seed 000: connect errors on one listener never stall another listener', async () => {
  const victimOrigin = await slow(50, 'pong');
  const refused = await closedPort();
  const p = await startProxy(
    `
defaults
    mode tcp
    retries 3
    timeout connect 1s
    timeout client 10s
    timeout server 10s
listen test
    bind 127.0.0.1:0
    server s1 127.0.0.1:${refused}
listen victim
    bind 127.0.0.1:0
    server s1 127.0.0.1:${victimOrigin.port}
`,
    { threads: 2 },
  );
  try {
    const until = Date.now() + 3000;
    const victim: Array<{ reply: string; ms: number }> = [];
    let injected = 0;
    const injector = async (port: number, sink?: typeof victim) => {
      while (Date.now() < until) {
        const r = await shortClient(port, 'ping', sink ? 1000 : 100);
        injected++;
        sink?.push(r);
      }
    };
    // two parallel injections on each listener
    await Promise.all([injector(p.port('test')), injector(p.port('test')), injector(p.port('victim'), victim), injector(p.port('victim'), victim)]);
    assert.ok(injected > 50, `only ${injected} clients injected`);
    const answered = victim.filter((r) => r.reply === 'pong');
    assert.equal(answered.length, victim.length, `every victim client answered (${victim.length - answered.length} stalled)`);
    const inTime = victim.filter((r) => r.ms < 100).length;
    assert.ok(inTime / victim.length >= 0.95, `victim answered in time for ${inTime}/${victim.length}`);
    await eventually(async () => (await liveSessions(p)).length === 0, 5000, 'show sess lists only the CLI');
    const info = parseInfo(await p.cli('show info'));
    assert.equal(info.get('Stale_commands'), '0', 'no command from a stale owner reached a socket');
    assert.ok(Number(info.get('Connect_errors')) > 0);
    assert.ok(p.logs.some((l) => / test test\/s1 .* (CC|SC) /.test(l)), 'test sessions ended on the refused server');
  } finally {
    await cleanup(p, victimOrigin);
  }
});
