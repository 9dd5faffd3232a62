/**
 * HAProxy (Debian's `haproxy`, 2.6) run beside switchyard with the same config: the reference for
 * the differential tests. CI installs it (.ci/run); a missing binary fails the test, never skips it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const HAPROXY = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';

export function haproxyAvailable(): boolean {
  return spawnSync(HAPROXY, ['-v'], { encoding: 'utf8' }).status === 0;
}

/** `haproxy -c -f FILE`: exit code and output. */
export function haproxyCheck(text: string): { code: number | null; out: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hap-check-'));
  const file = path.join(dir, 'h.cfg');
  fs.writeFileSync(file, text);
  const r = spawnSync(HAPROXY, ['-c', '-f', file], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

export interface RunningHaproxy {
  readonly child: ChildProcess;
  readonly logs: string[];
  stop(): Promise<void>;
}

/** Start `haproxy -db -f` on `text` and wait until `port` accepts connections. */
export async function startHaproxy(text: string, port: number): Promise<RunningHaproxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hap-run-'));
  const file = path.join(dir, 'h.cfg');
  fs.writeFileSync(file, text);
  const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  let buf = '';
  let err = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    logs.push(...parts);
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (err += d));
  // readiness from the kernel's socket table: a probe connection would be a session in the logs
  const deadline = Date.now() + 5000;
  while (!isListening(port)) {
    if (child.exitCode !== null) throw new Error(`haproxy exited ${child.exitCode}: ${err}`);
    if (Date.now() > deadline) throw new Error(`haproxy did not listen on ${port}: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    child,
    logs,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether something listens on 127.0.0.1:`port` (from /proc/net/tcp, state 0A = LISTEN). */
export function isListening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return fs
    .readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .some((l) => {
      const f = l.trim().split(/\s+/);
      return f[1]?.endsWith(`:${hex}`) && f[3] === '0A';
    });
}

/** A free TCP port on 127.0.0.1 (for configs both proxies must share verbatim). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The comparable part of a tcplog line: `fe be/srv bytes term retries` (timers and date vary). */
export function tcplogKey(line: string): string {
  const m = /\] (\S+) (\S+) -?\d+\/-?\d+\/\d+ (\d+) (\S\S) \d+\/\d+\/\d+\/\d+\/(\+?\d+) (\d+)\/(\d+)$/.exec(line);
  if (!m) return `(unparsed: ${line})`;
  return `${m[1]} ${m[2]} ${m[3]} ${m[4]} ${m[5]}`;
}
