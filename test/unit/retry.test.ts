import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideRetry, type RetryInput, turnAroundDelay } from '../../src/core/retry.ts';

const base: RetryInput = { retries: 3, retriesLeft: 2, redispatch: 0, retryable: true, serverUsable: true, activeServers: 1, algo: 'leastconn' };

test('retry policy table (HAProxy stream_choose_redispatch)', () => {
  const cases: Array<[Partial<RetryInput>, string]> = [
    [{ retriesLeft: -1 }, 'give-up'],
    [{ retryable: false }, 'give-up'], // the error says a retry cannot help
    [{ retriesLeft: 2 }, 'same'],
    [{ retriesLeft: 0 }, 'same'], // no redispatch option: always the same server
    // option redispatch (-1): only on the last retry
    [{ redispatch: -1, retriesLeft: 2 }, 'same'],
    [{ redispatch: -1, retriesLeft: 1 }, 'same'],
    [{ redispatch: -1, retriesLeft: 0 }, 'redispatch'],
    [{ redispatch: -1, retriesLeft: -1 }, 'give-up'],
    // every retry / every 2nd retry
    [{ redispatch: 1, retriesLeft: 2 }, 'redispatch'],
    [{ redispatch: 2, retriesLeft: 2 }, 'same'],
    [{ redispatch: 2, retriesLeft: 1 }, 'redispatch'],
    // server went DOWN: leave it whatever the interval
    [{ redispatch: -1, retriesLeft: 2, serverUsable: false }, 'redispatch'],
    // another active server and an algorithm that does not hash: redispatch at once (HAProxy's
    // BE_LB_KIND != HI: random is a round-robin kind there, leastconn and first connection-based)
    ...(['roundrobin', 'static-rr', 'random', 'leastconn', 'first'] as const).map((algo): [Partial<RetryInput>, string] => [
      { redispatch: -1, retriesLeft: 2, algo, activeServers: 2 },
      'redispatch',
    ]),
    [{ redispatch: -1, retriesLeft: 2, algo: 'roundrobin', activeServers: 1 }, 'same'],
    // hashing algorithms keep the request on its server until the interval says otherwise
    ...(['source', 'uri', 'hdr'] as const).map((algo): [Partial<RetryInput>, string] => [{ redispatch: -1, retriesLeft: 2, algo, activeServers: 3 }, 'same']),
    // without the option, round robin does not redispatch
    [{ redispatch: 0, retriesLeft: 2, algo: 'roundrobin', activeServers: 3 }, 'same'],
  ];
  for (const [over, want] of cases) {
    assert.equal(decideRetry({ ...base, ...over }), want, JSON.stringify(over));
  }
});

test('turn-around is min(timeout connect, 1s)', () => {
  assert.equal(turnAroundDelay(undefined), 1000);
  assert.equal(turnAroundDelay(5000), 1000);
  assert.equal(turnAroundDelay(200), 200);
});
