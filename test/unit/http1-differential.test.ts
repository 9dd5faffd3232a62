/**
 * Differential test against llhttp, Node's own HTTP/1.1 parser: generated valid requests (pipelined
 * on one connection) go raw over a socket to a `node:http` server on 127.0.0.1, which records what
 * it parsed; our head reader and body framer must find the same methods, targets, versions, fields
 * (names case-insensitively, values trimmed) and body lengths.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { BodyFramer } from '../../src/proto/http1/body.ts';
import { fieldName, fieldValue, HeadReader } from '../../src/proto/http1/head.ts';
import type { H1Head } from '../../src/proto/http1/http1.types.ts';
import { DEFAULT_H1_LIMITS, HeadStatus } from '../../src/proto/http1/http1.types.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly version: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly bodyLength: number;
}

let server: http.Server;
let port = 0;
/** Requests llhttp parsed, per connection (keyed by the client's local port). */
const seen = new Map<number, Seen[]>();
const waiters = new Map<number, { want: number; resolve: () => void }>();

before(async () => {
  server = http.createServer({ keepAliveTimeout: 1000 }, (req, res) => {
    let bodyLength = 0;
    req.on('data', (d: Buffer) => (bodyLength += d.length));
    req.on('end', () => {
      const key = req.socket.remotePort ?? 0;
      const headers: Array<[string, string]> = [];
      for (let k = 0; k + 1 < req.rawHeaders.length; k += 2) headers.push([req.rawHeaders[k] as string, req.rawHeaders[k + 1] as string]);
      const list = seen.get(key) ?? [];
      list.push({ method: req.method ?? '', url: req.url ?? '', version: req.httpVersion, headers, bodyLength });
      seen.set(key, list);
      res.writeHead(200, { 'content-length': '0' });
      res.end();
      const w = waiters.get(key);
      if (w && list.length >= w.want) w.resolve();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  assert.ok(addr !== null && typeof addr === 'object');
  port = addr.port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Send `bytes` on a fresh connection; resolve with what the server parsed once it has `want` requests. */
async function viaLlhttp(bytes: Buffer, want: number): Promise<Seen[]> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('data', () => {}); // the responses are not looked at
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const key = socket.localPort ?? 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      waiters.set(key, { want, resolve });
      timer = setTimeout(() => reject(new Error(`llhttp parsed ${seen.get(key)?.length ?? 0} of ${want} requests`)), 2000);
      socket.once('close', () => {
        if ((seen.get(key)?.length ?? 0) < want) reject(new Error(`closed after ${seen.get(key)?.length ?? 0} of ${want} requests`));
      });
      socket.write(bytes);
    });
  } finally {
    clearTimeout(timer);
    waiters.delete(key);
    socket.destroy();
    await new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
  }
  const out = seen.get(key) ?? [];
  seen.delete(key);
  return out;
}

/** The same bytes through our reader and framer, as a proxy reads them (here in pieces of `piece`). */
function viaOurs(bytes: Buffer, piece: number): Seen[] {
  const out: Seen[] = [];
  const reader = new HeadReader(true, DEFAULT_H1_LIMITS);
  const framer = new BodyFramer();
  let head: H1Head | null = null;
  const finish = (h: H1Head): void => {
    const headers: Array<[string, string]> = [];
    for (let k = 0; k < h.fieldCount; k++) headers.push([fieldName(h, k), fieldValue(h, k)]);
    out.push({ method: h.method, url: h.target, version: `1.${h.minor}`, headers, bodyLength: framer.payload });
    head = null;
    reader.reset();
  };
  for (let start = 0; start < bytes.length; start += piece) {
    const chunk = bytes.subarray(start, start + piece);
    let off = 0;
    while (off < chunk.length) {
      if (head === null) {
        const st = reader.push(chunk, off);
        assert.notEqual(st, HeadStatus.ERROR, `refused: ${reader.error}`);
        if (st === HeadStatus.MORE) break;
        const h = reader.head;
        assert.ok(h !== null);
        off += reader.consumed;
        framer.start(h.body, h.contentLength);
        if (framer.done) finish(h);
        else head = h;
        continue;
      }
      const n = framer.feed(chunk, off);
      assert.ok(n >= 0, `body refused: ${framer.error}`);
      off += n;
      if (framer.done) finish(head);
    }
  }
  assert.equal(head, null, 'a body left incomplete');
  return out;
}

const normalise = (s: Seen): Seen => ({
  ...s,
  headers: s.headers.map(([n, v]) => [n.toLowerCase(), v.trim()] as const),
});

// ---- requests both parsers must accept

const range = (from: number, to: number, except = ''): string[] => {
  const out: string[] = [];
  for (let c = from; c <= to; c++) if (!except.includes(String.fromCharCode(c))) out.push(String.fromCharCode(c));
  return out;
};
const ALNUM = [...range(0x30, 0x39), ...range(0x41, 0x5a), ...range(0x61, 0x7a)];
const TCHAR = [...ALNUM, ...Array.from("!#$%&'*+-.^_`|~")];
const word = (alphabet: readonly string[], min: number, max: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...alphabet), { minLength: min, maxLength: max }).map((a) => a.join(''));
const token = word(TCHAR, 1, 12);

// llhttp knows its methods by name; Node refuses the rest
const methodArb = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PURGE', 'PROPFIND', 'MKCOL');
const targetArb = fc.oneof(
  { weight: 5, arbitrary: word(range(0x21, 0x7e, '#'), 0, 24).map((s) => `/${s}`) },
  { weight: 1, arbitrary: word(ALNUM, 1, 8).map((h) => `http://${h}.test/p?q=1`) },
);
const valueArb = fc
  .array(fc.tuple(word(range(0x21, 0x7e), 1, 8), fc.constantFrom(' ', '\t')), { maxLength: 4 })
  .map((parts) => parts.map(([w, sep], k) => (k === 0 ? w : sep + w)).join(''));
const RESERVED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'expect', 'keep-alive', 'te', 'trailer', 'http2-settings']);
const fieldArb = fc.record({
  name: token.filter((n) => !RESERVED.has(n.toLowerCase())),
  value: valueArb,
  ows: fc.constantFrom('', ' ', '  ', '\t'),
  trail: fc.constantFrom('', '', ' ', '\t'),
});
const bodyArb = fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a).toString('latin1'));
const extArb = fc.oneof(
  fc.constant(''),
  token.map((t) => `;${t}`),
  fc.tuple(token, token).map(([a, b]) => `;${a}=${b}`),
  fc.tuple(token, word(ALNUM.concat([' ', '-']), 0, 6)).map(([a, b]) => `;${a}="${b}"`),
);
const framingArb = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('length' as const), body: bodyArb }),
  fc.record({
    kind: fc.constant('chunked' as const),
    chunks: fc.array(fc.record({ data: bodyArb.filter((d) => d.length > 0), ext: extArb }), { maxLength: 4 }),
    trailers: fc.array(fc.tuple(token.filter((n) => !RESERVED.has(n.toLowerCase())), valueArb), { maxLength: 2 }),
  }),
);
const requestArb = fc.record({
  method: methodArb,
  target: targetArb,
  minor: fc.constantFrom(0, 1, 1, 1),
  host: word([...ALNUM, '.'], 1, 12),
  fields: fc.array(fieldArb, { maxLength: 8 }),
  framing: framingArb,
  /** Empty lines before the request line (both parsers skip them). */
  lead: fc.constantFrom('', '', '\r\n', '\r\n\r\n'),
});
type Req = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

function build(r: Req, last: boolean): string {
  let s = `${r.lead}${r.method} ${r.target} HTTP/1.${r.minor}\r\nHost: ${r.host}\r\n`;
  for (const f of r.fields) s += `${f.name}:${f.ows}${f.value}${f.trail}\r\n`;
  // an HTTP/1.0 request ends the connection unless it asks to keep it
  if (r.minor === 0 && !last) s += 'Connection: keep-alive\r\n';
  if (r.framing.kind === 'length') return `${s}Content-Length: ${r.framing.body.length}\r\n\r\n${r.framing.body}`;
  if (r.framing.kind === 'chunked' && r.minor === 1) {
    s += 'Transfer-Encoding: chunked\r\n\r\n';
    for (const c of r.framing.chunks) s += `${c.data.length.toString(16)}${c.ext}\r\n${c.data}\r\n`;
    s += '0\r\n';
    for (const [n, v] of r.framing.trailers) s += `${n}: ${v}\r\n`;
    return `${s}\r\n`;
  }
  return `${s}\r\n`;
}

test('llhttp and our parser agree on generated pipelined requests', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(requestArb, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 64 }), async (rs, piece) => {
      const bytes = Buffer.from(rs.map((r, k) => build(r, k === rs.length - 1)).join(''), 'latin1');
      const ours = viaOurs(bytes, piece);
      assert.equal(ours.length, rs.length);
      const theirs = await viaLlhttp(bytes, rs.length);
      assert.deepEqual(ours.map(normalise), theirs.map(normalise));
    }),
    { numRuns: 100 },
  );
});

test('the comparison can tell a difference (a body llhttp reads but a wrong Content-Length would not)', async () => {
  const bytes = Buffer.from('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc', 'latin1');
  const [theirs] = await viaLlhttp(bytes, 1);
  assert.ok(theirs !== undefined);
  assert.equal(theirs.bodyLength, 3);
  const [ours] = viaOurs(bytes, 5);
  assert.ok(ours !== undefined);
  assert.deepEqual(normalise(ours), normalise(theirs));
  assert.notDeepEqual(normalise({ ...ours, bodyLength: 2 }), normalise(theirs));
});
