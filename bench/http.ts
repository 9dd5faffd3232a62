/**
 * HTTP proxying cost: switchyard `mode http` against HAProxy 2.6 (Debian) and node-http-proxy, with
 * the origin alone as the baseline, interleaved in the same run (A B C A B C…, median of ROUNDS).
 * Run by `npm run bench` (bench/run.ts), or alone: `node bench/http.ts [--quick]`.
 *
 * The origin is a raw `net` server in its own process (canned `HTTP/1.1 200` keep-alive answers with
 * a Content-Length: an 18-byte body on `/`, a 16 KiB body on `/16k`). Each round starts every target
 * afresh with the same HAProxy-format config (`defaults mode http`, one `listen`, one `server`,
 * default `http-reuse safe`), warms it up, then runs the scenarios: autocannon keep-alive with 50
 * connections on the small and the 16 KiB body, and wrk with `Connection: close` (a new client
 * connection per request). Per target and scenario: req/s, p50/p99 latency, the proxy's CPU µs per
 * request (utime+stime of all its threads, from /proc/PID/stat deltas over the run), its RSS at the
 * end of the run, the origin's CPU µs per request, and every error seen (non-2xx, socket errors).
 *
 *   node bench/http.ts [--quick] [--json FILE]  the benchmark alone; prints the markdown
 *   node bench/http.ts --targets switchyard-1,haproxy-1   only those targets (kind-threads, comma-separated)
 *   node bench/http.ts --base DIR --targets base-1,switchyard-1,haproxy-1   A/B: also the switchyard of checkout DIR
 *   node bench/http.ts --profile [--quick] [--scenario ka-small|ka-small-fixed|ka-16k|close-small]
 *                                          `--cpu-prof` of switchyard --threads 1 under that load,
 *                                          summarised by top self-time functions per thread
 *   node bench/http.ts --role origin --port P
 *   node bench/http.ts --role node-http-proxy --port P --to O
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
    id: 'close-small',
    title: `new connection per request (\`Connection: close\`), ${CONNECTIONS} connections, ${SMALL_BODY.length} B body (wrk)`,
    loader: 'wrk',
    path: '/',
  },
];

type Kind = 'direct' | 'switchyard' | 'haproxy' | 'node-http-proxy';

interface Target {
  readonly name: string;
  readonly kind: Kind;
  readonly threads: number;
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
  { name: 'haproxy nbthread 1', kind: 'haproxy', threads: 1 },
  { name: 'haproxy nbthread 2', kind: 'haproxy', threads: 2 },
  { name: 'node-http-proxy', kind: 'node-http-proxy', threads: 1 },
];

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
  /** Summed over all rounds, not a median: every failed request counts. */
  readonly non2xx: number;
  readonly errors: Record<string, number>;
  readonly requestsAllRounds: number;
}

export interface HttpReport {
  readonly date: string;
  readonly machine: string;
  readonly rounds: number;
  readonly secondsPerRun: number;
  readonly connections: number;
  readonly rows: HttpRow[];
  readonly skipped: string[];
  readonly markdown: string;
}

// ───────────────────────────── helpers ─────────────────────────────

function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, all threads
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function waitListening(port: number, child: ChildProcess | null): Promise<void> {
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

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
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

function config(port: number, originPort: number, threads: number): string {
  return [
    'global',
    '    maxconn 9000',
    `    nbthread ${threads}`,
    'defaults',
    '    mode http',
    '    timeout connect 5s',
    '    timeout client 30s',
    '    timeout server 30s',
    'listen web',
    `    bind 127.0.0.1:${port}`,
    '    no log',
    `    server o1 127.0.0.1:${originPort}`,
    '',
  ].join('\n');
}

// ───────────────────────────── the origin and node-http-proxy (child roles) ─────────────────────────────

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

/** node-http-proxy as it is usually deployed: one `http` server, a keep-alive `http.Agent` to the origin. */
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
  http.createServer((req, res) => proxy.web(req, res)).listen(port, '127.0.0.1');
}

// ───────────────────────────── load generators ─────────────────────────────

async function loadAutocannon(autocannon: Autocannon, port: number, urlPath: string, seconds: number, rate?: number): Promise<Run> {
  const errors: Record<string, number> = {};
  // autocannon's own histogram has 1 ms resolution: keep every response time to read percentiles from.
  let lat = new Float64Array(1 << 18);
  let nLat = 0;
  const result = await new Promise<autocannonT.Result>((resolve, reject) => {
    const inst = autocannon(
      {
        url: `http://127.0.0.1:${port}${urlPath}`,
        connections: CONNECTIONS,
        pipelining: 1,
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

// ───────────────────────────── starting targets ─────────────────────────────

interface Started {
  readonly child: ChildProcess | null;
  readonly port: number;
  readonly stderr: () => string;
}

async function startTarget(t: Target, originPort: number, dir: string, nodeArgs: string[] = []): Promise<Started> {
  if (t.kind === 'direct') return { child: null, port: originPort, stderr: () => '' };
  const port = await freePort();
  const cfg = path.join(dir, `${t.kind}-${t.threads}.cfg`);
  fs.writeFileSync(cfg, config(port, originPort, t.threads));
  const s =
    t.kind === 'switchyard'
      ? spawnLogged(process.execPath, [...nodeArgs, path.join(t.root ?? ROOT, 'bin/switchyard.ts'), '-q', '-f', cfg, '--threads', String(t.threads)])
      : t.kind === 'haproxy'
        ? spawnLogged('haproxy', ['-db', '-f', cfg])
        : spawnLogged(process.execPath, [SELF, '--role', 'node-http-proxy', '--port', String(port), '--to', String(originPort)]);
  try {
    await waitListening(port, s.child);
  } catch (err) {
    await stop(s.child);
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
  const autocannon = resolvable('autocannon') ? ((await import('autocannon')).default as Autocannon) : null;
  if (!autocannon) skipped.push('keep-alive scenarios: the npm package autocannon is not installed (npm install -D autocannon)');
  const haveWrk = spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
  if (!haveWrk) skipped.push('Connection: close scenario: wrk is not installed (apt-get install -y wrk)');
  const activeScenarios = scenarios.filter((s) => (s.loader === 'autocannon' ? autocannon !== null : haveWrk));
  const only = argValue('--targets')?.split(',');
  const active = targets.filter((t) => {
    if (only && !only.includes(t.root ? `base-${t.threads}` : `${t.kind}-${t.threads}`)) return false;
    if (t.kind === 'haproxy' && !present('haproxy', ['-v'])) {
      skipped.push(`${t.name}: haproxy is not installed (apt-get install -y haproxy)`);
      return false;
    }
    if (t.kind === 'node-http-proxy' && !resolvable('http-proxy')) {
      skipped.push(`${t.name}: the npm package http-proxy is not installed (npm install -D http-proxy)`);
      return false;
    }
    return true;
  });
  for (const s of skipped) progress(`http: skipped ${s}`);

  const origin = await startOrigin();
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
  try {
    for (let round = 0; round < rounds; round++) {
      for (const t of active) {
        const started = await startTarget(t, origin.port, dir);
        try {
          if (autocannon) await loadAutocannon(autocannon, started.port, '/', warmup);
          for (const s of activeScenarios) {
            const pid = started.child?.pid;
            const c0 = pid === undefined ? 0 : cpuTicks(pid);
            const o0 = cpuTicks(origin.child.pid as number);
            const run = s.loader === 'wrk' ? await loadWrk(started.port, s.path, seconds) : await loadAutocannon(autocannon as Autocannon, started.port, s.path, seconds, s.rate);
            const o1 = cpuTicks(origin.child.pid as number);
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
          if (started.child) await stop(started.child);
        }
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
    for (const t of active) {
      const a = acc.get(key(t, s));
      if (!a) continue;
      const cpu = a.cpu.length > 0 ? median(a.cpu) : null;
      const hap = cpuOf(`haproxy nbthread ${t.threads}`) ?? cpuOf('haproxy nbthread 1');
      rows.push({
        target: t.name,
        scenario: s.id,
        reqPerSec: Math.round(median(a.rps)),
        p50Ms: median(a.p50),
        p99Ms: median(a.p99),
        cpuUsPerReq: cpu,
        rssMB: a.rss.length > 0 ? median(a.rss) : null,
        originCpuUsPerReq: median(a.originCpu),
        ratioToHaproxy: cpu !== null && hap !== null ? cpu / hap : null,
        ratioToNodeHttpProxy: cpu !== null && nhp !== null ? cpu / nhp : null,
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
    `Median of ${rounds} interleaved rounds, ${seconds} s per run after a ${warmup} s warm-up; every target restarted each round with the same config (\`mode http\`, one \`server\`, default \`http-reuse safe\`, \`no log\`). The origin is a raw \`net\` server in its own process. CPU is the proxy process's utime+stime over all its threads; RSS at the end of the run. × HAProxy compares with HAProxy of the same thread count. Errors are summed over all rounds. Load generator, origin and proxy share the machine's cores.`,
  ];
  for (const s of activeScenarios) {
    lines.push(
      '',
      `### ${s.title}`,
      '',
      '| target | req/s | p50 ms | p99 ms | proxy CPU µs/req | × HAProxy CPU/req | × node-http-proxy CPU/req | RSS MB | origin CPU µs/req | errors |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
      ...rows
        .filter((r) => r.scenario === s.id)
        .map(
          (r) =>
            `| ${r.target} | ${r.reqPerSec} | ${f(r.p50Ms, 2)} | ${f(r.p99Ms, 2)} | ${f(r.cpuUsPerReq)} | ${f(r.ratioToHaproxy, 2)} | ${f(r.ratioToNodeHttpProxy, 2)} | ${f(r.rssMB, 0)} | ${f(r.originCpuUsPerReq)} | ${errText(r.non2xx, r.errors)} |`,
        ),
    );
  }
  lines.push(...skipped.map((s) => `\nSkipped: ${s}`));
  return { date, machine, rounds, secondsPerRun: seconds, connections: CONNECTIONS, rows, skipped, markdown: lines.join('\n') };
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
    const started = await startTarget(target, origin.port, dir, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
    await loadAutocannon(autocannon, started.port, '/', quick ? 1 : 2); // warm-up, outside the window
    const from = Number(process.hrtime.bigint() / 1000n);
    const run = scenario.loader === 'wrk' ? await loadWrk(started.port, scenario.path, seconds) : await loadAutocannon(autocannon, started.port, scenario.path, seconds, scenario.rate);
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
  else if (process.argv.includes('--profile')) process.stdout.write(`${await profileSwitchyard(process.argv.includes('--quick'), argValue('--scenario'))}\n`);
  else {
    const report = await runHttp(process.argv.includes('--quick'));
    const json = argValue('--json');
    if (json) fs.writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${report.markdown}\n`);
  }
}
