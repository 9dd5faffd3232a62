/**
 * Listening on sockets inherited from the parent (`bind fd@N`, `stats socket fd@N`): the parent
 * opens them, passes them as file descriptors 3 and 4, and closes its own copies (systemd socket
 * activation and HAProxy's test harness do the same).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { echo, exchange } from '../helpers/origins.ts';
import { cliCommand } from '../helpers/proxy.ts';

const BIN = new URL('../../bin/switchyard.js', import.meta.url).pathname;

/** Listen, and return the listening socket's file descriptor (to pass to a child). */
async function listening(server: net.Server): Promise<{ fd: number; port: number }> {
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  return { fd: (server as unknown as { _handle: { fd: number } })._handle.fd, port: (server.address() as net.AddressInfo).port };
}

test('bind fd@3 and stats socket fd@4 accept on sockets the parent opened', async () => {
  const o = await echo();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-fd-'));
  const data = net.createServer();
  const { fd: dataFd, port } = await listening(data);
  const stats = net.createServer();
  const { fd: statsFd, port: statsPort } = await listening(stats);
  const cfg = path.join(dir, 'fd.cfg');
  fs.writeFileSync(
    cfg,
    `global\n    stats socket "fd@\${STATS_FD}" level admin\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\nlisten app\n    bind fd@3\n    server s1 127.0.0.1:${o.port}\n`,
  );
  const child = spawn(process.execPath, [BIN, '-f', cfg, '--threads', '1'], {
    stdio: ['ignore', 'pipe', 'pipe', dataFd, statsFd],
    env: { ...process.env, STATS_FD: '4' },
  });
  let err = '';
  child.stderr?.setEncoding('utf8');
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr?.on('data', (d: string) => {
        err += d;
        if (/started: /.test(err)) resolve();
      });
      child.once('exit', (c) => reject(new Error(`exited ${c}: ${err}`)));
    });
    // the parent lets go of its copies: only the proxy accepts from now on (a listening socket
    // shared by two processes would spread connections between them)
    await new Promise<void>((r) => data.close(() => r()));
    await new Promise<void>((r) => stats.close(() => r()));
    assert.match(err, new RegExp(`frontend app listening on 127\\.0\\.0\\.1:${port}`));
    const r = await exchange(port, 'through fd 3');
    assert.equal(r.data, 'through fd 3');
    assert.match(await cliCommand(statsPort, 'show info'), /^Name: switchyard/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await o.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
