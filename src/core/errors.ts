import type { ErrorCode, ErrorSource, ProxyErrorInit, TerminationCause } from './errors.types.ts';
import { ErrorCodes } from './errors.types.ts';

export class ProxyError extends Error {
  readonly code: ErrorCode;
  readonly source: ErrorSource;
  readonly retryable: boolean;
  readonly termination: TerminationCause;

  constructor(init: ProxyErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ProxyError';
    this.code = init.code;
    this.source = init.source;
    this.retryable = init.retryable;
    this.termination = init.termination;
  }
}

/** Maps a socket error seen while connecting to a server to a typed, retryable error. */
export function connectError(err: { code?: string; message: string } | undefined): ProxyError {
  const refused = err?.code === 'ECONNREFUSED';
  return new ProxyError({
    code: refused ? ErrorCodes.CONNECT_REFUSED : ErrorCodes.CONNECT_FAILED,
    source: 'server',
    retryable: true,
    termination: 'S',
    message: err ? `connect to server failed: ${err.message}` : 'connect to server failed',
    cause: err,
  });
}

export const connectTimeout = (): ProxyError =>
  new ProxyError({
    code: ErrorCodes.CONNECT_TIMEOUT,
    source: 'server',
    retryable: true,
    termination: 's',
    message: 'timeout connect expired',
  });
