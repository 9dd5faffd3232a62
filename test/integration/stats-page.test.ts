/**
 * HAProxy's HTML statistics page (`stats enable|uri|auth|refresh`), served by the main thread:
 * basic authentication, the tables and state colours as a real browser renders them (Debian's
 * headless Chromium: the DOM it built, and a screenshot kept in test/artifacts/).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { get, httpOrigin, ok, request } from '../helpers/http.ts';
import { closedPort, type Origin } from '../helpers/origins.ts';
import { cleanup, eventually, type RunningProxy, startProxy } from '../helpers/proxy.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;

let p: RunningProxy;
let app: Origin;

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), 'Debian chromium is required for this test: apt-get install -y chromium (.ci/run does it)');
  app = await httpOrigin(() => ok('hello'));
  const dead = await closedPort();
  p = await startProxy(
    `
defaults
    mode http
    timeout connect 500ms
    timeout client 2s
    timeout server 2s
listen stats
    bind 127.0.0.1:0
    stats enable
    stats uri /stats
    stats refresh 10s
    stats auth admin:s3cret
listen open_stats
    bind 127.0.0.1:0
    http-request deny if { path_beg /private }
    stats uri /
listen web
    bind 127.0.0.1:0
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
    server down 127.0.0.1:${dead} check inter 100ms
    server spare 127.0.0.1:${app.port} backup disabled
`,
    { threads: 2 },
  );
});

after(async () => {
  await cleanup(p, app);
});

test('stats auth: 401 with the realm without credentials or with wrong ones, the page with the right ones', async () => {
  const none = await request(p.port('stats'), get('/stats'));
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Basic realm="HAProxy Statistics"');
  const wrong = await request(p.port('stats'), get('/stats', `authorization: Basic ${Buffer.from('admin:nope').toString('base64')}\r\n`));
  assert.equal(wrong.status, 401);
  const right = await request(p.port('stats'), get('/stats', `authorization: Basic ${Buffer.from('admin:s3cret').toString('base64')}\r\n`));
  assert.equal(right.status, 200);
  assert.equal(right.headers.get('content-type'), 'text/html');
  assert.match(right.body, /<meta http-equiv="refresh" content="10">/);
  assert.equal((await request(p.port('stats'), get('/other'))).status, 503, 'outside stats uri: no backend');
});

test('the frontend\'s rules run before the page (deny protects it); a client that half-closes still gets its answer', async () => {
  assert.equal((await request(p.port('open_stats'), get('/private/x'))).status, 403);
  const net = await import('node:net');
  const got = await new Promise<string>((resolve) => {
    const s = net.connect(p.port('open_stats'), '127.0.0.1', () => s.end('GET / HTTP/1.1\r\nhost: t\r\n\r\n'));
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('close', () => resolve(out));
  });
  assert.match(got, /^HTTP\/1\.1 200 OK\r\n/);
});

test('headless Chromium renders the tables with the state colours; a screenshot is kept', async () => {
  for (let i = 0; i < 3; i++) await request(p.port('web'), get('/'));
  await eventually(() => p.stderr.some((l) => /Server web\/down is DOWN/.test(l)), 3000, 'web/down marked DOWN');
  const url = `http://127.0.0.1:${p.port('open_stats')}/`;
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', `--user-data-dir=${path.join(p.dir, 'chromium')}`];
  const dom = spawnSync(CHROMIUM, [...flags, '--dump-dom', url], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(dom.status, 0, dom.stderr);
  const html = dom.stdout;
  // the browser built the table of each proxy, and the rows with HAProxy's state classes
  assert.match(html, /<table class="tbl" id="web">/);
  assert.match(html, /<tr class="active_up"><td class="name">s1<\/td>/);
  assert.match(html, /<tr class="active_down"><td class="name">down<\/td>/);
  assert.match(html, /<tr class="maintain"><td class="name">spare<\/td>/);
  assert.match(html, /<tr class="active_up backend"><td class="name">BACKEND<\/td>/);
  assert.doesNotMatch(html, /id="stats"|id="open_stats"/, 'the statistics sections are not data-path proxies');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const shot = path.join(ARTIFACTS, 'stats-page.png');
  fs.rmSync(shot, { force: true });
  const png = spawnSync(CHROMIUM, [...flags, '--window-size=1400,900', `--screenshot=${shot}`, url], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(png.status, 0, png.stderr);
  const bytes = fs.readFileSync(shot);
  assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
  assert.ok(bytes.length > 5000, `a real picture, not a blank one (${bytes.length} bytes)`);
});
