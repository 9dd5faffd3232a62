import type { H1Head } from './http1.types.ts';

/** Hop-by-hop fields a proxy never forwards as they are (RFC 9110 §7.6.1); Connection is rebuilt. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);

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

/**
 * The head to send to the next hop: the start line as received (HTTP/1.0 stays 1.0), every
 * end-to-end field with its name in lower case (as HAProxy normalises them) and its value trimmed,
 * the hop-by-hop fields dropped and the Connection field rebuilt.
 */
export function serializeHead(h: H1Head, conn: ConnHeader, edits?: HeaderEdits): Buffer {
  let out = h.isRequest ? `${h.method} ${h.target} HTTP/1.${h.minor}\r\n` : `HTTP/1.${h.minor} ${h.status} ${h.reason}\r\n`;
  const raw = h.raw;
  const f = h.fields;
  const extra = h.connectionTokens;
  const del = edits?.del;
  let lengthDone = false;
  for (let k = 0; k < h.fieldCount; k++) {
    const name = raw.slice(f[k * 4], f[k * 4 + 1]).toLowerCase();
    if (HOP_BY_HOP.has(name)) {
      if (name !== 'upgrade' || conn !== ConnHeader.UPGRADE) continue;
    }
    if ((extra?.includes(name) && !FRAMING.has(name)) || del?.has(name)) continue;
    if (name === 'content-length') {
      // one field with the one value, as HAProxy sends it: `5, 5` or two fields would make the
      // next parser guess (llhttp refuses them)
      if (!lengthDone) out += `content-length: ${h.declaredLength}\r\n`;
      lengthDone = true;
      continue;
    }
    out += `${name}: ${raw.slice(f[k * 4 + 2], f[k * 4 + 3])}\r\n`;
  }
  if (edits?.add) for (const line of edits.add) out += `${line}\r\n`;
  out += `${CONN_LINE[conn]}\r\n`;
  return Buffer.from(out, 'latin1');
}
