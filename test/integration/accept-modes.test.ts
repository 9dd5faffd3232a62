/**
 * Both accept modes: the acceptor's handoff (the default) and `--accept reuseport` (each worker
 * listens itself). Every socket of a worker reads into one buffer shared by the thread
 * (`sharedRead`), each read copied out before anything else runs: many connections move large,
 * distinct byte streams at once, in mode tcp (echo) and mode http (uploads answered with the same
 * bytes, several per keep-alive connection), and each must get exactly its own bytes back. Then
 * how reuseport starts: it says where it listens, and a bind it cannot make stops it with the
 * reason instead of leaving workers that crash and respawn.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePort } from '../helpers/haproxy.ts';
import { httpOrigin } from '../helpers/http.ts';
import { echo, type Origin } from '../helpers/origins.ts';
import { type RunningProxy, startProxy } from '../helpers/proxy.ts';

const CLIENTS = 16;
const TCP_BYTES = 512 * 1024;
const HTTP_BODY = 96 * 1024;
const HTTP_REQUESTS = 4;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Send `data` on a new connection to `port`, half-close, and collect everything that comes back. */
function echoed(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.end(data));
    s.setTimeout(10_000, () => s.destroy(new Error('no echo within 10 s')));
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(parts)));
  });
}

/** POST `body` on `agent`'s keep-alive connections and read the answer's body. */
function posted(port: number, agent: http.Agent, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/echo', agent, headers: { 'content-length': body.length } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(parts)) : reject(new Error(`status ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

for (const accept of ['handoff', 'reuseport'] as const) {
  test(`--accept ${accept}, two workers: ${CLIENTS} connections at once each get exactly their own bytes (tcp echo and http uploads)`, async () => {
    const e: Origin = await echo();
    const o: Origin = await httpOrigin((req) =>
      Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${req.body.length}\r\n\r\n`, 'latin1'), req.body]),
    );
    // reuseport: every worker binds the same port itself, so it cannot be port 0
    const [tcpPort, httpPort] = accept === 'reuseport' ? [await freePort(), await freePort()] : [0, 0];
    let p: RunningProxy | null = null;
    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
    try {
      p = await startProxy(
        `
defaults
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    no log
listen tcp
    mode tcp
    bind 127.0.0.1:${tcpPort}
    server s1 127.0.0.1:${e.port}
listen web
    mode http
    bind 127.0.0.1:${httpPort}
    server s1 127.0.0.1:${o.port} pool-purge-delay 300ms
`,
        { threads: 2, args: ['--accept', accept] },
      );
      const proxy = p;
      const streams = Array.from({ length: CLIENTS }, () => randomBytes(TCP_BYTES));
      const back = await Promise.all(streams.map((s) => echoed(proxy.port('tcp'), s)));
      back.forEach((b, i) => {
        assert.equal(b.length, TCP_BYTES, `tcp client ${i}: every byte came back`);
        assert.equal(sha(b), sha(streams[i] as Buffer), `tcp client ${i}: its own bytes, in order`);
      });
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, i) => {
          for (let k = 0; k < HTTP_REQUESTS; k++) {
            const body = randomBytes(HTTP_BODY);
            const got = await posted(proxy.port('web'), agent, body);
            assert.equal(sha(got), sha(body), `http client ${i}, request ${k}: its own upload came back`);
          }
        }),
      );
    } finally {
      agent.destroy();
      const code = await p?.stop();
      await e.close();
      await o.close();
      assert.equal(code, 0);
    }
  });
}

const BIN = new URL('../../bin/switchyard.js', import.meta.url).pathname;

function configFile(text: string): { file: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-accept-'));
  const file = path.join(dir, 'test.cfg');
  fs.writeFileSync(file, text);
  return { file, dir };
}

test('--accept reuseport: a bind on port 0 is refused with its file:line (each worker would get its own port)', () => {
  const { file, dir } = configFile('defaults\n    mode tcp\nlisten a\n    bind 127.0.0.1:0\n    server s1 127.0.0.1:1\n');
  try {
    const r = spawnSync(process.execPath, [BIN, '-c', '-f', file, '--accept', 'reuseport'], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /test\.cfg:4: 'bind 127\.0\.0\.1:0' \(any free port\) gives each worker its own port under --accept reuseport/);
    assert.equal(spawnSync(process.execPath, [BIN, '-c', '-f', file], { encoding: 'utf8' }).status, 0, 'the same file is valid with the handoff');
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('--accept reuseport: a port another process holds stops start-up with the address and the reason', async () => {
  // a plain listener (no SO_REUSEPORT): the workers' binds fail with EADDRINUSE
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  const taken = (holder.address() as net.AddressInfo).port;
  const { file, dir } = configFile(`defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nlisten a\n    bind 127.0.0.1:${taken}\n    server s1 127.0.0.1:1\n`);
  try {
    const child = spawn(process.execPath, [BIN, '-f', file, '--threads', '2', '--accept', 'reuseport'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    clearTimeout(timer);
    assert.notEqual(code, 0, err);
    assert.notEqual(code, null, `it exits by itself: ${err}`);
    assert.match(err, new RegExp(`frontend a: cannot bind 127\\.0\\.0\\.1:${taken} \\(.*EADDRINUSE`));
    assert.doesNotMatch(err, /respawn/);
  } finally {
    holder.close();
    fs.rmSync(dir, { recursive: true });
  }
});
