/**
 * Deterministic simulation of a worker's core: the real scheduler, sessions, actors, endpoints,
 * load balancing and retries, on a simulated network with virtual time. Every event (connect
 * accepted or refused, bytes in arbitrary splits, FIN, RST, backpressure, late close) happens at a
 * virtual time drawn from a seeded random source, so a run is a function of its seed: a failing
 * seed replays exactly. Invariants are checked after every event, not only at the end.
 */
import { parseConfig } from '../../src/config/parse.ts';
import { initTable } from '../../src/core/backend.ts';
import { IdlePool } from '../../src/core/idle-pool.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { Clock } from '../../src/core/scheduler.types.ts';
import type { Session } from '../../src/core/session.ts';
import type { Endpoint, Network, Transport, TransportReceiver } from '../../src/core/transport.types.ts';
import { WorkerRuntime } from '../../src/core/worker-runtime.ts';
import { formatHttpLog, formatTcpLog } from '../../src/log/format.ts';
import type { TcpLogFields } from '../../src/log/log.types.ts';
import { ServerTable } from '../../src/shared-state/server-table.ts';
import { BackendSlot, ServerSlot } from '../../src/shared-state/server-table.types.ts';
import { AnsweringHttpKinds, HttpClient, ReliableHttpKinds, type HttpClientPlan, HttpOrigin, type HttpServerKind, HttpServerKinds, Tolerate } from './http.ts';

/** mulberry32: small, fast, good enough to draw schedules. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
}

/** How a simulated server behaves. */
export const ServerKinds = ['echo', 'slow-echo', 'refuse', 'blackhole', 'reset', 'close-early', 'garbage'] as const;
export type ServerKind = (typeof ServerKinds)[number];

/** How a simulated client behaves. */
export const ClientKinds = ['polite', 'abort', 'half-close-early', 'silent'] as const;
export type ClientKind = (typeof ClientKinds)[number];

export interface Violation {
  readonly at: number;
  readonly what: string;
}

interface Ev {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Virtual time and the event queue (a binary heap on (time, sequence)). */
class World implements Clock {
  t = 0;
  private seq = 0;
  private heap: Ev[] = [];
  private wake: Ev | null = null;
  private deferred: Array<() => void> = [];
  steps = 0;

  now(): number {
    return this.t;
  }
  arm(delayMs: number, fire: () => void): void {
    const ev: Ev = {
      at: this.t + delayMs,
      seq: this.seq++,
      fn: () => {
        if (this.wake !== ev) return; // re-armed or disarmed since
        this.wake = null;
        fire();
      },
    };
    this.wake = ev;
    this.push(ev);
  }
  disarm(): void {
    this.wake = null;
  }
  defer(fn: () => void): void {
    this.deferred.push(fn);
  }
  at(delay: number, fn: () => void): void {
    this.push({ at: this.t + Math.max(0, delay), seq: this.seq++, fn });
  }
  private push(ev: Ev): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(h[p] as Ev, ev)) break;
      h[i] = h[p] as Ev;
      i = p;
    }
    h[i] = ev;
  }
  private pop(): Ev | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && before(h[r] as Ev, h[l] as Ev) ? r : l;
        if (before(last, h[c] as Ev)) break;
        h[i] = h[c] as Ev;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
  runDeferred(): void {
    while (this.deferred.length > 0) {
      const q = this.deferred;
      this.deferred = [];
      for (const f of q) f();
    }
  }
  /** Run one event (and the run queue after it); false when nothing is left. */
  step(): boolean {
    this.runDeferred();
    const ev = this.pop();
    if (!ev) return false;
    this.t = Math.max(this.t, ev.at);
    this.steps++;
    ev.fn();
    this.runDeferred();
    return true;
  }
}

const before = (a: Ev, b: Ev): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

let nextTransportId = 1;

/** A simulated socket end. Every command is checked against what a socket may still accept. */
export class SimTransport implements Transport {
  readonly id = nextTransportId++;
  receiver: TransportReceiver | null = null;
  destroyed = false;
  /** Set once the transport has reported error or close, or was destroyed: later events are late. */
  retired = false;
  /** The proxy called end(): our write side is shut. */
  ended = false;
  /** The remote end sent its FIN. */
  peerEnded = false;
  paused = false;
  full = false;
  readonly remote: Endpoint;
  readonly local: Endpoint = { address: '10.0.0.254', port: 8080, family: 'IPv4' };
  /** Bytes the proxy wrote to this transport. */
  readonly written: Buffer[] = [];
  readonly sim: Sim;
  /** Events held while the proxy paused reading. */
  private heldData: Buffer[] = [];
  private heldEnd = false;

  constructor(sim: Sim, remote: Endpoint) {
    this.sim = sim;
    this.remote = remote;
  }

  bind(r: TransportReceiver): void {
    this.receiver = r;
  }

  private command(what: string): boolean {
    if (this.sim.trace) this.sim.trace(`t=${this.sim.world.t} transport ${this.id} <- ${what}`);
    this.sim.recordCommand(this, what);
    if (this.destroyed) {
      this.sim.violate(`${what} on transport ${this.id} after it was destroyed`);
      return false;
    }
    return true;
  }

  write(chunk: Buffer): boolean {
    if (!this.command('write')) return true;
    if (this.ended) this.sim.violate(`write on transport ${this.id} after end()`);
    this.written.push(Buffer.from(chunk));
    this.sim.onWrite(this, chunk);
    if (this.sim.rng.chance(0.15)) {
      this.full = true;
      this.sim.world.at(this.sim.rng.int(1, 30), () => {
        if (this.full && !this.destroyed) {
          this.full = false;
          this.emit('drain');
        }
      });
      return false;
    }
    return true;
  }
  end(): void {
    if (!this.command('end')) return;
    this.ended = true;
    this.sim.onEnd(this);
  }
  destroy(): void {
    if (this.sim.trace) this.sim.trace(`t=${this.sim.world.t} transport ${this.id} <- destroy`);
    this.sim.recordCommand(this, 'destroy');
    if (this.destroyed) return;
    this.destroyed = true;
    this.retired = true;
    this.sim.onDestroy(this);
    // Node reports `close` after a destroy, on a later turn: a late event on purpose
    this.sim.world.at(this.sim.rng.int(0, 5), () => this.emit('close'));
  }
  pause(): void {
    if (this.command('pause')) this.paused = true;
  }
  resume(): void {
    if (!this.command('resume')) return;
    this.paused = false;
    if (this.heldData.length > 0 || this.heldEnd) this.sim.world.at(0, () => this.flushHeld());
  }

  /** Bytes or a FIN from the peer are held, not yet read by the proxy (it paused reading). */
  get holding(): boolean {
    return this.heldData.length > 0 || this.heldEnd;
  }

  /** Deliver what arrived while paused, in order, until paused again. */
  private flushHeld(): void {
    while (!this.paused && !this.retired && this.heldData.length > 0) this.emit('data', this.heldData.shift());
    if (!this.paused && !this.retired && this.heldData.length === 0 && this.heldEnd) {
      this.heldEnd = false;
      this.endDelivered = true;
      this.emit('end');
      this.maybeClosed();
    }
  }


  // ---- peer side: what the remote end does ----------------------------------------------------
  deliverData(d: Buffer): void {
    if (this.retired) return;
    if (this.paused || this.heldData.length > 0 || this.heldEnd) {
      this.heldData.push(d);
      return;
    }
    this.emit('data', d);
  }
  deliverEnd(): void {
    if (this.retired) return;
    this.peerEnded = true;
    if (this.paused || this.heldData.length > 0 || this.heldEnd) {
      this.heldEnd = true;
      return;
    }
    this.endDelivered = true;
    this.emit('end');
    this.maybeClosed();
  }

  /** The FIN was delivered to the proxy (not just sent): Node closes only after 'end'. */
  endDelivered = false;
  reset(): void {
    if (this.retired) return;
    this.destroyed = true;
    this.emit('error', { code: 'ECONNRESET', message: 'read ECONNRESET' });
    this.retired = true;
    this.sim.world.at(this.sim.rng.int(0, 5), () => this.emit('close'));
  }
  refuse(): void {
    this.destroyed = true;
    this.emit('error', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    this.retired = true;
    this.sim.world.at(this.sim.rng.int(0, 5), () => this.emit('close'));
  }
  /** Both directions done: the socket closes by itself (as Node does with allowHalfOpen). */
  maybeClosed(): void {
    if (this.ended && this.endDelivered && !this.retired && !this.closing) {
      this.closing = true;
      this.sim.world.at(this.sim.rng.int(0, 3), () => {
        if (this.retired) return;
        this.destroyed = true;
        this.emit('close');
        this.retired = true;
      });
    }
  }

  /** An orderly close is under way (both FINs seen); `close` follows. */
  closing = false;
  /** Virtual time before which nothing more from the peer may arrive (TCP keeps order). */
  peerClock = 0;

  emit(ev: 'connect' | 'data' | 'end' | 'drain' | 'error' | 'close', arg?: unknown): void {
    const r = this.receiver;
    if (!r) return;
    if (this.sim.trace) this.sim.trace(`t=${this.sim.world.t} transport ${this.id} -> ${ev}${ev === 'data' ? ` ${JSON.stringify((arg as Buffer).toString('latin1').slice(0, 60))}` : ''}`);
    if (ev === 'data' || ev === 'end') this.sim.onDelivered(this, arg as Buffer | undefined);
    this.sim.deliver(this, () => {
      switch (ev) {
        case 'connect':
          return r.onConnect();
        case 'data':
          return r.onData(arg as Buffer);
        case 'end':
          return r.onEnd();
        case 'drain':
          return r.onDrain();
        case 'error':
          return r.onError(arg as { code: string; message: string });
        case 'close':
          return r.onClose();
      }
    });
  }
}

interface ServerConn {
  readonly t: SimTransport;
  readonly kind: ServerKind;
}

interface Client {
  readonly id: number;
  readonly kind: ClientKind;
  readonly t: SimTransport;
  readonly payload: Buffer;
  session: Session | null;
  received: Buffer[];
}

export interface SimConfig {
  readonly seed: number;
  /** `tcp` (the default) or `http`: then `servers` are HTTP origin kinds. */
  readonly mode?: 'tcp' | 'http';
  readonly clients: number;
  readonly servers: readonly (ServerKind | HttpServerKind)[];
  /** Extra backend lines (balance, retries, redispatch; http-reuse, retry-on, options). */
  readonly backend: string;
  /** Per-server maxconn (0 = none). */
  readonly maxconn: number;
  readonly timeouts: string;
  /** Extra options on every server line (pool-purge-delay, pool-max-conn). */
  readonly serverOpts?: string;
}

/** One simulated run. */
export class Sim {
  readonly rng: Rng;
  readonly world = new World();
  readonly violations: Violation[] = [];
  readonly rt: WorkerRuntime;
  readonly table: ServerTable;
  readonly logs: string[] = [];
  /** The fields of every log line, in order (HTTP checks read them). */
  readonly logFields: TcpLogFields[] = [];
  readonly clients: Client[] = [];
  /** `mode http`: the clients and the origin side of every server connection. */
  readonly http: boolean;
  readonly httpClients: HttpClient[] = [];
  private readonly httpByTransport = new Map<SimTransport, HttpClient>();
  private readonly origins = new Map<SimTransport, HttpOrigin>();
  private readonly serverConns = new Map<SimTransport, ServerConn>();
  private readonly serverKinds: readonly (ServerKind | HttpServerKind)[];
  private delivering: SimTransport | null = null;
  private deliveringWasRetired = false;
  readonly cfgText: string;
  /** Checks turned off by name (tests prove each HTTP check alone catches its bug class). */
  readonly off = new Set<'close-wait' | 'pool-in-flight' | 'client-stream'>();
  /** Set to print every event and command (`npm run sim -- --seed N --trace`). */
  trace: ((line: string) => void) | null = null;

  constructor(cfg: SimConfig) {
    this.rng = new Rng(cfg.seed);
    this.serverKinds = cfg.servers;
    this.http = cfg.mode === 'http';
    this.cfgText = `
defaults
    mode ${this.http ? 'http' : 'tcp'}
${cfg.timeouts}
listen app
    bind 10.0.0.254:8080
${cfg.backend}
${cfg.servers.map((_k, i) => `    server s${i} 10.0.1.${i}:${7000 + i}${cfg.maxconn ? ` maxconn ${cfg.maxconn}` : ''}${cfg.serverOpts ?? ''}`).join('\n')}
`;
    const config = parseConfig([{ name: 'sim.cfg', text: this.cfgText }]);
    this.table = ServerTable.create(cfg.servers.length, 1);
    initTable(config, this.table);
    const net: Network = { connect: (host, port) => this.connect(host, port) };
    this.rt = new WorkerRuntime({
      workerId: 0,
      config,
      table: this.table,
      sched: new Scheduler(this.world),
      net,
      wallClock: () => 1_764_000_000_000 + this.world.t,
      random: () => this.rng.next(),
      log: (f) => {
        this.logFields.push(f);
        this.logs.push(f.http ? formatHttpLog(f) : formatTcpLog(f));
      },
      onSessionClosed: () => {},
      // one worker: every release is local and wakes the queue through the run queue; a wait
      // that never resolves keeps real time out of the simulation
      waitRelease: () => new Promise(() => {}),
    });
    // an exception inside the core is a bug the run must report, not a warning on stderr
    this.rt.sessionFault = (s, err) => this.violate(`session ${s.id}: internal error: ${(err as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? String(err)}`);
    for (let i = 0; i < cfg.clients; i++) {
      if (this.http) this.addHttpClient(i);
      else this.addClient(i);
    }
  }

  violate(what: string): void {
    this.violations.push({ at: this.world.t, what });
  }

  /** Deliver an event from `t`, remembering whether `t` was already retired (a late event). */
  deliver(t: SimTransport, fn: () => void): void {
    const prev = this.delivering;
    const prevRetired = this.deliveringWasRetired;
    this.delivering = t;
    this.deliveringWasRetired = t.retired;
    try {
      fn();
    } catch (err) {
      this.violate(`exception out of an event of transport ${t.id}: ${(err as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? String(err)}`);
    } finally {
      this.delivering = prev;
      this.deliveringWasRetired = prevRetired;
    }
  }

  /** A late event of a retired connection may not act on any other connection. */
  recordCommand(t: SimTransport, what: string): void {
    const src = this.delivering;
    if (src && this.deliveringWasRetired && src !== t) {
      this.violate(`late event of retired transport ${src.id} caused '${what}' on transport ${t.id}`);
    }
  }

  // ---- servers --------------------------------------------------------------------------------

  private connect(host: string, port: number): Transport {
    const idx = port - 7000;
    const kind = this.serverKinds[idx] ?? 'refuse';
    const t = new SimTransport(this, { address: host, port, family: 'IPv4' });
    if (this.http) return this.connectHttp(t, kind as HttpServerKind);
    const sc: ServerConn = { t, kind: kind as ServerKind };
    this.serverConns.set(t, sc);
    const latency = this.rng.int(0, 20);
    if (kind === 'refuse') this.world.at(latency, () => t.refuse());
    else if (kind !== 'blackhole') {
      this.world.at(latency, () => {
        if (t.retired) return;
        t.emit('connect');
        if (kind === 'close-early') this.world.at(this.rng.int(0, 10), () => this.serverEnd(sc));
        if (kind === 'reset') this.world.at(this.rng.int(0, 40), () => t.reset());
        if (kind === 'garbage') this.world.at(this.rng.int(0, 20), () => t.deliverData(Buffer.from('GARBAGE')));
      });
    }
    return t;
  }

  private serverEnd(sc: ServerConn): void {
    if (sc.t.retired || sc.t.peerEnded) return;
    sc.t.deliverEnd();
    sc.t.maybeClosed();
  }

  private connectHttp(t: SimTransport, kind: HttpServerKind): Transport {
    this.serverConns.set(t, { t, kind: 'echo' });
    const latency = this.rng.int(0, 20);
    if (kind === 'refuse') this.world.at(latency, () => t.refuse());
    else if (kind !== 'blackhole') {
      this.origins.set(t, new HttpOrigin(this, t, kind));
      this.world.at(latency, () => {
        if (!t.retired) t.emit('connect');
      });
    }
    return t;
  }

  onWrite(t: SimTransport, chunk: Buffer): void {
    if (this.http) {
      const o = this.origins.get(t);
      if (o) {
        // the idle-pool invariant: a connection whose FIN reached the proxy is never written again
        if (t.endDelivered) this.violate(`write on server transport ${t.id} after its FIN was delivered to the proxy`);
        o.onWrite(chunk);
      }
      if (!this.off.has('client-stream')) this.httpByTransport.get(t)?.onReceive(Buffer.from(chunk));
      return;
    }
    const sc = this.serverConns.get(t);
    if (sc) {
      if (sc.kind === 'echo' || sc.kind === 'slow-echo' || sc.kind === 'garbage') {
        const delay = sc.kind === 'slow-echo' ? this.rng.int(20, 200) : this.rng.int(0, 10);
        const copy = Buffer.from(chunk);
        // echo in arbitrary splits, in order (TCP): never before what was echoed earlier
        const cut = this.rng.int(0, copy.length);
        const at1 = Math.max(this.world.t + delay, t.peerClock);
        const at2 = at1 + this.rng.int(0, 3);
        t.peerClock = at2;
        this.world.at(at1 - this.world.t, () => t.deliverData(copy.subarray(0, cut)));
        this.world.at(at2 - this.world.t, () => cut < copy.length && t.deliverData(copy.subarray(cut)));
      }
      return;
    }
    const c = this.clients.find((x) => x.t === t);
    if (c) c.received.push(Buffer.from(chunk));
  }

  onEnd(t: SimTransport): void {
    if (this.http) {
      this.origins.get(t)?.onEnd();
      t.maybeClosed();
      this.httpByTransport.get(t)?.onProxyClosed(true);
      return;
    }
    const sc = this.serverConns.get(t);
    if (sc) {
      // the proxy forwarded the client's FIN: a well-behaved server finishes, then closes
      if (sc.kind === 'echo' || sc.kind === 'slow-echo' || sc.kind === 'garbage') {
        const at = Math.max(this.world.t + (sc.kind === 'slow-echo' ? 250 : 20), t.peerClock + 1);
        t.peerClock = at;
        this.world.at(at - this.world.t, () => this.serverEnd(sc));
      }
      t.maybeClosed();
      return;
    }
    const c = this.clients.find((x) => x.t === t);
    t.maybeClosed();
    if (c && c.kind !== 'silent') {
      // the client saw the server's FIN; it has sent its FIN already, or does now
      this.world.at(this.rng.int(0, 5), () => {
        if (!c.t.retired && !c.t.peerEnded) {
          c.t.deliverEnd();
          c.t.maybeClosed();
        }
      });
    }
  }

  onDestroy(t: SimTransport): void {
    if (this.http) this.httpByTransport.get(t)?.onProxyClosed(false);
  }

  /** Data of `t` is being handed to the proxy. */
  onDelivered(t: SimTransport, chunk: Buffer | undefined): void {
    if (!this.http) return;
    const c = this.httpByTransport.get(t);
    if (!c) return;
    if (chunk) c.onDelivered(chunk, !t.ended);
    else c.onFinDelivered();
  }

  // ---- clients --------------------------------------------------------------------------------

  private addClient(id: number): void {
    const kind = this.rng.pick(ClientKinds);
    const t = new SimTransport(this, { address: `192.0.2.${(id % 250) + 1}`, port: 40000 + id, family: 'IPv4' });
    const payload = Buffer.from(`<C${id}:${'x'.repeat(this.rng.int(0, 40))}>`);
    const c: Client = { id, kind, t, payload, session: null, received: [] };
    this.clients.push(c);
    const start = this.rng.int(0, 300);
    this.world.at(start, () => {
      c.session = this.rt.accept(t, 0);
      if (kind === 'silent') return;
      // the request in random splits at random times, then maybe FIN or an abort
      let at = 0;
      let off = 0;
      while (off < payload.length) {
        const n = this.rng.int(1, payload.length - off);
        const part = payload.subarray(off, off + n);
        off += n;
        at += this.rng.int(0, 15);
        this.world.at(at, () => t.deliverData(part));
      }
      if (kind === 'half-close-early' || kind === 'polite') {
        this.world.at(at + (kind === 'polite' ? this.rng.int(50, 400) : 0), () => {
          if (t.retired || t.peerEnded) return;
          t.deliverEnd();
          t.maybeClosed();
        });
      }
      if (kind === 'abort') this.world.at(at + this.rng.int(0, 300), () => t.reset());
    });
  }

  /** An HTTP client: its plan (requests, pipelining, version, abort, end) drawn from the seed. */
  private addHttpClient(id: number): void {
    const rng = this.rng;
    const t = new SimTransport(this, { address: `192.0.2.${(id % 250) + 1}`, port: 40000 + id, family: 'IPv4' });
    const requests = rng.int(1, 5);
    const abortDraw = rng.next();
    const plan: HttpClientPlan = {
      requests,
      pipelined: rng.chance(0.25),
      minor: rng.chance(0.15) ? 0 : 1,
      keepAlive10: rng.chance(0.6),
      abort: abortDraw < 0.7 ? 'none' : abortDraw < 0.85 ? 'request' : 'response',
      abortAt: rng.int(0, requests - 1),
      end: rng.pick(['fin', 'fin', 'half-close', 'idle'] as const),
      badAt: rng.chance(0.08) ? rng.int(0, requests - 1) : -1,
    };
    const c = new HttpClient(this, id, t, plan);
    this.httpClients.push(c);
    this.httpByTransport.set(t, c);
    const client: Client = { id, kind: 'polite', t, payload: Buffer.alloc(0), session: null, received: [] };
    this.clients.push(client);
    this.world.at(rng.int(0, 300), () => {
      client.session = this.rt.accept(t, 0);
      c.start();
    });
  }

  // ---- invariants -------------------------------------------------------------------------------

  /** Checked after every event. */
  checkStep(): void {
    for (const c of this.clients) {
      // never another client's bytes
      const got = this.http ? '' : Buffer.concat(c.received).toString();
      for (const m of got.matchAll(/<C(\d+):/g)) {
        if (Number(m[1]) !== c.id) this.violate(`client ${c.id} received bytes of client ${m[1]}`);
      }
      const s = c.session;
      if (!s || s.closed) continue;
      // seed 000/002 structure: outside CON..DIS the endpoint holds no connection
      const st = s.ep.state;
      if (s.ep.conn && !['CON', 'EST', 'DIS'].includes(st)) this.violate(`session ${s.id} in ${st} still holds connection ${s.ep.conn.id}`);
      if (!s.ep.conn && ['CON', 'EST'].includes(st)) this.violate(`session ${s.id} in ${st} has no connection`);
    }
    // no server socket open without a live owner: a session, or the idle pool that lists it
    for (const [t] of this.serverConns) {
      if (t.retired) continue;
      const actor = t.receiver as { id: number; owner?: unknown } | null;
      const owner = actor?.owner as Session | IdlePool | null | undefined;
      if (!owner) this.violate(`server transport ${t.id} is open with no owner`);
      else if (owner instanceof IdlePool) {
        if (owner !== this.rt.pool || !this.poolHolds(actor?.id ?? -1)) this.violate(`server transport ${t.id} is owned by the idle pool, which does not list it`);
        const o = this.origins.get(t);
        // parked before its response was all in: the next request would read the rest (cross-talk)
        if (o && o.inFlight > 0 && !this.off.has('pool-in-flight')) this.violate(`server transport ${t.id} is in the idle pool while its server is still sending a response`);
      } else if (owner.closed) this.violate(`server transport ${t.id} is open, owned by closed session ${owner.id}`);
      // HTTP: a FIN from the server ends the connection at once, in the pool or in a session (no CLOSE-WAIT)
      if (this.http && t.endDelivered && !t.destroyed && !t.closing && !this.off.has('close-wait')) this.violate(`server transport ${t.id} left open (CLOSE-WAIT) after its FIN was delivered`);
    }
  }

  /** The pool's own list (private in src/: read for the check only). */
  private poolHolds(connId: number): boolean {
    return (this.rt.pool as unknown as { byConn: Map<number, unknown> }).byConn.has(connId);
  }

  /** Checked once nothing is left to happen. */
  checkEnd(): void {
    if (this.rt.sessions.size !== 0) this.violate(`${this.rt.sessions.size} sessions left: ${[...this.rt.sessions.values()].map((s) => `${s.id}:${s.ep.state}`).join(' ')}`);
    if (this.rt.sched.timersPending !== 0) this.violate(`${this.rt.sched.timersPending} timers left armed`);
    for (const [t] of this.serverConns) if (!t.retired) this.violate(`server transport ${t.id} left open`);
    for (const c of this.clients) {
      if (c.session && !c.t.retired && !c.t.destroyed) this.violate(`client ${c.id} transport left open`);
      if (c.session && !c.session.closed) this.violate(`client ${c.id} session not closed`);
    }
    const n = this.table.init.servers;
    for (let i = 0; i < n; i++) {
      if (this.table.srv(i, ServerSlot.CUR_CONN) !== 0) this.violate(`server ${i} current connections ${this.table.srv(i, ServerSlot.CUR_CONN)} after the end`);
      if (this.table.srv(i, ServerSlot.QUEUE) !== 0) this.violate(`server ${i} queue not empty after the end`);
    }
    if (this.table.be(0, BackendSlot.QUEUE) !== 0) this.violate('backend queue not empty after the end');
    if (this.http) {
      this.checkEndHttp();
      return;
    }
    if (this.logs.length !== this.clients.filter((c) => c.session).length) this.violate(`${this.logs.length} log lines for ${this.clients.length} sessions`);
    // a polite client of well-behaved servers: no abort on either side (timeouts and queue
    // limits may still end it), and a normal end means it got its whole request echoed
    if (this.serverKinds.every((k) => k === 'echo' || k === 'slow-echo')) {
      for (const c of this.clients) {
        if (c.kind !== 'polite' || !c.session) continue;
        const term = c.session.terminationState ?? '??';
        const got = Buffer.concat(c.received).toString();
        if (!/^(--|[cs][RQCD])$/.test(term)) this.violate(`polite client ${c.id} of well-behaved servers ended with ${term}`);
        if (term === '--' && got !== c.payload.toString()) this.violate(`polite client ${c.id} ended -- with ${JSON.stringify(got)} for ${JSON.stringify(c.payload.toString())}`);
      }
    }
  }

  /** At the end of an HTTP run: the pool, the log lines of every client, the answers. */
  private checkEndHttp(): void {
    if (this.rt.pool.size !== 0) this.violate(`${this.rt.pool.size} connections left in the idle pool after its purge delay`);
    const answering = this.serverKinds.every((k) => AnsweringHttpKinds.has(k));
    const reliable = this.serverKinds.every((k) => ReliableHttpKinds.has(k));
    for (const c of this.httpClients) {
      const lines = this.logFields.filter((f) => f.clientPort === c.t.remote.port);
      const started = c.started();
      const desc = (f: TcpLogFields | undefined) => (f ? `"${f.http?.requestLine}" ${f.http?.status} ${f.termination}` : 'none');
      // one line per transaction that started, in order; none for a close between requests
      const extra = lines.length === started.length + 1 && started.length === 0 && lines[0]?.http?.requestLine === '<BADREQ>' && lines[0]?.http?.status === 408;
      if (lines.length !== started.length && !extra) {
        this.violate(`client ${c.id}: ${lines.length} log lines (${lines.map(desc).join(', ')}) for ${started.length} started transactions (${started.map((j) => `r${j}`).join(' ')})`);
        continue;
      }
      for (let k = 0; k < started.length; k++) {
        const f = lines[k];
        const j = started[k] as number;
        const line = f?.http?.requestLine;
        const want = `/c${c.id}/r${j}`;
        if (f?.http?.uri !== want && !(line === '<BADREQ>' && k === lines.length - 1)) this.violate(`client ${c.id}: log line ${k} is ${desc(f)}, for request ${want}`);
        const r = c.responses[j];
        if (r?.complete && f?.http?.status !== r.status) this.violate(`client ${c.id}: request ${want} was answered ${r.status}, logged ${desc(f)}`);
      }
      // simulated clients never stall for more than 30 ms: a client timeout in the data phase is the proxy's
      for (const f of lines) {
        // origins that answer every request on a new connection: a server-side error can only be a
        // reused connection closed by its server, which must be retried on a new one
        if (reliable && (f.http?.status === 502 || f.termination.startsWith('S'))) this.violate(`client ${c.id}: ${desc(f)} behind origins that always answer (a reuse race not retried?)`);
        if (f.termination === 'cD' && !Tolerate.clientTimeoutDuringResponse) this.violate(`client ${c.id}: ${desc(f)}: a client timeout, but the client never stalled`);
      }
      // servers that answer and a client that does not abort: every started request is answered
      if (answering && c.plan.abort === 'none') {
        for (const j of started) {
          if (Tolerate.clientTimeoutDuringResponse && lines[j]?.termination === 'cD') continue;
          if (!c.responses[j]?.complete) this.violate(`client ${c.id}: request r${j} started (logged ${desc(lines[j])}) but got no complete answer`);
        }
      }
    }
  }

  /** Run to the end (bounded); returns the violations. */
  run(maxSteps = 200_000): Violation[] {
    while (this.world.step()) {
      this.checkStep();
      if (this.violations.length > 0) return this.violations;
      if (this.world.steps > maxSteps) {
        this.violate(`no end after ${maxSteps} steps`);
        return this.violations;
      }
    }
    this.checkEnd();
    return this.violations;
  }
}

/**
 * Draw a whole scenario from one seed: `mode http` for about half the seeds (drawn apart, so a TCP
 * seed draws the same scenario as before HTTP was simulated).
 */
export function scenario(seed: number): SimConfig {
  return new Rng(seed ^ 0x5bd1e995).chance(0.5) ? httpScenario(seed) : tcpScenario(seed);
}

/** The seeds among `from..from+count-1` that draw the given mode. */
export function seedsOf(mode: 'tcp' | 'http', from: number, count: number): number[] {
  const out: number[] = [];
  for (let s = from; s < from + count; s++) if ((scenario(s).mode ?? 'tcp') === mode) out.push(s);
  return out;
}

/** A `mode http` scenario: origins, reuse policy, connection mode, retry-on, HTTP timeouts, pool options. */
export function httpScenario(seed: number): SimConfig {
  const rng = new Rng(seed ^ 0x27d4eb2f);
  const nServers = rng.int(1, 3);
  // well-behaved origins are drawn more often, so that reuse actually happens
  const good: HttpServerKind[] = ['keepalive', 'keepalive', 'idle-close', 'idle-close', 'close-after-n', 'slow', 'conn-close', 'status-503'];
  const servers = Array.from({ length: nServers }, () => (rng.chance(0.6) ? rng.pick(good) : rng.pick(HttpServerKinds)));
  const lines = [`    balance ${rng.pick(['roundrobin', 'leastconn', 'first', 'source', 'random', 'uri'])}`, `    retries ${rng.int(0, 3)}`];
  if (rng.chance(0.6)) lines.push(`    option redispatch${rng.chance(0.3) ? ` ${rng.int(1, 2)}` : ''}`);
  if (rng.chance(0.8)) lines.push(`    http-reuse ${rng.pick(['never', 'safe', 'aggressive', 'always'])}`);
  const connMode = rng.next();
  if (connMode < 0.12) lines.push('    option http-server-close');
  else if (connMode < 0.2) lines.push('    option httpclose');
  const r = rng.next();
  if (r < 0.15) lines.push(`    retry-on ${rng.pick(['none', 'all-retryable-errors'])}`);
  else if (r < 0.75) {
    const conds = ['conn-failure', 'empty-response', 'junk-response', 'response-timeout', '503', '502', '504'].filter(() => rng.chance(0.4));
    if (conds.length > 0) lines.push(`    retry-on ${conds.join(' ')}`);
  }
  const maxconn = rng.chance(0.3) ? rng.int(1, 3) : 0;
  const timeouts = [
    `    timeout connect ${rng.int(20, 300)}ms`,
    `    timeout client ${rng.int(200, 2000)}ms`,
    `    timeout server ${rng.int(200, 2000)}ms`,
    `    timeout queue ${rng.int(50, 500)}ms`,
  ];
  if (rng.chance(0.4)) timeouts.push(`    timeout http-request ${rng.int(50, 1000)}ms`);
  if (rng.chance(0.5)) timeouts.push(`    timeout http-keep-alive ${rng.int(50, 1000)}ms`);
  if (rng.chance(0.2)) timeouts.push(`    timeout client-fin ${rng.int(50, 500)}ms`);
  let serverOpts = '';
  if (rng.chance(0.6)) serverOpts += ` pool-purge-delay ${rng.int(0, 2000)}ms`;
  if (rng.chance(0.15)) serverOpts += ` pool-max-conn ${rng.int(0, 2)}`;
  return {
    seed,
    mode: 'http',
    clients: rng.int(1, 8),
    servers,
    backend: lines.join('\n'),
    maxconn,
    timeouts: timeouts.join('\n'),
    serverOpts,
  };
}

/** A `mode tcp` scenario. */
export function tcpScenario(seed: number): SimConfig {
  const rng = new Rng(seed ^ 0x9e3779b9);
  const nServers = rng.int(1, 3);
  const servers = Array.from({ length: nServers }, () => rng.pick(ServerKinds));
  const lines = [`    balance ${rng.pick(['roundrobin', 'leastconn', 'first', 'source', 'random'])}`, `    retries ${rng.int(0, 3)}`];
  if (rng.chance(0.6)) lines.push(`    option redispatch${rng.chance(0.3) ? ` ${rng.int(1, 2)}` : ''}`);
  const maxconn = rng.chance(0.4) ? rng.int(1, 3) : 0;
  const timeouts = [
    `    timeout connect ${rng.int(20, 300)}ms`,
    `    timeout client ${rng.int(200, 2000)}ms`,
    `    timeout server ${rng.int(200, 2000)}ms`,
    `    timeout queue ${rng.int(50, 500)}ms`,
  ];
  if (rng.chance(0.2)) timeouts.push(`    timeout tunnel ${rng.int(200, 2000)}ms`);
  if (rng.chance(0.2)) timeouts.push(`    timeout client-fin ${rng.int(50, 500)}ms`, `    timeout server-fin ${rng.int(50, 500)}ms`);
  return {
    seed,
    clients: rng.int(1, 8),
    servers,
    backend: lines.join('\n'),
    maxconn,
    timeouts: timeouts.join('\n'),
  };
}
