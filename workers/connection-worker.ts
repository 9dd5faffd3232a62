/**
 * Connection worker: one per `--threads`. Receives client sockets from the acceptor (or accepts
 * them itself with `--accept reuseport`), runs their sessions on its own scheduler, and answers
 * the runtime API over a comlink channel.
 */
import module from 'node:module';
import net from 'node:net';
import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { pack } from 'msgpackr';
import type { FromWorker, ListenAddress, ToWorker, WorkerControl, WorkerInfo, WorkerInit } from '../src/acceptor/messages.types.ts';
import { WorkerRuntime } from '../src/core/worker-runtime.ts';
import { NodeClock, Scheduler } from '../src/core/scheduler.ts';
import { compileLogFormat, formatHttpLog, formatJsonLog, formatTcpLog } from '../src/log/format.ts';
import { Logger } from '../src/log/logger.ts';
import { logTargetsFor } from '../src/log/targets.ts';
import { NodeNetwork, NodeTransport, sharedRead } from '../src/net/node-transport.ts';
import { ServerTable } from '../src/shared-state/server-table.ts';

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('connection-worker must run as a worker thread');

const post = (m: FromWorker): void => port.postMessage(m);
const config = init.config;
const loggers = config.frontends.map((fe) => new Logger(logTargetsFor(config, fe.settings), config.global.logTag));
// `log-format` where the proxy has one (checked at start-up), else HAProxy's httplog line in mode
// http and its tcplog line in mode tcp
const formats = config.frontends.map((fe) => {
  const std = fe.settings.jsonlog ? formatJsonLog : fe.settings.mode === 'http' ? formatHttpLog : formatTcpLog;
  const f = fe.settings.logFormat ? compileLogFormat(fe.settings.logFormat.text) : std;
  return typeof f === 'string' ? std : f;
});

// Acks to the acceptor are batched: at most one message every ACK_DELAY_MS, whatever the number of
// sessions that ended (a message per session cost ≈ 30 µs of CPU per connection under load). The
// acceptor's maxconn accounting is at most that much late, on the safe side (it counts too many).
const ACK_DELAY_MS = 2;
const closedPending = new Map<number, number>();
let ackScheduled = false;
const flushAcks = (): void => {
  ackScheduled = false;
  if (closedPending.size > 0) post({ type: 'closed', byListener: [...closedPending] });
  closedPending.clear();
  if (stopping && rt.liveSessions === 0) finishStop();
};

const rt = new WorkerRuntime({
  workerId: init.workerId,
  config,
  table: new ServerTable(init.table),
  sched: new Scheduler(new NodeClock()),
  net: new NodeNetwork(),
  wallClock: Date.now,
  random: Math.random,
  logging: (feId) => loggers[feId]?.enabled === true,
  log: (fields, feId) => {
    const fe = config.frontends[feId];
    const logger = loggers[feId];
    if (!fe || !logger?.enabled) return;
    if (fe.settings.dontlognull && fields.bytesRead === 0 && fields.termination === '--') return;
    logger.write((formats[feId] ?? formatTcpLog)(fields));
  },
  onSessionClosed: (s) => {
    const lid = s.listenerId;
    if (lid < 0) {
      // accepted by this worker itself (reuseport): the acceptor does not count these
      if (stopping && rt.liveSessions === 0) finishStop();
      return;
    }
    closedPending.set(lid, (closedPending.get(lid) ?? 0) + 1);
    if (!ackScheduled) {
      ackScheduled = true;
      setTimeout(flushAcks, ACK_DELAY_MS);
    }
  },
});

let stopping = false;
const ownListeners: net.Server[] = [];

/** Close what keeps the thread alive, after telling the acceptor `last` (stopped, or failed at start). */
function finishStop(last: FromWorker = { type: 'stopped' }): void {
  for (const l of loggers) l.close();
  post(last);
  port?.close();
  init.control.close();
}

/** The acceptor numbers its listeners in config order: frontends, then their binds. */
const bindsByListener = config.frontends.flatMap((fe) => fe.binds);

/**
 * A socket handed over by the acceptor arrives as the `net.Socket` Node's message deserializer made,
 * whose properties it left in dictionary mode (a 1.6 KB property table per idle connection, and
 * slow property access on every read and write). Its handle goes into a socket made as `net.Server`
 * makes one (fast properties, paused like the received one), reading into the thread's shared read
 * buffer (`sharedRead`), and the received object is dropped. A socket this worker accepted itself
 * (`--accept reuseport`) is adopted the same way, for the shared read buffer; its server stops
 * counting it (the sessions are counted here, and the dropped object will never close).
 */
function adopt(received: net.Socket, server?: net.Server): net.Socket {
  const r = received as net.Socket & { _handle: object | null };
  const handle = r._handle;
  if (handle === null) return received;
  r._handle = null;
  if (server) (server as net.Server & { _connections: number })._connections--;
  return new net.Socket({ handle, allowHalfOpen: true, pauseOnCreate: true, onread: sharedRead() } as net.SocketConstructorOpts);
}

/**
 * Start a session on a socket created paused, then let it read — unless the session keeps it
 * paused (refused past tune.buffers.limit before its first byte: nothing of it is ever read).
 */
function startSession(socket: net.Socket, frontendId: number, listenerId: number, acceptProxy: boolean): void {
  const s = rt.accept(new NodeTransport(socket), frontendId, listenerId, acceptProxy);
  if (!s?.cli.paused) socket.resume();
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'session') {
    startSession(adopt(m.socket as net.Socket), m.frontendId, m.listenerId, bindsByListener[m.listenerId]?.acceptProxy === true);
  } else if (m.type === 'stop') {
    stopping = true;
    rt.stop();
    for (const l of ownListeners) l.close();
    if (rt.liveSessions === 0) finishStop();
  }
});

const control: WorkerControl = {
  info(): WorkerInfo {
    const s = rt.stats;
    return {
      workerId: init.workerId,
      sessionsLive: s.sessionsLive,
      sessionsTotal: s.sessionsTotal,
      handoffs: s.handoffs,
      staleEvents: s.staleEvents,
      staleCommands: s.staleCommands,
      connectErrors: s.connectErrors,
      retries: s.retries,
      redispatches: s.redispatches,
      queued: s.queued,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      internalErrors: s.internalErrors,
      droppedLogs: loggers.reduce((n, l) => n + l.dropped, 0),
      timers: rt.sched.timersPending,
      loops: rt.sched.wakeups,
      tasks: rt.sched.tasksRun,
      connsOpen: s.opened - s.closed,
      heapUsedMb: Math.round(v8.getHeapStatistics().used_heap_size / 1048576),
      pool: {
        idle: rt.pool.size,
        ...rt.pool.stats,
        byServer: rt.backends.flatMap((b) => b.servers.map((srv) => rt.pool.split(srv.id))),
      },
      buffers: rt.buffers.info(),
    };
  },
  sessions(): ArrayBuffer {
    const buf = pack(rt.snapshots());
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    return Comlink.transfer(ab, [ab]);
  },
  shutdownSession: (id) => rt.kill(id),
  proxyCounters: () => rt.proxyCounters(),
  clearCounters: (all) => rt.clearCounters(all),
  killAll: () => rt.killAll(),
  serverDown: (serverId) => rt.serverDown(serverId),
  setServerAddr: (serverId, host, port) => rt.setServerAddr(serverId, host, port),
  crash: () => {
    setImmediate(() => {
      throw new Error(`worker ${init.workerId}: crash requested by 'debug dev crash-worker'`);
    });
  },
};
Comlink.expose(control, nodeEndpoint(init.control));

/**
 * --accept reuseport: this worker listens on every bind itself (the kernel spreads connections),
 * before it says it is ready; a bind that fails fails the worker, with the address and the reason.
 */
async function listenOwn(): Promise<ListenAddress[]> {
  const out: ListenAddress[] = [];
  for (const [feId, fe] of config.frontends.entries()) {
    for (const b of fe.binds) {
      const srv: net.Server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => {
        startSession(adopt(socket, srv), feId, -1, b.acceptProxy === true);
      });
      ownListeners.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', (err: Error) => reject(new Error(`frontend ${fe.name}: cannot bind ${b.host || '*'}:${b.port} (${err.message})`)));
        srv.listen({ host: b.host || undefined, port: b.port, reusePort: true, backlog: 1024 }, resolve);
      });
      const a = srv.address() as net.AddressInfo;
      out.push({ frontend: fe.name, host: a.address, port: a.port });
    }
  }
  return out;
}

(init.reusePort ? listenOwn() : Promise.resolve([])).then(
  (listening) => {
    // this thread's modules are loaded: their stripped sources go to the compile cache now (when
    // bin/switchyard.js turned it on), not at an exit that a SIGKILL may never give
    module.flushCompileCache();
    post({ type: 'ready', workerId: init.workerId, listening });
  },
  (err: Error) => {
    for (const l of ownListeners) l.close();
    finishStop({ type: 'failed', workerId: init.workerId, error: err.message });
  },
);
