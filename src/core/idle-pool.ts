import type { ConnActor } from './actor.ts';
import type { ConnActorLike, ConnOwner } from './actor.types.ts';
import { ConnEvent, SILENT_CLOSE } from './actor.types.ts';
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
/** Server connections a worker's transactions hold, and the most they held lately (per server). */
interface Usage {
  used: number;
  peak: number;
  prevPeak: number;
  since: number;
}

export class IdlePool implements ConnOwner {
  private readonly sched: Scheduler;
  private readonly byServer = new Map<number, IdleConn[]>();
  private readonly byConn = new Map<number, IdleConn>();
  /** Private connections by session (`http-reuse never`), so a session's end finds its own at once. */
  private readonly bySession = new Map<number, Set<IdleConn>>();
  private readonly usage = new Map<number, Usage>();
  /** Private idle connections per server id (not counted against the shared limits). */
  private readonly privateCount = new Map<number, number>();
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
   * A transaction of this worker starts (+1) or stops (-1) using a connection to `server`. The
   * pool keeps no more idle connections than the transactions lately needed (as HAProxy's
   * estimate of needed connections): a burst of one-request clients under `http-reuse safe`
   * otherwise leaves thousands of idle connections nobody may take.
   */
  inUse(server: ServerRuntime, delta: number): void {
    const u = this.usageOf(server);
    u.used += delta;
    if (u.used > u.peak) u.peak = u.used;
  }

  private usageOf(server: ServerRuntime): Usage {
    let u = this.usage.get(server.id);
    if (!u) this.usage.set(server.id, (u = { used: 0, peak: 0, prevPeak: 0, since: this.sched.now() }));
    const period = server.cfg.poolPurgeDelay ?? DEFAULT_POOL_PURGE_DELAY;
    const now = this.sched.now();
    if (now - u.since >= period) {
      // a new period: the last one's peak is remembered for one more period
      u.prevPeak = now - u.since >= 2 * period ? u.used : u.peak;
      u.peak = u.used;
      u.since = now;
    }
    return u;
  }

  /**
   * Take over an established connection after its transaction (`uses` transactions done), for
   * any session, or only for session `privateTo` (`http-reuse never`: the connection stays with
   * its client). Returns false, and leaves the connection to the caller, when the pool of this
   * server holds enough already: `pool-max-conn`, or as many as transactions lately used
   * (private connections not counted).
   */
  park(conn: ConnActor, server: ServerRuntime, uses: number, privateTo = 0): boolean {
    const max = server.cfg.poolMaxConn ?? -1;
    let list = this.byServer.get(server.id);
    if (!list) this.byServer.set(server.id, (list = []));
    if (privateTo === 0) {
      const shared = list.length - (this.privateCount.get(server.id) ?? 0);
      const u = this.usageOf(server);
      if ((max >= 0 && shared >= max) || shared + u.used >= Math.max(u.peak, u.prevPeak, 1)) {
        // full: the oldest shared one goes, not this one (the most recently used is the likeliest
        // to be alive, and the session that used it will most likely ask again)
        const oldest = max === 0 ? undefined : list.find((e) => e.privateTo === 0);
        if (!oldest) {
          this.stats.refused++;
          return false;
        }
        this.evict(oldest, false);
      }
    }
    const e = new IdleConn(this, conn, server, uses, privateTo);
    e.epoch = conn.attach(this);
    list.push(e);
    this.byConn.set(conn.id, e);
    if (privateTo !== 0) {
      let set = this.bySession.get(privateTo);
      if (!set) this.bySession.set(privateTo, (set = new Set()));
      set.add(e);
      this.privateCount.set(server.id, (this.privateCount.get(server.id) ?? 0) + 1);
    }
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
    if (!list || list.length === 0) return null;
    // nothing shared is allowed and the session has none of its own: no scan
    if (minUses === Number.POSITIVE_INFINITY && !this.bySession.has(session)) return null;
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
    const set = this.bySession.get(session);
    if (set) for (const e of [...set]) this.evict(e, false);
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
    if (!e.conn.closed) e.conn.close(e.epoch, SILENT_CLOSE);
  }

  private current(conn: ConnActorLike, epoch: number): IdleConn | null {
    const e = this.byConn.get(conn.id);
    return e && e.epoch === epoch ? e : null;
  }

  private remove(e: IdleConn): void {
    this.sched.cancel(e.timer);
    this.byConn.delete(e.conn.id);
    const list = this.byServer.get(e.server.id) as IdleConn[];
    list.splice(list.lastIndexOf(e), 1);
    if (e.privateTo !== 0) {
      const set = this.bySession.get(e.privateTo);
      set?.delete(e);
      if (set?.size === 0) this.bySession.delete(e.privateTo);
      this.privateCount.set(e.server.id, (this.privateCount.get(e.server.id) ?? 1) - 1);
    }
  }
}
