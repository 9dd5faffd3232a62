/**
 * `npm run soak [-- --minutes M] [--idle N]`: mixed HTTP and TCP traffic with faults for M minutes
 * (default 10) through the real proxy (2 workers), reporting every 10 s the proxy's RSS, worker
 * heaps, open FDs and live sessions; then checks that nothing is left (zero sessions, FDs back to
 * the start-up count) and measures RSS per idle keep-alive client connection (N, default 10,000).
 * Not part of `npm test`. Only 127.0.0.1; every loop is bounded by the deadline.
 */
import fs from 'node:fs';
import net from 'node:net';
import { get, httpOrigin, ok, RawClient, request } from '../helpers/http.ts';
import { echo } from '../helpers/origins.ts';
import { cleanup, parseInfo, startProxy } from '../helpers/proxy.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const MINUTES = opt('minutes', 10);
const IDLE = opt('idle', 10_000);

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
/** Open sockets of the process (listeners, clients, servers, CLI). */
const fds = (pid: number): number =>
  fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  }).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Resolves once connected or failed (errors are counted by what follows, never thrown). */
const connected = (s: net.Socket) =>
  new Promise<void>((r) => {
    s.once('connect', () => r());
    s.once('error', () => r());
  });

async function main(): Promise<number> {
  let n = 0;
  // an origin that answers most requests, and misbehaves on some: reset, garbage, slow, close
  const app = await httpOrigin((r, sock) => {
    n++;
    if (r.target === '/reset' && n % 2 === 0) return { reset: true };
    if (r.target === '/garbage') return 'HTTP/1.1 two hundred\r\n\r\n';
    if (r.target === '/slow') return { delayMs: 50, answer: ok('slow') };
    if (r.target === '/close') return { close: true };
    if (r.target === '/big') return ok('x'.repeat(64 * 1024));
    if (r.nth === 1) sock.setTimeout(2000, () => sock.destroy());
    return ok(`ok ${r.body.length}`);
  });
  const tcp = await echo();
  const p = await startProxy(
    `
global
    maxconn 20000
defaults
    timeout connect 1s
    timeout client 5s
    timeout server 2s
    timeout http-request 2s
    timeout http-keep-alive 2s
listen web
    mode http
    bind 127.0.0.1:0
    retry-on empty-response
    server s1 127.0.0.1:${app.port} pool-purge-delay 1s
listen idle
    mode http
    maxconn 20000
    bind 127.0.0.1:0
    timeout client 60s
    timeout http-keep-alive 60s
    server s1 127.0.0.1:${app.port} pool-purge-delay 1s
listen relay
    mode tcp
    bind 127.0.0.1:0
    server e1 127.0.0.1:${tcp.port}
`,
    { threads: 2 },
  );
  const pid = p.child.pid as number;
  const fdStart = fds(pid);
  const web = p.port('web');
  const relay = p.port('relay');
  // first, on the fresh process: RSS per idle keep-alive client connection
  const rss0 = rssKb(pid);
  const idle: RawClient[] = [];
  for (let i = 0; i < IDLE; i++) {
    const c = await RawClient.connect(p.port('idle'));
    c.send(get('/'));
    idle.push(c);
    if (i % 500 === 499) await Promise.all(idle.slice(-500).map((x) => x.response()));
  }
  if (IDLE % 500 !== 0) await Promise.all(idle.slice(-(IDLE % 500)).map((x) => x.response()));
  const rss1 = rssKb(pid);
  process.stdout.write(`idle: ${IDLE} keep-alive client connections: +${((rss1 - rss0) / 1024).toFixed(1)} MB RSS, ${(((rss1 - rss0) * 1024) / IDLE).toFixed(0)} bytes per connection\n`);
  for (const c of idle) c.close();
  await sleep(500);
  const end = Date.now() + MINUTES * 60_000;
  // errors: a request that got no answer at all; 5xx: the proxy's answers to the faulty paths
  const counts = { requests: 0, errors: 0, status5xx: 0, tcp: 0, aborted: 0 };

  const paths = ['/', '/', '/', '/slow', '/big', '/reset', '/garbage', '/close'];
  const keepAlive = async (k: number) => {
    while (Date.now() < end) {
      const c = await RawClient.connect(web);
      for (let i = 0; i < 20 && Date.now() < end; i++) {
        const path = paths[(k + i) % paths.length] as string;
        c.send(i % 5 === 0 ? `POST ${path} HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n${'b'.repeat(100)}` : get(path));
        try {
          const r = await c.response();
          counts.requests++;
          if (r.status >= 500) {
            counts.status5xx++;
            break; // the proxy closes after its own error answers
          }
          if (r.headers.get('connection') === 'close') break;
        } catch {
          counts.errors++;
          break;
        }
      }
      c.close();
    }
  };
  const oneShot = async () => {
    while (Date.now() < end) {
      await request(web, get('/')).then(
        () => counts.requests++,
        () => counts.errors++,
      );
    }
  };
  const aborters = async () => {
    while (Date.now() < end) {
      const s = net.connect(web, '127.0.0.1');
      await connected(s);
      s.write('GET /slow HTTP/1.1\r\nhost: t\r\n\r\n');
      await sleep(10);
      s.resetAndDestroy();
      counts.aborted++;
      await sleep(20);
    }
  };
  const tcpLoop = async () => {
    while (Date.now() < end) {
      const s = net.connect(relay, '127.0.0.1');
      s.resume(); // read the echo, so that its end (and the close) comes
      await connected(s);
      s.end('x'.repeat(4096));
      await new Promise((r) => s.once('close', r));
      counts.tcp++;
    }
  };

  const report = async (label: string) => {
    const info = parseInfo(await p.cli('show info'));
    const heaps = [...info].filter(([k]) => /^Worker_\d+_heap_used_mb$/.test(k)).map(([, v]) => v);
    process.stdout.write(
      `${label.padEnd(8)} rss=${(rssKb(pid) / 1024).toFixed(1)}MB heaps=[${heaps.join(' ')}]MB fds=${fds(pid)} sessions=${info.get('CurrConns')} idle=${[...info].filter(([k]) => k.endsWith('_idle_conns')).reduce((a, [, v]) => a + Number(v), 0)} requests=${counts.requests} 5xx=${counts.status5xx} no-answer=${counts.errors} tcp=${counts.tcp} aborted=${counts.aborted}\n`,
    );
  };

  process.stdout.write(`soak: ${MINUTES} min of mixed traffic through pid ${pid}, ${fdStart} sockets at start\n`);
  const loops = [...Array.from({ length: 16 }, (_, k) => keepAlive(k)), oneShot(), oneShot(), aborters(), tcpLoop(), tcpLoop()];
  const ticker = setInterval(() => void report(`${Math.round((MINUTES * 60_000 - (end - Date.now())) / 1000)}s`), 10_000);
  await Promise.all(loops);
  clearInterval(ticker);
  await sleep(3000); // idle connections purge (1 s), keep-alive timeouts (2 s)
  await report('end');
  const info = parseInfo(await p.cli('show info'));
  const left = Number(info.get('CurrConns'));
  await sleep(200); // the CLI connection itself is closing
  const fdEnd = fds(pid);
  let code = 0;
  if (left !== 0) {
    process.stdout.write(`FAIL: ${left} sessions left\n`);
    code = 1;
  }
  if (fdEnd > fdStart) {
    process.stdout.write(`FAIL: ${fdEnd - fdStart} sockets more than at start\n`);
    code = 1;
  }

  await cleanup(p, app, tcp);
  process.stdout.write(code === 0 ? 'soak: OK\n' : 'soak: FAILED\n');
  return code;
}

main().then((code) => process.exit(code));
