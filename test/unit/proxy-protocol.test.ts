/** The PROXY protocol reader and writers: every version and family, any split, strict refusals. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ProxyHeaderReader, ProxyRead, proxyV1, proxyV2 } from '../../src/proto/proxy/proxy-protocol.ts';

/** Feed `bytes` in the given pieces; the verdict, the header and what followed it. */
function read(pieces: Buffer[]) {
  const r = new ProxyHeaderReader();
  let st: ProxyRead = ProxyRead.MORE;
  let at = -1;
  for (const [i, p] of pieces.entries()) {
    st = r.push(p);
    at = i;
    if (st !== ProxyRead.MORE) break;
  }
  return { st, header: r.header, rest: r.rest.toString('latin1'), error: r.error, at };
}

const whole = (s: string | Buffer) => {
  const { at: _, ...r } = read([typeof s === 'string' ? Buffer.from(s, 'latin1') : s]);
  return r;
};

test('v1: TCP4, TCP6 and UNKNOWN; the bytes after the header are left to the caller', () => {
  assert.deepEqual(whole('PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n'), {
    st: ProxyRead.DONE,
    header: { kind: 'proxy', addresses: { srcIp: '192.0.2.1', srcPort: 56324, dstIp: '198.51.100.2', dstPort: 443 } },
    rest: 'GET / HTTP/1.1\r\n',
    error: '',
  });
  assert.deepEqual(whole('PROXY TCP6 2001:db8::1 2001:db8::2 1000 80\r\n').header, {
    kind: 'proxy',
    addresses: { srcIp: '2001:db8::1', srcPort: 1000, dstIp: '2001:db8::2', dstPort: 80 },
  });
  assert.deepEqual(whole('PROXY UNKNOWN\r\n').header, { kind: 'local' });
  assert.deepEqual(whole('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\nx').rest, 'x');
});

test('v1: malformed headers are refused, never read as data', () => {
  for (const bad of [
    'GET / HTTP/1.1\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n',
    'PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 70000 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n',
    'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n',
    `PROXY TCP4 ${'1'.repeat(120)}\r\n`,
    'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP6 1:2:3:4:5:6:7:8:9:a ::1 1 2\r\n',
    'PROXY TCP6 a::b::c ::1 1 2\r\n',
  ]) {
    assert.equal(whole(bad).st, ProxyRead.ERROR, JSON.stringify(bad));
  }
  assert.equal(whole('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n').st, ProxyRead.MORE, 'a bare LF is not an end of line: still waiting (then refused past 107 bytes)');
  assert.equal(whole(`PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n${'x'.repeat(100)}`).st, ProxyRead.ERROR);
});

test('v2: TCP4, TCP6, LOCAL and UNSPEC; TLVs skipped; bad versions and commands refused', () => {
  const v4 = proxyV2({ srcIp: '10.1.2.3', srcPort: 4000, dstIp: '10.9.8.7', dstPort: 8443 });
  assert.deepEqual(whole(Buffer.concat([v4, Buffer.from('hello')])), {
    st: ProxyRead.DONE,
    header: { kind: 'proxy', addresses: { srcIp: '10.1.2.3', srcPort: 4000, dstIp: '10.9.8.7', dstPort: 8443 } },
    rest: 'hello',
    error: '',
  });
  const v6 = proxyV2({ srcIp: '2001:db8::10', srcPort: 1, dstIp: '::1', dstPort: 2 });
  assert.deepEqual(whole(v6).header, { kind: 'proxy', addresses: { srcIp: '2001:db8::10', srcPort: 1, dstIp: '::1', dstPort: 2 } });
  // a TLV after the addresses (length grows by 7): skipped
  const tlv = Buffer.from(v4);
  tlv.writeUInt16BE(12 + 7, 14);
  assert.deepEqual(whole(Buffer.concat([tlv, Buffer.from([0x01, 0x00, 0x04, 0x68, 0x32, 0x0d, 0x0a]), Buffer.from('data')])).rest, 'data');
  const local = Buffer.from(v4);
  local[12] = 0x20;
  assert.deepEqual(whole(local).header, { kind: 'local' });
  const badVersion = Buffer.from(v4);
  badVersion[12] = 0x11;
  assert.equal(whole(badVersion).st, ProxyRead.ERROR);
  const badCmd = Buffer.from(v4);
  badCmd[12] = 0x2f;
  assert.equal(whole(badCmd).st, ProxyRead.ERROR);
  const unix = Buffer.from(v4);
  unix[13] = 0x31;
  assert.equal(whole(unix).st, ProxyRead.ERROR, 'AF_UNIX is not a TCP connection');
  const huge = Buffer.from(v4);
  huge.writeUInt16BE(60000, 14);
  assert.equal(whole(huge).st, ProxyRead.ERROR);
});

test('writers: v1 and v2 round-trip through the reader; IPv4-mapped addresses are written plain', () => {
  const a = { srcIp: '::ffff:127.0.0.1', srcPort: 51000, dstIp: '::ffff:127.0.0.2', dstPort: 80 };
  assert.equal(proxyV1(a).toString(), 'PROXY TCP4 127.0.0.1 127.0.0.2 51000 80\r\n');
  for (const buf of [proxyV1(a), proxyV2(a)]) {
    assert.deepEqual(whole(buf).header, { kind: 'proxy', addresses: { srcIp: '127.0.0.1', srcPort: 51000, dstIp: '127.0.0.2', dstPort: 80 } });
  }
  assert.equal(proxyV1({ srcIp: '::1', srcPort: 1, dstIp: '127.0.0.1', dstPort: 2 }).toString(), 'PROXY UNKNOWN\r\n', 'mixed families');
});

test('any split of a header and what follows gives the same result (fast-check)', () => {
  const headers = [
    Buffer.from('PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n'),
    Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 1000 80\r\n'),
    proxyV2({ srcIp: '10.1.2.3', srcPort: 4000, dstIp: '10.9.8.7', dstPort: 8443 }),
    proxyV2({ srcIp: '2001:db8::10', srcPort: 1, dstIp: '::1', dstPort: 2 }),
  ];
  fc.assert(
    fc.property(fc.constantFrom(...headers), fc.uint8Array({ maxLength: 20 }), fc.array(fc.nat(), { maxLength: 6 }), (h, tail, cuts) => {
      const all = Buffer.concat([h, Buffer.from(tail)]);
      const at = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((x, y) => x - y);
      const pieces: Buffer[] = [];
      let prev = 0;
      for (const c of at) {
        pieces.push(all.subarray(prev, c));
        prev = c;
      }
      pieces.push(all.subarray(prev));
      // the reader stops at DONE: the rest of that piece is `rest`, later pieces are the caller's
      const r = read(pieces);
      assert.equal(r.st, ProxyRead.DONE);
      assert.deepEqual(r.header, whole(all).header);
      // what followed the header: the rest of the piece it ended in, then the later pieces
      const after = r.rest + Buffer.concat(pieces.slice(r.at + 1)).toString('latin1');
      assert.equal(after, Buffer.from(tail).toString('latin1'));
    }),
    { numRuns: 300 },
  );
});
