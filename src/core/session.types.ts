import type { TcpLogFields } from '../log/log.types.ts';
import type { ServerTable } from '../shared-state/server-table.ts';
export type { SessionSnapshot } from '../shared-state/snapshots.types.ts';
import type { ActorStats } from './actor.types.ts';
import type { BackendRuntime } from './backend.ts';
import type { BufferBudget } from './buffer-budget.ts';
import type { IdlePool } from './idle-pool.ts';
import type { Scheduler } from './scheduler.ts';
import type { Network } from './transport.types.ts';

/** What a session needs from the worker that runs it (the worker runtime implements it). */
export interface SessionHost {
  readonly sched: Scheduler;
  readonly net: Network;
  readonly table: ServerTable;
  readonly stats: WorkerStats;
  /** Wall-clock ms for accept dates (log lines only; timeouts use the scheduler). */
  wallClock(): number;
  log(fields: TcpLogFields, frontendId: number): void;
  /** Whether a log line of this frontend goes anywhere (no: its fields are not even built). */
  logging(frontendId: number): boolean;
  sessionClosed(s: SessionLike): void;
  /** A session entered a queue of `be`: make sure a wake-up on slot release is pending. */
  watchQueue(be: BackendRuntime, seen: number): void;
  /** A slot of `be` was freed by this worker: grant queued sessions. */
  slotFreed(be: BackendRuntime): void;
  /** An exception escaped this session's code: report it (with the session id and stack). */
  sessionFault(s: SessionLike, err: unknown): void;
  /** Live sessions of this worker (HAProxy's actconn, per worker). */
  readonly liveSessions: number;
  /** A backend by name (use_backend). */
  backendByName(name: string): BackendRuntime | undefined;
  /** Idle server connections of this worker, for reuse (HTTP). */
  readonly pool: IdlePool;
  /** The buffers the worker's streams may hold (`tune.buffers.limit`). */
  readonly buffers: BufferBudget;
  /** The worker is stopping: HTTP sessions close their client connections after the current request. */
  readonly stopping: boolean;
}

export interface SessionLike {
  readonly id: number;
}

/** Counters of one worker (`show info`, `show activity`). */
export interface WorkerStats extends ActorStats {
  sessionsTotal: number;
  sessionsLive: number;
  handoffs: number;
  connectErrors: number;
  retries: number;
  redispatches: number;
  queued: number;
  bytesIn: number;
  bytesOut: number;
  /** Sessions that ended with an internal error (contained). */
  internalErrors: number;
}

export const newWorkerStats = (): WorkerStats => ({
  staleEvents: 0,
  staleCommands: 0,
  opened: 0,
  closed: 0,
  sessionsTotal: 0,
  sessionsLive: 0,
  handoffs: 0,
  connectErrors: 0,
  retries: 0,
  redispatches: 0,
  queued: 0,
  bytesIn: 0,
  bytesOut: 0,
  internalErrors: 0,
});

/** Bytes of client data a session holds while the server side is not established yet. */
export const PENDING_LIMIT = 16384;
