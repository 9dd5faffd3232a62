/**
 * HTTP mode against HAProxy 2.6 (Debian): the same config and the same raw client bytes to both,
 * then the same answers (status, body) and the same log outcome (backend/server, status, bytes,
 * termination state, retries, request line).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { freePort, haproxyAvailable, startHaproxy } from '../helpers/haproxy.ts';
import { httpOrigin, ok } from '../helpers/http.ts';
import { closedPort, type Origin } from '../helpers/origins.ts';
import { eventually, startProxy } from '../helpers/proxy.ts';

let app: Origin;

before(async () => {
  assert.ok(haproxyAvailable(), 'HAProxy is required for the differential tests: apt-get install -y haproxy (.ci/run does it)');
  app = await httpOrigin((r, sock) => {
    switch (r.target) {
      case '/missing':
        return 'HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nnot here\n';
      case '/silent':
        return null;
      case '/close':
        return { close: true };
      case '/garbage':
        return 'HTTP/1.1 two hundred\r\n\r\n';
      case '/chunked':
        return 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
      case '/cut':
        sock.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort');
        setTimeout(() => sock.destroy(), 20);
        return null;
      default:
        return ok(`hello ${r.method} ${r.target} ${r.body.length}`);
    }
  });
});

after(async () => {
  await app.close();
});

/** Send raw bytes (optionally in steps), collect everything until the proxy closes or `ms` pass. */
function talk(port: number, steps: ReadonlyArray<string | number>, ms = 1500): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    let out = '';
    const done = () => {
      clearTimeout(t);
      c.destroy();
      resolve(out);
    };
    const t = setTimeout(done, ms);
    c.setEncoding('latin1');
    c.on('data', (d: string) => (out += d));
    c.on('error', done);
    c.on('close', done);
    c.on('connect', async () => {
      for (const s of steps) {
        if (typeof s === 'number') await new Promise((r) => setTimeout(r, s));
        else c.write(s);
      }
    });
  });
}

/** Status codes and bodies of the responses in `raw`, framing aside. */
function answers(raw: string): string[] {
  const out: string[] = [];
  for (const m of raw.matchAll(/HTTP\/1\.[01] (\d{3})[^\r]*\r\n((?:[^\r]+\r\n)*)\r\n/g)) out.push(m[1] as string);
  return out;
}

/** What must agree in an httplog line: frontend, backend/server, status, termination, retries, request. */
function httplogKey(line: string): string {
  const m = /\] (\S+) (\S+) -?\d+\/-?\d+\/-?\d+\/-?\d+\/\d+ (-?\d+) \d+ \S+ \S+ (\S{4}) \d+\/\d+\/\d+\/\d+\/(\+?\d+) \d+\/\d+ (".*")$/.exec(line);
  return m ? `${m[1]} ${m[2]} ${m[3]} ${m[4]} ${m[5]} ${m[6]}` : `(unparsed: ${line})`;
}

interface Scenario {
  readonly name: string;
  readonly lines: string;
  readonly steps: ReadonlyArray<string | number>;
  /** Log lines expected. */
  readonly logs: number;
  /** The backend has no `server s1` line (the scenario brings its own servers). */
  readonly noApp?: boolean;
}

const get = (p: string, extra = '') => `GET ${p} HTTP/1.1\r\nhost: t\r\n${extra}\r\n`;

const scenarios = (dead: number): Scenario[] => [
  { name: 'two keep-alive requests', lines: '', steps: [get('/a'), 100, get('/b')], logs: 2 },
  { name: 'a 404 passes through', lines: '', steps: [get('/missing')], logs: 1 },
  { name: 'a chunked response', lines: '', steps: [get('/chunked')], logs: 1 },
  { name: 'a POST with a chunked body', lines: '', steps: ['POST /p HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'], logs: 1 },
  { name: 'HTTP/1.0 without keep-alive', lines: '', steps: ['GET /ten HTTP/1.0\r\n\r\n'], logs: 1 },
  { name: 'no usable server: 503 SC', lines: '    server s2 127.0.0.1:1 disabled', steps: [get('/')], logs: 1, noApp: true },
  { name: 'connection refused after retries: 503 SC', lines: `    retries 1\n    server s2 127.0.0.1:${dead}`, steps: [get('/')], logs: 1, noApp: true },
  { name: 'space before the colon: 400 PR', lines: '', steps: ['GET / HTTP/1.1\r\nhost : t\r\n\r\n'], logs: 1 },
  { name: 'server timeout: 504 sH', lines: '    timeout server 300ms', steps: [get('/silent')], logs: 1 },
  { name: 'server closes without answering: 502 SH', lines: '', steps: [get('/close')], logs: 1 },
  { name: 'garbage response: 502 PH', lines: '', steps: [get('/garbage')], logs: 1 },
  { name: 'response cut in its body: SD', lines: '', steps: [get('/cut')], logs: 1 },
  { name: 'http-request deny: 403 PR', lines: '    http-request deny if { path_beg /admin }', steps: [get('/admin/x')], logs: 1 },
  { name: 'http-request return: 200 LR', lines: '    http-request return status 200 content-type text/plain string pong if { path /ping }', steps: [get('/ping')], logs: 1 },
  { name: 'timeout http-request: 408 cR', lines: '    timeout http-request 300ms', steps: ['GET / HTTP/1.1\r\nhost'], logs: 1 },
  { name: 'retry-on empty-response, retries 2, the server always closes: 502 SH after the retries', lines: '    retry-on empty-response\n    retries 2', steps: [get('/close')], logs: 1 },
];

function configFor(port: number, s: Scenario): string {
  return `
global
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen app
    bind 127.0.0.1:${port}
${s.lines}
${s.noApp ? '' : `    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms`}
`;
}

const dead = await closedPort();
for (const s of scenarios(dead)) {
  test(`same answers and log as HAProxy (mode http): ${s.name}`, async () => {
    const hport = await freePort();
    const hap = await startHaproxy(configFor(hport, s), hport);
    let hapRaw: string;
    try {
      hapRaw = await talk(hport, s.steps);
      await eventually(() => hap.logs.filter((l) => / app /.test(l)).length >= s.logs, 5000, 'haproxy log lines');
    } finally {
      await hap.stop();
    }
    const sport = await freePort();
    const sy = await startProxy(configFor(sport, s), { threads: 1 });
    let syRaw: string;
    try {
      syRaw = await talk(sport, s.steps);
      await eventually(() => sy.logs.filter((l) => / app /.test(l)).length >= s.logs, 5000, 'switchyard log lines');
    } finally {
      await sy.stop();
    }
    assert.deepEqual(answers(syRaw), answers(hapRaw), `answers\nswitchyard:\n${syRaw}\nhaproxy:\n${hapRaw}`);
    const key = (ls: string[]) => ls.filter((l) => / app /.test(l)).map(httplogKey);
    assert.deepEqual(key(sy.logs), key(hap.logs), `switchyard:\n${sy.logs.join('\n')}\nhaproxy:\n${hap.logs.join('\n')}`);
  });
}
