import type { BalanceAlgorithm, LogTarget, Mode, StatsSocketConfig, Timeouts } from './config.types.ts';
import { BalanceAlgorithms, Modes } from './config.types.ts';
import { parseDuration, parseInteger } from './duration.ts';
import { KeywordError } from './errors.ts';
import type { Keyword, ParseContext, ProxyDraft, SectionKind } from './keywords.types.ts';
import { didYouMean } from './suggest.ts';

const PROXIES: readonly SectionKind[] = ['defaults', 'frontend', 'backend', 'listen'];
const NAMED: readonly SectionKind[] = ['frontend', 'backend', 'listen'];

/** The proxy the keyword applies to (keyword tables only list proxy keywords for proxy sections). */
const px = (ctx: ParseContext): ProxyDraft => ctx.proxy as ProxyDraft;

function arity(name: string, args: readonly string[], min: number, max = min): void {
  if (args.length < min) throw new KeywordError(`'${name}' expects ${min === max ? min : `at least ${min}`} argument${min === 1 ? '' : 's'}`);
  if (args.length > max) throw new KeywordError(`'${name}': unexpected argument '${args[max]}'`);
}

// ---- addresses ---------------------------------------------------------------------------------

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * HAProxy address forms: `host:port`, `:port`, `*:port`, `[v6]:port`, `v6:port` (last colon),
 * with an optional `ipv4@` / `ipv6@` prefix.
 */
export function parseHostPort(text: string, what: string, portRequired = true): HostPort {
  let s = expandAddressEnv(text);
  const at = /^(ipv4|ipv6|tcp|tcp4|tcp6)@/.exec(s);
  if (at) s = s.slice(at[0].length);
  else if (/^[a-z0-9]+@/.test(s)) throw new KeywordError(`${what}: unsupported address family in '${text}'`);
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) throw new KeywordError(`${what}: unterminated '[' in '${text}'`);
    host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new KeywordError(`${what}: invalid address '${text}'`);
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const i = s.lastIndexOf(':');
    if (i < 0) {
      host = s;
      portText = undefined;
    } else {
      host = s.slice(0, i);
      portText = s.slice(i + 1);
    }
  }
  if (host === '*') host = '';
  if (portText === undefined || portText === '') {
    if (portRequired) throw new KeywordError(`${what}: missing port in '${text}'`);
    return { host, port: 0 };
  }
  if (!/^\d+$/.test(portText)) throw new KeywordError(`${what}: invalid port '${portText}' in '${text}'`);
  const port = Number(portText);
  if (port > 65535) throw new KeywordError(`${what}: port ${port} out of range in '${text}'`);
  return { host, port };
}

/**
 * HAProxy expands `${NAME}` and `${NAME-default}` in addresses wherever they are written (quoted,
 * single-quoted or bare): its address parser does it, not the tokenizer.
 */
export function expandAddressEnv(text: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:-([^}]*))?\}/g, (_m, name: string, def: string | undefined) => env[name] ?? def ?? '');
}

// ---- global ------------------------------------------------------------------------------------

function parseStatsSocket(ctx: ParseContext, args: readonly string[]): void {
  if (args.length < 1) throw new KeywordError(`'stats socket' expects an address (a unix path or ipv4@host:port)`);
  const addr = expandAddressEnv(args[0] as string);
  let address: StatsSocketConfig['address'];
  if (addr.startsWith('/') || addr.startsWith('unix@')) address = { kind: 'unix', path: addr.replace(/^unix@/, '') };
  else if (addr.startsWith('fd@')) address = { kind: 'fd', fd: parseInteger(addr.slice(3), 'stats socket fd@') };
  else {
    const hp = parseHostPort(addr, 'stats socket');
    address = { kind: 'tcp', host: hp.host || '0.0.0.0', port: hp.port };
  }
  let level: StatsSocketConfig['level'] = 'user';
  const opts = args.slice(1);
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i] as string;
    if (o === 'level') {
      const v = opts[++i];
      if (v !== 'user' && v !== 'operator' && v !== 'admin') throw new KeywordError(`'stats socket' level: expected user, operator or admin, got '${v ?? ''}'`);
      level = v;
    } else if (o === 'mode' || o === 'user' || o === 'group' || o === 'uid' || o === 'gid') {
      i++; // unix socket ownership: the socket is created by the process user
    } else if (o === 'expose-fd') {
      i++;
    } else {
      throw new KeywordError(`'stats socket': unknown option '${o}'${didYouMean(o, ['level', 'mode', 'user', 'group', 'uid', 'gid', 'expose-fd'])}`);
    }
  }
  ctx.global.statsSockets.push({ address, level, src: { file: ctx.file, line: ctx.line } });
}

const FACILITY_NAMES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'auth2', 'ftp', 'ntp', 'audit', 'alert', 'cron2', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'];
const LEVEL_NAMES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

function parseLogTarget(args: readonly string[]): LogTarget {
  const t = args[0] as string;
  let target: LogTarget['target'];
  if (t === 'stdout' || t === 'stderr') target = t;
  else if (t.startsWith('/') || t.startsWith('unix@')) throw new KeywordError(`log: unix socket targets ('${t}') are not supported yet; use host:port (UDP syslog) or stdout`);
  else {
    const hp = parseHostPort(t.replace(/^udp[46]?@/, ''), 'log', false);
    target = { host: hp.host, port: hp.port || 514 };
  }
  let format: LogTarget['format'] = 'rfc3164';
  let i = 1;
  for (; i < args.length; i++) {
    const a = args[i] as string;
    if (a === 'format') {
      const f = args[++i];
      if (f !== 'raw' && f !== 'rfc3164') throw new KeywordError(`log format: '${f ?? ''}' is not supported (raw, rfc3164)`);
      format = f;
    } else if (a === 'len' || a === 'sample') {
      i++;
    } else break;
  }
  const facility = args[i];
  if (facility === undefined) throw new KeywordError(`log: missing facility (e.g. local0)`);
  if (!FACILITY_NAMES.includes(facility)) throw new KeywordError(`log: unknown facility '${facility}'${didYouMean(facility, FACILITY_NAMES)}`);
  const level = args[i + 1];
  if (level !== undefined && !LEVEL_NAMES.includes(level)) throw new KeywordError(`log: unknown level '${level}'${didYouMean(level, LEVEL_NAMES)}`);
  return level === undefined ? { target, format, facility } : { target, format, facility, level };
}

// ---- proxies -----------------------------------------------------------------------------------

function parseBind(ctx: ParseContext, args: readonly string[]): void {
  if (args.length < 1) throw new KeywordError(`'bind' expects an address`);
  let maxconn: number | undefined;
  const opts = args.slice(1);
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i] as string;
    if (o === 'maxconn') maxconn = parseInteger(opts[++i], 'bind maxconn', 1);
    else throw new KeywordError(`'bind': unknown option '${o}'${didYouMean(o, ['maxconn', 'accept-proxy', 'name', 'process'])}`);
  }
  const src = { file: ctx.file, line: ctx.line };
  for (const a of expandAddressEnv(args[0] as string).split(',')) {
    if (a.startsWith('fd@')) {
      const fd = parseInteger(a.slice(3), 'bind fd@');
      px(ctx).binds.push(maxconn === undefined ? { host: '', port: 0, fd, src } : { host: '', port: 0, fd, maxconn, src });
      continue;
    }
    const hp = parseHostPort(a, 'bind');
    px(ctx).binds.push(maxconn === undefined ? { ...hp, src } : { ...hp, maxconn, src });
  }
}

const SERVER_OPTIONS = ['weight', 'maxconn', 'maxqueue', 'backup', 'disabled', 'check', 'inter', 'fastinter', 'downinter', 'rise', 'fall', 'port', 'addr', 'send-proxy', 'send-proxy-v2'];

function parseServer(ctx: ParseContext, args: readonly string[]): void {
  if (args.length < 2) throw new KeywordError(`'server' expects a name and an address`);
  const name = args[0] as string;
  const p = px(ctx);
  if (p.servers.some((s) => s.name === name)) throw new KeywordError(`server '${name}' is already defined in ${p.kind} '${p.name}'`);
  const hp = parseHostPort(args[1] as string, `server ${name}`);
  if (hp.host === '') throw new KeywordError(`server ${name}: missing host in '${args[1]}'`);
  let weight = 1;
  let maxconn = 0;
  let maxqueue = 0;
  let backup = false;
  let disabled = false;
  const opts = args.slice(2);
  for (let i = 0; i < opts.length; i++) {
    const o = opts[i] as string;
    switch (o) {
      case 'weight': {
        const v = opts[++i];
        if (v === undefined || !/^\d+$/.test(v) || Number(v) > 256) throw new KeywordError(`'server ${p.name}/${name}': weight of server ${name} is not within 0 and 256 (${v ?? ''})`);
        weight = Number(v);
        break;
      }
      case 'maxconn':
        maxconn = parseInteger(opts[++i], `server ${name} maxconn`);
        break;
      case 'maxqueue':
        maxqueue = parseInteger(opts[++i], `server ${name} maxqueue`);
        break;
      case 'backup':
        backup = true;
        break;
      case 'disabled':
        disabled = true;
        break;
      // health checks come with the operations work: accepted, with no effect yet
      case 'check':
        break;
      case 'inter':
      case 'fastinter':
      case 'downinter':
        parseDuration(opts[++i] ?? '', `server ${name} ${o}`);
        break;
      case 'rise':
      case 'fall':
      case 'port':
        parseInteger(opts[++i], `server ${name} ${o}`, 1);
        break;
      default:
        throw new KeywordError(`'server ${name}': unknown option '${o}'${didYouMean(o, SERVER_OPTIONS)}`);
    }
  }
  p.servers.push({ name, host: hp.host, port: hp.port, weight, maxconn, maxqueue, backup, disabled, src: { file: ctx.file, line: ctx.line } });
}

const TIMEOUTS: ReadonlyArray<[string, keyof Timeouts, 'fe' | 'be' | 'any']> = [
  ['connect', 'connect', 'be'],
  ['client', 'client', 'fe'],
  ['server', 'server', 'be'],
  ['queue', 'queue', 'be'],
  ['tunnel', 'tunnel', 'be'],
  ['client-fin', 'clientFin', 'fe'],
  ['server-fin', 'serverFin', 'be'],
  ['http-request', 'httpRequest', 'any'],
  ['http-keep-alive', 'httpKeepAlive', 'any'],
  ['check', 'check', 'be'],
];

function option(name: string, cap: 'fe' | 'be' | 'any', help: string, apply: (p: ProxyDraft, on: boolean) => void): Keyword {
  return {
    name: `option ${name}`,
    sections: PROXIES,
    cap,
    negatable: true,
    args: '',
    help,
    parse(ctx, args) {
      arity(`option ${name}`, args, 0);
      apply(px(ctx), !ctx.negated);
    },
  };
}

/** A `global` keyword that takes one word and stores it. */
function globalString(name: string, args: string, help: string, field: 'logTag' | 'serverStateFile' | 'serverStateBase'): Keyword {
  return {
    name,
    sections: ['global'],
    cap: 'any',
    args,
    help,
    parse(ctx, a) {
      arity(name, a, 1);
      ctx.global[field] = a[0] as string;
    },
  };
}

/**
 * The configuration keyword table: the parser dispatches from it, `--help` and the docs list it.
 * `sections` says where a keyword may appear at all; `cap` what kind of proxy it means something in.
 */
export const keywords: readonly Keyword[] = [
  // global
  {
    name: 'nbthread',
    sections: ['global'],
    cap: 'any',
    args: '<n>',
    help: 'number of worker threads (overridden by --threads)',
    parse(ctx, args) {
      arity('nbthread', args, 1);
      ctx.global.nbthread = parseInteger(args[0], 'nbthread', 1, 256);
    },
  },
  {
    name: 'maxconn',
    sections: ['global', ...PROXIES],
    cap: 'any',
    args: '<n>',
    help: 'global: most concurrent connections of the process (default 4096); proxy: of the frontend',
    parse(ctx, args) {
      arity('maxconn', args, 1);
      const n = parseInteger(args[0], 'maxconn', 0);
      if (ctx.proxy) ctx.proxy.settings.maxconn = n;
      else ctx.global.maxconn = n;
    },
  },
  {
    name: 'hard-stop-after',
    sections: ['global'],
    cap: 'any',
    args: '<time>',
    help: 'on stop, close the sessions still alive after this long (default 30s)',
    parse(ctx, args) {
      arity('hard-stop-after', args, 1);
      ctx.global.hardStopAfter = parseDuration(args[0] as string, 'hard-stop-after');
    },
  },
  {
    name: 'stats socket',
    sections: ['global'],
    cap: 'any',
    args: '<path | ipv4@host:port> [level user|operator|admin]',
    help: 'runtime API socket (HAProxy CLI syntax)',
    parse: parseStatsSocket,
  },
  globalString('log-tag', '<tag>', 'the tag of syslog lines, before [pid] (default switchyard)', 'logTag'),
  globalString('server-state-file', '<file>', "the file of saved server states (the output of 'show servers state') read at start", 'serverStateFile'),
  globalString('server-state-base', '<dir>', 'the directory of a relative server-state-file', 'serverStateBase'),
  {
    name: 'load-server-state-from-file',
    sections: PROXIES,
    cap: 'be',
    args: 'global|none',
    help: "restore this backend's server states (maintenance, drain, weight) from server-state-file",
    parse(ctx, args) {
      arity('load-server-state-from-file', args, 1);
      const v = args[0] as string;
      if (v === 'local') throw new KeywordError(`load-server-state-from-file local: per-backend state files are not supported yet; use 'global'`);
      if (v !== 'global' && v !== 'none') throw new KeywordError(`load-server-state-from-file: expected 'global' or 'none', got '${v}'`);
      px(ctx).settings.loadServerState = v;
    },
  },
  {
    name: 'daemon',
    sections: ['global'],
    cap: 'any',
    args: '',
    help: 'accepted for compatibility: switchyard always runs in the foreground (use a service manager)',
    parse(_ctx, args) {
      arity('daemon', args, 0);
    },
  },
  {
    name: 'log',
    sections: ['global', ...PROXIES],
    cap: 'any',
    negatable: true,
    args: 'global | <stdout|stderr|host[:port]> [format raw|rfc3164] <facility> [level]',
    help: "global: where logs go; proxy: 'log global' uses them, 'no log' silences the proxy",
    parse(ctx, args) {
      if (ctx.proxy) {
        if (ctx.negated) {
          arity('no log', args, 0);
          ctx.proxy.settings.noLog = true;
          return;
        }
        if (args.length === 1 && args[0] === 'global') {
          ctx.proxy.settings.logGlobal = true;
          return;
        }
        throw new KeywordError(`log: per-proxy log targets are not supported yet; declare them in 'global' and use 'log global'`);
      }
      if (ctx.negated) throw new KeywordError(`'no log' is only valid in a proxy section`);
      if (args.length < 2 && args[0] !== 'stdout' && args[0] !== 'stderr') throw new KeywordError(`log: expected '<target> [format raw] <facility>'`);
      ctx.global.logs.push(parseLogTarget(args.length === 1 ? [args[0] as string, 'local0'] : args));
    },
  },
  // proxies
  {
    name: 'mode',
    sections: PROXIES,
    cap: 'any',
    args: 'tcp|http',
    help: 'proxy mode (http relays as tcp until the HTTP engine lands)',
    parse(ctx, args) {
      arity('mode', args, 1);
      const m = args[0] as string;
      if (!(Modes as readonly string[]).includes(m)) throw new KeywordError(`mode: unknown mode '${m}'${didYouMean(m, Modes)} (tcp, http)`);
      px(ctx).settings.mode = m as Mode;
    },
  },
  {
    name: 'bind',
    sections: NAMED,
    cap: 'fe',
    args: '<addr:port>[,<addr:port>…] [maxconn <n>]',
    help: 'listening address(es) of a frontend; fd@N listens on an inherited socket',
    parse: parseBind,
  },
  {
    name: 'default_backend',
    sections: PROXIES,
    cap: 'fe',
    args: '<backend>',
    help: 'the backend a frontend sends its sessions to',
    parse(ctx, args) {
      arity('default_backend', args, 1);
      const p = px(ctx);
      p.defaultBackend = args[0] as string;
      p.defaultBackendLine = ctx.line;
    },
  },
  {
    name: 'server',
    sections: NAMED,
    cap: 'be',
    capFatal: true,
    args: '<name> <addr:port> [weight <n>] [maxconn <n>] [maxqueue <n>] [backup] [disabled]',
    help: 'a server of the backend',
    parse: parseServer,
  },
  {
    name: 'balance',
    sections: PROXIES,
    cap: 'be',
    args: BalanceAlgorithms.join('|'),
    help: 'load-balancing algorithm (default roundrobin)',
    parse(ctx, args) {
      if (args.length < 1) throw new KeywordError(`'balance' expects an algorithm (${BalanceAlgorithms.join(', ')})`);
      const a = args[0] as string;
      if (!(BalanceAlgorithms as readonly string[]).includes(a)) throw new KeywordError(`balance: unknown algorithm '${a}'${didYouMean(a, BalanceAlgorithms)}`);
      if (a === 'random' && args.length > 1) {
        if (args[1] !== '(2)' && args[1] !== '2') throw new KeywordError(`balance random: only 2 draws are supported`);
      } else arity('balance', args, 1);
      px(ctx).settings.balance = a as BalanceAlgorithm;
    },
  },
  {
    name: 'retries',
    sections: PROXIES,
    cap: 'be',
    args: '<n>',
    help: 'connection retries after a failed connect (default 3)',
    parse(ctx, args) {
      arity('retries', args, 1);
      px(ctx).settings.retries = parseInteger(args[0], 'retries', 0, 1000);
    },
  },
  {
    name: 'option redispatch',
    sections: PROXIES,
    cap: 'be',
    negatable: true,
    args: '[<interval>]',
    help: 'retry on another server: on the last retry (default), or every <interval>th if positive',
    parse(ctx, args) {
      arity('option redispatch', args, 0, 1);
      if (ctx.negated) {
        px(ctx).settings.redispatch = 0;
        return;
      }
      const v = args[0];
      const n = v === undefined ? -1 : Number(v);
      if (!Number.isInteger(n)) throw new KeywordError(`option redispatch: invalid interval '${v}'`);
      px(ctx).settings.redispatch = n;
    },
  },
  {
    name: 'log-format',
    sections: PROXIES,
    cap: 'fe',
    args: '<format>',
    help: 'the session log line, with HAProxy variables (%ci %cp %fi %fp %ft %b %s %ts %B %U %Tw %Tc %Tt …)',
    parse(ctx, args) {
      if (args.length === 0) throw new KeywordError(`'log-format' expects a format string`);
      px(ctx).settings.logFormat = { text: args.join(' '), src: { file: ctx.file, line: ctx.line } };
    },
  },
  option('tcplog', 'any', 'log sessions in the TCP format', (p, on) => {
    p.settings.tcplog = on;
  }),
  option('httplog', 'any', 'log requests in the HTTP format (TCP format in mode tcp)', (p, on) => {
    p.settings.httplog = on;
  }),
  option('dontlognull', 'fe', 'do not log sessions that carried no data', (p, on) => {
    p.settings.dontlognull = on;
  }),
  ...TIMEOUTS.map(
    ([word, field, cap]): Keyword => ({
      name: `timeout ${word}`,
      sections: PROXIES,
      cap,
      args: '<time>',
      help: `the ${word} timeout (100ms, 5s, 1m…; unitless = ms)`,
      parse(ctx, args) {
        arity(`timeout ${word}`, args, 1);
        px(ctx).settings.timeouts[field] = parseDuration(args[0] as string, `timeout ${word}`);
      },
    }),
  ),
];

/** All keywords with their arguments and help, one per line (for --help and the docs). */
export function helpText(): string {
  const w = Math.max(...keywords.map((k) => `${k.name} ${k.args}`.length)) + 2;
  return `${keywords
    .map((k) => `  ${`${k.name} ${k.args}`.padEnd(Math.min(w, 60))} ${k.help} [${k.sections.join(', ')}]`)
    .join('\n')}\n`;
}
