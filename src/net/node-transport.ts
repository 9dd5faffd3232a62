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

/**
 * The production transport: a thin wrapper over `net.Socket`. Its listeners are registered once and
 * forward to the one bound receiver (the connection actor), so no closure is made per event.
 */
export class NodeTransport implements Transport {
  readonly socket: net.Socket;
  private receiver: TransportReceiver = idle;
  private remoteEp: Endpoint | null = null;
  private localEp: Endpoint | null = null;

  constructor(socket: net.Socket, noDelay = true) {
    this.socket = socket;
    // both directions close independently (TCP half-close is forwarded, not collapsed)
    socket.allowHalfOpen = true;
    if (noDelay) socket.setNoDelay(true);
    socket.on('connect', this.onConnect);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  bind(receiver: TransportReceiver): void {
    this.receiver = receiver;
  }

  private readonly onConnect = (): void => this.receiver.onConnect();
  private readonly onData = (chunk: Buffer): void => this.receiver.onData(chunk);
  private readonly onEnd = (): void => this.receiver.onEnd();
  private readonly onDrain = (): void => this.receiver.onDrain();
  private readonly onError = (err: NodeJS.ErrnoException): void =>
    this.receiver.onError(err.code === undefined ? { message: err.message } : { code: err.code, message: err.message });
  private readonly onClose = (): void => this.receiver.onClose();

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

  get remote(): Endpoint {
    if (!this.remoteEp) this.remoteEp = endpoint(this.socket.remoteAddress, this.socket.remotePort, this.socket.remoteFamily);
    return this.remoteEp;
  }

  get local(): Endpoint {
    if (!this.localEp) this.localEp = endpoint(this.socket.localAddress, this.socket.localPort, this.socket.localFamily);
    return this.localEp;
  }

}

function endpoint(address: string | undefined, port: number | undefined, family: string | undefined): Endpoint {
  if (address === undefined) return NO_ENDPOINT;
  return { address, port: port ?? 0, family: family === 'IPv6' ? 'IPv6' : family === 'IPv4' ? 'IPv4' : '' };
}

/** Opens server connections with `net.connect`. */
export class NodeNetwork implements Network {
  connect(host: string, port: number): Transport {
    return new NodeTransport(net.connect({ host, port, allowHalfOpen: true, noDelay: true }), false);
  }
}
