/**
 * The floor of a proxy written for Node: a relay that gives every client connection a connection
 * to the origin of its own and copies bytes both ways, with no HTTP, no timers, no logs, no
 * balancing. No proxy on the same sockets can cost less per request; bench/http.ts runs it beside
 * the proxies so that the share of switchyard's cost that is its own, and the share that is the
 * runtime's, are measured in the same run.
 *
 * Two variants:
 * - `socket`: `net.Server` and `net.connect` as documented, `data` events, `write`, `end`,
 *   `destroy` — what switchyard and every Node proxy are built on;
 * - `handle`: libuv's TCP handles through Node's internal bindings (`process.binding('tcp_wrap')`,
 *   deprecated and unsupported): the same relay without `net.Socket`'s streams. It is here only to
 *   show what `net.Socket` itself costs per connection and per request; nothing in switchyard uses
 *   these bindings.
 *
 *   node bench/node-relay.ts --variant socket|handle --port P --to O
 */
import net from 'node:net';

/** One side of the handle relay: the internal TCP handle, with the fields the relay hangs on it. */
interface Handle {
  peer: Handle;
  /** Its EOF was read. */
  ended: boolean;
  /** Our FIN on it went out (after everything written to it). */
  shut: boolean;
  closed: boolean;
  onread: (this: Handle) => void;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buf: Uint8Array): void;
  setNoDelay(on: boolean): number;
  writeBuffer(req: object, data: Uint8Array): number;
  shutdown(req: object): number;
  connect(req: object, address: string, port: number): number;
  bind(address: string, port: number): number;
  listen(backlog: number): number;
  close(cb?: () => void): void;
  onconnection: (err: number, client: Handle) => void;
}

interface TcpWrap {
  TCP: new (type: number) => Handle;
  TCPConnectWrap: new () => { oncomplete: (status: number) => void };
  constants: { SOCKET: number; SERVER: number };
}

interface StreamWrap {
  WriteWrap: new () => { handle: Handle; oncomplete: () => void; async: boolean };
  ShutdownWrap: new () => { handle: Handle; oncomplete: () => void };
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

function socketRelay(port: number, to: number): void {
  const pair = (a: net.Socket, b: net.Socket): void => {
    // backpressure as any proxy must: stop reading a side while the other cannot take more
    a.on('data', (d: Buffer) => {
      if (!b.write(d)) a.pause();
    });
    b.on('drain', () => a.resume());
    a.on('end', () => b.end());
    a.on('error', () => b.destroy());
    // a closed cleanly has sent its FIN and had b's: b ends by itself once its writes are out
    a.on('close', (hadError: boolean) => (hadError ? b.destroy() : b.end()));
  };
  net
    .createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
      const server = net.connect({ host: '127.0.0.1', port: to, allowHalfOpen: true, noDelay: true });
      pair(client, server);
      pair(server, client);
    })
    .listen(port, '127.0.0.1');
}

/** libuv's end-of-stream code (UV_EOF), the same on every platform. */
const UV_EOF = -4095;

function handleRelay(port: number, to: number): void {
  const binding = (process as unknown as { binding(name: string): unknown }).binding;
  const { TCP, TCPConnectWrap, constants } = binding('tcp_wrap') as TcpWrap;
  const { WriteWrap, ShutdownWrap, streamBaseState, kReadBytesOrError, kLastWriteWasAsync } = binding('stream_wrap') as StreamWrap;
  const readBuffer = Buffer.allocUnsafeSlow(64 * 1024);
  const nothing = (): void => {};
  const close = (h: Handle): void => {
    if (h.closed) return;
    h.closed = true;
    h.close();
  };
  function onread(this: Handle): void {
    const n = streamBaseState[kReadBytesOrError] as number;
    const peer = this.peer;
    if (n > 0) {
      const chunk = Buffer.allocUnsafe(n);
      readBuffer.copy(chunk, 0, 0, n);
      const req = new WriteWrap();
      req.handle = peer;
      req.oncomplete = nothing;
      req.async = false;
      if (peer.closed || peer.writeBuffer(req, chunk) !== 0) {
        close(this);
        close(peer);
        return;
      }
      if (streamBaseState[kLastWriteWasAsync] !== 0) {
        // the peer's socket is full: read no more from this side until the write is done (backpressure)
        this.readStop();
        req.oncomplete = () => {
          if (!this.closed && !this.ended) this.readStart();
        };
      }
      return;
    }
    if (n === 0) return;
    if (n !== UV_EOF) {
      close(this);
      close(peer);
      return;
    }
    // EOF: pass the FIN on once what was written to the peer is out (a shutdown completes after the
    // pending writes); a side is closed when it has both read its EOF and sent its own FIN
    this.ended = true;
    this.readStop();
    if (!peer.closed) {
      const req = new ShutdownWrap();
      req.handle = peer;
      req.oncomplete = () => {
        peer.shut = true;
        closeIfDone(peer);
      };
      if (peer.shutdown(req) !== 0) close(peer);
    }
    closeIfDone(this);
  }
  const closeIfDone = (h: Handle): void => {
    if (h.ended && h.shut) close(h);
  };
  const server = new TCP(constants.SERVER);
  const bound = server.bind('127.0.0.1', port);
  if (bound !== 0) throw new Error(`bind 127.0.0.1:${port}: libuv error ${bound}`);
  server.onconnection = (err, client) => {
    if (err !== 0) return;
    const origin = new TCP(constants.SOCKET);
    for (const [h, peer] of [
      [client, origin],
      [origin, client],
    ] as const) {
      h.peer = peer;
      h.ended = false;
      h.shut = false;
      h.closed = false;
      h.onread = onread;
      h.useUserBuffer(readBuffer);
      h.setNoDelay(true);
    }
    const req = new TCPConnectWrap();
    req.oncomplete = (status) => {
      if (status !== 0) {
        close(client);
        close(origin);
        return;
      }
      origin.readStart();
      client.readStart();
    };
    origin.connect(req, '127.0.0.1', to);
  };
  const listening = server.listen(511);
  if (listening !== 0) throw new Error(`listen 127.0.0.1:${port}: libuv error ${listening}`);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(arg('--port'));
  const to = Number(arg('--to'));
  if (arg('--variant') === 'handle') handleRelay(port, to);
  else socketRelay(port, to);
}
