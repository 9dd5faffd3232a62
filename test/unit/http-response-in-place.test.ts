/**
 * When a response head and the first body bytes come in one read, the proxy writes its own head
 * where the server's was, right before the body, and sends both without copying the body
 * (`bodyToClient` in src/core/http-session.ts). What the client gets must not depend on that: for
 * any response, any split of it into reads, a client of HTTP/1.1 or 1.0 and response rules that
 * make the head longer or shorter, the client receives exactly what it receives when the head
 * comes in a read of its own (where the head is written separately).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { coreHarness, httpConfig } from '../helpers/core-harness.ts';

const config = (rules: string): string => httpConfig({ backend: rules });

const RULES = [
  '',
  '    http-response set-header x-added a-value-long-enough-to-outgrow-what-the-server-sent-in-its-own-head-0123456789',
  '    http-response del-header x-padding',
];

interface Case {
  readonly rules: string;
  readonly minor: 0 | 1;
  readonly interim: boolean;
  readonly fields: readonly string[];
  readonly body: string;
  readonly cuts: readonly number[];
}

const field = fc.constantFrom('Connection: keep-alive', 'Keep-Alive: timeout=5', 'X-Padding: pppppppppppppppp', 'Server: origin', 'Date: Wed, 25 Nov 2026 06:00:00 GMT', 'x-id: 7');
const caseArb: fc.Arbitrary<Case> = fc.record({
  rules: fc.constantFrom(...RULES),
  minor: fc.constantFrom(0 as const, 1 as const),
  interim: fc.boolean(),
  fields: fc.array(field, { maxLength: 6 }),
  body: fc.string({ maxLength: 3000 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'b')),
  cuts: fc.array(fc.nat(), { maxLength: 4 }),
});

/** What the client receives for one request answered by `pieces`, read one after another. */
function through(c: Case, pieces: readonly Buffer[]): string {
  const h = coreHarness(config(c.rules));
  const cl = h.client();
  cl.t.data(`GET /x HTTP/1.${c.minor}\r\nhost: a\r\n${c.minor === 0 ? 'connection: keep-alive\r\n' : ''}\r\n`);
  const srv = h.net.last();
  srv.connectOk();
  for (const p of pieces) srv.data(p);
  return cl.t.written;
}

function response(c: Case): { head: string; body: string } {
  const interim = c.interim ? 'HTTP/1.1 103 Early Hints\r\nlink: </s.css>\r\n\r\n' : '';
  const head = `${interim}HTTP/1.1 200 OK\r\n${c.fields.map((f) => `${f}\r\n`).join('')}Content-Length: ${c.body.length}\r\n\r\n`;
  return { head, body: c.body };
}

test('a response head rewritten in place: the client gets the same bytes at every split into reads', () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const { head, body } = response(c);
      // the reference: the head alone in its read, the body in the next (nothing to rewrite in place)
      const expected = through(c, body.length > 0 ? [Buffer.from(head, 'latin1'), Buffer.from(body, 'latin1')] : [Buffer.from(head, 'latin1')]);
      const whole = Buffer.from(head + body, 'latin1');
      const cuts = [...new Set(c.cuts.map((x) => x % (whole.length + 1)))].sort((a, b) => a - b);
      const pieces: Buffer[] = [];
      let from = 0;
      for (const at of [...cuts, whole.length]) {
        if (at > from) pieces.push(Buffer.from(whole.subarray(from, at))); // each read its own buffer, as a socket gives
        from = at;
      }
      assert.equal(through(c, pieces), expected);
      assert.ok(expected.endsWith(`\r\n\r\n${body}`), 'the body follows the head unchanged');
    }),
    { numRuns: 300 },
  );
});

test('the common case is the in-place one: the client gets the head and body in one write', () => {
  const h = coreHarness(config(''));
  const cl = h.client();
  cl.t.data('GET /x HTTP/1.1\r\nhost: a\r\n\r\n');
  const srv = h.net.last();
  srv.connectOk();
  const chunk = Buffer.from('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello', 'latin1');
  srv.data(chunk);
  assert.equal(cl.t.writes.length, 1, 'one write');
  const w = cl.t.writes[0] as Buffer;
  assert.equal(w.toString('latin1'), 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello');
  assert.equal(w.buffer, chunk.buffer, 'the server chunk itself, not a copy');
});
