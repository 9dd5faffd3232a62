/**
 * Found in review: a local answer (`http-request return`) written while the client is blocked
 * set the wait for the client's DRAIN, but the loop reading the client's bytes went on — it
 * answered the next local requests and started a proxied one while "waiting", and then held that
 * transaction's own request body, which never reached the server. The requests after a blocked
 * answer must wait for the DRAIN, whether the answer came from a server or from the proxy.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coreHarness, GET, httpConfig } from '../helpers/core-harness.ts';

const config = httpConfig({ frontend: 'http-request return status 200 content-type text/plain string pong if { path_beg /r }' });
const answers = (text: string): number => text.split('HTTP/1.1 200').length - 1;

test('pipelined local answers to a blocked client: one is written, the rest wait for its DRAIN, in order', () => {
  const h = coreHarness(config);
  const c = h.client();
  c.t.full = true; // every write blocks: the client reads nothing
  c.t.data(GET('/r1') + GET('/r2') + GET('/r3') + GET('/x') + GET('/r4'));
  assert.equal(answers(c.t.written), 1, 'only the first answer is written while the client is blocked');
  assert.equal(h.net.opened.length, 0, 'no server is asked for /x while the client is blocked');
  assert.equal(h.rt.buffers.used, 1, 'the blocked answer keeps its response buffer, nothing else is held');
  // the client reads (its writes no longer block): the waiting requests go on, in order
  c.t.drain();
  assert.equal(answers(c.t.written), 3);
  const srv = h.net.last();
  srv.connectOk();
  assert.match(srv.written, /^GET \/x HTTP\/1\.1\r\n/);
  srv.data('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  assert.equal(answers(c.t.written), 5, 'every request answered');
  assert.deepEqual(
    [...c.t.written.matchAll(/\r\n\r\n(pong|ok)/g)].map((m) => m[1]),
    ['pong', 'pong', 'pong', 'ok', 'pong'],
    'in order',
  );
});

test('a request body after a blocked local answer reaches the server once the client drains', () => {
  const h = coreHarness(config);
  const c = h.client();
  c.t.full = true;
  c.t.data(`${GET('/r1')}POST /up HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\n12345`);
  c.t.data('67890');
  assert.equal(h.net.opened.length, 0, 'the POST waits for the DRAIN');
  c.t.drain();
  const srv = h.net.last();
  srv.connectOk();
  assert.match(srv.written, /\r\n\r\n1234567890$/, 'the whole body reached the server');
  srv.data('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
  assert.match(c.t.written, /\r\n\r\nok$/);
});
