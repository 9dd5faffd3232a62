/**
 * The simulator's `mode http` actors: origin servers that parse what the proxy sends them and
 * answer (or misbehave), and clients that send requests over keep-alive and check, byte by byte as
 * it arrives, what the proxy sends back. Every request carries an id (`C<client>R<n>`) in its path,
 * in an `x-req` header and in its body; an origin echoes it in `x-req` and frames its body as
 * `<id|yyy|id>`, so a client can tell its own answers from anyone else's, and a complete body from
 * a truncated one, without trusting the proxy's parser.
 */
import type { Rng, SimTransport } from './sim.ts';

/** How a simulated HTTP origin behaves (per server; each connection draws its own counts). */
export const HttpServerKinds = [
  'keepalive',
  'idle-close',
  'close-after-n',
  'slow',
  'empty',
  'garbage',
  'reset-body',
  'conn-close',
  'status-503',
  'early',
  'refuse',
  'blackhole',
] as const;
export type HttpServerKind = (typeof HttpServerKinds)[number];

/** Kinds whose every started request ends in a complete answer (the origin's or the proxy's). */
export const AnsweringHttpKinds: ReadonlySet<string> = new Set(HttpServerKinds.filter((k) => k !== 'reset-body'));

/**
 * Kinds that answer every request they get on a new connection: behind them a 502 or a server-side
 * abort can only come from the reuse race, which the proxy must retry on a new connection.
 */
export const ReliableHttpKinds: ReadonlySet<string> = new Set(['keepalive', 'idle-close', 'close-after-n', 'slow', 'conn-close', 'status-503', 'early']);

/** Statuses the proxy may generate in these scenarios (no deny, no return rules). */
export const GeneratedStatuses: ReadonlySet<number> = new Set([400, 408, 502, 503, 504]);

/**
 * Bugs of src/ the simulator found, each named: `true` lets the checks step over it so that the
 * search goes on finding other ones while it is open; `sim.test.ts` keeps a test per entry that
 * runs the HTTP seeds with the tolerance off. All three are fixed (false); keep the entries as
 * the record and the switch for the next one.
 */
export const Tolerate = {
  /**
   * Seed 78: a generated answer (502/503/504) to a HEAD request carries its HTML body, which the
   * client reads as the start of a next response (RFC 9112 §6.3: a response to HEAD has no body;
   * HAProxy's H1 mux drops it). When on, the client skips that body by its Content-Length.
   */
  generatedBodyOnHead: false,
  /**
   * Seed 703: a client pipelines requests and half-closes (FIN after its last request) while an
   * earlier one is served: the proxy answers that one, then closes, dropping the complete requests
   * it read ahead — no answer, no log line (HAProxy serves what it has read). When on, requests
   * behind the one being served when the FIN came do not count as started.
   */
  pipelinedAfterClientFin: false,
  /**
   * Seed 1187: `timeout client` is not refreshed when a response starts flowing to the client, so
   * a write that blocks for a few ms after a server took nearly `timeout client` to answer ends
   * the session with cD at once. When on, a request logged cD is not held to be answered.
   */
  clientTimeoutDuringResponse: false,
  /**
   * Seed 7480 (3 workers): a worker reads a backend's release sequence only after its attempt to
   * reserve a slot failed (`Session.enqueue` → `watchQueue`, and `processQueue` → `watchQueue`),
   * so a slot another worker frees in between is a lost wake-up: the worker sleeps on the new
   * value while a slot is free, until the next release or its `Atomics.waitAsync` timeout (1 s);
   * the queued session waits (or times out, 503 sQ). When on, a session queued in a worker whose
   * wait began while the slot was already free may wait up to that timeout, not one wake-up.
   * Fixed: the sequence is read before the attempt and handed to watchQueue().
   */
  lostWakeup: false,
};

/** What the runs exercised (`npm run sim -- --stats`): the races the HTTP checks are for. */
export const Coverage = {
  /** The proxy wrote to a connection its server had closed already (the reuse race). */
  writeAfterServerClose: 0,
  /** A server connection received its second or later request (it was kept or reused). */
  laterRequests: 0,
  /** Pipelined clients, HTTP/1.0 clients, aborts. */
  pipelined: 0,
  http10: 0,
  aborts: 0,
};

/** What the HTTP actors need from the simulation. */
export interface HttpHost {
  readonly rng: Rng;
  readonly world: { t: number; at(delay: number, fn: () => void): void };
  violate(what: string): void;
}

interface ParsedHead {
  readonly start: string;
  readonly headers: Map<string, string>;
}

function parseHead(text: string): ParsedHead | null {
  const lines = text.split('\r\n');
  const start = lines.shift() ?? '';
  const headers = new Map<string, string>();
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i <= 0) return null;
    const name = l.slice(0, i).toLowerCase();
    if (headers.has(name)) return null;
    headers.set(name, l.slice(i + 1).trim());
  }
  return { start, headers };
}

const hasToken = (v: string | undefined, tok: string): boolean => (v ?? '').toLowerCase().split(',').some((x) => x.trim() === tok);

/**
 * Deliver `data` (not empty) from the peer of `t` in 1–3 pieces, in order after what it sent
 * before. `beforeLast` runs in the event of the last piece, just before it is delivered (the proxy
 * may react to the last piece at once by sending the next request); `after` in a later event.
 */
function send(host: HttpHost, t: SimTransport, data: Buffer, delay: number, beforeLast: () => void, after?: () => void): void {
  const { rng, world } = host;
  let at = Math.max(world.t + delay, t.peerClock);
  let off = 0;
  const pieces = rng.int(1, Math.min(3, data.length));
  for (let p = 0; p < pieces; p++) {
    const last = p === pieces - 1;
    const n = last ? data.length - off : rng.int(1, data.length - off - (pieces - 1 - p));
    const piece = data.subarray(off, off + n);
    off += n;
    world.at(at - world.t, () => {
      if (last) beforeLast();
      t.deliverData(piece);
    });
    if (!last) at += rng.int(0, 3);
  }
  t.peerClock = at;
  if (after) world.at(at - world.t, after);
}

/** A whole chunked body at the start of `buf`: its payload and the bytes it used; null: not all in. */
function takeChunked(buf: string): { body: string; used: number } | null | 'bad' {
  let off = 0;
  let body = '';
  for (;;) {
    const i = buf.indexOf('\r\n', off);
    if (i < 0) return buf.length - off > 20 ? 'bad' : null;
    const line = buf.slice(off, i);
    if (!/^[0-9a-fA-F]+$/.test(line)) return 'bad';
    const n = Number.parseInt(line, 16);
    off = i + 2;
    if (n === 0) {
      // no trailers from our clients: the blank line ends the body
      if (buf.length < off + 2) return null;
      if (buf.slice(off, off + 2) !== '\r\n') return 'bad';
      return { body, used: off + 2 };
    }
    if (buf.length < off + n + 2) return null;
    body += buf.slice(off, off + n);
    if (buf.slice(off + n, off + n + 2) !== '\r\n') return 'bad';
    off += n + 2;
  }
}

// ---- origin servers -------------------------------------------------------------------------------

interface ServerRequest {
  readonly id: string;
  readonly method: string;
  readonly minor: number;
  /** The proxy asked to close, or an HTTP/1.0 request without keep-alive. */
  readonly close: boolean;
}

/** One server connection of a simulated origin. */
export class HttpOrigin {
  readonly host: HttpHost;
  readonly t: SimTransport;
  readonly kind: HttpServerKind;
  private buf = '';
  /** The body being read: `need` bytes more (Content-Length), or chunked; `answered` early. */
  private body: { req: ServerRequest; need: number; chunked: boolean; got: string; answered: boolean } | null = null;
  /** Requests received on this connection. */
  private received = 0;
  /** Responses scheduled whose last byte has not been delivered yet. */
  inFlight = 0;
  /** The id of the request being answered (for the messages). */
  private answering = '';
  /** The server closed its side (FIN or RST sent): what the proxy writes now is answered by an RST. */
  closed = false;
  /** Answered early and closing: a lingering close, once the body is read (no RST to cut the answer). */
  private closeAfterBody = false;
  /** It decided to close (it reads no more requests). */
  private closing = false;
  private rstSent = false;
  /** Per connection: which request (1-based) misbehaves, or after how many it closes. */
  private readonly limit: number;

  constructor(host: HttpHost, t: SimTransport, kind: HttpServerKind) {
    this.host = host;
    this.t = t;
    this.kind = kind;
    this.limit = host.rng.int(1, 3);
  }

  /** The proxy wrote to this connection. */
  onWrite(chunk: Buffer): void {
    if (this.closed) {
      // a closed socket answers data with a reset (the race of reusing a connection being closed)
      if (!this.rstSent) {
        this.rstSent = true;
        Coverage.writeAfterServerClose++;
        const at = Math.max(this.host.world.t + this.host.rng.int(0, 5), this.t.peerClock);
        this.host.world.at(at - this.host.world.t, () => this.t.reset());
      }
      return;
    }
    this.buf += chunk.toString('latin1');
    this.parse();
  }

  /** The proxy half-closed: a server closes in turn. */
  onEnd(): void {
    this.close(this.host.rng.int(0, 5));
  }

  private parse(): void {
    for (;;) {
      if (this.closing) return;
      if (this.body) {
        if (this.body.chunked) {
          const r = takeChunked(this.buf);
          if (r === 'bad') {
            this.host.violate(`server transport ${this.t.id} received a bad chunked body ${JSON.stringify(this.buf.slice(0, 60))} for ${this.body.req.id}`);
            this.closing = this.closed = true;
            return;
          }
          if (r === null) return;
          this.body.got = r.body;
          this.buf = this.buf.slice(r.used);
        } else {
          const take = Math.min(this.body.need, this.buf.length);
          this.body.got += this.buf.slice(0, take);
          this.body.need -= take;
          this.buf = this.buf.slice(take);
          if (this.body.need > 0) return;
        }
        const { req, got, answered } = this.body;
        this.body = null;
        if (this.closeAfterBody) this.close(0);
        if (!new RegExp(`^\\[${req.id}:b*\\]$`).test(got)) this.host.violate(`server transport ${this.t.id} received body ${JSON.stringify(got)} for request ${req.id}`);
        if (!answered) this.onRequest(req);
        continue;
      }
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const text = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 4);
      const head = parseHead(text);
      const m = head ? /^(GET|POST|HEAD) \/c(\d+)\/r(\d+) HTTP\/1\.([01])$/.exec(head.start) : null;
      if (!head || !m) {
        this.host.violate(`server transport ${this.t.id} received a malformed request head ${JSON.stringify(text.slice(0, 80))}`);
        this.closing = this.closed = true;
        return;
      }
      const id = `C${m[2]}R${m[3]}`;
      if (head.headers.get('x-req') !== id) this.host.violate(`server transport ${this.t.id}: request ${id} arrived with x-req ${head.headers.get('x-req')}`);
      if (this.inFlight > 0) {
        // the proxy may send the next request only once the previous response is all in
        this.host.violate(`server transport ${this.t.id} received request ${id} before its response to ${this.answering} was complete`);
      }
      const minor = Number(m[4]);
      const conn = head.headers.get('connection');
      const req: ServerRequest = { id, method: m[1] as string, minor, close: hasToken(conn, 'close') || (minor === 0 && !hasToken(conn, 'keep-alive')) };
      const cl = head.headers.get('content-length');
      const chunked = hasToken(head.headers.get('transfer-encoding'), 'chunked');
      if (chunked || (cl !== undefined && Number(cl) > 0)) {
        // `early` answers as soon as it has the head, before the body (then reads the body anyway)
        const answered = this.kind === 'early' && this.host.rng.chance(0.6);
        this.body = { req, need: chunked ? 0 : Number(cl), chunked, got: '', answered };
        if (answered) this.onRequest(req);
        continue;
      }
      this.onRequest(req);
    }
  }

  private onRequest(req: ServerRequest): void {
    const { rng } = this.host;
    this.received++;
    if (this.received > 1) Coverage.laterRequests++;
    const failing = this.received >= this.limit;
    switch (this.kind) {
      case 'empty':
        if (failing) {
          this.close(rng.int(0, 20)); // closes without answering
          return;
        }
        break;
      case 'garbage':
        if (failing && rng.chance(0.3)) {
          // a valid answer, then unsolicited bytes a while later (into the idle pool, or taken
          // for the answer to the next request sent on this connection)
          this.respond(req, rng.int(0, 10));
          this.host.world.at(rng.int(0, 60), () => send(this.host, this.t, Buffer.from('JUNK\r\n'), 0, () => {}));
          return;
        }
        if (failing) {
          const junk = rng.pick(['GARBAGE\r\n\r\n', 'HTTP/1.1 2x0 Nope\r\n\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: abc\r\n\r\n', 'HTTP/1.1 200 OK\r\nbad header\r\n\r\n', '\x00\x01\x02']);
          this.respondRaw(req, Buffer.from(junk, 'latin1'), rng.int(0, 10), () => {
            if (rng.chance(0.5)) this.close(rng.int(0, 30));
          });
          return;
        }
        break;
      case 'reset-body':
        if (failing && req.method !== 'HEAD') {
          const body = this.bodyFor(req);
          const head = `HTTP/1.1 200 OK\r\nx-req: ${req.id}\r\ncontent-length: ${body.length}\r\n\r\n`;
          this.closing = this.closed = true;
          send(this.host, this.t, Buffer.from(head + body.slice(0, rng.int(0, body.length - 1)), 'latin1'), rng.int(0, 10), () => {}, () => this.t.reset());
          return;
        }
        break;
      default:
        break;
    }
    const slow = this.kind === 'slow' ? rng.int(50, 700) : rng.int(0, 10);
    this.respond(req, slow);
  }

  private bodyFor(req: ServerRequest): string {
    return `<${req.id}|${'y'.repeat(this.host.rng.int(0, 40))}|${req.id}>`;
  }

  /** A well-formed answer carrying the request's id. */
  private respond(req: ServerRequest, delay: number): void {
    const { rng } = this.host;
    const status = this.kind === 'status-503' && rng.chance(0.5) ? 503 : 200;
    const body = this.bodyFor(req);
    const closeAfter = this.kind === 'conn-close' || req.close || (this.kind === 'close-after-n' && this.received >= this.limit);
    let framing = rng.pick(req.minor === 1 || rng.chance(0.2) ? ['length', 'length', 'chunked'] : ['length']);
    if (this.kind === 'conn-close' && rng.chance(0.4)) framing = 'close';
    let head = `HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Service Unavailable'}\r\nx-req: ${req.id}\r\n`;
    // conn-close announces it; close-after-n does not (it just closes after its nth answer)
    if (this.kind === 'conn-close' || (req.close && closeAfter)) head += 'connection: close\r\n';
    else if (req.minor === 0) head += 'connection: keep-alive\r\n';
    let payload = body;
    if (framing === 'length') head += `content-length: ${body.length}\r\n`;
    else if (framing === 'chunked') {
      head += 'transfer-encoding: chunked\r\n';
      payload = '';
      let off = 0;
      while (off < body.length) {
        const n = rng.int(1, body.length - off);
        payload += `${n.toString(16)}\r\n${body.slice(off, off + n)}\r\n`;
        off += n;
      }
      payload += '0\r\n\r\n';
    }
    // an interim answer first, now and then (only to HTTP/1.1: RFC 9110 §15.2)
    const interim = req.minor === 1 && rng.chance(0.08) ? `HTTP/1.1 ${rng.pick(['100 Continue', '103 Early Hints'])}\r\nx-req: ${req.id}\r\n\r\n` : '';
    const data = Buffer.from(`${interim}${head}\r\n${req.method === 'HEAD' ? '' : payload}`, 'latin1');
    const served = this.received;
    this.respondRaw(req, data, delay, () => {
      if (closeAfter && this.body?.answered) this.closeAfterBody = true;
      else if (closeAfter) this.close(0);
      else if (this.kind === 'idle-close') {
        // closes the connection if no request came after a while: the race with reuse
        this.host.world.at(rng.int(0, 120), () => {
          // a reset discards what the proxy has not read yet: only once it read everything
          if (this.received === served && this.inFlight === 0) this.close(0, rng.chance(0.2));
        });
      }
    });
  }

  private respondRaw(req: ServerRequest, data: Buffer, delay: number, then: () => void): void {
    this.inFlight++;
    this.answering = req.id;
    send(
      this.host,
      this.t,
      data,
      delay,
      () => this.inFlight--,
      () => {
        if (!this.t.retired) then();
      },
    );
  }

  /**
   * The server closes its connection (FIN, or RST with `reset`) in `delay` ms, after what it sent
   * before; the FIN then travels for up to 20 ms, and what the proxy writes meanwhile meets a
   * closed socket (the window of the reuse race).
   */
  close(delay: number, reset = false): void {
    if (this.closing) return;
    this.closing = true;
    this.host.world.at(delay, () => {
      this.closed = true;
      this.sendClose(reset);
    });
  }

  private sendClose(reset: boolean): void {
    const t = this.t;
    const at = Math.max(this.host.world.t + this.host.rng.int(0, 20), t.peerClock);
    t.peerClock = at;
    this.host.world.at(at - this.host.world.t, () => {
      if (t.retired || t.peerEnded) return;
      // a reset discards what the proxy has not read yet: only once it read everything
      if (reset && !t.holding) t.reset();
      else {
        t.deliverEnd();
        t.maybeClosed();
      }
    });
  }
}

// ---- clients ------------------------------------------------------------------------------------

interface ClientRequest {
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'HEAD';
  readonly raw: Buffer;
  /** Offset of its first byte in the client's byte stream. */
  readonly from: number;
  /** Malformed on purpose. */
  readonly bad: boolean;
}

/** What one client does, drawn from the seed. */
export interface HttpClientPlan {
  readonly requests: number;
  /** All requests sent at once instead of one after each response. */
  readonly pipelined: boolean;
  /** HTTP/1.0 (with `Connection: keep-alive` when `keepAlive10`). */
  readonly minor: 0 | 1;
  readonly keepAlive10: boolean;
  /** Reset the connection in the middle of request / response number `abortAt`. */
  readonly abort: 'none' | 'request' | 'response';
  readonly abortAt: number;
  /** After the last request: FIN once answered, FIN right after sending it, or stay silent. */
  readonly end: 'fin' | 'half-close' | 'idle';
  /** The request sent malformed (-1: none). */
  readonly badAt: number;
}

/** A response as the client saw it. */
export interface ClientResponse {
  readonly index: number;
  readonly status: number;
  /** Carries the request's id (an origin's answer), else generated by the proxy. */
  readonly origin: boolean;
  /** The proxy keeps the connection open after it. */
  readonly keepAlive: boolean;
  complete: boolean;
}

type Phase = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'close' | 'dead';

/** One simulated HTTP client. */
export class HttpClient {
  readonly host: HttpHost;
  readonly id: number;
  readonly t: SimTransport;
  readonly plan: HttpClientPlan;
  readonly requests: ClientRequest[] = [];
  /** Per request: its first byte reached the proxy while the proxy still read the connection. */
  readonly firstByteIn: boolean[] = [];
  readonly responses: ClientResponse[] = [];
  /** Bytes of our stream delivered to the proxy so far. */
  private delivered = 0;
  private nextToSend = 0;
  private finSent = false;
  /** Complete responses when our FIN reached the proxy (-1: not yet). */
  private answeredAtFin = -1;
  private abortArmed = false;
  // the response parser
  private phase: Phase = 'head';
  private rbuf = '';
  private remaining = 0;
  private body = '';
  private cur: ClientResponse | null = null;
  /** Nothing more may come: a generated answer, or one that announced the close. */
  private last = false;

  constructor(host: HttpHost, id: number, t: SimTransport, plan: HttpClientPlan) {
    this.host = host;
    this.id = id;
    this.t = t;
    this.plan = plan;
    const { rng } = host;
    let from = 0;
    for (let j = 0; j < plan.requests; j++) {
      const rid = `C${id}R${j}`;
      const r = rng.next();
      const method = r < 0.6 ? 'GET' : r < 0.9 ? 'POST' : 'HEAD';
      let head = `${method} /c${id}/r${j} HTTP/1.${plan.minor}\r\nhost: sim\r\nx-req: ${rid}\r\n`;
      if (plan.minor === 0 && plan.keepAlive10) head += 'connection: keep-alive\r\n';
      // a malformed request (the proxy answers 400 and closes)
      const bad = j === plan.badAt;
      if (bad) head += rng.pick(['bad header line\r\n', 'x-sp : a\r\n', 'content-length: 1\r\ncontent-length: 2\r\n']);
      let body = '';
      if (method === 'POST') {
        const payload = `[${rid}:${'b'.repeat(rng.int(0, 60))}]`;
        if (plan.minor === 1 && rng.chance(0.3)) {
          head += 'transfer-encoding: chunked\r\n';
          let off = 0;
          while (off < payload.length) {
            const n = rng.int(1, payload.length - off);
            body += `${n.toString(16)}\r\n${payload.slice(off, off + n)}\r\n`;
            off += n;
          }
          body += '0\r\n\r\n';
        } else {
          body = payload;
          head += `content-length: ${body.length}\r\n`;
        }
      }
      const raw = Buffer.from(`${head}\r\n${body}`, 'latin1');
      this.requests.push({ id: rid, method, raw, from, bad });
      this.firstByteIn.push(false);
      from += raw.length;
    }
  }

  describe(): string {
    const p = this.plan;
    const parts = [`${p.requests} req (${this.requests.map((r) => r.method).join(' ')})`, `HTTP/1.${p.minor}${p.minor === 0 && p.keepAlive10 ? ' keep-alive' : ''}`];
    if (p.pipelined) parts.push('pipelined');
    if (p.abort !== 'none') parts.push(`abort in ${p.abort} ${p.abortAt}`);
    if (p.badAt >= 0) parts.push(`request ${p.badAt} malformed`);
    parts.push(`end ${p.end}`);
    return `client ${this.id} (port ${this.t.remote.port}): ${parts.join(', ')}`;
  }

  /** Connected (accepted): start sending. */
  start(): void {
    if (this.plan.pipelined) Coverage.pipelined++;
    if (this.plan.minor === 0) Coverage.http10++;
    if (this.plan.abort !== 'none') Coverage.aborts++;
    if (this.plan.pipelined) {
      let at = 0;
      for (let j = 0; j < this.requests.length; j++) {
        at = this.sendRequest(j, at);
        if (this.plan.abort === 'request' && j === this.plan.abortAt) return;
      }
      this.nextToSend = this.requests.length;
      if (this.plan.end === 'half-close') this.host.world.at(at, () => this.fin());
      return;
    }
    this.sendNext(this.host.rng.int(0, 50));
  }

  private sendNext(delay: number): void {
    const j = this.nextToSend++;
    const at = this.sendRequest(j, delay);
    if (this.plan.abort === 'request' && j === this.plan.abortAt) return;
    if (j === this.requests.length - 1 && this.plan.end === 'half-close') this.host.world.at(at, () => this.fin());
  }

  /** Schedule request `j` in random splits from `delay` on; returns when its last byte goes. */
  private sendRequest(j: number, delay: number): number {
    const { rng, world } = this.host;
    const raw = (this.requests[j] as ClientRequest).raw;
    const aborting = this.plan.abort === 'request' && j === this.plan.abortAt;
    const len = aborting ? rng.int(0, raw.length - 1) : raw.length;
    let at = delay;
    let off = 0;
    while (off < len) {
      const n = rng.int(1, len - off);
      const part = raw.subarray(off, off + n);
      off += n;
      at += rng.int(0, 15);
      world.at(at, () => this.t.deliverData(part));
    }
    if (aborting) world.at(at + rng.int(0, 30), () => this.t.reset());
    return at;
  }

  private fin(): void {
    if (this.finSent || this.t.retired || this.t.peerEnded) return;
    this.finSent = true;
    this.t.deliverEnd();
    this.t.maybeClosed();
  }

  /** Bytes of ours just reached the proxy (`open`: it had not shut its side yet). */
  onDelivered(chunk: Buffer, open: boolean): void {
    const from = this.delivered;
    this.delivered += chunk.length;
    if (!open) return;
    for (let j = 0; j < this.requests.length; j++) {
      const r = this.requests[j] as ClientRequest;
      if (r.from >= from && r.from < this.delivered) this.firstByteIn[j] = true;
    }
  }

  /** Our FIN reached the proxy. */
  onFinDelivered(): void {
    if (this.answeredAtFin < 0) this.answeredAtFin = this.responses.filter((r) => r.complete).length;
  }

  /**
   * The transactions the proxy must have started (and logged): a request whose first byte came
   * while the proxy read the connection, and which it reached — the first, or one after a complete
   * answer that kept the connection open (pipelined requests behind a closing answer are dropped).
   */
  started(): number[] {
    const out: number[] = [];
    for (let j = 0; j < this.requests.length; j++) {
      if (!this.firstByteIn[j]) break;
      const prev = this.responses[j - 1];
      if (j > 0 && !(prev?.complete && prev.keepAlive)) break;
      if (Tolerate.pipelinedAfterClientFin && this.answeredAtFin >= 0 && j > this.answeredAtFin) break;
      out.push(j);
    }
    return out;
  }

  // ---- what the proxy sends -------------------------------------------------------------------

  /** The proxy wrote to the client connection. */
  onReceive(chunk: Buffer): void {
    this.rbuf += chunk.toString('latin1');
    this.parse();
  }

  /** The proxy shut its side (FIN) or destroyed the connection: a close-delimited body ends. */
  onProxyClosed(fin: boolean): void {
    if (this.phase === 'close' && this.cur) {
      const id = (this.requests[this.cur.index] as ClientRequest).id;
      if (bodyState(this.body, id) === 'complete') this.finish();
      this.phase = 'dead';
    }
    if (fin && this.host.rng.chance(0.9)) this.host.world.at(this.host.rng.int(0, 5), () => this.fin());
  }

  private bad(what: string): void {
    this.host.violate(`client ${this.id} ${what}`);
    this.phase = 'dead';
  }

  private parse(): void {
    for (;;) {
      switch (this.phase) {
        case 'dead':
          this.rbuf = '';
          return;
        case 'head': {
          if (this.rbuf.length === 0) return;
          if (this.last) {
            this.bad(`received ${JSON.stringify(this.rbuf.slice(0, 60))} after its last response`);
            return;
          }
          if (!this.rbuf.startsWith('HTTP/1.'.slice(0, this.rbuf.length))) {
            this.bad(`received ${JSON.stringify(this.rbuf.slice(0, 60))} where a response should start`);
            return;
          }
          this.maybeAbort();
          const end = this.rbuf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const text = this.rbuf.slice(0, end);
          this.rbuf = this.rbuf.slice(end + 4);
          this.onHead(text);
          break;
        }
        case 'length': {
          const take = Math.min(this.remaining, this.rbuf.length);
          if (take === 0) return;
          this.bodyBytes(this.rbuf.slice(0, take));
          this.rbuf = this.rbuf.slice(take);
          this.remaining -= take;
          if (this.remaining === 0) this.finish();
          break;
        }
        case 'chunk-size': {
          const i = this.rbuf.indexOf('\r\n');
          if (i < 0) {
            if (this.rbuf.length > 16) {
              this.bad(`received a bad chunk size ${JSON.stringify(this.rbuf.slice(0, 20))}`);
              return;
            }
            return;
          }
          const line = this.rbuf.slice(0, i);
          this.rbuf = this.rbuf.slice(i + 2);
          if (!/^[0-9a-fA-F]+$/.test(line)) {
            this.bad(`received a bad chunk size ${JSON.stringify(line)}`);
            return;
          }
          this.remaining = Number.parseInt(line, 16);
          this.phase = this.remaining === 0 ? 'trailer' : 'chunk-data';
          break;
        }
        case 'chunk-data': {
          const take = Math.min(this.remaining, this.rbuf.length);
          if (take === 0) return;
          this.bodyBytes(this.rbuf.slice(0, take));
          this.rbuf = this.rbuf.slice(take);
          this.remaining -= take;
          if (this.remaining === 0) this.phase = 'chunk-crlf';
          break;
        }
        case 'chunk-crlf': {
          if (this.rbuf.length < 2) {
            if (this.rbuf.length === 1 && this.rbuf !== '\r') {
              this.bad('received a chunk without its CRLF');
              return;
            }
            return;
          }
          if (!this.rbuf.startsWith('\r\n')) {
            this.bad('received a chunk without its CRLF');
            return;
          }
          this.rbuf = this.rbuf.slice(2);
          this.phase = 'chunk-size';
          break;
        }
        case 'trailer': {
          const i = this.rbuf.indexOf('\r\n');
          if (i < 0) return;
          const line = this.rbuf.slice(0, i);
          this.rbuf = this.rbuf.slice(i + 2);
          if (line === '') this.finish();
          break;
        }
        case 'close':
          if (this.rbuf.length === 0) return;
          this.bodyBytes(this.rbuf);
          this.rbuf = '';
          return;
      }
    }
  }

  /** The response that starts now answers request `index`: abort here if the plan says so. */
  private maybeAbort(): void {
    const index = this.responses.length;
    if (this.plan.abort !== 'response' || this.plan.abortAt !== index || this.abortArmed) return;
    this.abortArmed = true;
    this.host.world.at(this.host.rng.int(0, 4), () => this.t.reset());
  }

  private onHead(text: string): void {
    const index = this.responses.length;
    const head = parseHead(text);
    const m = head ? /^HTTP\/1\.([01]) (\d{3}) /.exec(`${head.start} `) : null;
    if (!head || !m) {
      this.bad(`received a malformed response head ${JSON.stringify(text.slice(0, 80))}`);
      return;
    }
    const status = Number(m[2]);
    const xreq = head.headers.get('x-req');
    const req = this.requests[index];
    if (status < 200) {
      // an interim answer, forwarded: the final one follows
      if (xreq !== req?.id) {
        this.bad(`received an interim ${status} for ${xreq} where it expected one for ${req?.id}`);
        return;
      }
      if (this.plan.minor === 0) {
        this.bad(`received an interim ${status} though it speaks HTTP/1.0`);
        return;
      }
      return;
    }
    if (req?.bad && xreq !== undefined) {
      this.bad(`received an origin's answer to its malformed request ${req.id}`);
      return;
    }
    if (xreq !== undefined) {
      if (!req) {
        this.bad(`received a response for ${xreq} after answers to all its ${this.requests.length} requests`);
        return;
      }
      if (xreq !== req.id) {
        this.bad(`received the response for ${xreq} where it expected the one for ${req.id}`);
        return;
      }
      if (!this.firstByteIn[index]) {
        this.bad(`received the response for ${xreq} before the request reached the proxy`);
        return;
      }
    } else if (!GeneratedStatuses.has(status)) {
      this.bad(`received status ${status} without a request id (neither an origin's answer nor a proxy error)`);
      return;
    } else if (!req && status !== 408) {
      this.bad(`received a generated ${status} with no request left to answer`);
      return;
    }
    const conn = head.headers.get('connection');
    const close = hasToken(conn, 'close') || (this.plan.minor === 0 && !hasToken(conn, 'keep-alive'));
    const origin = xreq !== undefined;
    const r: ClientResponse = { index, status, origin, keepAlive: origin && !close, complete: false };
    this.responses.push(r);
    this.cur = r;
    this.body = '';
    // a generated answer ends the connection whatever it says; so does one announcing the close
    if (!r.keepAlive) this.last = true;
    const te = head.headers.get('transfer-encoding');
    const cl = head.headers.get('content-length');
    // a malformed request is answered 400 with its body whatever its method (the proxy could not
    // parse it); so is a 408 for a head that never came complete (the proxy never saw the method)
    const unparsed = req?.bad === true || (!origin && status === 408);
    const bodyless = (req?.method === 'HEAD' && !unparsed && (origin || !Tolerate.generatedBodyOnHead)) || status === 204 || status === 304;
    if (bodyless) this.finish();
    else if (te !== undefined) {
      if (te.toLowerCase() !== 'chunked') {
        this.bad(`received transfer-encoding ${te}`);
        return;
      }
      this.phase = 'chunk-size';
    } else if (cl !== undefined) {
      if (!/^\d+$/.test(cl)) {
        this.bad(`received content-length ${cl}`);
        return;
      }
      this.remaining = Number(cl);
      if (this.remaining === 0) this.finish();
      else this.phase = 'length';
    } else {
      if (!close) {
        this.bad(`received a close-delimited response for ${req?.id} that does not announce the close`);
        return;
      }
      this.phase = 'close';
    }
  }

  private bodyBytes(s: string): void {
    this.body += s;
    const r = this.cur as ClientResponse;
    if (!r.origin) return;
    const id = (this.requests[r.index] as ClientRequest).id;
    if (bodyState(this.body, id) === 'bad') this.bad(`received a body ${JSON.stringify(this.body.slice(-60))} that is not the answer to ${id} (truncated and continued?)`);
  }

  private finish(): void {
    const r = this.cur as ClientResponse;
    if (r.origin && (this.requests[r.index] as ClientRequest).method !== 'HEAD') {
      const id = (this.requests[r.index] as ClientRequest).id;
      if (bodyState(this.body, id) !== 'complete') {
        this.bad(`received an incomplete body ${JSON.stringify(this.body)} for ${id} as a whole response`);
        return;
      }
    }
    r.complete = true;
    this.cur = null;
    this.phase = 'head';
    this.onAnswered(r);
  }

  /** A complete response: send the next request, or end. */
  private onAnswered(r: ClientResponse): void {
    const { rng, world } = this.host;
    const more = r.keepAlive && !this.plan.pipelined && this.nextToSend < this.requests.length;
    if (more && !(this.plan.abort === 'request' && this.nextToSend - 1 === this.plan.abortAt)) {
      this.sendNext(rng.int(0, 400));
      return;
    }
    const all = this.responses.length >= this.requests.length;
    if ((!r.keepAlive || all) && this.plan.end === 'fin') world.at(rng.int(0, 100), () => this.fin());
  }
}

/** Is `body` the answer to `id` (`<id|y*|id>`), a beginning of it, or something else? */
export function bodyState(body: string, id: string): 'complete' | 'prefix' | 'bad' {
  const open = `<${id}|`;
  if (body.length <= open.length) return open.startsWith(body) ? 'prefix' : 'bad';
  if (!body.startsWith(open)) return 'bad';
  const rest = body.slice(open.length);
  const ys = /^y*/.exec(rest)?.[0].length ?? 0;
  const tail = rest.slice(ys);
  const close = `|${id}>`;
  if (tail === close) return 'complete';
  return close.startsWith(tail) ? 'prefix' : 'bad';
}
