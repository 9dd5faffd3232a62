/**
 * The HTTP/1.1 parser on a table of malformed and ambiguous messages (test/fixtures/http1/corpus.ts):
 * each must get its verdict (accepted and normalised as given, or refused with the given reason),
 * in one piece and byte by byte, without throwing. The table also carries HAProxy 2.6.12's verdict
 * on the same bytes; every disagreement must be written down in the table.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyFramer } from '../../src/proto/http1/body.ts';
import { fieldName, fieldValue, HeadReader, headerValue, parseHead } from '../../src/proto/http1/head.ts';
import type { H1Err, H1Head, H1Limits } from '../../src/proto/http1/http1.types.ts';
import { BodyKind, DEFAULT_H1_LIMITS, H1ErrStatus, HeadStatus } from '../../src/proto/http1/http1.types.ts';
import { ConnHeader, serializeHead } from '../../src/proto/http1/serialize.ts';
import { type CorpusCase, corpus } from '../fixtures/http1/corpus.ts';

type Verdict =
  | { ok: true; head: H1Head; norm: string; payload: number; done: boolean; rest: number }
  | { ok: false; err: H1Err; where: 'head' | 'body' }
  | { ok: 'incomplete' };

/** Read one message from `chunks` as a proxy does: head reader, then body framer from where the head ended. */
function readOne(chunks: readonly Buffer[], isRequest: boolean, toHead: boolean, limits: H1Limits = DEFAULT_H1_LIMITS): Verdict {
  const reader = new HeadReader(isRequest, limits);
  reader.noBody = toHead;
  const framer = new BodyFramer();
  let head: H1Head | null = null;
  let rest = 0;
  for (const chunk of chunks) {
    let off = 0;
    if (head === null) {
      const st = reader.push(chunk, 0);
      assert.ok(st === HeadStatus.MORE || st === HeadStatus.DONE || st === HeadStatus.ERROR);
      if (st === HeadStatus.ERROR) {
        const err = reader.error;
        assert.ok(err !== null);
        // a refused reader stays usable: more bytes or a reset never throw
        reader.push(chunk, 0);
        reader.reset();
        return { ok: false, err, where: 'head' };
      }
      if (st === HeadStatus.MORE) {
        assert.equal(reader.consumed, chunk.length);
        continue;
      }
      head = reader.head;
      assert.ok(head !== null);
      assert.ok(reader.consumed > 0 && reader.consumed <= chunk.length);
      off = reader.consumed;
      framer.start(head.body, head.contentLength);
    }
    if (framer.done) {
      rest += chunk.length - off;
      continue;
    }
    const n = framer.feed(chunk, off);
    if (n < 0) {
      assert.ok(framer.error !== null);
      const err = framer.error;
      // feeding a failed framer again, or restarting it, does not throw
      framer.feed(chunk, off);
      framer.start(BodyKind.NONE, -1);
      return { ok: false, err, where: 'body' };
    }
    assert.ok(n <= chunk.length - off);
    rest += chunk.length - off - n;
  }
  if (head === null) return { ok: 'incomplete' };
  if (head.body === BodyKind.CLOSE) framer.endOfInput();
  const norm = serializeHead(head, ConnHeader.NONE).toString('latin1');
  return { ok: true, head, norm, payload: framer.payload, done: framer.done, rest };
}

const bytesOf = (s: string): Buffer => Buffer.from(s, 'latin1');
const byteByByte = (b: Buffer): Buffer[] => Array.from(b, (_, k) => b.subarray(k, k + 1));

/** What the client of the proxy sees: the status we answer (or forward). */
function ourStatus(c: CorpusCase, v: Verdict): number {
  if (v.ok === 'incomplete') throw new Error(`${c.name}: incomplete`);
  if (v.ok) return c.kind === 'request' ? 200 : v.head.status;
  return c.kind === 'request' ? H1ErrStatus[v.err] : 502;
}

function summary(v: Verdict): unknown {
  if (v.ok === true) return { ok: true, norm: v.norm, body: v.head.body, cl: v.head.contentLength, payload: v.payload, rest: v.rest };
  return v;
}

test('the corpus is large and every entry has a distinct name', () => {
  assert.ok(corpus.length >= 45, `${corpus.length} cases`);
  assert.equal(new Set(corpus.map((c) => c.name)).size, corpus.length);
  assert.ok(corpus.filter((c) => !c.expect.ok).length >= 45);
});

for (const c of corpus) {
  test(`corpus: ${c.name}`, () => {
    const input = bytesOf(c.input);
    const v = readOne([input], c.kind === 'request', c.toHead === true);
    const e = c.expect;
    if (e.ok) {
      assert.equal(v.ok, true, `expected acceptance, got ${JSON.stringify(v)}`);
      if (v.ok !== true) return;
      assert.equal(v.norm, e.norm);
      assert.equal(v.head.body, e.body);
      assert.equal(v.head.contentLength, e.contentLength ?? -1);
      assert.equal(v.payload, e.payload ?? 0);
      assert.equal(v.done, true, 'the body is complete');
      assert.equal(v.rest, e.rest ?? 0);
      // parseHead on the head alone agrees with the reader
      const again = parseHead(v.head.raw, c.kind === 'request', DEFAULT_H1_LIMITS, c.toHead === true);
      assert.notEqual(typeof again, 'string');
    } else {
      assert.deepEqual(v, { ok: false, err: e.err, where: e.where });
      assert.ok([400, 422, 431].includes(H1ErrStatus[e.err]));
    }
    // byte by byte: the same verdict
    assert.deepEqual(summary(readOne(byteByByte(input), c.kind === 'request', c.toHead === true)), summary(v));

    // against HAProxy 2.6.12: any disagreement is documented in the table
    const ours = ourStatus(c, v);
    const hapAccepts = c.kind === 'request' ? c.haproxy === 200 : c.haproxy !== 502 && c.haproxy !== 'close';
    const agree = hapAccepts === (v.ok === true) && (hapAccepts ? c.kind === 'request' || c.haproxy === ours : c.haproxy === 'close' || c.haproxy === ours);
    if (agree) assert.equal(c.divergence, undefined, `${c.name}: documented divergence but both say ${ours}`);
    else assert.ok(c.divergence, `${c.name}: HAProxy 2.6 says ${c.haproxy}, we say ${ours}, undocumented`);
  });
}

test('the corpus covers every refusal reason', () => {
  const seen = new Set(corpus.flatMap((c) => (c.expect.ok ? [] : [c.expect.err])));
  for (const err of Object.keys(H1ErrStatus)) assert.ok(seen.has(err as H1Err), `no case refused with ${err}`);
});

test('head size limit: exactly maxHead bytes pass, one more is refused, however it is split', () => {
  const limits: H1Limits = { maxHead: 200, maxHeaders: 101 };
  const base = 'GET / HTTP/1.1\r\nHost: a\r\nX-Pad: \r\n\r\n';
  const fit = base.replace('X-Pad: ', `X-Pad: ${'p'.repeat(limits.maxHead - base.length)}`);
  assert.equal(fit.length, limits.maxHead);
  const over = fit.replace('X-Pad: ', 'X-Pad: p');
  for (const split of [1, 7, 64, 199, 200, 1000]) {
    const chunks = (s: string): Buffer[] => {
      const b = bytesOf(s);
      const out: Buffer[] = [];
      for (let k = 0; k < b.length; k += split) out.push(b.subarray(k, k + split));
      return out;
    };
    const ok = readOne(chunks(fit), true, false, limits);
    assert.equal(ok.ok, true, `split ${split}`);
    assert.deepEqual(readOne(chunks(over), true, false, limits), { ok: false, err: 'head-too-large', where: 'head' }, `split ${split}`);
  }
  // leading empty lines do not count
  assert.equal(readOne([bytesOf(`\r\n\r\n${fit}`)], true, false, limits).ok, true);
  // a head that never ends is refused as soon as it is over the limit
  const reader = new HeadReader(true, limits);
  assert.equal(reader.push(bytesOf(`GET / HTTP/1.1\r\nX: ${'a'.repeat(150)}`)), HeadStatus.MORE);
  assert.equal(reader.push(bytesOf('a'.repeat(50))), HeadStatus.ERROR);
  assert.equal(reader.error, 'head-too-large');
});

test('header count limit: maxHeaders fields pass, one more is refused', () => {
  const limits: H1Limits = { maxHead: 8000, maxHeaders: 3 };
  assert.equal(readOne([bytesOf('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n')], true, false, limits).ok, true);
  assert.deepEqual(readOne([bytesOf('GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n')], true, false, limits), {
    ok: false,
    err: 'too-many-headers',
    where: 'head',
  });
  // more fields than the initial offset table holds
  const many = { maxHead: 64000, maxHeaders: 500 };
  let s = 'GET / HTTP/1.1\r\n';
  for (let k = 0; k < 400; k++) s += `F${k}: ${k}\r\n`;
  const v = readOne([bytesOf(`${s}\r\n`)], true, false, many);
  assert.equal(v.ok, true);
  if (v.ok === true) {
    assert.equal(v.head.fieldCount, 400);
    assert.equal(fieldName(v.head, 399), 'F399');
    assert.equal(fieldValue(v.head, 399), '399');
  }
});

test('head facts: Connection, Upgrade, Expect, Host, HTTP/1.0 keep-alive', () => {
  const head = (s: string, isRequest = true): H1Head => {
    const h = parseHead(s, isRequest, DEFAULT_H1_LIMITS);
    assert.ok(typeof h !== 'string', `refused: ${h}`);
    return h;
  };
  const h = head('GET / HTTP/1.1\r\nHost: ex\r\nConnection: Upgrade, X-Hop, close\r\nUpgrade: websocket\r\nExpect: 100-Continue\r\n\r\n');
  assert.equal(h.wantsClose, true);
  assert.equal(h.upgrade, true);
  assert.equal(h.expectContinue, true);
  assert.deepEqual(h.connectionTokens, ['x-hop']);
  assert.equal(h.hostField, 0);
  assert.equal(headerValue(h, 'upgrade'), 'websocket');
  assert.equal(headerValue(h, 'absent'), undefined);
  // hop-by-hop fields and the tokens Connection names are not forwarded
  assert.equal(
    serializeHead(h, ConnHeader.CLOSE).toString('latin1'),
    'GET / HTTP/1.1\r\nhost: ex\r\nexpect: 100-Continue\r\nconnection: close\r\n\r\n',
  );
  const h10 = head('GET / HTTP/1.0\r\n\r\n');
  assert.equal(h10.wantsClose, true);
  assert.equal(h10.hostField, -1);
  assert.equal(head('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').wantsClose, false);
  assert.equal(head('GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n').upgrade, false, 'Upgrade without Connection: upgrade');
  assert.equal(head('POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n').expectContinue, false);
  const r = head('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n', false);
  assert.equal(r.body, BodyKind.NONE);
  assert.equal(r.upgrade, true);
  assert.equal(r.reason, 'Switching Protocols');
});
