/**
 * A pipelining client's next requests, read ahead with the one in progress, are held; the client
 * is not read meanwhile (HAProxy reads no further ahead either), so its next requests are read in
 * one go when they are due, not one read per request as they arrive. Reading must start again as
 * soon as what was held is used up — including when it ends in the middle of a request head, or
 * the client would wait for `timeout http-request` with its request half read.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coreHarness, GET, httpConfig, OK } from '../helpers/core-harness.ts';

const config = httpConfig();
/** The request targets a server was sent, in order (a body may end right before a request line). */
const requestsIn = (text: string): string[] => [...text.matchAll(/(?:GET|POST) (\S+) HTTP\/1\.1\r\n/g)].map((m) => m[1] as string);

test('pipelined requests: the client is not read while the next ones are held, and is read again once they are used up', () => {
  const h = coreHarness(config);
  const c = h.client();
  c.t.data(GET('/a') + GET('/b') + GET('/c'));
  assert.equal(c.t.paused, true, 'read-ahead held: the client is not read');
  const srv = h.net.last();
  srv.connectOk();
  assert.deepEqual(requestsIn(srv.written), ['/a'], 'one request at a time');
  srv.data(OK('a'));
  assert.equal(h.net.opened.length, 1, 'the server connection is reused');
  assert.deepEqual(requestsIn(srv.written), ['/a', '/b']);
  assert.equal(c.t.paused, true, '/c is still held');
  srv.data(OK('b'));
  assert.deepEqual(requestsIn(srv.written), ['/a', '/b', '/c']);
  assert.equal(c.t.paused, false, 'nothing held any more: the client is read again');
  srv.data(OK('c'));
  assert.deepEqual(
    [...c.t.written.matchAll(/\r\n\r\n(\w)/g)].map((m) => m[1]),
    ['a', 'b', 'c'],
  );
  assert.equal(c.t.paused, false);
});

test('read-ahead that ends inside a request head: the client is read again for the rest of it', () => {
  const h = coreHarness(config);
  const c = h.client();
  c.t.data(`${GET('/a')}GET /b HTTP/1.1\r\nho`);
  assert.equal(c.t.paused, true);
  const srv = h.net.last();
  srv.connectOk();
  srv.data(OK('a'));
  assert.deepEqual(requestsIn(srv.written), ['/a'], '/b is not complete');
  assert.equal(c.t.paused, false, 'the rest of /b must be read');
  c.t.data('st: a\r\n\r\n');
  assert.deepEqual(requestsIn(srv.written), ['/a', '/b']);
  srv.data(OK('b'));
  assert.match(c.t.written, /\r\n\r\nb$/);
});

test('a request body after read-ahead: the client is read again for the body, paused again for what follows it', () => {
  const h = coreHarness(config);
  const c = h.client();
  c.t.data(`${GET('/a')}POST /up HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\n12345`);
  const srv = h.net.last();
  srv.connectOk();
  srv.data(OK('a'));
  assert.equal(c.t.paused, false, 'the rest of the body must be read');
  c.t.data(`67890${GET('/z')}`);
  assert.match(srv.written, /\r\n\r\n1234567890$/, 'the whole body reached the server');
  assert.equal(c.t.paused, true, '/z is held until /up is answered');
  srv.data(OK('u'));
  assert.deepEqual(requestsIn(srv.written), ['/a', '/up', '/z']);
  assert.equal(c.t.paused, false);
});

test('a server that stops reading while requests are held: its DRAIN does not start reading the client', () => {
  const h = coreHarness(config);
  const c = h.client();
  c.t.data(GET('/a') + GET('/b'));
  const srv = h.net.last();
  srv.full = true; // the request write reports backpressure
  srv.connectOk();
  assert.equal(c.t.paused, true);
  srv.drain();
  assert.equal(c.t.paused, true, '/b is still held: reading waits for the end of /a');
  srv.data(OK('a'));
  assert.deepEqual(requestsIn(srv.written), ['/a', '/b']);
  assert.equal(c.t.paused, false);
});

test('read-ahead dropped after a last answer: the client is read again, so that its FIN ends the connection', () => {
  const h = coreHarness(config);
  const c = h.client();
  c.t.data(`GET /a HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n${GET('/b')}`);
  assert.equal(c.t.paused, true);
  const srv = h.net.last();
  srv.connectOk();
  srv.data(OK('a'));
  assert.match(c.t.written, /connection: close\r\n\r\na$/, 'the last answer, as the client asked');
  assert.equal(c.t.ended, true, 'our FIN is on its way');
  assert.deepEqual(requestsIn(srv.written), ['/a'], '/b, after the client asked to close, is not served (as HAProxy)');
  assert.equal(c.t.paused, false, 'lingering: the client is read (and what it sends dropped) until it closes');
  c.t.peerEnd();
  c.t.closed();
  assert.equal(h.rt.sessions.size, 0, 'its FIN ends the session, without waiting for a timeout');
});
