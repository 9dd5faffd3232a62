/**
 * TCP relay cost: switchyard against HAProxy (Debian) and the floor of a Node relay (bench/node-relay.ts),
 * interleaved in the same run, same config.
 * Run by `npm run bench` (bench/run.ts), or alone: `node bench/tcp-relay.ts [--quick]`.
 * Each round opens CONNS short connections (connect, 64-byte request, 64-byte echo, close) through
 * the proxy with CONCURRENCY in flight, and a throughput phase that streams STREAM_MB through one
 * connection. Reported per target: connections/s, proxy CPU µs per connection (utime+stime of
 * every thread, from /proc/PID/stat deltas), stream MB/s and CPU ms per 100 MB; median of ROUNDS.
 *
 *   node bench/tcp-relay.ts [--quick]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CONCURRENCY = 50;
let ROUNDS = 3;
let CONNS = 10000;
let STREAM_MB = 1000;
const ROOT = new URL('../', import.meta.url).pathname;
const CLK_TCK = 100;

export interface TargetResult {
  readonly name: string;
  readonly connPerSec: number;
  readonly cpuUsPerConn: number;
  readonly streamMBps: number;
  readonly cpuMsPer100MB: number;
  readonly ratioToHaproxy: number | null;
}

export interface RelayReport {
  readonly date: string;
  readonly machine: string;
  readonly conns: number;
  readonly streamMB: number;
  readonly rounds: number;
  readonly targets: TargetResult[];
  readonly skipped: string[];
  readonly markdown: string;
}

interface Target {
  readonly name: string;
  start(cfgPath: string, port: number, originPort: number): ChildProcess;
}

const RELAY = new URL('./node-relay.ts', import.meta.url).pathname;
const relay = (variant: string) => (_f: string, port: number, to: number) =>
  spawn(process.execPath, [RELAY, '--variant', variant, '--port', String(port), '--to', String(to)], { stdio: 'ignore' });

const targets: Target[] = [
  { name: 'switchyard --threads 1', start: (f) => spawn(process.execPath, [path.join(ROOT, 'bin/switchyard.js'), '-q', '-f', f, '--threads', '1'], { stdio: 'ignore' }) },
  { name: 'switchyard --threads 1 --accept reuseport', start: (f) => spawn(process.execPath, [path.join(ROOT, 'bin/switchyard.js'), '-q', '-f', f, '--threads', '1', '--accept', 'reuseport'], { stdio: 'ignore' }) },
  { name: 'switchyard --threads 2', start: (f) => spawn(process.execPath, [path.join(ROOT, 'bin/switchyard.js'), '-q', '-f', f, '--threads', '2'], { stdio: 'ignore' }) },
  { name: 'haproxy nbthread 1', start: (f) => spawn('haproxy', ['-db', '-f', f], { stdio: ['ignore', 'ignore', 'inherit'] }) },
  // the floor of a Node relay (bench/node-relay.ts): no proxy on these sockets costs less
  { name: 'floor: Node relay on net.Socket', start: relay('socket') },
  { name: 'floor: Node relay on TCP handles', start: relay('handle') },
];

function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, all threads
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${port}`);
}

function oneConnection(port: number, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let got = 0;
    c.on('connect', () => c.end(payload));
    c.on('data', (d) => (got += d.length));
    c.on('close', () => (got === payload.length ? resolve() : reject(new Error(`got ${got} bytes`))));
    c.on('error', reject);
  });
}

async function connPhase(port: number): Promise<number> {
  const payload = Buffer.alloc(64, 0x62);
  let next = 0;
  const worker = async () => {
    while (next < CONNS) {
      next++;
      await oneConnection(port, payload);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return performance.now() - t0;
}

function streamPhase(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const total = STREAM_MB * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x63);
    const c = net.connect(port, '127.0.0.1');
    let sent = 0;
    let got = 0;
    const t0 = performance.now();
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!c.write(chunk)) return void c.once('drain', pump);
      }
      c.end();
    };
    c.on('connect', pump);
    c.on('data', (d) => (got += d.length));
    c.on('close', () => (got === total ? resolve(performance.now() - t0) : reject(new Error(`stream got ${got}`))));
    c.on('error', reject);
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function haproxyPresent(): boolean {
  return spawnSync('haproxy', ['-v']).status === 0;
}

/** Run the relay benchmark; `quick` for a short smoke run. */
export async function runTcpRelay(quick: boolean, progress: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<RelayReport> {
  ROUNDS = quick ? 1 : 3;
  CONNS = quick ? 2000 : 10000;
  STREAM_MB = quick ? 200 : 1000;
  const skipped: string[] = [];
  const active = targets.filter((t) => {
    if (t.name.startsWith('haproxy') && !haproxyPresent()) {
      skipped.push(`${t.name}: haproxy is not installed (apt-get install -y haproxy)`);
      return false;
    }
    return true;
  });
  const origin = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end());
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
  const originPort = (origin.address() as net.AddressInfo).port;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-bench-'));
  const results = new Map<string, { cps: number[]; us: number[]; mbps: number[]; msPer100: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of active) {
      const port = await freePort();
      const cfg = path.join(dir, 'bench.cfg');
      fs.writeFileSync(
        cfg,
        `global\n    maxconn 9000\n    nbthread 1\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\nlisten relay\n    bind 127.0.0.1:${port}\n    no log\n    server o1 127.0.0.1:${originPort}\n`,
      );
      const child = t.start(cfg, port, originPort);
      try {
        await waitListening(port);
        const pid = child.pid as number;
        const c0 = cpuTicks(pid);
        const ms = await connPhase(port);
        const c1 = cpuTicks(pid);
        const sms = await streamPhase(port);
        const c2 = cpuTicks(pid);
        const r = results.get(t.name) ?? { cps: [], us: [], mbps: [], msPer100: [] };
        r.cps.push((CONNS / ms) * 1000);
        r.us.push((((c1 - c0) / CLK_TCK) * 1e6) / CONNS);
        r.mbps.push(STREAM_MB / (sms / 1000));
        r.msPer100.push((((c2 - c1) / CLK_TCK) * 1000 * 100) / STREAM_MB);
        results.set(t.name, r);
        progress(`round ${round + 1}/${ROUNDS} ${t.name}: ${Math.round((CONNS / ms) * 1000)} conn/s, ${Math.round(STREAM_MB / (sms / 1000))} MB/s`);
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGKILL');
          await exited;
        }
      }
    }
  }
  origin.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const hap = results.get('haproxy nbthread 1');
  const machine = `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Node ${process.version}`;
  const date = new Date().toISOString().slice(0, 10);
  const out: TargetResult[] = [...results].map(([name, r]) => ({
    name,
    connPerSec: Math.round(median(r.cps)),
    cpuUsPerConn: median(r.us),
    streamMBps: Math.round(median(r.mbps)),
    cpuMsPer100MB: median(r.msPer100),
    ratioToHaproxy: hap ? median(r.us) / median(hap.us) : null,
  }));
  const lines = [
    `## TCP relay — ${date}, ${machine}`,
    '',
    `${CONNS} short connections (64 B echo, ${CONCURRENCY} in flight) and one ${STREAM_MB} MB stream per round; median of ${ROUNDS} interleaved rounds. CPU is the proxy process's utime+stime over all its threads. The *floor* rows are not proxies: a Node process that gives each client connection an origin connection of its own and copies bytes both ways (bench/node-relay.ts), on \`net.Socket\` as switchyard is, and on libuv's TCP handles through Node's internal bindings (what \`net.Socket\` itself costs).`,
    '',
    '| target | conn/s | CPU µs/conn | × HAProxy CPU/conn | stream MB/s | CPU ms / 100 MB |',
    '|---|---:|---:|---:|---:|---:|',
    ...out.map((t) => `| ${t.name} | ${t.connPerSec} | ${t.cpuUsPerConn.toFixed(1)} | ${t.ratioToHaproxy === null ? 'n/a' : t.ratioToHaproxy.toFixed(2)} | ${t.streamMBps} | ${t.cpuMsPer100MB.toFixed(1)} |`),
    ...skipped.map((s) => `\nSkipped: ${s}`),
  ];
  return { date, machine, conns: CONNS, streamMB: STREAM_MB, rounds: ROUNDS, targets: out, skipped, markdown: lines.join('\n') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runTcpRelay(process.argv.includes('--quick'));
  process.stdout.write(`${r.markdown}\n`);
}
