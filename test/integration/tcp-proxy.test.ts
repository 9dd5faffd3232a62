/** The real proxy, two workers, raw origins: relay, distribution, the runtime API, no leak. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cleanup, eventually, liveSessions, parseInfo, type RunningProxy, startProxy } from '../helpers/proxy.ts';
import { echo, exchange, named, type Origin } from '../helpers/origins.ts';

let p: RunningProxy;
let e: Origin;
let a: Origin;
let b: Origin;

before(async () => {
  e = await echo();
  a = await named('A');
  b = await named('B');
  p = await startProxy(
    `
global
    maxconn 1000
defaults
    mode tcp
    timeout connect 2s
    timeout client 5s
    timeout server 5s
listen echo
    bind 127.0.0.1:0
    server e1 127.0.0.1:${e.port}
listen rr
    bind 127.0.0.1:0
    balance roundrobin
    server a 127.0.0.1:${a.port} weight 1
    server b 127.0.0.1:${b.port} weight 3
`,
    { threads: 2 },
  );
});

after(async () => {
  assert.equal(await cleanup(p, e, a, b), 0, 'exit code 0 after SIGTERM');
});

test('bytes pass both ways through the relay, FIN forwarded, session logged --', async () => {
  const payload = 'x'.repeat(200_000);
  const r = await exchange(p.port('echo'), payload);
  assert.equal(r.error, undefined);
  assert.equal(r.data.length, payload.length);
  const line = await p.waitLog(/ echo echo\/e1 /);
  assert.match(line, /^127\.0\.0\.1:\d+ \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] echo echo\/e1 \d+\/\d+\/\d+ 200000 -- \d+\/\d+\/\d+\/\d+\/0 0\/0$/);
});

test('weighted round robin spreads sessions 1:3, and both workers carry sessions', async () => {
  const seen = { A: 0, B: 0 };
  await Promise.all(
    Array.from({ length: 40 }, async () => {
      const r = await exchange(p.port('rr'), '.');
      const who = r.data.slice(0, 1) as 'A' | 'B';
      seen[who]++;
    }),
  );
  assert.equal(seen.A + seen.B, 40);
  // the workers share one round-robin position: 40 picks are 10 whole periods of B A B B
  assert.deepEqual(seen, { A: 10, B: 30 });
  const info = parseInfo(await p.cli('show info'));
  assert.ok(Number(info.get('Worker_0_cum_sessions')) > 0, 'worker 0 carried sessions');
  assert.ok(Number(info.get('Worker_1_cum_sessions')) > 0, 'worker 1 carried sessions');
  assert.equal(info.get('Nbthread'), '2');
});

// HAProxy's threads share one round-robin position; per-worker positions made two workers each
// start the order again (B B A A B B B B for eight sessions in a row)
test('round robin is one order across the workers: sessions in a row follow B A B B, whichever worker takes them', async () => {
  // the test before made whole periods (40 picks) or none: the shared position starts a period
  const order: string[] = [];
  for (let i = 0; i < 8; i++) order.push((await exchange(p.port('rr'), '.')).data.slice(0, 1));
  assert.deepEqual(order, ['B', 'A', 'B', 'B', 'B', 'A', 'B', 'B']);
  const info = parseInfo(await p.cli('show info'));
  assert.ok(Number(info.get('Worker_0_cum_sessions')) > 0 && Number(info.get('Worker_1_cum_sessions')) > 0, 'both workers took sessions');
});

test('show sess lists a live session in HAProxy shape, then nothing but the CLI', async () => {
  const net = await import('node:net');
  const c = net.connect(p.port('echo'), '127.0.0.1');
  await new Promise((r) => c.once('connect', r));
  c.write('hi');
  await new Promise((r) => c.once('data', r));
  const sess = await liveSessions(p);
  assert.equal(sess.length, 1);
  assert.match(sess[0] ?? '', /^0x[0-9a-f]{8,}: proto=tcpv4 src=127\.0\.0\.1:\d+ fe=echo be=echo srv=e1 ts=00 age=\d+s calls=\d+ .* s1=\[EST\] exp=/);
  const all = await p.cli('show sess');
  assert.match(all, /fe=GLOBAL/);
  c.end();
  await eventually(async () => (await liveSessions(p)).length === 0, 3000, 'no live session');
});

test('show servers state: version 1 header and a row per server', async () => {
  const out = await p.cli('show servers state rr');
  const lines = out.trimEnd().split('\n');
  assert.equal(lines[0], '1');
  assert.match(lines[1] ?? '', /^# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight/);
  assert.match(lines[2] ?? '', /^\d+ rr 1 a 127\.0\.0\.1 2 0 1 1 /);
  assert.match(lines[3] ?? '', /^\d+ rr 2 b 127\.0\.0\.1 2 0 3 3 /);
  assert.match(await p.cli('show servers state nope'), /Can't find backend/);
});

test('help lists every command; an unknown one gets a suggestion; prompt mode stays open', async () => {
  const help = await p.cli('help');
  for (const cmd of ['show info', 'show sess', 'show servers state', 'shutdown session', 'prompt']) assert.match(help, new RegExp(cmd));
  assert.match(await p.cli('show inof'), /did you mean 'show info'/);
  const net = await import('node:net');
  const c = net.connect(p.socketPath);
  let out = '';
  c.setEncoding('utf8');
  c.on('data', (d: string) => (out += d));
  c.write('prompt\n');
  await eventually(() => out.includes('> '), 2000, 'prompt');
  c.write('show info\n');
  await eventually(() => /Name: switchyard[\s\S]*> $/.test(out), 2000, 'reply in prompt mode');
  c.write('quit\n');
  await new Promise((r) => c.once('close', r));
});

test('every reply ends with an empty line', async () => {
  const out = await p.cli('show info');
  assert.ok(out.endsWith('\n\n'), JSON.stringify(out.slice(-10)));
});

test('nothing is left once traffic stops: no session, connection or timer in any worker', async () => {
  await eventually(
    async () => {
      const info = parseInfo(await p.cli('show info'));
      return (
        info.get('CurrConns') === '0' &&
        ['0', '1'].every((w) => info.get(`Worker_${w}_sessions`) === '0' && info.get(`Worker_${w}_conns`) === '0' && info.get(`Worker_${w}_timers`) === '0')
      );
    },
    3000,
    'all counters back to zero',
  );
  const info = parseInfo(await p.cli('show info'));
  assert.equal(info.get('Stale_commands'), '0');
});

test('disable/enable server, set server state and weight, get weight: sessions follow at once', async () => {
  const who = async (n: number) => {
    const seen: string[] = [];
    for (let i = 0; i < n; i++) seen.push((await exchange(p.port('rr'), '.')).data.slice(0, 1));
    return seen;
  };
  assert.equal(await p.cli('disable server rr/a'), '\n');
  assert.deepEqual(new Set(await who(8)), new Set(['B']), 'a server in maintenance gets no session');
  assert.match(await p.cli('show servers state rr'), /\n\d+ rr 1 a 127\.0\.0\.1 0 1 /, 'op state stopped, admin state forced maintenance');
  await p.cli('enable server rr/a');
  await p.cli('set server rr/b state drain');
  assert.deepEqual(new Set(await who(6)), new Set(['A']), 'a draining server gets no new session');
  await p.cli('set server rr/b state ready');
  assert.equal(await p.cli('set server rr/b weight 0'), '\n');
  assert.equal(await p.cli('get weight rr/b'), '0 (initial 3)\n\n');
  assert.deepEqual(new Set(await who(6)), new Set(['A']), 'weight 0: no session');
  await p.cli('set weight rr/b 100%');
  assert.equal(await p.cli('get weight rr/b'), '3 (initial 3)\n\n');
  assert.deepEqual(new Set(await who(12)), new Set(['A', 'B']));
  assert.equal(await p.cli('get weight rr/nope'), 'No such server.\n\n');
  assert.equal(await p.cli('get weight nope/a'), 'No such backend.\n\n');
  assert.match(await p.cli('set server rr/a state up'), /expects 'ready', 'drain' and 'maint'/);
  assert.match(await p.cli('set server rr/a weight 999'), /between 0 and 256/);
});

test('set maxconn server applies to every worker at once; clear counters; show activity per worker', async () => {
  const net = await import('node:net');
  assert.equal(await p.cli('set maxconn server echo/e1 1'), '\n');
  const hold = net.connect(p.port('echo'), '127.0.0.1');
  await new Promise((r) => hold.once('connect', r));
  hold.write('x');
  await new Promise((r) => hold.once('data', r));
  // the second session waits in the queue: the only slot is taken, whichever worker it lands on
  const queued = exchange(p.port('echo'), 'y', { timeoutMs: 3000 });
  const row = (s: string, sv: string) => s.split('\n').find((l) => l.startsWith(`echo,${sv},`))?.split(',') ?? [];
  await eventually(async () => row(await p.cli('show stat'), 'BACKEND')[2] === '1', 2000, 'one session queued (qcur 1)');
  assert.equal(await p.cli('set maxconn server echo/e1 0'), '\n');
  assert.equal((await queued).data, 'y', 'unlimited again: the queued session is served');
  hold.end();
  const stat = await p.cli('show stat');
  const smax = (s: string) => row(s, 'e1')[5];
  assert.ok(Number(smax(stat)) >= 2);
  assert.equal(await p.cli('clear counters'), '\n');
  await eventually(async () => smax(await p.cli('show stat')) === '0', 2000, 'max values cleared');
  const act = await p.cli('show activity');
  assert.match(act, /^thread_id: main \(workers 0\.\.1\)\n/);
  assert.match(act, /\naccepted: \d+ \[ \d+ \d+ \]\n/);
  assert.match(act, /\nstale_events: 0 \[ 0 0 \]\n/);
  assert.match(await p.cli('set maxconn server echo/e1 lots'), /Integer value expected/);
});
