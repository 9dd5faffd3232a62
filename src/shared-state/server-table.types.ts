/** Layout of the shared server table: one SharedArrayBuffer of Int32 slots, read by every worker. */
export const ServerSlot = {
  CUR_CONN: 0, // connections to this server now, all workers (reserved against maxconn)
  QUEUE: 1, // sessions waiting in this server's queue, all workers
  STATE: 2, // ServerOpState
  WEIGHT: 3, // effective weight
  TOTAL: 4, // connection attempts to this server (HAProxy's stot)
  RETRIES: 5, // retries on this server (HAProxy's wretr)
  REDISPATCHES: 6, // sessions that left this server for another after a failure (wredis)
  CONN_ERRORS: 7, // sessions that gave up connecting to this server (econ)
  MAX_CONN_SEEN: 8,
  MAX_QUEUE_SEEN: 9,
  LB_TOTAL: 10, // times the load balancer picked this server (HAProxy's lbtot)
  LAST_CHANGE: 11, // wall-clock seconds of the last state change
  CHECK_HEALTH: 12, // HAProxy's health counter: `rise` when up; 0 after maintenance until checks run
  MAXCONN: 13, // the server's maxconn now (config, or `set maxconn server`); 0 = unlimited
  RESP_ERRORS: 14, // sessions or HTTP transactions that ended on an error of the response (eresp)
} as const;
export const SERVER_STRIDE = 15;

export const BackendSlot = {
  RELEASE_SEQ: 0, // bumped (and notified) whenever a server slot of this backend frees
  QUEUE: 1, // sessions waiting in the backend queue, all workers
  TOTAL: 2,
  MAX_QUEUE_SEEN: 3,
  RETRIES: 4,
  REDISPATCHES: 5,
  CONN_ERRORS: 6,
  RESP_ERRORS: 7, // eresp
  RR_SEQ: 8, // round-robin position, shared by the workers (one step per pick)
} as const;
export const BACKEND_STRIDE = 9;

export const ServerOpState = { UP: 0, DOWN: 1, MAINT: 2, DRAIN: 3 } as const;
export type ServerOpState = (typeof ServerOpState)[keyof typeof ServerOpState];
export const ServerOpStateName: Record<ServerOpState, string> = { 0: 'UP', 1: 'DOWN', 2: 'MAINT', 3: 'DRAIN' };

/** What a worker is given to map a table: the buffer and the counts it was sized for. */
export interface ServerTableInit {
  readonly buffer: SharedArrayBuffer;
  readonly servers: number;
  readonly backends: number;
}
