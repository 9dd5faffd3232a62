/**
 * The PROXY protocol through the real proxy: `bind … accept-proxy` takes the client address from
 * the header (logs, forwardfor, balance source), a bad header ends the connection with PR, and
 * `server … send-proxy[-v2]` starts each server connection with the client's addresses — so two
 * switchyards in a row still tell the origin who the client was.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { httpOrigin, ok, RawClient } from '../helpers/http.ts';
import { type Origin, origin } from '../helpers/origins.ts';
import { cleanup, type RunningProxy, startProxy } from '../helpers/proxy.ts';

let app: Origin;
let raw: Origin;
let front: RunningProxy;
let edge: RunningProxy;

before(async () => {
  app = await httpOrigin((r) => ok(`xff=${r.headers.get('x-forwarded-for') ?? ''}`));
  // records the first bytes of each connection, answers an HTTP 200 once a request ended
  raw = await origin((sock) => {
    let got = '';
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.endsWith('\r\n\r\n')) sock.write(ok('raw'));
    });
    sock.on('end', () => sock.end());
  });
  front = await startProxy(
    `
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
listen behind_lb
    bind 127.0.0.1:0 accept-proxy
    option forwardfor
    server app 127.0.0.1:${app.port} pool-purge-delay 300ms
listen tcp_behind_lb
    mode tcp
    bind 127.0.0.1:0 accept-proxy
    server raw 127.0.0.1:${raw.port} send-proxy
listen to_raw_v2
    bind 127.0.0.1:0
    server raw 127.0.0.1:${raw.port} send-proxy-v2 pool-purge-delay 300ms
`,
    { threads: 2 },
  );
  // a second proxy in front: it adds a v2 header towards the first one
  edge = await startProxy(`
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
listen edge
    bind 127.0.0.1:0
    server next 127.0.0.1:${front.port('behind_lb')} send-proxy-v2 pool-purge-delay 300ms
`);
});

after(async () => {
  await Promise.all([cleanup(edge), cleanup(front)]);
  await Promise.all([app.close(), raw.close()]);
});

test('accept-proxy (v1): the header names the client in the log and in X-Forwarded-For', async () => {
  const c = await RawClient.connect(front.port('behind_lb'));
  c.send('PROXY TCP4 203.0.113.7 198.51.100.1 40123 443\r\nGET / HTTP/1.1\r\nhost: t\r\n\r\n');
  const r = await c.response();
  assert.equal(r.body, 'xff=203.0.113.7');
  c.close();
  assert.match(await front.waitLog(/^203\.0\.113\.7:40123 .* behind_lb behind_lb\/app /), / 200 /);
});

test('accept-proxy: a connection without a valid header is closed, logged PR, never forwarded', async () => {
  const before = app.accepted;
  const c = await RawClient.connect(front.port('behind_lb'));
  c.send('GET / HTTP/1.1\r\nhost: t\r\n\r\n');
  await c.closed;
  assert.equal(app.accepted, before, 'nothing reached the server');
  await front.waitLog(/ behind_lb behind_lb\/<NOSRV> .* PR-- /);
});

test('send-proxy (v1) in TCP mode passes on the address an accept-proxy bind received', async () => {
  const c = net.connect(front.port('tcp_behind_lb'), '127.0.0.1');
  await new Promise((r) => c.once('connect', r));
  c.write('PROXY TCP4 192.0.2.55 192.0.2.1 5555 80\r\nping\r\n\r\n');
  await new Promise((r) => c.once('data', r));
  c.destroy();
  const first = raw.received.map((d) => d.toString('latin1')).join('');
  assert.match(first, /PROXY TCP4 192\.0\.2\.55 192\.0\.2\.1 5555 80\r\nping\r\n\r\n/);
});

test('send-proxy-v2, then accept-proxy on a second proxy: the origin sees the first client', async () => {
  const r = await (async () => {
    const c = await RawClient.connect(edge.port('edge'));
    c.send('GET / HTTP/1.1\r\nhost: t\r\n\r\n');
    const res = await c.response();
    c.close();
    return res;
  })();
  assert.equal(r.body, 'xff=127.0.0.1');
  await front.waitLog(/^127\.0\.0\.1:\d+ .* behind_lb behind_lb\/app .* 200 /);
  // the v2 signature reached the raw origin through to_raw_v2
  const before = raw.received.length;
  const c = await RawClient.connect(front.port('to_raw_v2'));
  c.send('GET /v2 HTTP/1.1\r\nhost: t\r\n\r\n');
  await c.response();
  c.close();
  const bytes = Buffer.concat(raw.received.slice(before));
  assert.equal(bytes.subarray(0, 12).toString('hex'), '0d0a0d0a000d0a515549540a');
  assert.equal(bytes[13], 0x11, 'TCP over IPv4');
  assert.match(bytes.subarray(28).toString('latin1'), /^GET \/v2 HTTP\/1\.1\r\n/);
});
