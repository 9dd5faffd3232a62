/**
 * Typed errors: the log line and the retry decision read these fields, never a message.
 * `termination` is the first letter of HAProxy's termination state (who/what ended the session).
 */
export const ErrorCodes = {
  CONNECT_REFUSED: 'SY_ERR_CONNECT_REFUSED',
  CONNECT_TIMEOUT: 'SY_ERR_CONNECT_TIMEOUT',
  CONNECT_FAILED: 'SY_ERR_CONNECT_FAILED',
  NO_SERVER: 'SY_ERR_NO_SERVER',
  QUEUE_TIMEOUT: 'SY_ERR_QUEUE_TIMEOUT',
  QUEUE_FULL: 'SY_ERR_QUEUE_FULL',
  SERVER_RESET: 'SY_ERR_SERVER_RESET',
  SERVER_TIMEOUT: 'SY_ERR_SERVER_TIMEOUT',
  CLIENT_RESET: 'SY_ERR_CLIENT_RESET',
  CLIENT_TIMEOUT: 'SY_ERR_CLIENT_TIMEOUT',
  RESOURCE: 'SY_ERR_RESOURCE',
  INTERNAL: 'SY_ERR_INTERNAL',
  KILLED: 'SY_ERR_KILLED',
  STALE_OWNER: 'SY_ERR_STALE_OWNER',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export type ErrorSource = 'client' | 'server' | 'proxy';

/** HAProxy's first termination letter: C client, S server, P proxy, R resource, I internal, K killed,
 * L answered locally (http-request return), c client-side timeout, s server-side timeout, '-' normal end. */
export type TerminationCause = '-' | 'C' | 'S' | 'P' | 'L' | 'R' | 'I' | 'D' | 'K' | 'c' | 's';

export interface ProxyErrorInit {
  readonly code: ErrorCode;
  readonly source: ErrorSource;
  readonly retryable: boolean;
  readonly termination: TerminationCause;
  readonly message: string;
  readonly cause?: unknown;
}
