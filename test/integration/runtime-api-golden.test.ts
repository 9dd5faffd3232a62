/**
 * Golden answers of every runtime API command: for each keyword of `cliKeywords`, its cases (with
 * arguments, an error case for those that take any, at admin level and at user level where the
 * level matters) run against a real proxy after a known traffic run, and the normalized answers
 * are compared with test/fixtures/runtime-api/<command>.txt. A keyword without cases fails the test.
 *
 * Regenerate the files after a deliberate change of output:
 *   UPDATE_GOLDEN=1 npx node --test --import ./test/helpers/leak-check.ts test/integration/runtime-api-golden.test.ts
 * then read the diff before committing it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { cliKeywords } from '../../src/runtime-api/commands.ts';
import { echo, exchange } from '../helpers/origins.ts';
import { cleanup, cliCommand, eventually, liveSessions, parseInfo, startProxy } from '../helpers/proxy.ts';

const DIR = new URL('../fixtures/runtime-api/', import.meta.url).pathname;
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** One command as run: on the admin socket, or on the user-level one. */
interface Case {
  readonly cmd: string;
  readonly user?: true;
}

/**
 * The cases, in the order they run (commands with effects come where they are safe: the state
 * changes are undone by the cases after them, the session is shut last but two, the worker crash
 * and the reload at the very end). `@SESS@` is the id of a live session, `@PORT@` the origin's.
 */
const CASES: ReadonlyArray<readonly [keyword: string, cases: readonly Case[]]> = [
  ['help', [{ cmd: 'help' }, { cmd: 'help', user: true }, { cmd: 'no such command' }]],
  ['show info', [{ cmd: 'show info' }, { cmd: 'show info typed' }, { cmd: 'show info json' }, { cmd: 'show info bogus' }]],
  ['show stat', [{ cmd: 'show stat' }, { cmd: 'show stat typed' }, { cmd: 'show stat json' }, { cmd: 'show stat app 4 1 typed' }, { cmd: 'show stat nope -1 -1' }]],
  ['show sess', [{ cmd: 'show sess' }, { cmd: 'show sess', user: true }, { cmd: 'show sess all' }, { cmd: 'show sess @SESS@' }, { cmd: 'show sess 0xfffff0' }, { cmd: 'show sess foo' }]],
  ['show servers state', [{ cmd: 'show servers state' }, { cmd: 'show servers state app' }, { cmd: 'show servers state nope' }]],
  ['show servers conn', [{ cmd: 'show servers conn' }, { cmd: 'show servers conn app' }, { cmd: 'show servers conn nope' }]],
  ['show pools', [{ cmd: 'show pools' }]],
  ['show activity', [{ cmd: 'show activity' }]],
  ['get weight', [{ cmd: 'get weight app/s1' }, { cmd: 'get weight app/nope' }, { cmd: 'get weight nope/s1' }, { cmd: 'get weight' }]],
  ['set weight', [{ cmd: 'set weight app/s2 50%' }, { cmd: 'get weight app/s2' }, { cmd: 'set weight app/s2 300' }, { cmd: 'set weight app/s2 x' }, { cmd: 'set weight app/s2 4' }, { cmd: 'set weight app/s2 1', user: true }]],
  [
    'set server',
    [
      { cmd: 'set server app/s2 state drain' },
      { cmd: 'show servers state app' },
      { cmd: 'set server app/s2 state ready' },
      { cmd: 'set server app/s2 state bogus' },
      { cmd: 'set server app/s2 weight 2' },
      { cmd: 'set server app/s2 weight 4' },
      { cmd: 'set server app/s2 addr 127.0.0.1 port @PORT@' },
      { cmd: 'set server app/s2 addr nowhere' },
      { cmd: 'set server app/s2 frobnicate' },
      { cmd: 'set server app/nope state ready' },
    ],
  ],
  ['disable server', [{ cmd: 'disable server app/s1' }, { cmd: 'show servers state app' }, { cmd: 'disable server app/nope' }, { cmd: 'disable server' }]],
  ['enable server', [{ cmd: 'enable server app/s1' }, { cmd: 'show servers state app' }, { cmd: 'enable server nope/s1' }]],
  ['set maxconn server', [{ cmd: 'set maxconn server app/s1 10' }, { cmd: 'set maxconn server app/s1 many' }, { cmd: 'set maxconn server app/s1 0' }]],
  ['clear counters', [{ cmd: 'clear counters' }, { cmd: 'clear counters all', user: true }, { cmd: 'clear counters all' }, { cmd: 'show stat typed' }]],
  ['prompt', [{ cmd: 'prompt;get weight app/s1;quit' }]],
  ['quit', [{ cmd: 'quit' }, { cmd: 'get weight app/s1;quit;get weight app/s2' }]],
  ['shutdown session', [{ cmd: 'shutdown session @SESS@', user: true }, { cmd: 'shutdown session @SESS@' }, { cmd: 'shutdown session 0xfffff0' }, { cmd: 'shutdown session' }]],
  ['debug dev crash-worker', [{ cmd: 'debug dev crash-worker 7' }, { cmd: 'debug dev crash-worker x' }, { cmd: 'debug dev crash-worker 0' }]],
  ['reload', [{ cmd: 'reload', user: true }, { cmd: 'reload' }]],
];

/** Hide what changes from run to run: times, ages, pids, ports, pointers, dates, memory. */
function normalize(cmd: string, out: string): string {
  if (cmd.includes('json')) out = normalizeJson(out);
  return (
    out
      .replace(/\/tmp\/switchyard-test-[^/\s]+/g, '<dir>')
      .replace(/\b127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
      .replace(/port changed from '\d+' to '\d+'/g, "port changed from '<port>' to '<port>'")
      .replace(/0x[0-9a-f]{8,}\b/g, '0x<ptr>')
      .replace(/\b(age|exp|calls|conn_exp)=\S*/g, '$1=<t>')
      // show sess all|<id>: accept dates, session and connection ids
      .replace(/: \[\d\d\/\w{3}\/\d{4}:[\d:.]+\] id=\d+/g, ': [<date>] id=<n>')
      .replace(/\bconn=#\d+/g, 'conn=#<n>')
      .replace(/^(0x<ptr>: id=)\d+/gm, '$1<n>')
      .replace(/\b(src|source)=unix:\d+/g, '$1=unix:<n>')
      // show info: text and typed
      .replace(/^((?:\d+\.)?(?:Pid|Uptime|Uptime_sec|Ulimit-n|Maxsock|node|Start_time_sec|Tasks|Worker_\d+_heap_used_mb|Worker_\d+_timers|TotalBytesOut)(?:\.1:\w+:\w+:|: )).*$/gm, '$1<v>')
      // show stat: the age of the last change, in the CSV (24th column) and typed
      .replace(/^((?:[^,\n]*,){23})\d+,/gm, '$1<t>,')
      .replace(/^(\w\.\d+\.\d+\.23\.lastchg\.1:MAP:u32:)\d+$/gm, '$1<t>')
      // show servers state: srv_time_since_last_change, srv_port
      .replace(/^(\d+ \S+ \d+ \S+ \S+ \d+ \d+ \d+ \d+) \d+ (.*) \d+ - 0 0 - - 0$/gm, '$1 <t> $2 <port> - 0 0 - - 0')
      // show servers conn: the port column
      .replace(/^(\S+\/\S+ \d+\/\d+ 127\.0\.0\.1) \d+ /gm, '$1 <port> ')
      // show activity: dates and loop counts
      .replace(/^(date_now: ).*$/gm, '$1<date>')
      .replace(/^((?:loops|tasksw|timers): )\d+ \[ [\d ]+ \]$/gm, '$1<n>')
  );
}

/** JSON answers: parsed, the same values masked, printed one field per line. */
function normalizeJson(out: string): string {
  const masked = new Set(['Pid', 'Uptime', 'Uptime_sec', 'Ulimit-n', 'Maxsock', 'node', 'Start_time_sec', 'Tasks', 'TotalBytesOut', 'lastchg', 'addr']);
  const mask = (f: { field: { name: string }; value: { value: unknown } }) => masked.has(f.field.name) || /^Worker_\d+_(heap_used_mb|timers)$/.test(f.field.name) ? { ...f, value: { ...f.value, value: '<v>' } } : f;
  const parsed = JSON.parse(out) as unknown[];
  const flat = (parsed.flat() as Array<{ field: { name: string }; value: { value: unknown } }>).map(mask);
  return `${flat.map((f) => JSON.stringify(f)).join('\n')}\n\n`;
}

test('runtime API: every command of the keyword table answers as its golden file says', async () => {
  // every keyword has its cases, and every case names a keyword
  assert.deepEqual(
    CASES.map(([k]) => k).sort(),
    cliKeywords.map((k) => k.words.join(' ')).sort(),
    'a golden case list for each command of cliKeywords (add one for a new command)',
  );
  const o = await echo();
  const o2 = await echo();
  const p = await startProxy(
    `global
    stats socket @STATS@ level admin
    stats socket @STATS@.user level user
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen app
    bind 127.0.0.1:0
    server s1 127.0.0.1:${o.port} maxconn 20
    server s2 127.0.0.1:${o.port} weight 4
`,
    { threads: 1 },
  );
  let held: net.Socket | undefined;
  try {
    // the known traffic: five sessions of 5 bytes each way
    for (let i = 0; i < 5; i++) assert.equal((await exchange(p.port('app'), 'hello')).data, 'hello');
    await eventually(() => p.logs.length >= 5, 3000, 'five sessions logged');
    // and one session kept open for show sess and shutdown session
    held = net.connect(p.port('app'), '127.0.0.1');
    const sock = held;
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write('held');
    await new Promise<void>((r) => sock.once('data', () => r()));
    const [line] = await liveSessions(p);
    const sessId = /^(0x[0-9a-f]+):/.exec(line ?? '')?.[1];
    assert.ok(sessId, 'the held session is listed');
    sock.on('error', () => undefined);
    const userSock = `${p.socketPath}.user`;
    const failures: string[] = [];
    for (const [keyword, cases] of CASES) {
      let text = '';
      for (const c of cases) {
        const cmd = c.cmd.replace('@SESS@', sessId).replace('@PORT@', String(o2.port));
        const out = await cliCommand(c.user ? userSock : p.socketPath, cmd);
        text += `$ ${c.user ? 'user' : 'admin'}> ${normalize('', c.cmd)}\n${normalize(cmd, out)}`;
        if (cmd === 'debug dev crash-worker 0') {
          await eventually(async () => parseInfo(await p.cli('show info')).get('Worker_restarts') === '1', 5000, 'the worker restarted');
          await eventually(async () => (await exchange(p.port('app'), 'again')).data === 'again', 5000, 'the new worker serves');
        }
      }
      const file = `${DIR}${keyword.replaceAll(' ', '-')}.txt`;
      if (UPDATE) {
        fs.mkdirSync(DIR, { recursive: true });
        fs.writeFileSync(file, text);
        continue;
      }
      const expected = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(no golden file)';
      if (text !== expected) failures.push(`${file}:\n--- expected\n${expected}\n+++ got\n${text}`);
    }
    assert.deepEqual(failures, [], 'answers differ from the golden files (UPDATE_GOLDEN=1 regenerates them)');
    // the shut session is gone: the client saw its end
    assert.ok(sock.destroyed || sock.readableEnded || (await new Promise((r) => sock.once('close', () => r(true)))));
  } finally {
    held?.destroy();
    await cleanup(p, o, o2);
  }
});
