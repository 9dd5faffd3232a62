import net from 'node:net';
import { MessageChannel, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { unpack } from 'msgpackr';
import type { Config } from '../config/config.types.ts';
import type { SessionSnapshot } from '../shared-state/snapshots.types.ts';
import type { ServerTable } from '../shared-state/server-table.ts';
import { BackendSlot, ServerSlot } from '../shared-state/server-table.types.ts';
import type { AcceptorOptions, HeldSocket, ListenerSlot, WorkerSlot } from './acceptor.types.ts';
import { HELD_MIN, RESPAWN_DELAY_MS, WorkerState, WorkerTransitions } from './acceptor.types.ts';
import type { FromWorker, ProxyCounters, ToWorker, WorkerControl, WorkerInfo, WorkerInit } from './messages.types.ts';

/**
 * The main thread's data-path role: own the listeners, hand every accepted socket (still paused,
 * never read) to the least-loaded ready worker, count live sessions from the workers' acks, and
 * hold accepted sockets while a `maxconn` is reached. It also supervises the workers: a worker
 * that dies is replaced, its sessions are counted lost, and the others keep serving.
 */
export class Acceptor {
  readonly cfg: Config;
  readonly table: ServerTable;
  readonly workers: WorkerSlot[] = [];
  readonly listeners: ListenerSlot[] = [];
  private readonly opts: AcceptorOptions;
  private held: HeldSocket[] = [];
  private rr = 0;
  private stopping = false;
  private readonly feLive: number[];
  live = 0;
  totalAccepted = 0;
  lostSessions = 0;
  workerDeaths = 0;
  heldDropped = 0;
  readonly startedAt = Date.now();

  constructor(cfg: Config, table: ServerTable, opts: AcceptorOptions) {
    this.cfg = cfg;
    this.table = table;
    this.opts = opts;
    this.feLive = cfg.frontends.map(() => 0);
  }

  /** Spawn the workers, wait for each READY, then open the listeners. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.opts.threads }, (_, i) => this.spawn(i)));
    if (this.opts.reusePort) return; // each worker listens itself
    let id = 0;
    for (const [feId, fe] of this.cfg.frontends.entries()) {
      for (const bind of fe.binds) {
        const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
        const slot: ListenerSlot = { id: id++, frontendId: feId, bind, server, live: 0, accepted: 0 };
        server.on('connection', (socket) => this.onConnection(slot, socket));
        await listen(server, bind);
        this.listeners.push(slot);
      }
    }
  }

  /** Addresses actually bound (port 0 resolved), in config order. */
  addresses(): Array<{ frontend: string; host: string; port: number }> {
    return this.listeners.map((l) => {
      const a = l.server.address() as net.AddressInfo;
      return { frontend: this.cfg.frontends[l.frontendId]?.name ?? '', host: a.address, port: a.port };
    });
  }

  // ---- workers ------------------------------------------------------------------------------

  private spawn(index: number): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    const init: WorkerInit = {
      workerId: index,
      config: this.cfg,
      table: this.table.init,
      control: port2,
      reusePort: this.opts.reusePort,
    };
    const worker = new Worker(this.opts.workerUrl, { workerData: init, transferList: [port2] });
    const slot: WorkerSlot = {
      index,
      worker,
      control: Comlink.wrap<WorkerControl>(nodeEndpoint(port1)),
      state: WorkerState.STARTING,
      live: 0,
      handoffs: 0,
      liveByListener: new Map(),
      spawnedAt: Date.now(),
    };
    this.workers[index] = slot;
    return new Promise((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          setWorkerState(slot, WorkerState.READY);
          resolve();
          this.admitHeld();
        } else if (m.type === 'closed') {
          this.onClosed(slot, m.byListener);
        } else if (m.type === 'stopped') {
          void worker.terminate();
        }
      });
      worker.on('error', (err: Error) => {
        this.opts.notice(`worker ${index} crashed: ${err.stack ?? err.message}`);
        if (slot.state === WorkerState.STARTING) reject(err);
      });
      worker.on('exit', (code) => {
        port1.close();
        this.onExit(slot, code);
      });
    });
  }

  private onExit(slot: WorkerSlot, code: number): void {
    const wasStopping = slot.state === WorkerState.STOPPING;
    if (slot.state !== WorkerState.DEAD) setWorkerState(slot, WorkerState.DEAD);
    // its sessions are lost (their sockets died with the thread); free their accounting
    this.lostSessions += slot.live;
    this.live -= slot.live;
    for (const [lid, n] of slot.liveByListener) this.release(lid, n);
    slot.live = 0;
    slot.liveByListener.clear();
    if (wasStopping || this.stopping) {
      if (this.workers.every((w) => w.state === WorkerState.DEAD)) this.onAllStopped?.();
      return;
    }
    this.workerDeaths++;
    this.opts.notice(`worker ${slot.index} exited with code ${code}; respawning`);
    setTimeout(() => {
      if (this.stopping) return;
      this.spawn(slot.index).then(
        () => this.opts.notice(`worker ${slot.index} respawned`),
        (err: Error) => this.opts.notice(`worker ${slot.index} failed to respawn: ${err.message}`),
      );
    }, RESPAWN_DELAY_MS);
    this.admitHeld();
  }

  private onClosed(slot: WorkerSlot, byListener: ReadonlyArray<readonly [number, number]>): void {
    for (const [lid, n] of byListener) {
      slot.live -= n;
      this.live -= n;
      const left = (slot.liveByListener.get(lid) ?? 0) - n;
      if (left > 0) slot.liveByListener.set(lid, left);
      else slot.liveByListener.delete(lid);
      this.release(lid, n);
    }
    this.admitHeld();
  }

  private release(listenerId: number, n: number): void {
    const l = this.listeners[listenerId];
    if (!l) return;
    l.live -= n;
    this.feLive[l.frontendId] = (this.feLive[l.frontendId] ?? 0) - n;
  }

  private pickWorker(exclude?: ReadonlySet<WorkerSlot>): WorkerSlot | undefined {
    const w = leastLoaded(this.workers, this.rr, exclude);
    this.rr = (this.rr + 1) % Math.max(this.workers.length, 1);
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

  /** Would one more session on `l` stay within global, frontend and bind maxconn? */
  private fits(l: ListenerSlot): boolean {
    const fe = this.cfg.frontends[l.frontendId];
    if (this.live >= this.cfg.global.maxconn) return false;
    if (fe?.settings.maxconn !== undefined && (this.feLive[l.frontendId] ?? 0) >= fe.settings.maxconn) return false;
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
      if (this.fits(h.listener) && this.pickWorker()) this.handoff(h.listener, h.socket);
      else still.push(h);
    }
    this.held = still;
  }

  private handoff(l: ListenerSlot, socket: net.Socket): void {
    const tried = new Set<WorkerSlot>();
    for (let attempt = 0; attempt < this.workers.length; attempt++) {
      const w = this.pickWorker(tried);
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
        this.feLive[l.frontendId] = (this.feLive[l.frontendId] ?? 0) + 1;
        this.live++;
        this.totalAccepted++;
        return;
      }
      // not transferred (the worker is going away; its exit is handled when it comes): re-route
    }
    this.hold({ socket, listener: l });
  }

  // ---- operations -----------------------------------------------------------------------------

  private readyWorkers(): WorkerSlot[] {
    return this.workers.filter((w) => w.state === WorkerState.READY || w.state === WorkerState.STOPPING);
  }

  async workerInfo(): Promise<WorkerInfo[]> {
    return Promise.all(this.readyWorkers().map((w) => w.control.info()));
  }

  async sessions(): Promise<SessionSnapshot[]> {
    const parts = await Promise.all(this.readyWorkers().map((w) => w.control.sessions()));
    return parts.flatMap((ab: ArrayBuffer) => unpack(new Uint8Array(ab)) as SessionSnapshot[]);
  }

  async proxyCounters(): Promise<ProxyCounters[]> {
    return Promise.all(this.readyWorkers().map((w) => w.control.proxyCounters()));
  }

  /**
   * `clear counters`: the high-water marks (HAProxy's max values) of servers, backends and every
   * worker's proxies; `all` also the totals and error counters.
   */
  async clearCounters(all: boolean): Promise<void> {
    const { servers, backends } = this.table.init;
    const marks = all
      ? [ServerSlot.MAX_CONN_SEEN, ServerSlot.MAX_QUEUE_SEEN, ServerSlot.TOTAL, ServerSlot.LB_TOTAL, ServerSlot.RETRIES, ServerSlot.REDISPATCHES, ServerSlot.CONN_ERRORS]
      : [ServerSlot.MAX_CONN_SEEN, ServerSlot.MAX_QUEUE_SEEN];
    for (let i = 0; i < servers; i++) for (const slot of marks) this.table.setSrv(i, slot, 0);
    const beMarks = all ? [BackendSlot.MAX_QUEUE_SEEN, BackendSlot.RETRIES, BackendSlot.REDISPATCHES, BackendSlot.CONN_ERRORS] : [BackendSlot.MAX_QUEUE_SEEN];
    for (let i = 0; i < backends; i++) for (const slot of beMarks) this.table.setBe(i, slot, 0);
    await Promise.all(this.readyWorkers().map((w) => w.control.clearCounters(all)));
  }

  /**
   * A server went DOWN or to maintenance: every worker closes its idle connections to it and moves
   * the sessions queued on it to the backend queue. Resolves with the sessions requeued.
   */
  async serverDown(serverId: number): Promise<number> {
    const r = await Promise.all(this.readyWorkers().map((w) => w.control.serverDown(serverId)));
    return r.reduce((a, b) => a + b, 0);
  }

  async shutdownSession(id: number): Promise<boolean> {
    const r = await Promise.all(this.readyWorkers().map((w) => w.control.shutdownSession(id)));
    return r.some(Boolean);
  }

  async crashWorker(index: number): Promise<boolean> {
    const w = this.workers[index];
    if (!w || w.state !== WorkerState.READY) return false;
    await w.control.crash();
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
   * whatever is left. Resolves when every worker has exited.
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
          : setTimeout(() => {
              for (const w of this.readyWorkers()) {
                w.control.killAll().catch(() => undefined);
              }
              setTimeout(() => {
                for (const w of this.workers) if (w.state !== WorkerState.DEAD) w.worker.terminate();
              }, 1000).unref();
            }, hardStopAfterMs);
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
      if (this.workers.every((w) => w.state === WorkerState.DEAD)) resolve();
    });
  }
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
    throw new Error(`worker ${w.index}: illegal transition ${w.state} -> ${next}`);
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
