/**
 * The runtime API against HAProxy 2.6 (`show stat`, `show info`, `show servers state` and the
 * server state commands): the same config and traffic on both. For `show stat`, the CSV of both —
 * the same header, the same rows in the same order with as many fields, and the same values in
 * every column switchyard keeps a counter for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, startHaproxy } from '../helpers/haproxy.ts';
import { closedPort, echo, exchange } from '../helpers/origins.ts';
import { cleanup, cliCommand, eventually, startProxy } from '../helpers/proxy.ts';
import { STAT_COLUMNS } from '../../src/runtime-api/stat.ts';

const COMPARED = ['pxname', 'svname', 'qcur', 'scur', 'slim', 'stot', 'bin', 'bout', 'econ', 'wretr', 'wredis', 'status', 'weight', 'act', 'bck', 'qlimit', 'pid', 'iid', 'sid', 'lbtot', 'type', 'addr', 'mode', 'algo'] as const;

function parseCsv(text: string): { header: string[]; rows: Array<Record<string, string>> } {
  const lines = text.split('\n').filter((l) => l !== '');
  const header = (lines[0] ?? '').replace(/^# /, '').replace(/,$/, '').split(',');
  const rows = lines.slice(1).map((l) => {
    const f = l.replace(/,$/, '').split(',');
    assert.equal(f.length, header.length, `row has ${f.length} fields for ${header.length} columns: ${l}`);
    return Object.fromEntries(header.map((h, i) => [h, f[i] ?? '']));
  });
  return { header, rows };
}

test('show stat: HAProxy 2.6 columns and the same counters after the same traffic', async () => {
  const o = await echo();
  const dead = await closedPort();
  const [fePort, badPort] = [await freePort(), await freePort()];
  const config = (stats: string) => `
global
    maxconn 1000
    stats socket ${stats} level admin
defaults
    mode tcp
    timeout connect 200ms
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${fePort}
    maxconn 500
    default_backend be
backend be
    balance roundrobin
    server s1 127.0.0.1:${o.port} maxconn 5 maxqueue 7
    server s2 127.0.0.1:${o.port} weight 3
    server s3 127.0.0.1:${o.port} backup
listen bad
    bind 127.0.0.1:${badPort}
    retries 1
    server dead 127.0.0.1:${dead}
`;
  const traffic = async () => {
    for (let i = 0; i < 4; i++) assert.equal((await exchange(fePort, 'hello')).data, 'hello');
    await exchange(badPort, 'x');
  };
  const hapSock = `/tmp/sy-hap-stat-${process.pid}.sock`;
  const hap = await startHaproxy(config(hapSock), fePort);
  let hapCsv: string;
  try {
    await traffic();
    await new Promise((r) => setTimeout(r, 300));
    hapCsv = await cliCommand(hapSock, 'show stat');
  } finally {
    await hap.stop();
  }
  // one worker: round robin across workers is proportional, not HAProxy's exact sequence
  const p = await startProxy(config('@STATS@'), { threads: 1 });
  let syCsv: string;
  try {
    await traffic();
    await eventually(() => p.logs.length >= 5, 3000, 'all sessions logged');
    syCsv = await p.cli('show stat');
  } finally {
    await cleanup(p, o);
  }
  const h = parseCsv(hapCsv);
  const s = parseCsv(syCsv);
  assert.deepEqual(s.header, h.header, 'the same columns in the same order');
  assert.deepEqual(s.header, [...STAT_COLUMNS]);
  assert.deepEqual(
    s.rows.map((r) => `${r.pxname}/${r.svname}`),
    h.rows.map((r) => `${r.pxname}/${r.svname}`),
    'the same rows in the same order',
  );
  for (const [i, hr] of h.rows.entries()) {
    const sr = s.rows[i] as Record<string, string>;
    for (const c of COMPARED) assert.equal(sr[c], hr[c], `${hr.pxname}/${hr.svname} ${c}: switchyard ${sr[c]}, HAProxy ${hr[c]}`);
  }
  assert.ok(syCsv.endsWith(',\n\n'), 'rows end with a comma, the reply with an empty line');
});

test('server state commands and show servers state answer as HAProxy 2.6 does', async () => {
  const o = await echo();
  const port = await freePort();
  const config = (stats: string) => `
global
    stats socket ${stats} level admin
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 127.0.0.1:${o.port}
    server s2 127.0.0.1:${o.port} weight 3
`;
  const script = [
    'show servers state',
    'disable server be/s1',
    'set server be/s2 weight 0',
    'get weight be/s2',
    'set server be/s2 state drain',
    'show servers state be',
    'enable server be/s1',
    'set server be/s2 state ready',
    'set weight be/s2 50%',
    'get weight be/s2',
    'show servers state be',
    'get weight be/nope',
    'get weight nope/s1',
    'show servers state nope',
  ];
  // the time since the last change is the only field that may differ
  const mask = (out: string) => out.replace(/^(\d+ \S+ \d+ \S+ \S+ \d+ \d+ \d+ \d+) \d+ /gm, '$1 T ');
  const run = async (cli: (cmd: string) => Promise<string>) => {
    const outs: string[] = [];
    for (const cmd of script) outs.push(mask(await cli(cmd)));
    return outs;
  };
  const hapSock = `/tmp/sy-hap-state-${process.pid}.sock`;
  const hap = await startHaproxy(config(hapSock), port);
  let expected: string[];
  try {
    expected = await run((c) => cliCommand(hapSock, c));
  } finally {
    await hap.stop();
  }
  const p = await startProxy(config('@STATS@'));
  try {
    const got = await run((c) => p.cli(c));
    for (const [i, cmd] of script.entries()) assert.equal(got[i], expected[i], `'${cmd}'`);
  } finally {
    await cleanup(p, o);
  }
});

test("show info: HAProxy 2.6's fields in HAProxy's order, switchyard's own after them", async () => {
  const o = await echo();
  const port = await freePort();
  const config = (stats: string) => `global\n    stats socket ${stats} level admin\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\nlisten app\n    bind 127.0.0.1:${port}\n    server s1 127.0.0.1:${o.port}\n`;
  const names = (out: string) => out.split('\n').filter(Boolean).map((l) => l.slice(0, l.indexOf(':')));
  const hapSock = `/tmp/sy-hap-info-${process.pid}.sock`;
  const hap = await startHaproxy(config(hapSock), port);
  let expected: string[];
  try {
    expected = names(await cliCommand(hapSock, 'show info'));
  } finally {
    await hap.stop();
  }
  const p = await startProxy(config('@STATS@'), { threads: 2 });
  try {
    await exchange(port, 'x');
    const out = await p.cli('show info');
    const got = names(out);
    assert.deepEqual(got.slice(0, expected.length), expected);
    assert.ok(got.includes('Stale_events') && got.includes('Worker_1_sessions'));
    const info = Object.fromEntries(out.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
    assert.equal(info.Nbthread, '2');
    assert.equal(info.Listeners, '1');
    assert.equal(info.CumConns, '1');
    assert.equal(info.Stopping, '0');
    assert.ok(Number(info['Ulimit-n']) > 0);
  } finally {
    await cleanup(p, o);
  }
});
