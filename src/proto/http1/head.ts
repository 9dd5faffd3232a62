import { Buffer } from 'node:buffer';
import type { H1Head, H1Limits } from './http1.types.ts';
import { BodyKind, H1Err, HeadStatus } from './http1.types.ts';

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const COMMA = 44;
/** The end of a head. */
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** RFC 9110 tchar, as a lookup table. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** Bytes allowed in a field value or reason phrase besides SP/HTAB: VCHAR and obs-text. */
const isValueByte = (c: number): boolean => (c > 0x20 && c !== 0x7f) || c === SP || c === HTAB;

/** Bytes allowed in a request target: visible ASCII except '#' (fragments are never sent; HAProxy 2.6 as shipped by Debian refuses them too). */
const isTargetByte = (c: number): boolean => c > 0x20 && c < 0x7f && c !== 0x23;

/** Case-insensitive compare of raw[s..e) with a lower-case literal. */
function nameIs(raw: string, s: number, e: number, lit: string): boolean {
  if (e - s !== lit.length) return false;
  for (let i = 0; i < lit.length; i++) {
    let c = raw.charCodeAt(s + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lit.charCodeAt(i)) return false;
  }
  return true;
}

/** Split a comma-separated header value into lower-case tokens (empty elements skipped, as RFC 9110 5.6.1). */
function tokens(v: string): string[] {
  const out: string[] = [];
  for (const part of v.split(',')) {
    const t = part.trim().toLowerCase();
    if (t !== '') out.push(t);
  }
  return out;
}

const isOws = (c: number): boolean => c === SP || c === HTAB;

/**
 * The tokens of a Connection field at raw[s..e): `close`, `keep-alive` and `upgrade` are
 * recognised in place (no string is made for the field most messages carry); any other token is
 * handed over in lower case.
 */
function connectionTokens(raw: string, s: number, e: number, seen: ConnSeen): void {
  let i = s;
  while (i < e) {
    while (i < e && (isOws(raw.charCodeAt(i)) || raw.charCodeAt(i) === COMMA)) i++;
    const ts = i;
    while (i < e && raw.charCodeAt(i) !== COMMA) i++;
    let te = i;
    while (te > ts && isOws(raw.charCodeAt(te - 1))) te--;
    if (te === ts) continue;
    if (nameIs(raw, ts, te, 'close')) seen.close = true;
    else if (nameIs(raw, ts, te, 'keep-alive')) seen.keepAlive = true;
    else if (nameIs(raw, ts, te, 'upgrade')) seen.upgrade = true;
    else (seen.other ??= []).push(raw.slice(ts, te).toLowerCase());
  }
}

interface ConnSeen {
  close: boolean;
  keepAlive: boolean;
  upgrade: boolean;
  other: string[] | null;
}

class ParseError {
  readonly err: H1Err;
  constructor(err: H1Err) {
    this.err = err;
  }
}

const fail = (err: H1Err): never => {
  throw new ParseError(err);
};

/**
 * Parse a complete head (start line to blank line, latin1). Strict where a lax reading lets two
 * parsers disagree on where a message ends (request smuggling): see H1Err for each refusal.
 * `noBody`: a response to HEAD (no body whatever its fields say).
 */
export function parseHead(raw: string, isRequest: boolean, limits: H1Limits, noBody = false): H1Head | H1Err {
  try {
    return parse(raw, isRequest, limits, noBody);
  } catch (e) {
    if (e instanceof ParseError) return e.err;
    throw e;
  }
}

/** End of the line starting at `i`: the index of its CR (followed by LF); bare CR/LF refused. */
function lineEnd(raw: string, i: number, check: (c: number) => boolean, err: H1Err): number {
  const n = raw.length;
  for (; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c === CR) {
      if (raw.charCodeAt(i + 1) !== LF) fail(H1Err.BARE_LF_CR);
      return i;
    }
    if (c === LF) fail(H1Err.BARE_LF_CR);
    if (!check(c)) fail(c < 0x20 || c === 0x7f ? H1Err.CONTROL_BYTE : err);
  }
  return fail(H1Err.BARE_LF_CR);
}

function parse(raw: string, isRequest: boolean, limits: H1Limits, noBody: boolean): H1Head {
  let i = 0;
  let method = '';
  let target = '';
  let minor = 1;
  let status = 0;
  let reason = '';
  if (isRequest) {
    // method SP request-target SP HTTP/1.x CRLF, single spaces
    while (TCHAR[raw.charCodeAt(i)] === 1) i++;
    if (i === 0 || raw.charCodeAt(i) !== SP) fail(H1Err.START_LINE);
    method = raw.slice(0, i);
    const ts = ++i;
    while (isTargetByte(raw.charCodeAt(i))) i++;
    if (i === ts || raw.charCodeAt(i) !== SP) fail(H1Err.START_LINE);
    target = raw.slice(ts, i);
    i++;
    minor = version(raw, i);
    i += 8;
    if (raw.charCodeAt(i) !== CR || raw.charCodeAt(i + 1) !== LF) fail(H1Err.START_LINE);
    i += 2;
  } else {
    // HTTP/1.x SP 3DIGIT [SP reason] CRLF
    minor = version(raw, 0);
    i = 8;
    if (raw.charCodeAt(i) !== SP) fail(H1Err.START_LINE);
    i++;
    for (let k = 0; k < 3; k++) {
      const d = raw.charCodeAt(i + k) - 0x30;
      if (d < 0 || d > 9) fail(H1Err.START_LINE);
      status = status * 10 + d;
    }
    i += 3;
    if (status < 100) fail(H1Err.START_LINE);
    if (raw.charCodeAt(i) === SP) {
      const rs = ++i;
      i = lineEnd(raw, i, isValueByte, H1Err.START_LINE);
      reason = raw.slice(rs, i);
    } else if (raw.charCodeAt(i) !== CR) fail(H1Err.START_LINE);
    if (raw.charCodeAt(i + 1) !== LF) fail(H1Err.BARE_LF_CR);
    i += 2;
  }

  // header fields
  const n = raw.length;
  // a plain array: an Int32Array of this size would take an off-heap backing store (calloc, and a
  // sweep when it dies) for every head
  const fields: number[] = [];
  let count = 0;
  let contentLength = -1;
  let te: string[] | null = null;
  const conn: ConnSeen = { close: false, keepAlive: false, upgrade: false, other: null };
  let hasUpgrade = false;
  let expectContinue = false;
  let hostField = -1;
  while (i < n) {
    const c0 = raw.charCodeAt(i);
    if (c0 === CR) {
      if (raw.charCodeAt(i + 1) !== LF || i + 2 !== n) fail(H1Err.BARE_LF_CR);
      break;
    }
    if (c0 === SP || c0 === HTAB) fail(H1Err.OBS_FOLD);
    const ns = i;
    while (TCHAR[raw.charCodeAt(i)] === 1) i++;
    const ne = i;
    const c = raw.charCodeAt(i);
    if (c !== COLON || ne === ns) {
      if (c === LF || (c === CR && raw.charCodeAt(i + 1) !== LF)) fail(H1Err.BARE_LF_CR);
      fail((c < 0x20 && c !== HTAB && c !== CR) || c === 0x7f ? H1Err.CONTROL_BYTE : H1Err.HEADER_SYNTAX);
    }
    i++;
    while (raw.charCodeAt(i) === SP || raw.charCodeAt(i) === HTAB) i++;
    const vs = i;
    const le = lineEnd(raw, i, isValueByte, H1Err.HEADER_SYNTAX);
    let ve = le;
    while (ve > vs && (raw.charCodeAt(ve - 1) === SP || raw.charCodeAt(ve - 1) === HTAB)) ve--;
    i = le + 2;
    if (count === limits.maxHeaders) fail(H1Err.TOO_MANY_HEADERS);
    fields.push(ns, ne, vs, ve);
    // the fields the proxy acts on, recognised by length first
    switch (ne - ns) {
      case 4:
        if (nameIs(raw, ns, ne, 'host')) {
          if (hostField >= 0) fail(H1Err.DUPLICATE_HOST);
          hostField = count;
        }
        break;
      case 6:
        if (nameIs(raw, ns, ne, 'expect') && raw.slice(vs, ve).toLowerCase() === '100-continue') expectContinue = true;
        break;
      case 7:
        if (nameIs(raw, ns, ne, 'upgrade')) hasUpgrade = true;
        break;
      case 10:
        if (nameIs(raw, ns, ne, 'connection')) connectionTokens(raw, vs, ve, conn);
        break;
      case 14:
        if (nameIs(raw, ns, ne, 'content-length')) contentLength = mergeContentLength(contentLength, raw.slice(vs, ve));
        break;
      case 17:
        if (nameIs(raw, ns, ne, 'transfer-encoding')) {
          const t = tokens(raw.slice(vs, ve));
          if (t.length === 0) fail(H1Err.BAD_TRANSFER_ENCODING);
          te = te ? te.concat(t) : t;
        }
        break;
      default:
        break;
    }
    count++;
  }

  // framing (RFC 9112 §6)
  let body: BodyKind = BodyKind.NONE;
  if (te) {
    if (contentLength >= 0) fail(H1Err.CL_AND_TE);
    if (minor === 0) fail(H1Err.BAD_TRANSFER_ENCODING);
    // chunked exactly once, and last
    if (te[te.length - 1] !== 'chunked' || te.indexOf('chunked') !== te.length - 1) fail(H1Err.BAD_TRANSFER_ENCODING);
    // as HAProxy 2.6: a request coding besides chunked is not implemented (422)
    if (isRequest && te.length > 1) fail(H1Err.UNSUPPORTED_CODING);
  }
  const bodiless = !isRequest && (noBody || status < 200 || status === 204 || status === 304);
  if (!bodiless) {
    if (te) body = BodyKind.CHUNKED;
    else if (contentLength > 0) body = BodyKind.LENGTH;
    else if (contentLength < 0 && !isRequest) body = BodyKind.CLOSE;
  }
  return {
    isRequest,
    raw,
    method,
    target,
    minor,
    status,
    reason,
    fields,
    fieldCount: count,
    body,
    contentLength: body === BodyKind.LENGTH ? contentLength : -1,
    declaredLength: contentLength,
    wantsClose: conn.close || (minor === 0 && !conn.keepAlive),
    upgrade: conn.upgrade && hasUpgrade,
    expectContinue: isRequest && minor === 1 && expectContinue,
    connectionTokens: conn.other,
    hostField,
  };
}

/** `HTTP/1.0` or `HTTP/1.1` at `i`: the minor version. */
function version(raw: string, i: number): number {
  if (raw.startsWith('HTTP/1.', i)) {
    const m = raw.charCodeAt(i + 7);
    if (m === 0x30 || m === 0x31) return m - 0x30;
  }
  return fail(H1Err.START_LINE);
}

/** Content-Length: digits, possibly a list of identical values (`42, 42`, as HAProxy merges them). */
function mergeContentLength(prev: number, v: string): number {
  let cl = prev;
  for (const part of v.includes(',') ? v.split(',') : [v]) {
    const t = part.trim();
    if (t.length === 0 || t.length > 15) fail(H1Err.BAD_CONTENT_LENGTH);
    let n = 0;
    for (let k = 0; k < t.length; k++) {
      const d = t.charCodeAt(k) - 0x30;
      if (d < 0 || d > 9) fail(H1Err.BAD_CONTENT_LENGTH);
      n = n * 10 + d;
    }
    if (cl >= 0 && n !== cl) fail(H1Err.BAD_CONTENT_LENGTH);
    cl = n;
  }
  return cl;
}

/**
 * Accumulates the bytes of one head across reads and parses it once complete, so any split of the
 * input gives the same result. Empty lines before a request line are skipped (RFC 9112 §2.2).
 */
export class HeadReader {
  readonly isRequest: boolean;
  private readonly limits: H1Limits;
  /** Set before reading a response to a HEAD request. */
  noBody = false;
  head: H1Head | null = null;
  error: H1Err | null = null;
  /** After DONE: how many bytes of the last chunk (from `off`) belonged to the head. */
  consumed = 0;
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes of the current line seen so far, and its last byte. */
  private lineLen = 0;
  private lastByte = 0;
  /** A non-empty line was seen (leading empty lines are skipped). */
  private started = false;

  constructor(isRequest: boolean, limits: H1Limits) {
    this.isRequest = isRequest;
    this.limits = limits;
  }

  reset(): void {
    this.head = null;
    this.error = null;
    this.consumed = 0;
    this.parts = [];
    this.size = 0;
    this.lineLen = 0;
    this.lastByte = 0;
    this.started = false;
    this.noBody = false;
  }

  /** Bytes held for an incomplete head (0 when nothing has started). */
  get pendingBytes(): number {
    return this.size;
  }

  /** Feed `chunk[off..]`. */
  push(chunk: Buffer, off = 0): HeadStatus {
    // the common case, a whole head at the start of a read: found with one search for its end. The
    // first CRLF CRLF ends the head the line scan below would end, or the head holds a bare LF
    // before it, which the parser refuses in both.
    if (this.size === 0 && this.lineLen === 0 && !this.started && off < chunk.length) {
      const c = chunk[off] as number;
      const end = c === CR || c === LF ? -1 : chunk.indexOf(CRLFCRLF, off);
      if (end >= 0) return this.complete(chunk, off, off, end + 4);
    }
    const len = chunk.length;
    let pos = off;
    let start = off; // where this chunk's part of the head begins (after skipped empty lines)
    while (pos < len) {
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) {
        this.lineLen += len - pos;
        this.lastByte = chunk[len - 1] as number;
        break;
      }
      const lineLen = this.lineLen + (nl - pos);
      const last = nl > pos ? (chunk[nl - 1] as number) : this.lastByte;
      this.lineLen = 0;
      pos = nl + 1;
      const blank = lineLen === 0 || (lineLen === 1 && last === CR);
      if (!blank) {
        this.started = true;
        continue;
      }
      if (!this.started) {
        if (lineLen === 0) return this.fail(H1Err.BARE_LF_CR);
        start = pos; // skip an empty line before the start line
        this.parts = [];
        this.size = 0;
        continue;
      }
      return this.complete(chunk, off, start, pos);
    }
    if (this.started || this.lineLen > 0) {
      this.size += len - start;
      if (this.size > this.limits.maxHead) return this.fail(H1Err.HEAD_TOO_LARGE);
      // keep our own copy: the caller may reuse its buffer
      this.parts.push(Buffer.from(chunk.subarray(start, len)));
    }
    this.consumed = len - off;
    return HeadStatus.MORE;
  }

  /** The head ends at `chunk[pos]`; what this chunk adds to it starts at `start`. */
  private complete(chunk: Buffer, off: number, start: number, pos: number): HeadStatus {
    const total = this.size + (pos - start);
    if (total > this.limits.maxHead) return this.fail(H1Err.HEAD_TOO_LARGE);
    const raw =
      this.parts.length === 0 ? chunk.toString('latin1', start, pos) : Buffer.concat([...this.parts, chunk.subarray(start, pos)]).toString('latin1', 0, total);
    this.parts = [];
    this.size = 0;
    this.consumed = pos - off;
    const h = parseHead(raw, this.isRequest, this.limits, this.noBody);
    if (typeof h === 'string') return this.fail(h);
    this.head = h;
    return HeadStatus.DONE;
  }

  private fail(err: H1Err): HeadStatus {
    this.error = err;
    this.parts = [];
    this.size = 0;
    return HeadStatus.ERROR;
  }
}

/** The value of field `k` of `h`. */
export const fieldValue = (h: H1Head, k: number): string => h.raw.slice(h.fields[k * 4 + 2], h.fields[k * 4 + 3]);

/** The name of field `k` as sent. */
export const fieldName = (h: H1Head, k: number): string => h.raw.slice(h.fields[k * 4], h.fields[k * 4 + 1]);

/** The first value of the field named `lower` (lower case), or undefined. */
export function headerValue(h: H1Head, lower: string): string | undefined {
  const f = h.fields;
  for (let k = 0; k < h.fieldCount; k++) {
    if (nameIs(h.raw, f[k * 4] as number, f[k * 4 + 1] as number, lower)) return fieldValue(h, k);
  }
  return undefined;
}

export { nameIs };
