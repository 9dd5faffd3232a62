import type { BackendConfig, BalanceAlgorithm, FrontendConfig, ServerConfig } from '../config/config.types.ts';

/** A server as a worker sees it: its config, its id in the shared table, and local LB state. */
export interface ServerRuntime {
  readonly id: number; // global index in the shared server table
  readonly puid: number; // 1-based index inside its backend (HAProxy's srv_id)
  readonly cfg: ServerConfig;
  /** Where connections go: the config's address until `set server addr` changes it. */
  host: string;
  port: number;
  readonly backend: BackendRuntimeLike;
  /** Smooth weighted round-robin score (per worker). */
  wrrScore: number;
  /** Sessions of this worker waiting for this server in particular (retries on the same server). */
  readonly queue: QueuedLike[];
  /** Bytes of ended sessions of this worker: to the server (bin) and from it (bout). */
  bytesIn: number;
  bytesOut: number;
  /** HTTP responses this server sent (`req_tot`, `hrsp_*`). */
  readonly http: HttpCounters;
}

/**
 * HTTP transactions of one worker on a frontend, backend or server (`show stat`'s `req_tot` and
 * `hrsp_*`): `rsp[0]` counts statuses outside 1xx..5xx, `rsp[n]` those of class n.
 */
export interface HttpCounters {
  req: number;
  readonly rsp: [number, number, number, number, number, number];
}

export interface BackendRuntimeLike {
  readonly id: number;
  readonly puid: number;
  readonly cfg: BackendConfig;
  readonly algo: BalanceAlgorithm;
}

export interface FrontendRuntime {
  readonly id: number;
  readonly puid: number;
  readonly cfg: FrontendConfig;
  readonly backendId: number | undefined;
  /** Live sessions of this worker on this frontend. */
  current: number;
  total: number;
  /** Highest `current` seen in this worker. */
  max: number;
  /** Bytes of ended sessions: from clients (bin) and to them (bout). */
  bytesIn: number;
  bytesOut: number;
  /** HTTP requests received and responses sent (the proxy's own answers included). */
  readonly http: HttpCounters;
  /** Requests refused by `http-request deny` (`dreq`). */
  denied: number;
}

/** What a queue holds: a session waiting to be granted a server (typed loosely to keep the
 * backend module free of the session module). */
export interface QueuedLike {
  readonly id: number;
}

/** Result of asking the load balancer for a server. */
export const AssignResult = {
  OK: 0, // a server was chosen and a slot reserved
  FULL: 1, // every usable server is at maxconn: queue in the backend
  NONE: 2, // no usable server (all DOWN/MAINT or weight 0): 503 / SC
  QUEUE_SERVER: 3, // a deterministic algorithm chose a full server: wait in that server's queue
} as const;
export type AssignResult = (typeof AssignResult)[keyof typeof AssignResult];
