/**
 * The acceptor fixes the size of V8's new spaces (`limitNewSpaceGrowth`, V8 flags set after
 * start-up: src/acceptor/acceptor.types.ts, SEMI_SPACE_GROWTH_FACTOR): the main thread keeps its
 * initial one, a worker started afterwards has its young generation's full semi-spaces. V8 does not
 * promise that a flag set after start-up works; this checks that the Node in use honours both: the
 * same allocation burst grows a fresh process's main-thread new space far past its initial size
 * without the limit and not with it, and a worker's reaches its cap either way (were it held at its
 * initial size, it would scavenge several times as often). If a Node upgrade breaks either, this
 * fails — instead of the proxy's idle memory or its CPU quietly growing (bench/NOTES.md).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { WORKER_SEMI_SPACE_MB, WORKER_YOUNG_GENERATION_MB } from '../../src/acceptor/acceptor.types.ts';

const ACCEPTOR = new URL('../../src/acceptor/acceptor.ts', import.meta.url).href;

/**
 * A burst with a high survival rate (what makes V8 grow a new space); `newSpace`: its size in MB,
 * the median of 20 readings over the burst (a single reading can catch a scavenge's passing extra).
 */
const BURST = `
  const ring = new Array(50000);
  const seen = [];
  for (let i = 1; i <= 2_000_000; i++) {
    ring[i % 50000] = { a: i, b: [i, i + 1, i + 2] };
    if (i % 100000 === 0) seen.push(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);
  }
  const newSpace = seen.sort((a, b) => a - b)[10];
`;

/** In a fresh process: the main thread's new space after a burst, then a worker's (started after the limit, as the acceptor's are). */
function newSpacesAfterBurst(limit: boolean): { main: number; worker: number } {
  const worker = `const v8 = process.getBuiltinModule('node:v8'); ${BURST} process.getBuiltinModule('node:worker_threads').parentPort.postMessage(newSpace);`;
  const script = `
    import v8 from 'node:v8';
    import { Worker } from 'node:worker_threads';
    if (${limit}) (await import(${JSON.stringify(ACCEPTOR)})).limitNewSpaceGrowth();
    ${BURST}
    const w = new Worker(${JSON.stringify(worker)}, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: ${WORKER_YOUNG_GENERATION_MB} } });
    w.once('message', (m) => { process.stdout.write(JSON.stringify({ main: newSpace, worker: m })); w.terminate(); });
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 }));
}

test('V8 honours the new-space flags set after start-up: the main thread keeps its initial size, a worker has its full semi-spaces', () => {
  const free = newSpacesAfterBurst(false);
  const limited = newSpacesAfterBurst(true);
  const shown = `(without the limit ${JSON.stringify(free)}, with it ${JSON.stringify(limited)}; MB)`;
  assert.ok(free.main >= 8, `without the limit the burst must grow the main thread's new space, else this test shows nothing ${shown}`);
  assert.ok(limited.main <= 4, `with the limit the main thread's new space stays at its initial size ${shown}`);
  // a worker grows toward its cap as it would without the limit (7–8 MB, two semi-spaces of
  // WORKER_SEMI_SPACE_MB); held at its initial size, it would stay at ≈ 2 MB
  assert.ok(free.worker > WORKER_SEMI_SPACE_MB, `without the limit the burst must grow a worker's new space, else this test shows nothing ${shown}`);
  assert.ok(limited.worker >= 0.75 * free.worker, `with the limit a worker's new space still grows toward its cap ${shown}`);
  assert.ok(limited.worker <= WORKER_YOUNG_GENERATION_MB, `a worker's new space stays within its young generation ${shown}`);
});
