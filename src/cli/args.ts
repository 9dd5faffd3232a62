import type { CliArgs } from './args.types.ts';
import { UsageError } from './args.types.ts';

/** Parse the command line (HAProxy's short flags plus switchyard's long ones). */
export function parseArgs(argv: readonly string[]): CliArgs {
  const a: CliArgs = {
    files: [],
    check: false,
    debug: false,
    quiet: false,
    help: false,
    version: false,
    listen: [],
    to: [],
    mode: 'tcp',
    accept: 'handoff',
    features: false,
    notes: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || (v.startsWith('-') && v.length > 1)) throw new UsageError(`option '${flag}' needs a value`);
      return v;
    };
    switch (flag) {
      case '-f':
        a.files.push(value());
        break;
      case '--threads': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--threads: expected an integer from 1 to 256, got '${v}'`);
        a.threads = n;
        break;
      }
      case '-c':
        a.check = true;
        break;
      case '-d':
      case '-db':
        a.debug = true;
        break;
      case '-q':
        a.quiet = true;
        break;
      case '-p':
        a.pidfile = value();
        break;
      case '--listen':
        a.listen.push(value());
        break;
      case '--to':
        a.to.push(value());
        break;
      case '--mode': {
        const v = value();
        if (v !== 'tcp' && v !== 'http') throw new UsageError(`--mode: expected 'tcp' or 'http', got '${v}'`);
        a.mode = v;
        break;
      }
      case '--accept': {
        const v = value();
        if (v !== 'handoff' && v !== 'reuseport') throw new UsageError(`--accept: expected 'handoff' or 'reuseport', got '${v}'`);
        a.accept = v;
        break;
      }
      case '-v':
      case '--version':
        a.version = true;
        break;
      case '-vv':
        a.version = true;
        a.features = true;
        break;
      case '-cc':
        a.condition = value();
        break;
      case '-W':
        a.notes.push('-W: switchyard has no master process; the main thread supervises the worker threads (no effect)');
        break;
      case '-S':
        a.notes.push(`-S ${value()}: the master CLI is not supported; declare a 'stats socket' in 'global' instead`);
        break;
      case '-D':
        throw new UsageError('-D: switchyard does not daemonize; run it in the foreground under a service manager (systemd, a container runtime)');
      case '-h':
      case '--help':
        a.help = true;
        break;
      default:
        throw new UsageError(`unknown option '${arg}' (see --help)`);
    }
  }
  if (!a.help && !a.version && a.condition === undefined) {
    if (a.files.length === 0 && a.listen.length === 0) throw new UsageError('no configuration: give -f FILE, or --listen HOST:PORT --to HOST:PORT');
    if (a.files.length > 0 && (a.listen.length > 0 || a.to.length > 0)) throw new UsageError('-f and quick mode (--listen/--to) cannot be combined');
    if (a.listen.length > 0 && a.to.length === 0) throw new UsageError('quick mode needs at least one --to HOST:PORT');
  }
  return a;
}
