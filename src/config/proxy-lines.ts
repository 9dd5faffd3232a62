/**
 * Parsers of the proxy lines with their own options: `bind` and `server`. Each returns model
 * objects or throws a KeywordError (the parser adds file and line).
 */
import { expandAddressEnv, isUnixAddress, parseHostPort, parseHostPortRange } from './address.ts';
import type { BindConfig, ServerConfig, SourceRef } from './config.types.ts';
import { DEFAULT_CHECK } from './config.types.ts';
import { parseDuration, parseInteger, parseSignedInteger } from './duration.ts';
import { KeywordError } from './errors.ts';
import { didYouMean } from './suggest.ts';

const BIND_OPTIONS = ['maxconn', 'accept-proxy'];
/** HAProxy bind options that would change behaviour switchyard does not have: refused by name. */
const UNSUPPORTED_BIND_OPTIONS = ['ssl', 'crt', 'alpn', 'transparent', 'v4v6', 'v6only', 'interface', 'namespace', 'tfo', 'defer-accept', 'backlog', 'process', 'thread', 'name', 'id', 'tcp-ut', 'mss'];

/**
 * `bind <addr>[,<addr>…] [maxconn N]`: one BindConfig per address (and per port of a `low-high`
 * range); `fd@N` listens on a socket inherited from the parent. `what` names the source in
 * messages (`--listen` in quick mode).
 */
export function parseBind(args: readonly string[], src: SourceRef, what = 'bind'): BindConfig[] {
  if (args.length < 1) throw new KeywordError(`'${what}' expects an address`);
  let maxconn: number | undefined;
  let acceptProxy = false;
  const opts = args.slice(1);
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i] as string;
    if (o === 'maxconn') maxconn = parseInteger(opts[++i], `${what} maxconn`, 1);
    else if (o === 'accept-proxy') acceptProxy = true;
    else if (UNSUPPORTED_BIND_OPTIONS.includes(o)) throw new KeywordError(`'${what}': option '${o}' is not supported`);
    else throw new KeywordError(`'${what}': unknown option '${o}'${didYouMean(o, BIND_OPTIONS)}`);
  }
  const limit = { ...(maxconn === undefined ? {} : { maxconn }), ...(acceptProxy ? { acceptProxy } : {}) };
  const binds: BindConfig[] = [];
  for (const addr of expandAddressEnv(args[0] as string).split(',')) {
    if (addr.startsWith('fd@')) {
      binds.push({ host: '', port: 0, fd: parseInteger(addr.slice(3), `${what} fd@`), ...limit, src });
      continue;
    }
    if (isUnixAddress(addr)) throw new KeywordError(`${what}: unix socket addresses ('${addr}') are not supported; use host:port or fd@N`);
    const { host, ports } = parseHostPortRange(addr, what);
    for (const port of ports) binds.push({ host, port, ...limit, src });
  }
  return binds;
}

/** Server options that take effect. */
const SERVER_OPTIONS = ['weight', 'maxconn', 'maxqueue', 'backup', 'disabled', 'send-proxy', 'send-proxy-v2'];
/** Health-check options (`check` turns checks on; the others tune them, as HAProxy's). */
const CHECK_FLAGS = ['check', 'no-check'];
const CHECK_TIMES = ['inter', 'fastinter', 'downinter'];
const CHECK_COUNTS = ['rise', 'fall', 'port', 'addr'];
/** Idle connection pool options; `pool-low-conn` is accepted and has no effect (pools are per worker, never shared). */
const POOL_OPTIONS = ['pool-max-conn', 'pool-purge-delay', 'pool-low-conn'];
const ACCEPTED = [...SERVER_OPTIONS, ...CHECK_FLAGS, ...CHECK_TIMES, ...CHECK_COUNTS, ...POOL_OPTIONS];

/** The largest server weight (HAProxy's SRV_UWGHT_MAX). */
export const MAX_WEIGHT = 256;

/** `server <name> <addr:port> [weight N] [maxconn N] [maxqueue N] [backup] [disabled] [check …]` */
export function parseServer(args: readonly string[], backend: string, src: SourceRef): ServerConfig {
  if (args.length < 2) throw new KeywordError(`'server' expects a name and an address`);
  const name = args[0] as string;
  const hp = parseHostPort(args[1] as string, `server ${name}`);
  if (hp.host === '') throw new KeywordError(`server ${name}: missing host in '${args[1]}'`);
  const server: { -readonly [K in keyof ServerConfig]: ServerConfig[K] } = { name, host: hp.host, port: hp.port, weight: 1, maxconn: 0, maxqueue: 0, backup: false, disabled: false, src };
  const opts = args.slice(2);
  let check = false;
  const timing: { inter?: number; fastinter?: number; downinter?: number; rise?: number; fall?: number; port?: number; addr?: string } = {};
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i] as string;
    if (o === 'weight') server.weight = parseWeight(opts[++i], backend, name);
    else if (o === 'maxconn') server.maxconn = parseInteger(opts[++i], `server ${name} maxconn`);
    else if (o === 'maxqueue') server.maxqueue = parseInteger(opts[++i], `server ${name} maxqueue`);
    else if (o === 'backup') server.backup = true;
    else if (o === 'disabled') server.disabled = true;
    else if (o === 'pool-max-conn') server.poolMaxConn = parseSignedInteger(opts[++i] ?? '', `server ${name} pool-max-conn`);
    else if (o === 'pool-purge-delay') server.poolPurgeDelay = parseDuration(opts[++i] ?? '', `server ${name} pool-purge-delay`);
    else if (o === 'pool-low-conn') parseInteger(opts[++i], `server ${name} pool-low-conn`);
    else if (o === 'send-proxy') server.sendProxy = 1;
    else if (o === 'send-proxy-v2') server.sendProxy = 2;
    else if (o === 'check') check = true;
    else if (o === 'no-check') check = false;
    else if (o === 'inter' || o === 'fastinter' || o === 'downinter') {
      const ms = parseDuration(opts[++i] ?? '', `server ${name} ${o}`);
      if (ms === 0) throw new KeywordError(`'server ${name}': '${o}' must be greater than 0`);
      timing[o] = ms;
    } else if (o === 'rise' || o === 'fall') timing[o] = parseInteger(opts[++i], `server ${name} ${o}`, 1);
    else if (o === 'port') timing.port = parseInteger(opts[++i], `server ${name} port`, 1, 65535);
    else if (o === 'addr') {
      const a = opts[++i];
      if (!a || !/^[0-9a-fA-F.:]+$/.test(a)) throw new KeywordError(`'server ${name}': 'addr' expects an IP address`);
      timing.addr = a;
    }
    else throw new KeywordError(`'server ${name}': unknown option '${o}'${didYouMean(o, ACCEPTED)}`);
  }
  if (check) {
    const inter = timing.inter ?? DEFAULT_CHECK.inter;
    server.check = {
      inter,
      fastinter: timing.fastinter ?? inter,
      downinter: timing.downinter ?? inter,
      rise: timing.rise ?? DEFAULT_CHECK.rise,
      fall: timing.fall ?? DEFAULT_CHECK.fall,
      ...(timing.port === undefined ? {} : { port: timing.port }),
      ...(timing.addr === undefined ? {} : { addr: timing.addr }),
    };
  }
  return server;
}

function parseWeight(v: string | undefined, backend: string, name: string): number {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) > MAX_WEIGHT) {
    throw new KeywordError(`'server ${backend}/${name}': weight of server ${name} is not within 0 and ${MAX_WEIGHT} (${v ?? ''})`);
  }
  return Number(v);
}
