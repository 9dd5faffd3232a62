import type { Mode } from '../config/config.types.ts';

export interface CliArgs {
  files: string[];
  threads?: number;
  check: boolean;
  debug: boolean;
  quiet: boolean;
  help: boolean;
  version: boolean;
  listen: string[];
  to: string[];
  mode: Mode;
  accept: 'handoff' | 'reuseport';
  pidfile?: string;
  /** `-vv`: version and features. */
  features: boolean;
  /** `-cc <condition>`: evaluate a condition as `.if` does (exit 0 true, 1 false, 2 error). */
  condition?: string;
  /** Messages about HAProxy flags that are accepted but have no effect here. */
  notes: string[];
}

export class UsageError extends Error {
  readonly code = 'SY_ERR_USAGE';
  readonly source = 'proxy';
  readonly retryable = false;
}

/** Flags, for `--help` (the table the parser and the help text share). */
export const FLAGS: ReadonlyArray<{ flag: string; arg: string; help: string }> = [
  { flag: '-f', arg: 'FILE|DIR', help: 'load a configuration file (repeatable; a directory loads its *.cfg in order)' },
  { flag: '--threads', arg: 'N', help: 'worker threads (overrides nbthread; default: number of cores)' },
  { flag: '-c', arg: '', help: 'check the configuration and exit (0 valid, 1 invalid)' },
  { flag: '-d', arg: '', help: 'debug: foreground with notices on stderr (switchyard never daemonizes)' },
  { flag: '-db', arg: '', help: 'same as -d (HAProxy compatibility)' },
  { flag: '-q', arg: '', help: 'quiet: no start-up notices' },
  { flag: '-p', arg: 'PIDFILE', help: 'write the process id to PIDFILE' },
  { flag: '--listen', arg: 'HOST:PORT', help: 'quick mode: listen here (repeatable), no config file needed' },
  { flag: '--to', arg: 'HOST:PORT', help: 'quick mode: a server to balance to (repeatable)' },
  { flag: '--mode', arg: 'tcp|http', help: 'quick mode: proxy mode (default tcp)' },
  { flag: '--accept', arg: 'handoff|reuseport', help: 'handoff: the main thread accepts and hands sockets to workers (default); reuseport: each worker listens itself' },
  { flag: '-v', arg: '', help: 'print the version and exit (-vv: with features)' },
  { flag: '-cc', arg: 'CONDITION', help: "evaluate a condition as '.if' does and exit: 0 true, 1 false, 2 error (HAProxy's -cc)" },
  { flag: '-W', arg: '', help: 'HAProxy master-worker mode: accepted, no effect (the main thread already supervises the workers)' },
  { flag: '-S', arg: 'SOCKET', help: 'HAProxy master CLI: accepted, not supported (use a stats socket)' },
  { flag: '--help', arg: '', help: 'this help, with every configuration keyword' },
];
