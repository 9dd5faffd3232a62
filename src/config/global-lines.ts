/**
 * Parsers of the `global` lines with their own small grammar: `stats socket` and `log`.
 * Each returns the model object or throws a KeywordError (the parser adds file and line).
 */
import { expandAddressEnv, isUnixAddress, parseHostPort } from './address.ts';
import type { LogTarget, SourceRef, StatsSocketConfig } from './config.types.ts';
import { parseInteger } from './duration.ts';
import { KeywordError } from './errors.ts';
import { didYouMean } from './suggest.ts';

export const STATS_LEVELS = ['user', 'operator', 'admin'] as const;

/** HAProxy's default level for a stats socket without `level` (`ACCESS_LVL_OPER` in its cli.c). */
export const DEFAULT_STATS_LEVEL: StatsSocketConfig['level'] = 'operator';

/** Bind options of a UNIX socket that only set its owner and permissions: accepted, with no effect. */
const SOCKET_OWNERSHIP = ['mode', 'user', 'group', 'uid', 'gid'];
const STATS_OPTIONS = ['level', 'expose-fd', ...SOCKET_OWNERSHIP];

/** `stats socket <path | unix@path | fd@N | [ipv4@]host:port> [level L] [mode M] [expose-fd listeners]…` */
export function parseStatsSocket(args: readonly string[], src: SourceRef): StatsSocketConfig {
  if (args.length < 1) throw new KeywordError(`'stats socket' expects an address (a unix path or ipv4@host:port)`);
  const address = statsAddress(expandAddressEnv(args[0] as string));
  let level = DEFAULT_STATS_LEVEL;
  const opts = args.slice(1);
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i] as string;
    const value = opts[i + 1];
    if (!STATS_OPTIONS.includes(o)) throw new KeywordError(`'stats socket': unknown option '${o}'${didYouMean(o, STATS_OPTIONS)}`);
    if (value === undefined) throw new KeywordError(`'stats socket' ${o}: missing value`);
    i++;
    if (o === 'level') {
      if (!(STATS_LEVELS as readonly string[]).includes(value)) throw new KeywordError(`'stats socket' level: expected user, operator or admin, got '${value}'${didYouMean(value, STATS_LEVELS)}`);
      level = value as StatsSocketConfig['level'];
    } else if (o === 'expose-fd' && value !== 'listeners') {
      throw new KeywordError(`'stats socket' expose-fd: only 'listeners' is supported, got '${value}'`);
    }
    // expose-fd listeners: for HAProxy's seamless reloads through the master; switchyard reloads differently
    // mode/user/group/uid/gid: the socket is created by the process user with the default umask
  }
  return { address, level, src };
}

function statsAddress(addr: string): StatsSocketConfig['address'] {
  if (addr.startsWith('abns@')) throw new KeywordError(`'stats socket': abstract namespace sockets ('${addr}') are not supported; use a path`);
  if (isUnixAddress(addr)) return { kind: 'unix', path: addr.replace(/^unix@/, '') };
  if (addr.startsWith('fd@')) return { kind: 'fd', fd: parseInteger(addr.slice(3), 'stats socket fd@') };
  const hp = parseHostPort(addr, 'stats socket');
  return { kind: 'tcp', host: hp.host || '0.0.0.0', port: hp.port };
}

export const FACILITY_NAMES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'auth2', 'ftp', 'ntp', 'audit', 'alert', 'cron2', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'];
export const LEVEL_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
const LOG_FORMATS = ['raw', 'rfc3164'];
/** HAProxy formats switchyard does not write (yet): named in the error rather than "unknown". */
const OTHER_HAPROXY_FORMATS = ['local', 'rfc5424', 'priority', 'short', 'timed', 'iso'];

/**
 * `log <stdout|stderr|host[:port]> [len N] [format F] [sample R:S] <facility> [level [minlevel]]`.
 * The format defaults to rfc3164-style framing for every target, stdout included, as HAProxy does
 * (its default `local` format is what switchyard's `rfc3164` writes: no hostname); write
 * `format raw` for bare lines. A UDP target without a port uses 514.
 */
export function parseLogTarget(args: readonly string[]): LogTarget {
  const target = logAddress(args[0] as string);
  let format: LogTarget['format'] = 'rfc3164';
  let i = 1;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'format') format = logFormat(args[++i]);
    else if (a === 'len') parseInteger(args[++i], 'log len', 80, 65535); // lines are short: no truncation needed
    else if (a === 'sample') throw new KeywordError(`log: 'sample' is not supported; every line is sent`);
    else break;
  }
  const [facility, level, minLevel, extra] = args.slice(i);
  if (facility === undefined) throw new KeywordError(`log: missing facility (e.g. local0, or daemon with format raw)`);
  if (!FACILITY_NAMES.includes(facility)) throw new KeywordError(`log: unknown facility '${facility}'${didYouMean(facility, FACILITY_NAMES)}`);
  for (const l of [level, minLevel]) {
    if (l !== undefined && !LEVEL_NAMES.includes(l)) throw new KeywordError(`log: unknown level '${l}'${didYouMean(l, LEVEL_NAMES)}`);
  }
  // the minimum level only filters out debug-level lines, which switchyard never writes
  if (extra !== undefined) throw new KeywordError(`log: unexpected argument '${extra}'`);
  return level === undefined ? { target, format, facility } : { target, format, facility, level };
}

function logAddress(t: string): LogTarget['target'] {
  if (t === 'stdout' || t === 'stderr') return t;
  if (t === 'fd@1') return 'stdout';
  if (t === 'fd@2') return 'stderr';
  if (isUnixAddress(t)) throw new KeywordError(`log: unix socket targets ('${t}') are not supported yet; use host:port (UDP syslog) or stdout`);
  const hp = parseHostPort(t.replace(/^udp[46]?@/, ''), 'log', false);
  return { host: hp.host, port: hp.port || 514 };
}

function logFormat(f: string | undefined): LogTarget['format'] {
  if (f !== undefined && LOG_FORMATS.includes(f)) return f as LogTarget['format'];
  if (f !== undefined && OTHER_HAPROXY_FORMATS.includes(f)) throw new KeywordError(`log format: '${f}' is not supported (raw, rfc3164)`);
  throw new KeywordError(`log format: unknown format '${f ?? ''}'${didYouMean(f ?? '', LOG_FORMATS)} (raw, rfc3164)`);
}
