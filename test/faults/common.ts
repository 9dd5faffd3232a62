/**
 * What every fault case of the suite does around its fault: good clients run beside it for its
 * whole duration (each must get its answer), the case gets the log position to look from, and
 * afterwards no session of the fault's frontend may be left.
 */
import assert from 'node:assert/strict';
import type { RunningProxy } from '../helpers/proxy.ts';
import { type Background, background, noSessionLeft, sleep, tcpBackground } from './harness.ts';

export interface FaultCase {
  /** The proxy under test. */
  readonly p: RunningProxy;
  /** The frontend the fault goes through: none of its sessions may be left afterwards. */
  readonly fe: string;
  /** Where the good clients go (may be `fe` itself). */
  readonly bgPort: number;
  readonly tcp?: boolean;
}

/**
 * Run `fault` with a background load on `bgPort`; then check that every background request got
 * its 200 (or its echo) and that no session of `fe` is left in `show sess`.
 */
export async function underLoad(c: FaultCase, fault: (from: number) => Promise<void>): Promise<void> {
  const bg: Background = c.tcp ? tcpBackground(c.bgPort) : background(c.bgPort);
  await sleep(30); // the good clients are running before the fault starts
  const from = c.p.logs.length;
  let failure: unknown = null;
  try {
    await fault(from);
  } catch (e) {
    failure = e;
  }
  const seen = await bg.stop();
  if (failure) throw failure;
  assert.deepEqual(seen.bad, [], 'every request of the good clients running beside the fault got its answer');
  assert.ok(seen.ok > 0, 'the good clients made requests during the fault');
  await noSessionLeft(c.p, c.fe);
}
