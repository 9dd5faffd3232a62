import fs from 'node:fs';
import os from 'node:os';
import { Acceptor } from '../acceptor/acceptor.ts';
import { runtimeHost, VERSION } from '../acceptor/runtime-host.ts';
import type { Config } from '../config/config.types.ts';
import { ConfigError } from '../config/errors.ts';
import { helpText } from '../config/keywords.ts';
import { loadConfig, quickConfig } from '../config/parse.ts';
import { initTable } from '../core/backend.ts';
import { compileLogFormat } from '../log/format.ts';
import { renderPrometheus } from '../runtime-api/prometheus.ts';
import { renderStatsPage } from '../runtime-api/stats-page.ts';
import { RuntimeApiServer } from '../runtime-api/server.ts';
import { isServiceFrontend, ServiceFrontend } from '../runtime-api/service-frontend.ts';
import { HealthChecker } from '../checks/health.ts';
import { loadServerState } from '../shared-state/server-state-file.ts';
import { ServerTable } from '../shared-state/server-table.ts';
import { ServerSlot } from '../shared-state/server-table.types.ts';
import { parseArgs } from './args.ts';
import { FLAGS, UsageError } from './args.types.ts';

const WORKER_URL = new URL('../../workers/connection-worker.ts', import.meta.url);

function usage(): string {
  const flags = FLAGS.map((f) => `  ${`${f.flag} ${f.arg}`.padEnd(26)} ${f.help}`).join('\n');
  return `switchyard ${VERSION} — TCP/HTTP load-balancing proxy (HAProxy configuration format)

Usage:
  switchyard -f FILE [-f FILE…] [--threads N] [-c] [-d]
  switchyard --listen 127.0.0.1:8080 --to 127.0.0.1:3000 [--to …] [--mode tcp|http]

Options:
${flags}

Configuration keywords:
${helpText()}`;
}

/** Entry point: returns the process exit code (the caller exits with it). */
export async function main(argv: readonly string[]): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`switchyard: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(usage());
    return 0;
  }
  if (args.version) {
    process.stdout.write(`switchyard version ${VERSION}\nRunning on: Node.js ${process.version} ${os.platform()} ${os.arch()}\n`);
    if (args.features) {
      process.stdout.write(
        `Features: +TCP +THREADS(worker_threads) +SHARED_SERVER_TABLE(SharedArrayBuffer) +REUSEPORT +FD_LISTENERS -HTTP -SSL -HEALTH_CHECKS\n` +
          `Default settings: maxconn = 4096, retries = 3, hard-stop-after = 30000 ms, nbthread = ${os.availableParallelism()} (cores)\n`,
      );
    }
    return 0;
  }
  for (const n of args.notes) if (!args.quiet) process.stderr.write(`[NOTICE] ${n}\n`);

  let cfg: Config;
  try {
    cfg = args.files.length > 0 ? loadConfig(args.files) : quickConfig({ listen: args.listen, to: args.to, mode: args.mode });
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const d of err.diagnostics) process.stderr.write(`[ALERT] ${d.file}:${d.line}: ${d.message}\n`);
      process.stderr.write(`[ALERT] Fatal errors found in configuration.\n`);
      return 1;
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      const e = err as NodeJS.ErrnoException;
      process.stderr.write(`[ALERT] Cannot open configuration file/directory ${e.path ?? ''}: No such file or directory\n`);
      return 1;
    }
    throw err;
  }
  if (args.accept === 'reuseport' && cfg.frontends.some((f) => f.binds.some((b) => b.fd !== undefined))) {
    process.stderr.write(`[ALERT] 'bind fd@N' listens on one inherited socket: it needs --accept handoff (the default), not reuseport\n`);
    return 1;
  }
  if (!args.quiet) for (const w of cfg.warnings) process.stderr.write(`[WARNING] ${w.file}:${w.line}: ${w.message}\n`);
  const formatErrors = cfg.frontends.flatMap((f) => {
    const lf = f.settings.logFormat;
    const r = lf ? compileLogFormat(lf.text) : null;
    return lf && typeof r === 'string' ? [`${lf.src.file}:${lf.src.line}: ${r}`] : [];
  });
  if (formatErrors.length > 0) {
    for (const e of formatErrors) process.stderr.write(`[ALERT] ${e}\n`);
    process.stderr.write('[ALERT] Fatal errors found in configuration.\n');
    return 1;
  }
  if (args.check) {
    if (!args.quiet) process.stdout.write('Configuration file is valid\n');
    return 0;
  }

  const notice = (msg: string): void => {
    if (!args.quiet) process.stderr.write(`[NOTICE] ${msg}\n`);
  };
  // frontends of a built-in service (prometheus-exporter) are served by the main thread; the
  // data path (acceptor, workers, show stat) is the rest of the configuration
  const services = cfg.frontends.filter(isServiceFrontend);
  if (services.length > 0) {
    // a `listen` service section brings an empty backend of its name: not part of the data path either
    const own = new Set(services.map((f) => f.name));
    cfg = { ...cfg, frontends: cfg.frontends.filter((f) => !isServiceFrontend(f)), backends: cfg.backends.filter((b) => !(own.has(b.name) && b.servers.length === 0)) };
  }
  const threads = args.threads ?? cfg.global.nbthread ?? os.availableParallelism();
  const servers = cfg.backends.reduce((n, b) => n + b.servers.length, 0);
  const table = ServerTable.create(servers, cfg.backends.length);
  initTable(cfg, table);
  for (const w of loadServerState(cfg, table)) if (!args.quiet) process.stderr.write(`[WARNING] ${w}\n`);
  const acceptor = new Acceptor(cfg, table, { threads, reusePort: args.accept === 'reuseport', workerUrl: WORKER_URL, notice });
  const checker = new HealthChecker(cfg, table, {
    // HAProxy writes these to stderr (and its logs); -q does not silence them
    log: (level, message) => process.stderr.write(`[${level}] ${message}\n`),
    serverDown: (id) => acceptor.serverDown(id),
    counts: (id) => ({ active: table.srv(id, ServerSlot.CUR_CONN), queued: table.srv(id, ServerSlot.QUEUE) }),
  });
  const host = runtimeHost(acceptor, cfg, threads, (id) => checker.state(id));
  const apis = cfg.global.statsSockets.map((s) => new RuntimeApiServer(s, host));
  const metrics = async (): Promise<string> =>
    renderPrometheus(await host.statRows(), await host.workers(), {
      currentConnections: host.currConns(),
      maxconn: host.maxconn,
      uptimeSec: Math.floor((Date.now() - host.startedAt) / 1000),
      nbthread: threads,
    });
  const statsPage = async (refreshSec: number | undefined): Promise<string> =>
    renderStatsPage(await host.statRows(), {
      name: 'switchyard',
      version: VERSION,
      pid: process.pid,
      uptimeSec: Math.floor((Date.now() - host.startedAt) / 1000),
      nbthread: threads,
      currConns: host.currConns(),
      maxconn: host.maxconn,
      ...(refreshSec === undefined ? {} : { refreshSec }),
    });
  const serviceFrontends = services.map((fe) => new ServiceFrontend(fe, { metrics, statsPage }));
  try {
    await acceptor.start();
    for (const api of apis) await api.listen();
    for (const s of serviceFrontends) await s.listen();
  } catch (err) {
    process.stderr.write(`[ALERT] Starting proxies: ${(err as Error).message}\n`);
    await acceptor.stop(0);
    return 1;
  }
  if (args.pidfile) fs.writeFileSync(args.pidfile, `${process.pid}\n`);
  for (const a of acceptor.addresses()) notice(`frontend ${a.frontend} listening on ${a.host}:${a.port}`);
  for (const api of apis) notice(`stats socket listening on ${api.address()}`);
  for (const s of serviceFrontends) for (const a of s.addresses()) notice(`frontend ${s.fe.name} listening on ${a.host}:${a.port}`);
  checker.start();
  notice(`switchyard ${VERSION} started: ${threads} worker thread(s), pid ${process.pid}`);

  return new Promise((resolve) => {
    let stopping = false;
    const stop = (sig: string): void => {
      if (stopping) return;
      stopping = true;
      // hard-stop-after 0 means no limit, as in HAProxy
      const limit = cfg.global.hardStopAfter > 0 ? cfg.global.hardStopAfter : null;
      notice(`${sig} received: stop accepting, draining sessions (${limit === null ? 'no hard-stop-after' : `hard-stop-after ${limit} ms`})`);
      checker.stop();
      void acceptor.stop(limit).then(async () => {
        for (const api of apis) await api.close();
        for (const s of serviceFrontends) await s.close();
        if (args.pidfile) fs.rmSync(args.pidfile, { force: true });
        notice('stopped');
        resolve(0);
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
