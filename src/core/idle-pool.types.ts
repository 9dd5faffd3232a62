/** `http-reuse`: which idle connections a request may take (HAProxy's meaning). */
export const HttpReuseModes = ['never', 'safe', 'aggressive', 'always'] as const;
export type HttpReuse = (typeof HttpReuseModes)[number];

/** Why a parked connection left the pool (counted for `show pools`). */
export interface IdlePoolStats {
  parked: number;
  reused: number;
  /** Closed because the server sent a byte, EOF or an error while idle. */
  closedByServer: number;
  /** Closed unused after pool-purge-delay, or by a purge (server DOWN/MAINT). */
  purged: number;
  /** Refused because the pool was full (pool-max-conn). */
  refused: number;
}

export { DEFAULT_POOL_PURGE_DELAY } from '../config/config.types.ts';
