import { BodyKind, H1Err } from './http1.types.ts';

const CR = 13;
const LF = 10;

/** States of the chunked-body reader. */
const Ck = {
  SIZE: 0, // hex digits of a chunk size
  EXT: 2, // chunk extension, up to CR
  SIZE_LF: 3, // LF after the size line
  DATA: 4,
  DATA_CR: 5,
  DATA_LF: 6,
  TRAILER_START: 7, // start of a trailer line, or the final CRLF
  TRAILER: 8, // inside a trailer field line
  TRAILER_LF: 9,
  END_LF: 10,
} as const;

/** Largest chunk size accepted (hex digits beyond this are refused, no overflow). */
const MAX_SIZE_DIGITS = 13;

const hexValue = (c: number): number => {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
};

/**
 * Finds where a message body ends without copying it: the proxy forwards the bytes as they came
 * (chunked stays chunked), and only needs to know how many of them belong to this message. The
 * rest of a read (a pipelined request, say) is left to the caller.
 */
export class BodyFramer {
  kind: BodyKind = BodyKind.NONE;
  /** LENGTH: bytes still to come; CHUNKED: bytes left in the current chunk. */
  remaining = 0;
  done = true;
  error: H1Err | null = null;
  /** Bytes of payload seen (chunk data only, without the framing). */
  payload = 0;
  private st: number = Ck.SIZE;
  private digits = 0;
  /**
   * When set, the payload of a chunked body is handed here without its framing (for an HTTP/1.0
   * peer, which cannot read chunked); the caller then forwards nothing of the raw bytes.
   */
  sink: ((data: Buffer) => void) | null = null;

  start(kind: BodyKind, contentLength: number): void {
    this.kind = kind;
    this.error = null;
    this.payload = 0;
    this.st = Ck.SIZE;
    this.digits = 0;
    this.remaining = kind === BodyKind.LENGTH ? contentLength : 0;
    this.done = kind === BodyKind.NONE || (kind === BodyKind.LENGTH && contentLength === 0);
  }

  /**
   * Consume the bytes of `buf[off..]` that belong to this body; returns how many (the message is
   * over when `done`), or -1 when the framing is invalid (`error` says why).
   */
  feed(buf: Buffer, off: number): number {
    if (this.done) return 0;
    const avail = buf.length - off;
    switch (this.kind) {
      case BodyKind.LENGTH: {
        const n = Math.min(avail, this.remaining);
        this.remaining -= n;
        this.payload += n;
        if (this.remaining === 0) this.done = true;
        return n;
      }
      case BodyKind.CLOSE:
        this.payload += avail;
        return avail;
      case BodyKind.CHUNKED:
        return this.chunked(buf, off);
      default:
        return 0;
    }
  }

  /** CLOSE-delimited body: the server closed, so the message is complete. */
  endOfInput(): boolean {
    if (this.kind === BodyKind.CLOSE) this.done = true;
    return this.done;
  }

  private chunked(buf: Buffer, off: number): number {
    const len = buf.length;
    let i = off;
    while (i < len) {
      const c = buf[i] as number;
      switch (this.st) {
        case Ck.SIZE: {
          const h = hexValue(c);
          if (h >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) return this.bad();
            this.remaining = this.remaining * 16 + h;
            i++;
            break;
          }
          if (this.digits === 0) return this.bad();
          // no whitespace after the size: the body is forwarded as it came, and a server's parser
          // (llhttp, for one) refuses it — what the proxy accepts must frame the same downstream
          if (c === CR) this.st = Ck.SIZE_LF;
          else if (c === 0x3b) this.st = Ck.EXT;
          else return this.bad();
          i++;
          break;
        }
        case Ck.EXT:
          // chunk-ext: visible bytes, spaces, tabs; no control byte, no bare LF
          if (c === CR) this.st = Ck.SIZE_LF;
          else if ((c < 0x20 && c !== 0x09) || c === 0x7f) return this.bad();
          i++;
          break;
        case Ck.SIZE_LF:
          if (c !== LF) return this.bad();
          i++;
          this.digits = 0;
          this.st = this.remaining === 0 ? Ck.TRAILER_START : Ck.DATA;
          break;
        case Ck.DATA: {
          const n = Math.min(len - i, this.remaining);
          if (this.sink !== null && n > 0) this.sink(buf.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          this.payload += n;
          if (this.remaining === 0) this.st = Ck.DATA_CR;
          break;
        }
        case Ck.DATA_CR:
          if (c !== CR) return this.bad();
          this.st = Ck.DATA_LF;
          i++;
          break;
        case Ck.DATA_LF:
          if (c !== LF) return this.bad();
          this.st = Ck.SIZE;
          i++;
          break;
        case Ck.TRAILER_START:
          if (c === CR) this.st = Ck.END_LF;
          else if (c === 0x20 || c === 0x09 || c === LF) return this.bad();
          else this.st = Ck.TRAILER;
          i++;
          break;
        case Ck.TRAILER:
          if (c === CR) this.st = Ck.TRAILER_LF;
          else if ((c < 0x20 && c !== 0x09) || c === 0x7f) return this.bad();
          i++;
          break;
        case Ck.TRAILER_LF:
          if (c !== LF) return this.bad();
          this.st = Ck.TRAILER_START;
          i++;
          break;
        case Ck.END_LF:
          if (c !== LF) return this.bad();
          this.done = true;
          return i + 1 - off;
        default:
          return this.bad();
      }
    }
    return i - off;
  }

  private bad(): number {
    this.error = H1Err.BAD_CHUNK;
    return -1;
  }
}
