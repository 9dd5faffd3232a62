import { Buffer } from 'node:buffer';
import { nameIs } from './head.ts';
import type { H1Head } from './http1.types.ts';

/**
 * Fields a `Connection:` token may not remove: the message's framing and its Host. Dropping them
 * while the proxy frames the body by them would let the next hop read the body as another request
 * (`Connection: content-length` was request smuggling).
 */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'host']);

/** What the next hop is told about the connection. */
export const ConnHeader = {
  /** Nothing: HTTP/1.1 persistence is the default. */
  NONE: 0,
  CLOSE: 1,
  /** `connection: keep-alive` (an HTTP/1.0 peer that keeps the connection). */
  KEEP_ALIVE: 2,
  /** `connection: upgrade` (the Upgrade field is kept). */
  UPGRADE: 3,
} as const;
export type ConnHeader = (typeof ConnHeader)[keyof typeof ConnHeader];

const CONN_LINE = ['', 'connection: close\r\n', 'connection: keep-alive\r\n', 'connection: upgrade\r\n'];

/** A header edit applied while serialising (http-request/http-response rules, forwardfor). */
export interface HeaderEdits {
  /** Lower-case names of fields to drop. */
  readonly del?: ReadonlySet<string>;
  /** Lines to append, each `name: value` (no CRLF). */
  readonly add?: readonly string[];
}

const SP = 32;
const CR = 13;

/** What a field is to the serialiser, from its name: recognised by length first, no string made. */
const FieldKind = { OTHER: 0, HOP: 1, UPGRADE: 2, LENGTH: 3 } as const;
type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

function kindOf(raw: string, s: number, e: number): FieldKind {
  switch (e - s) {
    case 7:
      return nameIs(raw, s, e, 'upgrade') ? FieldKind.UPGRADE : FieldKind.OTHER;
    case 10:
      return nameIs(raw, s, e, 'connection') || nameIs(raw, s, e, 'keep-alive') ? FieldKind.HOP : FieldKind.OTHER;
    case 14:
      return nameIs(raw, s, e, 'content-length') ? FieldKind.LENGTH : FieldKind.OTHER;
    case 16:
      return nameIs(raw, s, e, 'proxy-connection') ? FieldKind.HOP : FieldKind.OTHER;
    default:
      return FieldKind.OTHER;
  }
}

/** raw[s..e) has no upper-case letter (the name can be sent as it came). */
function isLower(raw: string, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return false;
  }
  return true;
}

/**
 * The head to send to the next hop: the start line as received (HTTP/1.0 stays 1.0), every
 * end-to-end field with its name in lower case (as HAProxy normalises them) and its value trimmed,
 * the hop-by-hop fields dropped and the Connection field rebuilt.
 *
 * Fields already in that form (`name: value` CRLF, name in lower case) are copied as runs of the
 * received head: most heads are one or two slices, not a string per field.
 */
export function serializeHead(h: H1Head, conn: ConnHeader, edits?: HeaderEdits): Buffer {
  return Buffer.from(serializeHeadText(h, conn, edits), 'latin1');
}

/** `serializeHead` as a latin1 string (one byte per character), for a caller that writes it with other bytes. */
export function serializeHeadText(h: H1Head, conn: ConnHeader, edits?: HeaderEdits): string {
  let out = h.isRequest ? `${h.method} ${h.target} HTTP/1.${h.minor}\r\n` : `HTTP/1.${h.minor} ${h.status} ${h.reason}\r\n`;
  const raw = h.raw;
  const f = h.fields;
  const extra = h.connectionTokens;
  const del = edits?.del;
  const byName = extra !== null || (del !== undefined && del.size > 0);
  let lengthDone = false;
  let runStart = -1; // start in raw of the run of fields copied as they are
  let runEnd = -1;
  for (let k = 0; k < h.fieldCount; k++) {
    const ns = f[k * 4] as number;
    const ne = f[k * 4 + 1] as number;
    const vs = f[k * 4 + 2] as number;
    const ve = f[k * 4 + 3] as number;
    const kind = kindOf(raw, ns, ne);
    let drop = kind === FieldKind.HOP || (kind === FieldKind.UPGRADE && conn !== ConnHeader.UPGRADE);
    if (!drop && byName) {
      const name = raw.slice(ns, ne).toLowerCase();
      drop = (extra?.includes(name) === true && !FRAMING.has(name)) || del?.has(name) === true;
    }
    // as it came: lower-case name, one SP after the colon, CRLF right after the value
    const verbatim = !drop && kind !== FieldKind.LENGTH && vs === ne + 2 && raw.charCodeAt(ne + 1) === SP && raw.charCodeAt(ve) === CR && isLower(raw, ns, ne);
    if (verbatim && runEnd === ns) {
      runEnd = ve + 2;
      continue;
    }
    if (runStart >= 0) out += raw.slice(runStart, runEnd);
    runStart = runEnd = -1;
    if (verbatim) {
      runStart = ns;
      runEnd = ve + 2;
    } else if (drop) {
      // not sent
    } else if (kind === FieldKind.LENGTH) {
      // one field with the one value, as HAProxy sends it: `5, 5` or two fields would make the
      // next parser guess (llhttp refuses them)
      if (!lengthDone) out += `content-length: ${h.declaredLength}\r\n`;
      lengthDone = true;
    } else {
      out += `${raw.slice(ns, ne).toLowerCase()}: ${raw.slice(vs, ve)}\r\n`;
    }
  }
  if (runStart >= 0) out += raw.slice(runStart, runEnd);
  if (edits?.add) for (const line of edits.add) out += `${line}\r\n`;
  return `${out}${CONN_LINE[conn]}\r\n`;
}
