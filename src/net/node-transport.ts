import { Buffer } from 'node:buffer';
import net from 'node:net';
import type { Endpoint, Network, Transport, TransportReceiver } from '../core/transport.types.ts';

const NO_ENDPOINT: Endpoint = { address: '', port: 0, family: '' };

const idle: TransportReceiver = {
  onConnect() {},
  onData() {},
  onEnd() {},
  onDrain() {},
  onError() {},
  onClose() {},
};

/** The transport a socket belongs to, set once on the socket (read by the shared listeners below). */
const TRANSPORT = Symbol('switchyard.transport');

type OwnedSocket = net.Socket & { [TRANSPORT]: NodeTransport };

const receiverOf = (socket: net.Socket): TransportReceiver => (socket as OwnedSocket)[TRANSPORT].receiver;

// One set of listeners for every socket: `this` is the socket that emitted, so no closure is made
// per connection (six of them, with their context, were ≈ 380 bytes per idle connection).
function onConnect(this: net.Socket): void {
  receiverOf(this).onConnect();
}
function onData(this: net.Socket, chunk: Buffer): void {
  receiverOf(this).onData(chunk);
}

/** Bytes of one read into the thread's read buffer (what libuv would allocate per read). */
const READ_BUFFER_SIZE = 64 * 1024;
let readBuffer: Buffer | null = null;

/**
 * Every socket of the thread reads into one buffer (Node's `onread` option), and what was read is
 * copied out before anything else runs: a read then costs a copy into Node's Buffer pool (or one
 * allocation of the size read) instead of a fresh 64 KiB ArrayBuffer trimmed to size.
 */
export function sharedRead(): { buffer: Buffer; callback: (this: net.Socket, n: number, buf: Buffer) => boolean } {
  readBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
  return { buffer: readBuffer, callback: onRead };
}

function onRead(this: net.Socket, n: number, buf: Buffer): boolean {
  const chunk = Buffer.allocUnsafe(n);
  buf.copy(chunk, 0, 0, n);
  receiverOf(this).onData(chunk);
  return true; // reading stops through pause(), not here
}

function onEnd(this: net.Socket): void {
  receiverOf(this).onEnd();
}
function onDrain(this: net.Socket): void {
  receiverOf(this).onDrain();
}
function onError(this: net.Socket, err: NodeJS.ErrnoException): void {
  receiverOf(this).onError(err.code === undefined ? { message: err.message } : { code: err.code, message: err.message });
}
function onClose(this: net.Socket): void {
  receiverOf(this).onClose();
}

/**
 * The production transport: a thin wrapper over `net.Socket`. Its listeners are shared by all
 * sockets and forward to the one bound receiver (the connection actor), so no closure is made per
 * event or per connection.
 */
export class NodeTransport implements Transport {
  readonly socket: net.Socket;
  receiver: TransportReceiver = idle;

  constructor(socket: net.Socket, noDelay = true) {
    this.socket = socket;
    (socket as OwnedSocket)[TRANSPORT] = this;
    // both directions close independently (TCP half-close is forwarded, not collapsed)
    socket.allowHalfOpen = true;
    if (noDelay) socket.setNoDelay(true);
    socket.on('connect', onConnect);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('drain', onDrain);
    socket.on('error', onError);
    socket.on('close', onClose);
  }

  bind(receiver: TransportReceiver): void {
    this.receiver = receiver;
  }

  write(chunk: Buffer): boolean {
    return this.socket.write(chunk);
  }

  end(): void {
    this.socket.end();
  }

  destroy(reset = false): void {
    if (reset && typeof this.socket.resetAndDestroy === 'function' && this.socket.readyState === 'open') {
      this.socket.resetAndDestroy();
    } else {
      this.socket.destroy();
    }
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Read from the socket, which keeps the addresses once asked (`_peername`, `_sockname`): not cached twice here. */
  get remote(): Endpoint {
    return endpoint(this.socket.remoteAddress, this.socket.remotePort, this.socket.remoteFamily);
  }

  get local(): Endpoint {
    return endpoint(this.socket.localAddress, this.socket.localPort, this.socket.localFamily);
  }
}

function endpoint(address: string | undefined, port: number | undefined, family: string | undefined): Endpoint {
  if (address === undefined) return NO_ENDPOINT;
  return { address, port: port ?? 0, family: family === 'IPv6' ? 'IPv6' : family === 'IPv4' ? 'IPv4' : '' };
}

/** Opens server connections with `net.connect`. */
export class NodeNetwork implements Network {
  connect(host: string, port: number): Transport {
    return new NodeTransport(net.connect({ host, port, allowHalfOpen: true, noDelay: true, onread: sharedRead() }), false);
  }
}
