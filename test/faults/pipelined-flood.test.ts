/**
 * Pipelined flood: 1,000 requests in one write on one connection (five such connections at once)
 * get their 1,000 responses, in order, while good clients go on beside them. The proxy reads
 * ahead only the read its first request came in: the rest of a flood must wait in the kernel, not
 * in the proxy's memory. That is measured from the kernel's side (/proc/net/tcp: what the client
 * sent that the proxy has not read) while the first request of each flood is held 600 ms by the
 * origin, and coarsely by the proxy's RSS.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cleanup, type RunningProxy, startProxy } from '../helpers/proxy.ts';
import { underLoad } from './common.ts';
import { FaultClient, type FaultOrigin, faultOrigin, httpLogFrom, pipeline, queuedBytes, rssKiB, S, sleep, splitResponses } from './harness.ts';

const N = 1000;
const SIZE = 400; // bytes per request: 400 kB per flood, far more than one read
const FLOODS = 5;
/**
 * What the proxy may have taken off a flooded connection while its first request waits, whatever
 * the size of the flood: the one read its first request came in (libuv reads up to 64 KiB at a
 * time). Once a request is in progress the client is not read any more (src/core/http-session.ts,
 * `hold`), as HAProxy takes at most its 16 KiB buffer. (Measured: 65,536 bytes every run; before
 * the client was paused during read-ahead, 128–189 KiB.)
 */
const READ_AHEAD_BOUND = 64 * 1024;

let p: RunningProxy;
let app: FaultOrigin;

before(async () => {
  app = await faultOrigin({
    request: (r) => [...(r.target === '/p0' ? [S.delay(600)] : []), S.respond(`id=${r.headers.get('x-id') ?? r.target} conn=${r.conn}`)],
  });
  p = await startProxy(
    `
global
    maxconn 1000
defaults
    mode http
    timeout connect 500ms
    timeout client 5s
    timeout server 5s
    timeout http-keep-alive 1s
listen app
    bind 127.0.0.1:0
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
`,
    { threads: 2 },
  );
});

after(async () => {
  assert.equal(await cleanup(p, app), 0);
});

test(`${FLOODS} connections each pipeline ${N} requests in one write: ${N} responses each, in order; read-ahead bounded`, async () => {
  await underLoad({ p, fe: 'app', bgPort: p.port('app') }, async (from) => {
    const pid = p.child.pid as number;
    const rss0 = rssKiB(pid);
    const flood = pipeline(N, SIZE);
    assert.equal(flood.length, N * SIZE);
    const clients = await Promise.all(Array.from({ length: FLOODS }, () => FaultClient.connect(p.port('app'))));
    try {
      await floods(clients, flood, pid, rss0, from);
    } finally {
      for (const c of clients) c.close();
    }
  });
});

async function floods(clients: FaultClient[], flood: Buffer, pid: number, rss0: number, from: number): Promise<void> {
  for (const c of clients) c.send(flood);
  await sleep(300); // the first request of each flood is held 600 ms at the origin
  const taken: number[] = [];
  for (const c of clients) {
    const q = queuedBytes(c.localPort, p.port('app'));
    const notRead = c.sock.writableLength + q.sendQ + q.recvQ;
    const t = flood.length - notRead;
    taken.push(t);
    assert.ok(t <= READ_AHEAD_BOUND, `the proxy took ${t} bytes of a flood whose first request is still waiting (bound ${READ_AHEAD_BOUND})`);
    assert.ok(t >= SIZE, 'the proxy read the first request');
  }
  const rssHeld = rssKiB(pid);
  await Promise.all(clients.map((c) => c.until(() => c.text.split('HTTP/1.1 200 ').length - 1 === N, 15_000, `${N} responses`)));
  for (const c of clients) {
    const rs = splitResponses(c.text);
    assert.equal(rs.length, N);
    const outOfOrder = rs.findIndex((r, i) => r.status !== 200 || !r.body.startsWith(`id=${i} `));
    assert.equal(outOfOrder, -1, `response ${outOfOrder}: ${JSON.stringify(rs[outOfOrder])}`);
    assert.equal(c.ended, false, 'the connection is kept');
    const log = await httpLogFrom(p, 'app', c.localPort, from);
    assert.equal(log.termination, '----', log.line);
  }
  const rss1 = rssKiB(pid);
  // All floods together are 2 MB; a proxy that read them whole would hold them (twice, with the
  // concatenations of its read-ahead). The bound leaves room for the GC's own swings (tens of MB
  // in a Node process) and catches only growth beyond what bounded buffers explain.
  assert.ok(rssHeld - rss0 < 48 * 1024, `RSS grew by ${rssHeld - rss0} KiB while the floods were held`);
  assert.ok(rss1 - rss0 < 64 * 1024, `RSS grew by ${rss1 - rss0} KiB over the floods`);
  if (process.env.FAULT_DEBUG) console.error(`rss ${rss0} -> ${rssHeld} -> ${rss1} KiB; taken ${taken.join(' ')}`);
}
