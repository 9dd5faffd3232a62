import net from 'node:net';
import v8 from 'node:v8';
import { MessageChannel, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import type { Remote } from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { unpack } from 'msgpackr';
import type { Config } from '../config/config.types.ts';
import type { SessionSnapshot } from '../shared-state/snapshots.types.ts';
import type { ServerTable } from '../shared-state/server-table.ts';
import { BackendSlot, ServerSlot } from '../shared-state/server-table.types.ts';
import type { AcceptorOptions, Generation, HeldSocket, ListenerSlot, WorkerSlot } from './acceptor.types.ts';
import { bindKey, HELD_MIN, RESPAWN_DELAY_MS, SEMI_SPACE_GROWTH_FACTOR, WORKER_SEMI_SPACE_MB, WORKER_YOUNG_GENERATION_MB, WorkerState, WorkerTransitions } from './acceptor.types.ts';
import type { FromWorker, ListenAddress, ProxyCounters, ToWorker, WorkerControl, WorkerInfo, WorkerInit } from './messages.types.ts';

/**
 * Keep V8's new spaces at a fixed size in every thread of the process (see
 * SEMI_SPACE_GROWTH_FACTOR): the workers', set before they start, at their cap from the start; the
 * main thread's at its initial size. V8 reads the factor each time it would grow a new space and
 * the minimum when it sets up a new thread's heap, so setting them after start-up takes effect
 * (test/unit/new-space-growth.test.ts checks this Node does).
 */
export function limitNewSpaceGrowth(): void {
  v8.setFlagsFromString(`--semi-space-growth-factor=${SEMI_SPACE_GROWTH_FACTOR}`);
  v8.setFlagsFromString(`--min-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
}

/**
 * The main thread's data-path role: own the listeners, hand every accepted socket (still paused,
 * never read) to the least-loaded ready worker, count live sessions from the workers' acks, and
 * hold accepted sockets while a `maxconn` is reached. It also supervises the workers: a worker
 * that dies is replaced, its sessions are counted lost, and the others keep serving.
 */
export class Acceptor {
  /** The generation new sessions go to. */
  gen: Generation;
  /** Generations replaced by a reload whose workers are finishing their sessions. */
  readonly retiring = new Set<Generation>();
  private readonly opts: AcceptorOptions;
  private held: HeldSocket[] = [];
  private stopping = false;
  private reloading = false;
  private nextWorkerId: number;
  live = 0;
  totalAccepted = 0;
  lostSessions = 0;
  workerDeaths = 0;
  heldDropped = 0;
  reloads = 0;
  readonly startedAt = Date.now();

  constructor(cfg: Config, table: ServerTable, opts: AcceptorOptions) {
    this.opts = opts;
    this.gen = newGeneration(1, cfg, table, opts.threads, 0);
    this.nextWorkerId = opts.threads;
  }

  get cfg(): Config {
    return this.gen.cfg;
  }

  get table(): ServerTable {
    return this.gen.table;
  }

  get workers(): WorkerSlot[] {
    return this.gen.workers;
  }

  get listeners(): ListenerSlot[] {
    return this.gen.listeners;
  }

  /** Spawn the workers, wait for each READY, then open the listeners. */
  async start(): Promise<void> {
    limitNewSpaceGrowth();
    const gen = this.gen;
    await Promise.all(Array.from({ length: gen.threads }, (_, i) => this.spawn(gen, i)));
    if (this.opts.reusePort) return; // each worker listens itself
    for (const [feId, fe] of gen.cfg.frontends.entries()) {
      for (const bind of fe.binds) {
        const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
        const slot: ListenerSlot = { id: gen.listeners.length, gen, frontendId: feId, bind, server, live: 0, accepted: 0 };
        server.on('connection', (socket) => this.onConnection(slot, socket));
        await listen(server, bind);
        gen.listeners.push(slot);
      }
    }
  }

  /** Addresses actually bound (port 0 resolved), in config order. */
  addresses(): readonly ListenAddress[] {
    // --accept reuseport: where the workers listen, as the first of them to be ready said
    if (this.opts.reusePort) return this.gen.ownAddresses;
    return this.listeners.map((l) => {
      const a = l.server.address() as net.AddressInfo;
      return { frontend: this.cfg.frontends[l.frontendId]?.name ?? '', host: a.address, port: a.port };
    });
  }

  // ---- reload ---------------------------------------------------------------------------------

  /**
   * Hitless reload: start the workers of `cfg` (with its own server table) beside the current
   * ones, open the binds that are new, then switch — every listener whose bind is in both configs
   * is kept (the same socket, now handing its sessions to the new workers), the binds that are
   * gone are closed, and the old workers are told to stop: they finish their sessions (an HTTP
   * keep-alive connection ends after its current request) for up to `hard-stop-after` of the old
   * config, then go. Nothing is changed if the new workers or a new bind cannot start (the error
   * is thrown). Returns the new generation's addresses.
   */
  async reload(cfg: Config, table: ServerTable, threads: number): Promise<Generation> {
    if (this.opts.reusePort) {
      throw new Error('reload is not available with --accept reuseport: each worker owns its listening sockets, and closing an old one drops the connections in its accept queue; restart instead');
    }
    if (this.stopping) throw new Error('the process is stopping');
    if (this.reloading) throw new Error('a reload is already in progress');
    this.reloading = true;
    const old = this.gen;
    const gen = newGeneration(old.id + 1, cfg, table, threads, this.nextWorkerId);
    this.nextWorkerId += threads;
    const opened: net.Server[] = [];
    try {
      await Promise.all(Array.from({ length: threads }, (_, i) => this.spawn(gen, i)));
      if (this.stopping) throw new Error('the process is stopping');
      // the listeners of the new config: the old socket where the bind is the same, else a new one
      const free = new Map<string, ListenerSlot[]>();
      for (const l of old.listeners) {
        const k = bindKey(l.bind);
        free.set(k, [...(free.get(k) ?? []), l]);
      }
      const kept = new Set<net.Server>();
      for (const [feId, fe] of cfg.frontends.entries()) {
        for (const bind of fe.binds) {
          const same = free.get(bindKey(bind))?.shift();
          let server: net.Server;
          if (same) server = same.server;
          else {
            server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
            opened.push(server);
            await listen(server, bind);
          }
          kept.add(server);
          gen.listeners.push({ id: gen.listeners.length, gen, frontendId: feId, bind, server, live: 0, accepted: 0 });
        }
      }
      if (this.stopping) throw new Error('the process is stopping');
      // the switch: synchronous, so no connection is accepted half-way
      for (const l of gen.listeners) {
        l.server.removeAllListeners('connection');
        l.server.on('connection', (socket) => this.onConnection(l, socket));
      }
      for (const l of old.listeners) if (!kept.has(l.server)) l.server.close();
      this.gen = gen;
      this.reloads++;
      this.retire(old);
      // sockets held past maxconn on a kept bind wait for the new generation; the others are closed
      const byServer = new Map(gen.listeners.map((l) => [l.server, l] as const));
      const still: HeldSocket[] = [];
      for (const h of this.held) {
        const l = h.listener.gen === gen ? h.listener : byServer.get(h.listener.server);
        if (l) still.push({ socket: h.socket, listener: l });
        else h.socket.destroy();
      }
      this.held = still;
      this.admitHeld();
      return gen;
    } catch (err) {
      for (const s of opened) s.close();
      for (const w of gen.workers) {
        if (w && w.state !== WorkerState.DEAD) {
          setWorkerState(w, WorkerState.DEAD);
          void w.worker.terminate();
        }
      }
      throw err;
    } finally {
      this.reloading = false;
    }
  }

  /** Tell the workers of a replaced generation to finish; force them at `hard-stop-after`. */
  private retire(gen: Generation): void {
    this.retiring.add(gen);
    for (const w of gen.workers) {
      if (w.state === WorkerState.READY || w.state === WorkerState.STARTING) {
        setWorkerState(w, WorkerState.RETIRING);
        w.worker.postMessage({ type: 'stop' } satisfies ToWorker);
      }
    }
    const limit = gen.cfg.global.hardStopAfter > 0 ? gen.cfg.global.hardStopAfter : null;
    if (limit !== null) {
      setTimeout(() => {
        if (!this.retiring.has(gen)) return;
        this.opts.notice(`generation ${gen.id}: hard-stop-after ${limit} ms reached, closing its remaining sessions`);
        this.forceStop(gen.workers);
      }, limit).unref();
    }
    this.checkRetired(gen);
  }

  private checkRetired(gen: Generation): void {
    if (!this.retiring.has(gen) || !gen.workers.every((w) => w.state === WorkerState.DEAD)) return;
    this.retiring.delete(gen);
    this.opts.notice(`generation ${gen.id} retired: its workers finished their sessions`);
  }

  /** hard-stop-after: close the sessions left, then end the threads that are still there. */
  private forceStop(workers: readonly WorkerSlot[]): void {
    for (const w of workers) if (w.state !== WorkerState.DEAD && w.state !== WorkerState.STARTING) w.control.killAll().catch(() => undefined);
    setTimeout(() => {
      for (const w of workers) if (w.state !== WorkerState.DEAD) void w.worker.terminate();
    }, 1000).unref();
  }

  // ---- workers ------------------------------------------------------------------------------

  private spawn(gen: Generation, index: number): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    const workerId = gen.firstWorkerId + index;
    const init: WorkerInit = {
      workerId,
      config: gen.cfg,
      table: gen.table.init,
      control: port2,
      reusePort: this.opts.reusePort,
    };
    const worker = new Worker(this.opts.workerUrl, {
      workerData: init,
      transferList: [port2],
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    let exitedNow = (): void => undefined;
    const exited = new Promise<void>((resolve) => {
      exitedNow = resolve;
    });
    const slot: WorkerSlot = {
      exited,
      index,
      workerId,
      gen,
      worker,
      control: Comlink.wrap<WorkerControl>(nodeEndpoint(port1)),
      state: WorkerState.STARTING,
      live: 0,
      handoffs: 0,
      liveByListener: new Map(),
      spawnedAt: Date.now(),
    };
    gen.workers[index] = slot;
    return new Promise((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          // a worker told to stop (or retire) while starting stops as soon as it reads that
          if (slot.state === WorkerState.STARTING) setWorkerState(slot, WorkerState.READY);
          if (m.listening.length > 0) gen.ownAddresses = m.listening;
          resolve();
          this.admitHeld();
        } else if (m.type === 'closed') {
          this.onClosed(slot, m.byListener);
        } else if (m.type === 'stopped') {
          void worker.terminate();
        } else if (m.type === 'failed') {
          this.opts.notice(`worker ${workerId} cannot serve: ${m.error}`);
          if (slot.state === WorkerState.STARTING) reject(new Error(m.error));
          void worker.terminate();
        }
      });
      worker.on('error', (err: Error) => {
        this.opts.notice(`worker ${workerId} crashed: ${err.stack ?? err.message}`);
        if (slot.state === WorkerState.STARTING) reject(err);
      });
      worker.on('exit', (code) => {
        port1.close();
        exitedNow();
        if (slot.state === WorkerState.STARTING) reject(new Error(`worker ${workerId} exited with code ${code} while starting`));
        this.onExit(slot, code);
      });
    });
  }

  private onExit(slot: WorkerSlot, code: number): void {
    const planned = slot.state === WorkerState.STOPPING || slot.state === WorkerState.RETIRING || slot.state === WorkerState.DEAD;
    if (slot.state !== WorkerState.DEAD) setWorkerState(slot, WorkerState.DEAD);
    // its sessions are lost (their sockets died with the thread); free their accounting
    this.lostSessions += slot.live;
    this.live -= slot.live;
    for (const [lid, n] of slot.liveByListener) this.release(slot.gen, lid, n);
    slot.live = 0;
    slot.liveByListener.clear();
    this.checkRetired(slot.gen);
    if (planned || this.stopping || slot.gen !== this.gen) {
      if (this.allDead()) this.onAllStopped?.();
      return;
    }
    this.workerDeaths++;
    this.opts.notice(`worker ${slot.workerId} exited with code ${code}; respawning`);
    setTimeout(() => {
      if (this.stopping || slot.gen !== this.gen) return;
      this.spawn(slot.gen, slot.index).then(
        () => this.opts.notice(`worker ${slot.workerId} respawned`),
        (err: Error) => this.opts.notice(`worker ${slot.workerId} failed to respawn: ${err.message}`),
      );
    }, RESPAWN_DELAY_MS);
    this.admitHeld();
  }

  private allDead(): boolean {
    return [this.gen, ...this.retiring].every((g) => g.workers.every((w) => w.state === WorkerState.DEAD));
  }

  private onClosed(slot: WorkerSlot, byListener: ReadonlyArray<readonly [number, number]>): void {
    for (const [lid, n] of byListener) {
      slot.live -= n;
      this.live -= n;
      const left = (slot.liveByListener.get(lid) ?? 0) - n;
      if (left > 0) slot.liveByListener.set(lid, left);
      else slot.liveByListener.delete(lid);
      this.release(slot.gen, lid, n);
    }
    this.admitHeld();
  }

  private release(gen: Generation, listenerId: number, n: number): void {
    const l = gen.listeners[listenerId];
    if (!l) return;
    l.live -= n;
    gen.feLive[l.frontendId] = (gen.feLive[l.frontendId] ?? 0) - n;
  }

  private pickWorker(gen: Generation, exclude?: ReadonlySet<WorkerSlot>): WorkerSlot | undefined {
    const w = leastLoaded(gen.workers, gen.rr, exclude);
    gen.rr = (gen.rr + 1) % Math.max(gen.workers.length, 1);
    return w;
  }

  // ---- accepting ----------------------------------------------------------------------------

  private onConnection(l: ListenerSlot, socket: net.Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    if (!this.fits(l) || this.held.length > 0) {
      this.hold({ socket, listener: l });
      return;
    }
    this.handoff(l, socket);
  }

  /**
   * Would one more session on `l` stay within global, frontend and bind maxconn? The global
   * maxconn counts every live session of the process (old generations' too); the frontend's and
   * the bind's count their generation's, as a new HAProxy process does after a reload.
   */
  private fits(l: ListenerSlot): boolean {
    const fe = l.gen.cfg.frontends[l.frontendId];
    if (this.live >= this.cfg.global.maxconn) return false;
    if (fe?.settings.maxconn !== undefined && (l.gen.feLive[l.frontendId] ?? 0) >= fe.settings.maxconn) return false;
    if (l.bind.maxconn !== undefined && l.live >= l.bind.maxconn) return false;
    return true;
  }

  /**
   * Node cannot stop accepting on a listening socket without closing it, so past `maxconn` the
   * socket is accepted and held paused (no byte read), which the client cannot tell from a full
   * backlog. Held sockets are bounded like a listen backlog (the global maxconn, at least
   * HELD_MIN); past that a new socket is closed.
   */
  private hold(h: HeldSocket): void {
    if (this.held.length >= Math.max(this.cfg.global.maxconn, HELD_MIN)) {
      this.heldDropped++;
      h.socket.destroy();
      return;
    }
    this.held.push(h);
  }

  private admitHeld(): void {
    if (this.held.length === 0) return;
    const still: HeldSocket[] = [];
    for (const h of this.held) {
      if (h.socket.destroyed) continue;
      if (this.fits(h.listener) && leastLoaded(h.listener.gen.workers, h.listener.gen.rr)) this.handoff(h.listener, h.socket);
      else still.push(h);
    }
    this.held = still;
  }

  private handoff(l: ListenerSlot, socket: net.Socket): void {
    const gen = l.gen;
    const tried = new Set<WorkerSlot>();
    for (let attempt = 0; attempt < gen.workers.length; attempt++) {
      const w = this.pickWorker(gen, tried);
      if (!w) break;
      tried.add(w);
      const msg: ToWorker = { type: 'session', socket, frontendId: l.frontendId, listenerId: l.id };
      try {
        w.worker.postMessage(msg, [socket as unknown as ArrayBuffer]);
      } catch {
        // fall through: the socket is still ours, try another worker
      }
      if (socket.destroyed) {
        // transferred: the handle now lives in the worker
        w.live++;
        w.handoffs++;
        w.liveByListener.set(l.id, (w.liveByListener.get(l.id) ?? 0) + 1);
        l.live++;
        l.accepted++;
        gen.feLive[l.frontendId] = (gen.feLive[l.frontendId] ?? 0) + 1;
        this.live++;
        this.totalAccepted++;
        return;
      }
      // not transferred (the worker is going away; its exit is handled when it comes): re-route
    }
    this.hold({ socket, listener: l });
  }

  // ---- operations -----------------------------------------------------------------------------

  /** The workers that answer requests: the current generation's, or every generation's (`all`). */
  private readyWorkers(all = false): WorkerSlot[] {
    const gens = all ? [this.gen, ...this.retiring] : [this.gen];
    return gens.flatMap((g) => g.workers.filter((w) => w.state === WorkerState.READY || w.state === WorkerState.STOPPING || w.state === WorkerState.RETIRING));
  }

  /** Every worker's facts, those of retiring generations included (`show info`, `show activity`). */
  async workerInfo(): Promise<WorkerInfo[]> {
    const all = await Promise.all(this.readyWorkers(true).map((w) => ask(w, (c) => c.info())));
    return all.filter((x) => x !== undefined).sort((a, b) => a.workerId - b.workerId);
  }

  /** Workers of replaced generations still finishing their sessions. */
  get retiringWorkers(): number {
    let n = 0;
    for (const g of this.retiring) n += g.workers.filter((w) => w.state !== WorkerState.DEAD).length;
    return n;
  }

  async sessions(): Promise<SessionSnapshot[]> {
    const parts = await Promise.all(this.readyWorkers(true).map((w) => ask(w, (c) => c.sessions())));
    return parts.flatMap((ab) => (ab ? (unpack(new Uint8Array(ab)) as SessionSnapshot[]) : []));
  }

  /** Per-proxy counters of the current generation (numbered by its config). */
  async proxyCounters(): Promise<ProxyCounters[]> {
    const all = await Promise.all(this.readyWorkers().map((w) => ask(w, (c) => c.proxyCounters())));
    return all.filter((x) => x !== undefined);
  }

  /**
   * `clear counters`: the high-water marks (HAProxy's max values) of servers, backends and every
   * worker's proxies; `all` also the totals and error counters.
   */
  async clearCounters(all: boolean): Promise<void> {
    const { servers, backends } = this.table.init;
    const marks = all
      ? [ServerSlot.MAX_CONN_SEEN, ServerSlot.MAX_QUEUE_SEEN, ServerSlot.TOTAL, ServerSlot.LB_TOTAL, ServerSlot.RETRIES, ServerSlot.REDISPATCHES, ServerSlot.CONN_ERRORS, ServerSlot.RESP_ERRORS]
      : [ServerSlot.MAX_CONN_SEEN, ServerSlot.MAX_QUEUE_SEEN];
    for (let i = 0; i < servers; i++) for (const slot of marks) this.table.setSrv(i, slot, 0);
    const beMarks = all ? [BackendSlot.MAX_QUEUE_SEEN, BackendSlot.RETRIES, BackendSlot.REDISPATCHES, BackendSlot.CONN_ERRORS, BackendSlot.RESP_ERRORS] : [BackendSlot.MAX_QUEUE_SEEN];
    for (let i = 0; i < backends; i++) for (const slot of beMarks) this.table.setBe(i, slot, 0);
    await Promise.all(this.readyWorkers().map((w) => ask(w, (c) => c.clearCounters(all))));
  }

  /**
   * A server went DOWN or to maintenance: every worker closes its idle connections to it and moves
   * the sessions queued on it to the backend queue. Resolves with the sessions requeued.
   */
  async serverDown(serverId: number): Promise<number> {
    const r = await Promise.all(this.readyWorkers().map((w) => ask(w, (c) => c.serverDown(serverId))));
    return r.reduce((a: number, b) => a + (b ?? 0), 0);
  }

  /** `set server addr`: every worker of the current generation connects there from now on. */
  async setServerAddr(serverId: number, host: string, port: number): Promise<void> {
    this.gen.addrs.set(serverId, { host, port });
    await Promise.all(this.readyWorkers().map((w) => ask(w, (c) => c.setServerAddr(serverId, host, port))));
  }

  /** The address of a server now (its config's, unless `set server addr` changed it). */
  serverAddr(serverId: number, host: string, port: number): { host: string; port: number } {
    return this.gen.addrs.get(serverId) ?? { host, port };
  }

  async shutdownSession(worker: number, id: number): Promise<boolean> {
    const r = await Promise.all(this.readyWorkers(true).filter((w) => w.workerId === worker).map((w) => ask(w, (c) => c.shutdownSession(id))));
    return r.some(Boolean);
  }

  /** `debug dev crash-worker N`: N is the worker's place in the current generation. */
  async crashWorker(index: number): Promise<boolean> {
    const w = this.workers[index];
    if (!w || w.state !== WorkerState.READY) return false;
    // the worker may be gone before its answer is posted: its exit answers as well
    await ask(w, (c) => c.crash());
    return true;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  get heldCount(): number {
    return this.held.length;
  }

  private onAllStopped: (() => void) | undefined;

  /**
   * Stop: close the listeners (nothing listens any more), let live sessions finish for up to
   * `hardStopAfterMs` (null: as long as they last — HAProxy's `hard-stop-after 0`), then close
   * whatever is left. Resolves when every worker, of every generation, has exited.
   */
  stop(hardStopAfterMs: number | null): Promise<void> {
    this.stopping = true;
    for (const l of this.listeners) l.server.close();
    for (const h of this.held) h.socket.destroy();
    this.held = [];
    return new Promise((resolve) => {
      const hard =
        hardStopAfterMs === null
          ? null
          : setTimeout(() => this.forceStop([this.gen, ...this.retiring].flatMap((g) => g.workers)), hardStopAfterMs);
      hard?.unref();
      this.onAllStopped = () => {
        if (hard) clearTimeout(hard);
        resolve();
      };
      for (const w of this.workers) {
        if (w.state === WorkerState.READY || w.state === WorkerState.STARTING) {
          setWorkerState(w, WorkerState.STOPPING);
          w.worker.postMessage({ type: 'stop' } satisfies ToWorker);
        }
      }
      if (this.allDead()) resolve();
    });
  }
}

/**
 * A request to a worker over its control channel, or undefined if the worker exits first: a
 * stopping worker closes its channel once its last session ends, and a request that crossed that
 * close would otherwise never be answered.
 */
function ask<T>(w: WorkerSlot, f: (c: Remote<WorkerControl>) => Promise<T>): Promise<T | undefined> {
  return Promise.race([f(w.control), w.exited.then(() => undefined)]);
}

function newGeneration(id: number, cfg: Config, table: ServerTable, threads: number, firstWorkerId: number): Generation {
  return { id, cfg, table, threads, workers: [], listeners: [], feLive: cfg.frontends.map(() => 0), firstWorkerId, rr: 0, addrs: new Map(), ownAddresses: [] };
}

/**
 * The ready worker with the fewest outstanding sessions, ties broken round-robin from `start`,
 * skipping `exclude` (workers a transfer of this socket already failed on).
 */
export function leastLoaded<W extends { readonly state: WorkerState; readonly live: number }>(
  workers: readonly W[],
  start: number,
  exclude?: ReadonlySet<W>,
): W | undefined {
  let best: W | undefined;
  const n = workers.length;
  for (let k = 0; k < n; k++) {
    const w = workers[(start + k) % n];
    if (!w || w.state !== WorkerState.READY || exclude?.has(w)) continue;
    if (!best || w.live < best.live) best = w;
  }
  return best;
}

function setWorkerState(w: WorkerSlot, next: WorkerState): void {
  if (!WorkerTransitions[w.state].includes(next)) {
    throw new Error(`worker ${w.workerId}: illegal transition ${w.state} -> ${next}`);
  }
  w.state = next;
}

function listen(server: net.Server, bind: { host: string; port: number; fd?: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (bind.fd !== undefined) server.listen({ fd: bind.fd }, done);
    else server.listen({ host: bind.host === '' || bind.host === '*' ? undefined : bind.host, port: bind.port, backlog: 1024 }, done);
  });
}
