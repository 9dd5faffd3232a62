import type { SessionSnapshot, WorkerInfo } from '../shared-state/snapshots.types.ts';
import type { StatRow } from './stat.ts';

export const Levels = ['user', 'operator', 'admin'] as const;
export type Level = (typeof Levels)[number];

/** What the runtime API may ask of the process (the acceptor implements it). */
export interface RuntimeHost {
  readonly name: string;
  readonly version: string;
  readonly releaseDate: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly nbthread: number;
  readonly maxconn: number;
  currConns(): number;
  /** The host name (`node` in `show info`). */
  readonly node: string;
  /** The open-files limit of the process (`Ulimit-n`). */
  fdLimit(): number;
  stopping(): boolean;
  /** Listening sockets of the acceptor. */
  listeners(): number;
  debugCommands(): number;
  countDebugCommand(): void;
  /** `clear counters`: reset the high-water marks (`all`: every counter). */
  clearCounters(all: boolean): Promise<void>;
  cumConns(): number;
  lostSessions(): number;
  workerDeaths(): number;
  heldSockets(): number;
  /** Every worker, those of a generation retiring after a reload included. */
  workers(): Promise<WorkerInfo[]>;
  /** Reloads done since start-up, the current generation (1 + reloads), retiring workers. */
  reloads(): number;
  generation(): number;
  retiringWorkers(): number;
  /** `reload`: re-read the configuration and switch to it; `messages` are the notices or alerts. */
  reload(): Promise<{ readonly ok: boolean; readonly messages: readonly string[] }>;
  sessions(): Promise<SessionSnapshot[]>;
  /** End session `id` of worker `worker` (session ids are per worker). */
  shutdownSession(worker: number, id: number): Promise<boolean>;
  /** `debug dev crash-worker`: the worker throws an uncaught exception. */
  crashWorker(index: number): Promise<boolean>;
  /** Rows of `show stat`, in HAProxy's order (per proxy: FRONTEND, servers, BACKEND). */
  statRows(): Promise<StatRow[]>;
  /** Find a server by `backend/server`; a message (HAProxy's wording) when there is none. */
  server(path: string): ServerHandle | string;
  /** Rows of `show servers state` (version 1), optionally for one backend. */
  serversState(backend: string | undefined): ServerStateRow[] | null;
  /** Rows of `show servers conn`, optionally for one backend (null: no such backend). */
  serversConn(backend: string | undefined): ServerConnRow[] | null;
}

export interface ServerConnRow {
  readonly globalId: number;
  readonly beId: number;
  readonly beName: string;
  readonly srvId: number;
  readonly srvName: string;
  readonly addr: string;
  readonly port: number;
  readonly purgeDelay: number;
  /** Requests in flight on the server (all workers), and the most seen. */
  readonly usedCur: number;
  readonly usedMax: number;
  /** pool-max-conn (-1: no limit). */
  readonly idleLimit: number;
}

/** One server, as the runtime API changes it: state and weight live in the shared table. */
export interface ServerHandle {
  readonly initialWeight: number;
  state(): 'ready' | 'drain' | 'maint' | 'down';
  setState(s: 'ready' | 'drain' | 'maint'): void;
  weight(): number;
  setWeight(w: number): void;
  setMaxconn(n: number): void;
  /** The address connections go to now. */
  address(): { host: string; port: number };
  /** `set server addr`: every worker (and the health check) uses this address from now on. */
  setAddress(host: string, port: number): Promise<void>;
}

export interface ServerStateRow {
  readonly beId: number;
  readonly beName: string;
  readonly srvId: number;
  readonly srvName: string;
  readonly srvAddr: string;
  readonly opState: number; // 0 stopped, 2 running
  readonly adminState: number; // bit 0x01: forced maintenance
  readonly uweight: number;
  readonly iweight: number;
  readonly timeSinceLastChange: number;
  /** HAProxy's check health counter: `rise` (2) while up, 0 when down or in maintenance. */
  readonly checkHealth: number;
  readonly port: number;
}

/** The CLI connection the command runs on. */
export interface CliContext {
  readonly level: Level;
  readonly host: RuntimeHost;
  /** Id shown for the CLI's own session in `show sess`. */
  readonly selfId: number;
  readonly selfSrc: string;
  readonly selfAgeMs: number;
  interactive: boolean;
  quit: boolean;
}

/** One runtime API keyword: the words that name it, the level it needs, its help. */
export interface CliKeyword {
  readonly words: readonly string[];
  readonly args: string;
  readonly help: string;
  readonly level: Level;
  run(ctx: CliContext, args: readonly string[]): Promise<string> | string;
}
