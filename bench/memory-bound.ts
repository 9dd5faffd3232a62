/**
 * What `tune.buffers.limit` does to a worker's memory under the load it is for: many clients each
 * sending a large body to a server that reads nothing. Without a limit every session fills its
 * queues (the server socket's write queue up to its high-water mark, one read beyond it) and the
 * worker holds them all; with one, the sessions past the limit are refused and the memory held
 * stays near limit × what one buffer stands for.
 *
 *   node bench/memory-bound.ts [--clients N] [--limit L]   (default 400 clients, limit 64)
 *
 * Prints, for `--threads 1` without and with the limit: clients served / refused, the proxy's RSS
 * before and after, and the growth per served client. Loopback only; every client sends a bounded
 * body (2 MiB) and everything is closed at the end.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, rssMB, stop, waitListening } from './http.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const CLIENTS = arg('--clients', 400);
const LIMIT = arg('--limit', 64);
const BODY = 2 * 1024 * 1024;
const SETTLE_MS = 3000;

/** A server that accepts and never reads: whatever the proxy sends it stays queued. */
async function deafServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const socks = new Set<net.Socket>();
  const srv = net.createServer({ pauseOnConnect: true }, (s) => {
    socks.add(s);
    s.on('error', () => {});
    s.on('close', () => socks.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of socks) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

interface Row {
  readonly limit: string;
  readonly served: number;
  readonly refused: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
}

async function measure(limit: number, originPort: number, dir: string): Promise<Row> {
  const port = await freePort();
  const cfg = path.join(dir, `limit-${limit}.cfg`);
  fs.writeFileSync(
    cfg,
    `global
    maxconn ${CLIENTS * 2 + 100}
${limit > 0 ? `    tune.buffers.limit ${limit}\n` : ''}defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
listen app
    bind 127.0.0.1:${port}
    no log
    server s1 127.0.0.1:${originPort}
`,
  );
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/switchyard.js'), '-f', cfg, '--threads', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  try {
    await waitListening(port, child);
    await new Promise((r) => setTimeout(r, 500));
    const rssBefore = rssMB(child.pid as number);
    const body = Buffer.alloc(BODY, 0x61);
    const head = `POST /upload HTTP/1.1\r\nhost: bench\r\ncontent-length: ${BODY}\r\n\r\n`;
    let refused = 0;
    const socks: net.Socket[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.on('data', (d: Buffer) => {
        if (d.toString('latin1').startsWith('HTTP/1.1 503')) refused++;
      });
      s.write(head);
      s.write(body); // bounded: 2 MiB per client, most of it stays in the kernel or our queue
      socks.push(s);
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const rssAfter = rssMB(child.pid as number);
    for (const s of socks) s.destroy();
    return { limit: limit > 0 ? String(limit) : 'none', served: CLIENTS - refused, refused, rssBefore, rssAfter };
  } finally {
    await stop(child);
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-membound-'));
const origin = await deafServer();
try {
  const rows: Row[] = [];
  for (const limit of [0, LIMIT]) rows.push(await measure(limit, origin.port, dir));
  const lines = [
    `## tune.buffers.limit under ${CLIENTS} clients each sending ${BODY / 1048576} MiB to a server that reads nothing (switchyard --threads 1)`,
    '',
    '| tune.buffers.limit | clients served | refused (503) | RSS before MB | RSS after MB | growth per served client KB |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.limit} | ${r.served} | ${r.refused} | ${r.rssBefore.toFixed(0)} | ${r.rssAfter.toFixed(0)} | ${(((r.rssAfter - r.rssBefore) * 1024) / Math.max(r.served, 1)).toFixed(0)} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await origin.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
