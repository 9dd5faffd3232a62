/**
 * Property tests of the incremental HTTP/1.1 parser: the bytes of a message (or of several
 * pipelined messages) may arrive split anywhere, and the heads and body sizes found must be those
 * found in one piece — and those the messages were generated from. Arbitrary or mutated input never
 * throws nor stalls: the reader answers MORE/DONE/ERROR, the framer a count or -1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BodyFramer } from '../../src/proto/http1/body.ts';
import { fieldName, fieldValue, HeadReader } from '../../src/proto/http1/head.ts';
import type { H1Head, H1Limits } from '../../src/proto/http1/http1.types.ts';
import { BodyKind, HeadStatus } from '../../src/proto/http1/http1.types.ts';

const LIMITS: H1Limits = { maxHead: 4096, maxHeaders: 64 };

// ---- what a parsed message is reduced to for comparisons

interface Msg {
  readonly method: string;
  readonly target: string;
  readonly minor: number;
  readonly status: number;
  readonly reason: string;
  readonly fields: ReadonlyArray<readonly [string, string]>;
  readonly body: BodyKind;
  readonly contentLength: number;
  readonly payload: number;
}

type Event = { readonly msg: Msg } | { readonly error: string; readonly where: 'head' | 'body' } | { readonly end: 'idle' | 'in-head' | 'in-body' };

function summarize(h: H1Head, payload: number): Msg {
  const fields: Array<[string, string]> = [];
  for (let k = 0; k < h.fieldCount; k++) fields.push([fieldName(h, k), fieldValue(h, k)]);
  return {
    method: h.method,
    target: h.target,
    minor: h.minor,
    status: h.status,
    reason: h.reason,
    fields,
    body: h.body,
    contentLength: h.contentLength,
    payload,
  };
}

/**
 * Read `chunks` as a proxy does: the head reader until DONE (its head took `consumed` bytes from
 * the offset), then the body framer from there; when the body is done, reset the reader and go on
 * with the rest. `noBody[i]`: message i answers a HEAD request.
 */
function drive(chunks: readonly Buffer[], isRequest: boolean, noBody: readonly boolean[] = []): Event[] {
  const events: Event[] = [];
  const reader = new HeadReader(isRequest, LIMITS);
  const framer = new BodyFramer();
  let head: H1Head | null = null;
  let failed = false;
  reader.noBody = noBody[0] === true;
  const finish = (h: H1Head): void => {
    events.push({ msg: summarize(h, framer.payload) });
    head = null;
    reader.reset();
    reader.noBody = noBody[events.length] === true;
  };
  for (const original of chunks) {
    // a proxy reuses its read buffer: the reader gets a copy that is overwritten once handled
    const chunk = Buffer.from(original);
    handle(chunk);
    chunk.fill(0x5a);
  }
  if (!failed && head !== null && (head as H1Head).body === BodyKind.CLOSE) {
    assert.equal(framer.endOfInput(), true);
    finish(head);
  }
  if (!failed) events.push({ end: head !== null ? 'in-body' : reader.pendingBytes > 0 ? 'in-head' : 'idle' });
  return events;

  function handle(chunk: Buffer): void {
    let off = 0;
    if (failed) return;
    // an empty chunk still goes to the reader, as a read of 0 bytes might
    if (chunk.length === 0 && head === null) assert.equal(reader.push(chunk, 0), HeadStatus.MORE);
    while (off < chunk.length) {
      if (head === null) {
        const st = reader.push(chunk, off);
        if (st === HeadStatus.ERROR) {
          assert.ok(reader.error !== null);
          events.push({ error: reader.error, where: 'head' });
          failed = true;
          return;
        }
        if (st === HeadStatus.MORE) {
          assert.equal(reader.consumed, chunk.length - off);
          break;
        }
        assert.equal(st, HeadStatus.DONE);
        const h = reader.head;
        assert.ok(h !== null);
        assert.ok(reader.consumed >= 1 && reader.consumed <= chunk.length - off, `consumed ${reader.consumed}`);
        off += reader.consumed;
        framer.start(h.body, h.contentLength);
        if (framer.done) finish(h);
        else head = h;
        continue;
      }
      const n = framer.feed(chunk, off);
      if (n < 0) {
        assert.equal(n, -1);
        assert.ok(framer.error !== null);
        events.push({ error: framer.error, where: 'body' });
        failed = true;
        return;
      }
      assert.ok(n <= chunk.length - off, `fed ${n} of ${chunk.length - off}`);
      if (n === 0 && !framer.done) assert.fail('the framer made no progress');
      off += n;
      if (framer.done) finish(head);
    }
  }
}

/** Cut `buf` at the given points (taken modulo its length + 1; repeated points make empty chunks). */
function cut(buf: Buffer, points: readonly number[]): Buffer[] {
  const at = points.map((p) => p % (buf.length + 1)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

const splits = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat(), { maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constant([-1]) }, // byte by byte (see splitsOf)
);
function splitsOf(buf: Buffer, points: readonly number[]): Buffer[] {
  if (points.length === 1 && points[0] === -1) return Array.from(buf, (b) => Buffer.from([b]));
  return cut(buf, points);
}

// ---- generators of valid messages, each with the Msg it must parse to

const chars = (s: string): string[] => Array.from(s);
const range = (from: number, to: number, except = ''): string[] => {
  const out: string[] = [];
  for (let c = from; c <= to; c++) if (!except.includes(String.fromCharCode(c))) out.push(String.fromCharCode(c));
  return out;
};
const ALNUM = [...range(0x30, 0x39), ...range(0x41, 0x5a), ...range(0x61, 0x7a)];
const TCHAR = [...ALNUM, ...chars("!#$%&'*+-.^_`|~")];
const VCHAR = range(0x21, 0x7e);
const OBS_TEXT = range(0x80, 0xff);
const word = (alphabet: readonly string[], min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(''));

const tokenArb = word(TCHAR, 1, 12);
const methodArb = fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), tokenArb);
const targetArb = fc.oneof(
  { weight: 6, arbitrary: word(range(0x21, 0x7e, '#'), 0, 30).map((s) => `/${s}`) },
  { weight: 1, arbitrary: fc.constant('*') },
  { weight: 1, arbitrary: word(ALNUM, 1, 10).map((h) => `http://${h}/x?y=1`) },
);
/** A field value as it must come out: no leading or trailing whitespace, single or repeated inner SP/HTAB. */
const valueArb = fc
  .array(fc.tuple(word([...VCHAR, ...OBS_TEXT.slice(0, 8), '\xff'], 1, 8), fc.constantFrom(' ', '\t', '  ')), { maxLength: 4 })
  .map((parts) => parts.map(([w, sep], k) => (k === 0 ? w : sep + w)).join(''));
const owsArb = fc.constantFrom('', '', ' ', '\t', '  ', ' \t');
const RESERVED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect']);
const fieldArb = fc.record({
  name: tokenArb.filter((n) => !RESERVED.has(n.toLowerCase())),
  value: valueArb,
  before: owsArb,
  after: owsArb,
});
const caseArb = (name: string): fc.Arbitrary<string> => fc.constantFrom(name, name.toLowerCase(), name.toUpperCase());
const bytesArb = (min: number, max: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a).toString('latin1'));

const chunkExtArb = fc.oneof(
  fc.constant(''),
  tokenArb.map((t) => `;${t}`),
  fc.tuple(tokenArb, tokenArb).map(([a, b]) => `;${a}=${b}`),
  fc.tuple(tokenArb, word([...VCHAR.filter((c) => c !== '"' && c !== '\\'), ' '], 0, 8)).map(([a, b]) => `;${a}="${b}"`),
  // (whitespace before ';' is refused: chunks are forwarded as they came and llhttp refuses it)
);
const chunkedArb = fc.record({
  chunks: fc.array(
    fc.record({ data: bytesArb(1, 40), ext: chunkExtArb, upper: fc.boolean(), zeros: fc.integer({ min: 0, max: 3 }) }),
    { maxLength: 4 },
  ),
  lastExt: chunkExtArb,
  trailers: fc.array(fc.tuple(tokenArb, valueArb), { maxLength: 2 }),
});
type Chunked = typeof chunkedArb extends fc.Arbitrary<infer T> ? T : never;

function chunkedBody(c: Chunked): { text: string; payload: number } {
  let text = '';
  let payload = 0;
  for (const ch of c.chunks) {
    let size = ch.data.length.toString(16);
    if (ch.upper) size = size.toUpperCase();
    text += `${'0'.repeat(ch.zeros)}${size}${ch.ext}\r\n${ch.data}\r\n`;
    payload += ch.data.length;
  }
  text += `0${c.lastExt}\r\n`;
  for (const [n, v] of c.trailers) text += `${n}: ${v}\r\n`;
  return { text: `${text}\r\n`, payload };
}

const framingArb = fc.oneof(
  fc.record({ kind: fc.constant('none' as const) }),
  fc.record({ kind: fc.constant('length' as const), body: bytesArb(0, 60), name: caseArb('Content-Length'), twice: fc.boolean() }),
  fc.record({ kind: fc.constant('chunked' as const), chunked: chunkedArb, name: caseArb('Transfer-Encoding'), coding: fc.constantFrom('chunked', 'Chunked', ', chunked') }),
);
type Framing = typeof framingArb extends fc.Arbitrary<infer T> ? T : never;

interface Built {
  readonly text: string;
  readonly msg: Msg;
  readonly noBody: boolean;
}

/** Fields and body of a message; `bodiless`: a response whose fields do not count. */
function buildRest(
  fields: ReadonlyArray<{ name: string; value: string; before: string; after: string }>,
  framing: Framing,
  isRequest: boolean,
  bodiless: boolean,
  closeOk: boolean,
): { text: string; fields: Array<[string, string]>; body: BodyKind; contentLength: number; payload: number } {
  let text = '';
  const out: Array<[string, string]> = [];
  for (const f of fields) {
    text += `${f.name}:${f.before}${f.value}${f.after}\r\n`;
    out.push([f.name, f.value]);
  }
  let body: BodyKind = BodyKind.NONE;
  let contentLength = -1;
  let payload = 0;
  let bodyText = '';
  if (framing.kind === 'length') {
    const n = String(framing.body.length);
    for (let k = 0; k < (framing.twice ? 2 : 1); k++) {
      text += `${framing.name}: ${n}\r\n`;
      out.push([framing.name, n]);
    }
    if (!bodiless && framing.body.length > 0) {
      body = BodyKind.LENGTH;
      contentLength = framing.body.length;
      payload = framing.body.length;
      bodyText = framing.body;
    }
  } else if (framing.kind === 'chunked') {
    text += `${framing.name}: ${framing.coding}\r\n`;
    out.push([framing.name, framing.coding]);
    if (!bodiless) {
      const c = chunkedBody(framing.chunked);
      body = BodyKind.CHUNKED;
      payload = c.payload;
      bodyText = c.text;
    }
  } else if (!isRequest && !bodiless) {
    if (closeOk) {
      body = BodyKind.CLOSE;
      bodyText = 'the rest until the close';
      payload = bodyText.length;
    } else {
      text += 'Content-Length: 0\r\n';
      out.push(['Content-Length', '0']);
    }
  }
  return { text: `${text}\r\n${bodyText}`, fields: out, body, contentLength, payload };
}

const leadArb = fc.constantFrom('', '', '', '\r\n', '\r\n\r\n');

const requestArb = fc.record({
  lead: leadArb,
  method: methodArb,
  target: targetArb,
  minor: fc.constantFrom(0, 1, 1),
  host: fc.option(fc.record({ name: caseArb('Host'), value: word([...ALNUM, '.', ':'], 1, 12) })),
  fields: fc.array(fieldArb, { maxLength: 6 }),
  framing: framingArb,
});

function buildRequest(r: typeof requestArb extends fc.Arbitrary<infer T> ? T : never): Built {
  const framing: Framing = r.framing.kind === 'chunked' && r.minor === 0 ? { kind: 'none' } : r.framing;
  const fields = r.host ? [{ name: r.host.name, value: r.host.value, before: ' ', after: '' }, ...r.fields] : r.fields;
  const rest = buildRest(fields, framing, true, false, false);
  return {
    text: `${r.lead}${r.method} ${r.target} HTTP/1.${r.minor}\r\n${rest.text}`,
    noBody: false,
    msg: {
      method: r.method,
      target: r.target,
      minor: r.minor,
      status: 0,
      reason: '',
      fields: rest.fields,
      body: rest.body,
      contentLength: rest.contentLength,
      payload: rest.payload,
    },
  };
}

const responseArb = fc.record({
  lead: leadArb,
  minor: fc.constantFrom(0, 1, 1),
  status: fc.oneof(fc.integer({ min: 100, max: 199 }), fc.integer({ min: 200, max: 599 }), fc.constantFrom(200, 204, 304)),
  reason: fc.option(word([...VCHAR, ...OBS_TEXT.slice(0, 4), ' ', '\t'], 0, 16)),
  toHead: fc.boolean(),
  fields: fc.array(fieldArb, { maxLength: 6 }),
  framing: framingArb,
});

function buildResponse(r: typeof responseArb extends fc.Arbitrary<infer T> ? T : never, last: boolean): Built {
  const framing: Framing = r.framing.kind === 'chunked' && r.minor === 0 ? { kind: 'none' } : r.framing;
  const bodiless = r.toHead || r.status < 200 || r.status === 204 || r.status === 304;
  const rest = buildRest(r.fields, framing, false, bodiless, last);
  const line = r.reason === null ? `HTTP/1.${r.minor} ${r.status}` : `HTTP/1.${r.minor} ${r.status} ${r.reason}`;
  return {
    text: `${r.lead}${line}\r\n${rest.text}`,
    noBody: r.toHead,
    msg: {
      method: '',
      target: '',
      minor: r.minor,
      status: r.status,
      reason: r.reason ?? '',
      fields: rest.fields,
      body: rest.body,
      contentLength: rest.contentLength,
      payload: rest.payload,
    },
  };
}

const requestsArb = fc.array(requestArb, { minLength: 1, maxLength: 4 }).map((rs) => rs.map(buildRequest));
const responsesArb = fc
  .array(responseArb, { minLength: 1, maxLength: 4 })
  .map((rs) => rs.map((r, k) => buildResponse(r, k === rs.length - 1)));

const joined = (ms: readonly Built[]): Buffer => Buffer.from(ms.map((m) => m.text).join(''), 'latin1');
const expected = (ms: readonly Built[]): Event[] => [...ms.map((m) => ({ msg: m.msg })), { end: 'idle' as const }];

// ---- (a) any split of valid messages gives the heads and body sizes they were generated from

test('pipelined requests: one piece and any split give the generated heads and body sizes', () => {
  fc.assert(
    fc.property(requestsArb, splits, (ms, points) => {
      const input = joined(ms);
      const whole = drive([input], true);
      assert.deepEqual(whole, expected(ms));
      assert.deepEqual(drive(splitsOf(input, points), true), whole);
    }),
    { numRuns: 400 },
  );
});

test('pipelined responses (1xx, 204, 304, HEAD, chunked, close-delimited): any split agrees', () => {
  fc.assert(
    fc.property(responsesArb, splits, (ms, points) => {
      const input = joined(ms);
      const noBody = ms.map((m) => m.noBody);
      const whole = drive([input], false, noBody);
      assert.deepEqual(whole, expected(ms));
      assert.deepEqual(drive(splitsOf(input, points), false, noBody), whole);
    }),
    { numRuns: 400 },
  );
});

test('a message cut short is incomplete, not refused, wherever it is cut', () => {
  fc.assert(
    fc.property(requestArb.map(buildRequest), fc.nat(), splits, (m, at, points) => {
      const full = Buffer.from(m.text, 'latin1');
      const lead = m.text.length - m.text.trimStart().length;
      fc.pre(full.length - lead > 1);
      const short = full.subarray(0, lead + 1 + (at % (full.length - lead - 1)));
      const whole = drive([short], true);
      assert.equal(whole.length, 1, JSON.stringify(whole));
      assert.ok('end' in (whole[0] ?? {}) && (whole[0] as { end: string }).end !== 'idle', JSON.stringify(whole));
      assert.deepEqual(drive(splitsOf(short, points), true), whole);
    }),
    { numRuns: 300 },
  );
});

// ---- (b) nothing throws or stalls, and the verdict does not depend on the split

const INTERESTING = [0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x30, 0x31, 0x61, 0x46, 0x7f, 0xff, 0x23, 0x2d];
const mutationArb = fc.record({
  op: fc.constantFrom('insert', 'delete', 'replace', 'duplicate'),
  at: fc.nat(),
  byte: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 })),
  len: fc.integer({ min: 1, max: 6 }),
});
type Mutation = typeof mutationArb extends fc.Arbitrary<infer T> ? T : never;

function mutate(buf: Buffer, muts: readonly Mutation[]): Buffer {
  let b = buf;
  for (const m of muts) {
    const at = m.at % (b.length + 1);
    const one = Buffer.from([m.byte]);
    if (m.op === 'insert') b = Buffer.concat([b.subarray(0, at), one, b.subarray(at)]);
    else if (m.op === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
    else if (m.op === 'replace') b = Buffer.concat([b.subarray(0, at), one, b.subarray(at + 1)]);
    else b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at)]);
  }
  return b;
}

test('arbitrary bytes: no throw, no stall, the same verdict in one piece and split', () => {
  const prefix = fc.constantFrom('', 'GET / HTTP/1.1\r\n', 'HTTP/1.1 200 OK\r\n', 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n');
  fc.assert(
    fc.property(prefix, fc.uint8Array({ maxLength: 300 }), fc.boolean(), splits, (p, bytes, isRequest, points) => {
      const input = Buffer.concat([Buffer.from(p, 'latin1'), bytes]);
      const whole = drive([input], isRequest);
      assert.deepEqual(drive(splitsOf(input, points), isRequest), whole);
    }),
    { numRuns: 500 },
  );
});

test('mutated requests: no throw, no stall, the same verdict in one piece and split', () => {
  fc.assert(
    fc.property(requestsArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), splits, (ms, muts, points) => {
      const input = mutate(joined(ms), muts);
      const whole = drive([input], true);
      assert.deepEqual(drive(splitsOf(input, points), true), whole);
    }),
    { numRuns: 500 },
  );
});

test('mutated responses: no throw, no stall, the same verdict in one piece and split', () => {
  fc.assert(
    fc.property(responsesArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), splits, (ms, muts, points) => {
      const input = mutate(joined(ms), muts);
      const noBody = ms.map((m) => m.noBody);
      const whole = drive([input], false, noBody);
      assert.deepEqual(drive(splitsOf(input, points), false, noBody), whole);
    }),
    { numRuns: 500 },
  );
});

test('the framer alone: any bytes after a chunked head, fed in any pieces, never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), splits, fc.constantFrom(BodyKind.CHUNKED, BodyKind.LENGTH, BodyKind.CLOSE), (bytes, points, kind) => {
      const buf = Buffer.from(bytes);
      const results = (chunks: readonly Buffer[]): { taken: number; err: string | null; done: boolean; payload: number } => {
        const f = new BodyFramer();
        f.start(kind, 50);
        let taken = 0;
        for (const c of chunks) {
          const n = f.feed(c, 0);
          assert.ok(Number.isInteger(n) && n >= -1 && n <= c.length);
          // bytes taken before the refusal are lost in a -1: not compared
          if (n < 0) return { taken: -1, err: f.error, done: f.done, payload: f.payload };
          taken += n;
          if (f.done) break;
          assert.equal(n, c.length, 'a body that is not done takes all it is given');
        }
        return { taken, err: null, done: f.done, payload: f.payload };
      };
      assert.deepEqual(results(splitsOf(buf, points)), results([buf]));
    }),
    { numRuns: 300 },
  );
});

test('drive() sees a difference: a head that differs is not equal', () => {
  // guards the comparisons above against comparing nothing
  const a = drive([Buffer.from('GET /a HTTP/1.1\r\n\r\n')], true);
  const b = drive([Buffer.from('GET /b HTTP/1.1\r\n\r\n')], true);
  assert.notDeepEqual(a, b);
  assert.equal(a.length, 2);
});
