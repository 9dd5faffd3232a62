import type { Worker } from 'node:worker_threads';
import type { Remote } from 'comlink/dist/esm/comlink.mjs';
import type net from 'node:net';
import type { BindConfig, Config } from '../config/config.types.ts';
import type { ServerTable } from '../shared-state/server-table.ts';
import type { ListenAddress, WorkerControl } from './messages.types.ts';

export const WorkerState = {
  STARTING: 'STARTING', // spawned, READY not seen yet: no socket is sent to it
  READY: 'READY',
  STOPPING: 'STOPPING', // told to stop: finishing its sessions
  RETIRING: 'RETIRING', // its generation was replaced by a reload: finishing its sessions, then gone
  DEAD: 'DEAD',
} as const;
export type WorkerState = (typeof WorkerState)[keyof typeof WorkerState];

export const WorkerTransitions: Record<WorkerState, readonly WorkerState[]> = {
  STARTING: ['READY', 'DEAD', 'STOPPING', 'RETIRING'],
  READY: ['STOPPING', 'RETIRING', 'DEAD'],
  STOPPING: ['DEAD'],
  RETIRING: ['DEAD'],
  DEAD: [],
};

/** The acceptor's record of one worker thread. */
export interface WorkerSlot {
  /** Its place in its generation (a respawn takes the same place). */
  readonly index: number;
  /** Its id in `show info`, `show sess`…: unique in the process, across generations. */
  readonly workerId: number;
  readonly gen: Generation;
  readonly worker: Worker;
  readonly control: Remote<WorkerControl>;
  state: WorkerState;
  /** Sessions handed to it and not acknowledged closed yet. */
  live: number;
  handoffs: number;
  /** Live sessions per listener (for bind maxconn accounting when it dies). */
  readonly liveByListener: Map<number, number>;
  readonly spawnedAt: number;
  /** Resolves when the thread has exited. */
  readonly exited: Promise<void>;
}

/** One listening socket of a frontend `bind` line. */
export interface ListenerSlot {
  /** Its index in its generation's config order (frontends, then their binds): what workers get. */
  readonly id: number;
  readonly gen: Generation;
  readonly frontendId: number;
  readonly bind: BindConfig;
  readonly server: net.Server;
  live: number;
  accepted: number;
}

/**
 * What one configuration runs on: the config, its shared server table, its workers and the
 * listeners as numbered by that config. A reload builds the next generation beside the current
 * one, switches the listeners to it, and retires the old one once its workers have finished.
 */
export interface Generation {
  /** 1 at start-up, +1 per reload. */
  readonly id: number;
  readonly cfg: Config;
  readonly table: ServerTable;
  readonly threads: number;
  readonly workers: WorkerSlot[];
  readonly listeners: ListenerSlot[];
  /** Live sessions per frontend (frontend maxconn), by this config's frontend ids. */
  readonly feLive: number[];
  /** The `workerId` of its first worker. */
  readonly firstWorkerId: number;
  rr: number;
  /** `set server addr`: addresses changed at run time, by global server id (a reload starts from the files). */
  readonly addrs: Map<number, { host: string; port: number }>;
  /** `--accept reuseport`: where its workers listen themselves (as the first ready one said). */
  ownAddresses: readonly ListenAddress[];
}

/** The key a listener is matched by across a reload: the same socket serves the same bind. */
export function bindKey(b: BindConfig): string {
  return b.fd !== undefined ? `fd@${b.fd}` : `${b.host}:${b.port}`;
}

/** A client socket accepted while a `maxconn` was reached: held paused until a slot frees. */
export interface HeldSocket {
  readonly socket: net.Socket;
  readonly listener: ListenerSlot;
}

export interface AcceptorOptions {
  readonly threads: number;
  readonly reusePort: boolean;
  /** Where the connection worker's entry file is. */
  readonly workerUrl: URL;
  /** Called with one line for every operator-visible event (worker died, respawned…). */
  readonly notice: (msg: string) => void;
}

/**
 * A worker's young generation (V8's two semi-spaces and its new large-object space), in MB. Left to
 * V8, the semi-spaces of a worker grow to 16 MB each under a burst and never shrink while the
 * worker idles: at 10,000 idle keep-alive clients that was 50 MB of the worker's RSS, for no CPU
 * per request measurable on this machine (bench/NOTES.md, 2026-12-05).
 */
export const WORKER_YOUNG_GENERATION_MB = 12;

/**
 * A worker's semi-spaces: V8 sizes a young generation as two semi-spaces and a new large-object
 * space of the same size, so a third of WORKER_YOUNG_GENERATION_MB. Workers start with them at
 * this size (`--min-semi-space-size`, see SEMI_SPACE_GROWTH_FACTOR).
 */
export const WORKER_SEMI_SPACE_MB = WORKER_YOUNG_GENERATION_MB / 3;

/**
 * V8's semi-space growth factor for every thread of the process (`--semi-space-growth-factor`, set
 * when the acceptor starts: `limitNewSpaceGrowth`). At V8's default (2) the main thread's new
 * space grew to ≈ 24 MB under a burst of accepts (the garbage of a `net.Socket` per accepted
 * connection) and kept it while idle, since no GC comes to an idle thread to shrink it. At 1 it
 * keeps its initial 1 MB semi-spaces; the workers, which would then keep theirs too (3.6 times the
 * scavenges, +6 % CPU per request), start at their cap instead (WORKER_SEMI_SPACE_MB), where they
 * used to grow to under load. 9,850 idle keep-alive clients, `--threads 1`, 4 runs each: 162–173 →
 * 154–156 MB in all; CPU per request the same or lower (bench/NOTES.md, 2026-12-06 fourth
 * session). Only a flag at process start could cap the main thread otherwise.
 */
export const SEMI_SPACE_GROWTH_FACTOR = 1;

/** Respawn a dead worker after this long (the issue asks for less than 1 s). */
export const RESPAWN_DELAY_MS = 100;

/** Sockets held past maxconn are bounded by max(global maxconn, this), like a listen backlog. */
export const HELD_MIN = 1024;
