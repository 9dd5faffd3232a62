import type { Config } from '../config/config.types.ts';
import { DEFAULT_BUFFERS_RESERVE } from '../config/config.types.ts';
import { BufferBudget } from './buffer-budget.ts';
import type { ProxyCounters } from '../shared-state/snapshots.types.ts';
import type { TcpLogFields } from '../log/log.types.ts';
import type { ServerTable } from '../shared-state/server-table.ts';
import { ConnActor } from './actor.ts';
import type { BackendRuntime } from './backend.ts';
import { buildRuntime, clearHttp } from './backend.ts';
import type { FrontendRuntime, HttpCounters } from './backend.types.ts';
import { AssignResult } from './backend.types.ts';
import type { Scheduler } from './scheduler.ts';
import { HttpSession } from './http-session.ts';
import { IdlePool } from './idle-pool.ts';
import { Session } from './session.ts';
import type { SessionHost, SessionLike, SessionSnapshot, WorkerStats } from './session.types.ts';
import { newWorkerStats } from './session.types.ts';
import type { Network, Transport } from './transport.types.ts';

export interface WorkerRuntimeOptions {
  readonly workerId: number;
  readonly config: Config;
  readonly table: ServerTable;
  readonly sched: Scheduler;
  readonly net: Network;
  readonly wallClock: () => number;
  readonly random: () => number;
  readonly log: (fields: TcpLogFields, frontendId: number) => void;
  /** Whether `log` would write anything for this frontend (default: yes). */
  readonly logging?: (frontendId: number) => boolean;
  /** A session ended (the worker batches these into `closed` acks to the acceptor). */
  readonly onSessionClosed: (s: Session) => void;
  /**
   * How to wait for a slot freed by another worker: resolves when the release sequence of the
   * backend moves (or after a while), null when it has moved already. Defaults to the shared
   * table's `Atomics.waitAsync`; the simulator, with one worker and virtual time, passes its own.
   */
  readonly waitRelease?: (backendId: number, seen: number) => Promise<unknown> | null;
}

/** Everything one worker runs: its sessions, its part of every backend, its counters. */
export class WorkerRuntime implements SessionHost {
  readonly workerId: number;
  readonly sched: Scheduler;
  readonly net: Network;
  readonly table: ServerTable;
  readonly stats: WorkerStats = newWorkerStats();
  readonly frontends: FrontendRuntime[];
  readonly backends: BackendRuntime[];
  readonly sessions = new Map<number, Session>();
  readonly pool: IdlePool;
  readonly buffers: BufferBudget;
  private readonly opts: WorkerRuntimeOptions;
  /** Backends with a cross-worker wake-up pending (Atomics.waitAsync on the release sequence). */
  private readonly watching = new Set<number>();
  /** Backends whose queues are to be processed in the next run-queue pass. */
  private readonly toProcess = new Set<BackendRuntime>();
  private stopped = false;

  constructor(opts: WorkerRuntimeOptions) {
    this.opts = opts;
    this.workerId = opts.workerId;
    this.sched = opts.sched;
    this.net = opts.net;
    this.table = opts.table;
    this.pool = new IdlePool(opts.sched);
    const g = opts.config.global;
    this.buffers = new BufferBudget(g.buffersLimit ?? 0, g.buffersReserve ?? DEFAULT_BUFFERS_RESERVE);
    const rt = buildRuntime(opts.config, opts.table, opts.random);
    this.frontends = rt.frontends;
    this.backends = rt.backends;
  }

  backendByName(name: string): BackendRuntime | undefined {
    return this.backends.find((b) => b.cfg.name === name);
  }

  get stopping(): boolean {
    return this.stopped;
  }

  get liveSessions(): number {
    return this.sessions.size;
  }

  wallClock(): number {
    return this.opts.wallClock();
  }

  log(fields: TcpLogFields, frontendId: number): void {
    this.opts.log(fields, frontendId);
  }

  logging(frontendId: number): boolean {
    return this.opts.logging ? this.opts.logging(frontendId) : true;
  }

  /** A client connection handed to this worker: wrap it in an actor and start its session. */
  accept(transport: Transport, frontendId: number, listenerId = -1, acceptProxy = false): Session | null {
    const fe = this.frontends[frontendId];
    if (!fe) {
      transport.destroy();
      return null;
    }
    this.stats.handoffs++;
    const cli = new ConnActor('client', transport, this.stats, true);
    const be = fe.backendId === undefined ? undefined : this.backends[fe.backendId];
    // a TCP frontend whose backend is in mode http is upgraded to HTTP, as HAProxy does
    const http = fe.cfg.settings.mode === 'http' || be?.cfg.settings.mode === 'http';
    const s = http ? new HttpSession(this, fe, be, cli, listenerId) : new Session(this, fe, be, cli, listenerId);
    if (acceptProxy) s.expectProxyHeader();
    this.sessions.set(s.id, s);
    this.stats.sessionsTotal++;
    this.stats.sessionsLive++;
    if (be) {
      be.current++;
      be.total++;
      if (be.current > be.max) be.max = be.current;
    }
    this.guard(s, () => s.start());
    return s;
  }

  /** Crash containment: an exception inside one session's code ends that session only. */
  guard(s: Session, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      s.onFault(err);
    }
  }

  sessionFault(s: SessionLike, err: unknown): void {
    this.stats.internalErrors++;
    process.emitWarning(`session ${s.id}: internal error, session closed: ${(err as Error)?.stack ?? String(err)}`);
  }

  sessionClosed(s: Session): void {
    if (!this.sessions.delete(s.id)) return;
    this.stats.sessionsLive--;
    this.opts.onSessionClosed(s);
  }

  // ---- queues -----------------------------------------------------------------------------------

  /**
   * Wait for a slot of `be` freed by any worker. `seen` is the release sequence read BEFORE the
   * attempt that failed: if a release happened since, the wait returns at once.
   */
  watchQueue(be: BackendRuntime, seen: number): void {
    if (this.watching.has(be.id) || this.stopped) return;
    this.watching.add(be.id);
    const wait = this.opts.waitRelease ? this.opts.waitRelease(be.id, seen) : this.table.waitRelease(be.id, seen, 1000);
    if (!wait) {
      // the sequence moved already: a slot was freed meanwhile
      this.watching.delete(be.id);
      this.slotFreed(be);
      return;
    }
    wait.then(() => {
      this.watching.delete(be.id);
      this.slotFreed(be);
    });
  }

  slotFreed(be: BackendRuntime): void {
    if (this.toProcess.has(be)) return;
    if (be.queue.length === 0 && !be.servers.some((s) => s.queue.length > 0)) return;
    this.toProcess.add(be);
    this.sched.defer(() => {
      this.toProcess.delete(be);
      this.processQueue(be);
    });
  }

  /** Grant free slots to queued sessions: each server's own queue first, then the backend queue. */
  processQueue(be: BackendRuntime): void {
    const seq = this.table.releaseSeq(be.id); // before the tries (see watchQueue)
    for (const srv of be.servers) {
      while (srv.queue.length > 0 && be.reserve(srv)) {
        const s = srv.queue[0] as Session;
        this.guard(s, () => s.grant(srv));
      }
    }
    while (be.queue.length > 0) {
      const head = be.queue[0] as Session;
      const { result, server } = be.assign(head.lbKey(), null);
      if (result !== AssignResult.OK || !server) break;
      this.guard(head, () => head.grant(server));
    }
    if (be.queue.length > 0 || be.servers.some((s) => s.queue.length > 0)) this.watchQueue(be, seq);
  }

  // ---- operations ---------------------------------------------------------------------------------

  /** `clear counters`: max values (and with `all`, totals and byte counts) back to zero. */
  clearCounters(all: boolean): void {
    this.buffers.clear(all);
    for (const p of [...this.frontends, ...this.backends]) {
      p.max = p.current;
      if (all) {
        p.total = 0;
        p.bytesIn = 0;
        p.bytesOut = 0;
        clearHttp(p.http);
      }
    }
    if (all) {
      for (const f of this.frontends) f.denied = 0;
    }
    if (all) {
      for (const b of this.backends) {
        for (const s of b.servers) {
          s.bytesIn = 0;
          s.bytesOut = 0;
          clearHttp(s.http);
        }
      }
    }
  }

  /** Per-proxy counters of this worker (`show stat` sums them over the workers). */
  proxyCounters(): ProxyCounters {
    const http = (c: HttpCounters) => ({ req: c.req, rsp: [...c.rsp] });
    const px = (p: { current: number; max: number; total: number; bytesIn: number; bytesOut: number; http: HttpCounters }) => ({
      cur: p.current,
      max: p.max,
      total: p.total,
      bytesIn: p.bytesIn,
      bytesOut: p.bytesOut,
      http: http(p.http),
    });
    return {
      frontends: this.frontends.map((f) => ({ ...px(f), denied: f.denied })),
      backends: this.backends.map(px),
      servers: this.backends.flatMap((b) => b.servers.map((s) => ({ bytesIn: s.bytesIn, bytesOut: s.bytesOut, http: http(s.http) }))),
    };
  }

  snapshots(): SessionSnapshot[] {
    const out: SessionSnapshot[] = [];
    for (const s of this.sessions.values()) out.push(s.snapshot(this.workerId));
    return out;
  }

  /**
   * A server went DOWN or to maintenance: its idle connections are closed and the sessions queued
   * on it move to the backend queue, to be served by another server (HAProxy's
   * pendconn_redistribute). Returns the sessions moved.
   */
  serverDown(serverId: number): number {
    for (const be of this.backends) {
      const srv = be.servers.find((s) => s.id === serverId);
      if (!srv) continue;
      this.pool.purge(srv);
      const moved = srv.queue.splice(0) as Session[];
      for (const s of moved) this.guard(s, () => s.requeue());
      if (moved.length > 0) this.slotFreed(be);
      return moved.length;
    }
    return 0;
  }

  /** `set server addr`: new connections go to `host:port`; idle ones to the old address are closed. */
  setServerAddr(serverId: number, host: string, port: number): void {
    for (const be of this.backends) {
      const srv = be.servers.find((s) => s.id === serverId);
      if (!srv) continue;
      srv.host = host;
      srv.port = port;
      this.pool.purge(srv);
    }
  }

  kill(id: number): boolean {
    const s = this.sessions.get(id);
    if (!s) return false;
    s.kill();
    return true;
  }

  killAll(): number {
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      s.kill();
      n++;
    }
    return n;
  }

  stop(): void {
    this.stopped = true;
    this.pool.purge(null);
  }
}
