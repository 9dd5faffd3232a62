/**
 * The per-worker memory bound (`tune.buffers.limit`, `tune.buffers.reserve`): a stream — an HTTP
 * transaction, a TCP session — holds one buffer per direction while it runs; past limit − reserve
 * a new one is refused (HTTP: 503 `RR`; TCP: closed, `RC`) instead of the worker growing. An HTTP
 * connection waiting for its next request holds none, so idle keep-alive clients never take the
 * place of a request. The accounting is visible in `show pools` and `show info` and comes back to
 * zero with the traffic.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { echo, type Origin } from '../helpers/origins.ts';
import { cleanup, eventually, parseInfo, type RunningProxy, startProxy } from '../helpers/proxy.ts';
import { defaultAnswer, FaultClient, type FaultOrigin, faultOrigin, GET, httpLogFrom, logFrom, noSessionLeft, queuedBytes, S, splitResponses, tcpTermination } from './harness.ts';

let p: RunningProxy;
let app: FaultOrigin;
let tcpOrigin: Origin;

before(async () => {
  app = await faultOrigin({ request: (r) => (r.target === '/slow' ? [S.delay(700), S.respond('slow')] : defaultAnswer(r)) });
  tcpOrigin = await echo();
  p = await startProxy(
    `
global
    tune.buffers.limit 6
    tune.buffers.reserve 2
defaults
    timeout connect 500ms
    timeout client 5s
    timeout server 5s
listen web
    mode http
    bind 127.0.0.1:0
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
listen tcp
    mode tcp
    bind 127.0.0.1:0
    server s1 127.0.0.1:${tcpOrigin.port}
`,
    { threads: 1 },
  );
});

after(async () => {
  assert.equal(await cleanup(p, app, tcpOrigin), 0);
});

/** The `show pools` buffer line of worker 0. */
async function buffers(): Promise<Record<string, string>> {
  const out = await p.cli('show pools');
  const m = /worker 0: (used=.*)$/m.exec(out.slice(out.indexOf('Stream buffers')));
  assert.ok(m, out);
  return Object.fromEntries((m[1] as string).split(' ').map((kv) => kv.split('=') as [string, string]));
}

test('HTTP: two transactions fill limit − reserve; a third request gets 503 RR at once; idle keep-alive clients hold nothing', async () => {
  const failedBefore = Number(parseInfo(await p.cli('show info')).get('PoolFailed'));
  // idle keep-alive clients first: each had its answer and waits for its next request
  // (one after the other: a new connection takes its buffers on arrival, until its first answer)
  const idle: FaultClient[] = [];
  try {
    for (let i = 0; i < 10; i++) {
      const c = await FaultClient.connect(p.port('web'));
      idle.push(c);
      c.send(GET('/idle'));
      await c.until(() => splitResponses(c.text).length === 1, 3000, 'answer');
    }
    assert.equal((await buffers()).used, '0', 'a connection between requests holds no buffer');
    // two slow transactions: 4 buffers, all that limit 6 − reserve 2 allows
    const slow = await Promise.all([0, 1].map(() => FaultClient.connect(p.port('web'))));
    for (const c of slow) c.send(GET('/slow'));
    await eventually(async () => (await buffers()).used === '4', 2000, 'two transactions hold 4 buffers');
    const from = p.logs.length;
    // an upload on a new connection while the budget is full: refused on arrival, nothing of it
    // read, the connection let go within a second even though the client keeps its side open
    // (half-open allowed: it does not answer our FIN with its own)
    const refused = net.connect({ port: p.port('web'), host: '127.0.0.1', allowHalfOpen: true });
    refused.on('error', () => {});
    await new Promise((r) => refused.once('connect', r));
    const refusedPort = refused.localPort as number;
    let answer = '';
    refused.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    // (small enough that the kernel's queues on both sides hold all of it: what they hold is measured)
    const body = Buffer.alloc(256 * 1024, 0x62);
    refused.write(`POST /refused HTTP/1.1\r\nhost: test\r\ncontent-length: ${body.length}\r\n\r\n`);
    refused.write(body);
    await eventually(() => answer.startsWith('HTTP/1.1 503 '), 2000, 'the 503');
    // refused on arrival: the proxy read none of it — all it was sent is still in the kernel's
    // queues (the client's send queue and the proxy's receive queue)
    const headBytes = Buffer.byteLength(`POST /refused HTTP/1.1\r\nhost: test\r\ncontent-length: ${body.length}\r\n\r\n`);
    await eventually(() => refused.writableLength === 0, 2000, 'the upload handed to the kernel');
    const q = queuedBytes(refusedPort, p.port('web'));
    // (≥: /proc/net/tcp's queues are read one after the other and now and then count more than
    // was sent; a proxy that read the head and a first chunk leaves ≈ 200 KiB less)
    assert.ok(q.sendQ + q.recvQ >= headBytes + body.length, `the proxy read from the refused upload: ${headBytes + body.length} sent, ${JSON.stringify(q)} in the kernel`);
    // the proxy let it go: its session is gone within the refused linger (1 s), not at timeout client (5 s)
    const t0 = Date.now();
    await eventually(async () => !(await p.cli('show sess')).includes(`src=127.0.0.1:${refusedPort} `), 2500, 'the refused session is gone');
    assert.ok(Date.now() - t0 < 2500);
    const log = await httpLogFrom(p, 'web', refusedPort, from);
    assert.equal(log.termination, 'RR--', log.line);
    assert.equal(log.status, 503);
    assert.ok(!app.requests.some((r) => r.target === '/refused'), 'the refused request never reached the server');
    const b = await buffers();
    assert.equal(b.limit, '6');
    assert.equal(b.reserve, '2');
    assert.equal(b.max, '4');
    // the slow ones are served, and then there is room again, for the idle clients too
    for (const c of slow) await c.until(() => splitResponses(c.text).length === 1, 3000, 'slow answer');
    assert.deepEqual(
      slow.map((c) => splitResponses(c.text)[0]?.status),
      [200, 200],
    );
    for (const c of idle) {
      c.send(GET('/again'));
      await c.until(() => splitResponses(c.text).length === 2, 3000, 'second answer');
    }
    await eventually(async () => (await buffers()).used === '0', 2000, 'every buffer given back');
    const info = parseInfo(await p.cli('show info'));
    assert.equal(Number(info.get('PoolFailed')) - failedBefore, 1, 'one refusal counted');
    assert.equal(info.get('PoolUsed_bytes'), '0');
    for (const c of slow) c.close();
    refused.destroy();
  } finally {
    for (const c of idle) c.close();
  }
});

test('TCP: two sessions fill the budget; a third connection is closed at once, logged RC; a new one is served once one ended', async () => {
  // no good clients beside this one: their HTTP transactions would take the buffers it counts
  {
    const from = p.logs.length;
    const open = async (): Promise<net.Socket> => {
      const s = net.connect(p.port('tcp'), '127.0.0.1');
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      return s;
    };
    // bounded: a refused or stalled connection answers '' within 2 s instead of hanging the test
    const roundTrip = (s: net.Socket, msg: string): Promise<string> =>
      new Promise((resolve) => {
        const t = setTimeout(() => resolve(''), 2000);
        s.once('data', (d) => {
          clearTimeout(t);
          resolve(d.toString());
        });
        s.once('close', () => {
          clearTimeout(t);
          resolve('');
        });
        s.write(msg);
      });
    const a = await open();
    const b = await open();
    try {
      assert.equal(await roundTrip(a, 'a'), 'a');
      assert.equal(await roundTrip(b, 'b'), 'b');
      const c = await open();
      const port = c.localPort as number;
      const ended = await new Promise<string>((resolve) => {
        c.once('close', () => resolve('closed'));
        c.once('data', () => resolve('data'));
        setTimeout(() => resolve('still open'), 2000);
      });
      assert.equal(ended, 'closed');
      const line = await logFrom(p, 'tcp', port, from);
      assert.equal(tcpTermination(line), 'RC', line);
      a.destroy();
      await eventually(async () => (await buffers()).used !== '4', 2000, 'the ended session gave its buffers back');
      const d = await open();
      assert.equal(await roundTrip(d, 'd'), 'd');
      d.destroy();
    } finally {
      a.destroy();
      b.destroy();
    }
    await noSessionLeft(p, 'tcp');
    await eventually(async () => (await buffers()).used === '0', 2000, 'every buffer given back');
  }
});
