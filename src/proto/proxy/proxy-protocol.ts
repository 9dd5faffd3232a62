/**
 * The PROXY protocol (haproxy.org/download/2.6/doc/proxy-protocol.txt), versions 1 and 2: the
 * reader for `bind … accept-proxy` (incremental: any split of the header gives the same result,
 * and nothing past the header is consumed) and the writers for `server … send-proxy[-v2]`.
 */

import net from 'node:net';

/** v2 signature: \r\n\r\n\0\r\nQUIT\n */
const V2_SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** A v1 line is at most 107 bytes with its CRLF. */
const V1_MAX = 107;
/** v2 headers this large are refused (the addresses and TLVs of a sane sender are far smaller). */
const V2_MAX = 16 + 2048;

export interface ProxyAddresses {
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
}

export type ProxyHeader =
  /** The sender vouches for these addresses. */
  | { readonly kind: 'proxy'; readonly addresses: ProxyAddresses }
  /** v1 `UNKNOWN`, v2 LOCAL or an unsupported family: keep the connection's own addresses. */
  | { readonly kind: 'local' };

export const ProxyRead = { MORE: 0, DONE: 1, ERROR: 2 } as const;
export type ProxyRead = (typeof ProxyRead)[keyof typeof ProxyRead];

/** Accumulates a connection's first bytes until its PROXY header is complete or invalid. */
export class ProxyHeaderReader {
  private buf: Buffer = Buffer.alloc(0);
  header: ProxyHeader | null = null;
  /** After DONE: the bytes that followed the header in what was pushed. */
  rest: Buffer = Buffer.alloc(0);
  error = '';

  push(chunk: Buffer): ProxyRead {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const b = this.buf;
    // which version: decided as soon as the first bytes tell them apart
    const n = Math.min(b.length, V2_SIG.length);
    const maybeV2 = b.subarray(0, n).equals(V2_SIG.subarray(0, n));
    const maybeV1 = b.subarray(0, Math.min(b.length, 6)).equals(V1_PREFIX.subarray(0, Math.min(b.length, 6)));
    if (!maybeV1 && !maybeV2) return this.fail('not a PROXY protocol header');
    if (maybeV2 && b.length >= V2_SIG.length) return this.v2(b);
    if (maybeV1 && !maybeV2) return this.v1(b);
    return ProxyRead.MORE;
  }

  private done(header: ProxyHeader, used: number): ProxyRead {
    this.header = header;
    this.rest = this.buf.subarray(used);
    this.buf = Buffer.alloc(0);
    return ProxyRead.DONE;
  }

  private fail(why: string): ProxyRead {
    this.error = why;
    this.buf = Buffer.alloc(0);
    return ProxyRead.ERROR;
  }

  private v1(b: Buffer): ProxyRead {
    const eol = b.indexOf('\r\n');
    if (eol < 0) return b.length >= V1_MAX ? this.fail('v1 header too long') : ProxyRead.MORE;
    if (eol + 2 > V1_MAX) return this.fail('v1 header too long');
    const line = b.toString('latin1', 6, eol);
    if (line.startsWith('UNKNOWN')) return this.done({ kind: 'local' }, eol + 2);
    const m = /^(TCP4|TCP6) (\S+) (\S+) (\d{1,5}) (\d{1,5})$/.exec(line);
    if (!m) return this.fail('invalid v1 header');
    const [, fam, src = '', dst = '', sp, dp] = m;
    const okIp = fam === 'TCP4' ? isIPv4 : isIPv6;
    const srcPort = Number(sp);
    const dstPort = Number(dp);
    if (!okIp(src) || !okIp(dst) || srcPort > 65535 || dstPort > 65535 || /^0\d/.test(sp ?? '') || /^0\d/.test(dp ?? '')) return this.fail('invalid v1 addresses');
    return this.done({ kind: 'proxy', addresses: { srcIp: src, srcPort, dstIp: dst, dstPort } }, eol + 2);
  }

  private v2(b: Buffer): ProxyRead {
    if (b.length < 16) return ProxyRead.MORE;
    const verCmd = b[12] as number;
    if (verCmd >> 4 !== 2) return this.fail('unsupported v2 version');
    const cmd = verCmd & 0x0f;
    if (cmd > 1) return this.fail('unsupported v2 command');
    const fam = b[13] as number;
    const len = b.readUInt16BE(14);
    if (16 + len > V2_MAX) return this.fail('v2 header too long');
    if (b.length < 16 + len) return ProxyRead.MORE;
    const used = 16 + len;
    if (cmd === 0) return this.done({ kind: 'local' }, used); // LOCAL: health checks from the sender itself
    if (fam === 0x11) {
      if (len < 12) return this.fail('v2 TCP4 address block too short');
      const ip = (o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
      return this.done({ kind: 'proxy', addresses: { srcIp: ip(16), dstIp: ip(20), srcPort: b.readUInt16BE(24), dstPort: b.readUInt16BE(26) } }, used);
    }
    if (fam === 0x21) {
      if (len < 36) return this.fail('v2 TCP6 address block too short');
      return this.done({ kind: 'proxy', addresses: { srcIp: ipv6(b, 16), dstIp: ipv6(b, 32), srcPort: b.readUInt16BE(48), dstPort: b.readUInt16BE(50) } }, used);
    }
    if (fam === 0x00) return this.done({ kind: 'local' }, used); // UNSPEC
    return this.fail('unsupported v2 address family');
  }
}

// the address grammar is node:net's (a pure check, no socket)
const isIPv4 = (s: string): boolean => net.isIPv4(s);
const isIPv6 = (s: string): boolean => net.isIPv6(s);

function ipv6(b: Buffer, o: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) parts.push(b.readUInt16BE(o + i * 2).toString(16));
  // the canonical text form (RFC 5952), as the WHATWG URL parser writes it
  return new URL(`http://[${parts.join(':')}]`).hostname.slice(1, -1);
}

/** Strip the IPv4-mapped prefix Node reports on dual-stack sockets. */
const plain = (ip: string): string => (ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip);

/** `send-proxy`: the v1 line for a connection from `a.src` to `a.dst`. */
export function proxyV1(a: ProxyAddresses): Buffer {
  const src = plain(a.srcIp);
  const dst = plain(a.dstIp);
  const v6 = src.includes(':') || dst.includes(':');
  if (v6 && !(src.includes(':') && dst.includes(':'))) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  return Buffer.from(`PROXY ${v6 ? 'TCP6' : 'TCP4'} ${src} ${dst} ${a.srcPort} ${a.dstPort}\r\n`, 'latin1');
}

/** `send-proxy-v2`: the binary header (PROXY command, TCP over IPv4 or IPv6, no TLV). */
export function proxyV2(a: ProxyAddresses): Buffer {
  const src = plain(a.srcIp);
  const dst = plain(a.dstIp);
  if (isIPv4(src) && isIPv4(dst)) {
    const out = Buffer.alloc(16 + 12);
    V2_SIG.copy(out, 0);
    out[12] = 0x21;
    out[13] = 0x11;
    out.writeUInt16BE(12, 14);
    for (const [i, x] of src.split('.').entries()) out[16 + i] = Number(x);
    for (const [i, x] of dst.split('.').entries()) out[20 + i] = Number(x);
    out.writeUInt16BE(a.srcPort, 24);
    out.writeUInt16BE(a.dstPort, 26);
    return out;
  }
  if (src.includes(':') && dst.includes(':')) {
    const out = Buffer.alloc(16 + 36);
    V2_SIG.copy(out, 0);
    out[12] = 0x21;
    out[13] = 0x21;
    out.writeUInt16BE(36, 14);
    writeIPv6(out, 16, src);
    writeIPv6(out, 32, dst);
    out.writeUInt16BE(a.srcPort, 48);
    out.writeUInt16BE(a.dstPort, 50);
    return out;
  }
  // mixed families: LOCAL, as HAProxy sends when it cannot describe the connection
  const out = Buffer.alloc(16);
  V2_SIG.copy(out, 0);
  out[12] = 0x20;
  out[13] = 0x00;
  return out;
}

function writeIPv6(out: Buffer, o: number, ip: string): void {
  const [head = '', tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = ip.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g || '0', 16), o + i * 2);
}
