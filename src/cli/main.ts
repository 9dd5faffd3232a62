import { condContext, evalCondition } from '../config/conditions.ts';
import { FEATURES, HAPROXY_COMPAT_VERSION } from '../config/conditions.types.ts';
import { splitWords } from '../config/tokenize.ts';
import fs from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import { Acceptor } from '../acceptor/acceptor.ts';
import { runtimeHost, VERSION } from '../acceptor/runtime-host.ts';
import type { Config } from '../config/config.types.ts';
import { ConfigError } from '../config/errors.ts';
import { helpText } from '../config/keywords.ts';
import { quickConfig } from '../config/parse.ts';
import { initTable } from '../core/backend.ts';
import { renderPrometheus } from '../runtime-api/prometheus.ts';
import { renderStatsPage } from '../runtime-api/stats-page.ts';
import { RuntimeApiServer } from '../runtime-api/server.ts';
import { isServiceFrontend, ServiceFrontend } from '../runtime-api/service-frontend.ts';
import { HealthChecker } from '../checks/health.ts';
import { carryServerState, loadServerState } from '../shared-state/server-state-file.ts';
import { ServerTable } from '../shared-state/server-table.ts';
import { ServerSlot } from '../shared-state/server-table.types.ts';
import { Piscina } from 'piscina';
import { parseArgs } from './args.ts';
import { type ConfigCheck, type ConfigCheckRequest, checkConfigFiles, checkLoaded } from './check-config.ts';
import { FLAGS, UsageError } from './args.types.ts';

const WORKER_URL = new URL('../../workers/connection-worker.ts', import.meta.url);
const CHECK_TASK_URL = new URL('../../workers/config-check.ts', import.meta.url);

/** The configuration the acceptor and workers run: without the frontends the main thread serves. */
function dataPath(cfg: Config): Config {
  const services = cfg.frontends.filter(isServiceFrontend);
  if (services.length === 0) return cfg;
  // a `listen` service section brings an empty backend of its name: not part of the data path either
  const own = new Set(services.map((f) => f.name));
  return {
    ...cfg,
    frontends: cfg.frontends.filter((f) => !isServiceFrontend(f)),
    backends: cfg.backends.filter((b) => !(own.has(b.name) && b.servers.length === 0)),
  };
}

/** A server table for `cfg`: the configured states, then the server-state-file's. */
function newTable(cfg: Config, quiet: boolean): ServerTable {
  const servers = cfg.backends.reduce((n, b) => n + b.servers.length, 0);
  const table = ServerTable.create(servers, cfg.backends.length);
  initTable(cfg, table);
  for (const w of loadServerState(cfg, table)) if (!quiet) process.stderr.write(`[WARNING] ${w}\n`);
  return table;
}

const addrs = (s: Config['global']['statsSockets']): unknown => s.map((x) => [x.address, x.level]);

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
  if (args.condition !== undefined) {
    // -cc: the words of the condition as the config tokenizer makes them, evaluated as `.if` does
    const words = splitWords(args.condition);
    try {
      if (typeof words === 'string') throw new Error(words);
      return evalCondition(words, condContext(), '-cc') ? 0 : 1;
    } catch (e) {
      process.stderr.write(`[ALERT] -cc: ${(e as Error).message}\n`);
      return 2;
    }
  }
  if (args.version) {
    process.stdout.write(`switchyard version ${VERSION}\nRunning on: Node.js ${process.version} ${os.platform()} ${os.arch()}\n`);
    if (args.features) {
      process.stdout.write(
        `Feature list : ${FEATURES.map((f) => `${f.on ? '+' : '-'}${f.name}${f.note ? `(${f.note})` : ''}`).join(' ')}\n` +
          `Configuration language: HAProxy ${HAPROXY_COMPAT_VERSION} (the version .if version_atleast() compares with)\n` +
          `Default settings: maxconn = 4096, retries = 3, hard-stop-after = 30000 ms, nbthread = ${os.availableParallelism()} (cores)\n`,
      );
    }
    return 0;
  }
  for (const n of args.notes) if (!args.quiet) process.stderr.write(`[NOTICE] ${n}\n`);

  const accept = args.accept === 'reuseport' ? 'reuseport' : 'handoff';
  let cfg: Config;
  let checked: ConfigCheck;
  try {
    checked = args.files.length > 0 ? checkConfigFiles({ files: args.files, accept }) : checkLoaded(quickConfig({ listen: args.listen, to: args.to, mode: args.mode }), accept);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const d of err.diagnostics) process.stderr.write(`[ALERT] ${d.file}:${d.line}: ${d.message}\n`);
      process.stderr.write(`[ALERT] Fatal errors found in configuration.\n`);
      return 1;
    }
    throw err;
  }
  if (!checked.ok) {
    for (const e of checked.errors) process.stderr.write(`[ALERT] ${e}\n`);
    return 1;
  }
  cfg = checked.config;
  if (!args.quiet) for (const n of cfg.notices) process.stderr.write(`[NOTICE] ${n.file}:${n.line}: ${n.message}\n`);
  if (!args.quiet) for (const w of cfg.warnings) process.stderr.write(`[WARNING] ${w.file}:${w.line}: ${w.message}\n`);
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
  cfg = dataPath(cfg);
  const threadsFor = (c: Config): number => args.threads ?? c.global.nbthread ?? os.availableParallelism();
  const threads = threadsFor(cfg);
  const table = newTable(cfg, args.quiet);
  const acceptor = new Acceptor(cfg, table, { threads, reusePort: args.accept === 'reuseport', workerUrl: WORKER_URL, notice });
  const newChecker = (c: Config, t: ServerTable): HealthChecker =>
    new HealthChecker(c, t, {
      // HAProxy writes these to stderr (and its logs); -q does not silence them
      log: (level, message) => process.stderr.write(`[${level}] ${message}\n`),
      serverDown: (id) => acceptor.serverDown(id),
      counts: (id) => ({ active: t.srv(id, ServerSlot.CUR_CONN), queued: t.srv(id, ServerSlot.QUEUE) }),
    });
  let checker = newChecker(cfg, table);

  // ---- reload (SIGUSR2, `reload` on the stats socket) -----------------------------------------
  // The files are read and checked by a piscina task, off this thread's event loop; a bad
  // configuration is refused with its alerts and the running one stays. Reloads run one at a time.
  let pool: Piscina | null = null;
  let reloadChain: Promise<unknown> = Promise.resolve();
  const reloadOnce = async (origin: string): Promise<{ ok: boolean; messages: string[] }> => {
    const messages: string[] = [];
    const refuse = (lines: readonly string[]): { ok: boolean; messages: string[] } => {
      const all = [...lines, `reload (${origin}) refused: generation ${acceptor.gen.id} keeps running with its configuration`].map((l) => `[ALERT] ${l}`);
      for (const l of all) process.stderr.write(`${l}\n`);
      return { ok: false, messages: [...messages, ...all] };
    };
    if (args.files.length === 0) return refuse(['reload needs configuration files (-f): quick mode has none to re-read']);
    if (acceptor.isStopping) return refuse(['the process is stopping']);
    pool ??= new Piscina({ filename: CHECK_TASK_URL.href, minThreads: 0, maxThreads: 1, idleTimeout: 10_000, atomics: 'disabled' });
    let r: ConfigCheck;
    try {
      r = (await pool.run({ files: args.files, accept } satisfies ConfigCheckRequest)) as ConfigCheck;
    } catch (err) {
      return refuse([`reading the configuration: ${(err as Error).message}`]);
    }
    if (!r.ok) return refuse(r.errors);
    const warn = (m: string): void => {
      messages.push(`[WARNING] ${m}`);
      if (!args.quiet) process.stderr.write(`[WARNING] ${m}\n`);
    };
    for (const w of r.config.warnings) warn(`${w.file}:${w.line}: ${w.message}`);
    const next = dataPath(r.config);
    // the stats sockets and the built-in services stay as started (they serve the new generation)
    if (JSON.stringify(addrs(r.config.global.statsSockets)) !== JSON.stringify(addrs(cfg.global.statsSockets))) {
      warn('stats socket changes take effect at the next restart; the running stats sockets are kept');
    }
    if (JSON.stringify(r.config.frontends.filter(isServiceFrontend).map((f) => [f.name, f.binds.map((b) => [b.host, b.port, b.fd])])) !== JSON.stringify(services.map((f) => [f.name, f.binds.map((b) => [b.host, b.port, b.fd])]))) {
      warn('changes to prometheus-exporter frontends take effect at the next restart; the running ones are kept');
    }
    const t = newTable(next, args.quiet);
    carryServerState(acceptor.cfg, acceptor.table, next, t);
    const nextChecker = newChecker(next, t);
    try {
      await acceptor.reload(next, t, threadsFor(next));
    } catch (err) {
      return refuse([`starting the new configuration: ${(err as Error).message}`]);
    }
    checker.stop();
    checker = nextChecker;
    checker.start();
    const say = (m: string): void => {
      messages.push(`[NOTICE] ${m}`);
      notice(m);
    };
    for (const a of acceptor.addresses()) say(`frontend ${a.frontend} listening on ${a.host}:${a.port}`);
    say(`reload (${origin}) done: generation ${acceptor.gen.id} running, ${acceptor.gen.threads} worker thread(s); ${acceptor.retiringWorkers} old worker(s) finishing their sessions`);
    return { ok: true, messages };
  };
  const reload = (origin: string): Promise<{ ok: boolean; messages: string[] }> => {
    const run = reloadChain.then(() => reloadOnce(origin));
    reloadChain = run.catch(() => undefined);
    return run;
  };

  const host = runtimeHost(acceptor, {
    checks: (id) => checker.state(id),
    reload: () => reload('runtime API'),
    serverAddr: (id, h, port) => checker.setAddr(id, h, port),
  });
  const apis = cfg.global.statsSockets.map((s) => new RuntimeApiServer(s, host));
  const metrics = async (): Promise<string> =>
    renderPrometheus(await host.statRows(), await host.workers(), {
      currentConnections: host.currConns(),
      maxconn: host.maxconn,
      uptimeSec: Math.floor((Date.now() - host.startedAt) / 1000),
      nbthread: host.nbthread,
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
  module.flushCompileCache(); // the main thread's modules, to the compile cache (bin/switchyard.js)
  notice(`switchyard ${VERSION} started: ${threads} worker thread(s), pid ${process.pid}`);

  return new Promise((resolve) => {
    let stopping = false;
    const stop = (sig: string): void => {
      if (stopping) return;
      stopping = true;
      // hard-stop-after 0 means no limit, as in HAProxy
      const limit = acceptor.cfg.global.hardStopAfter > 0 ? acceptor.cfg.global.hardStopAfter : null;
      notice(`${sig} received: stop accepting, draining sessions (${limit === null ? 'no hard-stop-after' : `hard-stop-after ${limit} ms`})`);
      checker.stop();
      void acceptor.stop(limit).then(async () => {
        await pool?.destroy();
        for (const api of apis) await api.close();
        for (const s of serviceFrontends) await s.close();
        if (args.pidfile) fs.rmSync(args.pidfile, { force: true });
        notice('stopped');
        resolve(0);
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGUSR2', () => void reload('SIGUSR2'));
  });
}
