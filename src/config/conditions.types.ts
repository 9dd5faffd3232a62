import type { Diagnostic } from './errors.ts';
import type { ConfigLine, Env } from './tokenize.ts';

/** What a condition is evaluated against. */
export interface CondContext {
  /** `defined(NAME)`: the environment. */
  readonly env: Env;
  /** `feature(NAME)`: the names `switchyard -vv` lists with a `+`. */
  readonly features: ReadonlySet<string>;
  /**
   * `version_atleast(V)` / `version_before(V)`: the HAProxy version whose configuration switchyard
   * reads (a config gates HAProxy syntax on HAProxy versions, not on switchyard's own).
   */
  readonly version: string;
  /** `-dD`: `.diag` messages are reported too. */
  readonly diagnostics?: boolean;
}

export interface CondResult {
  readonly lines: ConfigLine[];
  /** `.alert` messages and malformed blocks or conditions: the configuration is refused. */
  readonly errors: Diagnostic[];
  readonly warnings: Diagnostic[];
  readonly notices: Diagnostic[];
}

/** The predicates of HAProxy 2.6's conditions, with the number of arguments each takes. */
export const COND_PREDICATES: ReadonlyArray<{ readonly name: string; readonly args: number }> = [
  { name: 'defined', args: 1 },
  { name: 'feature', args: 1 },
  { name: 'streq', args: 2 },
  { name: 'strneq', args: 2 },
  { name: 'version_atleast', args: 1 },
  { name: 'version_before', args: 1 },
];

/** The HAProxy release whose configuration language switchyard follows (`version_atleast`). */
export const HAPROXY_COMPAT_VERSION = '2.6';

/**
 * What `switchyard -vv` lists and `feature(NAME)` tests: HAProxy's names where HAProxy has the
 * feature (`THREAD`, `PROMEX`, `OPENSSL`…, so that a config written for HAProxy asks the right
 * question), switchyard's own otherwise.
 */
export const FEATURES: ReadonlyArray<{ readonly name: string; readonly on: boolean; readonly note?: string }> = [
  { name: 'THREAD', on: true, note: 'worker_threads' },
  { name: 'TCP', on: true },
  { name: 'HTTP1', on: true },
  { name: 'SHARED_SERVER_TABLE', on: true, note: 'SharedArrayBuffer' },
  { name: 'REUSEPORT', on: true },
  { name: 'FD_LISTENERS', on: true },
  { name: 'HEALTH_CHECKS', on: true },
  { name: 'PROXY_PROTOCOL', on: true },
  { name: 'PROMEX', on: true, note: 'Prometheus exporter' },
  { name: 'RELOAD', on: true },
  { name: 'OPENSSL', on: false },
  { name: 'HTTP2', on: false },
  { name: 'LUA', on: false },
  { name: 'ZLIB', on: false },
];
