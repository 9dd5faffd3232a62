import type { ConnActor } from './actor.ts';
import type { ServerRuntime } from './backend.types.ts';
import { EpState, EpTransitions } from './endpoint.types.ts';

/**
 * The server side of a session (HAProxy's si[1]). Created with the session, in INI, with no
 * connection: the connection is allocated when first needed (seed 004) and is the only part that
 * is thrown away on a connect error; the endpoint itself is reset and reused across retries
 * (seed 002), and keeps its target server across retries on the same server (seed 001).
 */
export class ServerEndpoint {
  state: EpState = EpState.INI;
  /** The connection actor of the current attempt, null outside ASS..EST. */
  conn: ConnActor | null = null;
  /** Epoch this endpoint was given by `conn`; events of any other epoch are dropped. */
  epoch = 0;
  /** Target server; survives retries on the same server, cleared on redispatch. */
  server: ServerRuntime | null = null;
  /** A connection slot is reserved on `server`. */
  slotHeld = false;
  /** Connection attempts so far (the first one included). */
  attempts = 0;
  /** Number of times this endpoint was reset after a connect error (for tests and `show sess`). */
  resets = 0;
  /** Every state this endpoint went through, when tracing is on (tests). */
  trace: EpState[] | null = null;

  setState(next: EpState): void {
    if (!EpTransitions[this.state].includes(next)) {
      throw new Error(`server endpoint: illegal transition ${this.state} -> ${next}`);
    }
    this.state = next;
    this.trace?.push(next);
  }

  /** Attach a fresh connection (the actor hands out the epoch we must present from now on). */
  attach(conn: ConnActor, epoch: number): void {
    this.conn = conn;
    this.epoch = epoch;
  }

  /**
   * Connect error (seed 000): completely detach the failed connection and close it, so that no
   * flag or event of this attempt can reach the next one. The endpoint stays, empty.
   */
  detachFailed(): void {
    const c = this.conn;
    if (c) c.close(this.epoch, true);
    this.conn = null;
    this.epoch = 0;
    this.resets++;
  }

  /** Redispatch (seed 001): forget the target so the load balancer picks again. */
  clearTarget(): void {
    this.server = null;
  }

  /** Current connection if `epoch` is the one we were given; null for a stale event. */
  current(conn: { readonly id: number }, epoch: number): ConnActor | null {
    const c = this.conn;
    return c !== null && c.id === conn.id && epoch === this.epoch ? c : null;
  }
}
