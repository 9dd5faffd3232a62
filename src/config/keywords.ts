import type { BalanceAlgorithm, HttpConnMode, Mode, RetryOn, StatsPage, Timeouts } from './config.types.ts';
import { BalanceAlgorithms, DEFAULT_BUFFERS_RESERVE, Modes, RetryOnKeywords, RetryOnStatuses } from './config.types.ts';
import { parseDuration, parseInteger, parseSignedInteger } from './duration.ts';
import { KeywordError } from './errors.ts';
import { parseLogTarget, parseStatsSocket } from './global-lines.ts';
import type { Capability, Keyword, ParseContext, ProxyDraft, SectionKind } from './keywords.types.ts';
import { HTTP_REQUEST_ACTIONS, HTTP_RESPONSE_ACTIONS, parseAcl, parseHttpAction, splitCondition, validHeaderName } from './http-rules.ts';
import { parseBind, parseServer } from './proxy-lines.ts';
import { BUFFERS_PER_STREAM } from '../core/buffer-budget.types.ts';
import { didYouMean } from './suggest.ts';
import fs from 'node:fs';
import path from 'node:path';

// callers and tests read addresses through the keyword module
export { expandAddressEnv, type HostPort, parseHostPort } from './address.ts';

const PROXIES: readonly SectionKind[] = ['defaults', 'frontend', 'backend', 'listen'];
const NAMED: readonly SectionKind[] = ['frontend', 'backend', 'listen'];

/** The proxy the keyword applies to (the table lists proxy keywords for proxy sections only). */
const px = (ctx: ParseContext): ProxyDraft => ctx.proxy as ProxyDraft;

const src = (ctx: ParseContext) => ({ file: ctx.file, line: ctx.line });

function arity(name: string, args: readonly string[], min: number, max = min): void {
  if (args.length < min) throw new KeywordError(`'${name}' expects ${min === max ? min : `at least ${min}`} argument${min === 1 ? '' : 's'}`);
  if (args.length > max) throw new KeywordError(`'${name}': unexpected argument '${args[max]}'`);
}

/** A value among a fixed list, with a suggestion when it is misspelt: `mode: unknown mode 'tcpp' (did you mean 'tcp'?) (tcp, http)`. */
function oneOf<T extends string>(what: string, noun: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new KeywordError(`${what}: unknown ${noun} '${value}'${didYouMean(value, allowed)} (${allowed.join(', ')})`);
}

// ---- global ------------------------------------------------------------------------------------

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
 * A limit must leave buffers beyond the reserve: HAProxy raises it to reserve + 1 (silently);
 * switchyard raises it to reserve + one stream's buffers (with less, every stream would be
 * refused) and says so, naming the line.
 */
function checkBuffers(ctx: ParseContext): void {
  const limit = ctx.global.buffersLimit ?? 0;
  const reserve = ctx.global.buffersReserve ?? DEFAULT_BUFFERS_RESERVE;
  if (limit > 0 && limit < reserve + BUFFERS_PER_STREAM) {
    const raised = reserve + BUFFERS_PER_STREAM;
    ctx.warn(`tune.buffers.limit ${limit} leaves no stream's ${BUFFERS_PER_STREAM} buffers beyond tune.buffers.reserve ${reserve}: raised to ${raised}`);
    ctx.global.buffersLimit = raised;
  }
}

const globalKeywords: Keyword[] = [
  {
    name: 'nbthread',
    sections: ['global'],
    cap: 'any',
    args: '<n>',
    help: 'number of worker threads (overridden by --threads; default: one per core)',
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
      if (!ctx.proxy) {
        ctx.global.maxconn = n;
        return;
      }
      // HAProxy stores it in a backend too, with this warning; it limits nothing there
      if (ctx.proxy.kind === 'backend') ctx.warn(`'maxconn' ignored because backend '${ctx.proxy.name}' has no frontend capability. Maybe you want 'fullconn' instead ?`);
      ctx.proxy.settings.maxconn = n;
    },
  },
  {
    name: 'thread-groups',
    sections: ['global'],
    cap: 'any',
    args: '<n>',
    help: "thread groups: 1, as HAProxy 2.6 allows (switchyard's workers are one group)",
    parse(_ctx, args) {
      arity('thread-groups', args, 1);
      const n = parseInteger(args[0], 'thread-groups');
      if (n !== 1) throw new KeywordError(`'thread-groups' value must be between 1 and 1 (was ${n})`);
    },
  },
  {
    name: 'tune.idle-pool.shared',
    sections: ['global'],
    cap: 'any',
    args: 'on|off',
    help: 'share idle server connections between threads: switchyard\'s pools are per worker (off); on is accepted with a warning',
    parse(ctx, args) {
      arity('tune.idle-pool.shared', args, 1);
      const v = args[0] as string;
      if (v !== 'on' && v !== 'off') throw new KeywordError(`'tune.idle-pool.shared' expects either 'on' or 'off' but got '${v}'.`);
      if (v === 'on') ctx.warn(`'tune.idle-pool.shared on': idle server connections stay in the pool of the worker that opened them (a socket belongs to one worker)`);
    },
  },
  {
    name: 'tune.buffers.limit',
    sections: ['global'],
    cap: 'any',
    args: '<n>',
    help: 'most buffers the streams of one worker hold (2 per stream; 0: unlimited); past it new streams get 503',
    parse(ctx, args) {
      arity('tune.buffers.limit', args, 1);
      const n = parseInteger(args[0], 'tune.buffers.limit', 0);
      ctx.global.buffersLimit = n;
      checkBuffers(ctx);
    },
  },
  {
    name: 'tune.buffers.reserve',
    sections: ['global'],
    cap: 'any',
    args: '<n>',
    help: `buffers of tune.buffers.limit kept back for the streams already running (default and minimum ${DEFAULT_BUFFERS_RESERVE})`,
    parse(ctx, args) {
      arity('tune.buffers.reserve', args, 1);
      ctx.global.buffersReserve = parseInteger(args[0], 'tune.buffers.reserve', DEFAULT_BUFFERS_RESERVE);
      checkBuffers(ctx);
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
    args: '<path | ipv4@host:port | fd@N> [level user|operator|admin] [mode <m>] [expose-fd listeners]',
    help: 'runtime API socket (HAProxy CLI syntax; default level operator)',
    parse(ctx, args) {
      ctx.global.statsSockets.push(parseStatsSocket(args, src(ctx)));
    },
  },
  globalString('log-tag', '<tag>', 'the tag of syslog lines, before [pid] (default switchyard)', 'logTag'),
  globalString('server-state-file', '<file>', "the file of saved server states (the output of 'show servers state') read at start", 'serverStateFile'),
  globalString('server-state-base', '<dir>', 'the directory of a relative server-state-file', 'serverStateBase'),
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
    args: 'global | <stdout|stderr|host[:port]> [len <n>] [format raw|rfc3164] <facility> [<level> [<minlevel>]]',
    help: "global: where logs go; proxy: 'log global' uses them, 'no log' silences the proxy",
    parse(ctx, args) {
      if (ctx.proxy) parseProxyLog(ctx, ctx.proxy, args);
      else if (ctx.negated) throw new KeywordError(`'no log' is only valid in a proxy section`);
      else if (args.length < 2) throw new KeywordError(`log: expected '<target> [format raw] <facility>'`);
      else ctx.global.logs.push(parseLogTarget(args));
    },
  },
];

/** `log global` and `no log` in a proxy; per-proxy targets are not supported. */
function parseProxyLog(ctx: ParseContext, p: ProxyDraft, args: readonly string[]): void {
  if (ctx.negated) {
    arity('no log', args, 0);
    p.settings.noLog = true;
  } else if (args.length === 1 && args[0] === 'global') {
    p.settings.logGlobal = true;
  } else {
    throw new KeywordError(`log: per-proxy log targets are not supported yet; declare them in 'global' and use 'log global'`);
  }
}

// ---- proxies -----------------------------------------------------------------------------------

/**
 * Timeouts and the capability they need, as HAProxy's table (`timeout client` in a backend is
 * ignored with a warning). `timeout X 0` means no timeout, as in HAProxy (0 is TICK_ETERNITY).
 */
const TIMEOUTS: ReadonlyArray<readonly [word: string, field: keyof Timeouts, cap: Capability]> = [
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

const timeoutKeywords = TIMEOUTS.map(
  ([word, field, cap]): Keyword => ({
    name: `timeout ${word}`,
    sections: PROXIES,
    cap,
    args: '<time>',
    help: `the ${word} timeout (100ms, 5s, 1m…; unitless = ms; 0 = none)`,
    parse(ctx, args) {
      arity(`timeout ${word}`, args, 1);
      const ms = parseDuration(args[0] as string, `timeout ${word}`);
      const timeouts = px(ctx).settings.timeouts;
      if (ms === 0) delete timeouts[field];
      else timeouts[field] = ms;
    },
  }),
);

/**
 * An `option` without arguments. `no option X` exists only where HAProxy has it: for the flags of
 * its option table (`dontlognull`); `no option tcplog` is an error there.
 */
function option(name: string, cap: Capability, negatable: boolean, help: string, apply: (p: ProxyDraft, on: boolean) => void): Keyword {
  return {
    name: `option ${name}`,
    sections: PROXIES,
    cap,
    negatable,
    args: '',
    help,
    parse(ctx, args) {
      arity(`option ${name}`, args, 0);
      apply(px(ctx), !ctx.negated);
    },
  };
}

const proxyKeywords: Keyword[] = [
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
      px(ctx).settings.loadServerState = oneOf('load-server-state-from-file', 'value', v, ['global', 'none'] as const);
    },
  },
  {
    name: 'mode',
    sections: PROXIES,
    cap: 'any',
    args: 'tcp|http',
    help: 'proxy mode: tcp relays bytes, http parses requests and responses (HTTP/1.1)',
    parse(ctx, args) {
      arity('mode', args, 1);
      px(ctx).settings.mode = oneOf<Mode>('mode', 'mode', args[0] as string, Modes);
    },
  },
  {
    name: 'bind',
    sections: NAMED,
    cap: 'fe',
    args: '<addr:port>[,<addr:port>…] [maxconn <n>]',
    help: 'listening address(es) of a frontend (port ranges low-high allowed); fd@N listens on an inherited socket',
    parse(ctx, args) {
      px(ctx).binds.push(...parseBind(args, src(ctx)));
    },
  },
  {
    name: 'default_backend',
    sections: PROXIES,
    cap: 'fe',
    args: '<backend>',
    help: 'the backend a frontend sends its sessions to (inherited from defaults)',
    parse(ctx, args) {
      arity('default_backend', args, 1);
      const p = px(ctx);
      p.defaultBackend = args[0] as string;
      p.defaultBackendSrc = src(ctx);
    },
  },
  {
    name: 'server',
    sections: NAMED,
    cap: 'be',
    capFatal: true,
    args: '<name> <addr:port> [weight <0..256>] [maxconn <n>] [maxqueue <n>] [backup] [disabled] [pool-max-conn <n>] [pool-purge-delay <time>]',
    help: 'a server of the backend; check [inter <t>] [fastinter <t>] [downinter <t>] [rise <n>] [fall <n>] [port <p>] [addr <ip>] turns health checks on',
    parse(ctx, args) {
      const p = px(ctx);
      const server = parseServer(args, p.name, src(ctx));
      if (p.servers.some((s) => s.name === server.name)) throw new KeywordError(`server '${server.name}' is already defined in ${p.kind} '${p.name}'`);
      p.servers.push(server);
    },
  },
  {
    name: 'balance',
    sections: PROXIES,
    cap: 'be',
    args: 'roundrobin|static-rr|leastconn|first|source|random|uri|hdr(<name>)',
    help: 'load-balancing algorithm (default roundrobin); uri and hdr(<name>) hash the path or a header (HTTP)',
    parse(ctx, args) {
      if (args.length < 1) throw new KeywordError(`'balance' expects an algorithm (${BalanceAlgorithms.join(', ')})`);
      const hdr = /^hdr\(([^)]*)\)$/.exec(args[0] as string);
      if (hdr) {
        const name = (hdr[1] as string).trim().toLowerCase();
        if (name === '') throw new KeywordError(`balance hdr(): expects a header name, as in hdr(host)`);
        arity('balance', args, 1);
        px(ctx).settings.balance = 'hdr';
        px(ctx).settings.balanceHdr = name;
        return;
      }
      if (args[0] === 'hdr') throw new KeywordError(`balance hdr: expects hdr(<name>)`);
      const algo = oneOf<BalanceAlgorithm>('balance', 'algorithm', args[0] as string, BalanceAlgorithms);
      // `balance random [<draws>]`: switchyard draws two (power of two choices), HAProxy's default
      if (algo === 'random' && args.length > 1) {
        if (args[1] !== '(2)' && args[1] !== '2') throw new KeywordError(`balance random: only 2 draws are supported`);
        arity('balance random', args.slice(1), 1);
      } else arity('balance', args, 1);
      px(ctx).settings.balance = algo;
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
    help: 'retry on another server: on the last retry (default), every <interval>th if positive, the Nth before last if negative',
    parse(ctx, args) {
      arity('option redispatch', args, 0, 1);
      const v = args[0];
      if (ctx.negated && v !== undefined) throw new KeywordError(`'no option redispatch': unexpected argument '${v}'`);
      px(ctx).settings.redispatch = ctx.negated ? 0 : v === undefined ? -1 : parseSignedInteger(v, 'option redispatch');
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
      // one word, as HAProxy: a format with spaces is quoted or escaped
      if (args.length > 1) throw new KeywordError(`'log-format' expects only one argument, don't forget to escape spaces!`);
      px(ctx).settings.logFormat = { text: args[0] as string, src: src(ctx) };
    },
  },
  option('tcplog', 'fe', false, 'log sessions in the TCP format', (p, on) => {
    p.settings.tcplog = on;
  }),
  option('httplog', 'fe', false, 'log requests in the HTTP format (TCP format in mode tcp)', (p, on) => {
    p.settings.httplog = on;
  }),
  option('allbackups', 'be', true, 'when no active server is up, use every usable backup server (not only the first)', (p, on) => {
    p.settings.allbackups = on;
  }),
  option('log-health-checks', 'be', true, "log every change of a server's health, not only UP and DOWN", (p, on) => {
    p.settings.logHealthChecks = on;
  }),
  {
    name: 'option httpchk',
    sections: PROXIES,
    cap: 'be',
    negatable: true,
    args: '[<method>] [<uri>] [<version>]',
    help: 'health checks send an HTTP request (default OPTIONS / HTTP/1.0) and expect a 2xx or 3xx',
    parse(ctx, args) {
      arity('option httpchk', args, 0, 3);
      const p = px(ctx);
      if (ctx.negated) {
        delete p.settings.httpchk;
        return;
      }
      // HAProxy's forms: <uri> | <method> <uri> | <method> <uri> <version>
      const [a, b, c] = args;
      const method = args.length >= 2 ? (a as string) : 'OPTIONS';
      const uri = args.length === 1 ? (a as string) : args.length >= 2 ? (b as string) : '/';
      const version = c ?? 'HTTP/1.0';
      if (!/^[A-Z]+$/.test(method)) throw new KeywordError(`option httpchk: invalid method '${method}'`);
      if (!/^HTTP\/1\.[01]$/.test(version)) throw new KeywordError(`option httpchk: version must be HTTP/1.0 or HTTP/1.1, not '${version}'`);
      p.settings.httpchk = { method, uri, version };
    },
  },
  {
    name: 'http-check expect',
    sections: PROXIES,
    cap: 'be',
    args: '[!] status <code>[,<code>…] | rstatus <regex> | string <text>',
    help: 'what an HTTP health check must get (default: a 2xx or 3xx status)',
    parse(ctx, args) {
      const negate = args[0] === '!';
      const rest = negate ? args.slice(1) : args;
      arity('http-check expect', rest, 2);
      const kind = oneOf('http-check expect', 'match', rest[0] as string, ['status', 'rstatus', 'string'] as const);
      const value = rest[1] as string;
      if (kind === 'status' && !/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(value)) throw new KeywordError(`http-check expect status: expects codes or ranges (200, 200-299, 200,301), not '${value}'`);
      if (kind === 'rstatus') {
        try {
          new RegExp(value);
        } catch (e) {
          throw new KeywordError(`http-check expect rstatus: invalid regex '${value}': ${(e as Error).message}`);
        }
      }
      px(ctx).settings.httpCheckExpect = { kind, value, negate };
    },
  },
  ...statsKeywords(),
  option('jsonlog', 'fe', true, 'log each session (tcp) or request (http) as one JSON object (a switchyard extension)', (p, on) => {
    p.settings.jsonlog = on;
  }),
  option('dontlognull', 'fe', true, 'do not log sessions that carried no data', (p, on) => {
    p.settings.dontlognull = on;
  }),
  ...(
    [
      ['http-keep-alive', 'keep-alive', 'keep connections open on both sides between requests (default)'],
      ['http-server-close', 'server-close', 'close the server connection after each response, keep the client one'],
      ['httpclose', 'close', 'close both connections after each response'],
    ] as const
  ).map(([name, mode, help]) =>
    option(name, 'any', true, help, (p, on) => {
      // as HAProxy: `no option X` goes back to keep-alive only if X was the mode in force
      if (on) p.settings.httpConnMode = mode as HttpConnMode;
      else if (p.settings.httpConnMode === mode) p.settings.httpConnMode = 'keep-alive';
    }),
  ),
  {
    name: 'http-reuse',
    sections: PROXIES,
    cap: 'be',
    args: 'never|safe|aggressive|always',
    help: 'which idle server connections a request may use (default safe: not for the first request of a client connection)',
    parse(ctx, args) {
      arity('http-reuse', args, 1);
      px(ctx).settings.httpReuse = oneOf('http-reuse', 'mode', args[0] as string, ['never', 'safe', 'aggressive', 'always'] as const);
    },
  },
  {
    name: 'retry-on',
    sections: PROXIES,
    cap: 'be',
    args: '<keyword|status>…',
    help: `what retries an HTTP request: ${RetryOnKeywords.join(', ')}, or ${RetryOnStatuses.join(' ')} (default conn-failure)`,
    parse(ctx, args) {
      if (args.length === 0) throw new KeywordError(`'retry-on' expects at least one keyword`);
      const out = new Set<RetryOn>();
      for (const a of args) {
        const status = Number(a);
        if (/^\d+$/.test(a)) {
          if (!(RetryOnStatuses as readonly number[]).includes(status)) throw new KeywordError(`retry-on: unsupported status code '${a}' (${RetryOnStatuses.join(', ')})`);
          out.add(status as RetryOn);
          continue;
        }
        const k = oneOf('retry-on', 'keyword', a, RetryOnKeywords);
        if (k === 'none') {
          if (args.length > 1) throw new KeywordError(`retry-on: 'none' cannot be combined with other keywords`);
        } else if (k === 'all-retryable-errors') {
          for (const r of ['conn-failure', 'empty-response', 'junk-response', 'response-timeout', '0rtt-rejected', 500, 502, 503, 504] as const) out.add(r);
        } else out.add(k);
      }
      px(ctx).settings.retryOn = [...out];
    },
  },
  {
    name: 'option forwardfor',
    sections: PROXIES,
    cap: 'any',
    args: '[except <network>] [header <name>] [if-none]',
    help: "add the client's address in X-Forwarded-For (or <name>) to requests",
    parse(ctx, args) {
      let header = 'x-forwarded-for';
      let ifNone = false;
      let except: { addr: string; prefix: number } | undefined;
      for (let i = 0; i < args.length; i++) {
        const a = args[i] as string;
        if (a === 'if-none') ifNone = true;
        else if (a === 'header') {
          header = validHeaderName("option forwardfor: 'header'", args[++i]).toLowerCase();
        } else if (a === 'except') {
          const v = args[++i];
          const m = v ? /^([0-9.]+)(?:\/(\d{1,2}))?$/.exec(v) : null;
          if (!m || Number(m[2] ?? 32) > 32) throw new KeywordError(`option forwardfor: 'except' expects an IPv4 network (a.b.c.d[/n]), not '${v ?? ''}'`);
          except = { addr: m[1] as string, prefix: Number(m[2] ?? 32) };
        } else throw new KeywordError(`option forwardfor: unknown argument '${a}'${didYouMean(a, ['except', 'header', 'if-none'])}`);
      }
      px(ctx).settings.forwardFor = except ? { header, ifNone, except } : { header, ifNone };
    },
  },
  ...timeoutKeywords,
  {
    name: 'acl',
    sections: NAMED,
    cap: 'any',
    args: '<name> <criterion> [-i] [-m str|beg|end|sub|reg|found] <value>…',
    help: 'a named condition on the request: path, path_beg, path_end, path_sub, path_reg, url*, hdr(<name>), hdr_beg, hdr_end, hdr_sub, hdr_reg, method, src',
    parse(ctx, args) {
      const name = args[0];
      if (name === undefined || !/^[A-Za-z0-9_.:-]+$/.test(name)) throw new KeywordError(`'acl' expects a name (letters, digits, '_', '.', ':', '-')`);
      const def = parseAcl(name, args.slice(1));
      const acls = px(ctx).acls;
      const prev = acls.get(name);
      // as HAProxy: a second line with the same name adds values (OR) when it is the same criterion
      if (prev && (prev.fetch.kind !== def.fetch.kind || prev.match !== def.match)) throw new KeywordError(`acl '${name}' is already defined with another criterion`);
      acls.set(name, prev ? { ...prev, values: [...prev.values, ...def.values] } : def);
    },
  },
  {
    name: 'use_backend',
    sections: NAMED,
    cap: 'fe',
    args: '<backend> if|unless <condition>',
    help: 'send the request to <backend> when the condition holds (first match wins, else default_backend)',
    parse(ctx, args) {
      const p = px(ctx);
      const { words, cond } = splitCondition(args, p.acls);
      if (words.length !== 1) throw new KeywordError(`'use_backend' expects a backend name${words.length > 1 ? `, unexpected '${words[1]}'` : ''}`);
      if (!cond) throw new KeywordError(`'use_backend' expects 'if' or 'unless' and a condition`);
      if (p.settings.mode !== 'http') throw new KeywordError(`'use_backend' with HTTP conditions needs 'mode http'`);
      p.useBackends.push({ backend: words[0] as string, cond, src: src(ctx) });
    },
  },
  ...HTTP_REQUEST_ACTIONS.map((a) => httpRuleKeyword('http-request', a)),
  ...HTTP_RESPONSE_ACTIONS.map((a) => httpRuleKeyword('http-response', a)),
  {
    name: 'errorfile',
    sections: PROXIES,
    cap: 'any',
    args: '<code> <file>',
    help: 'send the HTTP response in <file> (head and body, as written) instead of the built-in answer for <code>',
    parse(ctx, args) {
      arity('errorfile', args, 2);
      const code = parseInteger(args[0], 'errorfile', 200, 599);
      const file = args[1] as string;
      const full = path.isAbsolute(file) ? file : path.resolve(path.dirname(ctx.file), file);
      let text: string;
      try {
        text = fs.readFileSync(full, 'latin1');
      } catch (e) {
        throw new KeywordError(`errorfile: cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (!/^HTTP\/1\.[01] \d{3}/.test(text)) throw new KeywordError(`errorfile: '${file}' does not start with an HTTP/1.x status line`);
      // HAProxy's files often use bare LF: send them as CRLF, as HAProxy's parser normalises them
      const [head = '', ...rest] = text.split(/\r?\n\r?\n/);
      const body = rest.join('\r\n\r\n');
      const lines = head.split(/\r?\n/).filter((l) => !/^content-length:/i.test(l));
      const settings = px(ctx).settings;
      settings.errorfiles = { ...settings.errorfiles, [code]: `${lines.join('\r\n')}\r\ncontent-length: ${Buffer.byteLength(body, 'latin1')}\r\n\r\n${body}` };
    },
  },
];

/** `stats enable|uri|auth|refresh|realm`: HAProxy's HTML statistics page (served by the main thread). */
function statsKeywords(): Keyword[] {
  // a copy each time: a proxy's settings start as a shallow copy of its defaults' (no sharing)
  const page = (ctx: ParseContext): { -readonly [K in keyof StatsPage]: StatsPage[K] } => {
    const s = px(ctx).settings;
    const next = { ...(s.stats ?? { enabled: false, uri: '/haproxy?stats', auth: [], realm: 'HAProxy Statistics' }) };
    s.stats = next;
    return next;
  };
  const kw = (word: string, args: string, help: string, parse: (ctx: ParseContext, a: readonly string[]) => void): Keyword => ({
    name: `stats ${word}`,
    sections: PROXIES,
    cap: 'any',
    args,
    help,
    parse,
  });
  return [
    kw('enable', '', 'serve the HTML statistics page at `stats uri` (the proxy needs no server: the main thread serves it)', (ctx, a) => {
      arity('stats enable', a, 0);
      page(ctx).enabled = true;
    }),
    kw('uri', '<prefix>', 'where the statistics page is (default /haproxy?stats)', (ctx, a) => {
      arity('stats uri', a, 1);
      const p = page(ctx);
      p.enabled = true;
      p.uri = a[0] as string;
    }),
    kw('auth', '<user>:<password>', 'require HTTP basic authentication for the statistics page (repeatable)', (ctx, a) => {
      arity('stats auth', a, 1);
      const v = a[0] as string;
      const i = v.indexOf(':');
      if (i <= 0) throw new KeywordError(`'stats auth' expects <user>:<password>`);
      const p = page(ctx);
      p.enabled = true;
      p.auth = [...p.auth, [v.slice(0, i), v.slice(i + 1)]];
    }),
    kw('refresh', '<delay>', 'the statistics page reloads itself every <delay>', (ctx, a) => {
      arity('stats refresh', a, 1);
      const p = page(ctx);
      p.enabled = true;
      p.refresh = parseDuration(a[0] as string, 'stats refresh');
    }),
    kw('realm', '<realm>', 'the authentication realm of the statistics page', (ctx, a) => {
      arity('stats realm', a, 1);
      const realm = a[0] as string;
      if (/["\\\r\n\0]/.test(realm)) throw new KeywordError(`'stats realm': a realm cannot contain quotes, backslashes or line breaks`);
      page(ctx).realm = realm;
    }),
  ];
}

/** `http-request <action> … [if|unless <condition>]` (and `http-response`). */
function httpRuleKeyword(kind: 'http-request' | 'http-response', action: string): Keyword {
  const argsHelp: Record<string, string> = {
    'set-header': '<name> <value>',
    'add-header': '<name> <value>',
    'del-header': '<name>',
    deny: '[deny_status <code>]',
    return: '[status <code>] [content-type <type>] [string <text> | file <path>] [hdr <name> <value>]…',
    'use-service': 'prometheus-exporter',
  };
  const helps: Record<string, string> = {
    'set-header': 'replace a header field',
    'add-header': 'add a header field',
    'del-header': 'remove every field of that name',
    deny: 'answer 403 (or deny_status) and close',
    return: 'answer directly with a status, a content type and a body, without a server',
    'use-service': "serve the Prometheus metrics (the frontend has no backend: the main thread serves it)",
  };
  return {
    name: `${kind} ${action}`,
    sections: NAMED,
    cap: 'any',
    args: `${argsHelp[action] ?? ''} [if|unless <condition>]`,
    help: `${kind === 'http-request' ? 'request' : 'response'}: ${helps[action] ?? action}`,
    parse(ctx, args) {
      const p = px(ctx);
      if (p.settings.mode !== 'http') throw new KeywordError(`'${kind} ${action}' needs 'mode http'`);
      const { words, cond } = splitCondition(args, p.acls);
      const file = (f: string) => fs.readFileSync(path.isAbsolute(f) ? f : path.resolve(path.dirname(ctx.file), f), 'latin1');
      const rule = { action: parseHttpAction(kind, action, words, file), src: src(ctx) };
      (kind === 'http-request' ? p.httpRequest : p.httpResponse).push(cond ? { ...rule, cond } : rule);
    },
  };
}

/**
 * The configuration keyword table: the parser dispatches from it, `--help` and the docs list it.
 * `sections` says where a keyword may appear at all (elsewhere: an error); `cap` what kind of
 * proxy it means something in (elsewhere: HAProxy's "ignored" warning, or an error if `capFatal`).
 */
export const keywords: readonly Keyword[] = [...globalKeywords, ...proxyKeywords];

/** All keywords with their arguments and help, one per line (for --help and the docs). */
export function helpText(): string {
  const usage = (k: Keyword) => (k.args === '' ? k.name : `${k.name} ${k.args}`);
  const width = Math.min(60, Math.max(...keywords.map((k) => usage(k).length)) + 2);
  const lines = keywords.map((k) => {
    const u = usage(k);
    // a usage longer than the column goes on its own line, the help below it, aligned
    const head = u.length < width ? u.padEnd(width) : `${u}\n  ${''.padEnd(width)}`;
    return `  ${head} ${k.help} [${k.sections.join(', ')}]`;
  });
  return `${lines.join('\n')}\n`;
}
