/**
 * Server-side stream endpoint states (HAProxy's stream-interface states). The table below is the
 * single source: `ServerEndpoint.setState()` checks it and docs/internals/server-endpoint.md is
 * checked against it by a test.
 */
export const EpState = {
  INI: 'INI',
  REQ: 'REQ',
  QUE: 'QUE',
  TAR: 'TAR',
  ASS: 'ASS',
  CON: 'CON',
  CER: 'CER',
  EST: 'EST',
  DIS: 'DIS',
  CLO: 'CLO',
} as const;
export type EpState = (typeof EpState)[keyof typeof EpState];

export const EpTransitions: Record<EpState, readonly EpState[]> = {
  INI: ['REQ', 'CLO'],
  REQ: ['QUE', 'ASS', 'CLO'],
  QUE: ['ASS', 'REQ', 'CLO'],
  TAR: ['ASS', 'CLO'],
  ASS: ['CON', 'QUE', 'REQ', 'CLO'],
  CON: ['EST', 'CER', 'CLO'],
  CER: ['TAR', 'ASS', 'REQ', 'CLO'],
  EST: ['DIS', 'CLO', 'REQ'],
  DIS: ['CLO'],
  CLO: ['INI'],
};

/** One line per state for the docs table. */
export const EpStateMeaning: Record<EpState, string> = {
  INI: 'nothing yet; no connection object exists',
  REQ: 'a server is to be assigned (load balancing)',
  QUE: 'waiting in a server or backend queue (`timeout queue`)',
  TAR: 'turn-around after a failed connect, before retrying the same server',
  ASS: 'server assigned; the connection is allocated lazily here',
  CON: 'connect in progress (`timeout connect`)',
  CER: 'connect error: connection fully detached and closed, epoch bumped',
  EST: 'established; data flows (HTTP: back to REQ for a retry before any response byte reached the client)',
  DIS: 'disconnecting (shutdown in progress)',
  CLO: 'closed; the endpoint is reusable for the next transaction',
};

/** Timer kinds of a session (TimerTarget.onTimer's argument). */
export const SessTimer = {
  CLIENT: 1, // client side inactivity: timeout client / client-fin / tunnel
  SERVER: 2, // server side inactivity: timeout server / server-fin / tunnel
  EXP: 3, // server endpoint expiry: connect, queue, turn-around
  HARD: 4, // hard-stop-after while draining
} as const;
