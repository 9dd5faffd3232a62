/**
 * Fault-injection harness: a scriptable origin and scriptable misbehaving clients, to put the
 * real proxy (or HAProxy, for comparison: nothing here knows which) through one fault at a time
 * while well-behaved clients keep going beside it.
 *
 * - `faultOrigin`: for each connection a script of steps run at accept, and for each request a
 *   script of steps (reset, delay, garbage, partial response then FIN or RST, valid or large
 *   response, half-close, close when idle, never answer). Requests are read with Content-Length
 *   framing (what the proxy sends the origins of these tests).
 * - clients: slowloris, slow reader, mid-request RST, pipelined flood, oversized heads, and a
 *   background load of good requests.
 *
 * Everything is bounded: delays and waits are capped (MAX_WAIT_MS), bodies are capped
 * (MAX_BODY), only 127.0.0.1 is used, and every socket and timer is released on close (the suite
 * runs under test/helpers/leak-check.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { headerMap, type RawRequest } from '../helpers/http.ts';
import { type HttpLogLine, parseHttpLog } from '../helpers/http-faults.ts';
import { type Origin, origin } from '../helpers/origins.ts';
import { eventually, type RunningProxy } from '../helpers/proxy.ts';

/** No step, client or wait of the harness lasts longer than this. */
export const MAX_WAIT_MS = 10_000;
/** No response body of the harness is larger than this. */
export const MAX_BODY = 64 * 1024 * 1024;

const HOST = '127.0.0.1';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- the scriptable origin ------------------------------------------------------------------

/** One thing the origin does on a connection. */
export type Step =
  /** Reset the connection (RST): `resetAndDestroy()`. Ends the script. */
  | { readonly kind: 'rst' }
  /** Wait `ms` before the next step. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Write raw bytes (garbage, or the beginning of a response). */
  | { readonly kind: 'write'; readonly data: string | Buffer }
  /** A complete, valid response (Content-Length). */
  | { readonly kind: 'respond'; readonly status: number; readonly body: string; readonly headers: string }
  /** A valid 200 whose body is `bytes` long, written as the peer reads it (backpressure). */
  | { readonly kind: 'big'; readonly bytes: number }
  /** Half-close: send FIN, keep reading. */
  | { readonly kind: 'fin' }
  /** Close the connection if no new request comes within `ms`. */
  | { readonly kind: 'idleClose'; readonly ms: number }
  /** Never answer: the script stops here, the connection stays open until the origin closes. */
  | { readonly kind: 'hang' };

/** Step constructors. */
export const S = {
  rst: (): Step => ({ kind: 'rst' }),
  delay: (ms: number): Step => {
    assert.ok(ms >= 0 && ms <= MAX_WAIT_MS, `delay ${ms} ms out of bounds`);
    return { kind: 'delay', ms };
  },
  write: (data: string | Buffer): Step => ({ kind: 'write', data }),
  respond: (body = 'ok', status = 200, headers = ''): Step => ({ kind: 'respond', status, body, headers }),
  big: (bytes: number): Step => {
    assert.ok(bytes > 0 && bytes <= MAX_BODY, `body of ${bytes} bytes out of bounds`);
    return { kind: 'big', bytes };
  },
  fin: (): Step => ({ kind: 'fin' }),
  idleClose: (ms: number): Step => {
    assert.ok(ms >= 0 && ms <= MAX_WAIT_MS, `idle close ${ms} ms out of bounds`);
    return { kind: 'idleClose', ms };
  },
  hang: (): Step => ({ kind: 'hang' }),
};

/** A 200 response as one string. */
export const okResponse = (body: string, headers = ''): string =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`;

export interface FaultOriginScript {
  /** Steps run when a connection is accepted (before any request), by connection rank (1-based). */
  accept?: (conn: number) => Step[];
  /**
   * Steps run for each request: `n` is its rank among all requests of this origin (1-based).
   * Default: a 200 whose body names the request.
   */
  request?: (req: RawRequest, n: number) => Step[];
}

export interface FaultOrigin {
  readonly origin: Origin;
  readonly port: number;
  /** Every complete request received, in arrival order. */
  readonly requests: RawRequest[];
  /** Connections accepted. */
  accepted(): number;
  /** Connections still open. */
  open(): number;
  close(): Promise<void>;
}

/** Run `steps` on `sock`, one after the other; resolves false when the script ended the connection. */
async function run(sock: net.Socket, steps: readonly Step[], timers: Set<NodeJS.Timeout>, idle: { timer: NodeJS.Timeout | null }): Promise<boolean> {
  for (const s of steps) {
    if (sock.destroyed) return false;
    switch (s.kind) {
      case 'rst':
        sock.resetAndDestroy();
        return false;
      case 'delay':
        await new Promise<void>((r) => {
          const t = setTimeout(() => {
            timers.delete(t);
            r();
          }, s.ms);
          timers.add(t);
          sock.once('close', () => {
            clearTimeout(t);
            timers.delete(t);
            r();
          });
        });
        break;
      case 'write':
        if (!sock.writableEnded) sock.write(s.data);
        break;
      case 'respond':
        if (!sock.writableEnded) sock.write(`HTTP/1.1 ${s.status} X\r\ncontent-length: ${Buffer.byteLength(s.body)}\r\n${s.headers}\r\n${s.body}`);
        break;
      case 'big':
        await writeBig(sock, s.bytes);
        break;
      case 'fin':
        sock.end();
        break;
      case 'idleClose': {
        const t = setTimeout(() => {
          timers.delete(t);
          sock.destroy();
        }, s.ms);
        timers.add(t);
        idle.timer = t;
        break;
      }
      case 'hang':
        return false;
    }
  }
  return true;
}

/** A 200 with a body of `bytes` bytes ('a'…'z' repeated), written with backpressure. */
async function writeBig(sock: net.Socket, bytes: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 'abcdefghijklmnopqrstuvwxyz');
  if (sock.writableEnded) return;
  sock.write(`HTTP/1.1 200 OK\r\ncontent-length: ${bytes}\r\n\r\n`);
  let left = bytes;
  while (left > 0 && !sock.destroyed && !sock.writableEnded) {
    const n = Math.min(left, chunk.length);
    left -= n;
    if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
      await new Promise<void>((r) => {
        const done = () => {
          sock.off('drain', done);
          sock.off('close', done);
          r();
        };
        sock.on('drain', done);
        sock.on('close', done);
      });
    }
  }
}

/** The default answer: a 200 naming the request (`conn`/`nth`) and echoing x-id. */
export const defaultAnswer = (r: RawRequest): Step[] => [S.respond(`id=${r.headers.get('x-id') ?? r.target} conn=${r.conn} nth=${r.nth}`)];

/** An HTTP/1.1 origin that follows `script` (see `Step`). */
export async function faultOrigin(script: FaultOriginScript = {}): Promise<FaultOrigin> {
  const requests: RawRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let conns = 0;
  const o = await origin((sock) => {
    const conn = ++conns;
    const idle: { timer: NodeJS.Timeout | null } = { timer: null };
    let buf = Buffer.alloc(0);
    let nth = 0;
    let alive = true;
    sock.on('close', () => {
      if (idle.timer) clearTimeout(idle.timer);
    });
    // the accept script runs first; requests wait behind it, each behind the one before
    let chain: Promise<boolean> = run(sock, script.accept?.(conn) ?? [], timers, idle);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length > 1024 * 1024) {
        sock.destroy(); // bounded: an origin of this harness never buffers more than 1 MiB
        return;
      }
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const headers = headerMap(head);
        const len = Number(headers.get('content-length') ?? 0);
        if (buf.length < end + 4 + len) return;
        const [method = '', target = ''] = head.split(' ');
        const req: RawRequest = { head, method, target, headers, body: buf.subarray(end + 4, end + 4 + len), nth: ++nth, conn };
        buf = buf.subarray(end + 4 + len);
        requests.push(req);
        const n = requests.length;
        if (idle.timer) {
          clearTimeout(idle.timer);
          timers.delete(idle.timer);
          idle.timer = null;
        }
        chain = chain.then((go) => {
          alive &&= go;
          return alive ? run(sock, (script.request ?? defaultAnswer)(req, n), timers, idle) : false;
        });
      }
    });
    // the peer half-closed: close our side too, unless the script already did
    sock.on('end', () => {
      if (!sock.writableEnded) sock.end();
    });
  });
  return {
    origin: o,
    port: o.port,
    requests,
    accepted: () => o.accepted,
    open: () => o.sockets.size,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await o.close();
    },
  };
}

/** A port on 127.0.0.1 on which nothing listens: connects are refused. */
export async function refusingPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, HOST, () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// ---- clients ----------------------------------------------------------------------------------

/**
 * A client connection that records everything it receives. `closed` resolves when the socket is
 * closed (by either side); `reset` tells whether it ended with an error (ECONNRESET, EPIPE).
 */
export class FaultClient {
  readonly sock: net.Socket;
  private chunks: Buffer[] = [];
  received = 0;
  error: string | null = null;
  ended = false;
  readonly closed: Promise<void>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private waiters: Array<() => void> = [];

  private constructor(sock: net.Socket) {
    this.sock = sock;
    this.localPort = sock.localPort as number;
    sock.on('data', (d: Buffer) => {
      this.received += d.length;
      // bounded: only the first 1 MiB is kept (enough for heads and small bodies)
      if (this.received - d.length < 1024 * 1024) this.chunks.push(d);
      this.wake();
    });
    sock.on('end', () => {
      this.ended = true;
      this.wake();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      this.error = e.code ?? e.message;
    });
    this.closed = new Promise((r) =>
      sock.on('close', () => {
        for (const t of this.timers) clearTimeout(t);
        this.timers.clear();
        this.ended = true;
        this.wake();
        r();
      }),
    );
  }

  static connect(port: number): Promise<FaultClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: HOST }, () => {
        s.off('error', reject);
        resolve(new FaultClient(s));
      });
      s.once('error', reject);
    });
  }

  /** The client's own port: the proxy's log line and `show sess` name it. */
  readonly localPort: number;

  get text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  /** The status of the first response received, or null if none came. */
  get status(): number | null {
    const m = /^HTTP\/1\.[01] (\d{3}) /.exec(this.text);
    return m ? Number(m[1]) : null;
  }

  send(data: string | Buffer): void {
    if (!this.sock.destroyed) this.sock.write(data);
  }

  /** A timer that dies with the connection. */
  every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    this.timers.add(t);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Wait (at most `ms`) until `cond` holds, checked at each event of the connection. */
  async until(cond: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + Math.min(ms, MAX_WAIT_MS);
    while (!cond()) {
      const left = end - Date.now();
      if (left <= 0) throw new Error(`${what}: not within ${ms} ms (received ${this.received} bytes: ${JSON.stringify(this.text.slice(0, 300))})`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Wait until the proxy closes the connection. */
  waitClosed(ms = 5000): Promise<void> {
    return this.until(() => this.ended, ms, 'connection closed by the proxy');
  }

  /** Half-close our side. */
  fin(): void {
    this.sock.end();
  }

  /** Reset the connection (RST). */
  rst(): void {
    if (!this.sock.destroyed) this.sock.resetAndDestroy();
  }

  close(): void {
    this.sock.destroy();
  }
}

export const GET = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nhost: test\r\n${extra}\r\n`;

/**
 * Slowloris: sends `head` one byte every `intervalMs`, never finishing it (the head has no empty
 * line). Resolves with the connection at once; the drip stops when the connection closes.
 */
export async function slowloris(port: number, intervalMs: number, head = 'GET / HTTP/1.1\r\nhost: t\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'): Promise<FaultClient> {
  const c = await FaultClient.connect(port);
  let i = 0;
  c.every(intervalMs, () => {
    if (i < head.length && !c.ended) c.send(head[i++] as string);
  });
  return c;
}

/**
 * A slow reader: sends `request` and reads nothing of the answer (the socket is paused; its
 * kernel buffers fill, then the proxy's writes block). `resume()` reads again.
 */
export async function slowReader(port: number, request: string): Promise<FaultClient> {
  const c = await FaultClient.connect(port);
  c.sock.pause();
  c.send(request);
  // the 'data' listener is attached already (adding one would have resumed the socket)
  return c;
}

/** Send `bytes` (part of a head or a body), wait `afterMs`, then reset the connection. */
export async function midRequestRst(port: number, bytes: string | Buffer, afterMs: number): Promise<FaultClient> {
  const c = await FaultClient.connect(port);
  c.send(bytes);
  await sleep(Math.min(afterMs, MAX_WAIT_MS));
  c.rst();
  await c.closed;
  return c;
}

/** `n` GET requests for `/p<i>` with `x-id: <i>`, padded to `size` bytes each, as one buffer. */
export function pipeline(n: number, size = 0): Buffer {
  const reqs: string[] = [];
  for (let i = 0; i < n; i++) {
    let r = GET(`/p${i}`, `x-id: ${i}\r\n`);
    if (size > r.length) r = GET(`/p${i}`, `x-id: ${i}\r\nx-pad: ${'p'.repeat(size - r.length - 9)}\r\n`);
    reqs.push(r);
  }
  return Buffer.from(reqs.join(''), 'latin1');
}

/** A request whose head is `bytes` long (one big header field). */
export function oversizedHead(bytes: number): string {
  const base = GET('/large-head', 'x-big: \r\n');
  return GET('/large-head', `x-big: ${'b'.repeat(bytes - base.length)}\r\n`);
}

/** A request with `n` header fields besides Host (n + 1 in all). */
export function manyFields(n: number): string {
  return GET('/many', Array.from({ length: n }, (_, i) => `x-f${i}: v\r\n`).join(''));
}

/**
 * Split a byte stream of Content-Length responses (as the clients here get them) into
 * status/body pairs; stops at the first incomplete one.
 */
export function splitResponses(text: string): Array<{ status: number; body: string }> {
  const out: Array<{ status: number; body: string }> = [];
  let i = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', i);
    if (end < 0) return out;
    const head = text.slice(i, end);
    const len = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (text.length < end + 4 + len) return out;
    out.push({ status: Number(head.split(' ')[1]), body: text.slice(end + 4, end + 4 + len) });
    i = end + 4 + len;
  }
}

// ---- background load --------------------------------------------------------------------------

export interface Background {
  /** Stop the loops, close their connections; resolves with what they saw. */
  stop(): Promise<{ ok: number; bad: string[] }>;
}

/**
 * `clients` loops of good traffic beside a fault: each opens a connection, runs `step` on it 5
 * times (counting what `step` reports as a success), closes it and starts again until stopped.
 * Anything that goes wrong is recorded in `bad`.
 */
function loops(port: number, clients: number, step: (c: FaultClient, k: number, i: number) => Promise<string | null>): Background {
  let running = true;
  let ok = 0;
  const bad: string[] = [];
  const all = Array.from({ length: clients }, async (_, k) => {
    let i = 0;
    while (running) {
      let c: FaultClient;
      try {
        c = await FaultClient.connect(port);
      } catch (e) {
        bad.push(`connect: ${(e as Error).message}`);
        await sleep(20);
        continue;
      }
      try {
        for (let j = 0; j < 5 && running; j++, i++) {
          const wrong = await step(c, k, i);
          if (wrong === null) ok++;
          else bad.push(wrong);
          await sleep(5);
        }
      } catch (e) {
        bad.push((e as Error).message);
      } finally {
        c.close();
        await c.closed;
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(all);
      return { ok, bad };
    },
  };
}

/**
 * Good clients beside a fault: `clients` loops, each sending GETs on a keep-alive connection
 * (a new connection every 5 requests), with `x-id` checked in the answer. Every request must get
 * its 200: anything else is recorded in `bad`.
 */
export function background(port: number, clients = 3): Background {
  return loops(port, clients, async (c, k, i) => {
    const id = `bg${k}-${i}`;
    const before = c.received; // a connection carries 5 small responses: all kept in `text`
    c.send(GET('/bg', `x-id: ${id}\r\n`));
    await c.until(() => splitResponses(c.text.slice(before)).length > 0, 3000, `background request ${id}`);
    const [r] = splitResponses(c.text.slice(before));
    return r?.status === 200 && r.body.startsWith(`id=${id} `) ? null : `${id}: ${r?.status} ${r?.body}`;
  });
}

/** A TCP background: `clients` loops of echo round trips (a new connection every 5). */
export function tcpBackground(port: number, clients = 3): Background {
  return loops(port, clients, async (c, k, i) => {
    const msg = `echo-${k}-${i};`;
    c.send(msg);
    await c.until(() => c.text.endsWith(msg), 3000, `echo ${msg}`);
    return null;
  });
}

// ---- what the proxy says ----------------------------------------------------------------------

/**
 * A matcher of the log lines of frontend `fe`'s client on `port`, never a background request's.
 * The frontend is part of the match: the kernel gives the same ephemeral port to connections to
 * different destinations at once, so a background client of another frontend can have it; and a
 * port is reused once its connection is gone, so a background request can come from it later.
 */
export function logOf(fe: string, port: number): (line: string) => boolean {
  const re = new RegExp(`^127\\.0\\.0\\.1:${port} \\[[^\\]]*\\] ${fe} `);
  return (l) => re.test(l) && !l.includes('"GET /bg ');
}

/** The first log line of frontend `fe` from client port `port` logged after line index `from`. */
export async function logFrom(p: RunningProxy, fe: string, port: number, from: number, ms = 5000): Promise<string> {
  const mine = logOf(fe, port);
  let line: string | undefined;
  await eventually(() => (line = p.logs.slice(from).find(mine)) !== undefined, ms, `a log line of ${fe} from client port ${port}`).catch((e) => {
    const other = p.logs.slice(from).filter((l) => !l.includes('"GET /bg '));
    throw new Error(`${(e as Error).message}; logs since (but the background's):\n${other.join('\n')}`);
  });
  return line as string;
}

/** The HTTP log line of frontend `fe`'s client on `port`, parsed. */
export async function httpLogFrom(p: RunningProxy, fe: string, port: number, from: number, ms = 5000): Promise<HttpLogLine & { line: string }> {
  const line = await logFrom(p, fe, port, from, ms);
  return { ...parseHttpLog(line), line };
}

/** The termination state (2 characters) of a `tcplog` line. */
export function tcpTermination(line: string): string {
  const m = / -?\d+\/-?\d+\/\+?\d+ \d+ (\S\S) \d+\/\d+\/\d+\/\d+\/\+?\d+ \d+\/\d+$/.exec(line);
  if (!m) throw new Error(`not a tcplog line: ${line}`);
  return m[1] as string;
}

/** Sessions of frontend `fe` in `show sess`. */
export async function sessionsOf(p: RunningProxy, fe: string): Promise<string[]> {
  const out = await p.cli('show sess');
  return out.split('\n').filter((l) => l.startsWith('0x') && l.includes(` fe=${fe} `));
}

/** Wait until frontend `fe` has no session left (the fault's session is gone). */
export async function noSessionLeft(p: RunningProxy, fe: string, ms = 3000): Promise<void> {
  let last: string[] = [];
  await eventually(async () => (last = await sessionsOf(p, fe)).length === 0, ms, `no session of ${fe} in show sess`).catch((e) => {
    throw new Error(`${(e as Error).message}:\n${last.join('\n')}`);
  });
}

/** Resident memory of a process in KiB (/proc/PID/status VmRSS). */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

/**
 * Bytes queued in the kernel for the TCP connection between local `portA` and `portB` (both on
 * 127.0.0.1), from /proc/net/tcp: the send queue of A's socket and the receive queue of B's.
 * For a client (A) and the proxy's listener (B), it is what the client sent that the proxy has
 * not read yet.
 */
export function queuedBytes(portA: number, portB: number): { sendQ: number; recvQ: number } {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
  let sendQ = 0;
  let recvQ = 0;
  for (const l of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = l.trim().split(/\s+/);
    if (f.length < 5) continue;
    const [txq = '0', rxq = '0'] = (f[4] as string).split(':');
    const local = (f[1] as string).split(':')[1];
    const remote = (f[2] as string).split(':')[1];
    if (local === hex(portA) && remote === hex(portB)) sendQ += Number.parseInt(txq, 16);
    if (local === hex(portB) && remote === hex(portA)) recvQ += Number.parseInt(rxq, 16);
  }
  return { sendQ, recvQ };
}
