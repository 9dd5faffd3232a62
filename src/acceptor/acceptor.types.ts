import type { Worker } from 'node:worker_threads';
import type { Remote } from 'comlink/dist/esm/comlink.mjs';
import type net from 'node:net';
import type { BindConfig } from '../config/config.types.ts';
import type { WorkerControl } from './messages.types.ts';

export const WorkerState = {
  STARTING: 'STARTING', // spawned, READY not seen yet: no socket is sent to it
  READY: 'READY',
  STOPPING: 'STOPPING', // told to stop: finishing its sessions
  DEAD: 'DEAD',
} as const;
export type WorkerState = (typeof WorkerState)[keyof typeof WorkerState];

export const WorkerTransitions: Record<WorkerState, readonly WorkerState[]> = {
  STARTING: ['READY', 'DEAD', 'STOPPING'],
  READY: ['STOPPING', 'DEAD'],
  STOPPING: ['DEAD'],
  DEAD: [],
};

/** The acceptor's record of one worker thread. */
export interface WorkerSlot {
  readonly index: number;
  readonly worker: Worker;
  readonly control: Remote<WorkerControl>;
  state: WorkerState;
  /** Sessions handed to it and not acknowledged closed yet. */
  live: number;
  handoffs: number;
  /** Live sessions per listener (for bind maxconn accounting when it dies). */
  readonly liveByListener: Map<number, number>;
  readonly spawnedAt: number;
}

/** One listening socket of a frontend `bind` line. */
export interface ListenerSlot {
  readonly id: number;
  readonly frontendId: number;
  readonly bind: BindConfig;
  readonly server: net.Server;
  live: number;
  accepted: number;
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

/** Respawn a dead worker after this long (the issue asks for less than 1 s). */
export const RESPAWN_DELAY_MS = 100;

/** Sockets held past maxconn are bounded by max(global maxconn, this), like a listen backlog. */
export const HELD_MIN = 1024;
