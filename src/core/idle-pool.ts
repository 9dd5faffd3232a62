import type { ConnActor } from './actor.ts';
import type { ConnActorLike, ConnOwner } from './actor.types.ts';
import { ConnEvent } from './actor.types.ts';
import type { ServerRuntime } from './backend.types.ts';
import type { IdlePoolStats } from './idle-pool.types.ts';
import { DEFAULT_POOL_PURGE_DELAY } from './idle-pool.types.ts';
import type { Scheduler } from './scheduler.ts';
import { Timer } from './scheduler.ts';
import type { TimerTarget } from './scheduler.types.ts';

/** One parked server connection; the pool owns it (under `epoch`) while it waits. */
class IdleConn implements TimerTarget {
  readonly pool: IdlePool;
  readonly conn: ConnActor;
  readonly server: ServerRuntime;
  epoch = 0;
  /** Transactions it completed (≥ 2: it proved the server keeps connections open). */
  readonly uses: number;
  /** The session it is private to (`http-reuse never`), 0 when any session may take it. */
  readonly privateTo: number;
  /** Closes it after `pool-purge-delay` unused. */
  readonly timer: Timer;

  constructor(pool: IdlePool, conn: ConnActor, server: ServerRuntime, uses: number, privateTo: number) {
    this.pool = pool;
    this.conn = conn;
    this.server = server;
    this.uses = uses;
    this.privateTo = privateTo;
    this.timer = new Timer(this, 0);
  }

  onTimer(): void {
    this.pool.evict(this, false);
  }
}

/**
 * The idle connection manager of one worker (seed 003): established server connections waiting
 * for a request, per server, owned by the pool while they wait. The pool watches them: a byte,
 * an EOF or an error from an idle connection means the server closed or broke it, and the
 * connection is closed and removed at once, so none is left in CLOSE-WAIT and none is handed to a
 * request. Checkout takes the most recently parked one (the least likely to be closed by now).
 */
export class IdlePool implements ConnOwner {
  private readonly sched: Scheduler;
  private readonly byServer = new Map<number, IdleConn[]>();
  private readonly byConn = new Map<number, IdleConn>();
  readonly stats: IdlePoolStats = { parked: 0, reused: 0, closedByServer: 0, purged: 0, refused: 0 };

  constructor(sched: Scheduler) {
    this.sched = sched;
  }

  /** Idle connections of `server` in this worker. */
  count(server: ServerRuntime): number {
    return this.byServer.get(server.id)?.length ?? 0;
  }

  /** Idle connections of the server with global id `id`: [used once, proven (2+ uses)]. */
  split(id: number): [number, number] {
    let proven = 0;
    const list = this.byServer.get(id) ?? [];
    for (const e of list) if (e.uses >= 2) proven++;
    return [list.length - proven, proven];
  }

  get size(): number {
    return this.byConn.size;
  }

  /**
   * Take over an established connection after its transaction (`uses` transactions done), for
   * any session, or only for session `privateTo` (`http-reuse never`: the connection stays with
   * its client). Returns false, and leaves the connection to the caller, when the pool of this
   * server is full (`pool-max-conn`, private connections not counted).
   */
  park(conn: ConnActor, server: ServerRuntime, uses: number, privateTo = 0): boolean {
    const max = server.cfg.poolMaxConn ?? -1;
    let list = this.byServer.get(server.id);
    if (!list) this.byServer.set(server.id, (list = []));
    if (privateTo === 0 && max >= 0 && list.filter((e) => e.privateTo === 0).length >= max) {
      this.stats.refused++;
      return false;
    }
    const e = new IdleConn(this, conn, server, uses, privateTo);
    e.epoch = conn.attach(this);
    list.push(e);
    this.byConn.set(conn.id, e);
    this.stats.parked++;
    this.sched.arm(e.timer, server.cfg.poolPurgeDelay ?? DEFAULT_POOL_PURGE_DELAY);
    // read it while idle (it may have been paused for backpressure): its EOF must be seen at once
    conn.resume(e.epoch);
    return true;
  }

  /**
   * Hand the most recently parked connection of `server` that `session` may use to `owner`, which
   * gets a fresh epoch: one private to `session`, or a shared one that completed at least
   * `minUses` transactions (Infinity: none).
   */
  checkout(server: ServerRuntime, owner: ConnOwner, session: number, minUses: number): { conn: ConnActor; epoch: number; uses: number } | null {
    const list = this.byServer.get(server.id);
    if (!list) return null;
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i] as IdleConn;
      if (e.privateTo !== session && (e.privateTo !== 0 || e.uses < minUses)) continue;
      this.remove(e);
      this.stats.reused++;
      return { conn: e.conn, epoch: e.conn.attach(owner), uses: e.uses };
    }
    return null;
  }

  /** The session ended: its private connections go with it. */
  dropPrivate(session: number): void {
    for (const e of [...this.byConn.values()]) if (e.privateTo === session) this.evict(e, false);
  }

  /** Close every idle connection of `server` (server DOWN or MAINT), or of every server. */
  purge(server: ServerRuntime | null): number {
    const victims = server ? [...(this.byServer.get(server.id) ?? [])] : [...this.byConn.values()];
    for (const e of victims) this.evict(e, false);
    return victims.length;
  }

  // ---- events while idle: anything but a drain ends the connection ---------------------------

  onConnData(conn: ConnActorLike, epoch: number): void {
    const e = this.current(conn, epoch);
    if (e) this.evict(e, true);
  }

  onConnEvent(conn: ConnActorLike, epoch: number, ev: ConnEvent): void {
    const e = this.current(conn, epoch);
    if (e && ev !== ConnEvent.DRAIN) this.evict(e, true);
  }

  onFault(err: unknown): void {
    // the pool's handlers only close connections: an exception here is a bug to surface
    throw err;
  }

  /** Close and forget a parked connection (`byServer`: the server closed or broke it). */
  evict(e: IdleConn, byServer: boolean): void {
    if (this.byConn.get(e.conn.id) !== e) return;
    this.remove(e);
    if (byServer) this.stats.closedByServer++;
    else this.stats.purged++;
    if (!e.conn.closed) e.conn.close(e.epoch, false);
  }

  private current(conn: ConnActorLike, epoch: number): IdleConn | null {
    const e = this.byConn.get(conn.id);
    return e && e.epoch === epoch ? e : null;
  }

  private remove(e: IdleConn): void {
    this.sched.cancel(e.timer);
    this.byConn.delete(e.conn.id);
    const list = this.byServer.get(e.server.id) as IdleConn[];
    list.splice(list.indexOf(e), 1);
  }
}
