/**
 * Health checks end to end: TCP and HTTP checks move servers DOWN and UP as HAProxy's rise/fall
 * counter does, DOWN servers get no traffic at once, backups take over only when no active server
 * is up, and each change is logged in HAProxy's words.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { get, httpOrigin, ok, request } from '../helpers/http.ts';
import { closedPort, type Origin } from '../helpers/origins.ts';
import { cleanup, eventually, type RunningProxy, startProxy } from '../helpers/proxy.ts';

const defaults = `
defaults
    mode http
    timeout connect 500ms
    timeout client 5s
    timeout server 5s
`;

const named = (name: string, health?: () => string): Promise<Origin> =>
  httpOrigin((r) => (r.target === '/health' && health ? health() : ok(name)));

/** The `status` column of `show stat` for backend/server. */
async function status(p: RunningProxy, be: string, srv: string): Promise<string> {
  const csv = await p.cli('show stat');
  const head = (csv.split('\n')[0] as string).replace(/^# /, '').split(',');
  const col = head.indexOf('status');
  const row = csv.split('\n').find((l) => l.startsWith(`${be},${srv},`));
  return row ? (row.split(',')[col] as string) : '(no row)';
}

const stderrHas = (p: RunningProxy, re: RegExp) => eventually(() => p.stderr.some((l) => re.test(l)), 5000, `stderr matching ${re}`);

test('TCP checks: a refusing server goes DOWN after its first failure, gets no request, comes back UP after rise passes', async () => {
  const a = await named('a');
  const port = await closedPort();
  const p = await startProxy(`${defaults}
listen app
    bind 127.0.0.1:0
    balance roundrobin
    retries 0
    server a 127.0.0.1:${a.port} check inter 100ms rise 2 fall 2 pool-purge-delay 300ms
    server b 127.0.0.1:${port} check inter 100ms rise 2 fall 2
`);
  let revived: net.Server | null = null;
  try {
    await stderrHas(p, /^\[WARNING\] Server app\/b is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: \d+ms\. 1 active and 0 backup servers left\. 0 sessions active, 0 requeued, 0 remaining in queue\.$/);
    assert.equal(await status(p, 'app', 'b'), 'DOWN');
    assert.equal(await status(p, 'app', 'a'), 'UP');
    for (let i = 0; i < 6; i++) assert.equal((await request(p.port('app'), get('/'))).body, 'a', 'only the UP server is used');
    // the server comes back: two passes in a row bring it UP
    revived = net.createServer((s) => s.end());
    await new Promise<void>((r) => revived?.listen(port, '127.0.0.1', () => r()));
    await stderrHas(p, /^\[WARNING\] Server app\/b is UP, reason: Layer4 check passed, check duration: \d+ms\. 2 active and 0 backup servers online\. 0 sessions requeued, 0 total in queue\.$/);
    assert.equal(await status(p, 'app', 'b'), 'UP');
    const csv = await p.cli('show stat');
    const head = (csv.split('\n')[0] as string).replace(/^# /, '').split(',');
    const row = (csv.split('\n').find((l) => l.startsWith('app,b,')) as string).split(',');
    assert.equal(row[head.indexOf('check_status')], 'L4OK');
    assert.equal(row[head.indexOf('chkdown')], '1');
    assert.ok(Number(row[head.indexOf('chkfail')]) >= 1);
  } finally {
    await new Promise((r) => (revived ? revived.close(r) : r(undefined)));
    await cleanup(p, a);
  }
});

test('HTTP checks: http-check expect status 200 takes a 503-answering server DOWN and back UP', async () => {
  let healthy = false;
  const a = await named('a', () => (healthy ? ok('fine') : 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n'));
  const b = await named('b', () => ok('fine'));
  const p = await startProxy(`${defaults}
listen app
    bind 127.0.0.1:0
    option httpchk GET /health
    http-check expect status 200
    server a 127.0.0.1:${a.port} check inter 100ms fall 1 rise 1 pool-purge-delay 300ms
    server b 127.0.0.1:${b.port} check inter 100ms fall 1 rise 1 pool-purge-delay 300ms
`);
  try {
    await stderrHas(p, /^\[WARNING\] Server app\/a is DOWN, reason: Layer7 wrong status, code: 503, info: "Service Unavailable", check duration: \d+ms\. 1 active and 0 backup servers left\./);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await request(p.port('app'), get('/'))).body);
    assert.deepEqual([...seen], ['b']);
    assert.ok(a.received.some((d) => d.toString().startsWith('GET /health HTTP/1.0\r\n')), 'the check request as configured');
    healthy = true;
    await stderrHas(p, /^\[WARNING\] Server app\/a is UP, reason: Layer7 check passed, code: 200, check duration: \d+ms\. 2 active and 0 backup servers online\./);
  } finally {
    await cleanup(p, a, b);
  }
});

test('backup servers: used only when no active server is up; option allbackups uses all of them', async () => {
  const dead = await closedPort();
  const b1 = await named('b1');
  const b2 = await named('b2');
  const p = await startProxy(`${defaults}
listen first
    bind 127.0.0.1:0
    server act 127.0.0.1:${dead} check inter 100ms
    server b1 127.0.0.1:${b1.port} backup pool-purge-delay 300ms
    server b2 127.0.0.1:${b2.port} backup pool-purge-delay 300ms
listen all
    bind 127.0.0.1:0
    option allbackups
    server act 127.0.0.1:${dead} check inter 100ms
    server b1 127.0.0.1:${b1.port} backup pool-purge-delay 300ms
    server b2 127.0.0.1:${b2.port} backup pool-purge-delay 300ms
`);
  try {
    await stderrHas(p, /Server first\/act is DOWN, .* 0 active and 2 backup servers left/);
    await stderrHas(p, /Server all\/act is DOWN, .* 0 active and 2 backup servers left/);
    const firstSeen = new Set<string>();
    const allSeen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      firstSeen.add((await request(p.port('first'), get('/'))).body);
      allSeen.add((await request(p.port('all'), get('/'))).body);
    }
    assert.deepEqual([...firstSeen], ['b1'], 'the first backup only');
    assert.deepEqual([...allSeen].sort(), ['b1', 'b2'], 'every backup with allbackups');
  } finally {
    await cleanup(p, b1, b2);
  }
});

test('the last server DOWN: HAProxy\'s alert, and clients get 503 at once', async () => {
  const dead = await closedPort();
  const p = await startProxy(`${defaults}
listen solo
    bind 127.0.0.1:0
    server only 127.0.0.1:${dead} check inter 100ms
`);
  try {
    await stderrHas(p, /^\[ALERT\] proxy 'solo' has no server available!$/);
    const r = await request(p.port('solo'), get('/'));
    assert.equal(r.status, 503);
    await p.waitLog(/ solo solo\/<NOSRV> .* 503 .* SC-- /);
  } finally {
    await cleanup(p);
  }
});

test('timeout check: a server that accepts and never answers the HTTP check is DOWN with Layer7 timeout', async () => {
  const mute = await httpOrigin((r) => (r.target === '/health' ? null : ok('mute')));
  const p = await startProxy(`${defaults}
    timeout check 150ms
listen app
    bind 127.0.0.1:0
    option httpchk /health
    server m 127.0.0.1:${mute.port} check inter 200ms fall 1
`);
  try {
    await stderrHas(p, /^\[WARNING\] Server app\/m is DOWN, reason: Layer7 timeout, check duration: \d+ms\./);
    assert.ok(mute.received.some((d) => d.toString().startsWith('OPTIONS /health HTTP/1.0\r\n')), 'option httpchk <uri> sends OPTIONS');
  } finally {
    await cleanup(p, mute);
  }
});
