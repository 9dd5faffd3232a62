/**
 * Differential tests against HAProxy 2.6 (Debian): the same config, the same client actions, and
 * the same log outcome (server, bytes, termination state, retries) from both; and `-c` verdicts
 * that agree on a table of configs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, haproxyAvailable, haproxyCheck, startHaproxy, tcplogKey } from '../helpers/haproxy.ts';
import { closedPort, echo, exchange, origin, type Origin } from '../helpers/origins.ts';
import { eventually, startProxy } from '../helpers/proxy.ts';

const BIN = new URL('../../bin/switchyard.js', import.meta.url).pathname;

before(() => {
  assert.ok(haproxyAvailable(), 'HAProxy is required for the differential tests: apt-get install -y haproxy (.ci/run does it)');
});

let echoOrigin: Origin;
let silent: Origin;
before(async () => {
  echoOrigin = await echo();
  silent = await origin(() => {});
});
after(async () => {
  await echoOrigin.close();
  await silent.close();
});

interface Scenario {
  readonly name: string;
  readonly backend: (ports: { dead: number }) => string;
  readonly extraDefaults?: string;
  /** Drive clients against `port`; returns once every session has ended. */
  readonly drive: (port: number) => Promise<void>;
  readonly sessions: number;
}

const scenarios: Scenario[] = [
  {
    name: 'normal relay: --',
    backend: () => `    server s1 127.0.0.1:${echoOrigin.port}`,
    drive: async (port) => void (await exchange(port, 'hello')),
    sessions: 1,
  },
  {
    name: 'refused server, retries 2: SC after 2 retries',
    backend: ({ dead }) => `    retries 2\n    server s1 127.0.0.1:${dead}`,
    extraDefaults: '    timeout connect 100ms',
    drive: async (port) => void (await exchange(port, 'x')),
    sessions: 1,
  },
  {
    name: 'redispatch from a dead server to a live one',
    backend: ({ dead }) => `    balance roundrobin\n    retries 3\n    option redispatch\n    server dead 127.0.0.1:${dead}\n    server live 127.0.0.1:${echoOrigin.port}`,
    drive: async (port) => {
      for (let i = 0; i < 4; i++) await exchange(port, 'x');
    },
    sessions: 4,
  },
  {
    name: 'all servers disabled: SC <NOSRV>',
    backend: () => `    server s1 127.0.0.1:${echoOrigin.port} disabled`,
    drive: async (port) => void (await exchange(port, 'x')),
    sessions: 1,
  },
  {
    name: 'server never answers: sD',
    backend: () => `    timeout server 200ms\n    server s1 127.0.0.1:${silent.port}`,
    drive: async (port) => void (await exchange(port, 'x', { end: false })),
    sessions: 1,
  },
  {
    name: 'client idle: cD',
    backend: () => `    server s1 127.0.0.1:${silent.port}`,
    extraDefaults: '    timeout client 200ms',
    drive: async (port) => void (await exchange(port, '', { end: false })),
    sessions: 1,
  },
  {
    name: 'queue timeout: sQ',
    backend: () => `    timeout queue 200ms\n    server s1 127.0.0.1:${echoOrigin.port} maxconn 1`,
    drive: async (port) => {
      const hold = net.connect(port, '127.0.0.1');
      await new Promise((r) => hold.once('connect', r));
      hold.write('a');
      await new Promise((r) => hold.once('data', r));
      await exchange(port, 'b', { end: false });
      hold.end();
      await new Promise((r) => hold.once('close', r));
    },
    sessions: 2,
  },
];

function configFor(s: Scenario, port: number, dead: number): string {
  return `
global
    log stdout format raw local0
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
${s.extraDefaults ?? ''}
listen app
    bind 127.0.0.1:${port}
${s.backend({ dead })}
`;
}

for (const s of scenarios) {
  test(`same outcome as HAProxy: ${s.name}`, async () => {
    const dead = await closedPort();
    const hport = await freePort();
    const hap = await startHaproxy(configFor(s, hport, dead), hport);
    try {
      await s.drive(hport);
      await eventually(() => hap.logs.filter((l) => / app /.test(l)).length >= s.sessions, 5000, 'haproxy log lines');
    } finally {
      await hap.stop();
    }
    const sport = await freePort();
    const sy = await startProxy(configFor(s, sport, dead), { threads: 1 });
    try {
      await s.drive(sport);
      await eventually(() => sy.logs.filter((l) => / app /.test(l)).length >= s.sessions, 5000, 'switchyard log lines');
    } finally {
      await sy.stop();
    }
    const key = (ls: string[]) => ls.filter((l) => / app /.test(l)).map(tcplogKey).sort();
    assert.deepEqual(key(sy.logs), key(hap.logs), `switchyard:\n${sy.logs.join('\n')}\nhaproxy:\n${hap.logs.join('\n')}`);
  });
}

const checkCases: Array<[string, string]> = [
  ['minimal listen', 'listen a\n    mode tcp\n    bind 127.0.0.1:1\n    server s 127.0.0.1:2\n'],
  ['defaults inheritance and every balance', 'defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\nbackend b1\n    balance leastconn\n    server s 127.0.0.1:2 weight 10 maxconn 5 maxqueue 3\nbackend b2\n    balance source\n    server s 127.0.0.1:2 backup\nfrontend f\n    bind 127.0.0.1:1\n    default_backend b1\n'],
  ['quoted args, comments, option redispatch N', 'global\n    maxconn 100 # comment\ndefaults\n    mode "tcp"\n    retries 5\n    option redispatch 2\nlisten a\n    bind "127.0.0.1:1"\n    server s 127.0.0.1:2\n'],
  ['misspelt keyword', 'listen a\n    bind 127.0.0.1:1\n    srever s 127.0.0.1:2\n'],
  ['bind in a backend', 'backend b\n    bind 127.0.0.1:1\n    server s 127.0.0.1:2\n'],
  ['server in a frontend', 'frontend f\n    bind 127.0.0.1:1\n    server s 127.0.0.1:2\n'],
  ['bad timeout', 'defaults\n    timeout client 10x\nlisten a\n    bind 127.0.0.1:1\n'],
  ['unknown balance', 'listen a\n    bind 127.0.0.1:1\n    balance fastest\n'],
  ['missing default_backend target', 'frontend f\n    bind 127.0.0.1:1\n    default_backend nope\n'],
  ['server state file keywords', 'global\n    server-state-base /tmp\n    server-state-file sy.state\ndefaults\n    load-server-state-from-file global\nlisten a\n    bind 127.0.0.1:1\n    server s 127.0.0.1:2\n'],
  ['weight out of range', 'listen a\n    bind 127.0.0.1:1\n    server s 127.0.0.1:2 weight 300\n'],
  ['http frontend, tcp backend', 'frontend f\n    mode http\n    bind 127.0.0.1:1\n    default_backend b\nbackend b\n    mode tcp\n    server s 127.0.0.1:2\n'],
  ['tcp frontend, http backend (an upgrade)', 'frontend f\n    mode tcp\n    bind 127.0.0.1:1\n    default_backend b\nbackend b\n    mode http\n    server s 127.0.0.1:2\n'],
  ['use_backend to a tcp backend', 'frontend f\n    mode http\n    bind 127.0.0.1:1\n    use_backend b if { path / }\nbackend b\n    mode tcp\n    server s 127.0.0.1:2\n'],
  ['an ACL used before it is declared', 'frontend f\n    mode http\n    bind 127.0.0.1:1\n    use_backend b if x\n    acl x path /\nbackend b\n    mode http\n    server s 127.0.0.1:2\n'],
  ['http-request return and deny', 'listen a\n    mode http\n    bind 127.0.0.1:1\n    http-request deny deny_status 429 if { src 10.0.0.0/8 }\n    http-request return status 200 content-type text/plain string ok if { path_beg -i /health }\n'],
  ['retry-on and http-reuse', 'listen a\n    mode http\n    bind 127.0.0.1:1\n    retry-on empty-response 503 response-timeout\n    http-reuse aggressive\n    server s 127.0.0.1:2 pool-max-conn 10 pool-purge-delay 2s\n'],
  ['unknown retry-on keyword', 'listen a\n    mode http\n    bind 127.0.0.1:1\n    retry-on sometimes\n'],
];

for (const [name, text] of checkCases) {
  test(`-c agrees with HAProxy: ${name}`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-diff-'));
    const file = path.join(dir, 'c.cfg');
    fs.writeFileSync(file, text);
    const sy = spawnSync(process.execPath, [BIN, '-c', '-f', file], { encoding: 'utf8' });
    fs.rmSync(dir, { recursive: true });
    const hap = haproxyCheck(text);
    assert.equal(sy.status === 0, hap.code === 0, `haproxy: ${hap.code} ${hap.out}\nswitchyard: ${sy.status} ${sy.stderr}`);
  });
}
