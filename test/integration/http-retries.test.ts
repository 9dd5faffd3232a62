/**
 * HTTP retries end to end: the real proxy with two workers in front of scripted raw origins.
 * `retry-on` conditions (conn-failure with redispatch, empty-response, junk-response,
 * response-timeout, a status), the immediate retry after a reused connection was closed under
 * the request, and the limits: no retry once the response started, none for a request larger
 * than the retry buffer, none past `retries`. Each case checks what the client got, what the
 * origin saw, and the log line (termination state and `%rc`).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { logOf, okFor, parseHttpLog, type ScriptedOrigin, scriptedOrigin } from '../helpers/http-faults.ts';
import { get, type RawResponse, RawClient, request } from '../helpers/http.ts';
import { closedPort } from '../helpers/origins.ts';
import { cleanup, type RunningProxy, startProxy } from '../helpers/proxy.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const post = (path: string, body: Buffer | string, extra = ''): Buffer =>
  Buffer.concat([Buffer.from(`POST ${path} HTTP/1.1\r\nhost: test\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n`), Buffer.from(body)]);
/** A body whose every byte depends on its position, so that a lost, doubled or moved byte shows. */
const pattern = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => 97 + ((i * 7 + (i >> 8)) % 26)));

let p: RunningProxy;
const o: Record<string, ScriptedOrigin> = {};

before(async () => {
  o.live = await scriptedOrigin((r) => okFor('live', r));
  // closes the first connection without answering, answers afterwards
  o.empty = await scriptedOrigin((r) => (r.conn === 1 && r.nth === 1 ? { close: true } : okFor('empty', r)));
  o.emptyNoRetry = await scriptedOrigin((r) => (r.conn === 1 && r.nth === 1 ? { close: true } : okFor('empty', r)));
  o.junk = await scriptedOrigin((r, n) => (n === 1 ? 'HTTP/1.1 two hundred\r\n\r\n' : okFor('junk', r)));
  o.silent = await scriptedOrigin((r, n) => (n === 1 ? null : okFor('silent', r)));
  o.s503 = await scriptedOrigin((r, n) => (n === 1 ? 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 5\r\n\r\nbusy1' : okFor('s503', r)));
  o.always503 = await scriptedOrigin((_r, n) => `HTTP/1.1 503 Service Unavailable\r\ncontent-length: 5\r\n\r\nbusy${n}`);
  // the 2nd request of a connection finds it closed: the race of a server closing an idle connection
  o.reuse = await scriptedOrigin((r) => (r.nth === 2 ? { close: true } : okFor('reuse', r)));
  o.reuseSplit = await scriptedOrigin((r, _n, sock) => {
    // once it answered its first request, the connection is closed by the server as the next
    // request's first bytes arrive (the request head, before its body)
    if (r.nth === 1) sock.once('data', () => sock.end());
    return r.nth === 1 ? okFor('split', r) : null;
  });
  o.partial = await scriptedOrigin((_r, _n, sock) => {
    sock.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello');
    setTimeout(() => sock.destroyed || sock.resetAndDestroy(), 100);
    return null;
  });
  o.stall = await scriptedOrigin((_r, _n, sock) => {
    sock.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello');
    return null; // and nothing more
  });
  o.big = await scriptedOrigin((r) => (r.conn === 1 && r.nth === 1 ? { close: true } : okFor('big', r)));
  o.fits = await scriptedOrigin((r) => (r.conn === 1 && r.nth === 1 ? { close: true } : okFor('fits', r)));
  o.closer = await scriptedOrigin(() => ({ close: true }));
  o.rrBad = await scriptedOrigin(() => ({ close: true }));
  o.rrGood = await scriptedOrigin((r) => okFor('good', r));
  const refused = await closedPort();
  const srv = (name: string, port: number) => `    server ${name} 127.0.0.1:${port} pool-purge-delay 300ms`;
  const listen = (name: string, origin: ScriptedOrigin, ...lines: string[]) =>
    [`listen ${name}`, '    bind 127.0.0.1:0', ...lines.map((l) => `    ${l}`), srv('s1', origin.port)].join('\n');
  p = await startProxy(
    `
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout http-keep-alive 2s
listen redisp
    bind 127.0.0.1:0
    balance first
    retries 1
    option redispatch
${srv('dead', refused)}
${srv('live', o.live.port)}
${listen('empty', o.empty, 'retry-on empty-response')}
${listen('emptynoretry', o.emptyNoRetry)}
${listen('junk', o.junk, 'retry-on junk-response')}
${listen('silent', o.silent, 'retry-on response-timeout', 'timeout server 300ms')}
${listen('s503', o.s503, 'retry-on 503')}
${listen('always503', o.always503, 'retry-on 503', 'retries 1')}
${listen('reuse', o.reuse, 'http-reuse always')}
${listen('reusesplit', o.reuseSplit, 'http-reuse always')}
${listen('partial', o.partial, 'retry-on empty-response junk-response response-timeout 502', 'timeout server 1s')}
${listen('stall', o.stall, 'retry-on response-timeout', 'timeout server 300ms')}
${listen('big', o.big, 'retry-on empty-response')}
${listen('fits', o.fits, 'retry-on empty-response')}
${listen('closer', o.closer, 'retry-on empty-response', 'retries 2')}
listen rr
    bind 127.0.0.1:0
    balance roundrobin
    retries 3
    option redispatch
    retry-on empty-response
${srv('bad', o.rrBad.port)}
${srv('good', o.rrGood.port)}
`,
    { threads: 2 },
  );
});

after(async () => {
  assert.equal(await cleanup(p, ...Object.values(o)), 0);
});

/** The log line of `req` through `name`, parsed. */
async function logLine(name: string, req: string) {
  return parseHttpLog(await p.waitLog(logOf(name, req)));
}

test('conn-failure (default): the first server refuses, option redispatch sends the request to the other, logged +1', async () => {
  const t0 = Date.now();
  const r = await request(p.port('redisp'), get('/c1'));
  const ms = Date.now() - t0;
  assert.equal(r.status, 200);
  assert.match(r.body, /^live conn=\d+ nth=1 body=0$/);
  assert.ok(ms < 800, `the redispatch took ${ms} ms: it waited a turn-around`);
  assert.equal(o.live?.requests.length, 1);
  const log = await logLine('redisp', 'GET /c1');
  assert.equal(log.server, 'live');
  assert.equal(log.status, 200);
  assert.equal(log.termination, '----');
  assert.equal(log.retries, '+1');
});

test('empty-response: the first connection closes without an answer, the retry gets 200; the origin saw the request twice', async () => {
  const r = await request(p.port('empty'), get('/c2'));
  assert.equal(r.status, 200);
  assert.equal(r.body, 'empty conn=2 nth=1 body=0');
  const seen = o.empty?.requests ?? [];
  assert.deepEqual(
    seen.map((q) => `${q.method} ${q.target} ${q.conn}/${q.nth}`),
    ['GET /c2 1/1', 'GET /c2 2/1'],
  );
  const log = await logLine('empty', 'GET /c2');
  assert.deepEqual([log.status, log.termination, log.retries], [200, '----', '1']);
});

test('without retry-on empty-response (default conn-failure): the same empty answer is a 502 SH, not retried', async () => {
  const r = await request(p.port('emptynoretry'), get('/c2n'));
  assert.equal(r.status, 502);
  assert.match(r.body, /The server returned an invalid or incomplete response/);
  const log = await logLine('emptynoretry', 'GET /c2n');
  assert.deepEqual([log.status, log.termination, log.retries], [502, 'SH--', '0']);
  await sleep(100);
  assert.equal(o.emptyNoRetry?.requests.length, 1, 'the origin saw the request once');
  assert.equal(o.emptyNoRetry?.origin.accepted, 1);
});

test('junk-response: garbage first, a valid answer on the retry', async () => {
  const r = await request(p.port('junk'), get('/c3'));
  assert.equal(r.status, 200);
  assert.equal(r.body, 'junk conn=2 nth=1 body=0');
  assert.equal(o.junk?.requests.length, 2);
  const log = await logLine('junk', 'GET /c3');
  assert.deepEqual([log.status, log.termination, log.retries], [200, '----', '1']);
});

test('response-timeout: no answer within timeout server 300ms, the retry is answered', async () => {
  const t0 = Date.now();
  const r = await request(p.port('silent'), get('/c4'));
  const ms = Date.now() - t0;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'silent conn=2 nth=1 body=0');
  assert.ok(ms >= 280 && ms < 1500, `answered after ${ms} ms (one server timeout of 300 ms, then the retry)`);
  assert.equal(o.silent?.requests.length, 2);
  assert.equal(o.silent?.origin.accepted, 2, 'the retry went on a new connection');
  const log = await logLine('silent', 'GET /c4');
  assert.deepEqual([log.status, log.termination, log.retries], [200, '----', '1']);
});

test('retry-on 503: a 503 then a 200, the client gets the 200', async () => {
  const r = await request(p.port('s503'), get('/c5'));
  assert.equal(r.status, 200);
  assert.equal(r.body, 's503 conn=2 nth=1 body=0');
  assert.equal(o.s503?.requests.length, 2);
  const log = await logLine('s503', 'GET /c5');
  assert.deepEqual([log.status, log.termination, log.retries], [200, '----', '1']);
});

test('retry-on 503 with retries 1: two 503 in a row, the last one is forwarded', async () => {
  const r = await request(p.port('always503'), get('/c5b'));
  assert.equal(r.status, 503);
  assert.equal(r.body, 'busy2', "the origin's second answer, not a generated one");
  const log = await logLine('always503', 'GET /c5b');
  assert.deepEqual([log.status, log.termination, log.retries], [503, '----', '1']);
  await sleep(100);
  assert.equal(o.always503?.requests.length, 2);
});

test('http-reuse always: a POST on a reused connection the server closes is sent again at once on a new one, body intact', async () => {
  const c = await RawClient.connect(p.port('reuse'));
  try {
    c.send(get('/c6-first'));
    const first = await c.response();
    assert.equal(first.status, 200);
    assert.equal(first.body, 'reuse conn=1 nth=1 body=0');
    const body = pattern(3000);
    const t0 = Date.now();
    c.send(post('/c6', body));
    const r = await c.response();
    const ms = Date.now() - t0;
    assert.equal(r.status, 200);
    assert.equal(r.body, `reuse conn=2 nth=1 body=${body.length}`, 'answered on a fresh connection');
    assert.ok(ms < 500, `the retry took ${ms} ms: it should be immediate`);
    const seen = o.reuse?.requests ?? [];
    assert.deepEqual(
      seen.map((q) => `${q.method} ${q.target} ${q.conn}/${q.nth}`),
      ['GET /c6-first 1/1', 'POST /c6 1/2', 'POST /c6 2/1'],
      'the POST went on the reused connection, then once on a new one',
    );
    const answered = seen[2];
    assert.ok(answered?.body.equals(body), 'the origin received the body bytes intact');
    const log = await logLine('reuse', 'POST /c6');
    assert.deepEqual([log.status, log.termination], [200, '----']);
    assert.equal(log.retries, '0', 'the reuse retry does not count against retries');
  } finally {
    c.close();
  }
});

test('http-reuse always: the reused connection dies on the request head, the body sent later follows on the new connection', async () => {
  const c = await RawClient.connect(p.port('reusesplit'));
  try {
    c.send(get('/c6s-first'));
    assert.equal((await c.response()).body, 'split conn=1 nth=1 body=0');
    const body = pattern(1000);
    const full = post('/c6s', body);
    const headLen = full.length - body.length;
    c.send(full.subarray(0, headLen));
    await sleep(150);
    c.send(full.subarray(headLen));
    const r = await c.response();
    assert.equal(r.status, 200);
    assert.equal(r.body, `split conn=2 nth=1 body=${body.length}`);
    const answered = (o.reuseSplit?.requests ?? []).filter((q) => q.target === '/c6s');
    assert.equal(answered.length, 1, 'the POST reached the origin whole once');
    assert.equal(answered[0]?.conn, 2);
    assert.ok(answered[0]?.body.equals(body), 'the origin received the body bytes intact');
    const log = await logLine('reusesplit', 'POST /c6s');
    assert.deepEqual([log.status, log.termination], [200, '----']);
  } finally {
    c.close();
  }
});

test('no retry once the response started: head and 5 of 100 body bytes, then a reset → the client is cut, SD', async () => {
  const c = await RawClient.connect(p.port('partial'));
  c.send(get('/c7'));
  const got = await c.rest(3000);
  c.close();
  assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(got, /\r\ncontent-length: 100\r\n/i);
  assert.ok(got.endsWith('\r\n\r\nhello'), `the client got the head and the 5 bytes, nothing more: ${JSON.stringify(got)}`);
  const log = await logLine('partial', 'GET /c7');
  assert.deepEqual([log.status, log.termination, log.retries], [200, 'SD--', '0']);
  await sleep(100);
  assert.equal(o.partial?.requests.length, 1, 'the origin saw the request once');
  assert.equal(o.partial?.origin.accepted, 1);
});

test('no retry once the response started: head and 5 of 100 body bytes, then silence → timeout server cuts the client, sD', async () => {
  const c = await RawClient.connect(p.port('stall'));
  c.send(get('/c7t'));
  const got = await c.rest(3000);
  c.close();
  assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(got.endsWith('\r\n\r\nhello'), `the client got the head and the 5 bytes, nothing more: ${JSON.stringify(got)}`);
  const log = await logLine('stall', 'GET /c7t');
  assert.deepEqual([log.status, log.termination, log.retries], [200, 'sD--', '0']);
  await sleep(100);
  assert.equal(o.stall?.requests.length, 1, 'the origin saw the request once');
});

test('a request body larger than the 16 KiB retry buffer is not retried: 502, the origin saw it once', async () => {
  const body = pattern(20_000);
  const r = await request(p.port('big'), post('/c8', body).toString('latin1'));
  assert.equal(r.status, 502);
  const log = await logLine('big', 'POST /c8');
  assert.deepEqual([log.status, log.termination, log.retries], [502, 'SH--', '0']);
  await sleep(100);
  assert.equal(o.big?.requests.length, 1);
  assert.ok(o.big?.requests[0]?.body.equals(body), 'the one attempt carried the whole body');
  assert.equal(o.big?.origin.accepted, 1);
});

test('the same case with a body that fits the retry buffer is retried: 200, body intact', async () => {
  const body = pattern(8000);
  const r = await request(p.port('fits'), post('/c8f', body).toString('latin1'));
  assert.equal(r.status, 200);
  assert.equal(r.body, `fits conn=2 nth=1 body=${body.length}`);
  assert.equal(o.fits?.requests.length, 2);
  assert.ok(o.fits?.requests[1]?.body.equals(body), 'the retry carried the whole body');
  const log = await logLine('fits', 'POST /c8f');
  assert.deepEqual([log.status, log.termination, log.retries], [200, '----', '1']);
});

test('retries 2 against an origin that always closes: 502 after exactly 3 attempts', async () => {
  const r: RawResponse = await request(p.port('closer'), get('/c9'));
  assert.equal(r.status, 502);
  const log = await logLine('closer', 'GET /c9');
  assert.deepEqual([log.status, log.termination, log.retries], [502, 'SH--', '2']);
  await sleep(150);
  assert.equal(o.closer?.requests.length, 3, 'one attempt and two retries');
  assert.equal(o.closer?.origin.accepted, 3, 'each on its own connection');
});

test(
  'an L7 retry with option redispatch under round robin moves to the other server at once, as a connection retry does',
  async () => {
  // HAProxy's stream_choose_redispatch() decides L7 retries and connection retries alike: with
  // `option redispatch`, a non-hash algorithm and another active server, every retry redispatches.
  const n = 6;
  for (let i = 0; i < n; i++) {
    const r = await request(p.port('rr'), get(`/rr${i}`));
    assert.equal(r.status, 200, `request ${i}`);
    assert.match(r.body, /^good conn=\d+ nth=\d+ body=0$/);
  }
  const logs = await Promise.all(Array.from({ length: n }, (_, i) => logLine('rr', `GET /rr${i}`)));
  const redispatched = logs.filter((l) => l.retries.startsWith('+'));
  assert.ok(redispatched.length >= 1, 'the first pick of each worker is the first server, which closes');
  assert.deepEqual(
    logs.map((l) => `${l.server} ${l.retries}`),
    logs.map((l) => (l.retries.startsWith('+') ? 'good +1' : 'good 0')),
    'a request that met the closing server was redispatched on its first retry',
  );
  assert.equal(o.rrBad?.requests.length, redispatched.length, 'one attempt on the closing server per redispatched request');
  },
);
