/** Retries, redispatch, queueing and timeouts against real sockets. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { closedPort, exchange, named, origin } from '../helpers/origins.ts';
import { cleanup, eventually, liveSessions, startProxy } from '../helpers/proxy.ts';

test('redispatch past a dead server: every session succeeds and none waits a turn-around', async () => {
  const live = await named('live');
  const dead = await closedPort();
  const p = await startProxy(
    `
defaults
    mode tcp
    retries 3
    option redispatch
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen app
    bind 127.0.0.1:0
    balance roundrobin
    server dead 127.0.0.1:${dead}
    server live 127.0.0.1:${live.port}
`,
    { threads: 2 },
  );
  try {
    for (let i = 0; i < 20; i++) {
      const r = await exchange(p.port('app'), 'x');
      assert.equal(r.data, 'live\nx');
      assert.ok(r.ms < 500, `session ${i} took ${r.ms} ms: it waited a turn-around`);
    }
    const redispatched = p.logs.filter((l) => / app\/live .* -- .*\/\+1 /.test(l));
    assert.ok(redispatched.length >= 5, 'half of the sessions were first sent to the dead server, then redispatched');
  } finally {
    await cleanup(p, live);
  }
});

test('retries on the same server wait the turn-around, then give up with SC', async () => {
  const dead = await closedPort();
  const p = await startProxy(`
defaults
    mode tcp
    retries 2
    timeout connect 150ms
    timeout client 5s
    timeout server 5s
listen app
    bind 127.0.0.1:0
    server s1 127.0.0.1:${dead}
`);
  try {
    const r = await exchange(p.port('app'), 'x');
    assert.equal(r.data, '');
    assert.ok(r.ms >= 280, `two turn-arounds of 150 ms expected, took ${r.ms} ms`);
    const line = await p.waitLog(/ app\/s1 /);
    assert.match(line, / app\/s1 \d+\/-1\/\d+ 0 SC \d+\/\d+\/\d+\/\d+\/2 0\/0$/);
  } finally {
    await p.stop();
  }
});

test('maxconn queues the excess, serves it when a slot frees; timeout queue ends it with sQ', async () => {
  const o = await origin((sock) => {
    sock.on('data', (d) => sock.write(d));
    sock.on('end', () => sock.end());
  });
  const p = await startProxy(
    `
defaults
    mode tcp
    timeout connect 1s
    timeout queue 300ms
    timeout client 5s
    timeout server 5s
listen app
    bind 127.0.0.1:0
    server s1 127.0.0.1:${o.port} maxconn 1
`,
    { threads: 2 },
  );
  const held: net.Socket[] = [];
  try {
    const hold = net.connect(p.port('app'), '127.0.0.1');
    held.push(hold);
    await new Promise((r) => hold.once('connect', r));
    hold.write('a');
    await new Promise((r) => hold.once('data', r));
    // a second client waits in the queue while the first holds the only slot
    const queued = exchange(p.port('app'), 'b', { timeoutMs: 3000 });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(o.accepted, 1, 'the origin never sees more than maxconn connections');
    hold.end();
    const r = await queued;
    assert.equal(r.data, 'b', 'served once the slot freed');
    // now hold the slot longer than timeout queue
    const hold2 = net.connect(p.port('app'), '127.0.0.1');
    held.push(hold2);
    await new Promise((r2) => hold2.once('connect', r2));
    hold2.write('c');
    await new Promise((r2) => hold2.once('data', r2));
    const late = await exchange(p.port('app'), 'd', { timeoutMs: 3000 });
    assert.equal(late.data, '');
    assert.ok(late.ms >= 250, `queue timeout after ~300 ms, took ${late.ms}`);
    const line = await p.waitLog(/ sQ /);
    assert.match(line, / app\/<NOSRV> \d+\/-1\/\d+ 0 sQ /, "a backend-queue timeout has no server, as in HAProxy");
    hold2.end();
    await eventually(async () => (await liveSessions(p)).length === 0, 3000, 'no session left');
  } finally {
    for (const h of held) h.destroy();
    await cleanup(p, o);
  }
});

test('server slower than timeout server: sD; client idle past timeout client: cD', async () => {
  const o = await origin(() => {}); // accepts, never answers
  const p = await startProxy(`
defaults
    mode tcp
    timeout connect 1s
    timeout client 400ms
    timeout server 200ms
listen app
    bind 127.0.0.1:0
    server s1 127.0.0.1:${o.port}
`);
  try {
    const r = await exchange(p.port('app'), 'x', { end: false });
    assert.ok(r.ms >= 150 && r.ms < 1500, `closed after ${r.ms} ms`);
    assert.match(await p.waitLog(/ app\/s1 /), / sD /);
  } finally {
    await cleanup(p, o);
  }
});
