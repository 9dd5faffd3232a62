/** A worker runtime on the fake network and virtual clock, configured from inline HAProxy text. */
import { parseConfig } from '../../src/config/parse.ts';
import { initTable } from '../../src/core/backend.ts';
import { Scheduler } from '../../src/core/scheduler.ts';
import type { Session } from '../../src/core/session.ts';
import { WorkerRuntime } from '../../src/core/worker-runtime.ts';
import { formatTcpLog } from '../../src/log/format.ts';
import { ServerTable } from '../../src/shared-state/server-table.ts';
import { clientTransport, FakeNetwork, type FakeTransport, VirtualClock } from './fake-net.ts';

export interface CoreHarness {
  rt: WorkerRuntime;
  clock: VirtualClock;
  net: FakeNetwork;
  table: ServerTable;
  logs: string[];
  /** Accept a client on frontend `fe` (index); returns its transport and session. */
  client(fe?: number, ip?: string): { t: FakeTransport; s: Session };
}

export function coreHarness(cfgText: string, opts: { table?: ServerTable; random?: () => number } = {}): CoreHarness {
  const cfg = parseConfig([{ name: 'test.cfg', text: cfgText }]);
  const servers = cfg.backends.reduce((n, b) => n + b.servers.length, 0);
  const table = opts.table ?? ServerTable.create(servers, cfg.backends.length);
  if (!opts.table) initTable(cfg, table);
  const clock = new VirtualClock();
  const net = new FakeNetwork();
  const logs: string[] = [];
  let seed = 42;
  const rt = new WorkerRuntime({
    workerId: 0,
    config: cfg,
    table,
    sched: new Scheduler(clock),
    net,
    wallClock: () => Date.UTC(2026, 10, 25, 6, 0, 0),
    random: opts.random ?? (() => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)),
    log: (f) => logs.push(formatTcpLog(f)),
    onSessionClosed: () => {},
  });
  return {
    rt,
    clock,
    net,
    table,
    logs,
    client(fe = 0, ip = '127.0.0.1') {
      const t = clientTransport(ip);
      const s = rt.accept(t, fe);
      if (!s) throw new Error('no session');
      return { t, s };
    },
  };
}

/** The termination state in a tcplog line (`... 212 -- 0/0/0/0/0 0/0`). */
export function terminationOf(line: string | undefined): string {
  const m = / \d+ (\S\S) \d+\/\d+\/\d+\/\d+\/\+?\d+ \d+\/\d+$/.exec(line ?? '');
  return m?.[1] ?? `(no termination in ${JSON.stringify(line)})`;
}

/**
 * The HTTP setup most core tests start from: frontend `fe` in front of backend `app`, one server
 * (10.0.0.1:80). Lines given are added to the defaults, the frontend or the backend (indented).
 */
export function httpConfig(add: { defaults?: string; frontend?: string; backend?: string } = {}): string {
  const lines = (s: string | undefined): string => (s ? `${s.replace(/^(?! {4})/gm, '    ')}\n` : '');
  return `
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
${lines(add.defaults)}frontend fe
    bind 127.0.0.1:8000
${lines(add.frontend)}    default_backend app
backend app
${lines(add.backend)}    server s1 10.0.0.1:80
`;
}

/** A GET for `path`, as a client sends it. */
export const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nhost: a\r\n\r\n`;
/** A 200 answer with `body`, as a server sends it. */
export const OK = (body: string): string => `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
