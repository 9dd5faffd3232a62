/**
 * A client that pipelines many requests and reads none of the answers must not make the proxy
 * hold the answers: once what it wrote to the client is blocked (Node's write queue past its
 * high-water mark), the next pipelined request waits — its server is not even asked — until the
 * client reads. Otherwise each pipelined request with a small answer adds that answer to the
 * proxy's memory, without limit (found while bounding per-worker memory; HAProxy does not start
 * the next request of a connection while the previous response is still in its buffer).
 *
 * Measured from outside: the requests the origin received, against what the kernel can hold of
 * their responses (the client's receive queue and the proxy's send queue, from /proc/net/tcp).
 * And the server is not blamed for the client's stall: `timeout server` does not run while the
 * proxy is not reading the server because the client does not read (HAProxy: no read timeout on
 * a full buffer); `timeout client` ends it, `cD`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cleanup, type RunningProxy, startProxy } from '../helpers/proxy.ts';
import { underLoad } from './common.ts';
import { defaultAnswer, type FaultOrigin, faultOrigin, httpLogFrom, logOf, pipeline, queuedBytes, S, sleep, slowReader, splitResponses } from './harness.ts';

/** The origin's answer head (S.respond). */
const answerHead = (body: number): string => `HTTP/1.1 200 X\r\ncontent-length: ${body}\r\n\r\n`;

/**
 * What the proxy itself may hold for a client that reads nothing: its socket's write queue up to
 * the high-water mark (64 KiB, Node 26's default), the answer whose write crossed it, one server
 * read beyond it (≤ 64 KiB: libuv's read size) and one more answer in flight. Without the wait for
 * the client's DRAIN, the 1 KiB case held 17 MB.
 */
const heldBound = (body: number): number => 2 * (body + 64) + 2 * 64 * 1024 + 16 * 1024;

let p: RunningProxy;
let app: FaultOrigin;

before(async () => {
  // /b<size>/p<i>: an answer of <size> bytes; other paths (the good clients): the default answer
  app = await faultOrigin({
    request: (r) => {
      const m = /^\/b(\d+)\//.exec(r.target);
      return m ? [S.respond('x'.repeat(Number(m[1])))] : defaultAnswer(r);
    },
  });
  p = await startProxy(
    `
defaults
    mode http
    timeout connect 500ms
    timeout client 10s
    timeout server 10s
listen app
    bind 127.0.0.1:0
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
listen quick
    bind 127.0.0.1:0
    timeout client 1500ms
    timeout server 400ms
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
`,
    { threads: 1 },
  );
});

after(async () => {
  assert.equal(await cleanup(p, app), 0);
});

/** `n` pipelined requests for answers of `body` bytes, from a client that reads nothing at first. */
function requests(n: number, body: number): string {
  return pipeline(n).toString('latin1').replace(/GET \/p/g, `GET /b${body}/p`);
}

/** Wait until the origin stops receiving this flood's requests (the proxy waits for the client). */
async function settled(body: number): Promise<number> {
  const mine = () => app.requests.filter((r) => r.target.startsWith(`/b${body}/`)).length;
  let seen = -1;
  for (let i = 0; i < 40 && mine() !== seen; i++) {
    seen = mine();
    await sleep(150);
  }
  return mine();
}

for (const [n, body] of [
  [500, 64 * 1024],
  [20_000, 1024],
] as const) {
  test(`a client pipelining ${n} requests for ${body}-byte answers and reading none: the proxy stops asking the server once its writes block`, async () => {
    await underLoad({ p, fe: 'app', bgPort: p.port('app') }, async (from) => {
      const c = await slowReader(p.port('app'), requests(n, body));
      try {
        const mine = await settled(body);
        // the answers' direction: the proxy's send queue and the client's receive queue
        const q = queuedBytes(p.port('app'), c.localPort);
        const inKernel = q.sendQ + q.recvQ;
        const answered = mine * (body + answerHead(body).length);
        assert.ok(mine < n, `the origin received all ${n} requests of a client that reads nothing`);
        assert.ok(
          answered <= inKernel + heldBound(body),
          `${mine} requests reached the origin: ${answered} bytes of answers, ${inKernel} of them in the kernel, ${answered - inKernel} held by the proxy (bound ${heldBound(body)})`,
        );
        // the client reads now: every answer comes, whole, on the same connection (the client
        // keeps only the first MiB of what it reads: the rest is counted)
        c.sock.resume();
        const total = n * (body + answerHead(body).length);
        await c.until(() => c.received >= total, 20_000, `${n} responses`);
        assert.equal(c.received, total);
        const first = splitResponses(c.text.slice(0, 10 * (body + answerHead(body).length)));
        assert.equal(first.length, 10);
        assert.equal(first.findIndex((r) => r.status !== 200 || r.body.length !== body), -1);
        const log = await httpLogFrom(p, 'app', c.localPort, from);
        assert.equal(log.termination, '----', log.line);
      } finally {
        c.close();
      }
    });
  });
}

test('the client stops reading in the middle of an answer: timeout client ends it (cD), timeout server does not run meanwhile', async () => {
  await underLoad({ p, fe: 'quick', bgPort: p.port('app') }, async (from) => {
    // more requests than the read-ahead holds: the client is paused too (it was a cause of sD)
    const c = await slowReader(p.port('quick'), requests(1000, 64 * 1024));
    try {
      // the client is paused: it sees no FIN, so the proxy's log line tells the end
      const mine = () => p.logs.slice(from).filter(logOf('quick', c.localPort));
      const ended = () => mine().some((l) => !/ ---- /.test(l));
      for (let i = 0; i < 100 && !ended(); i++) await sleep(50);
      const lines = mine();
      const last = lines.at(-1) ?? '';
      assert.match(last, / cD-- /, `the last transaction ends on timeout client: ${last}`);
      assert.equal(lines.filter((l) => / sD-- /.test(l)).length, 0, lines.join('\n'));
    } finally {
      c.close();
    }
  });
});
