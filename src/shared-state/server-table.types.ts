/** Layout of the shared server table: one SharedArrayBuffer of Int32 slots, read by every worker. */
export const ServerSlot = {
  CUR_CONN: 0, // connections to this server now, all workers (reserved against maxconn)
  QUEUE: 1, // sessions waiting in this server's queue, all workers
  STATE: 2, // ServerOpState
  WEIGHT: 3, // effective weight
  TOTAL: 4, // sessions ever sent to this server
  RETRIES: 5,
  REDISPATCHES: 6,
  CONN_ERRORS: 7,
  MAX_CONN_SEEN: 8,
} as const;
export const SERVER_STRIDE = 10;

export const BackendSlot = {
  RELEASE_SEQ: 0, // bumped (and notified) whenever a server slot of this backend frees
  QUEUE: 1, // sessions waiting in the backend queue, all workers
  TOTAL: 2,
  MAX_QUEUE_SEEN: 3,
} as const;
export const BACKEND_STRIDE = 4;

export const ServerOpState = { UP: 0, DOWN: 1, MAINT: 2, DRAIN: 3 } as const;
export type ServerOpState = (typeof ServerOpState)[keyof typeof ServerOpState];
export const ServerOpStateName: Record<ServerOpState, string> = { 0: 'UP', 1: 'DOWN', 2: 'MAINT', 3: 'DRAIN' };

/** What a worker is given to map a table: the buffer and the counts it was sized for. */
export interface ServerTableInit {
  readonly buffer: SharedArrayBuffer;
  readonly servers: number;
  readonly backends: number;
}
