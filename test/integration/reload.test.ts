/**
 * Hitless reload (SIGUSR2, and `reload` on the stats socket): the listening sockets stay, new
 * sessions go to the workers of the new configuration, the old workers finish what they carry and
 * go; a bad configuration is refused and the running one keeps serving.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { get, httpOrigin, ok, RawClient, request } from '../helpers/http.ts';
import { named, type Origin } from '../helpers/origins.ts';
import { cleanup, eventually, parseInfo, type RunningProxy, startProxy } from '../helpers/proxy.ts';

const THREADS = 2;

/** Rewrite the proxy's config file (keeping its stats socket) and send SIGUSR2; resolves when the reload is done. */
async function reloadWith(p: RunningProxy, config: string, generation: number): Promise<void> {
  fs.writeFileSync(path.join(p.dir, 'test.cfg'), withStats(p, config));
  const done = new RegExp(`reload \\(SIGUSR2\\) done: generation ${generation} running`);
  const seen = p.stderr.length;
  process.kill(p.child.pid as number, 'SIGUSR2');
  await eventually(() => p.stderr.slice(seen).some((l) => done.test(l) || /refused/.test(l)), 10_000, `reload to generation ${generation}`);
  const refused = p.stderr.slice(seen).filter((l) => /\[ALERT\]/.test(l));
  assert.deepEqual(refused, [], 'the reload was refused');
}

const withStats = (p: RunningProxy, config: string): string => `global\n    stats socket ${p.socketPath} level admin\n${config}`;

async function info(p: RunningProxy): Promise<Map<string, string>> {
  return parseInfo(await p.cli('show info'));
}

/** Worker threads listed by `show info` (one `Worker_N_sessions` line each, retiring ones included). */
async function workerLines(p: RunningProxy): Promise<string[]> {
  return [...(await info(p)).keys()].filter((k) => /^Worker_\d+_sessions$/.test(k));
}

async function waitRetired(p: RunningProxy): Promise<void> {
  await eventually(async () => (await info(p)).get('Retiring_workers') === '0' && (await workerLines(p)).length === THREADS, 10_000, 'the old workers gone');
}

const httpConfig = (servers: Origin[], extra = ''): string => `
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout http-keep-alive 10s
listen app
    bind 127.0.0.1:0
${servers.map((o, i) => `    server s${o.port} 127.0.0.1:${o.port} pool-purge-delay 300ms${i === 0 ? ' weight 1' : ''}`).join('\n')}
${extra}`;

test('five reloads under constant keep-alive and one-shot load: no failed request, no reset, new servers used, old workers gone', { timeout: 60_000 }, async () => {
  const hits = new Map<number, number>();
  const origins: Origin[] = [];
  for (let i = 0; i < 7; i++) {
    const o = await httpOrigin((_req, sock) => {
      const port = (sock.address() as net.AddressInfo).port;
      hits.set(port, (hits.get(port) ?? 0) + 1);
      return ok(`o${port}`);
    });
    origins.push(o);
  }
  const serversOf = (gen: number): Origin[] => [origins[gen - 1] as Origin, origins[gen] as Origin];
  let p: RunningProxy | undefined;
  try {
    p = await startProxy(httpConfig(serversOf(1)), { threads: THREADS });
    const port = p.port('app');
    let running = true;
    let done = 0;
    const failures: string[] = [];
    const resets: string[] = [];
    const onError = (e: NodeJS.ErrnoException): void => {
      resets.push(e.code ?? e.message);
    };
    // 20 keep-alive clients: a request as soon as the previous response is in; a response with
    // `connection: close` (an old worker finishing) ends the connection, and the client opens another
    const keepAlive = async (): Promise<void> => {
      while (running) {
        const c = await RawClient.connect(port);
        c.sock.on('error', onError);
        try {
          while (running) {
            c.send(get('/'));
            const r = await c.response();
            if (r.status !== 200) failures.push(`status ${r.status}`);
            done++;
            if (r.headers.get('connection') === 'close') {
              await c.rest();
              break;
            }
          }
        } catch (e) {
          failures.push((e as Error).message);
        } finally {
          c.close();
        }
      }
    };
    // and 4 loops of one request per connection
    const oneShot = async (): Promise<void> => {
      while (running) {
        try {
          const r = await request(port, get('/', 'connection: close\r\n'));
          if (r.status !== 200) failures.push(`one-shot status ${r.status}`);
          done++;
        } catch (e) {
          failures.push(`one-shot: ${(e as Error).message}`);
        }
      }
    };
    const load = [...Array.from({ length: 20 }, keepAlive), ...Array.from({ length: 4 }, oneShot)];
    await eventually(() => done > 200, 10_000, 'load running');
    for (let gen = 2; gen <= 6; gen++) {
      const fresh = origins[gen] as Origin; // the server this reload adds
      await reloadWith(p, httpConfig(serversOf(gen)), gen);
      const before = done;
      await eventually(() => (hits.get(fresh.port) ?? 0) > 20 && done > before + 200, 10_000, `traffic to the new server of generation ${gen}`);
    }
    await waitRetired(p);
    // the removed servers get nothing any more: every session goes to the last generation
    const removed = origins.slice(0, 5).map((o) => hits.get(o.port) ?? 0);
    const mark = done;
    await eventually(() => done > mark + 300, 10_000, 'more load');
    assert.deepEqual(origins.slice(0, 5).map((o) => hits.get(o.port) ?? 0), removed, 'a removed server still got requests');
    running = false;
    await Promise.all(load);
    assert.deepEqual(failures, [], 'failed requests');
    assert.deepEqual(resets, [], 'connection errors on the client side');
    const i = await info(p);
    assert.equal(i.get('Reloads'), '5');
    assert.equal(i.get('Generation'), '6');
    assert.equal((await workerLines(p)).length, THREADS);
    assert.ok(done > 1000, `only ${done} requests`);
  } finally {
    await cleanup(p, ...origins);
  }
});

test('a bad configuration on SIGUSR2 is refused with [ALERT] file:line, and the old one keeps serving', { timeout: 60_000 }, async () => {
  const a = await httpOrigin(() => ok('A'));
  let p: RunningProxy | undefined;
  try {
    p = await startProxy(httpConfig([a]), { threads: THREADS });
    const file = path.join(p.dir, 'test.cfg');
    const bad = withStats(p, httpConfig([a]).replace('    server s', '    srever s'));
    fs.writeFileSync(file, bad);
    const line = bad.split('\n').findIndex((l) => l.includes('srever')) + 1;
    process.kill(p.child.pid as number, 'SIGUSR2');
    const alert = await eventually(() => p?.stderr.some((l) => /refused/.test(l)) === true, 10_000, 'the refusal').then(() => p?.stderr.join('\n') ?? '');
    assert.ok(alert.includes(`[ALERT] ${file}:${line}: unknown keyword 'srever'`), alert);
    assert.match(alert, /\[ALERT\] reload \(SIGUSR2\) refused: generation 1 keeps running/);
    const r = await request(p.port('app'), get('/'));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'A');
    const i = await info(p);
    assert.equal(i.get('Reloads'), '0');
    assert.equal(i.get('Generation'), '1');
  } finally {
    await cleanup(p, a);
  }
});

test('reload on the runtime API: new binds open, removed ones close, server states carry over, a bad config answers Success=0', { timeout: 60_000 }, async () => {
  const a = await httpOrigin(() => ok('A'));
  const b = await httpOrigin(() => ok('B'));
  let p: RunningProxy | undefined;
  try {
    p = await startProxy(httpConfig([a, b]), { threads: THREADS });
    const file = path.join(p.dir, 'test.cfg');
    assert.equal(await p.cli(`set server app/s${a.port} state maint`), '\n');
    assert.equal(await p.cli(`set server app/s${b.port} weight 7`), '\n');
    const extra = `frontend extra\n    bind 127.0.0.1:0\n    default_backend app\n`;
    fs.writeFileSync(file, withStats(p, httpConfig([a, b], extra)));
    const out = await p.cli('reload');
    assert.match(out, /^Success=1\n--\n/);
    const m = /frontend extra listening on 127\.0\.0\.1:(\d+)/.exec(out);
    assert.ok(m, out);
    const extraPort = Number(m[1]);
    // the kept bind and the new one both reach the new generation; the maintenance carried over
    for (const port of [p.port('app'), extraPort]) {
      const r = await request(port, get('/'));
      assert.equal(r.body, 'B');
    }
    const state = await p.cli('show servers state app');
    assert.match(state, new RegExp(`app \\d+ s${a.port} 127\\.0\\.0\\.1 \\d+ 1 `), state);
    assert.match(state, new RegExp(`app \\d+ s${b.port} 127\\.0\\.0\\.1 2 0 7 1 `), state);
    // a bad config: refused on the socket with its alerts
    fs.writeFileSync(file, withStats(p, httpConfig([a, b], extra).replace('listen app', 'listen app\n    balance nosuchalgo')));
    const badOut = await p.cli('reload');
    assert.match(badOut, /^Success=0\n--\n/);
    assert.match(badOut, new RegExp(`\\[ALERT\\] ${file.replaceAll('.', '\\.')}:\\d+: `));
    // the bind dropped by the next config is closed
    fs.writeFileSync(file, withStats(p, httpConfig([a, b])));
    assert.match(await p.cli('reload'), /^Success=1/);
    await assert.rejects(
      new Promise((resolve, reject) => {
        const c = net.connect(extraPort, '127.0.0.1', () => {
          c.destroy();
          resolve(undefined);
        });
        c.on('error', reject);
      }),
      /ECONNREFUSED/,
    );
    const i = await info(p);
    assert.equal(i.get('Reloads'), '2');
    assert.equal(i.get('Generation'), '3');
    await waitRetired(p);
  } finally {
    await cleanup(p, a, b);
  }
});

test('a TCP session open across a reload keeps flowing to its server; new sessions go to the new one', { timeout: 60_000 }, async () => {
  const oldSrv = await named('old');
  const newSrv = await named('new');
  const tcp = (o: Origin): string => `
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
listen app
    bind 127.0.0.1:0
    server s1 127.0.0.1:${o.port}
`;
  let p: RunningProxy | undefined;
  try {
    p = await startProxy(tcp(oldSrv), { threads: THREADS });
    const port = p.port('app');
    const c = await RawClient.connect(port);
    const resets: string[] = [];
    c.sock.on('error', (e: NodeJS.ErrnoException) => resets.push(e.code ?? e.message));
    await c.waitFor('old\n');
    c.send('before\n');
    await c.waitFor('before\n');
    await reloadWith(p, tcp(newSrv), 2);
    // the old worker that carries this session is still there (the other one, idle, is gone or going)
    assert.ok(Number((await info(p)).get('Retiring_workers')) >= 1);
    for (let k = 0; k < 20; k++) {
      c.send(`after ${k}\n`);
      await c.waitFor(`after ${k}\n`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const n = await RawClient.connect(port);
    await n.waitFor('new\n');
    n.close();
    assert.equal(oldSrv.accepted, 1);
    c.sock.end();
    await c.closed;
    assert.deepEqual(resets, []);
    await waitRetired(p);
  } finally {
    await cleanup(p, oldSrv, newSrv);
  }
});
