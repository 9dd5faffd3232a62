/**
 * Deterministic simulation of one to three workers' cores: the real schedulers, sessions, actors,
 * endpoints, idle pools, load balancing, retries and queues, sharing one server table, on a
 * simulated network with virtual time; the simulator plays the acceptor (least-loaded hand-off),
 * the cross-worker wake-ups (`Atomics.waitAsync`) and the threads' interleaving. Every event (connect
 * accepted or refused, bytes in arbitrary splits, FIN, RST, backpressure, late close) happens at a
 * virtual time drawn from a seeded random source, so a run is a function of its seed: a failing
 * seed replays exactly. Invariants are checked after every event, not only at the end.
 */
import { parseConfig } from '../../src/config/parse.ts';
import { type BackendRuntime, initTable } from '../../src/core/backend.ts';
import { IdlePool } from '../../src/core/idle-pool.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { Clock } from '../../src/core/scheduler.types.ts';
import type { Session } from '../../src/core/session.ts';
import type { Endpoint, Transport, TransportReceiver } from '../../src/core/transport.types.ts';
import { WorkerRuntime } from '../../src/core/worker-runtime.ts';
import { formatHttpLog, formatTcpLog } from '../../src/log/format.ts';
import type { TcpLogFields } from '../../src/log/log.types.ts';
import { ServerTable } from '../../src/shared-state/server-table.ts';
import { BackendSlot, ServerOpState, ServerSlot } from '../../src/shared-state/server-table.types.ts';
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
  /** The worker whose thread runs this event (-1: the acceptor or the simulated peers only). */
  readonly owner: number;
}

/** Virtual time and the event queue (a binary heap on (time, sequence)). */
class World {
  t = 0;
  private seq = 0;
  private heap: Ev[] = [];
  private deferred: Array<() => void> = [];
  steps = 0;
  /** The worker whose code is running now (-1: none); events scheduled now belong to it. */
  ctx = -1;
  /** Depth of preemption (an event of another worker run inside one of a worker's table accesses). */
  private nested = 0;

  defer(fn: () => void): void {
    this.deferred.push(fn);
  }
  at(delay: number, fn: () => void, owner = this.ctx): void {
    this.push({ at: this.t + Math.max(0, delay), seq: this.seq++, fn, owner });
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
  /**
   * Worker `w` is between two accesses to the shared table: if an event of another thread (a
   * worker, or the acceptor: `Acceptor`) is due now, and `draw()` says so, run the earliest such
   * event here — that thread ran in between (threads are parallel; only each thread's own events
   * keep their order, and an event of `w` or of the peers alone is never moved).
   */
  preempt(w: number, draw: () => boolean): boolean {
    const h = this.heap;
    const top = h[0];
    if (this.nested > 0 || !top || top.at !== this.t) return false;
    let pick = -1;
    for (let i = 0; i < h.length; i++) {
      const e = h[i] as Ev;
      if (e.at !== this.t || e.owner === w || (e.owner < 0 && e.owner !== Acceptor)) continue;
      if (pick < 0 || e.seq < (h[pick] as Ev).seq) pick = i;
    }
    if (pick < 0 || !draw()) return false;
    const ev = this.removeAt(pick);
    this.nested++;
    this.steps++;
    try {
      ev.fn();
    } finally {
      this.nested--;
    }
    return true;
  }
  private removeAt(i: number): Ev {
    const h = this.heap;
    const ev = h[i] as Ev;
    const last = h.pop() as Ev;
    if (i < h.length) {
      h[i] = last;
      // sift up, then down
      let j = i;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (before(h[p] as Ev, last)) break;
        h[j] = h[p] as Ev;
        j = p;
      }
      h[j] = last;
      for (;;) {
        const l = 2 * j + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && before(h[r] as Ev, h[l] as Ev) ? r : l;
        if (before(last, h[c] as Ev)) break;
        h[j] = h[c] as Ev;
        j = c;
      }
      h[j] = last;
    }
    return ev;
  }
}

/** The owner of the acceptor's events (hand-offs, acks): a thread of its own, that may preempt a worker. */
const Acceptor = -2;

/** One worker's clock: the shared virtual time, and this worker's own wheel wake-up and run queue. */
class WorkerClock implements Clock {
  private wake: object | null = null;
  private readonly world: World;
  private readonly sim: Sim;
  private readonly w: number;
  constructor(world: World, sim: Sim, w: number) {
    this.world = world;
    this.sim = sim;
    this.w = w;
  }
  now(): number {
    return this.world.t;
  }
  arm(delayMs: number, fire: () => void): void {
    const token = {};
    this.wake = token;
    this.world.at(
      delayMs,
      () => {
        if (this.wake !== token) return; // re-armed or disarmed since
        this.wake = null;
        this.sim.as(this.w, fire);
      },
      this.w,
    );
  }
  disarm(): void {
    this.wake = null;
  }
  defer(fn: () => void): void {
    this.world.defer(() => this.sim.as(this.w, fn));
  }
}

/**
 * A worker's own mapping of the shared table (as each worker thread maps the SharedArrayBuffer):
 * before every access, another worker may run (the simulator's model of parallel threads).
 */
class SimTable extends ServerTable {
  private readonly hook: (what: string, a: number, b: number) => void;
  constructor(shared: ServerTable, hook: (what: string, a: number, b: number) => void) {
    super(shared.init);
    this.hook = hook;
  }
  override srv(id: number, slot: number): number {
    this.hook('srv', id, slot);
    return super.srv(id, slot);
  }
  override setSrv(id: number, slot: number, v: number): void {
    this.hook('setSrv', id, slot);
    super.setSrv(id, slot, v);
  }
  override addSrv(id: number, slot: number, d: number): number {
    this.hook('addSrv', id, slot);
    return super.addSrv(id, slot, d);
  }
  override be(id: number, slot: number): number {
    this.hook('be', id, slot);
    return super.be(id, slot);
  }
  override addBe(id: number, slot: number, d: number): number {
    this.hook('addBe', id, slot);
    return super.addBe(id, slot, d);
  }
  override tryReserve(id: number, maxconn: number): boolean {
    this.hook('tryReserve', id, maxconn);
    return super.tryReserve(id, maxconn);
  }
  override release(id: number, be: number): void {
    this.hook('release', id, be);
    super.release(id, be);
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
  /** The worker that owns this socket (-1 until a client is handed to one). */
  worker = -1;
  /** ` (worker N)` in a trace, with several workers. */
  get tag(): string {
    return this.sim.workers.length > 1 ? ` (worker ${this.worker})` : '';
  }
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
    if (this.sim.trace) this.sim.trace(`t=${this.sim.world.t} transport ${this.id}${this.tag} <- ${what}`);
    this.sim.recordCommand(this, what);
    this.sim.checkOwner(this, what);
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
    if (this.sim.trace) this.sim.trace(`t=${this.sim.world.t} transport ${this.id}${this.tag} <- destroy`);
    this.sim.recordCommand(this, 'destroy');
    this.sim.checkOwner(this, 'destroy');
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
    if (this.sim.trace) this.sim.trace(`t=${this.sim.world.t} transport ${this.id}${this.tag} -> ${ev}${ev === 'data' ? ` ${JSON.stringify((arg as Buffer).toString('latin1').slice(0, 60))}` : ''}`);
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

/** A simulated worker thread: its runtime, and its live sessions as the acceptor counts them (acks). */
export interface SimWorker {
  readonly id: number;
  readonly rt: WorkerRuntime;
  live: number;
}

/** A worker waiting on a backend's release sequence (`Atomics.waitAsync`). */
interface Waiter {
  readonly w: number;
  readonly be: number;
  readonly seen: number;
  cb: (() => void) | null;
  notified: boolean;
  done: boolean;
  /** The wait began while a slot its queued sessions could take was free already. */
  readonly lost: boolean;
}

/** Longest delay between `Atomics.notify` and the waiting worker running its callback. */
export const WakeMaxMs = 3;
/** The timeout the worker passes to `Atomics.waitAsync` (src/core/worker-runtime.ts). */
export const WaitTimeoutMs = 1000;

export interface SimConfig {
  readonly seed: number;
  /** Worker threads (1–3; default 1), each a WorkerRuntime, all sharing one server table. */
  readonly workers?: number;
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
  /** The workers, each a WorkerRuntime with its own scheduler and idle pool, on one shared table. */
  readonly workers: SimWorker[] = [];
  /** The shared server table (the checks read it directly, not through a worker's mapping). */
  readonly table: ServerTable;
  /** Which worker logged each line of `logs`, and which ran each session. */
  readonly logWorkers: number[] = [];
  readonly sessionWorker = new Map<number, number>();
  /** Several workers: schedules of the acceptor's acks, wake-ups and preemptions (not `rng`, so one worker draws as before). */
  readonly xrng: Rng;
  /** Several workers: let a worker's table accesses be preempted by another worker's event due now. */
  interleave = true;
  preemptions = 0;
  /**
   * What a run exercised of the shared table: sessions granted by a worker woken through the
   * release sequence (a slot freed elsewhere, or by itself), and events after which a server at
   * maxconn had its slots held by sessions of two or more workers.
   */
  readonly coverage = { wokenGrants: 0, fullAcrossWorkers: 0, lostWakeups: 0 };
  private readonly woken = new Set<number>();
  private rr = 0;
  private waiters: Waiter[] = [];
  /** Per worker and backend: since when a session waits in a queue while a slot it could take is free. */
  private readonly starving = new Map<string, number>();
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
    this.xrng = new Rng(cfg.seed ^ 0x2545f491);
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
    const n = cfg.workers ?? 1;
    for (let w = 0; w < n; w++) {
      const rt = new WorkerRuntime({
        workerId: w,
        config,
        // each worker maps the shared buffer itself, as a worker thread does
        table: new SimTable(this.table, (what, a, b) => this.preempt(w, what, a, b)),
        sched: new Scheduler(new WorkerClock(this.world, this, w)),
        net: { connect: (host, port) => this.connect(host, port, w) },
        wallClock: () => 1_764_000_000_000 + this.world.t,
        random: () => this.rng.next(),
        log: (f) => {
          this.logFields.push(f);
          this.logWorkers.push(w);
          this.logs.push(f.http ? formatHttpLog(f) : formatTcpLog(f));
        },
        onSessionClosed: () => this.closedAck(w),
        // one worker: every release is local and wakes its queue through the run queue (a wait
        // that never resolves keeps real time out). Several: Atomics.waitAsync, simulated
        waitRelease: n === 1 ? () => new Promise(() => {}) : (be, seen) => this.waitRelease(w, be, seen),
      });
      // an exception inside the core is a bug the run must report, not a warning on stderr
      rt.sessionFault = (s, err) => this.violate(`session ${s.id} (worker ${w}): internal error: ${(err as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? String(err)}`);
      if (n > 1) {
        // observe only: count the sessions a queue pass granted after a wake-up through the table
        const processQueue = rt.processQueue.bind(rt);
        rt.processQueue = (be) => {
          const queued = () => be.queue.length + be.servers.reduce((k, srv) => k + srv.queue.length, 0);
          const before = queued();
          processQueue(be);
          if (this.woken.delete(w)) this.coverage.wokenGrants += Math.max(0, before - queued());
        };
      }
      this.workers.push({ id: w, rt, live: 0 });
    }
    for (let i = 0; i < cfg.clients; i++) {
      if (this.http) this.addHttpClient(i);
      else this.addClient(i);
    }
  }

  /** Run `fn` as worker `w`'s code: what it schedules is its own, what it commands must be its own. */
  as<T>(w: number, fn: () => T): T {
    const prev = this.world.ctx;
    this.world.ctx = w;
    try {
      return fn();
    } finally {
      this.world.ctx = prev;
    }
  }

  /** The worker running now (-1: none). */
  get running(): number {
    return this.world.ctx;
  }

  /** A worker accessed the shared table: another worker's event due now may run first. */
  private preempt(w: number, what: string, a: number, b: number): void {
    if (this.trace && (what === 'release' || what === 'tryReserve')) this.trace(`t=${this.world.t} worker ${w} table.${what}(server ${a}): CUR_CONN ${this.table.srv(a, ServerSlot.CUR_CONN)}, release sequence ${this.table.releaseSeq(0)}`);
    if (!this.interleave || this.workers.length < 2) return;
    const trace = this.trace;
    const draw = () => {
      const yes = this.xrng.chance(0.5);
      if (yes && trace) trace(`t=${this.world.t} worker ${w} preempted before table.${what}(${a}, ${b}): another worker's event runs now`);
      return yes;
    };
    if (this.world.preempt(w, draw)) this.preemptions++;
  }

  // ---- the acceptor's part ------------------------------------------------------------------------

  /**
   * Hand a client to a worker as the acceptor does (src/acceptor/acceptor.ts `pickWorker` and
   * `leastLoaded`, reimplemented: that module imports node:net and worker_threads): the ready
   * worker with the fewest live sessions as counted from its acks, scanning from a round-robin
   * start that moves on at every pick, so ties go round robin.
   */
  private accept(t: SimTransport, start: () => void, accepted: (s: Session | null) => void): void {
    const n = this.workers.length;
    let best: SimWorker | undefined;
    for (let k = 0; k < n; k++) {
      const w = this.workers[(this.rr + k) % n] as SimWorker;
      if (!best || w.live < best.live) best = w;
    }
    this.rr = (this.rr + 1) % n;
    const w = best as SimWorker;
    w.live++;
    t.worker = w.id;
    const run = () =>
      this.as(w.id, () => {
        const s = w.rt.accept(t, 0);
        if (s) this.sessionWorker.set(s.id, w.id);
        accepted(s);
        start();
      });
    // the acceptor ran in the middle of worker w's code (a preemption): w takes the socket after
    if (this.running === w.id) this.world.at(0, run, w.id);
    else run();
  }

  /** The worker's `closed` ack reaches the acceptor (a message: a little later, several workers). */
  private closedAck(w: number): void {
    const sw = this.workers[w] as SimWorker;
    if (this.workers.length === 1) sw.live--;
    else this.world.at(this.xrng.int(0, 3), () => sw.live--, Acceptor);
  }

  // ---- Atomics.waitAsync on a backend's release sequence, simulated ---------------------------------

  /**
   * As `table.waitRelease(be, seen, 1000)`: null when the sequence moved already, else a thenable
   * the simulator resolves when a release moves it (checked after every event: `Atomics.notify`
   * then wakes the waiting worker 0–`WakeMaxMs` ms later, drawn from the seed) or after 1 s. Not a
   * Promise: the simulation runs synchronously, the callback runs as the waiting worker's code.
   */
  private waitRelease(w: number, be: number, seen: number): Promise<unknown> | null {
    this.preempt(w, 'waitAsync', be, seen);
    if (this.table.releaseSeq(be) !== seen) {
      this.trace?.(`t=${this.world.t} worker ${w} waitAsync(backend ${be}, seq ${seen}): not-equal, sequence at ${this.table.releaseSeq(be)}`);
      return null;
    }
    // the worker goes to sleep while one of its queued sessions could take a free slot: the
    // release it needed came before this wait (Tolerate.lostWakeup)
    const rt = (this.workers[w] as SimWorker).rt;
    const stuck = this.stuckOn(rt.backends[be] as BackendRuntime);
    const lost = stuck !== undefined;
    if (lost) this.coverage.lostWakeups++;
    this.trace?.(`t=${this.world.t} worker ${w} waitAsync(backend ${be}, seq ${seen})${lost ? ` while server ${stuck} has a free slot: a lost wake-up` : ''}`);
    const waiter: Waiter = { w, be, seen, cb: null, notified: false, done: false, lost };
    this.waiters.push(waiter);
    this.world.at(WaitTimeoutMs, () => this.wakeWaiter(waiter), w);
    return {
      // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose (see above)
      then: (cb: () => void) => {
        waiter.cb = cb;
      },
    } as unknown as Promise<unknown>;
  }

  private wakeWaiter(waiter: Waiter): void {
    if (waiter.done) return;
    waiter.done = true;
    this.waiters = this.waiters.filter((x) => x !== waiter);
    const cb = waiter.cb;
    if (waiter.notified) this.woken.add(waiter.w);
    this.trace?.(`t=${this.world.t} worker ${waiter.w} wakes from waitAsync(backend ${waiter.be}, seq ${waiter.seen})${waiter.notified ? '' : ': timed out'}`);
    if (cb) this.as(waiter.w, cb);
  }

  /** After every event: a release moved a sequence some worker waits on — wake it, a little later. */
  private notifyWaiters(): void {
    for (const x of this.waiters) {
      if (x.notified || this.table.releaseSeq(x.be) === x.seen) continue;
      x.notified = true;
      this.trace?.(`t=${this.world.t} notify: backend ${x.be} sequence ${x.seen} -> ${this.table.releaseSeq(x.be)}, worker ${x.w} to wake`);
      this.world.at(this.xrng.int(0, WakeMaxMs), () => this.wakeWaiter(x), x.w);
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
    const ctx = this.world.ctx;
    this.world.ctx = t.worker;
    try {
      fn();
    } catch (err) {
      this.violate(`exception out of an event of transport ${t.id}: ${(err as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? String(err)}`);
    } finally {
      this.world.ctx = ctx;
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

  /** A socket is commanded only by the worker that owns it (its session's, or its idle pool's). */
  checkOwner(t: SimTransport, what: string): void {
    const w = this.running;
    if (w !== t.worker) this.violate(`'${what}' on transport ${t.id} of worker ${t.worker} by ${w < 0 ? 'no worker' : `worker ${w}`}`);
  }

  // ---- servers --------------------------------------------------------------------------------

  private connect(host: string, port: number, w: number): Transport {
    const idx = port - 7000;
    const kind = this.serverKinds[idx] ?? 'refuse';
    const t = new SimTransport(this, { address: host, port, family: 'IPv4' });
    t.worker = w;
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
    const start = this.startAt();
    this.world.at(
      start,
      () => {
        this.accept(t, () => this.scriptClient(c), (s) => (c.session = s));
      },
      Acceptor,
    );
  }

  /**
   * When a client connects: 0–300 ms; with several workers on a 10 ms grid, so that clients arrive
   * together on different workers and race for the same slots (one draw either way).
   */
  private startAt(): number {
    return this.workers.length > 1 ? this.rng.int(0, 30) * 10 : this.rng.int(0, 300);
  }

  /** A TCP client's request, in random splits at random times, then maybe FIN or an abort. */
  private scriptClient(c: Client): void {
    const { t, kind, payload } = c;
    {
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
    }
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
    this.world.at(
      this.startAt(),
      () => {
        this.accept(t, () => c.start(), (s) => (client.session = s));
      },
      Acceptor,
    );
  }

  // ---- invariants -------------------------------------------------------------------------------

  /** Checked after every event. */
  checkStep(): void {
    // a stream holds at most one buffer per direction (tune.buffers.limit accounting)
    for (const { id, rt } of this.workers) {
      if (rt.buffers.used > 2 * rt.sessions.size) this.violate(`worker ${id}: ${rt.buffers.used} buffers held by ${rt.sessions.size} sessions`);
    }
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
      const mine = this.workers[t.worker]?.rt;
      if (!owner) this.violate(`server transport ${t.id} is open with no owner`);
      else if (owner instanceof IdlePool) {
        if (owner !== mine?.pool) this.violate(`server transport ${t.id} of worker ${t.worker} is in the idle pool of another worker`);
        else if (!this.poolHolds(owner, actor?.id ?? -1)) this.violate(`server transport ${t.id} is owned by the idle pool, which does not list it`);
        const o = this.origins.get(t);
        // parked before its response was all in: the next request would read the rest (cross-talk)
        if (o && o.inFlight > 0 && !this.off.has('pool-in-flight')) this.violate(`server transport ${t.id} is in the idle pool while its server is still sending a response`);
      } else if (owner.closed) this.violate(`server transport ${t.id} is open, owned by closed session ${owner.id}`);
      else if (mine?.sessions.get(owner.id) !== owner) this.violate(`server transport ${t.id} of worker ${t.worker} is owned by session ${owner.id} of worker ${this.sessionWorker.get(owner.id)}`);
      // HTTP: a FIN from the server ends the connection at once, in the pool or in a session (no CLOSE-WAIT)
      if (this.http && t.endDelivered && !t.destroyed && !t.closing && !this.off.has('close-wait')) this.violate(`server transport ${t.id} left open (CLOSE-WAIT) after its FIN was delivered`);
    }
  }

  /**
   * The shared table against the workers, after every event: each server's CUR_CONN is the number
   * of sessions holding a slot on it in all workers together, and never above its `maxconn` (the
   * global limit the table exists for); each QUEUE counter is the number of sessions in that queue
   * in all workers. And no session waits in a queue while a slot it could take is free for longer
   * than `WakeMaxMs` (the notify-to-callback delay; the queue is processed in the same run-queue
   * pass, at the same virtual time): a release anywhere must reach the queues everywhere.
   */
  private checkTable(): void {
    const t = this.table;
    const nSrv = t.init.servers;
    for (let i = 0; i < nSrv; i++) {
      let held = 0;
      let queued = 0;
      let holding = 0;
      for (const w of this.workers) {
        for (const s of w.rt.sessions.values()) {
          if (s.ep.slotHeld && s.ep.server?.id === i) {
            held++;
            holding |= 1 << w.id;
          }
        }
        for (const b of w.rt.backends) for (const srv of b.servers) if (srv.id === i) queued += srv.queue.length;
      }
      const cur = t.srv(i, ServerSlot.CUR_CONN);
      const max = t.srv(i, ServerSlot.MAXCONN);
      if (cur !== held) this.violate(`server ${i}: CUR_CONN ${cur} in the shared table, ${held} sessions hold a slot on it (${this.holders(i)})`);
      if (max > 0 && Math.max(cur, held) > max) this.violate(`server ${i}: ${held} sessions hold a slot (CUR_CONN ${cur}) over maxconn ${max} (${this.holders(i)})`);
      if (max > 0 && held === max && (holding & (holding - 1)) !== 0) this.coverage.fullAcrossWorkers++;
      if (t.srv(i, ServerSlot.QUEUE) !== queued) this.violate(`server ${i}: QUEUE ${t.srv(i, ServerSlot.QUEUE)} in the shared table, ${queued} sessions queued on it`);
    }
    const beQueued = this.workers.reduce((n, w) => n + (w.rt.backends[0]?.queue.length ?? 0), 0);
    if (t.be(0, BackendSlot.QUEUE) !== beQueued) this.violate(`backend QUEUE ${t.be(0, BackendSlot.QUEUE)} in the shared table, ${beQueued} sessions in the backend queues`);
    // a queued session and a free slot it could take: not for longer than a wake-up
    for (const w of this.workers) {
      for (const be of w.rt.backends) {
        const key = `${w.id}:${be.id}`;
        const stuck = this.stuckOn(be);
        if (stuck === undefined) {
          this.starving.delete(key);
          continue;
        }
        const since = this.starving.get(key);
        const lost = this.waiters.some((x) => x.w === w.id && x.be === be.id && x.lost);
        if (since === undefined) this.starving.set(key, this.world.t);
        else if (this.world.t - since > (lost && Tolerate.lostWakeup ? WaitTimeoutMs + WakeMaxMs : WakeMaxMs)) {
          const srv = be.servers.find((x) => x.id === stuck);
          const q = srv && srv.queue.length > 0 ? srv.queue : be.queue;
          const where = q === be.queue ? 'backend queue' : `queue of server ${stuck}`;
          const why = lost ? ': its worker began waiting on the release sequence after the release it needed (a lost wake-up)' : '';
          this.violate(`worker ${w.id}: session ${(q[0] as Session).id} waits in the ${where} while server ${stuck} has had a free slot since t=${since} (CUR_CONN ${t.srv(stuck, ServerSlot.CUR_CONN)}, maxconn ${t.srv(stuck, ServerSlot.MAXCONN)})${why}`);
          this.starving.delete(key);
        }
      }
    }
  }

  /**
   * A server with a free slot that a session queued in this worker's part of `be` could take (its
   * own server, or any usable one for the backend queue), read from the shared table — not through
   * the worker's mapping, which may preempt.
   */
  private stuckOn(be: BackendRuntime): number | undefined {
    const t = this.table;
    const free = (id: number) => {
      const max = t.srv(id, ServerSlot.MAXCONN);
      const up = t.state(id) === ServerOpState.UP && t.srv(id, ServerSlot.WEIGHT) > 0;
      return up && (max === 0 || t.srv(id, ServerSlot.CUR_CONN) < max);
    };
    for (const srv of be.servers) if (srv.queue.length > 0 && free(srv.id)) return srv.id;
    if (be.queue.length > 0) for (const srv of be.servers) if (free(srv.id)) return srv.id;
    return undefined;
  }

  private holders(i: number): string {
    const out: string[] = [];
    for (const w of this.workers) for (const s of w.rt.sessions.values()) if (s.ep.slotHeld && s.ep.server?.id === i) out.push(`w${w.id}:${s.id}`);
    return out.join(' ') || 'none';
  }

  /** The pool's own list (private in src/: read for the check only). */
  private poolHolds(pool: IdlePool, connId: number): boolean {
    return (pool as unknown as { byConn: Map<number, unknown> }).byConn.has(connId);
  }

  /** Checked once nothing is left to happen. */
  checkEnd(): void {
    for (const { id, rt } of this.workers) {
      if (rt.sessions.size !== 0) this.violate(`worker ${id}: ${rt.sessions.size} sessions left: ${[...rt.sessions.values()].map((s) => `${s.id}:${s.ep.state}`).join(' ')}`);
      if (rt.sched.timersPending !== 0) this.violate(`worker ${id}: ${rt.sched.timersPending} timers left armed`);
      if (rt.buffers.used !== 0) this.violate(`worker ${id}: ${rt.buffers.used} buffers still counted as held`);
    }
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
    for (const { id, rt } of this.workers) if (rt.pool.size !== 0) this.violate(`worker ${id}: ${rt.pool.size} connections left in the idle pool after its purge delay`);
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
      this.notifyWaiters();
      this.checkStep();
      this.checkTable();
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
  const cfg = new Rng(seed ^ 0x5bd1e995).chance(0.5) ? httpScenario(seed) : tcpScenario(seed);
  return { ...cfg, workers: workersOf(seed) };
}

/**
 * How many worker threads a seed runs (1, 2 or 3, a third each), from a stream of its own: a seed
 * drawing 1 runs exactly as before workers were simulated; one drawing 2 or 3 keeps its config
 * and clients but not its schedule (clients arrive on a 10 ms grid, and the workers interleave).
 */
export function workersOf(seed: number): number {
  return new Rng(seed ^ 0x68e31da4).int(1, 3);
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
