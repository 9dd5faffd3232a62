/**
 * Server-side faults in mode http, one per case, through the real proxy (two workers): the
 * status the client gets (or the cut), the termination state of the log line, no session left,
 * and good clients on the same proxy undisturbed meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cleanup, type RunningProxy, startProxy } from '../helpers/proxy.ts';
import { underLoad } from './common.ts';
import { FaultClient, type FaultOrigin, faultOrigin, GET, httpLogFrom, refusingPort, S, sleep, splitResponses } from './harness.ts';

let p: RunningProxy;
const o: Record<string, FaultOrigin> = {};
const PARTIAL = 'HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nhello';

before(async () => {
  o.good = await faultOrigin();
  o.acceptRst = await faultOrigin({ accept: () => [S.delay(30), S.rst()] });
  o.slow = await faultOrigin({ request: () => [S.delay(600), S.respond('late')] });
  o.slowOk = await faultOrigin({ request: () => [S.delay(150), S.respond('late but in time')] });
  o.hang = await faultOrigin({ request: () => [S.hang()] });
  o.garbage = await faultOrigin({ request: () => [S.write('\x00\x13garbage, not HTTP\r\n\r\n')] });
  o.partialHead = await faultOrigin({ request: () => [S.write('HTTP/1.1 200 OK\r\ncontent-'), S.delay(30), S.fin()] });
  o.partialFin = await faultOrigin({ request: () => [S.write(PARTIAL), S.delay(30), S.fin()] });
  o.partialRst = await faultOrigin({ request: () => [S.write(PARTIAL), S.delay(30), S.rst()] });
  o.finBefore = await faultOrigin({ request: () => [S.fin()] });
  o.finAfter = await faultOrigin({ request: (r) => [S.respond(`answer conn=${r.conn}`), S.fin()] });
  o.idleClose = await faultOrigin({ request: (r) => [S.respond(`answer conn=${r.conn}`), S.idleClose(100)] });
  const refused = await refusingPort();
  const listen = (name: string, port: number, ...lines: string[]) =>
    [`listen ${name}`, '    bind 127.0.0.1:0', ...lines.map((l) => `    ${l}`), `    server s1 127.0.0.1:${port} pool-purge-delay 300ms`].join('\n');
  p = await startProxy(
    `
global
    maxconn 1000
defaults
    mode http
    retries 0
    timeout connect 500ms
    timeout client 3s
    timeout server 3s
    timeout http-keep-alive 1s
${listen('good', o.good.port)}
${listen('acceptrst', o.acceptRst.port)}
${listen('refused', refused)}
${listen('slow', o.slow.port, 'timeout server 300ms')}
${listen('slowok', o.slowOk.port, 'timeout server 1s')}
${listen('hang', o.hang.port, 'timeout server 300ms')}
${listen('garbage', o.garbage.port)}
${listen('partialhead', o.partialHead.port)}
${listen('partialfin', o.partialFin.port)}
${listen('partialrst', o.partialRst.port)}
${listen('finbefore', o.finBefore.port)}
${listen('finafter', o.finAfter.port)}
${listen('idleclose', o.idleClose.port, 'http-reuse always')}
`,
    { threads: 2 },
  );
});

after(async () => {
  assert.equal(await cleanup(p, ...Object.values(o)), 0);
});

/** One GET on its own connection through `fe`: the client (closed or not) once an answer or the close came. */
async function oneRequest(fe: string, path = '/'): Promise<FaultClient> {
  const c = await FaultClient.connect(p.port(fe));
  c.send(GET(path));
  await c.until(() => c.ended || splitResponses(c.text).length > 0, 5000, `an answer through ${fe}`);
  return c;
}

/** A case whose client gets a generated answer `status` and whose log line says `term`. */
function generated(fe: string, status: number, term: string, bodyRe: RegExp) {
  return async () => {
    await underLoad({ p, fe, bgPort: p.port('good') }, async (from) => {
      const c = await oneRequest(fe);
      try {
        const [r] = splitResponses(c.text);
        assert.equal(r?.status, status);
        assert.match(r?.body ?? '', bodyRe);
        const log = await httpLogFrom(p, fe, c.localPort, from);
        assert.equal(log.status, status, log.line);
        assert.equal(log.termination, term, log.line);
      } finally {
        c.close();
      }
    });
  };
}

test('accept then RST (before any answer): 502, SH--', generated('acceptrst', 502, 'SH--', /invalid or incomplete response/));

test('refused (closed port, retries 0): 503, SC--', generated('refused', 503, 'SC--', /No server is available/));

test('delay past timeout server: 504, sH--', generated('slow', 504, 'sH--', /didn't respond in time/));

test('never answers: 504 at timeout server, sH--', generated('hang', 504, 'sH--', /didn't respond in time/));

test('garbage instead of a response: 502, PH--', generated('garbage', 502, 'PH--', /invalid or incomplete response/));

test('partial response head then FIN: 502, SH--', generated('partialhead', 502, 'SH--', /invalid or incomplete response/));

test('server half-closes (FIN) before answering: 502, SH--', generated('finbefore', 502, 'SH--', /invalid or incomplete response/));

test('delay shorter than timeout server: 200, ----', async () => {
  await underLoad({ p, fe: 'slowok', bgPort: p.port('good') }, async (from) => {
    const c = await oneRequest('slowok');
    c.close();
    assert.deepEqual(splitResponses(c.text).map((r) => r.body), ['late but in time']);
    const log = await httpLogFrom(p, 'slowok', c.localPort, from);
    assert.equal(log.status, 200);
    assert.equal(log.termination, '----', log.line);
  });
});

for (const [fe, how] of [
  ['partialfin', 'FIN'],
  ['partialrst', 'RST'],
] as const) {
  test(`partial response body then ${how}: the client gets the head and part of the body, then the cut; SD--`, async () => {
    await underLoad({ p, fe, bgPort: p.port('good') }, async (from) => {
      const c = await FaultClient.connect(p.port(fe));
      try {
        c.send(GET('/'));
        await c.waitClosed();
        assert.match(c.text, /^HTTP\/1\.1 200 OK\r\n/);
        assert.ok(c.text.endsWith('\r\n\r\nhello'), `what came: ${JSON.stringify(c.text)}`);
        assert.equal(splitResponses(c.text).length, 0, 'the response is incomplete: 5 of 1000 bytes');
        const log = await httpLogFrom(p, fe, c.localPort, from);
        assert.equal(log.status, 200);
        assert.equal(log.termination, 'SD--', log.line);
      } finally {
        c.close();
      }
    });
  });
}

test('server half-closes (FIN) after a complete response: 200 ----, and the next request goes on a new connection', async () => {
  await underLoad({ p, fe: 'finafter', bgPort: p.port('good') }, async (from) => {
    const c = await FaultClient.connect(p.port('finafter'));
    try {
      c.send(GET('/1'));
      await c.until(() => splitResponses(c.text).length === 1, 3000, 'first answer');
      await sleep(50); // the server's FIN reaches the proxy
      c.send(GET('/2'));
      await c.until(() => splitResponses(c.text).length === 2, 3000, 'second answer');
      const rs = splitResponses(c.text);
      assert.deepEqual(
        rs.map((r) => r.status),
        [200, 200],
      );
      assert.notEqual(rs[0]?.body, rs[1]?.body, 'a new server connection for the second request');
      assert.equal(c.ended, false, 'the client connection is kept');
      const log = await httpLogFrom(p, 'finafter', c.localPort, from);
      assert.equal(log.termination, '----', log.line);
    } finally {
      c.close();
    }
    assert.equal(o.finAfter?.requests.length, 2);
  });
});

test('server closes idle keep-alive connections after 100 ms: no 502, requests after the close get new connections', async () => {
  await underLoad({ p, fe: 'idleclose', bgPort: p.port('good') }, async (from) => {
    const statuses: number[] = [];
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await oneRequest('idleclose', `/i${i}`);
      c.close();
      ports.push(c.localPort);
      statuses.push(...splitResponses(c.text).map((r) => r.status));
      await sleep(i % 2 === 0 ? 20 : 160); // sometimes before the server's close, sometimes after
    }
    assert.deepEqual(statuses, [200, 200, 200, 200]);
    for (const port of ports) assert.equal((await httpLogFrom(p, 'idleclose', port, from)).termination, '----');
    assert.ok((o.idleClose?.accepted() ?? 0) >= 2, 'the closed connections were replaced');
  });
});
