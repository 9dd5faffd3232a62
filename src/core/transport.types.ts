/**
 * The simulation seam (DESIGN.md §2): core/ reaches sockets only through these interfaces.
 * Production wraps `net.Socket` (src/net/node-transport.ts); the simulator provides its own.
 * One receiver object per transport, bound once: no per-event closures on the hot path.
 */
export interface TransportReceiver {
  onConnect(): void;
  /**
   * Bytes read. The chunk is the receiver's from then on: the transport neither reads nor reuses
   * it, and the receiver may write into it (an HTTP response head is rewritten in place).
   */
  onData(chunk: Buffer): void;
  /** The peer sent FIN (read side is done). */
  onEnd(): void;
  /** A write that returned false has been flushed. */
  onDrain(): void;
  onError(err: TransportError): void;
  /** The socket is gone (after end+finish, destroy or error). Always the last event. */
  onClose(): void;
}

export interface TransportError {
  readonly code?: string;
  readonly message: string;
}

export interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6' | 'unix' | '';
}

export interface Transport {
  bind(receiver: TransportReceiver): void;
  /** Returns false when the kernel buffer is full: wait for onDrain before writing more. */
  write(chunk: Buffer): boolean;
  /** Half-close: send FIN after pending writes. */
  end(): void;
  /** Close now, dropping pending writes (RST if `reset`). */
  destroy(reset?: boolean): void;
  pause(): void;
  resume(): void;
  readonly remote: Endpoint;
  readonly local: Endpoint;
}

/** Opens server connections. */
export interface Network {
  connect(host: string, port: number): Transport;
}
