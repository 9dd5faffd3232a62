/**
 * `npm run sim -- [--runs N] [--from S] [--mode tcp|http] [--stats] [--strict] [--seed S [--trace]]`: run simulated
 * scenarios; a failing seed is printed with its violations and replays exactly with `--seed`
 * (its config, its clients' plans in HTTP mode, its log lines; `--trace` adds every event and
 * command on every transport).
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
  const head = `seed ${seedArg}: mode ${cfg.mode ?? 'tcp'}, ${cfg.clients} clients, servers [${cfg.servers.join(', ')}]\n${sim.cfgText}\n`;
  const plans = sim.httpClients.map((c) => `${c.describe()}\n`).join('');
  if (sim.trace) process.stdout.write(head + plans);
  const v = sim.run();
  if (!sim.trace) process.stdout.write(head + plans);
  process.stdout.write(`${sim.logs.join('\n')}\n`);
  for (const c of sim.httpClients) {
    const got = c.responses.map((r) => `r${r.index}:${r.status}${r.origin ? '' : '(proxy)'}${r.complete ? '' : '(incomplete)'}`).join(' ');
    process.stdout.write(`client ${c.id} got: ${got || 'nothing'}; started: ${c.started().map((j) => `r${j}`).join(' ') || 'none'}\n`);
  }
  if (sim.http) process.stdout.write(`idle pool: ${JSON.stringify(sim.rt.pool.stats)}\n`);
  process.stdout.write(v.length === 0 ? 'no violation\n' : `${v.map((x) => `t=${x.at}: ${x.what}`).join('\n')}\n`);
  process.exit(v.length === 0 ? 0 : 1);
}

const t0 = Date.now();
let failed = 0;
let done = 0;
const counts = { tcp: 0, http: 0 };
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
  if (showStats && sim.http) {
    for (const [k, n] of Object.entries(sim.rt.pool.stats)) pool[k] = (pool[k] ?? 0) + n;
    for (const f of sim.logFields) terms[f.termination] = (terms[f.termination] ?? 0) + 1;
    const s = sim.rt.stats as unknown as Record<string, number>;
    for (const k of ['retries', 'redispatches', 'connectErrors', 'internalErrors']) pool[k] = (pool[k] ?? 0) + (s[k] ?? 0);
  }
  if (v.length > 0) {
    failed++;
    process.stdout.write(`FAIL seed ${seed} (${mode}): ${v[0]?.what} (replay: npm run sim -- --seed ${seed})\n`);
    if (failed >= 10) break;
  }
  if (progress) process.stderr.write(`\r${i + 1}/${runs} seeds, ${done} run (${counts.tcp} tcp, ${counts.http} http), ${failed} failed, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
process.stderr.write('\n');
if (showStats) process.stdout.write(`http: idle pool and retries ${JSON.stringify(pool)}\nhttp: terminations ${JSON.stringify(terms)}\nhttp: coverage ${JSON.stringify(Coverage)}\n`);
process.exit(failed === 0 ? 0 : 1);
