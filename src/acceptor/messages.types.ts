import type { MessagePort } from 'node:worker_threads';
import type { Config } from '../config/config.types.ts';
import type { ServerTableInit } from '../shared-state/server-table.types.ts';
import type { ProxyCounters, WorkerInfo } from '../shared-state/snapshots.types.ts';

export type { ProxyCounters, WorkerInfo };

/** Given to a worker at spawn (workerData). */
export interface WorkerInit {
  readonly workerId: number;
  readonly config: Config;
  readonly table: ServerTableInit;
  /** The worker end of the control channel; it exposes a `WorkerControl` on it with comlink. */
  readonly control: MessagePort;
  /** `--accept reuseport`: the worker listens on every bind itself. */
  readonly reusePort: boolean;
}

/** Acceptor → worker, on the worker's main port. */
export type ToWorker =
  | { readonly type: 'session'; readonly socket: unknown; readonly frontendId: number; readonly listenerId: number }
  | { readonly type: 'stop' };

/** Where a frontend listens. */
export interface ListenAddress {
  readonly frontend: string;
  readonly host: string;
  readonly port: number;
}

/** Worker → acceptor, on the worker's main port. */
export type FromWorker =
  /** `listening`: with `--accept reuseport`, the addresses the worker listens on itself, in config order. */
  | { readonly type: 'ready'; readonly workerId: number; readonly listening: readonly ListenAddress[] }
  /** The worker cannot serve (with `--accept reuseport`: a bind failed); it exits after this. */
  | { readonly type: 'failed'; readonly workerId: number; readonly error: string }
  /** Sessions that ended since the last ack, as [listenerId, count] pairs (-1: reuseport accepts). */
  | { readonly type: 'closed'; readonly byListener: ReadonlyArray<readonly [number, number]> }
  | { readonly type: 'stopped' };

/** What a worker exposes over comlink for the runtime API and the supervisor. */
export interface WorkerControl {
  info(): WorkerInfo;
  /** `show sess`: every live session, msgpackr-encoded into a transferred ArrayBuffer. */
  sessions(): ArrayBuffer;
  shutdownSession(id: number): boolean;
  /** Per-proxy counters for `show stat`. */
  proxyCounters(): ProxyCounters;
  /** `clear counters [all]`: the max values; with `all`, the totals too. */
  clearCounters(all: boolean): void;
  /** The server with this global id went DOWN or to maintenance: close its idle connections, requeue its queue; returns the sessions requeued. */
  serverDown(serverId: number): number;
  /** `set server addr`: connect to the server at this address from now on (idle connections to the old one are closed). */
  setServerAddr(serverId: number, host: string, port: number): void;
  /** Close every live session now (hard-stop-after). */
  killAll(): number;
  /** Throw an uncaught exception on the next turn (`debug dev crash-worker`, for supervisor tests). */
  crash(): void;
}
