/**
 * The head serialiser copies fields that are already in their normal form as runs of the received
 * head; it must send exactly what the plain reading of the rules sends: every field in order, name
 * in lower case, value trimmed, hop-by-hop fields and those named in Connection dropped (never the
 * framing or Host), one merged Content-Length, the edits applied, Connection rebuilt. The reference
 * below is that plain reading, one string per field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HeadReader } from '../../src/proto/http1/head.ts';
import type { H1Head } from '../../src/proto/http1/http1.types.ts';
import { HeadStatus } from '../../src/proto/http1/http1.types.ts';
import { ConnHeader, type HeaderEdits, serializeHead } from '../../src/proto/http1/serialize.ts';

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);
const FRAMING = new Set(['content-length', 'transfer-encoding', 'host']);
const CONN_LINE = ['', 'connection: close\r\n', 'connection: keep-alive\r\n', 'connection: upgrade\r\n'];

function reference(h: H1Head, conn: ConnHeader, edits?: HeaderEdits): string {
  let out = h.isRequest ? `${h.method} ${h.target} HTTP/1.${h.minor}\r\n` : `HTTP/1.${h.minor} ${h.status} ${h.reason}\r\n`;
  let lengthDone = false;
  for (let k = 0; k < h.fieldCount; k++) {
    const name = h.raw.slice(h.fields[k * 4], h.fields[k * 4 + 1]).toLowerCase();
    const value = h.raw.slice(h.fields[k * 4 + 2], h.fields[k * 4 + 3]);
    if (HOP.has(name) && (name !== 'upgrade' || conn !== ConnHeader.UPGRADE)) continue;
    if ((h.connectionTokens?.includes(name) && !FRAMING.has(name)) || edits?.del?.has(name)) continue;
    if (name === 'content-length') {
      if (!lengthDone) out += `content-length: ${h.declaredLength}\r\n`;
      lengthDone = true;
      continue;
    }
    out += `${name}: ${value}\r\n`;
  }
  for (const line of edits?.add ?? []) out += `${line}\r\n`;
  return `${out}${CONN_LINE[conn]}\r\n`;
}

function parse(text: string, isRequest: boolean): H1Head {
  const r = new HeadReader(isRequest, { maxHead: 8192, maxHeaders: 100 });
  assert.equal(r.push(Buffer.from(text, 'latin1')), HeadStatus.DONE, JSON.stringify(text));
  return r.head as H1Head;
}

const nameArb = fc.oneof(
  fc.constantFrom('x-a', 'X-B', 'accept', 'Upgrade', 'upgrade', 'Keep-Alive', 'proxy-connection', 'x-drop', 'X-Drop', 'via'),
  fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,9}$/).filter((n) => n.toLowerCase() !== 'host'), // one Host at most
);
const fieldArb = fc.record({
  name: nameArb,
  before: fc.constantFrom(' ', '', '  ', '\t', ' '),
  value: fc.stringMatching(/^[!-~]([ !-~]{0,10}[!-~])?$/),
  after: fc.constantFrom('', '', ' ', '\t '),
});
const headArb = fc.record({
  isRequest: fc.boolean(),
  host: fc.option(fc.constantFrom('host: a', 'Host: b.example', 'HOST:c ')),
  fields: fc.array(fieldArb, { maxLength: 12 }),
  length: fc.option(fc.record({ name: fc.constantFrom('content-length', 'Content-Length'), twice: fc.boolean() })),
  connection: fc.option(fc.constantFrom('close', 'keep-alive', 'x-drop', 'x-drop, Keep-Alive', 'X-A, content-length, host')),
  conn: fc.constantFrom(ConnHeader.NONE, ConnHeader.CLOSE, ConnHeader.KEEP_ALIVE, ConnHeader.UPGRADE),
  del: fc.array(fc.constantFrom('x-a', 'via', 'host', 'content-length', 'accept'), { maxLength: 2 }),
  add: fc.array(fc.constantFrom('x-forwarded-for: 127.0.0.1', 'x-added: 1'), { maxLength: 2 }),
});

test('the serialised head is the plain reading of the rules, whatever the names, spacing and fields', () => {
  fc.assert(
    fc.property(headArb, (g) => {
      let text = g.isRequest ? 'GET /p?q=1 HTTP/1.1\r\n' : 'HTTP/1.1 200 OK\r\n';
      if (g.host !== null) text += `${g.host}\r\n`;
      for (const f of g.fields) text += `${f.name}:${f.before}${f.value}${f.after}\r\n`;
      if (g.length) text += `${g.length.name}: 3\r\n${g.length.twice ? `${g.length.name}: 3\r\n` : ''}`;
      if (g.connection !== null) text += `Connection: ${g.connection}\r\n`;
      text += '\r\n';
      const h = parse(text, g.isRequest);
      const edits: HeaderEdits | undefined = g.del.length > 0 || g.add.length > 0 ? { del: new Set(g.del), add: g.add } : undefined;
      assert.equal(serializeHead(h, g.conn, edits).toString('latin1'), reference(h, g.conn, edits));
    }),
    { numRuns: 3000 },
  );
});

test('a head already in normal form goes out as it came, with Connection rebuilt', () => {
  const h = parse('GET / HTTP/1.1\r\nhost: a\r\nx-a: 1\r\nconnection: keep-alive\r\naccept: */*\r\n\r\n', true);
  assert.equal(serializeHead(h, ConnHeader.CLOSE).toString('latin1'), 'GET / HTTP/1.1\r\nhost: a\r\nx-a: 1\r\naccept: */*\r\nconnection: close\r\n\r\n');
});
