import type { BackendConfig, Config } from '../config/config.types.ts';
import type { ServerTable } from '../shared-state/server-table.ts';
import { BackendSlot, ServerOpState, ServerSlot } from '../shared-state/server-table.types.ts';
import type { BackendRuntimeLike, FrontendRuntime, HttpCounters, QueuedLike, ServerRuntime } from './backend.types.ts';
import { AssignResult } from './backend.types.ts';

/** Longest shared round-robin order kept (sum of the candidates' weights); past it, per worker. */
const RR_ORDER_MAX = 1 << 16;

/** Whether `balance <algo>` hashes a key (the others ignore it: a session does not even read its client's address for them). */
export const hashes = (algo: string): boolean => algo === 'source' || algo === 'uri' || algo === 'hdr';

export const newHttpCounters = (): HttpCounters => ({ req: 0, rsp: [0, 0, 0, 0, 0, 0] });

/** Count one transaction: a request and, when it got one, its response's status class. */
export function countHttp(c: HttpCounters, status: number): void {
  c.req++;
  if (status < 0) return;
  const n = Math.floor(status / 100);
  const i = n >= 1 && n <= 5 ? n : 0;
  c.rsp[i] = (c.rsp[i] ?? 0) + 1;
}

export function clearHttp(c: HttpCounters): void {
  c.req = 0;
  c.rsp.fill(0);
}

/**
 * A backend as one worker runs it: the servers, the load-balancing algorithm, and this worker's
 * part of the backend queue. Connection slots (`maxconn`) and the round-robin position are global
 * across workers through the shared table: consecutive picks of any workers follow one smooth
 * weighted round-robin order, as HAProxy's threads share one (two workers do not both start
 * with the first server).
 */
export class BackendRuntime implements BackendRuntimeLike {
  readonly id: number;
  readonly puid: number;
  readonly cfg: BackendConfig;
  readonly algo: BackendConfig['settings']['balance'];
  readonly servers: ServerRuntime[];
  readonly queue: QueuedLike[] = [];
  private readonly table: ServerTable;
  private readonly random: () => number;
  private rrCursor = 0;
  /** The smooth weighted round-robin order of the candidates (one period), and what it was made for. */
  private rrOrder: ServerRuntime[] = [];
  private rrKey = -1;
  current = 0;
  total = 0;
  max = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** HTTP transactions routed to this backend. */
  readonly http = newHttpCounters();

  constructor(id: number, cfg: BackendConfig, firstServerId: number, table: ServerTable, random: () => number) {
    this.id = id;
    this.puid = id + 1;
    this.cfg = cfg;
    this.algo = cfg.settings.balance;
    this.table = table;
    this.random = random;
    this.servers = cfg.servers.map((s, i) => ({
      id: firstServerId + i,
      puid: i + 1,
      cfg: s,
      host: s.host,
      port: s.port,
      backend: this,
      wrrScore: 0,
      queue: [],
      bytesIn: 0,
      bytesOut: 0,
      http: newHttpCounters(),
    }));
  }

  /** UP and not in maintenance, with a weight: may receive new sessions. */
  usable(s: ServerRuntime): boolean {
    return this.table.state(s.id) === ServerOpState.UP && this.weight(s) > 0;
  }

  weight(s: ServerRuntime): number {
    return this.table.srv(s.id, ServerSlot.WEIGHT);
  }

  /** The server's maxconn now: shared, so `set maxconn server` applies to every worker at once. */
  maxconn(s: ServerRuntime): number {
    return this.table.srv(s.id, ServerSlot.MAXCONN);
  }

  curConn(s: ServerRuntime): number {
    return this.table.srv(s.id, ServerSlot.CUR_CONN);
  }

  hasFreeSlot(s: ServerRuntime): boolean {
    const max = this.maxconn(s);
    return max === 0 || this.curConn(s) < max;
  }

  /** Servers that may be picked now: the active ones, else the first usable backup (HAProxy default). */
  candidates(): ServerRuntime[] {
    const act = this.servers.filter((s) => !s.cfg.backup && this.usable(s));
    if (act.length > 0) return act;
    if (this.cfg.settings.allbackups) return this.servers.filter((s) => s.cfg.backup && this.usable(s));
    const bck = this.servers.find((s) => s.cfg.backup && this.usable(s));
    return bck ? [bck] : [];
  }

  /** Number of active usable servers (HAProxy's srv_act), used by the redispatch rule. */
  activeCount(): number {
    let n = 0;
    for (const s of this.servers) if (!s.cfg.backup && this.usable(s)) n++;
    return n;
  }

  /**
   * Pick a server for a new session and reserve a slot on it. `key` is what the hashing
   * algorithms hash: the client address (`source`), the path (`uri`), a header value (`hdr`, ''
   * when absent: round robin then, as HAProxy); `avoid` is the server that just failed (a
   * redispatch prefers another).
   */
  assign(key: string, avoid: ServerRuntime | null): { result: AssignResult; server: ServerRuntime | null } {
    const all = this.candidates();
    if (all.length === 0) return { result: AssignResult.NONE, server: null };
    const pool = all.filter((s) => this.hasFreeSlot(s));
    const hashed = this.algo === 'source' || ((this.algo === 'uri' || this.algo === 'hdr') && key !== '');
    if (pool.length === 0 && !hashed) return { result: AssignResult.FULL, server: null };
    if (hashed) {
      // deterministic: the hashed server even when it is full (it then has a queue of its own)
      // a redispatch leaves the hashed server for another (HAProxy's map lookups take a server to avoid)
      const among = avoid && all.length > 1 ? all.filter((x) => x !== avoid) : all;
      const s = sourceHashPick(among, (x) => this.weight(x), key, this.algo === 'source' ? addressHash : sdbmHash);
      if (!s) return { result: AssignResult.NONE, server: null };
      this.table.addSrv(s.id, ServerSlot.LB_TOTAL, 1);
      if (!this.table.tryReserve(s.id, this.maxconn(s))) return { result: AssignResult.QUEUE_SERVER, server: s };
      return { result: AssignResult.OK, server: s };
    }
    let left = pool;
    while (left.length > 0) {
      let server = this.pick(left, all);
      // a redispatch moves on from the server that failed, unless it is the only one (HAProxy's
      // "server to avoid"): pick again, which also advances round robin as HAProxy's skip does
      if (server && server === avoid && left.length > 1) server = this.pick(left.filter((s) => s !== avoid), all);
      if (!server) break;
      if (this.table.tryReserve(server.id, this.maxconn(server))) {
        this.table.addSrv(server.id, ServerSlot.LB_TOTAL, 1);
        return { result: AssignResult.OK, server };
      }
      // another worker took its last slot between our look and our reservation: try the others
      // (found by the multi-worker simulation: returning FULL here queued a session beside a free server)
      left = left.filter((s) => s !== server);
    }
    return { result: AssignResult.FULL, server: null };
  }

  /** Reserve a slot on a given server (retry on the same server, or a queue grant). */
  reserve(s: ServerRuntime): boolean {
    return this.table.tryReserve(s.id, this.maxconn(s));
  }

  release(s: ServerRuntime): void {
    this.table.release(s.id, this.id);
  }

  /** Any server with a free slot except `avoid`, round robin (a redispatch away from a full queue). */
  assignOther(avoid: ServerRuntime): ServerRuntime | null {
    const all = this.candidates();
    const s = this.smoothWrr(
      all.filter((x) => x !== avoid && this.hasFreeSlot(x)),
      all,
    );
    if (!s || !this.reserve(s)) return null;
    return s;
  }

  /** A server of `pool` (those of the candidates `all` with a free slot) by the algorithm. */
  private pick(pool: ServerRuntime[], all: ServerRuntime[]): ServerRuntime | undefined {
    switch (this.algo) {
      case 'roundrobin':
      case 'static-rr':
        return this.smoothWrr(pool, all);
      case 'leastconn':
        return this.leastConn(pool);
      case 'first':
        // lowest id with a free slot (HAProxy's "first": fill servers in order)
        return pool.reduce((a, b) => (b.puid < a.puid ? b : a));
      case 'uri': // hashed in assign(); round robin when there is nothing to hash
      case 'hdr':
        return this.smoothWrr(pool, all);
      case 'source': // handled in assign()
      case 'random':
        return this.randomTwoChoices(pool);
    }
  }

  /**
   * Weighted round robin shared by the workers: the next step of the backend's shared position in
   * the smooth weighted order of its candidates `all` (the same sequence as HAProxy's static map);
   * a server of that order not in `pool` (full, or the one to avoid) is passed over for the next.
   */
  private smoothWrr(pool: ServerRuntime[], all: ServerRuntime[]): ServerRuntime | undefined {
    if (pool.length <= 1) return pool[0];
    const order = this.orderOf(all);
    if (order.length === 0) return this.localWrr(pool);
    const k = (this.table.addBe(this.id, BackendSlot.RR_SEQ, 1) - 1) >>> 0;
    for (let i = 0; i < order.length; i++) {
      const s = order[(k + i) % order.length] as ServerRuntime;
      if (pool.includes(s)) return s;
    }
    return this.localWrr(pool); // only with an order made for other candidates (a key collision)
  }

  /**
   * One period of the smooth weighted round-robin order of `servers` (each appears weight times),
   * remade when the servers or their weights change; empty past RR_ORDER_MAX steps (round robin
   * is then this worker's own).
   */
  private orderOf(servers: ServerRuntime[]): ServerRuntime[] {
    // checked on every pick, without allocating: the servers and their weights, hashed
    let key = servers.length;
    let total = 0;
    for (const s of servers) {
      const w = this.weight(s);
      total += w;
      key = (Math.imul(key, 31) + s.id * 257 + w) | 0;
    }
    if (key === this.rrKey) return this.rrOrder;
    this.rrKey = key;
    this.rrOrder = [];
    if (total > RR_ORDER_MAX) return this.rrOrder;
    const weights = servers.map((s) => this.weight(s));
    const score = servers.map(() => 0);
    for (let step = 0; step < total; step++) {
      let best = -1;
      for (let i = 0; i < servers.length; i++) {
        score[i] = (score[i] as number) + (weights[i] as number);
        if (best < 0 || (score[i] as number) > (score[best] as number)) best = i;
      }
      score[best] = (score[best] as number) - total;
      this.rrOrder.push(servers[best] as ServerRuntime);
    }
    return this.rrOrder;
  }

  /** Smooth weighted round robin with this worker's own scores. */
  private localWrr(pool: ServerRuntime[]): ServerRuntime | undefined {
    let total = 0;
    let best: ServerRuntime | undefined;
    for (const s of pool) {
      const w = this.weight(s);
      s.wrrScore += w;
      total += w;
      if (!best || s.wrrScore > best.wrrScore) best = s;
    }
    if (best) best.wrrScore -= total;
    return best;
  }

  /** Fewest connections relative to weight, across all workers; ties broken round-robin. */
  private leastConn(pool: ServerRuntime[]): ServerRuntime | undefined {
    let best: ServerRuntime | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    const n = pool.length;
    const start = this.rrCursor++ % n;
    for (let k = 0; k < n; k++) {
      const s = pool[(start + k) % n] as ServerRuntime;
      const score = (this.curConn(s) + 1) / this.weight(s);
      if (score < bestScore) {
        bestScore = score;
        best = s;
      }
    }
    return best;
  }

  /** HAProxy's `random` (draws 2): two weighted random picks, keep the less loaded one. */
  private randomTwoChoices(pool: ServerRuntime[]): ServerRuntime | undefined {
    const a = weightedRandom(pool, (s) => this.weight(s), this.random);
    const b = weightedRandom(pool, (s) => this.weight(s), this.random);
    if (!a || !b) return a ?? b;
    return this.curConn(b) * this.weight(a) < this.curConn(a) * this.weight(b) ? b : a;
  }
}

function weightedRandom<T>(pool: T[], w: (x: T) => number, random: () => number): T | undefined {
  let total = 0;
  for (const s of pool) total += w(s);
  let r = random() * total;
  for (const s of pool) {
    r -= w(s);
    if (r < 0) return s;
  }
  return pool[pool.length - 1];
}

/**
 * `balance source`: hash the client address (HAProxy XORs the address' 32-bit words) and index a
 * weighted map of the servers built by smooth WRR, as HAProxy's map-based hashing does.
 */
export function sourceHashPick<T>(servers: T[], weight: (s: T) => number, key: string, hash: (k: string) => number = addressHash): T | undefined {
  if (servers.length === 0) return undefined;
  if (servers.length === 1) return servers[0];
  const scores = servers.map(() => 0);
  let total = 0;
  for (const s of servers) total += weight(s);
  if (total === 0) return undefined;
  const slot = hash(key) % total;
  // walk the smooth WRR sequence up to `slot` (total <= 256 * servers, cheap)
  let chosen = 0;
  for (let o = 0; o <= slot; o++) {
    let best = -1;
    for (let i = 0; i < servers.length; i++) {
      scores[i] = (scores[i] as number) + weight(servers[i] as T);
      if (best < 0 || (scores[i] as number) > (scores[best] as number)) best = i;
    }
    scores[best] = (scores[best] as number) - total;
    chosen = best;
  }
  return servers[chosen];
}

/** HAProxy's default hash for `balance uri` / `hdr()` (sdbm, as `hash-function sdbm`). */
export function sdbmHash(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (key.charCodeAt(i) + (h << 6) + (h << 16) - h) >>> 0;
  return h;
}

/** XOR of the address' 32-bit big-endian words (IPv4: the address itself). */
export function addressHash(addr: string): number {
  const v4 = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  const parts = v4.split('.');
  if (parts.length === 4) {
    return ((Number(parts[0]) << 24) | (Number(parts[1]) << 16) | (Number(parts[2]) << 8) | Number(parts[3])) >>> 0;
  }
  let h = 0;
  for (let i = 0; i < addr.length; i++) h = (Math.imul(h, 31) + addr.charCodeAt(i)) >>> 0;
  return h;
}

/** Build the per-worker runtime of every frontend and backend of a config. */
export function buildRuntime(
  cfg: Config,
  table: ServerTable,
  random: () => number,
): { frontends: FrontendRuntime[]; backends: BackendRuntime[] } {
  let sid = 0;
  const backends = cfg.backends.map((b, i) => {
    const be = new BackendRuntime(i, b, sid, table, random);
    sid += b.servers.length;
    return be;
  });
  const frontends = cfg.frontends.map((f, i) => {
    const backendId = f.defaultBackend === undefined ? undefined : cfg.backends.findIndex((b) => b.name === f.defaultBackend);
    return { id: i, puid: i + 1, cfg: f, backendId: backendId === -1 ? undefined : backendId, current: 0, total: 0, max: 0, bytesIn: 0, bytesOut: 0, http: newHttpCounters(), denied: 0 };
  });
  return { frontends, backends };
}

/** Initial shared-table values for a config (done once by the acceptor). */
export function initTable(cfg: Config, table: ServerTable): void {
  let sid = 0;
  for (const b of cfg.backends) {
    for (const s of b.servers) {
      table.setSrv(sid, ServerSlot.WEIGHT, s.weight);
      table.setSrv(sid, ServerSlot.STATE, s.disabled ? ServerOpState.MAINT : ServerOpState.UP);
      table.setSrv(sid, ServerSlot.LAST_CHANGE, Math.floor(Date.now() / 1000));
      table.setSrv(sid, ServerSlot.CHECK_HEALTH, s.disabled ? 0 : 2);
      table.setSrv(sid, ServerSlot.MAXCONN, s.maxconn);
      sid++;
    }
  }
}
