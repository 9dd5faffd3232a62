/**
 * Request smuggling, end to end: every request of the parser corpus (test/fixtures/http1/corpus.ts,
 * CL/TE conflicts, obs-fold, bare CR/LF, chunk extensions, duplicate fields, bad methods and
 * versions, absolute-form targets, oversized heads…) goes through the real proxy to an origin
 * that parses with llhttp (node:http), a parser written by other people. The origin must never
 * see two requests where the client sent one, nor a body of another length than the proxy
 * framed: a refused request reaches no server at all, an accepted one arrives as exactly one
 * request with the body the proxy counted.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { after, before, test } from 'node:test';
import { corpus } from '../fixtures/http1/corpus.ts';
import { cleanup, type RunningProxy, startProxy } from '../helpers/proxy.ts';
import { RawClient } from '../helpers/http.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly bodyLength: number;
}

let p: RunningProxy;
let origin: http.Server;
let seen: Seen[] = [];
let originErrors: string[] = [];
const sockets = new Set<net.Socket>();

before(async () => {
  // no Host requirement: Node adds one of its own by default, HAProxy and switchyard do not
  origin = http.createServer({ requireHostHeader: false }, (req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', bodyLength: n });
      res.writeHead(200, { 'content-length': '2' });
      res.end('ok');
    });
  });
  origin.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // llhttp refusing what the proxy forwarded would be a framing disagreement: recorded (not the
  // RST with which the proxy closes a server connection it is done with, as HAProxy does)
  origin.on('clientError', (err: Error & { code?: string }, s) => {
    if (err.code !== 'ECONNRESET') originErrors.push(err.code ?? err.message);
    s.destroy();
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
  const port = (origin.address() as net.AddressInfo).port;
  p = await startProxy(`
defaults
    mode http
    timeout connect 1s
    timeout client 2s
    timeout server 2s
    timeout http-request 1s
listen app
    bind 127.0.0.1:0
    http-reuse never
    server s1 127.0.0.1:${port} pool-purge-delay 200ms
`);
});

after(async () => {
  await cleanup(p);
  for (const s of sockets) s.destroy();
  await new Promise((r) => origin.close(r));
});

const requests = corpus.filter((c) => c.kind === 'request');

test(`the corpus has at least 40 requests to send (${requests.length})`, () => {
  assert.ok(requests.length >= 40);
});

for (const c of requests) {
  test(`through the proxy: ${c.name}`, async () => {
    seen = [];
    originErrors = [];
    const client = await RawClient.connect(p.port('app'));
    client.send(Buffer.from(c.input, 'latin1'));
    // what came back: every response until the proxy closes or goes quiet
    let statuses: number[] = [];
    try {
      for (;;) statuses.push((await client.response({ ms: 150 })).status);
    } catch {
      // closed or quiet
    }
    client.close();
    await new Promise((r) => setTimeout(r, 20));
    // llhttp knows a fixed list of methods: a lower-case or unknown one it refuses outright,
    // which frames nothing at all (no smuggling); the proxy forwards it as a token (as HAProxy)
    if (c.expect.ok && originErrors.length === 1 && originErrors[0] === 'HPE_INVALID_METHOD') {
      assert.deepEqual(seen, []);
      assert.equal(statuses[0], 502, 'the origin closed without an answer');
      return;
    }
    if (c.expect.ok) {
      const rest = c.expect.rest ?? 0;
      // one message accepted: the origin saw it once, with the body the proxy framed
      assert.ok(seen.length >= 1, `the origin saw no request (client got ${statuses.join(',')})`);
      const first = seen[0] as Seen;
      if (rest === 0) assert.equal(seen.length, 1, `one request sent, ${seen.length} arrived: ${JSON.stringify(seen)}`);
      assert.equal(first.bodyLength, c.expect.payload ?? (c.expect.contentLength !== undefined && c.expect.contentLength > 0 ? c.expect.contentLength : 0));
      assert.equal(statuses[0], 200);
    } else {
      // refused: the proxy answered itself and nothing reached the origin
      assert.deepEqual(seen, [], `a refused request reached the origin: ${JSON.stringify(seen)}`);
      if (c.expect.where === 'head') assert.ok(statuses[0] === 400 || statuses[0] === 422, `status ${statuses.join(',')}`);
      statuses = [];
    }
    assert.deepEqual(originErrors, [], 'llhttp refused what the proxy forwarded');
  });
}

test('a Connection token never removes the framing: Connection: content-length / transfer-encoding', async () => {
  const inner = 'GET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n';
  for (const [token, req] of [
    ['content-length', `POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: ${inner.length}\r\nconnection: content-length\r\n\r\n${inner}`],
    ['transfer-encoding', `POST /a HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: transfer-encoding\r\n\r\n${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`],
  ] as const) {
    seen = [];
    const client = await RawClient.connect(p.port('app'));
    client.send(req);
    assert.equal((await client.response()).status, 200, token);
    client.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen, [{ method: 'POST', url: '/a', bodyLength: inner.length }], `Connection: ${token}: one request, its whole body`);
  }
});
