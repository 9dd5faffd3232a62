import { isIPv4, isIPv6 } from 'node:net';
import { suggest } from '../config/suggest.ts';
import type { CliContext, CliKeyword, Level, RuntimeHost, ServerHandle } from './runtime-api.types.ts';
import { Levels } from './runtime-api.types.ts';
import { humanTime, uptime } from './format.ts';
import { renderStatCsv } from './stat.ts';
import { formatAcceptDate } from '../log/format.ts';
import type { SessionSnapshot, SideDetail } from '../shared-state/snapshots.types.ts';
import { BUFSIZE } from '../core/buffer-budget.types.ts';
import { renderInfoJson, renderInfoTyped, renderStatJson, renderStatTyped } from './typed.ts';
import type { StatFormat } from './typed.types.ts';

const atLeast = (have: Level, need: Level): boolean => Levels.indexOf(have) >= Levels.indexOf(need);

/** `show info`: HAProxy 2.6's fields, in its order (counters switchyard does not keep are 0), then
 * switchyard's own: actor epochs, supervision, and one group of lines per worker. */
async function infoLines(h: RuntimeHost): Promise<Array<[string, string | number]>> {
  const workers = await h.workers();
  const sum = (f: (w: (typeof workers)[number]) => number): number => workers.reduce((a, w) => a + f(w), 0);
  const up = Date.now() - h.startedAt;
  const cur = sum((w) => w.sessionsLive);
  const cum = Math.max(h.cumConns(), sum((w) => w.handoffs));
  const limit = h.fdLimit();
  const bufUsed = sum((w) => w.buffers.used) * BUFSIZE;
  const bufMax = sum((w) => w.buffers.max) * BUFSIZE;
  const lines: Array<[string, string | number]> = [
    ['Name', h.name],
    ['Version', h.version],
    ['Release_date', h.releaseDate],
    ['Nbthread', h.nbthread],
    ['Nbproc', 1],
    ['Process_num', 1],
    ['Pid', h.pid],
    ['Uptime', uptime(up)],
    ['Uptime_sec', Math.floor(up / 1000)],
    // the stream buffers of tune.buffers.limit, counted as HAProxy's pools count them (bufsize each)
    ['Memmax_MB', 0],
    ['PoolAlloc_MB', Math.floor(bufMax / 1048576)],
    ['PoolUsed_MB', Math.floor(bufUsed / 1048576)],
    ['PoolFailed', sum((w) => w.buffers.failed)],
    ['Ulimit-n', limit],
    ['Maxsock', limit],
    ['Maxconn', h.maxconn],
    ['Hard_maxconn', h.maxconn],
    ['CurrConns', cur],
    ['CumConns', cum],
    ['CumReq', cum],
  ];
  for (const k of ['MaxSslConns', 'CurrSslConns', 'CumSslConns', 'Maxpipes', 'PipesUsed', 'PipesFree', 'ConnRate', 'ConnRateLimit', 'MaxConnRate', 'SessRate', 'SessRateLimit', 'MaxSessRate', 'SslRate', 'SslRateLimit', 'MaxSslRate', 'SslFrontendKeyRate', 'SslFrontendMaxKeyRate', 'SslFrontendSessionReuse_pct', 'SslBackendKeyRate', 'SslBackendMaxKeyRate', 'SslCacheLookups', 'SslCacheMisses', 'CompressBpsIn', 'CompressBpsOut', 'CompressBpsRateLim']) {
    lines.push([k, 0]);
  }
  lines.push(
    ['Tasks', cur + sum((w) => w.timers)],
    ['Run_queue', 0],
    ['Idle_pct', 100],
    ['node', h.node],
    ['Stopping', h.stopping() ? 1 : 0],
    ['Jobs', cur + h.listeners()],
    ['Unstoppable Jobs', 0],
    ['Listeners', h.listeners()],
    ['ActivePeers', 0],
    ['ConnectedPeers', 0],
    ['DroppedLogs', sum((w) => w.droppedLogs)],
    ['BusyPolling', 0],
    ['FailedResolutions', 0],
    ['TotalBytesOut', sum((w) => w.bytesOut)],
    ['TotalSplicdedBytesOut', 0],
    ['BytesOutRate', 0],
    ['DebugCommandsIssued', h.debugCommands()],
    ['CumRecvLogs', 0],
    ['Build info', h.version],
    ['Memmax_bytes', 0],
    ['PoolAlloc_bytes', bufMax],
    ['PoolUsed_bytes', bufUsed],
    ['Start_time_sec', Math.floor(h.startedAt / 1000)],
    ['Tainted', 0],
    // switchyard's own
    ['Stale_events', sum((w) => w.staleEvents)],
    ['Stale_commands', sum((w) => w.staleCommands)],
    ['Connect_errors', sum((w) => w.connectErrors)],
    ['Retries', sum((w) => w.retries)],
    ['Redispatches', sum((w) => w.redispatches)],
    ['Lost_sessions', h.lostSessions()],
    ['Worker_restarts', h.workerDeaths()],
    ['Held_sockets', h.heldSockets()],
    ['Reloads', h.reloads()],
    ['Generation', h.generation()],
    ['Retiring_workers', h.retiringWorkers()],
  );
  for (const w of workers) {
    lines.push([`Worker_${w.workerId}_sessions`, w.sessionsLive]);
    lines.push([`Worker_${w.workerId}_cum_sessions`, w.sessionsTotal]);
    lines.push([`Worker_${w.workerId}_handoffs`, w.handoffs]);
    lines.push([`Worker_${w.workerId}_stale_events`, w.staleEvents]);
    lines.push([`Worker_${w.workerId}_conns`, w.connsOpen]);
    lines.push([`Worker_${w.workerId}_timers`, w.timers]);
    lines.push([`Worker_${w.workerId}_idle_conns`, w.pool.idle]);
    lines.push([`Worker_${w.workerId}_heap_used_mb`, w.heapUsedMb]);
  }
  return lines;
}

/**
 * The format words of `show stat` and `show info` as HAProxy 2.6 reads them: anywhere among the
 * arguments, the last one wins, and a word it does not know is ignored (HAProxy answers those
 * commands whatever follows them).
 */
function formatOf(args: readonly string[]): StatFormat {
  let format: StatFormat = 'csv';
  for (const a of args) if (a === 'typed' || a === 'json') format = a;
  return format;
}

async function showInfo(h: RuntimeHost, args: readonly string[]): Promise<string> {
  const lines = await infoLines(h);
  const format = formatOf(args);
  if (format === 'typed') return renderInfoTyped(lines);
  if (format === 'json') return renderInfoJson(lines);
  return lines.map(([k, v]) => `${k}: ${v}\n`).join('');
}

/** `show stat` row types selected by the `<type>` bits of a scope. */
const STAT_TYPE_BITS: Readonly<Record<number, number>> = { 0: 1, 1: 2, 2: 4 };

/**
 * `show stat [{<px>|<iid>} <type> <sid>] [typed|json]`. As HAProxy 2.6: a scope is three words
 * (a proxy name or id — an unknown name is an error, an unknown id selects nothing —, the sum of
 * 1 frontends, 2 backends, 4 servers, -1 all, and a server id or -1); format words follow it.
 */
async function showStat(h: RuntimeHost, args: readonly string[]): Promise<string> {
  let rows = await h.statRows();
  let rest = args;
  const [px, type, sid] = args;
  if (px !== undefined && type !== undefined && sid !== undefined) {
    const byName = rows.find((r) => r.pxname === px);
    const iid = byName ? Number(byName.iid) : Number.parseInt(px, 10) || 0;
    if (iid === 0) return 'No such proxy.\n';
    const bits = Number.parseInt(type, 10) || 0;
    const server = Number.parseInt(sid, 10) || 0;
    rows = rows.filter(
      (r) => Number(r.iid) === iid && ((STAT_TYPE_BITS[Number(r.type)] ?? 0) & bits) !== 0 && (server === -1 || Number(r.type) !== 2 || Number(r.sid) === server),
    );
    rest = args.slice(3);
  }
  const format = formatOf(rest);
  if (format === 'typed') return renderStatTyped(rows);
  if (format === 'json') return renderStatJson(rows);
  return renderStatCsv(rows);
}

/** `show activity` in HAProxy's shape: `name: total [ per-worker … ]`. */
async function showActivity(h: RuntimeHost): Promise<string> {
  const workers = await h.workers();
  const line = (name: string, f: (w: (typeof workers)[number]) => number) =>
    `${name}: ${workers.reduce((n, w) => n + f(w), 0)} [ ${workers.map(f).join(' ')} ]\n`;
  return (
    `thread_id: main (workers ${workers[0]?.workerId ?? 0}..${workers.at(-1)?.workerId ?? -1})\n` +
    `date_now: ${(Date.now() / 1000).toFixed(6)}\n` +
    line('loops', (w) => w.loops) +
    line('tasksw', (w) => w.tasks) +
    line('accepted', (w) => w.handoffs) +
    line('sessions', (w) => w.sessionsLive) +
    line('conns', (w) => w.connsOpen) +
    line('timers', (w) => w.timers) +
    line('idle_conns', (w) => w.pool.idle) +
    line('stale_events', (w) => w.staleEvents) +
    line('stale_commands', (w) => w.staleCommands) +
    line('internal_errors', (w) => w.internalErrors) +
    line('dropped_logs', (w) => w.droppedLogs)
  );
}

/**
 * What `show sess` prints as a session's pointer: its worker in the high bits, its id (ids are per
 * worker, up to 2^32) in the low 32; the CLI's own sessions take the worker slot 0xffff.
 */
const PTR_SPLIT = 2 ** 32;
const CLI_SLOT = 0xffff;
const sessPointer = (s: { readonly worker: number; readonly id: number }): number => s.worker * PTR_SPLIT + (s.id % PTR_SPLIT);
const cliPointer = (ctx: CliContext): number => CLI_SLOT * PTR_SPLIT + ctx.selfId;

/** A session pointer as HAProxy reads one (`strtoul(…, 0)`): `0x` hex, or decimal; null otherwise. */
function parsePointer(arg: string | undefined): number | null {
  if (arg === undefined) return null;
  const n = /^0x[0-9a-f]+$/i.test(arg) ? Number.parseInt(arg.slice(2), 16) : /^\d+$/.test(arg) ? Number(arg) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}
const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
const exp = (ms: number): string => (ms < 0 ? '<NEVER>' : humanTime(ms));

/**
 * `show sess`: one line per live session of every worker, and the CLI's own session;
 * `show sess all`: every session in full; `show sess <id>`: that one (HAProxy's arguments: the
 * pointer `show sess` prints, `0x` hex or decimal; another word lists them all, as HAProxy does).
 */
async function showSess(ctx: CliContext, arg: string | undefined): Promise<string> {
  const sessions = await ctx.host.sessions();
  if (arg === 'all') return `${sessions.map(sessBlock).join('')}${selfBlock(ctx)}`;
  const target = parsePointer(arg);
  if (target !== null) {
    if (target === cliPointer(ctx)) return selfBlock(ctx);
    const s = sessions.find((x) => sessPointer(x) === target);
    return s ? sessBlock(s) : 'Session not found.\n';
  }
  let out = '';
  for (const s of sessions) {
    out +=
      `${hex(sessPointer(s))}: proto=${s.proto} src=${s.src} fe=${s.fe} be=${s.be} srv=${s.srv}` +
      ` ts=00 age=${humanTime(s.ageMs)} calls=${s.calls} thr=${s.worker}` +
      ` rq[i=${s.reqBytes}] rp[i=${s.resBytes}] s0=[${s.s0}] s1=[${s.s1}]` +
      (s.http ? ` http=[req=${s.http.rx} rsp=${s.http.tx} done=${s.http.requests}]` : '') +
      ` exp=${s.expMs < 0 ? '' : humanTime(s.expMs)}\n`;
  }
  out +=
    `${hex(cliPointer(ctx))}: proto=unix_stream src=${ctx.selfSrc} fe=GLOBAL be=<NONE> srv=<none>` +
    ` ts=00 age=${humanTime(ctx.selfAgeMs)} calls=1 thr=main rq[i=0] rp[i=0] s0=[EST] s1=[EST] exp=\n`;
  return out;
}

/** One session in full, in the shape of HAProxy's `show sess <id>`, with switchyard's actors. */
function sessBlock(s: SessionSnapshot): string {
  const d = s.detail;
  const side = (name: string, x: SideDetail): string => {
    const c = x.conn;
    const conn = c
      ? `conn=#${c.id} state=${c.state} epoch=${c.epoch} owner_epoch=${x.ownerEpoch} paused=${c.paused ? 1 : 0} read_ended=${c.readEnded ? 1 : 0} write_shut=${c.writeShut ? 1 : 0}`
      : 'conn=<NONE>';
    return `  ${name}: ${conn} held=${x.held ? 1 : 0} exp=${exp(x.timerMs)}\n`;
  };
  return (
    `${hex(sessPointer(s))}: [${formatAcceptDate(d.acceptDate)}] id=${s.id} proto=${s.proto} source=${s.src}\n` +
    `  worker=${s.worker} age=${humanTime(s.ageMs)} calls=${s.calls} exp=${exp(s.expMs)}\n` +
    `  frontend=${s.fe} (mode=${d.mode}) addr=${d.dst}\n` +
    `  backend=${s.be} server=${s.srv} addr=${d.srvAddr} endpoint=${s.s1} attempts=${d.attempts} retries_left=${d.retriesLeft} conn_exp=${exp(d.queueExpMs)}\n` +
    (s.http ? `  txn: req=${s.http.rx} rsp=${s.http.tx} done=${s.http.requests}\n` : '') +
    side('scf', d.client) +
    side('scb', d.server) +
    `  req: total=${d.bytesFromClient} forwarded=${s.reqBytes}  res: forwarded=${s.resBytes}  buffers=${d.buffers}\n\n`
  );
}

function selfBlock(ctx: CliContext): string {
  return (
    `${hex(cliPointer(ctx))}: id=${ctx.selfId} proto=unix_stream source=${ctx.selfSrc}\n` +
    `  worker=main age=${humanTime(ctx.selfAgeMs)} calls=1\n  frontend=GLOBAL backend=<NONE> server=<NONE> applet=<CLI>\n\n`
  );
}

function showServersState(h: RuntimeHost, be: string | undefined): string {
  const rows = h.serversState(be);
  if (!rows) return `Can't find backend.\n`;
  let out =
    '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n';
  for (const r of rows) {
    out += `${r.beId} ${r.beName} ${r.srvId} ${r.srvName} ${r.srvAddr} ${r.opState} ${r.adminState} ${r.uweight} ${r.iweight} ${r.timeSinceLastChange} 1 0 ${r.checkHealth} 0 0 0 0 - ${r.port} - 0 0 - - 0\n`;
  }
  return out;
}

/**
 * `show servers conn [<backend>]`: HAProxy 2.6's table of server connections — slots in use
 * (requests in flight, all workers), and idle connections, proven ("safe") or not, per worker.
 */
async function showServersConn(h: RuntimeHost, be: string | undefined): Promise<string> {
  const rows = h.serversConn(be);
  if (!rows) return `Can't find backend.\n`;
  const workers = await h.workers();
  let out = `# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[${workers.length}]\n`;
  for (const r of rows) {
    const per = workers.map((w) => w.pool.byServer[r.globalId] ?? [0, 0]);
    const unsafe = per.reduce((n, [u]) => n + u, 0);
    const safe = per.reduce((n, [, sf]) => n + sf, 0);
    out += `${r.beName}/${r.srvName} ${r.beId}/${r.srvId} ${r.addr} ${r.port} - ${r.purgeDelay} ${r.usedCur} ${r.usedMax} 0 ${unsafe} ${safe} ${r.idleLimit} ${unsafe + safe} ${per.map(([u, sf]) => u + sf).join(' ')}\n`;
  }
  return out;
}

/**
 * `show pools`: switchyard's connection pools (HAProxy's command lists memory pools, which a
 * Node process does not have; the idle connection pools are what an operator looks for here).
 */
async function showPools(h: RuntimeHost): Promise<string> {
  const workers = await h.workers();
  let out = 'Idle server connection pools (one per worker):\n';
  for (const w of workers) {
    const p = w.pool;
    out += `  - worker ${w.workerId}: idle=${p.idle} parked=${p.parked} reused=${p.reused} closed_by_server=${p.closedByServer} purged=${p.purged} refused=${p.refused}\n`;
  }
  out += `Stream buffers (tune.buffers.limit, ${BUFSIZE} bytes each, one per direction of a stream):\n`;
  for (const w of workers) {
    const b = w.buffers;
    out += `  - worker ${w.workerId}: used=${b.used} max=${b.max} limit=${b.limit === 0 ? 'none' : b.limit} reserve=${b.reserve} refused=${b.failed}\n`;
  }
  const total = (f: (w: (typeof workers)[number]) => number) => workers.reduce((n, w) => n + f(w), 0);
  out += `Total: ${workers.length} pools, ${total((w) => w.pool.idle)} idle connections, ${total((w) => w.pool.reused)} reuses.\n`;
  return out;
}

/** `set server B/S addr IP [port P]`, answered in HAProxy's words. */
async function setAddr(ctx: CliContext, path: string | undefined, args: readonly string[]): Promise<string> {
  if (!path) return 'Require \'backend/server\'.\n';
  const s = ctx.host.server(path);
  if (typeof s === 'string') return s;
  const [ip, portWord, portValue] = args;
  if (!ip || !(isIPv4(ip) || isIPv6(ip))) return 'set server <b>/<s> addr requires an address and optionally a port.\n';
  let port = s.address().port;
  if (portWord !== undefined) {
    if (portWord !== 'port' || !portValue || !/^\d{1,5}$/.test(portValue) || Number(portValue) < 1 || Number(portValue) > 65535) return "'set server <srv> addr' expects '<addr> [port <port>]'.\n";
    port = Number(portValue);
  }
  const before = s.address();
  await s.setAddress(ip, port);
  const what = [before.host === ip ? 'no need to change the addr' : `IP changed from '${before.host}' to '${ip}'`];
  if (portWord !== undefined) what.push(before.port === port ? 'no need to change the port' : `port changed from '${before.port}' to '${port}'`);
  return `${what.join(', ')} by 'stats socket command'\n`;
}

function withServer(ctx: CliContext, path: string | undefined, fn: (s: ServerHandle) => string): string {
  if (!path) return 'Require \'backend/server\'.\n';
  const s = ctx.host.server(path);
  if (typeof s === 'string') return s;
  return fn(s);
}

function setState(s: ServerHandle, state: 'ready' | 'drain' | 'maint'): string {
  s.setState(state);
  return '';
}

/** `<n>` (0..256) or `<n>%` of the initial weight, as HAProxy accepts them. */
function setWeight(s: ServerHandle, value: string | undefined): string {
  const m = /^(\d+)(%?)$/.exec(value ?? '');
  if (!m) return 'Require <weight> or <weight%>.\n';
  const n = Number(m[1]);
  const w = m[2] ? Math.floor((s.initialWeight * n) / 100) : n; // integer maths, as HAProxy
  if (w > 256) return 'Absolute weight can only be between 0 and 256 inclusive.\n';
  s.setWeight(w);
  return '';
}

/** The runtime API keyword table: `help` and dispatch both read it. */
export const cliKeywords: readonly CliKeyword[] = [
  { words: ['help'], args: '', help: 'list the commands and what they do', level: 'user', run: (ctx) => helpText(ctx.level) },
  {
    words: ['prompt'],
    args: '',
    help: 'toggle interactive mode with a prompt',
    level: 'user',
    run: (ctx) => {
      ctx.interactive = !ctx.interactive;
      return '';
    },
  },
  {
    words: ['quit'],
    args: '',
    help: 'disconnect',
    level: 'user',
    run: (ctx) => {
      ctx.quit = true;
      return '';
    },
  },
  {
    words: ['show', 'info'],
    args: '[typed|json]',
    help: "report information about the running process (typed, json: HAProxy's typed formats)",
    level: 'user',
    run: (ctx, args) => showInfo(ctx.host, args),
  },
  {
    words: ['show', 'sess'],
    args: '[<id>|all]',
    help: 'report the list of current sessions, or all of them in full, or one',
    level: 'operator',
    run: (ctx, args) => showSess(ctx, args[0]),
  },
  {
    words: ['show', 'stat'],
    args: '[{<px>|<iid>} <type> <sid>] [typed|json]',
    help: "report counters for each proxy and server (HAProxy's CSV; typed, json: its typed formats)",
    level: 'user',
    run: (ctx, args) => showStat(ctx.host, args),
  },
  {
    words: ['show', 'servers', 'state'],
    args: '[<backend>]',
    help: "dump volatile server information (all or for a single backend)",
    level: 'user',
    run: (ctx, args) => showServersState(ctx.host, args[0]),
  },
  {
    words: ['show', 'servers', 'conn'],
    args: '[<backend>]',
    help: 'dump server connections: slots in use, idle connections per worker',
    level: 'user',
    run: (ctx, args) => showServersConn(ctx.host, args[0]),
  },
  { words: ['show', 'pools'], args: '', help: 'report the idle connection pools of the workers', level: 'user', run: (ctx) => showPools(ctx.host) },
  {
    words: ['shutdown', 'session'],
    args: '<id>',
    help: 'kill a specific session',
    level: 'admin',
    run: async (ctx, args) => {
      const ptr = parsePointer(args[0]);
      if (ptr === null) return 'Session pointer expected (use \'show sess\').\n';
      const worker = Math.floor(ptr / PTR_SPLIT);
      if (ptr === cliPointer(ctx)) {
        ctx.quit = true; // this very CLI session (the only one show sess lists): it ends after the answer
        return '';
      }
      if (worker === CLI_SLOT) return 'No such session (use \'show sess\').\n';
      return (await ctx.host.shutdownSession(worker, ptr % PTR_SPLIT)) ? '' : 'No such session (use \'show sess\').\n';
    },
  },
  {
    words: ['disable', 'server'],
    args: '<bk>/<srv>',
    help: 'put the server in maintenance: no new session goes to it',
    level: 'admin',
    run: (ctx, args) => withServer(ctx, args[0], (s) => setState(s, 'maint')),
  },
  {
    words: ['enable', 'server'],
    args: '<bk>/<srv>',
    help: 'take the server out of maintenance',
    level: 'admin',
    run: (ctx, args) => withServer(ctx, args[0], (s) => setState(s, 'ready')),
  },
  {
    words: ['set', 'server'],
    args: '<bk>/<srv> state ready|drain|maint | weight <n>[%] | addr <ip> [port <port>]',
    help: 'change a server\'s administrative state, its weight or its address',
    level: 'admin',
    run: (ctx, args) =>
      args[1] === 'addr'
        ? setAddr(ctx, args[0], args.slice(2))
        : withServer(ctx, args[0], (s) => {
        const [what, value] = [args[1], args[2]];
        if (what === 'state') {
          if (value !== 'ready' && value !== 'drain' && value !== 'maint') return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n";
          return setState(s, value);
        }
        if (what === 'weight') return setWeight(s, value);
        return "'set server <srv>' only supports 'state' and 'weight'.\n";
      }),
  },
  {
    words: ['set', 'weight'],
    args: '<bk>/<srv> <n>[%]',
    help: 'change a server\'s weight (same as set server … weight)',
    level: 'admin',
    run: (ctx, args) => withServer(ctx, args[0], (s) => setWeight(s, args[1])),
  },
  {
    words: ['set', 'maxconn', 'server'],
    args: '<bk>/<srv> <n>',
    help: "change a server's maxconn (0: unlimited); every worker applies it at once",
    level: 'admin',
    run: (ctx, args) =>
      withServer(ctx, args[0], (s) => {
        const v = args[1] ?? '';
        if (!/^\d+$/.test(v)) return 'Integer value expected.\n';
        s.setMaxconn(Number(v));
        return '';
      }),
  },
  {
    words: ['clear', 'counters'],
    args: '[all]',
    help: 'clear the max values of the counters (all: every counter)',
    level: 'operator',
    run: async (ctx, args) => {
      const all = args[0] === 'all';
      if (all && ctx.level !== 'admin') return 'Permission denied\n';
      await ctx.host.clearCounters(all);
      return '';
    },
  },
  {
    words: ['show', 'activity'],
    args: '',
    help: 'per worker: loop wake-ups, handoffs, deferred tasks, stale events and commands dropped',
    level: 'user',
    run: async (ctx) => showActivity(ctx.host),
  },
  {
    words: ['get', 'weight'],
    args: '<bk>/<srv>',
    help: 'report a server\'s current and initial weight',
    level: 'user',
    run: (ctx, args) => withServer(ctx, args[0], (s) => `${s.weight()} (initial ${s.initialWeight})\n`),
  },
  {
    words: ['reload'],
    args: '',
    help: 'reload the configuration files: new sessions go to new workers, the old ones finish theirs',
    level: 'admin',
    run: async (ctx) => {
      // HAProxy's master CLI answers `reload` the same way: Success=1|0, then the start-up messages
      const r = await ctx.host.reload();
      return `Success=${r.ok ? 1 : 0}\n--\n${r.messages.map((m) => `${m}\n`).join('')}`;
    },
  },
  {
    words: ['debug', 'dev', 'crash-worker'],
    args: '<n>',
    help: 'make worker <n> throw an uncaught exception (tests the supervisor; as HAProxy\'s debug dev)',
    level: 'admin',
    run: async (ctx, args) => {
      const n = Number(args[0]);
      if (!Number.isInteger(n)) return 'Worker number expected.\n';
      ctx.host.countDebugCommand();
      return (await ctx.host.crashWorker(n)) ? '' : 'No such worker.\n';
    },
  },
];

export function helpText(level: Level): string {
  let out = 'The following commands are valid at this level:\n';
  for (const k of cliKeywords) {
    if (!atLeast(level, k.level)) continue;
    const name = `${k.words.join(' ')}${k.args ? ` ${k.args}` : ''}`;
    out += `  ${name.padEnd(40)}: ${k.help}\n`;
  }
  return out;
}

/** Split a line into words, find the longest keyword that matches, run it. */
export async function runCommand(ctx: CliContext, line: string): Promise<string> {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '';
  let best: CliKeyword | undefined;
  for (const k of cliKeywords) {
    if (k.words.length <= words.length && k.words.every((w, i) => w === words[i])) {
      if (!best || k.words.length > best.words.length) best = k;
    }
  }
  if (!best) {
    const names = cliKeywords.map((k) => k.words.join(' '));
    const guess = suggest(words.slice(0, 3).join(' '), names) ?? suggest(words.slice(0, 2).join(' '), names);
    return `Unknown command: '${words.join(' ')}'${guess ? ` (did you mean '${guess}'?)` : ''}\n${helpText(ctx.level)}`;
  }
  if (!atLeast(ctx.level, best.level)) return 'Permission denied\n';
  return best.run(ctx, words.slice(best.words.length));
}
