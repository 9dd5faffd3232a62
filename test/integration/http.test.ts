/**
 * HTTP mode end to end: the real proxy with two workers in front of raw-byte origins written
 * here. Keep-alive, pipelining, connection reuse per `http-reuse` mode, generated errors with
 * their termination states, WebSocket upgrade, no cross-talk under concurrency.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeWaitTo, get, httpOrigin, ok, RawClient, request } from '../helpers/http.ts';
import { closedPort, type Origin } from '../helpers/origins.ts';
import { cleanup, eventually, liveSessions, type RunningProxy, startProxy } from '../helpers/proxy.ts';

let p: RunningProxy;
/** Answers every request with its x-id (or its target) and the connection it came on. */
let app: Origin;
/** Closes idle keep-alive connections after 200 ms, as many application servers do. */
let idler: Origin;
/** Answers garbage, never, 101, or slowly, depending on the target. */
let odd: Origin;
let refused: number;

const idOf = (r: { head: string; headers: Map<string, string>; target: string }) => r.headers.get('x-id') ?? r.target;

before(async () => {
  app = await httpOrigin((r) => ok(`id=${idOf(r)} conn=${r.conn} xff=${r.headers.get('x-forwarded-for') ?? ''} body=${r.body.length}`, `x-conn: ${r.conn}\r\n`));
  idler = await httpOrigin((r, sock) => {
    if (r.nth === 1) sock.setTimeout(200, () => sock.destroy());
    return ok(`id=${idOf(r)}`);
  });
  odd = await httpOrigin((r, sock) => {
    switch (r.target) {
      case '/garbage':
        return 'HTTP/1.1 two hundred\r\n\r\n';
      case '/silent':
        return null;
      case '/close':
        return { close: true };
      case '/ws':
        sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
        sock.removeAllListeners('data');
        sock.on('data', (d: Buffer) => sock.write(Buffer.concat([Buffer.from('echo:'), d])));
        return null;
      case '/continue':
        return r.body.length === 4 ? ok(`got ${r.body.length}`) : null;
      case '/chunked':
        return 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
      case '/switch':
        return 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n';
      case '/eof-body':
        sock.end('HTTP/1.1 200 OK\r\n\r\nuntil close');
        return null;
      case '/truncated':
        sock.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort');
        return null;
      default:
        return ok('odd');
    }
  });
  refused = await closedPort();
  p = await startProxy(
    `
global
    maxconn 1000
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout http-keep-alive 2s
listen app
    bind 127.0.0.1:0
    option forwardfor
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
listen never
    bind 127.0.0.1:0
    http-reuse never
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
listen aggressive
    bind 127.0.0.1:0
    http-reuse aggressive
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
listen always
    bind 127.0.0.1:0
    http-reuse always
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
listen close
    bind 127.0.0.1:0
    option httpclose
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
listen serverclose
    bind 127.0.0.1:0
    option http-server-close
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
listen idler
    bind 127.0.0.1:0
    http-reuse always
    server s1 127.0.0.1:${idler.port} pool-purge-delay 300ms
listen odd
    bind 127.0.0.1:0
    timeout server 300ms
    timeout http-request 400ms
    retries 0
    server s1 127.0.0.1:${odd.port} pool-purge-delay 300ms
listen down
    bind 127.0.0.1:0
    retries 1
    server s1 127.0.0.1:${refused}
`,
    { threads: 2 },
  );
});

after(async () => {
  assert.equal(await cleanup(p, app, idler, odd), 0);
});

test('keep-alive: requests on one client connection share one server connection, each logged ----', async () => {
  const c = await RawClient.connect(p.port('app'));
  const seen = new Set<string>();
  for (let i = 0; i < 5; i++) {
    c.send(get('/', `x-id: ka${i}\r\n`));
    const r = await c.response();
    assert.equal(r.status, 200);
    assert.match(r.body, new RegExp(`^id=ka${i} conn=\\d+ xff=127\\.0\\.0\\.1 body=0$`));
    seen.add(r.headers.get('x-conn') as string);
  }
  c.close();
  assert.equal(seen.size, 1, 'one server connection for the five requests');
  const line = await p.waitLog(/ app app\/s1 .* "GET \/ HTTP\/1\.1"$/);
  assert.match(line, /^127\.0\.0\.1:\d+ \[[^\]]+\] app app\/s1 \d+\/\d+\/\d+\/\d+\/\d+ 200 \d+ - - ---- \d+\/\d+\/\d+\/\d+\/0 0\/0 "GET \/ HTTP\/1\.1"$/);
});

test('pipelining: ten requests in one write are answered in order', async () => {
  const c = await RawClient.connect(p.port('app'));
  c.send(Array.from({ length: 10 }, (_, i) => get('/', `x-id: p${i}\r\n`)).join(''));
  for (let i = 0; i < 10; i++) assert.match((await c.response()).body, new RegExp(`^id=p${i} `));
  c.close();
});

test('request bodies: Content-Length and chunked are forwarded whole', async () => {
  const c = await RawClient.connect(p.port('app'));
  c.send('POST /up HTTP/1.1\r\nhost: t\r\ncontent-length: 5\r\n\r\nhello');
  assert.match((await c.response()).body, /body=5$/);
  c.send('POST /up HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n');
  assert.match((await c.response()).body, /body=7$/);
  c.close();
});

/** The server connections `n` sequential client connections of one request each lead to. */
async function connsFor(fe: string, n: number): Promise<Set<string>> {
  const conns = new Set<string>();
  for (let i = 0; i < n; i++) {
    const r = await request(p.port(fe), get('/'));
    conns.add(r.headers.get('x-conn') as string);
  }
  return conns;
}

test('http-reuse safe (default): the first request of a client connection never takes an idle connection', async () => {
  assert.equal((await connsFor('app', 6)).size, 6);
});

test('http-reuse always: sequential clients share idle connections (at most one per worker)', async () => {
  const conns = await connsFor('always', 8);
  assert.ok(conns.size <= 2, `${conns.size} server connections for 8 sequential clients`);
});

test('http-reuse aggressive: a first request takes only a connection that served two requests already', async () => {
  const conn = async () => (await request(p.port('aggressive'), get('/'))).headers.get('x-conn');
  // one-request clients alternate between the two workers: each worker parks a connection used once
  const usedOnce = [await conn(), await conn()];
  // more first requests: a connection used once is not proven, so none of them takes one
  for (const c of [await conn(), await conn()]) assert.ok(!usedOnce.includes(c), `conn ${c} was used once already (${usedOnce})`);
  // a client connection with two requests proves its server connection (it served two)
  const a = await RawClient.connect(p.port('aggressive'));
  a.send(get('/'));
  const first = (await a.response()).headers.get('x-conn');
  a.send(get('/'));
  assert.equal((await a.response()).headers.get('x-conn'), first, 'the session keeps its own connection');
  a.close();
  await new Promise((r) => setTimeout(r, 20));
  // of the next two one-request clients, the one on that worker takes the proven connection
  const next = [await conn(), await conn()];
  assert.ok(next.includes(first), `a first request took the proven connection ${first} (${next})`);
});

test('http-reuse never: a server connection stays with its client connection only', async () => {
  const a = await RawClient.connect(p.port('never'));
  const b = await RawClient.connect(p.port('never'));
  const conn = async (c: RawClient) => {
    c.send(get('/'));
    return (await c.response()).headers.get('x-conn');
  };
  const a1 = await conn(a);
  const b1 = await conn(b);
  assert.equal(await conn(a), a1);
  assert.equal(await conn(b), b1);
  assert.notEqual(a1, b1);
  a.close();
  b.close();
  assert.equal((await connsFor('never', 3)).size, 3);
});

test('option httpclose and http-server-close: one server connection per request', async () => {
  const c = await RawClient.connect(p.port('serverclose'));
  const conns = new Set<string>();
  for (let i = 0; i < 3; i++) {
    c.send(get('/'));
    const r = await c.response();
    conns.add(r.headers.get('x-conn') as string);
  }
  c.close();
  assert.equal(conns.size, 3, 'server-close: a new server connection each time, client kept');
  const d = await RawClient.connect(p.port('close'));
  d.send(get('/'));
  const r = await d.response();
  assert.equal(r.headers.get('connection'), 'close');
  await d.closed;
});

test('an origin closing idle connections after 200 ms: no 502 under random gaps, no CLOSE-WAIT left', async () => {
  let errors = 0;
  const clients = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect(p.port('idler'))));
  await Promise.all(
    clients.map(async (c, k) => {
      for (let i = 0; i < 12; i++) {
        await new Promise((r) => setTimeout(r, 20 + ((i * 37 + k * 53) % 260)));
        c.send(get('/', `x-id: i${k}-${i}\r\n`));
        const r = await c.response();
        if (r.status !== 200 || r.body !== `id=i${k}-${i}`) errors++;
      }
      c.close();
    }),
  );
  assert.equal(errors, 0);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await closeWaitTo(idler.port), 0, 'no proxy socket to the origin in CLOSE-WAIT');
});

test('no cross-talk: 50 concurrent clients over reused connections each get their own responses', async () => {
  const bad: string[] = [];
  await Promise.all(
    Array.from({ length: 50 }, async (_, k) => {
      const c = await RawClient.connect(p.port('always'));
      for (let i = 0; i < 6; i++) {
        c.send(get('/', `x-id: c${k}-${i}\r\n`));
        const r = await c.response();
        if (!r.body.startsWith(`id=c${k}-${i} `)) bad.push(`${k}/${i}: ${r.body}`);
      }
      c.close();
    }),
  );
  assert.deepEqual(bad, []);
});

test('chunked and close-delimited responses reach the client whole', async () => {
  const r = await request(p.port('odd'), get('/chunked'));
  assert.equal(r.body, 'hello world');
  const c = await RawClient.connect(p.port('odd'));
  c.send(get('/eof-body'));
  const e = await c.response();
  assert.equal(e.headers.get('connection'), 'close');
  await c.closed;
  assert.equal(e.body, 'until close');
});

test('an HTTP/1.0 client gets a chunked response unframed, ended by the close', async () => {
  const c = await RawClient.connect(p.port('odd'));
  c.send('GET /chunked HTTP/1.0\r\n\r\n');
  const all = await c.rest();
  assert.match(all, /^HTTP\/1\.1 200 OK\r\n/);
  assert.doesNotMatch(all, /transfer-encoding/i);
  assert.equal(all.slice(all.indexOf('\r\n\r\n') + 4), 'hello world');
});

test('Expect: 100-continue: the server\'s interim 100 reaches the client before the final answer', async () => {
  const c = await RawClient.connect(p.port('odd'));
  c.send('POST /continue HTTP/1.1\r\nhost: t\r\ncontent-length: 4\r\nexpect: 100-continue\r\n\r\n');
  const interim = await c.response();
  assert.equal(interim.status, 100);
  c.send('body');
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(r.body, 'got 4');
  c.close();
});

test('WebSocket upgrade: 101 passes through, then bytes flow both ways as a tunnel', async () => {
  const c = await RawClient.connect(p.port('odd'));
  c.send('GET /ws HTTP/1.1\r\nhost: t\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
  const r = await c.response();
  assert.equal(r.status, 101);
  assert.equal(r.headers.get('upgrade'), 'websocket');
  c.send('frame-1');
  assert.equal(await c.waitFor('echo:frame-1'), 'echo:frame-1');
  c.close();
  const line = await p.waitLog(/ odd odd\/s1 .* 101 .*"GET \/ws HTTP\/1\.1"$/);
  assert.match(line, / 101 \d+ - - ---- /, 'a tunnel the client closes with a FIN is a normal end');
  const bytes = Number(/ 101 (\d+) /.exec(line)?.[1]);
  assert.ok(bytes >= 'echo:frame-1'.length + 60, `the tunnel's bytes count in the log line (${bytes})`);
});

test('generated answers: 400 PR, 502 PH, 504 sH, 502 SH, 408 cR, 503 SC, each with HAProxy\'s body', async () => {
  const bad = await request(p.port('odd'), 'GET / HTTP/1.1\r\nhost : x\r\n\r\n');
  assert.equal(bad.status, 400);
  assert.match(bad.body, /Your browser sent an invalid request/);
  assert.match(await p.waitLog(/ odd odd\/<NOSRV> .* 400 .* PR-- .*"<BADREQ>"$/), /-1\/-1\/-1\/-1\/\d+ 400 /);

  const junk = await request(p.port('odd'), get('/garbage'));
  assert.equal(junk.status, 502);
  assert.match(junk.body, /The server returned an invalid or incomplete response/);
  await p.waitLog(/ odd odd\/s1 .* 502 .* PH-- .*"GET \/garbage HTTP\/1\.1"$/);

  const slow = await request(p.port('odd'), get('/silent'));
  assert.equal(slow.status, 504);
  await p.waitLog(/ odd odd\/s1 .* 504 .* sH-- .*"GET \/silent HTTP\/1\.1"$/);

  const empty = await request(p.port('odd'), get('/close'));
  assert.equal(empty.status, 502);
  await p.waitLog(/ odd odd\/s1 .* 502 .* SH-- .*"GET \/close HTTP\/1\.1"$/);

  const down = await request(p.port('down'), get('/'));
  assert.equal(down.status, 503);
  assert.match(down.body, /No server is available/);
  await p.waitLog(/ down down\/s1 .* 503 .* SC-- /);
});

test('a 101 that no Upgrade asked for is a broken response: 502 PH', async () => {
  const r = await request(p.port('odd'), get('/switch'));
  assert.equal(r.status, 502);
  await p.waitLog(/ odd odd\/s1 .* 502 .* PH-- .*"GET \/switch HTTP\/1\.1"$/);
});

test('timeout http-request: a slowloris client gets 408 cR although it keeps sending', async () => {
  const c = await RawClient.connect(p.port('odd'));
  const start = Date.now();
  const head = 'GET / HTTP/1.1\r\nhost: t\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  let i = 0;
  const drip = setInterval(() => {
    if (i < head.length && !c.ended) c.send(head[i++] as string);
  }, 50);
  try {
    const r = await c.response({ ms: 3000 });
    assert.equal(r.status, 408);
    const ms = Date.now() - start;
    assert.ok(ms >= 350 && ms < 1500, `408 after ${ms} ms (timeout http-request 400ms)`);
  } finally {
    clearInterval(drip);
    c.close();
  }
  await p.waitLog(/ odd odd\/<NOSRV> .* 408 .* cR-- .*"<BADREQ>"$/);
});

test('runtime API: show sess shows the transaction, show servers conn and show pools the idle connections', async () => {
  const c = await RawClient.connect(p.port('always'));
  c.send(get('/'));
  await c.response();
  const sess = (await liveSessions(p)).find((l) => l.includes(' fe=always '));
  assert.match(sess ?? '', / s1=\[INI\] http=\[req=HEAD rsp=NONE done=1\] /);
  const conn = await p.cli('show servers conn always');
  const lines = conn.trim().split('\n');
  assert.match(lines[0] as string, /^# bkname\/svname bkid\/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr\[2\]$/);
  const row = (lines[1] as string).split(' ');
  assert.equal(row[0], 'always/s1');
  assert.equal(row[5], '300', 'purge delay');
  assert.ok(Number(row[12]) >= 1, `an idle connection after the response: ${lines[1]}`);
  assert.equal(Number(row[12]), Number(row[13]) + Number(row[14]), 'idle_cur is the sum over the workers');
  assert.match(await p.cli('show pools'), /^Idle server connection pools \(one per worker\):\n {2}- worker 0: idle=\d+ parked=\d+ reused=\d+ closed_by_server=\d+ purged=\d+ refused=\d+\n/);
  assert.equal(await p.cli('show servers conn nosuch'), "Can't find backend.\n\n", 'as every reply, followed by an empty line');
  c.close();
});

test('one-request clients under http-reuse safe do not pile up idle connections beyond what was in use', async () => {
  const idle = async () => Number(((await p.cli('show servers conn app')).split('\n')[1] ?? '').split(' ')[12]);
  for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 10 }, () => request(p.port('app'), get('/'))));
  const n = await idle();
  assert.ok(n <= 20, `${n} idle connections after 50 requests, at most 10 at a time per worker`);
});

test('a server put in maintenance loses its idle connections at once', async () => {
  await request(p.port('always'), get('/'));
  const idle = async () => Number(((await p.cli('show servers conn always')).split('\n')[1] ?? '').split(' ')[12]);
  assert.ok((await idle()) >= 1, 'an idle connection is parked');
  const conns = app.sockets.size;
  assert.equal(await p.cli('set server always/s1 state maint'), '\n');
  await eventually(async () => (await idle()) === 0, 1000, 'idle connections purged');
  await eventually(() => app.sockets.size < conns, 1000, 'the origin saw them close');
  assert.equal(await p.cli('set server always/s1 state ready'), '\n');
  assert.equal((await request(p.port('always'), get('/'))).status, 200);
});

test('nothing is left: no session in show sess once clients are gone', async () => {
  await eventually(async () => (await liveSessions(p)).length === 0, 5000, 'no live session');
});
