/**
 * switchyard's own reg-tests (test/vtc/*.vtc) run by the VTC runner, one node:test test each: the
 * runner starts switchyard on sockets it bound, scripted servers and clients check both sides.
 * `npm run test:vtc` runs the same files from the command line (`--haproxy` against HAProxy).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { formatResult, listVtcFiles, runVtcFile } from '../vtc/runner.ts';
import { DEFAULT_TIMEOUT_S, Target, TestStatus } from '../vtc/runner.types.ts';

const DIR = new URL('../vtc/', import.meta.url).pathname;

for (const file of listVtcFiles(DIR)) {
  test(`vtc: ${path.basename(file)}`, async () => {
    const r = await runVtcFile(file, { timeoutS: DEFAULT_TIMEOUT_S, target: Target.SWITCHYARD, verbose: false, keepTmp: false, threads: 1, out: () => undefined });
    assert.equal(r.status, TestStatus.PASSED, formatResult(r).join('\n'));
  });
}
