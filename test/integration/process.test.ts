/** The process as an operator drives it: -c, quick mode, SIGTERM drain, worker crash, npm start. */
import assert from 'node:assert/strict';
import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { echo, exchange, named } from '../helpers/origins.ts';
import { cleanup, eventually, listenConfig, parseInfo, startProxy } from '../helpers/proxy.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = path.join(ROOT, 'bin/switchyard.js');

function check(text: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-check-'));
  const file = path.join(dir, 'bad.cfg');
  fs.writeFileSync(file, text);
  const r = spawnSync(process.execPath, [BIN, '-c', '-f', file], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true });
  return { code: r.status, out: r.stdout, err: r.stderr, file };
}

/** Wait until the child's stderr so far matches `re` (its match), or fail with what it said if it exits first. */
function stderrUntil(child: ChildProcessByStdio<null, null | Readable, Readable>, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      err += d;
      const m = re.exec(err);
      if (m) resolve(m);
    });
    child.once('exit', (c) => reject(new Error(`exited ${c}: ${err}`)));
  });
}

test('-c: a valid config exits 0, a misspelt keyword exits 1 with file:line and a suggestion', () => {
  const ok = check('defaults\n    mode tcp\nlisten a\n    bind 127.0.0.1:0\n    server s1 127.0.0.1:1\n');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /Configuration file is valid/);
  const bad = check('defaults\n    mode tcp\nbackend app\n    srever s1 127.0.0.1:1\n    timeout server 10x\n');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /bad\.cfg:4: .*'srever'.*did you mean 'server'/);
  assert.match(bad.err, /bad\.cfg:5: .*timeout server: invalid time '10x'/);
  assert.match(check('backend app\n    timeout client 1s\n    server s1 127.0.0.1:1\n').err, /\[WARNING\] .*bad\.cfg:2: 'timeout client' ignored because backend 'app' has no frontend capability/);
});

test('quick mode: --listen/--to with no file', async () => {
  const o = await named('quick');
  const child = spawn(process.execPath, [BIN, '--listen', '127.0.0.1:0', '--to', `127.0.0.1:${o.port}`, '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = Number((await stderrUntil(child, /listening on [^\s]+:(\d+)/))[1]);
    const r = await exchange(port, 'hi');
    assert.equal(r.data, 'quick\nhi');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await o.close();
  }
});

test('SIGTERM: stop accepting at once, let a live session finish, then exit 0', async () => {
  const o = await echo();
  const p = await startProxy(listenConfig(o.port));
  const port = p.port('app');
  const c = net.connect(port, '127.0.0.1');
  await new Promise((r) => c.once('connect', r));
  c.write('a');
  await new Promise((r) => c.once('data', r));
  p.child.kill('SIGTERM');
  await eventually(() => p.stderr.some((l) => /SIGTERM received/.test(l)), 2000, 'drain notice');
  // nothing listens any more
  const refused = await exchange(port, 'x', { timeoutMs: 1000 });
  assert.equal(refused.error, 'ECONNREFUSED');
  // the live session still works
  c.write('b');
  const got = await new Promise<string>((r) => c.once('data', (d) => r(d.toString())));
  assert.equal(got, 'b');
  assert.equal(p.child.exitCode, null, 'still draining while a session lives');
  c.end();
  assert.equal(await p.stop(), 0);
  await o.close();
});

test('hard-stop-after closes sessions that outlive it', async () => {
  const o = await echo();
  const p = await startProxy(listenConfig(o.port, { global: '    hard-stop-after 300ms' }));
  const c = net.connect(p.port('app'), '127.0.0.1');
  await new Promise((r) => c.once('connect', r));
  const closed = new Promise((r) => c.once('close', r));
  c.on('error', () => {});
  const t0 = Date.now();
  assert.equal(await p.stop({ leakCheck: false }), 0, 'a session outlives the stop on purpose');
  await closed;
  assert.ok(Date.now() - t0 < 3000);
  await o.close();
});

test('a worker that crashes under load is respawned within 1 s; only its sessions are lost, every later one is served', async () => {
  const o = await echo();
  const p = await startProxy(listenConfig(o.port), { threads: 2 });
  const conns: net.Socket[] = [];
  let loadDeadline = 0;
  try {
    // one long session on each worker
    const longLived = await Promise.all(
      [0, 1].map(async () => {
        const c = net.connect(p.port('app'), '127.0.0.1');
        c.on('error', () => {});
        await new Promise((r) => c.once('connect', r));
        c.write('x');
        await new Promise((r) => c.once('data', r));
        return c;
      }),
    );
    conns.push(...longLived);
    const before = parseInfo(await p.cli('show info'));
    assert.equal(before.get('Worker_0_sessions'), '1');
    assert.equal(before.get('Worker_1_sessions'), '1');
    // load: 4 clients in a loop, through the crash and after it (bounded: stopped in `finally`
    // whatever fails, and never longer than 20 s)
    loadDeadline = Date.now() + 20_000;
    const results: Array<{ at: number; ok: boolean }> = [];
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < loadDeadline) {
          const r = await exchange(p.port('app'), 'load', { timeoutMs: 2000 });
          results.push({ at: Date.now(), ok: r.data === 'load' });
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await p.cli('debug dev crash-worker 0');
    await eventually(() => p.stderr.some((l) => /worker 0 respawned/.test(l)), 2000, 'respawn');
    const respawnedAt = Date.now();
    assert.ok(respawnedAt - t0 < 1500, `respawned after ${respawnedAt - t0} ms`);
    await new Promise((r) => setTimeout(r, 500));
    loadDeadline = 0;
    await load;
    const failed = results.filter((r) => !r.ok);
    // a client whose session died reconnects at once, and until the acceptor hears of the death
    // (a few ms) its new connection may go to the dead worker too: failures are bounded by the
    // sessions the acceptor counts as lost with the worker (checked below), not by the 4 clients
    // (a connection lost in the handoff to the dying worker fails by the client's own 2 s timeout)
    assert.ok(failed.every((r) => r.at <= respawnedAt + 2100), 'no session fails that began after the respawn');
    const after = results.filter((r) => r.at > respawnedAt + 50);
    assert.ok(after.length > 10 && after.every((r) => r.ok), 'every session after the respawn is served');
    // the session on worker 1 is untouched
    const alive = await Promise.all(
      conns.map(
        (c) =>
          new Promise<boolean>((resolve) => {
            if (c.destroyed) return resolve(false);
            c.write('y');
            c.once('data', () => resolve(true));
            c.once('close', () => resolve(false));
            setTimeout(() => resolve(false), 1000);
          }),
      ),
    );
    assert.deepEqual(alive.filter(Boolean).length, 1, 'exactly the sessions of the crashed worker were lost');
    for (let i = 0; i < 10; i++) assert.equal((await exchange(p.port('app'), 'z')).data, 'z');
    const info = parseInfo(await p.cli('show info'));
    // an upper bound: sessions handed to the worker whose `closed` ack had not reached the acceptor
    const lost = Number(info.get('Lost_sessions'));
    assert.ok(lost >= 1, 'at least the long session of the crashed worker');
    // every failed load session was one of the crashed worker's (the long one is lost too)
    assert.ok(failed.length <= lost - 1, `${failed.length} load sessions failed, ${lost} sessions lost with the worker`);
    assert.equal(info.get('Worker_restarts'), '1');
  } finally {
    loadDeadline = 0;
    for (const c of conns) c.destroy();
    await cleanup(p, o);
  }
});

test('npm start: the quickstart answers curl-style on :8080', async () => {
  const child = spawn(process.execPath, [path.join(ROOT, 'src/cli/quickstart.ts'), '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await stderrUntil(child, /started: /);
    const r = await exchange(8080, 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', { end: false, timeoutMs: 500 });
    assert.match(r.data, /^HTTP\/1\.1 200 OK\r\n[\s\S]*Hello from switchyard demo backend demo[12]/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});

test('log-format: a custom line from HAProxy variables; an unknown variable fails -c with file:line', async () => {
  const o = await echo();
  const p = await startProxy(listenConfig(o.port, { listen: '    log-format "%ci %fi:%fp %ft %b/%s %ts %U/%B [%Tw/%Tc/%Tt]"' }));
  try {
    await exchange(p.port('app'), 'hello');
    // %fi:%fp is read from the client socket before it closes (the line is written after)
    assert.match(await p.waitLog(/ app app\/s1 /), new RegExp(`^127\\.0\\.0\\.1 127\\.0\\.0\\.1:${p.port('app')} app app\\/s1 -- 5\\/5 \\[\\d+\\/\\d+\\/\\d+\\]$`));
  } finally {
    await cleanup(p, o);
  }
  const bad = check('listen a\n    bind 127.0.0.1:1\n    log-format "%ci %nope"\n    server s 127.0.0.1:2\n');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /bad\.cfg:3: log-format: unknown variable '%nope'/);
});

/** Start quick mode with `env`, wait for its started notice, stop it. */
async function startOnce(env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(process.execPath, [BIN, '--listen', '127.0.0.1:0', '--to', '127.0.0.1:1', '--threads', '1'], { stdio: ['ignore', 'ignore', 'pipe'], env });
  try {
    await stderrUntil(child, /switchyard .* started/);
  } finally {
    child.kill('SIGKILL'); // no exit handler runs: what is cached was flushed at start-up
    await new Promise((r) => child.once('exit', r));
  }
}

const cacheFiles = (dir: string): string[] =>
  fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => fs.statSync(path.join(dir, f)).isFile()) : [];

test('compile cache: the worker thread fills it at start-up, a second start adds nothing, NODE_DISABLE_COMPILE_CACHE turns it off', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-cc-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_COMPILE_CACHE: dir };
    delete env.NODE_DISABLE_COMPILE_CACHE;
    await startOnce(env);
    const first = cacheFiles(dir);
    assert.ok(first.length > 0, 'nothing cached');
    // the worker's own entry point is there: the cache reached the worker thread and it flushed
    const workerSource = 'A socket handed over by the acceptor arrives as the';
    assert.ok(
      first.some((f) => fs.readFileSync(path.join(dir, f)).includes(workerSource)),
      'workers/connection-worker.ts is not in the cache',
    );
    await startOnce(env);
    assert.deepEqual(cacheFiles(dir).sort(), [...first].sort(), 'the second start compiled something again');
    const off = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-cc-off-'));
    await startOnce({ ...env, NODE_COMPILE_CACHE: off, NODE_DISABLE_COMPILE_CACHE: '1' });
    assert.deepEqual(cacheFiles(off), []);
    fs.rmSync(off, { recursive: true, force: true });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
