/**
 * The configuration model: plain data, structured-clonable, so the acceptor can post it to every
 * worker unchanged. No behaviour lives here (DESIGN.md §6: config/ imports nothing with behaviour).
 *
 * All durations are milliseconds. `undefined` means "not set" (HAProxy's "no timeout").
 */

export const Modes = ['tcp', 'http'] as const;
export type Mode = (typeof Modes)[number];

export const BalanceAlgorithms = ['roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'random', 'uri', 'hdr'] as const;
export type BalanceAlgorithm = (typeof BalanceAlgorithms)[number];

/** Where a keyword came from, for messages that name the file and line. */
export interface SourceRef {
  readonly file: string;
  readonly line: number;
}

export interface Timeouts {
  connect?: number;
  client?: number;
  server?: number;
  queue?: number;
  tunnel?: number;
  clientFin?: number;
  serverFin?: number;
  httpRequest?: number;
  httpKeepAlive?: number;
  check?: number;
}

/** A `bind` line: one listening address. `fd` is set for `bind fd@N`. */
export interface BindConfig {
  readonly host: string;
  readonly port: number;
  readonly maxconn?: number;
  /** `accept-proxy`: connections start with a PROXY protocol header (v1 or v2). */
  readonly acceptProxy?: boolean;
  readonly fd?: number;
  readonly src: SourceRef;
}

/** `pool-purge-delay` when unset (HAProxy's default, 5 s); `pool-max-conn` defaults to -1 (no limit). */
export const DEFAULT_POOL_PURGE_DELAY = 5000;

/** The HTML statistics page of a proxy (`stats …`). */
export interface StatsPage {
  readonly enabled: boolean;
  /** `stats uri`: the path prefix (HAProxy's default `/haproxy?stats`). */
  readonly uri: string;
  /** `stats auth user:password`, any number; none = no authentication. */
  readonly auth: ReadonlyArray<readonly [string, string]>;
  /** `stats refresh`: the page reloads itself every this many ms. */
  readonly refresh?: number;
  /** `stats realm` (HAProxy's default `HAProxy Statistics`). */
  readonly realm: string;
}

/** A `server` line. */
export interface ServerConfig {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number; // 0..256, default 1
  readonly maxconn: number; // 0 = unlimited
  readonly maxqueue: number; // 0 = unlimited
  readonly backup: boolean;
  readonly disabled: boolean;
  /** `pool-max-conn`: idle connections kept per worker for reuse (-1 = no limit, 0 = none). */
  readonly poolMaxConn?: number;
  /** `pool-purge-delay`: an idle connection unused this long is closed (default 5 s). */
  readonly poolPurgeDelay?: number;
  /** `send-proxy` (1) / `send-proxy-v2` (2): connections start with a PROXY protocol header. */
  readonly sendProxy?: 1 | 2;
  /** `check` and its timing: health checks run for this server. */
  readonly check?: ServerCheck;
  readonly src: SourceRef;
}

/** A server's health check settings (HAProxy's defaults: inter 2s, rise 2, fall 3). */
export interface ServerCheck {
  readonly inter: number;
  /** While the server is going up or down (health not settled); default `inter`. */
  readonly fastinter: number;
  /** While the server is DOWN; default `inter`. */
  readonly downinter: number;
  readonly rise: number;
  readonly fall: number;
  /** `port`/`addr`: where the check connects, when not the server's own address. */
  readonly port?: number;
  readonly addr?: string;
}

export const DEFAULT_CHECK = { inter: 2000, rise: 2, fall: 3 } as const;

export interface LogTarget {
  /** 'stdout' | 'stderr' | a UDP 'host:port' (syslog). */
  readonly target: 'stdout' | 'stderr' | { readonly host: string; readonly port: number };
  readonly format: 'raw' | 'rfc3164';
  readonly facility: string; // e.g. 'local0'
  readonly level?: string; // max level, e.g. 'info'
}

export interface StatsSocketConfig {
  readonly address:
    | { readonly kind: 'unix'; readonly path: string }
    | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
    | { readonly kind: 'fd'; readonly fd: number };
  readonly level: 'user' | 'operator' | 'admin';
  readonly src: SourceRef;
}

/** `tune.buffers.reserve` default and minimum, as HAProxy. */
export const DEFAULT_BUFFERS_RESERVE = 2;

export interface GlobalConfig {
  nbthread?: number;
  maxconn: number; // default 4096 (see config docs)
  hardStopAfter: number; // default 30 000 ms
  /** `tune.buffers.limit`: buffers the streams of one worker may hold (0 or unset: unlimited). */
  buffersLimit?: number;
  /** `tune.buffers.reserve`: of those, kept back for the streams already running (default 2). */
  buffersReserve?: number;
  /** `log-tag`: the syslog tag (default `switchyard`). */
  logTag?: string;
  /** `server-state-file`: where `show servers state` was saved before a reload. */
  serverStateFile?: string;
  /** `server-state-base`: the directory a relative state file is in. */
  serverStateBase?: string;
  statsSockets: StatsSocketConfig[];
  logs: LogTarget[];
}

/** Settings shared by `defaults`, `frontend`, `backend` and `listen` sections. */
export interface ProxySettings {
  mode: Mode;
  timeouts: Timeouts;
  maxconn?: number;
  /** `log global` present: the proxy logs to the global targets. */
  logGlobal: boolean;
  tcplog: boolean;
  balance: BalanceAlgorithm;
  retries: number; // default 3
  /**
   * `option redispatch [N]` as HAProxy: 0 = off (default); P > 0 = redispatch on every Pth retry;
   * N < 0 = redispatch on the Nth retry before the last (`option redispatch` alone is -1: the last retry).
   */
  redispatch: number;
  /** `no log` in the proxy: no session lines at all. */
  noLog?: boolean;
  /** `log-format`: a custom session line (compiled and checked by the log module at start). */
  logFormat?: { readonly text: string; readonly src: SourceRef };
  /** `load-server-state-from-file global|none`: restore server states from the global file. */
  loadServerState?: 'global' | 'none';
  /** `option dontlognull`: no line for sessions that carried no data. */
  dontlognull: boolean;
  /** `option httplog` (HTTP log format in mode http; tcplog in TCP mode). */
  httplog: boolean;
  /** `option jsonlog` (switchyard extension): one JSON object per log line. */
  jsonlog?: boolean;
  /** `option http-keep-alive` (default) | `option http-server-close` | `option httpclose`. */
  httpConnMode: HttpConnMode;
  /** `http-reuse never|safe|aggressive|always` (default safe). */
  httpReuse: 'never' | 'safe' | 'aggressive' | 'always';
  /** `retry-on`: conditions that retry an HTTP request (default conn-failure). */
  retryOn: readonly RetryOn[];
  /** `option forwardfor [except <net>] [header <name>] [if-none]`. */
  forwardFor?: ForwardFor;
  /** `option httpchk [<method>] [<uri>] [<version>]`: health checks send this HTTP request. */
  httpchk?: { readonly method: string; readonly uri: string; readonly version: string };
  /** `http-check expect [!] status <codes> | rstatus <regex> | string <text>`. */
  httpCheckExpect?: { readonly kind: 'status' | 'rstatus' | 'string'; readonly value: string; readonly negate: boolean };
  /** `option allbackups`: every usable backup server takes traffic when no active one is up. */
  allbackups?: boolean;
  /** `option log-health-checks`: log every change of a server's health, not only UP/DOWN. */
  logHealthChecks?: boolean;
  /** `stats enable|uri|auth|refresh|realm`: HAProxy's HTML statistics page. */
  stats?: StatsPage;
  /** `balance hdr(<name>)`: the header hashed (lower case). */
  balanceHdr?: string;
  /** `errorfile <code> <file>`: the answer sent instead of the built-in one (whole HTTP text). */
  errorfiles?: Readonly<Record<number, string>>;
}

// ---- HTTP rules: ACLs, conditions, actions (data only; core/ compiles them) --------------------

/** What an ACL looks at in a request. */
export type AclFetch =
  | { readonly kind: 'path' | 'url' | 'method' | 'src' | 'always' | 'never' }
  | { readonly kind: 'hdr'; readonly header: string };

/** How it compares: HAProxy's `-m` methods. */
export const AclMatches = ['str', 'beg', 'end', 'sub', 'reg', 'found', 'ip'] as const;
export type AclMatch = (typeof AclMatches)[number];

/** `acl <name> <criterion> [-i] [-m <match>] <value>…`, or an anonymous `{ … }` one. */
export interface AclDef {
  readonly name: string;
  readonly fetch: AclFetch;
  readonly match: AclMatch;
  readonly values: readonly string[];
  readonly ignoreCase: boolean;
}

export interface AclTerm {
  readonly negate: boolean;
  readonly acl: AclDef;
}

/** `if|unless` followed by terms: AND within a group, OR (`||`, `or`) between groups. */
export interface Condition {
  readonly unless: boolean;
  readonly any: ReadonlyArray<readonly AclTerm[]>;
}

export interface UseBackendRule {
  readonly backend: string;
  readonly cond: Condition;
  readonly src: SourceRef;
}

export type HttpAction =
  | { readonly type: 'set-header' | 'add-header'; readonly name: string; readonly value: string }
  | { readonly type: 'del-header'; readonly name: string }
  | { readonly type: 'deny'; readonly status: number }
  /** `use-service prometheus-exporter`: the metrics page (served by the main thread). */
  | { readonly type: 'use-service'; readonly service: 'prometheus-exporter' }
  | {
      readonly type: 'return';
      readonly status: number;
      readonly contentType?: string;
      readonly body?: string;
      readonly headers: ReadonlyArray<readonly [string, string]>;
    };

export interface HttpRule {
  readonly action: HttpAction;
  readonly cond?: Condition;
  readonly src: SourceRef;
}

export const HttpConnModes = ['keep-alive', 'server-close', 'close'] as const;
export type HttpConnMode = (typeof HttpConnModes)[number];

/** `retry-on` keywords (HAProxy 2.6), status codes as numbers. */
export const RetryOnKeywords = ['none', 'conn-failure', 'empty-response', 'junk-response', 'response-timeout', '0rtt-rejected', 'all-retryable-errors'] as const;
export const RetryOnStatuses = [401, 403, 404, 408, 425, 500, 501, 502, 503, 504] as const;
export type RetryOn = Exclude<(typeof RetryOnKeywords)[number], 'none' | 'all-retryable-errors'> | (typeof RetryOnStatuses)[number];

export interface ForwardFor {
  /** Header name, default `x-forwarded-for`. */
  readonly header: string;
  /** `except <net>`: no header for sources in this network. */
  readonly except?: { readonly addr: string; readonly prefix: number };
  /** `if-none`: only when the request has no such header. */
  readonly ifNone: boolean;
}

/** What a proxy does with HTTP requests and responses (rules run in file order). */
export interface HttpRules {
  readonly httpRequest: readonly HttpRule[];
  readonly httpResponse: readonly HttpRule[];
}

export interface FrontendConfig extends HttpRules {
  readonly name: string;
  readonly settings: ProxySettings;
  readonly binds: BindConfig[];
  /** `use_backend <name> if|unless <cond>`, in order; the first that matches wins. */
  readonly useBackends: readonly UseBackendRule[];
  readonly defaultBackend?: string;
  readonly src: SourceRef;
}

export interface BackendConfig extends HttpRules {
  readonly name: string;
  readonly settings: ProxySettings;
  readonly servers: ServerConfig[];
  readonly src: SourceRef;
}

export interface Config {
  readonly global: GlobalConfig;
  /** Frontends in file order; a `listen` section contributes one frontend and one backend of its name. */
  readonly frontends: FrontendConfig[];
  /** Backends in file order. Indices are the backend ids used everywhere (shared table, workers). */
  readonly backends: BackendConfig[];
  /** The files that were read, in order. */
  readonly files: string[];
  /** What HAProxy would warn about (misplaced keywords it ignores, missing timeouts). */
  readonly warnings: ReadonlyArray<{ readonly file: string; readonly line: number; readonly message: string }>;
  /** `.notice` (and with -dD `.diag`) messages of the conditional blocks. */
  readonly notices: ReadonlyArray<{ readonly file: string; readonly line: number; readonly message: string }>;
}
