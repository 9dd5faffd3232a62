/**
 * Health checks, run by the main thread outside the workers' data path. Each checked server gets
 * a timer; a check connects (TCP) or sends an HTTP request (`option httpchk`) and judges the
 * answer (`http-check expect`). Results move HAProxy's health counter, and the server's state in
 * the shared table flips UP/DOWN as HAProxy's does: DOWN below `rise`, UP again after `rise`
 * passes in a row; every worker reads the table, so a DOWN server gets no new session at once.
 */
import net from 'node:net';
import type { BackendConfig, Config, ServerConfig } from '../config/config.types.ts';
import type { ServerTable } from '../shared-state/server-table.ts';
import { ServerOpState, ServerSlot } from '../shared-state/server-table.types.ts';
import type { CheckHooks, CheckResult, CheckState } from './health.types.ts';
import { CheckReason, CheckStatus, passed } from './health.types.ts';

/** The largest answer read from an HTTP check (HAProxy reads one buffer). */
const MAX_CHECK_READ = 16384;

interface Checked {
  readonly id: number;
  readonly be: BackendConfig;
  readonly srv: ServerConfig;
  readonly rise: number;
  readonly fall: number;
  health: number;
  status: CheckStatus;
  code: number | undefined;
  durationMs: number;
  failed: number;
  downs: number;
  downSince: number;
  downTotal: number;
  desc: string;
  timer: NodeJS.Timeout | null;
  socket: net.Socket | null;
  /** `set server addr`: the server's address now (a check `addr`/`port` still wins). */
  host: string;
  port: number;
}

export class HealthChecker {
  private readonly table: ServerTable;
  private readonly hooks: CheckHooks;
  private readonly checked: Checked[] = [];
  private readonly byId = new Map<number, Checked>();
  private stopped = false;
  /** Backends that are `listen` sections (HAProxy calls them proxies in its alerts). */
  private readonly listens: Set<string>;

  constructor(cfg: Config, table: ServerTable, hooks: CheckHooks) {
    this.table = table;
    this.hooks = hooks;
    this.listens = new Set(cfg.frontends.filter((f) => cfg.backends.some((b) => b.name === f.name)).map((f) => f.name));
    let id = 0;
    for (const be of cfg.backends) {
      for (const srv of be.servers) {
        const c = srv.check;
        if (c) {
          // as HAProxy: a checked server starts UP with health `rise` — up, but down at the first failure;
          // a server DOWN in the table (carried over a reload) stays down until `rise` passes
          const health = table.state(id) === ServerOpState.DOWN ? Math.min(table.srv(id, ServerSlot.CHECK_HEALTH), c.rise - 1) : c.rise;
          const state: Checked = { id, be, srv, rise: c.rise, fall: c.fall, health, host: srv.host, port: srv.port, status: CheckStatus.INI, code: undefined, durationMs: -1, failed: 0, downs: 0, downSince: 0, downTotal: 0, desc: CheckReason.INI, timer: null, socket: null };
          this.checked.push(state);
          this.byId.set(id, state);
        }
        id++;
      }
    }
  }

  get count(): number {
    return this.checked.length;
  }

  /** Start the checks, spread over the first interval (HAProxy spreads them the same way). */
  start(): void {
    this.checked.forEach((c, i) => {
      const inter = (c.srv.check as NonNullable<ServerConfig['check']>).inter;
      this.schedule(c, Math.floor((i * inter) / this.checked.length));
    });
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.checked) {
      if (c.timer) clearTimeout(c.timer);
      c.timer = null;
      c.socket?.destroy();
      c.socket = null;
    }
  }

  /** `set server addr`: the next checks go to the new address (unless the check has its own). */
  setAddr(id: number, host: string, port: number): void {
    const c = this.byId.get(id);
    if (c) {
      c.host = host;
      c.port = port;
    }
  }

  /** For `show stat`: the check state of the server with this global id, if it is checked. */
  state(id: number): CheckState | undefined {
    const c = this.byId.get(id);
    if (!c) return undefined;
    const now = Date.now();
    return {
      status: c.status,
      code: c.code,
      durationMs: c.durationMs,
      health: c.health,
      rise: c.rise,
      fall: c.fall,
      failed: c.failed,
      downs: c.downs,
      downtimeSec: Math.floor((c.downTotal + (c.downSince > 0 ? now - c.downSince : 0)) / 1000),
      desc: c.desc,
    };
  }

  private schedule(c: Checked, ms: number): void {
    if (this.stopped) return;
    c.timer = setTimeout(() => {
      c.timer = null;
      this.run(c).catch((e: unknown) => this.hooks.log('ALERT', `health check of ${c.be.name}/${c.srv.name} failed internally: ${(e as Error).message}`));
    }, ms);
  }

  /** The next interval: `inter` when settled, `fastinter` on the way up or down, `downinter` while DOWN. */
  private interval(c: Checked): number {
    const k = c.srv.check as NonNullable<ServerConfig['check']>;
    if (c.health === 0) return k.downinter;
    if (c.health === c.rise + c.fall - 1) return k.inter;
    return k.fastinter;
  }

  private async run(c: Checked): Promise<void> {
    const result = await this.probe(c);
    if (this.stopped) return;
    await this.apply(c, result);
    this.schedule(c, this.interval(c));
  }

  /** One check: connect, send the HTTP request if any, judge the answer. */
  private probe(c: Checked): Promise<CheckResult> {
    const k = c.srv.check as NonNullable<ServerConfig['check']>;
    const t = c.be.settings.timeouts;
    const httpchk = c.be.settings.httpchk;
    // as HAProxy: with `timeout check`, min(timeout connect, inter) to connect and `timeout check`
    // to read; without it, `inter` for the whole check
    const connectMs = t.check !== undefined ? Math.min(t.connect ?? k.inter, k.inter) : k.inter;
    const readMs = t.check ?? k.inter;
    const start = Date.now();
    return new Promise((resolve) => {
      let done = false;
      let connected = false;
      let answer = Buffer.alloc(0);
      const sock = net.connect({ host: k.addr ?? c.host, port: k.port ?? c.port });
      c.socket = sock;
      const finish = (r: Omit<CheckResult, 'durationMs'>): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        c.socket = null;
        resolve({ ...r, durationMs: Date.now() - start });
      };
      let timer = setTimeout(() => finish({ status: connected ? CheckStatus.L7TOUT : CheckStatus.L4TOUT }), connectMs);
      sock.on('error', (e: NodeJS.ErrnoException) => {
        if (!connected) finish({ status: CheckStatus.L4CON, info: errorText(e) });
        else finish({ status: CheckStatus.L7RSP, info: errorText(e) });
      });
      sock.on('connect', () => {
        connected = true;
        if (!httpchk) {
          finish({ status: CheckStatus.L4OK });
          return;
        }
        clearTimeout(timer);
        timer = setTimeout(() => finish({ status: CheckStatus.L7TOUT }), readMs);
        const host = c.host.includes(':') ? `[${c.host}]` : c.host;
        const hostLine = httpchk.version === 'HTTP/1.1' ? `host: ${host}\r\n` : '';
        sock.write(`${httpchk.method} ${httpchk.uri} ${httpchk.version}\r\n${hostLine}connection: close\r\n\r\n`);
      });
      sock.on('data', (d: Buffer) => {
        answer = Buffer.concat([answer, d]);
        const judged = httpchk ? judge(answer, c.be, false) : null;
        if (judged) finish(judged);
        else if (answer.length >= MAX_CHECK_READ) finish(judge(answer, c.be, true) ?? { status: CheckStatus.L7RSP });
      });
      sock.on('end', () => finish(judge(answer, c.be, true) ?? { status: CheckStatus.L7RSP, info: 'connection closed' }));
    });
  }

  /** HAProxy's health counter and the UP/DOWN transitions (check.c: set_server_check_status). */
  private async apply(c: Checked, r: CheckResult): Promise<void> {
    const wasUp = c.health >= c.rise;
    const before = c.health;
    c.status = r.status;
    c.code = r.code;
    c.durationMs = r.durationMs;
    c.desc = describe(r);
    if (passed(r.status)) {
      if (c.health < c.rise + c.fall - 1) {
        c.health++;
        if (c.health >= c.rise) c.health = c.rise + c.fall - 1;
      }
    } else {
      c.failed++;
      if (c.health > 0) {
        c.health--;
        if (c.health < c.rise) c.health = 0;
      }
    }
    this.table.setSrv(c.id, ServerSlot.CHECK_HEALTH, c.health);
    const isUp = c.health >= c.rise;
    if (c.be.settings.logHealthChecks && c.health !== before && wasUp === isUp) {
      this.hooks.log('WARNING', `Health check for ${c.srv.backup ? 'backup ' : ''}server ${c.be.name}/${c.srv.name} ${passed(r.status) ? 'succeeded' : 'failed'}, reason: ${c.desc}, status: ${healthText(c)}.`);
    }
    // the table follows the checks, except under the operator's maintenance (a server leaving
    // maintenance is put right by its next check); DRAIN counts as up
    const admin = this.table.state(c.id);
    if (admin === ServerOpState.MAINT) return;
    if (!isUp && admin !== ServerOpState.DOWN) await this.goDown(c);
    else if (isUp && admin === ServerOpState.DOWN) this.goUp(c);
  }

  private async goDown(c: Checked): Promise<void> {
    c.downs++;
    c.downSince = Date.now();
    this.table.setState(c.id, ServerOpState.DOWN);
    this.table.setSrv(c.id, ServerSlot.CHECK_HEALTH, c.health);
    const requeued = await this.hooks.serverDown(c.id).catch(() => 0);
    const { active, queued } = this.hooks.counts(c.id);
    const left = this.serversLeft(c.be);
    this.hooks.log(
      'WARNING',
      `${c.srv.backup ? 'Backup ' : ''}Server ${c.be.name}/${c.srv.name} is DOWN, reason: ${c.desc}. ${left.active} active and ${left.backup} backup servers left. ${active} sessions active, ${requeued} requeued, ${queued} remaining in queue.`,
    );
    if (left.active + left.backup === 0) this.hooks.log('ALERT', `${this.listens.has(c.be.name) ? 'proxy' : 'backend'} '${c.be.name}' has no server available!`);
  }

  private goUp(c: Checked): void {
    if (c.downSince > 0) c.downTotal += Date.now() - c.downSince;
    c.downSince = 0;
    this.table.setState(c.id, ServerOpState.UP);
    this.table.setSrv(c.id, ServerSlot.CHECK_HEALTH, c.health);
    const { queued } = this.hooks.counts(c.id);
    const left = this.serversLeft(c.be);
    this.hooks.log(
      'WARNING',
      `${c.srv.backup ? 'Backup ' : ''}Server ${c.be.name}/${c.srv.name} is UP, reason: ${c.desc}. ${left.active} active and ${left.backup} backup servers online. 0 sessions requeued, ${queued} total in queue.`,
    );
  }

  private serversLeft(be: BackendConfig): { active: number; backup: number } {
    let id = this.firstId(be);
    let active = 0;
    let backup = 0;
    for (const s of be.servers) {
      const st = this.table.state(id++);
      if (st === ServerOpState.UP || st === ServerOpState.DRAIN) {
        if (s.backup) backup++;
        else active++;
      }
    }
    return { active, backup };
  }

  private firstId(be: BackendConfig): number {
    const c = this.checked.find((x) => x.be === be);
    return c ? c.id - be.servers.indexOf(c.srv) : 0;
  }
}

/** `Layer4 connection problem, info: "Connection refused", check duration: 0ms` (HAProxy's wording). */
function describe(r: CheckResult): string {
  let s = CheckReason[r.status];
  if (r.code !== undefined) s += `, code: ${r.code}`;
  if (r.info !== undefined) s += `, info: "${r.info}"`;
  return `${s}, check duration: ${r.durationMs}ms`;
}

function healthText(c: Checked): string {
  return c.health >= c.rise ? `${c.health - c.rise + 1}/${c.fall} UP` : `${c.health}/${c.rise} DOWN`;
}

function errorText(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'Connection refused';
    case 'ECONNRESET':
      return 'Connection reset by peer';
    case 'EHOSTUNREACH':
      return 'No route to host';
    case 'ENETUNREACH':
      return 'Network is unreachable';
    default:
      return e.message;
  }
}

/**
 * Judge an HTTP check answer: null while more bytes may change the verdict (`complete` false).
 * Default: a 2xx or 3xx status passes; `http-check expect status|rstatus|string` as HAProxy.
 */
function judge(answer: Buffer, be: BackendConfig, complete: boolean): Omit<CheckResult, 'durationMs'> | null {
  const text = answer.toString('latin1');
  const eol = text.indexOf('\r\n');
  if (eol < 0) return complete ? { status: CheckStatus.L7RSP, info: 'incomplete status line' } : null;
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(text.slice(0, eol));
  if (!m) return { status: CheckStatus.L7RSP, info: 'invalid status line' };
  const code = Number(m[1]);
  const reason = m[2] ?? '';
  const expect = be.settings.httpCheckExpect;
  let ok: boolean;
  if (!expect) ok = code >= 200 && code < 400;
  else if (expect.kind === 'status') ok = statusMatches(code, expect.value);
  else if (expect.kind === 'rstatus') ok = new RegExp(expect.value).test(String(code));
  else {
    // the body must be complete to say a string is absent
    const bodyAt = text.indexOf('\r\n\r\n');
    if (bodyAt < 0 || (!complete && !text.slice(bodyAt + 4).includes(expect.value))) return complete ? { status: CheckStatus.L7RSP, code } : null;
    ok = text.slice(bodyAt + 4).includes(expect.value);
  }
  if (expect?.negate) ok = !ok;
  return ok ? { status: CheckStatus.L7OK, code } : { status: CheckStatus.L7STS, code, info: reason };
}

function statusMatches(code: number, spec: string): boolean {
  return spec.split(',').some((part) => {
    const [lo, hi] = part.split('-').map(Number);
    return hi === undefined ? code === lo : code >= (lo as number) && code <= hi;
  });
}
