/**
 * `npm run sim -- [--runs N] [--seed S]`: run simulated scenarios; a failing seed is printed with
 * its violations and replays exactly with `--seed`.
 */
import { Sim, scenario } from './sim.ts';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const seedArg = arg('--seed');
const runs = Number(arg('--runs') ?? 2000);
const first = Number(arg('--from') ?? 1);

if (seedArg !== undefined) {
  const cfg = scenario(Number(seedArg));
  const sim = new Sim(cfg);
  const v = sim.run();
  process.stdout.write(`seed ${seedArg}: ${cfg.clients} clients, servers [${cfg.servers.join(', ')}]\n${sim.cfgText}\n`);
  process.stdout.write(`${sim.logs.join('\n')}\n`);
  process.stdout.write(v.length === 0 ? 'no violation\n' : `${v.map((x) => `t=${x.at}: ${x.what}`).join('\n')}\n`);
  process.exit(v.length === 0 ? 0 : 1);
}

const t0 = Date.now();
let failed = 0;
for (let i = 0; i < runs; i++) {
  const seed = first + i;
  const v = new Sim(scenario(seed)).run();
  if (v.length > 0) {
    failed++;
    process.stdout.write(`FAIL seed ${seed}: ${v[0]?.what} (replay: npm run sim -- --seed ${seed})\n`);
    if (failed >= 10) break;
  }
  if ((i + 1) % 1000 === 0 || i + 1 === runs) process.stderr.write(`\r${i + 1}/${runs} scenarios, ${failed} failed, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
process.stderr.write('\n');
process.exit(failed === 0 ? 0 : 1);
