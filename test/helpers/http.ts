/**
 * Raw-byte HTTP for integration tests: an origin that reads requests off the socket itself (no
 * node:http, so the test sees exactly what the proxy sent and can misbehave on purpose), and a
 * client that writes raw requests and reads responses framed by Content-Length or chunked.
 */
import net from 'node:net';
import { type Origin, origin } from './origins.ts';

export interface RawRequest {
  readonly head: string;
  readonly method: string;
  readonly target: string;
  /** Header fields, names in lower case. */
  readonly headers: Map<string, string>;
  readonly body: Buffer;
  /** 1 for the first request on its connection. */
  readonly nth: number;
  /** Which connection of the origin it came on (1-based, in accept order). */
  readonly conn: number;
}

/** What a handler does with a request: answer, or misbehave. */
export type Answer = string | Buffer | { close: true } | { reset: true } | { delayMs: number; answer: Answer } | null;

/** The header fields of a raw head (the lines after the start line), names in lower case. */
export function headerMap(head: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const l of head.split('\r\n').slice(1)) {
    const i = l.indexOf(':');
    headers.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
  }
  return headers;
}

/** A canned 200 with `body` (default: the request's x-id). */
export const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

/**
 * An HTTP/1.1 origin: calls `handler` for each request, in order per connection, and writes what
 * it returns (null: nothing, the handler answers itself through `sock`).
 */
export function httpOrigin(handler: (req: RawRequest, sock: net.Socket, o: Origin) => Answer): Promise<Origin> {
  let conns = 0;
  return origin((sock, o) => {
    const conn = ++conns;
    let buf = Buffer.alloc(0);
    let nth = 0;
    let busy = Promise.resolve();
    /** The interim 100 was sent for the request at the head of the buffer. */
    let continued = false;
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const headers = headerMap(head);
        const [method = '', target = ''] = head.split(' ');
        let bodyLen = Number(headers.get('content-length') ?? 0);
        let body: Buffer;
        if (headers.get('transfer-encoding') === 'chunked') {
          const parsed = dechunk(buf.subarray(end + 4));
          if (!parsed) return;
          body = parsed.body;
          bodyLen = parsed.used;
        } else {
          if (buf.length < end + 4 + bodyLen) {
            // as a real server: ask for the body of an `Expect: 100-continue` request
            if (!continued && headers.get('expect')?.toLowerCase() === '100-continue') sock.write('HTTP/1.1 100 Continue\r\n\r\n');
            continued = true;
            return;
          }
          body = buf.subarray(end + 4, end + 4 + bodyLen);
        }
        continued = false;
        buf = buf.subarray(end + 4 + bodyLen);
        const req: RawRequest = { head, method, target, headers, body, nth: ++nth, conn };
        busy = busy.then(() => act(sock, handler(req, sock, o)));
      }
    });
    sock.on('end', () => sock.end());
  });
}

async function act(sock: net.Socket, a: Answer): Promise<void> {
  if (a === null || sock.destroyed) return;
  if (typeof a === 'string' || Buffer.isBuffer(a)) sock.write(a);
  else if ('close' in a) sock.end();
  else if ('reset' in a) sock.resetAndDestroy();
  else {
    await new Promise((r) => setTimeout(r, a.delayMs));
    await act(sock, a.answer);
  }
}

/** Decode a complete chunked body at the start of `b`; null if incomplete. */
function dechunk(b: Buffer): { body: Buffer; used: number } | null {
  const parts: Buffer[] = [];
  let i = 0;
  for (;;) {
    const nl = b.indexOf('\r\n', i);
    if (nl < 0) return null;
    const size = Number.parseInt(b.subarray(i, nl).toString('latin1').split(';')[0] as string, 16);
    i = nl + 2;
    if (size === 0) {
      const end = b.indexOf('\r\n\r\n', i - 2);
      return end < 0 ? null : { body: Buffer.concat(parts), used: end + 4 };
    }
    if (b.length < i + size + 2) return null;
    parts.push(b.subarray(i, i + size));
    i += size + 2;
  }
}

export interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly headers: Map<string, string>;
  readonly body: string;
}

/**
 * A client connection that sends raw requests and reads responses one by one (Content-Length,
 * chunked, or until close). `closed` resolves when the proxy closes the connection.
 */
export class RawClient {
  readonly sock: net.Socket;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  ended = false;
  readonly closed: Promise<void>;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    sock.on('error', () => {});
    this.closed = new Promise((r) =>
      sock.on('close', () => {
        this.ended = true;
        this.wake();
        r();
      }),
    );
    sock.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  send(data: string | Buffer): void {
    this.sock.write(data);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private more(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no response within ${ms} ms (have ${JSON.stringify(this.buf.toString('latin1'))})`)), ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** The next response (`head`: a response to HEAD, no body). */
  async response(opts: { ms?: number; head?: boolean } = {}): Promise<RawResponse> {
    const ms = opts.ms ?? 5000;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.buf.subarray(0, end).toString('latin1');
        const headers = headerMap(head);
        const status = Number(head.split(' ')[1]);
        const rest = this.buf.subarray(end + 4);
        let used = -1;
        let body: Buffer = Buffer.alloc(0);
        if (opts.head || status === 204 || status === 304 || status < 200) used = 0;
        else if (headers.has('content-length')) {
          const n = Number(headers.get('content-length'));
          if (rest.length >= n) {
            used = n;
            body = rest.subarray(0, n);
          }
        } else if (headers.get('transfer-encoding') === 'chunked') {
          const d = dechunk(rest);
          if (d) {
            used = d.used;
            body = d.body;
          }
        } else if (this.ended) {
          used = rest.length;
          body = rest;
        }
        if (used >= 0) {
          this.buf = rest.subarray(used);
          return { status, head, headers, body: body.toString('latin1') };
        }
      }
      if (this.ended) throw new Error(`connection closed before a complete response (have ${JSON.stringify(this.buf.toString('latin1'))})`);
      await this.more(ms);
    }
  }

  /** Wait until the unread bytes contain `text`; returns them and consumes them. */
  async waitFor(text: string, ms = 3000): Promise<string> {
    for (;;) {
      const s = this.buf.toString('latin1');
      if (s.includes(text)) {
        this.buf = Buffer.alloc(0);
        return s;
      }
      if (this.ended) throw new Error(`closed before ${JSON.stringify(text)} came (have ${JSON.stringify(s)})`);
      await this.more(ms);
    }
  }

  /** Everything until the proxy closes. */
  async rest(ms = 5000): Promise<string> {
    while (!this.ended) await this.more(ms);
    return this.buf.toString('latin1');
  }

  close(): void {
    this.sock.destroy();
  }
}

/** One request on its own connection; resolves with the response. */
export async function request(port: number, raw: string): Promise<RawResponse> {
  const c = await RawClient.connect(port);
  try {
    c.send(raw);
    return await c.response();
  } finally {
    c.close();
  }
}

export const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nhost: test\r\n${extra}\r\n`;

/** Server-side sockets of the proxy to `port` in CLOSE-WAIT (state 08 in /proc/net/tcp). */
export async function closeWaitTo(port: number): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .filter((l) => {
      const f = l.trim().split(/\s+/);
      return f[2]?.endsWith(`:${hex}`) && f[3] === '08';
    }).length;
}
