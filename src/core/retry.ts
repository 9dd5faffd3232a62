import type { BalanceAlgorithm } from '../config/config.types.ts';

/** Algorithms that hash something of the request to a server (HAProxy's BE_LB_KIND_HI). */
const HASHED: readonly BalanceAlgorithm[] = ['source', 'uri', 'hdr'];

export type RetryDecision = 'same' | 'redispatch' | 'give-up';

export interface RetryInput {
  /** `retries` of the backend. */
  readonly retries: number;
  /** Retries left after counting the attempt that just failed (HAProxy's conn_retries, decremented). */
  readonly retriesLeft: number;
  /** `option redispatch [N]` (0 = off, -1 = on the last retry, P = every Pth retry). */
  readonly redispatch: number;
  /** The error's own verdict (ProxyError.retryable): a non-retryable failure is never retried. */
  readonly retryable: boolean;
  /** The failed server is still UP (a DOWN/MAINT server is always left when redispatch is on). */
  readonly serverUsable: boolean;
  /** Active usable servers in the backend. */
  readonly activeServers: number;
  readonly algo: BalanceAlgorithm;
}

/**
 * After a failed connect: try the same server again (after the turn-around), redispatch to
 * another one (at once), or give up. This is HAProxy's stream_choose_redispatch(): with
 * `option redispatch`, a redispatch happens when the server is no longer usable, on the retry the
 * interval selects, or on every retry when another active server exists and the algorithm does
 * not hash the request to this server (round robin, static-rr, random, leastconn, first: HAProxy's
 * `BE_LB_KIND != HI`): the client has no reason to wait for this particular server.
 */
export function decideRetry(r: RetryInput): RetryDecision {
  if (r.retriesLeft < 0 || !r.retryable) return 'give-up';
  if (r.redispatch === 0) return 'same';
  const done = r.retries - r.retriesLeft; // retries performed including this one: 1, 2, ...
  const interval = r.redispatch > 0 ? r.redispatch : r.retries + 1 + r.redispatch;
  const onInterval = interval > 0 && done % interval === 0;
  const elsewhere = r.activeServers > 1 && !HASHED.includes(r.algo);
  return !r.serverUsable || onInterval || elsewhere ? 'redispatch' : 'same';
}

/** The pause before retrying the same server: min(timeout connect, 1 s) (HAProxy's turn-around). */
export function turnAroundDelay(timeoutConnect: number | undefined): number {
  return timeoutConnect !== undefined && timeoutConnect < 1000 ? timeoutConnect : 1000;
}
