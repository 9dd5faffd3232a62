import type { TransportError } from './transport.types.ts';

export const ConnSide = { CLIENT: 'client', SERVER: 'server' } as const;
export type ConnSide = (typeof ConnSide)[keyof typeof ConnSide];

/** Lifecycle of a connection actor (the socket's own state, not the endpoint's). */
export const ConnState = {
  CONNECTING: 'CONNECTING',
  READY: 'READY',
  CLOSED: 'CLOSED',
} as const;
export type ConnState = (typeof ConnState)[keyof typeof ConnState];

export const ConnTransitions: Record<ConnState, readonly ConnState[]> = {
  CONNECTING: ['READY', 'CLOSED'],
  READY: ['CLOSED'],
  CLOSED: [],
};

export const ConnEvent = {
  CONNECT: 1,
  END: 2,
  DRAIN: 3,
  ERROR: 4,
  CLOSE: 5,
} as const;
export type ConnEvent = (typeof ConnEvent)[keyof typeof ConnEvent];

/**
 * Whoever currently owns a connection: a session's endpoint or an idle pool. Every event carries
 * the epoch it was posted under; an owner compares it to the epoch it was given at attach and drops
 * the event if it is older (counted as a stale event).
 */
export interface ConnOwner {
  onConnData(conn: ConnActorLike, epoch: number, chunk: Buffer): void;
  onConnEvent(conn: ConnActorLike, epoch: number, ev: ConnEvent, err?: TransportError): void;
  /** One of the handlers above threw: contain it (a session ends with `I`), never the worker. */
  onFault(err: unknown): void;
}

/** What an owner sees of its connection (kept minimal so owners can be tested alone). */
export interface ConnActorLike {
  readonly id: number;
  readonly epoch: number;
  readonly side: ConnSide;
}

/** Counters every actor of a worker shares (shown by `show info` / `show activity`). */
export interface ActorStats {
  staleEvents: number;
  staleCommands: number;
  opened: number;
  closed: number;
}

/**
 * The `reset` with which the proxy closes an HTTP server connection it is done with (idle in a
 * pool, or after a complete or abandoned exchange): an RST (SO_LINGER 0), as HAProxy's silent
 * shutdown (`CO_SHW_SILENT`) does on the backend side. Nothing is in flight on such a connection,
 * and a FIN would leave the proxy's side in TIME_WAIT — one per request with `Connection: close`
 * clients — which slows every later connect() to that server (the kernel looks for a free port
 * among them). Measured: bench/NOTES.md, 2026-12-06.
 */
export const SILENT_CLOSE = true;
