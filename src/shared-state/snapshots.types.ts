/** Data shapes that cross from workers to the main thread (runtime API), shared by both sides. */
import type { BufferInfo } from '../core/buffer-budget.types.ts';

/** One line of `show sess`, gathered from every worker. */
export interface SessionSnapshot {
  readonly id: number;
  readonly worker: number;
  readonly proto: string;
  readonly src: string;
  readonly fe: string;
  readonly be: string;
  readonly srv: string;
  readonly ageMs: number;
  readonly calls: number;
  readonly s0: string;
  readonly s1: string;
  readonly expMs: number; // -1 = never
  readonly reqBytes: number;
  readonly resBytes: number;
  /** HTTP: the transaction's request/response states and the requests served so far. */
  readonly http?: { readonly rx: string; readonly tx: string; readonly requests: number };
  /** What `show sess all` and `show sess <id>` add to the one-line view. */
  readonly detail: SessionDetail;
}

/** One side of a session as `show sess <id>` shows it: its connection actor and its timer. */
export interface SideDetail {
  /** The connection actor's id and state, or null when the side has no connection. */
  readonly conn: { readonly id: number; readonly state: string; readonly epoch: number; readonly paused: boolean; readonly readEnded: boolean; readonly writeShut: boolean } | null;
  /** The epoch the session presents to that actor (a command with any other is refused). */
  readonly ownerEpoch: number;
  /** ms until the side's timer fires, -1 when not armed. */
  readonly timerMs: number;
  /** The session holds this side paused (backpressure, read-ahead full). */
  readonly held: boolean;
}

export interface SessionDetail {
  /** Wall-clock accept date, ms since the epoch. */
  readonly acceptDate: number;
  readonly dst: string;
  readonly mode: string;
  readonly srvAddr: string;
  readonly attempts: number;
  readonly retriesLeft: number;
  readonly queueExpMs: number;
  readonly client: SideDetail;
  readonly server: SideDetail;
  readonly bytesFromClient: number;
  readonly buffers: number;
}

/** One worker's counters, as the runtime API shows them (`show info`, `show activity`). */
export interface WorkerInfo {
  readonly workerId: number;
  readonly sessionsLive: number;
  readonly sessionsTotal: number;
  readonly handoffs: number;
  readonly staleEvents: number;
  readonly staleCommands: number;
  readonly connectErrors: number;
  readonly retries: number;
  readonly redispatches: number;
  readonly queued: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly internalErrors: number;
  /** Log lines that could not be written (HAProxy's DroppedLogs). */
  readonly droppedLogs: number;
  readonly timers: number;
  readonly loops: number;
  readonly tasks: number;
  readonly connsOpen: number;
  /** V8 heap in use by the worker, MB. */
  readonly heapUsedMb: number;
  /** The idle connection pool of this worker (HTTP): connections now, and what happened to them. */
  readonly pool: PoolInfo;
  /** The buffers its streams hold (`tune.buffers.limit`). */
  readonly buffers: BufferInfo;
}

export interface PoolInfo {
  readonly idle: number;
  readonly parked: number;
  readonly reused: number;
  readonly closedByServer: number;
  readonly purged: number;
  readonly refused: number;
  /** Idle connections by global server id: [not yet proven (1 use), proven (2+ uses, HAProxy's "safe")]. */
  readonly byServer: ReadonlyArray<readonly [number, number]>;
}

/** One worker's per-proxy counters (`show stat`), indexed like the config's frontends, backends and servers. */
/** HTTP requests and responses by status class (`[other, 1xx, 2xx, 3xx, 4xx, 5xx]`). */
export interface HttpCounts {
  readonly req: number;
  readonly rsp: readonly number[];
}

export interface ProxyCounters {
  readonly frontends: ReadonlyArray<{ readonly cur: number; readonly max: number; readonly total: number; readonly bytesIn: number; readonly bytesOut: number; readonly http: HttpCounts; readonly denied: number }>;
  readonly backends: ReadonlyArray<{ readonly cur: number; readonly max: number; readonly total: number; readonly bytesIn: number; readonly bytesOut: number; readonly http: HttpCounts }>;
  /** By global server id (the shared table's index). */
  readonly servers: ReadonlyArray<{ readonly bytesIn: number; readonly bytesOut: number; readonly http: HttpCounts }>;
}
