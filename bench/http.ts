/**
 * HTTP proxying cost: switchyard `mode http` against HAProxy 2.6 and nginx (Debian),
 * node-http-proxy and @fastify/http-proxy, with the origin alone as the baseline, interleaved in the
 * same run (A B C A B C…, median of ROUNDS).
 * Run by `npm run bench` (bench/run.ts), or alone: `node bench/http.ts [--quick]`.
 *
 * The origin is a raw `net` server in its own process (canned `HTTP/1.1 200` keep-alive answers with
 * a Content-Length: an 18-byte body on `/`, a 16 KiB body on `/16k`). Each round starts every target
 * afresh with the same HAProxy-format config (`defaults mode http`, one `listen`, one `server`,
 * default `http-reuse safe`; nginx gets the equivalent nginx.conf, see `nginxConfig`), warms it
 * up, then runs the scenarios: autocannon keep-alive with 50 connections on the small and the 16 KiB
 * body and with 10 pipelined requests per connection, and wrk with `Connection: close` (a new client
 * connection per request). Per target and scenario: req/s, p50/p99 latency, the proxy's CPU µs per
 * request (utime+stime of all its threads and processes — nginx is a master and its workers — from
 * /proc/PID/stat deltas over the run), its RSS at the end of the run (summed over its processes), the
 * origin's CPU µs per request, and every error seen (non-2xx, socket errors).
 *
 * After the rounds, once per target (not per round: it takes seconds per target and memory is not
 * what varies between rounds): IDLE_CLIENTS idle keep-alive client connections (10,000; 2,000 with
 * --quick), each sends one request and reads its answer, then stays open; the proxy's RSS before and
 * after gives KB per idle connection. Capped by the file-descriptor limit (HAProxy counts two per
 * connection: client and server side).
 *
 *   node bench/http.ts [--quick] [--json FILE]  the benchmark alone; prints the markdown
 *   node bench/http.ts --targets switchyard-1,haproxy-1   only those targets (kind-threads, comma-separated:
 *                                          direct-1 switchyard-1 switchyard-2 switchyard-2-reuseport haproxy-1 haproxy-2 nginx-1
 *                                          nginx-2 node-http-proxy-1 fastify-1 node-relay-1 node-relay-handle-1)
 *   node bench/http.ts --scenarios ka-pipe10,idle   only those scenarios (ids below, `idle` for the idle clients)
 *   node bench/http.ts --idle-clients N    that many idle clients instead of 10,000 (2,000 with --quick)
 *   node bench/http.ts --base DIR --targets base-1,switchyard-1,haproxy-1   A/B: also the switchyard of checkout DIR
 *   node bench/http.ts --profile [--quick] [--scenario ka-small|ka-small-fixed|ka-16k|ka-pipe10|close-small]
 *                                          `--cpu-prof` of switchyard --threads 1 under that load,
 *                                          summarised by top self-time functions per thread
 *   node bench/http.ts --role origin --port P
 *   node bench/http.ts --role node-http-proxy --port P --to O
 *   node bench/http.ts --role fastify-http-proxy --port P --to O
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type autocannonT from 'autocannon';

const CONNECTIONS = 50;
const ROOT = new URL('../', import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;
const RELAY = new URL('./node-relay.ts', import.meta.url).pathname;
const CLK_TCK = 100;
const SMALL_BODY = Buffer.from('hello, switchyard\n');
const BIG_BODY = Buffer.alloc(16 * 1024, 0x78);

type Autocannon = typeof autocannonT;

export type Loader = 'autocannon' | 'wrk';

interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly loader: Loader;
  readonly path: string;
  /** Requests per second over all connections; unset: as fast as the target answers. */
  readonly rate?: number;
  /** Requests in flight per connection (autocannon `pipelining`); unset: 1. */
  readonly pipelining?: number;
}

/** The fixed-rate scenario's rate: low enough for every target, so CPU/req is compared at the same load. */
const FIXED_RATE = 2000;

const scenarios: readonly Scenario[] = [
  { id: 'ka-small', title: `keep-alive, ${CONNECTIONS} connections, ${SMALL_BODY.length} B body (autocannon)`, loader: 'autocannon', path: '/' },
  {
    id: 'ka-small-fixed',
    title: `keep-alive, ${CONNECTIONS} connections, ${SMALL_BODY.length} B body, fixed ${FIXED_RATE} req/s (autocannon)`,
    loader: 'autocannon',
    path: '/',
    rate: FIXED_RATE,
  },
  { id: 'ka-16k', title: `keep-alive, ${CONNECTIONS} connections, 16 KiB body (autocannon)`, loader: 'autocannon', path: '/16k' },
  {
    id: 'ka-pipe10',
    title: `keep-alive, ${CONNECTIONS} connections, 10 pipelined requests per connection, ${SMALL_BODY.length} B body (autocannon)`,
    loader: 'autocannon',
    path: '/',
    pipelining: 10,
  },
  {
    id: 'close-small',
    title: `new connection per request (\`Connection: close\`), ${CONNECTIONS} connections, ${SMALL_BODY.length} B body (wrk)`,
    loader: 'wrk',
    path: '/',
  },
];

type Kind = 'direct' | 'switchyard' | 'haproxy' | 'nginx' | 'node-http-proxy' | 'fastify' | 'node-relay' | 'node-relay-handle';

interface Target {
  readonly name: string;
  readonly kind: Kind;
  readonly threads: number;
  /** switchyard with `--accept reuseport` (each worker listens itself) instead of the acceptor's handoff. */
  readonly reusePort?: boolean;
  /** Another checkout of switchyard to run instead of this one (an A/B comparison in the same run). */
  readonly root?: string;
}

/** `--base DIR`: also run the switchyard of checkout DIR (`--threads 1`), as target `base-1`. */
const BASE_ROOT = process.argv.includes('--base') ? process.argv[process.argv.indexOf('--base') + 1] : undefined;

const targets: readonly Target[] = [
  ...(BASE_ROOT ? [{ name: `switchyard ${path.basename(BASE_ROOT)} --threads 1`, kind: 'switchyard' as const, threads: 1, root: BASE_ROOT }] : []),
  { name: 'origin direct', kind: 'direct', threads: 1 },
  { name: 'switchyard --threads 1', kind: 'switchyard', threads: 1 },
  { name: 'switchyard --threads 2', kind: 'switchyard', threads: 2 },
  { name: 'switchyard --threads 2 --accept reuseport', kind: 'switchyard', threads: 2, reusePort: true },
  { name: 'haproxy nbthread 1', kind: 'haproxy', threads: 1 },
  { name: 'haproxy nbthread 2', kind: 'haproxy', threads: 2 },
  { name: 'nginx 1 worker', kind: 'nginx', threads: 1 },
  { name: 'nginx 2 workers', kind: 'nginx', threads: 2 },
  { name: 'node-http-proxy', kind: 'node-http-proxy', threads: 1 },
  { name: '@fastify/http-proxy', kind: 'fastify', threads: 1 },
  // the floor of a Node proxy (bench/node-relay.ts): bytes copied between a client connection and
  // one origin connection of its own, no HTTP at all
  { name: 'floor: Node relay on net.Socket, no HTTP', kind: 'node-relay', threads: 1 },
  { name: 'floor: Node relay on TCP handles, no HTTP', kind: 'node-relay-handle', threads: 1 },
];

/** A target's name on the command line (`--targets`): kind-threads, `base-1` for `--base`. */
const targetId = (t: Target): string => (t.root ? `base-${t.threads}` : `${t.kind}-${t.threads}${t.reusePort ? '-reuseport' : ''}`);

/** Idle keep-alive clients per target in a full run; `--quick` opens IDLE_CLIENTS_QUICK. */
const IDLE_CLIENTS = 10_000;
const IDLE_CLIENTS_QUICK = 2_000;
/** Keep-alive timeout of every target, long enough for all idle clients to be open at once. */
const KEEP_ALIVE_S = 30;

/** One load run's figures, as measured. */
interface Run {
  readonly requests: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: Record<string, number>;
}

export interface HttpRow {
  readonly target: string;
  readonly scenario: string;
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** null for the origin alone: there is no proxy. */
  readonly cpuUsPerReq: number | null;
  readonly rssMB: number | null;
  readonly originCpuUsPerReq: number;
  /** switchyard's (or any target's) CPU/req over HAProxy's with the same thread count. */
  readonly ratioToHaproxy: number | null;
  readonly ratioToNodeHttpProxy: number | null;
  readonly ratioToFastify: number | null;
  /** Summed over all rounds, not a median: every failed request counts. */
  readonly non2xx: number;
  readonly errors: Record<string, number>;
  readonly requestsAllRounds: number;
}

/** One target under idle keep-alive clients. */
export interface IdleRow {
  readonly target: string;
  readonly clients: number;
  /** Clients that got their answer and were still open when RSS was read. */
  readonly open: number;
  readonly rssBeforeMB: number;
  readonly rssAfterMB: number;
  readonly kbPerClient: number | null;
  /** The target's established connections to the origin while the clients are idle; null for the origin alone. */
  readonly serverConnections: number | null;
  readonly openSeconds: number;
  readonly failed: Record<string, number>;
}

export interface HttpReport {
  readonly date: string;
  readonly machine: string;
  readonly rounds: number;
  readonly secondsPerRun: number;
  readonly connections: number;
  readonly rows: HttpRow[];
  /** Idle keep-alive clients per target (the file-descriptor limit may have lowered it). */
  readonly idleClients: number;
  readonly idle: IdleRow[];
  readonly skipped: string[];
  readonly markdown: string;
}

// ───────────────────────────── helpers ─────────────────────────────

/** The fields of /proc/PID/stat after the command name (field 3, the state, is index 0); null once gone. */
function statFields(pid: number | string): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * `pid` and all its descendants, found by parent pid in /proc: HAProxy and the Node targets are one
 * process with threads, nginx is a master and its worker processes.
 */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = Number(statFields(name)?.[1]);
    if (!ppid) continue;
    const list = children.get(ppid);
    if (list) list.push(Number(name));
    else children.set(ppid, [Number(name)]);
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i] as number) ?? []));
  return out;
}

/** utime + stime of all threads of `pid` and its descendants, in clock ticks. */
function cpuTicks(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    const fields = statFields(p);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks;
}

/** VmRSS of `pid` and its descendants, summed (pages shared between nginx's processes count once per process). */
export function rssMB(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // exited meanwhile
    }
  }
  return kb / 1024;
}

/** The soft limit on open files of this process, which the targets inherit; null if unlimited or unknown. */
function openFilesLimit(): number | null {
  const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return m ? Number(m[1]) : null;
}

/** Established IPv4 TCP connections to 127.0.0.1:`port` seen from the connecting side (/proc/net/tcp). */
function connectionsTo(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[2]?.endsWith(hex) && f[3] === '01') n++;
  }
  return n;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

export async function waitListening(port: number, child: ChildProcess | null): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before listening on ${port}`);
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

/** Stop `child`, then SIGKILL any of its descendants still there (nginx's workers outlive a killed master). */
export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  // Each descendant with its start time (field 22), so a pid reused meanwhile is left alone.
  const descendants = processTree(child.pid)
    .slice(1)
    .map((pid) => ({ pid, start: statFields(pid)?.[19] }));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  for (const d of descendants) {
    if (d.start !== undefined && statFields(d.pid)?.[19] === d.start) process.kill(d.pid, 'SIGKILL');
  }
}

/** A child whose last stderr lines are kept, to show why it died. */
function spawnLogged(cmd: string, args: string[]): { child: ChildProcess; stderr: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  });
  return { child, stderr: () => tail };
}

function percentile(xs: Float64Array, p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = xs.slice().sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function present(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

function resolvable(pkg: string): boolean {
  try {
    import.meta.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

function config(port: number, originPort: number, threads: number, maxconn: number): string {
  return [
    'global',
    `    maxconn ${maxconn}`,
    `    nbthread ${threads}`,
    'defaults',
    '    mode http',
    '    timeout connect 5s',
    `    timeout client ${KEEP_ALIVE_S}s`,
    '    timeout server 30s',
    'listen web',
    `    bind 127.0.0.1:${port}`,
    '    no log',
    `    server o1 127.0.0.1:${originPort}`,
    '',
  ].join('\n');
}

/**
 * nginx as it is deployed in front of an HTTP/1.1 origin: `worker_processes N`, an `upstream` with
 * `keepalive 64` (idle connections cached per worker), `proxy_http_version 1.1` and an empty
 * Connection header so the upstream connections stay open; no access log. Run in the foreground
 * with its master (`daemon off`, `master_process on`), everything it writes under `dir`.
 * `keepalive_requests` is raised from its default 1,000 on both sides so that, like HAProxy,
 * nginx does not close a keep-alive connection after 1,000 requests in the middle of a run.
 */
function nginxConfig(dir: string, port: number, originPort: number, workers: number, maxconn: number): string {
  return [
    `worker_processes ${workers};`,
    'daemon off;',
    'master_process on;',
    `pid ${dir}/nginx.pid;`,
    'error_log stderr warn;',
    `events { worker_connections ${maxconn}; }`,
    'http {',
    '    access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${dir}/${t}_temp;`),
    `    keepalive_timeout ${KEEP_ALIVE_S}s;`,
    '    keepalive_requests 1000000;',
    '    upstream origin {',
    `        server 127.0.0.1:${originPort};`,
    '        keepalive 64;',
    '        keepalive_requests 1000000;',
    '    }',
    '    server {',
    `        listen 127.0.0.1:${port};`,
    '        location / {',
    '            proxy_pass http://origin;',
    '            proxy_http_version 1.1;',
    '            proxy_set_header Connection "";',
    '        }',
    '    }',
    '}',
    '',
  ].join('\n');
}

// ───────────────────────────── the origin, node-http-proxy and @fastify/http-proxy (child roles) ─────────────────────────────

function answer(body: Buffer, close: boolean): Buffer {
  const head = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/**
 * The origin: a raw `net` server that answers each request head (GETs only, no request bodies) with
 * a canned answer; pipelined heads in one read get their answers in one write; `Connection: close`
 * is honoured. Nothing is parsed beyond the path's first bytes and the Connection header.
 */
function runOrigin(port: number): void {
  const answers = {
    small: answer(SMALL_BODY, false),
    smallClose: answer(SMALL_BODY, true),
    big: answer(BIG_BODY, false),
    bigClose: answer(BIG_BODY, true),
  };
  const closeRe = /\r\nconnection:[ \t]*close/i;
  const server = net.createServer({ noDelay: true }, (s) => {
    let pending = '';
    let closing = false;
    s.on('data', (d: Buffer) => {
      if (closing) return;
      pending = pending.length === 0 ? d.toString('latin1') : pending + d.toString('latin1');
      let start = 0;
      let end = pending.indexOf('\r\n\r\n');
      const out: Buffer[] = [];
      while (end !== -1) {
        const sp = pending.indexOf(' ', start);
        const big = pending.startsWith('/16k', sp + 1);
        const close = closeRe.test(pending.slice(start, end + 2));
        out.push(big ? (close ? answers.bigClose : answers.big) : close ? answers.smallClose : answers.small);
        start = end + 4;
        if (close) {
          closing = true;
          break;
        }
        end = pending.indexOf('\r\n\r\n', start);
      }
      pending = start === 0 ? pending : pending.slice(start);
      if (out.length === 1) s.write(out[0] as Buffer);
      else if (out.length > 1) s.write(Buffer.concat(out));
      if (closing) s.end();
    });
    s.on('error', () => s.destroy());
  });
  server.listen(port, '127.0.0.1');
}

/**
 * node-http-proxy as it is usually deployed: one `http` server, a keep-alive `http.Agent` to the
 * origin. The server's keep-alive timeout is raised from Node's 5 s to the other targets' 30 s, so
 * the idle clients are still open when their memory is read.
 */
async function runNodeHttpProxy(port: number, to: number): Promise<void> {
  const http = await import('node:http');
  const { default: httpProxy } = await import('http-proxy');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${to}`, agent });
  proxy.on('error', (_err, _req, res) => {
    if (res instanceof http.ServerResponse && !res.headersSent) {
      res.writeHead(502);
      res.end();
    } else res.destroy();
  });
  const server = http.createServer((req, res) => proxy.web(req, res));
  server.keepAliveTimeout = KEEP_ALIVE_S * 1000;
  server.listen(port, '127.0.0.1');
}

/**
 * @fastify/http-proxy as its README deploys it: a Fastify instance (no logger, like `no log`
 * elsewhere) with the plugin registered on `/` and `upstream` the origin. It forwards through
 * @fastify/reply-from's default client, an undici `Pool` (128 connections, no pipelining, 60 s
 * keep-alive to the upstream); Fastify's own client keep-alive timeout is its default 72 s.
 */
async function runFastifyHttpProxy(port: number, to: number): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const { default: proxy } = await import('@fastify/http-proxy');
  const app = Fastify({ logger: false });
  await app.register(proxy, { upstream: `http://127.0.0.1:${to}` });
  await app.listen({ port, host: '127.0.0.1' });
}

// ───────────────────────────── load generators ─────────────────────────────

async function loadAutocannon(autocannon: Autocannon, port: number, urlPath: string, seconds: number, rate?: number, pipelining = 1): Promise<Run> {
  const errors: Record<string, number> = {};
  // autocannon's own histogram has 1 ms resolution: keep every response time to read percentiles from.
  let lat = new Float64Array(1 << 18);
  let nLat = 0;
  const result = await new Promise<autocannonT.Result>((resolve, reject) => {
    const inst = autocannon(
      {
        url: `http://127.0.0.1:${port}${urlPath}`,
        connections: CONNECTIONS,
        pipelining,
        duration: seconds,
        timeout: 10,
        ...(rate === undefined ? {} : { overallRate: rate }),
      },
      (err: Error | null, r: autocannonT.Result) => (err ? reject(err) : resolve(r)),
    );
    inst.on('response', (_client, _status, _bytes, ms) => {
      if (nLat === lat.length) {
        const grown = new Float64Array(lat.length * 2);
        grown.set(lat);
        lat = grown;
      }
      lat[nLat++] = ms;
    });
    inst.on('reqError', (e: Error & { code?: string }) => {
      const k = e.code ?? e.message;
      errors[k] = (errors[k] ?? 0) + 1;
    });
    const guard = setTimeout(() => inst.stop(), (seconds + 20) * 1000);
    inst.once('done', () => clearTimeout(guard));
  });
  if (result.timeouts > 0) errors.timeout = Math.max(errors.timeout ?? 0, result.timeouts);
  const counted = Object.values(errors).reduce((a, b) => a + b, 0);
  if (result.errors > counted) errors.other = result.errors - counted;
  if (result.mismatches > 0) errors.mismatch = result.mismatches;
  return {
    requests: result['2xx'],
    seconds: result.duration,
    p50Ms: percentile(lat.subarray(0, nLat), 50),
    p99Ms: percentile(lat.subarray(0, nLat), 99),
    non2xx: result.non2xx,
    errors,
  };
}

function wrkMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

async function loadWrk(port: number, urlPath: string, seconds: number): Promise<Run> {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${Math.max(1, Math.round(seconds))}s`, '--timeout', '10s', '--latency', '-H', 'Connection: close', `http://127.0.0.1:${port}${urlPath}`];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(guard);
  const total = /(\d+) requests in ([\d.]+)(ms|s|m)/.exec(out);
  if (code !== 0 || !total) throw new Error(`wrk failed (${code}): ${out}`);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out);
    return m ? wrkMs(m[1] as string, m[2] as string) : Number.NaN;
  };
  const errors: Record<string, number> = {};
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (sock) {
    ['connect', 'read', 'write', 'timeout'].forEach((k, i) => {
      const n = Number(sock[i + 1]);
      if (n > 0) errors[k] = n;
    });
  }
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const secs = Number(total[2]) * (total[3] === 'ms' ? 0.001 : total[3] === 'm' ? 60 : 1);
  return { requests: Number(total[1]) - non2xx, seconds: secs, p50Ms: pct('50'), p99Ms: pct('99'), non2xx, errors };
}

/** Idle keep-alive clients, once each has had its answer. */
interface IdleClients {
  readonly sockets: net.Socket[];
  /** Clients that could not get their answer (connect error, non-200, timeout), by reason. */
  readonly failed: Record<string, number>;
  readonly seconds: number;
  /** How many of `sockets` the target has closed since they got their answer. */
  closedSince(): number;
}

/**
 * Open `n` client connections to `port`, 64 at a time; each sends one GET, reads its answer (head and
 * Content-Length body) and then stays open and idle. Bounded: 10 s per client, `budgetS` in all.
 */
async function openIdleClients(port: number, n: number, budgetS: number): Promise<IdleClients> {
  const request = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'latin1');
  const sockets: net.Socket[] = [];
  const failed: Record<string, number> = {};
  let closed = 0;
  let next = 0;
  const t0 = performance.now();
  const deadline = Date.now() + budgetS * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      let got = '';
      let settled = false;
      let kept = false;
      const settle = (why: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (why === null) {
          kept = true;
          sockets.push(s);
        } else {
          failed[why] = (failed[why] ?? 0) + 1;
          s.destroy();
        }
        resolve();
      };
      const timer = setTimeout(() => settle('timeout'), 10_000);
      s.on('connect', () => s.write(request));
      s.on('data', (d: Buffer) => {
        if (settled) return;
        got += d.toString('latin1');
        const end = got.indexOf('\r\n\r\n');
        if (end === -1) return;
        const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(got.slice(0, end + 2));
        if (!length) settle('answer without Content-Length');
        else if (got.length >= end + 4 + Number(length[1])) settle(got.startsWith('HTTP/1.1 200') ? null : `status ${got.slice(9, 12)}`);
      });
      s.on('error', (e: Error & { code?: string }) => settle(e.code ?? e.message));
      s.on('close', () => {
        if (kept) closed++;
        else settle('closed before the answer');
      });
    });
  const worker = async () => {
    while (next < n && Date.now() < deadline) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  if (next < n) failed['not opened (time budget)'] = n - next;
  // `closed` counts clients closed after their answer, all of which are in `sockets`.
  return { sockets, failed, seconds: (performance.now() - t0) / 1000, closedSince: () => closed };
}

// ───────────────────────────── starting targets ─────────────────────────────

interface Started {
  readonly child: ChildProcess | null;
  readonly port: number;
  readonly stderr: () => string;
}

/** How a target is stopped: nginx's master gets SIGTERM (a fast shutdown that ends its workers). */
const stopSignal = (t: Target): NodeJS.Signals => (t.kind === 'nginx' ? 'SIGTERM' : 'SIGKILL');

function spawnTarget(t: Target, port: number, originPort: number, dir: string, maxconn: number, nodeArgs: string[]): ReturnType<typeof spawnLogged> {
  const to = ['--port', String(port), '--to', String(originPort)];
  switch (t.kind) {
    case 'direct':
      throw new Error('the origin is not spawned as a target');
    case 'switchyard':
    case 'haproxy': {
      const cfg = path.join(dir, `${t.kind}-${t.threads}.cfg`);
      fs.writeFileSync(cfg, config(port, originPort, t.threads, maxconn));
      return t.kind === 'haproxy'
        ? spawnLogged('haproxy', ['-db', '-f', cfg])
        : spawnLogged(process.execPath, [...nodeArgs, path.join(t.root ?? ROOT, 'bin/switchyard.js'), '-q', '-f', cfg, '--threads', String(t.threads), ...(t.reusePort ? ['--accept', 'reuseport'] : [])]);
    }
    case 'nginx': {
      // World-readable: run as root, nginx's workers are `nobody` and keep their temp files here.
      const prefix = fs.mkdtempSync(path.join(dir, `nginx-${t.threads}-`));
      fs.chmodSync(dir, 0o755);
      fs.chmodSync(prefix, 0o755);
      const conf = path.join(prefix, 'nginx.conf');
      fs.writeFileSync(conf, nginxConfig(prefix, port, originPort, t.threads, maxconn));
      // -e: the error log before the config is read (the compiled-in one may not be writable).
      return spawnLogged('nginx', ['-p', prefix, '-c', conf, '-e', 'stderr']);
    }
    case 'node-http-proxy':
      return spawnLogged(process.execPath, [SELF, '--role', 'node-http-proxy', ...to]);
    case 'fastify':
      return spawnLogged(process.execPath, [SELF, '--role', 'fastify-http-proxy', ...to]);
    case 'node-relay':
    case 'node-relay-handle':
      return spawnLogged(process.execPath, [RELAY, '--variant', t.kind === 'node-relay' ? 'socket' : 'handle', ...to]);
  }
}

async function startTarget(t: Target, originPort: number, dir: string, maxconn: number, nodeArgs: string[] = []): Promise<Started> {
  if (t.kind === 'direct') return { child: null, port: originPort, stderr: () => '' };
  const port = await freePort();
  const s = spawnTarget(t, port, originPort, dir, maxconn, nodeArgs);
  try {
    await waitListening(port, s.child);
  } catch (err) {
    await stop(s.child, stopSignal(t));
    throw new Error(`${t.name}: ${(err as Error).message}\n${s.stderr()}`);
  }
  return { child: s.child, port, stderr: s.stderr };
}

async function startOrigin(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const s = spawnLogged(process.execPath, [SELF, '--role', 'origin', '--port', String(port)]);
  await waitListening(port, s.child);
  return { child: s.child, port };
}

function errText(non2xx: number, errors: Record<string, number>): string {
  const parts = Object.entries(errors).map(([k, n]) => `${n} ${k}`);
  if (non2xx > 0) parts.unshift(`${non2xx} non-2xx`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

// ───────────────────────────── the benchmark ─────────────────────────────

/** Run the HTTP benchmark; `quick` for a short smoke run. */
export async function runHttp(quick: boolean, progress: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<HttpReport> {
  const rounds = quick ? 1 : 3;
  const seconds = quick ? 2 : 5; // whole seconds: wrk takes no fractions
  const warmup = quick ? 0.5 : 1;
  const date = new Date().toISOString().slice(0, 10);
  const machine = `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Node ${process.version}`;
  const skipped: string[] = [];
  const notes: string[] = [];
  const autocannon = resolvable('autocannon') ? ((await import('autocannon')).default as Autocannon) : null;
  if (!autocannon) skipped.push('keep-alive scenarios: the npm package autocannon is not installed (npm install -D autocannon)');
  const haveWrk = spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
  if (!haveWrk) skipped.push('Connection: close scenario: wrk is not installed (apt-get install -y wrk)');
  const onlyScenarios = argValue('--scenarios')?.split(',');
  const activeScenarios = scenarios.filter((s) => (!onlyScenarios || onlyScenarios.includes(s.id)) && (s.loader === 'autocannon' ? autocannon !== null : haveWrk));

  // HAProxy reserves two descriptors per connection (client and server side) and 14–17 of its own,
  // and refuses to start when they exceed the limit; a proxy may well keep a server connection per
  // idle client: maxconn and the idle clients stay within the open-files limit every target
  // inherits from this process.
  const fdLimit = openFilesLimit();
  const maxconn = Math.min(IDLE_CLIENTS + 500, fdLimit === null ? Number.POSITIVE_INFINITY : Math.floor((fdLimit - 100) / 2));
  const idleWanted = Number(argValue('--idle-clients') ?? (quick ? IDLE_CLIENTS_QUICK : IDLE_CLIENTS));
  const idleClients = Math.min(idleWanted, maxconn - 100);
  let runIdle = !onlyScenarios || onlyScenarios.includes('idle');
  if (runIdle && idleClients < 100) {
    skipped.push(`idle clients: the open-files limit (${fdLimit}, \`ulimit -n\`) leaves room for ${idleClients} idle clients only`);
    runIdle = false;
  } else if (runIdle && idleClients < idleWanted) {
    notes.push(
      `${idleClients.toLocaleString('en-US')} idle clients instead of ${idleWanted.toLocaleString('en-US')}: the open-files limit is ${fdLimit} (\`ulimit -n\`, not raised above its hard limit here) and a proxy may hold a server connection per client (HAProxy's maxconn ${maxconn} reserves two descriptors each).`,
    );
  }

  const only = argValue('--targets')?.split(',');
  const active = targets.filter((t) => {
    if (only && !only.includes(targetId(t))) return false;
    if (t.kind === 'haproxy' && !present('haproxy', ['-v'])) {
      skipped.push(`${t.name}: haproxy is not installed (apt-get install -y haproxy)`);
      return false;
    }
    if (t.kind === 'nginx' && !present('nginx', ['-v'])) {
      skipped.push(`${t.name}: nginx is not installed (apt-get install -y nginx)`);
      return false;
    }
    if (t.kind === 'node-http-proxy' && !resolvable('http-proxy')) {
      skipped.push(`${t.name}: the npm package http-proxy is not installed (npm install -D http-proxy)`);
      return false;
    }
    if (t.kind === 'fastify' && !(resolvable('fastify') && resolvable('@fastify/http-proxy'))) {
      skipped.push(`${t.name}: the npm packages fastify and @fastify/http-proxy are not installed (npm install -D fastify @fastify/http-proxy)`);
      return false;
    }
    return true;
  });
  for (const s of skipped) progress(`http: skipped ${s}`);
  for (const n of notes) progress(`http: ${n}`);

  const origin = await startOrigin();
  const originPid = origin.child.pid as number;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-bench-http-'));
  interface Acc {
    rps: number[];
    p50: number[];
    p99: number[];
    cpu: number[];
    rss: number[];
    originCpu: number[];
    non2xx: number;
    errors: Record<string, number>;
    requests: number;
  }
  const acc = new Map<string, Acc>();
  const key = (t: Target, s: Scenario) => `${t.name}\u0000${s.id}`;
  const idle: IdleRow[] = [];
  try {
    for (let round = 0; round < rounds && activeScenarios.length > 0; round++) {
      for (const t of active) {
        const started = await startTarget(t, origin.port, dir, maxconn);
        try {
          if (autocannon) await loadAutocannon(autocannon, started.port, '/', warmup);
          for (const s of activeScenarios) {
            const pid = started.child?.pid;
            const c0 = pid === undefined ? 0 : cpuTicks(pid);
            const o0 = cpuTicks(originPid);
            const run =
              s.loader === 'wrk' ? await loadWrk(started.port, s.path, seconds) : await loadAutocannon(autocannon as Autocannon, started.port, s.path, seconds, s.rate, s.pipelining);
            const o1 = cpuTicks(originPid);
            if (started.child && (started.child.exitCode !== null || started.child.signalCode !== null)) {
              throw new Error(`${t.name} died during ${s.id}: ${started.stderr()}`);
            }
            const c1 = pid === undefined ? 0 : cpuTicks(pid);
            const a = acc.get(key(t, s)) ?? { rps: [], p50: [], p99: [], cpu: [], rss: [], originCpu: [], non2xx: 0, errors: {}, requests: 0 };
            const n = Math.max(run.requests + run.non2xx, 1);
            a.rps.push(run.requests / run.seconds);
            a.p50.push(run.p50Ms);
            a.p99.push(run.p99Ms);
            if (pid !== undefined) {
              a.cpu.push((((c1 - c0) / CLK_TCK) * 1e6) / n);
              a.rss.push(rssMB(pid));
            }
            a.originCpu.push((((o1 - o0) / CLK_TCK) * 1e6) / n);
            a.non2xx += run.non2xx;
            a.requests += run.requests + run.non2xx;
            for (const [k, v] of Object.entries(run.errors)) a.errors[k] = (a.errors[k] ?? 0) + v;
            acc.set(key(t, s), a);
            const cpu = pid === undefined ? '' : `, ${a.cpu.at(-1)?.toFixed(1)} µs CPU/req, RSS ${a.rss.at(-1)?.toFixed(0)} MB`;
            const bad = run.non2xx > 0 || Object.keys(run.errors).length > 0 ? `, ERRORS: ${errText(run.non2xx, run.errors)}` : '';
            progress(
              `http round ${round + 1}/${rounds} ${t.name} ${s.id}: ${Math.round(run.requests / run.seconds)} req/s, p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms${cpu}${bad}`,
            );
          }
        } finally {
          if (started.child) await stop(started.child, stopSignal(t));
        }
      }
    }
    if (runIdle) {
      for (const t of active) {
        const row = await measureIdle(t, origin.port, dir, maxconn, idleClients, autocannon, warmup);
        idle.push(row);
        const bad = Object.keys(row.failed).length > 0 ? `, FAILED: ${errText(0, row.failed)}` : '';
        progress(
          `http idle ${t.name}: ${row.open}/${row.clients} clients open after ${row.openSeconds.toFixed(1)} s, RSS ${row.rssBeforeMB.toFixed(0)} → ${row.rssAfterMB.toFixed(0)} MB, ${row.kbPerClient?.toFixed(1) ?? 'n/a'} KB/client, ${row.serverConnections ?? 'n/a'} server connections${bad}`,
        );
      }
    }
  } finally {
    await stop(origin.child);
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const rows: HttpRow[] = [];
  for (const s of activeScenarios) {
    const cpuOf = (name: string): number | null => {
      const a = acc.get(`${name}\u0000${s.id}`);
      return a && a.cpu.length > 0 ? median(a.cpu) : null;
    };
    const nhp = cpuOf('node-http-proxy');
    const fst = cpuOf('@fastify/http-proxy');
    for (const t of active) {
      const a = acc.get(key(t, s));
      if (!a) continue;
      const cpu = a.cpu.length > 0 ? median(a.cpu) : null;
      const hap = cpuOf(`haproxy nbthread ${t.threads}`) ?? cpuOf('haproxy nbthread 1');
      const ratio = (peer: number | null) => (cpu !== null && peer !== null ? cpu / peer : null);
      rows.push({
        target: t.name,
        scenario: s.id,
        reqPerSec: Math.round(median(a.rps)),
        p50Ms: median(a.p50),
        p99Ms: median(a.p99),
        cpuUsPerReq: cpu,
        rssMB: a.rss.length > 0 ? median(a.rss) : null,
        originCpuUsPerReq: median(a.originCpu),
        ratioToHaproxy: ratio(hap),
        ratioToNodeHttpProxy: ratio(nhp),
        ratioToFastify: ratio(fst),
        non2xx: a.non2xx,
        errors: a.errors,
        requestsAllRounds: a.requests,
      });
    }
  }

  const f = (v: number | null, d = 1) => (v === null || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
  const lines = [
    `## HTTP — ${date}, ${machine}`,
    '',
    `Median of ${rounds} interleaved rounds, ${seconds} s per run after a ${warmup} s warm-up; every target restarted each round with the same config (\`mode http\`, one \`server\`, default \`http-reuse safe\`, \`no log\`; nginx: \`upstream\` with \`keepalive 64\`, HTTP/1.1 to the origin, no access log; node-http-proxy: a keep-alive \`http.Agent\`; @fastify/http-proxy: its default undici pool). The two *floor* rows are not proxies: a Node process that gives each client connection an origin connection of its own and copies bytes both ways, no HTTP (bench/node-relay.ts), on \`net.Socket\` as every Node proxy is, and on libuv's TCP handles through Node's internal bindings (what \`net.Socket\` itself costs) — no Node proxy on those sockets can cost less. The origin is a raw \`net\` server in its own process. CPU is the proxy's utime+stime over all its threads and processes (nginx: master and workers); RSS at the end of the run, summed over its processes. × HAProxy compares with HAProxy of the same thread count (nginx: of as many threads as it has workers). Errors are summed over all rounds. Load generator, origin and proxy share the machine's cores.`,
  ];
  for (const s of activeScenarios) {
    lines.push(
      '',
      `### ${s.title}`,
      '',
      '| target | req/s | p50 ms | p99 ms | proxy CPU µs/req | × HAProxy CPU/req | × node-http-proxy CPU/req | × fastify CPU/req | RSS MB | origin CPU µs/req | errors |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
      ...rows
        .filter((r) => r.scenario === s.id)
        .map(
          (r) =>
            `| ${r.target} | ${r.reqPerSec} | ${f(r.p50Ms, 2)} | ${f(r.p99Ms, 2)} | ${f(r.cpuUsPerReq)} | ${f(r.ratioToHaproxy, 2)} | ${f(r.ratioToNodeHttpProxy, 2)} | ${f(r.ratioToFastify, 2)} | ${f(r.rssMB, 0)} | ${f(r.originCpuUsPerReq)} | ${errText(r.non2xx, r.errors)} |`,
        ),
    );
  }
  if (idle.length > 0) {
    lines.push(
      '',
      `### ${idleClients.toLocaleString('en-US')} idle keep-alive clients (once per target, not per round)`,
      '',
      `Each client sends one request, reads its answer and stays open. RSS summed over the target's processes, read after a ${warmup} s warm-up and again 1 s after the last client got its answer; KB per client is the difference over the clients still open then. \`origin direct\`: a fresh origin process itself (a bare Node \`net\` server). Server connections: the target's established connections to the origin while the clients are idle.${notes.length > 0 ? ` ${notes.join(' ')}` : ''}`,
      '',
      '| target | clients open | RSS before MB | RSS after MB | RSS Δ MB | KB per idle client | server connections | s to open | failed |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---|',
      ...idle.map(
        (r) =>
          `| ${r.target} | ${r.open} | ${f(r.rssBeforeMB, 0)} | ${f(r.rssAfterMB, 0)} | ${f(r.rssAfterMB - r.rssBeforeMB, 0)} | ${f(r.kbPerClient)} | ${r.serverConnections ?? 'n/a'} | ${f(r.openSeconds)} | ${errText(0, r.failed)} |`,
      ),
    );
  }
  lines.push(...skipped.map((s) => `\nSkipped: ${s}`));
  return { date, machine, rounds, secondsPerRun: seconds, connections: CONNECTIONS, rows, idleClients, idle, skipped, markdown: lines.join('\n') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One target's memory under `n` idle keep-alive clients, on a fresh start after a warm-up. The
 * origin alone (`direct`) is measured on an origin process of its own: the shared one has served
 * every round, and its grown heap would absorb the clients.
 */
async function measureIdle(t: Target, originPort: number, dir: string, maxconn: number, n: number, autocannon: Autocannon | null, warmup: number): Promise<IdleRow> {
  const started = t.kind === 'direct' ? { ...(await startOrigin()), stderr: () => '' } : await startTarget(t, originPort, dir, maxconn);
  let clients: IdleClients | null = null;
  try {
    if (autocannon) await loadAutocannon(autocannon, started.port, '/', warmup);
    await sleep(500);
    const pid = started.child?.pid as number;
    const before = rssMB(pid);
    clients = await openIdleClients(started.port, n, 120);
    await sleep(1000);
    const after = rssMB(pid);
    const open = clients.sockets.length - clients.closedSince();
    if (started.child && (started.child.exitCode !== null || started.child.signalCode !== null)) {
      throw new Error(`${t.name} died under idle clients: ${started.stderr()}`);
    }
    return {
      target: t.name,
      clients: n,
      open,
      rssBeforeMB: before,
      rssAfterMB: after,
      kbPerClient: open > 0 ? ((after - before) * 1024) / open : null,
      serverConnections: t.kind === 'direct' ? null : connectionsTo(originPort),
      openSeconds: clients.seconds,
      failed: clients.failed,
    };
  } finally {
    for (const s of clients?.sockets ?? []) s.destroy();
    if (started.child) await stop(started.child, stopSignal(t));
  }
}

// ───────────────────────────── profile ─────────────────────────────

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface CpuProfile {
  readonly startTime: number;
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/**
 * Top self-time functions of one `.cpuprofile`, as markdown. `window` ([from, to] in µs of
 * CLOCK_MONOTONIC, the clock of V8's profile timestamps and of `process.hrtime`) keeps only the
 * samples taken under load, leaving out start-up (module loading, type stripping) and shutdown.
 */
export function summariseProfile(file: string, requests: number, window: readonly [number, number] = [0, Number.POSITIVE_INFINITY], top = 15): { busyMs: number; markdown: string } {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let busy = 0;
  let ts = prof.startTime;
  prof.samples.forEach((id, i) => {
    const n = byId.get(id);
    const dt = prof.timeDeltas[i] ?? 0;
    ts += dt;
    if (ts < window[0] || ts > window[1]) return;
    if (!n || n.callFrame.functionName === '(idle)') return;
    const url = n.callFrame.url.replace(`file://${ROOT}`, '').replace(/^node:/, '');
    const label = `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
    self.set(label, (self.get(label) ?? 0) + dt);
    busy += dt;
  });
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  const md = [
    '| function | self % | self µs/req |',
    '|---|---:|---:|',
    ...rows.map(([label, us]) => `| \`${label}\` | ${((100 * us) / Math.max(busy, 1)).toFixed(1)} | ${(us / Math.max(requests, 1)).toFixed(2)} |`),
  ];
  return { busyMs: busy / 1000, markdown: md.join('\n') };
}

/** `--cpu-prof` of switchyard --threads 1 under one scenario's load (`--scenario ID`, default keep-alive small); one summary per thread. */
export async function profileSwitchyard(quick: boolean, scenarioId = 'ka-small'): Promise<string> {
  const scenario = scenarios.find((s) => s.id === scenarioId) ?? (scenarios[0] as Scenario);
  const seconds = quick ? 3 : 10;
  const autocannon = (await import('autocannon')).default as Autocannon;
  const origin = await startOrigin();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-bench-prof-'));
  const profDir = path.join(dir, 'prof');
  const target: Target = { name: 'switchyard --threads 1', kind: 'switchyard', threads: 1 };
  try {
    const started = await startTarget(target, origin.port, dir, 9000, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
    await loadAutocannon(autocannon, started.port, '/', quick ? 1 : 2); // warm-up, outside the window
    const from = Number(process.hrtime.bigint() / 1000n);
    const run =
      scenario.loader === 'wrk'
        ? await loadWrk(started.port, scenario.path, seconds)
        : await loadAutocannon(autocannon, started.port, scenario.path, seconds, scenario.rate, scenario.pipelining);
    const to = Number(process.hrtime.bigint() / 1000n);
    // SIGINT: switchyard stops its workers and exits, which is when the profiles are written.
    await stop(started.child as ChildProcess, 'SIGINT');
    const files = fs.existsSync(profDir) ? fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
    const n = run.requests + run.non2xx;
    const out = [
      `## switchyard --threads 1 CPU profile — ${scenario.title}, ${seconds} s, ${n} requests (${Math.round(run.requests / run.seconds)} req/s, errors: ${errText(run.non2xx, run.errors)})`,
    ];
    const summaries = files.map((f) => ({ f, ...summariseProfile(path.join(profDir, f), n, [from, to]) })).sort((a, b) => b.busyMs - a.busyMs);
    if (summaries.length === 0) out.push('', `No profile was written (is ${profDir} empty? ${started.stderr()})`);
    for (const s of summaries) {
      out.push('', `### ${s.f}: ${s.busyMs.toFixed(0)} ms busy under load, ${((s.busyMs * 1000) / Math.max(n, 1)).toFixed(1)} µs/req`, '', s.markdown);
    }
    return out.join('\n');
  } finally {
    await stop(origin.child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ───────────────────────────── entry ─────────────────────────────

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const role = argValue('--role');
  const port = Number(argValue('--port'));
  if (role === 'origin') runOrigin(port);
  else if (role === 'node-http-proxy') await runNodeHttpProxy(port, Number(argValue('--to')));
  else if (role === 'fastify-http-proxy') await runFastifyHttpProxy(port, Number(argValue('--to')));
  else if (process.argv.includes('--profile')) process.stdout.write(`${await profileSwitchyard(process.argv.includes('--quick'), argValue('--scenario'))}\n`);
  else {
    const report = await runHttp(process.argv.includes('--quick'));
    const json = argValue('--json');
    if (json) fs.writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${report.markdown}\n`);
  }
}
