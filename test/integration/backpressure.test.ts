/**
 * Backpressure: 1 GiB from a fast origin to a client that stops reading for a while, then reads
 * everything. The proxy must stop reading the origin instead of buffering: its RSS stays flat.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { origin } from '../helpers/origins.ts';
import { cleanup, startProxy } from '../helpers/proxy.ts';

const GiB = 1024 * 1024 * 1024;

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

test('1 GiB to a slow reader: all bytes arrive, proxy RSS stays flat', { timeout: 120_000 }, async () => {
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  const o = await origin((sock) => {
    let sent = 0;
    const pump = () => {
      while (sent < GiB) {
        sent += chunk.length;
        if (!sock.write(chunk)) return void sock.once('drain', pump);
      }
      sock.end();
    };
    pump();
  });
  const p = await startProxy(`
defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
listen app
    bind 127.0.0.1:0
    server s1 127.0.0.1:${o.port}
`);
  const pid = p.child.pid as number;
  try {
    const base = rssMiB(pid);
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssMiB(pid)), 100);
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      const c = net.connect(p.port('app'), '127.0.0.1');
      c.pause(); // a slow reader: nothing read for 2 s
      setTimeout(() => c.resume(), 2000);
      c.on('data', (d) => (received += d.length));
      c.on('end', () => {
        c.end();
        resolve();
      });
      c.on('error', reject);
    });
    clearInterval(sampler);
    assert.equal(received, GiB);
    const peak = Math.max(...samples);
    assert.ok(peak - base < 96, `proxy RSS grew from ${base.toFixed(0)} MiB to ${peak.toFixed(0)} MiB`);
  } finally {
    await cleanup(p, o);
  }
});
