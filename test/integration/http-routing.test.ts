/**
 * HTTP routing and rewriting end to end: use_backend with named and anonymous ACLs, header rules
 * on both directions, local answers (return, deny, errorfile), hashing on the URI or a header.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { get, httpOrigin, ok, RawClient, request } from '../helpers/http.ts';
import { closedPort, type Origin } from '../helpers/origins.ts';
import { cleanup, type RunningProxy, startProxy } from '../helpers/proxy.ts';

let p: RunningProxy;
let api: Origin;
let web: Origin;
let s2: Origin;
let dir: string;

/** An origin that answers with its name and echoes the request head it got in a body line. */
const named = (name: string) => httpOrigin((r) => ok(`${name} ${JSON.stringify(Object.fromEntries(r.headers))}`, 'server: origin\r\nx-origin: yes\r\n'));

before(async () => {
  api = await named('api');
  web = await named('web');
  s2 = await named('s2');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-routing-'));
  fs.writeFileSync(path.join(dir, '503.http'), 'HTTP/1.1 503 Service Unavailable\ncontent-type: text/plain\n\nmaintenance\n');
  const down = await closedPort();
  p = await startProxy(
    `
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:0
    acl is_api path_beg /api/
    acl admin_host hdr(host) -i admin.example.com
    acl local src 127.0.0.0/8
    http-request deny deny_status 429 if { path /limited }
    http-request deny if admin_host !{ method GET }
    http-request return status 200 content-type text/plain string pong hdr x-probe 1 if { path /ping }
    http-request set-header X-Env prod
    http-request add-header X-Via switchyard
    http-request del-header Cookie
    http-response set-header Server switchyard
    http-response del-header x-origin
    use_backend api if is_api local
    use_backend hash_uri if { path_beg /u/ }
    use_backend hash_hdr if { path_beg /h/ }
    use_backend down if { path_beg /down }
    default_backend web
backend api
    http-request set-header X-Backend api
    server a 127.0.0.1:${api.port} pool-purge-delay 300ms
backend web
    server w 127.0.0.1:${web.port} pool-purge-delay 300ms
backend hash_uri
    balance uri
    server a 127.0.0.1:${api.port} pool-purge-delay 300ms
    server b 127.0.0.1:${web.port} pool-purge-delay 300ms
    server c 127.0.0.1:${s2.port} pool-purge-delay 300ms
backend hash_hdr
    balance hdr(x-user)
    server a 127.0.0.1:${api.port} pool-purge-delay 300ms
    server b 127.0.0.1:${web.port} pool-purge-delay 300ms
    server c 127.0.0.1:${s2.port} pool-purge-delay 300ms
backend down
    errorfile 503 ${path.join(dir, '503.http')}
    retries 0
    server d 127.0.0.1:${down} pool-purge-delay 300ms
`,
    { threads: 2 },
  );
});

after(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(await cleanup(p, api, web, s2), 0);
});

const headersSeen = (body: string): Record<string, string> => JSON.parse(body.slice(body.indexOf(' ') + 1)) as Record<string, string>;

test('use_backend: the first rule whose ACLs all hold picks the backend, else default_backend', async () => {
  const a = await request(p.port('fe'), get('/api/users'));
  assert.match(a.body, /^api /);
  const w = await request(p.port('fe'), get('/apix'));
  assert.match(w.body, /^web /);
  await p.waitLog(/ fe api\/a .*"GET \/api\/users HTTP\/1\.1"$/);
  await p.waitLog(/ fe web\/w .*"GET \/apix HTTP\/1\.1"$/);
});

test('http-request header rules, frontend then backend, reach the server; Cookie removed', async () => {
  const r = await request(p.port('fe'), get('/api/x', 'cookie: a=1\r\nx-env: dev\r\n'));
  const h = headersSeen(r.body);
  assert.equal(h['x-env'], 'prod', 'set-header replaces');
  assert.equal(h['x-via'], 'switchyard');
  assert.equal(h['x-backend'], 'api', "the backend's own rules ran");
  assert.equal(h.cookie, undefined);
  const w = headersSeen((await request(p.port('fe'), get('/'))).body);
  assert.equal(w['x-backend'], undefined, "another backend's rules do not run");
});

test('http-response rules rewrite what the client gets', async () => {
  const r = await request(p.port('fe'), get('/'));
  assert.equal(r.headers.get('server'), 'switchyard');
  assert.equal(r.headers.has('x-origin'), false);
});

test('http-request return answers locally and keeps the connection; logged LR with <NOSRV>', async () => {
  const c = await RawClient.connect(p.port('fe'));
  for (let i = 0; i < 2; i++) {
    c.send(get('/ping'));
    const r = await c.response();
    assert.equal(r.status, 200);
    assert.equal(r.body, 'pong');
    assert.equal(r.headers.get('content-type'), 'text/plain');
    assert.equal(r.headers.get('x-probe'), '1');
  }
  c.send(get('/'));
  assert.match((await c.response()).body, /^web /, 'the same connection goes on to a server');
  c.close();
  await p.waitLog(/ fe fe\/<NOSRV> .* 200 \d+ - - LR-- .*"GET \/ping HTTP\/1\.1"$/);
});

test('pipelined requests and a FIN: one answered locally, the next by a server, both before the close', async () => {
  const c = await RawClient.connect(p.port('fe'));
  c.send(`${get('/ping')}${get('/after')}`);
  c.sock.end();
  const a = await c.response();
  const b = await c.response();
  assert.deepEqual([a.status, a.body], [200, 'pong']);
  assert.equal(b.status, 200);
  assert.match(b.body, /^web /);
  await c.closed;
});

test('http-request deny: 403 (or deny_status) with HAProxy body, connection closed, PR', async () => {
  const c = await RawClient.connect(p.port('fe'));
  c.send(get('/', 'host: admin.example.com\r\n').replace('host: test\r\n', '').replace('GET', 'POST'));
  const r = await c.response();
  assert.equal(r.status, 403);
  assert.match(r.body, /Request forbidden by administrative rules/);
  await c.closed;
  const g = await request(p.port('fe'), get('/', 'x: 1\r\n').replace('host: test', 'host: ADMIN.example.com'));
  assert.equal(g.status, 200, 'GET is allowed on the admin host');
  const limited = await request(p.port('fe'), get('/limited'));
  assert.equal(limited.status, 429);
  await p.waitLog(/ fe fe\/<NOSRV> .* 403 \d+ - - PR-- /);
});

test('errorfile replaces the built-in 503 of the backend', async () => {
  const r = await request(p.port('fe'), get('/down'));
  assert.equal(r.status, 503);
  assert.equal(r.body, 'maintenance\n');
  assert.equal(r.headers.get('content-type'), 'text/plain');
});

test('balance uri: a path always goes to the same server, paths spread over all', async () => {
  const first = new Map<string, string>();
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 12; i++) {
      const r = await request(p.port('fe'), get(`/u/item-${i}?q=${round}`));
      const who = r.body.split(' ')[0] as string;
      if (round === 0) first.set(String(i), who);
      else assert.equal(who, first.get(String(i)), `/u/item-${i} moved`);
    }
  }
  assert.equal(new Set(first.values()).size, 3, 'twelve paths use the three servers');
});

test('balance hdr(x-user): the same user sticks to a server; without the header, round robin', async () => {
  const by = async (user: string | null) => (await request(p.port('fe'), get('/h/', user === null ? '' : `x-user: ${user}\r\n`))).body.split(' ')[0];
  const alice = await by('alice');
  for (let i = 0; i < 4; i++) assert.equal(await by('alice'), alice);
  const anon = new Set<string | undefined>();
  for (let i = 0; i < 6; i++) anon.add(await by(null));
  assert.ok(anon.size >= 2, `round robin without the header (${[...anon].join(',')})`);
});
