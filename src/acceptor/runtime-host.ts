import fs from 'node:fs';
import os from 'node:os';
import type { Config } from '../config/config.types.ts';
import { DEFAULT_POOL_PURGE_DELAY } from '../config/config.types.ts';
import type { RuntimeHost, ServerConnRow, ServerHandle, ServerStateRow } from '../runtime-api/runtime-api.types.ts';
import type { CheckState } from '../checks/health.types.ts';
import { CheckReason } from '../checks/health.types.ts';
import type { StatRow } from '../runtime-api/stat.ts';
import type { HttpCounts } from '../shared-state/snapshots.types.ts';
import { BackendSlot, ServerOpState, ServerSlot } from '../shared-state/server-table.types.ts';
import type { Acceptor } from './acceptor.ts';

export const VERSION = '0.1.0';
export const RELEASE_DATE = '2026/11/25';

/** The runtime API's view of the process, backed by the acceptor, its workers and the shared table. */
/** The health state of a checked server by global id (undefined: not checked). */
export type CheckStateOf = (serverId: number) => CheckState | undefined;

export interface RuntimeHostHooks {
  /** The health state of a server of the current generation (its checker changes on reload). */
  readonly checks?: CheckStateOf;
  /** Re-read the configuration files and switch to them (`reload`); resolves with the report. */
  readonly reload?: () => Promise<{ ok: boolean; messages: readonly string[] }>;
  /** `set server addr`: the health check follows the server to its new address. */
  readonly serverAddr?: (serverId: number, host: string, port: number) => void;
}

/**
 * Every answer reads the acceptor's current generation (its config, server table and workers) at
 * the time of the command, so the stats socket reports the new configuration right after a reload.
 */
export function runtimeHost(acc: Acceptor, hooks: RuntimeHostHooks = {}): RuntimeHost {
  let debugCommands = 0;
  const checks: CheckStateOf = (id) => hooks.checks?.(id);
  return {
    node: os.hostname(),
    fdLimit,
    stopping: () => acc.isStopping,
    listeners: () => acc.listeners.length,
    debugCommands: () => debugCommands,
    countDebugCommand: () => {
      debugCommands++;
    },
    clearCounters: (all) => acc.clearCounters(all),
    name: 'switchyard',
    version: VERSION,
    releaseDate: RELEASE_DATE,
    pid: process.pid,
    startedAt: acc.startedAt,
    get nbthread() {
      return acc.gen.threads;
    },
    get maxconn() {
      return acc.cfg.global.maxconn;
    },
    reloads: () => acc.reloads,
    generation: () => acc.gen.id,
    retiringWorkers: () => acc.retiringWorkers,
    reload: async () => {
      if (!hooks.reload) return { ok: false, messages: ['[ALERT] reload is not available in this process'] };
      return hooks.reload();
    },
    currConns: () => acc.live,
    cumConns: () => acc.totalAccepted,
    lostSessions: () => acc.lostSessions,
    workerDeaths: () => acc.workerDeaths,
    heldSockets: () => acc.heldCount,
    workers: () => acc.workerInfo(),
    sessions: () => acc.sessions(),
    shutdownSession: (worker, id) => acc.shutdownSession(worker, id),
    crashWorker: (index) => acc.crashWorker(index),
    statRows: () => statRows(acc, acc.cfg, checks),
    server: (path) => serverHandle(acc, acc.cfg, path, hooks),
    serversConn: (backend) => {
      const cfg = acc.cfg;
      const rows: ServerConnRow[] = [];
      let sid = 0;
      let found = backend === undefined;
      const ids = proxyIds(cfg);
      for (const be of cfg.backends) {
        for (const [si, s] of be.servers.entries()) {
          if (backend === undefined || be.name === backend) {
            found = true;
            rows.push({
              globalId: sid,
              beId: ids.get(`${be.src.file}:${be.src.line}`) ?? 0,
              beName: be.name,
              srvId: si + 1,
              srvName: s.name,
              addr: acc.serverAddr(sid, s.host, s.port).host,
              port: acc.serverAddr(sid, s.host, s.port).port,
              purgeDelay: s.poolPurgeDelay ?? DEFAULT_POOL_PURGE_DELAY,
              usedCur: acc.table.srv(sid, ServerSlot.CUR_CONN),
              usedMax: acc.table.srv(sid, ServerSlot.MAX_CONN_SEEN),
              idleLimit: s.poolMaxConn ?? -1,
            });
          }
          sid++;
        }
      }
      return found ? rows : null;
    },
    serversState: (backend) => {
      const cfg = acc.cfg;
      const rows: ServerStateRow[] = [];
      let sid = 0;
      let found = backend === undefined;
      const ids = proxyIds(cfg);
      const now = Math.floor(Date.now() / 1000);
      for (const be of cfg.backends) {
        for (const [si, s] of be.servers.entries()) {
          if (backend === undefined || be.name === backend) {
            found = true;
            const st = acc.table.state(sid);
            rows.push({
              beId: ids.get(`${be.src.file}:${be.src.line}`) ?? 0,
              beName: be.name,
              srvId: si + 1,
              srvName: s.name,
              srvAddr: acc.serverAddr(sid, s.host, s.port).host,
              opState: st === ServerOpState.UP || st === ServerOpState.DRAIN ? 2 : 0,
              // HAProxy's admin flags: 0x01 forced maintenance, 0x08 forced drain
              adminState: st === ServerOpState.MAINT ? 1 : st === ServerOpState.DRAIN ? 8 : 0,
              uweight: acc.table.srv(sid, ServerSlot.WEIGHT),
              iweight: s.weight,
              timeSinceLastChange: Math.max(0, now - acc.table.srv(sid, ServerSlot.LAST_CHANGE)),
              checkHealth: acc.table.srv(sid, ServerSlot.CHECK_HEALTH),
              port: acc.serverAddr(sid, s.host, s.port).port,
            });
          }
          sid++;
        }
      }
      return found ? rows : null;
    },
  };
}

/** Proxy ids as HAProxy numbers them: declaration order (a `listen` is one proxy), from 2. */
function proxyIds(cfg: Config): Map<string, number> {
  const decl = [...cfg.frontends, ...cfg.backends]
    .map((p) => ({ key: `${p.src.file}:${p.src.line}`, file: cfg.files.indexOf(p.src.file), line: p.src.line }))
    .sort((a, b) => a.file - b.file || a.line - b.line);
  const ids = new Map<string, number>();
  for (const d of decl) if (!ids.has(d.key)) ids.set(d.key, ids.size + 2);
  return ids;
}

/** HAProxy's default `fullconn`: a tenth of the maxconn of the frontends that use the backend. */
function fullconn(cfg: Config, backend: string): number {
  const fes = cfg.frontends.filter((f) => f.defaultBackend === backend);
  return Math.ceil(fes.reduce((n, f) => n + (f.settings.maxconn ?? cfg.global.maxconn), 0) / 10);
}

const SERVER_STATUS: Record<number, string> = { 0: 'no check', 1: 'DOWN', 2: 'MAINT', 3: 'DRAIN' };

/** `req_tot` and `hrsp_*` summed over the workers (HAProxy reports them in `mode http` only). */
function httpCols(mode: string, counts: ReadonlyArray<HttpCounts | undefined>): StatRow {
  if (mode !== 'http') return {};
  const rsp = (n: number): number => counts.reduce((a, c) => a + (c?.rsp[n] ?? 0), 0);
  return {
    req_tot: counts.reduce((a, c) => a + (c?.req ?? 0), 0),
    hrsp_1xx: rsp(1), hrsp_2xx: rsp(2), hrsp_3xx: rsp(3), hrsp_4xx: rsp(4), hrsp_5xx: rsp(5), hrsp_other: rsp(0),
  };
}

/** `show stat`: per proxy, the FRONTEND row, the server rows and the BACKEND row, summed over workers. */
async function statRows(acc: Acceptor, cfg: Config, checks: CheckStateOf): Promise<StatRow[]> {
  const counters = await acc.proxyCounters();
  const sum = (f: (c: (typeof counters)[number]) => number): number => counters.reduce((n, c) => n + f(c), 0);
  const ids = proxyIds(cfg);
  const t = acc.table;
  const lastchg = Math.floor((Date.now() - acc.startedAt) / 1000);
  const rows: StatRow[] = [];
  const byProxy = new Map<number, StatRow[]>();
  const add = (iid: number, r: StatRow) => {
    const list = byProxy.get(iid) ?? [];
    list.push(r);
    byProxy.set(iid, list);
  };
  for (const [i, fe] of cfg.frontends.entries()) {
    const iid = ids.get(`${fe.src.file}:${fe.src.line}`) ?? 0;
    const stot = sum((c) => c.frontends[i]?.total ?? 0);
    add(iid, {
      pxname: fe.name, svname: 'FRONTEND', scur: sum((c) => c.frontends[i]?.cur ?? 0), smax: sum((c) => c.frontends[i]?.max ?? 0),
      slim: fe.settings.maxconn ?? cfg.global.maxconn, stot, bin: sum((c) => c.frontends[i]?.bytesIn ?? 0), bout: sum((c) => c.frontends[i]?.bytesOut ?? 0),
      dreq: sum((c) => c.frontends[i]?.denied ?? 0), dresp: 0, ereq: 0, status: 'OPEN', pid: 1, iid, sid: 0, type: 0, rate: 0, rate_lim: 0, rate_max: 0,
      mode: fe.settings.mode, conn_rate: 0, conn_rate_max: 0, conn_tot: stot,
      // a frontend reports req_tot (0) in mode tcp too
      req_tot: 0, ...httpCols(fe.settings.mode, counters.map((c) => c.frontends[i]?.http)),
    });
  }
  let sid = 0;
  for (const [i, be] of cfg.backends.entries()) {
    const iid = ids.get(`${be.src.file}:${be.src.line}`) ?? 0;
    let weight = 0;
    let act = 0;
    let bck = 0;
    let lbtot = 0;
    let srvQueue = 0;
    for (const [j, s] of be.servers.entries()) {
      const id = sid++;
      const state = t.state(id);
      const w = t.srv(id, ServerSlot.WEIGHT);
      const up = state === ServerOpState.UP;
      if (up && w > 0) {
        if (s.backup) bck++;
        else {
          act++;
          weight += w;
        }
      }
      const total = t.srv(id, ServerSlot.TOTAL);
      const picked = t.srv(id, ServerSlot.LB_TOTAL);
      const chk = checks(id);
      // HAProxy's status column: UP/DOWN, "UP 1/3" or "DOWN 1/2" while going, "no check" unchecked
      let status = SERVER_STATUS[state] ?? 'no check';
      if (chk && state === ServerOpState.UP) status = chk.health < chk.rise + chk.fall - 1 ? `UP ${chk.health - chk.rise + 1}/${chk.fall}` : 'UP';
      else if (chk && state === ServerOpState.DOWN && chk.health > 0) status = `DOWN ${chk.health}/${chk.rise}`;
      const checkCols = chk
        ? {
            chkfail: chk.failed,
            chkdown: chk.downs,
            downtime: chk.downtimeSec,
            check_status: chk.status,
            check_code: chk.code ?? '',
            check_duration: chk.durationMs < 0 ? '' : chk.durationMs,
            // HAProxy's check_desc names the status only (the log line's reason has commas in it)
            check_desc: CheckReason[chk.status],
            check_rise: chk.rise,
            check_fall: chk.fall,
            check_health: chk.health,
          }
        : {};
      lbtot += picked;
      srvQueue += t.srv(id, ServerSlot.QUEUE);
      add(iid, {
        pxname: be.name, svname: s.name, qcur: t.srv(id, ServerSlot.QUEUE), qmax: t.srv(id, ServerSlot.MAX_QUEUE_SEEN),
        scur: t.srv(id, ServerSlot.CUR_CONN), smax: t.srv(id, ServerSlot.MAX_CONN_SEEN), slim: s.maxconn > 0 ? s.maxconn : '', stot: total,
        bin: sum((c) => c.servers[id]?.bytesIn ?? 0), bout: sum((c) => c.servers[id]?.bytesOut ?? 0),
        dresp: 0, econ: t.srv(id, ServerSlot.CONN_ERRORS), eresp: t.srv(id, ServerSlot.RESP_ERRORS), wretr: t.srv(id, ServerSlot.RETRIES), wredis: t.srv(id, ServerSlot.REDISPATCHES),
        ...checkCols, status, weight: w, act: s.backup ? 0 : 1, bck: s.backup ? 1 : 0,
        lastchg: Math.max(0, Math.floor(Date.now() / 1000) - t.srv(id, ServerSlot.LAST_CHANGE)),
        qlimit: s.maxqueue > 0 ? s.maxqueue : '', pid: 1, iid, sid: j + 1, lbtot: picked, type: 2, rate: 0, rate_max: 0,
        cli_abrt: 0, srv_abrt: 0, lastsess: -1, qtime: 0, ctime: 0, rtime: 0, ttime: 0,
        addr: hostPort(acc.serverAddr(id, s.host, s.port)), mode: be.settings.mode, uweight: s.weight,
        ...httpCols(be.settings.mode, counters.map((c) => c.servers[id]?.http)),
      });
    }
    add(iid, {
      pxname: be.name, svname: 'BACKEND', qcur: t.be(i, BackendSlot.QUEUE) + srvQueue, qmax: t.be(i, BackendSlot.MAX_QUEUE_SEEN),
      scur: sum((c) => c.backends[i]?.cur ?? 0), smax: sum((c) => c.backends[i]?.max ?? 0), slim: fullconn(cfg, be.name),
      stot: sum((c) => c.backends[i]?.total ?? 0), bin: sum((c) => c.backends[i]?.bytesIn ?? 0), bout: sum((c) => c.backends[i]?.bytesOut ?? 0),
      dreq: 0, dresp: 0, econ: t.be(i, BackendSlot.CONN_ERRORS), eresp: t.be(i, BackendSlot.RESP_ERRORS), wretr: t.be(i, BackendSlot.RETRIES), wredis: t.be(i, BackendSlot.REDISPATCHES),
      status: act + bck > 0 ? 'UP' : 'DOWN', weight, act, bck,
      chkdown: 0, lastchg, downtime: 0, pid: 1, iid, sid: 0, lbtot, type: 1, rate: 0, rate_max: 0,
      cli_abrt: 0, srv_abrt: 0, lastsess: -1, qtime: 0, ctime: 0, rtime: 0, ttime: 0, mode: be.settings.mode, algo: be.settings.balance,
      ...httpCols(be.settings.mode, counters.map((c) => c.backends[i]?.http)),
    });
  }
  for (const iid of [...byProxy.keys()].sort((a, b) => a - b)) rows.push(...(byProxy.get(iid) ?? []));
  return rows;
}

const STATE_OF: Record<number, 'ready' | 'down' | 'maint' | 'drain'> = { 0: 'ready', 1: 'down', 2: 'maint', 3: 'drain' };
const OP_STATE = { ready: ServerOpState.UP, drain: ServerOpState.DRAIN, maint: ServerOpState.MAINT } as const;

/** `backend/server` → a handle on its shared-table slots; HAProxy's messages when it does not exist. */
function serverHandle(acc: Acceptor, cfg: Config, path: string, hooks: RuntimeHostHooks): ServerHandle | string {
  const slash = path.indexOf('/');
  if (slash <= 0) return 'Require \'backend/server\'.\n';
  const beName = path.slice(0, slash);
  const srvName = path.slice(slash + 1);
  let sid = 0;
  for (const be of cfg.backends) {
    if (be.name !== beName) {
      sid += be.servers.length;
      continue;
    }
    const j = be.servers.findIndex((s) => s.name === srvName);
    if (j < 0) return 'No such server.\n';
    const id = sid + j;
    const t = acc.table;
    return {
      initialWeight: be.servers[j]?.weight ?? 0,
      state: () => STATE_OF[t.state(id)] ?? 'ready',
      setState: (s) => {
        t.setState(id, OP_STATE[s]);
        // as HAProxy: a server in maintenance keeps no idle connection (none is handed out meanwhile:
        // a worker checks the server before reusing one)
        if (s === 'maint') acc.serverDown(id).catch(() => undefined);
      },
      weight: () => t.srv(id, ServerSlot.WEIGHT),
      setWeight: (w) => t.setSrv(id, ServerSlot.WEIGHT, w),
      setMaxconn: (n) => t.setSrv(id, ServerSlot.MAXCONN, n),
      address: () => acc.serverAddr(id, be.servers[j]?.host ?? '', be.servers[j]?.port ?? 0),
      setAddress: async (host, port) => {
        await acc.setServerAddr(id, host, port);
        hooks.serverAddr?.(id, host, port);
      },
    };
  }
  return 'No such backend.\n';
}

/** The soft limit on open files, from /proc (HAProxy's Ulimit-n); 0 where it cannot be read. */
function fdLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const hostPort = (a: { host: string; port: number }): string => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
