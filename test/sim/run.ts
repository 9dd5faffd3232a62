/**
 * `npm run sim -- [--runs N] [--from S] [--mode tcp|http] [--stats] [--strict] [--seed S [--trace]]`: run simulated
 * scenarios; a failing seed is printed with its violations and replays exactly with `--seed`
 * (its config and worker count, its clients' plans in HTTP mode, its log lines each with the
 * worker that ran the session, which worker each client was handed to; `--trace` adds every
 * event and command on every transport, and with several workers every preemption, slot
 * reservation and release, wait and wake-up on the release sequence).
 */
import { Coverage, Tolerate } from './http.ts';
import { Sim, scenario } from './sim.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const seedArg = arg('--seed');
const runs = Number(arg('--runs') ?? 2000);
const first = Number(arg('--from') ?? 1);
const onlyMode = arg('--mode');
// --strict: none of the known bugs of src/ is tolerated (see Tolerate in test/sim/http.ts)
if (process.argv.includes('--strict')) for (const k of Object.keys(Tolerate)) Tolerate[k as keyof typeof Tolerate] = false;

if (seedArg !== undefined) {
  const cfg = scenario(Number(seedArg));
  const sim = new Sim(cfg);
  if (process.argv.includes('--trace')) sim.trace = (line) => process.stdout.write(`  ${line}\n`);
  const head = `seed ${seedArg}: mode ${cfg.mode ?? 'tcp'}, ${cfg.workers ?? 1} worker${(cfg.workers ?? 1) > 1 ? 's' : ''}, ${cfg.clients} clients, servers [${cfg.servers.join(', ')}]\n${sim.cfgText}\n`;
  const plans = sim.httpClients.map((c) => `${c.describe()}\n`).join('');
  if (sim.trace) process.stdout.write(head + plans);
  const v = sim.run();
  if (!sim.trace) process.stdout.write(head + plans);
  // each log line with the worker that ran its session
  process.stdout.write(`${sim.logs.map((l, i) => (sim.workers.length > 1 ? `[worker ${sim.logWorkers[i]}] ${l}` : l)).join('\n')}\n`);
  if (sim.workers.length > 1) {
    const on = sim.clients.map((c) => `client ${c.id} -> ${c.session ? `worker ${sim.sessionWorker.get(c.session.id)} (session ${c.session.id})` : 'not accepted'}`);
    process.stdout.write(`${on.join('\n')}\npreemptions: ${sim.preemptions}\n`);
  }
  for (const c of sim.httpClients) {
    const got = c.responses.map((r) => `r${r.index}:${r.status}${r.origin ? '' : '(proxy)'}${r.complete ? '' : '(incomplete)'}`).join(' ');
    process.stdout.write(`client ${c.id} got: ${got || 'nothing'}; started: ${c.started().map((j) => `r${j}`).join(' ') || 'none'}\n`);
  }
  if (sim.http) for (const w of sim.workers) process.stdout.write(`worker ${w.id} idle pool: ${JSON.stringify(w.rt.pool.stats)}\n`);
  process.stdout.write(v.length === 0 ? 'no violation\n' : `${v.map((x) => `t=${x.at}: ${x.what}`).join('\n')}\n`);
  process.exit(v.length === 0 ? 0 : 1);
}

const t0 = Date.now();
let failed = 0;
let done = 0;
const counts = { tcp: 0, http: 0 };
/** Runs by worker count, and the lost wake-ups (Tolerate.lostWakeup) the runs stepped over. */
const byWorkers = [0, 0, 0, 0];
let lostWakeups = 0;
const showStats = process.argv.includes('--stats');
const pool: Record<string, number> = {};
const terms: Record<string, number> = {};
for (let i = 0; i < runs; i++) {
  const seed = first + i;
  const progress = (i + 1) % 1000 === 0 || i + 1 === runs;
  const cfg = scenario(seed);
  const mode = cfg.mode ?? 'tcp';
  if (onlyMode && mode !== onlyMode) {
    if (progress) process.stderr.write(`\r${i + 1}/${runs} seeds, ${done} run (${counts.tcp} tcp, ${counts.http} http), ${failed} failed, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    continue;
  }
  counts[mode]++;
  const sim = new Sim(cfg);
  const v = sim.run();
  done++;
  byWorkers[sim.workers.length] = (byWorkers[sim.workers.length] ?? 0) + 1;
  lostWakeups += sim.coverage.lostWakeups;
  if (showStats && sim.http) {
    for (const f of sim.logFields) terms[f.termination] = (terms[f.termination] ?? 0) + 1;
    for (const w of sim.workers) {
      for (const [k, n] of Object.entries(w.rt.pool.stats) as Array<[string, number]>) pool[k] = (pool[k] ?? 0) + n;
      const s = w.rt.stats as unknown as Record<string, number>;
      for (const k of ['retries', 'redispatches', 'connectErrors', 'internalErrors']) pool[k] = (pool[k] ?? 0) + (s[k] ?? 0);
    }
  }
  if (v.length > 0) {
    failed++;
    process.stdout.write(`FAIL seed ${seed} (${mode}): ${v[0]?.what} (replay: npm run sim -- --seed ${seed})\n`);
    if (failed >= 10) break;
  }
  if (progress) process.stderr.write(`\r${i + 1}/${runs} seeds, ${done} run (${counts.tcp} tcp, ${counts.http} http), ${failed} failed, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
process.stderr.write(`\nworkers: ${byWorkers[1]} runs with 1, ${byWorkers[2]} with 2, ${byWorkers[3]} with 3; lost wake-ups stepped over (Tolerate.lostWakeup): ${lostWakeups}\n`);
if (showStats) process.stdout.write(`http: idle pool and retries ${JSON.stringify(pool)}\nhttp: terminations ${JSON.stringify(terms)}\nhttp: coverage ${JSON.stringify(Coverage)}\n`);
process.exit(failed === 0 ? 0 : 1);
