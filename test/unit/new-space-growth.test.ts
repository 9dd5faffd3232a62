/**
 * The acceptor keeps V8's new spaces at their initial size (`limitNewSpaceGrowth`, a V8 flag set
 * after start-up: src/acceptor/acceptor.types.ts, SEMI_SPACE_GROWTH_FACTOR). V8 does not promise
 * that a flag set after start-up works; this checks that the Node in use honours this one: the
 * same allocation burst grows a fresh process's new space far past its initial size without it,
 * and not with it. If a Node upgrade breaks it, this fails — and the idle memory of the proxy
 * (bench/NOTES.md) would grow again.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

const ACCEPTOR = new URL('../../src/acceptor/acceptor.ts', import.meta.url).href;

/** A fresh process runs a burst with a high survival rate (what makes V8 grow a new space) and says how big its new space got, in MB. */
function newSpaceAfterBurst(limit: boolean): number {
  const script = `
    import v8 from 'node:v8';
    if (${limit}) (await import(${JSON.stringify(ACCEPTOR)})).limitNewSpaceGrowth();
    const ring = new Array(50000);
    for (let i = 0; i < 2_000_000; i++) ring[i % 50000] = { a: i, b: [i, i + 1, i + 2] };
    const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    process.stdout.write(String(ns.physical_space_size / 1048576));
  `;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 }));
}

test('V8 honours the semi-space growth factor set after start-up: a burst does not grow the new space', () => {
  const grown = newSpaceAfterBurst(false);
  const limited = newSpaceAfterBurst(true);
  assert.ok(grown >= 16, `without the limit the burst must grow the new space (got ${grown} MB): else this test shows nothing`);
  assert.ok(limited <= 4, `with the limit the new space stays at its initial size (got ${limited} MB, ${grown} MB without)`);
});
