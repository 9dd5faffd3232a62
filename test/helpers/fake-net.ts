/**
 * An in-memory network and virtual clock for driving core/ directly: the same seam the simulator
 * uses. Every transport records what was done to it, and the test decides when each event happens.
 */
import type { Clock } from '../../src/core/scheduler.types.ts';
import type { Endpoint, Network, Transport, TransportReceiver } from '../../src/core/transport.types.ts';

export class VirtualClock implements Clock {
  t = 1000;
  private wake: { at: number; fire: () => void } | null = null;
  private tasks: Array<() => void> = [];

  now(): number {
    return this.t;
  }
  arm(delayMs: number, fire: () => void): void {
    this.wake = { at: this.t + delayMs, fire };
  }
  disarm(): void {
    this.wake = null;
  }
  defer(fn: () => void): void {
    this.tasks.push(fn);
  }
  /** Run deferred tasks until none is left. */
  flush(): void {
    for (let guard = 0; this.tasks.length > 0 && guard < 10_000; guard++) {
      const q = this.tasks;
      this.tasks = [];
      for (const f of q) f();
    }
  }
  /** Move time forward, firing the wheel's wake-ups on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    this.flush();
    while (this.wake && this.wake.at <= end) {
      const w = this.wake;
      this.wake = null;
      this.t = Math.max(this.t, w.at);
      w.fire();
      this.flush();
    }
    this.t = end;
  }
}

let nextPort = 40000;

export class FakeTransport implements Transport {
  receiver: TransportReceiver | null = null;
  readonly writes: Buffer[] = [];
  ended = false;
  destroyed = false;
  reset = false;
  paused = false;
  /** When set, write() reports backpressure. */
  full = false;
  readonly remote: Endpoint;
  readonly local: Endpoint = { address: '127.0.0.1', port: 8080, family: 'IPv4' };
  readonly target: { host: string; port: number } | null;

  constructor(remote: Endpoint, target: { host: string; port: number } | null = null) {
    this.remote = remote;
    this.target = target;
  }

  bind(r: TransportReceiver): void {
    this.receiver = r;
  }
  write(chunk: Buffer): boolean {
    if (this.destroyed) throw new Error('write on a destroyed transport');
    this.writes.push(chunk);
    return !this.full;
  }
  end(): void {
    this.ended = true;
  }
  destroy(reset = false): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.reset = reset;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  get written(): string {
    return Buffer.concat(this.writes).toString();
  }

  // ---- what the peer / kernel does -------------------------------------------------------
  connectOk(): void {
    this.receiver?.onConnect();
  }
  refuse(): void {
    this.destroyed = true;
    this.receiver?.onError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    this.receiver?.onClose();
  }
  data(s: string | Buffer): void {
    this.receiver?.onData(typeof s === 'string' ? Buffer.from(s) : s);
  }
  peerEnd(): void {
    this.receiver?.onEnd();
  }
  drain(): void {
    this.full = false;
    this.receiver?.onDrain();
  }
  closed(): void {
    this.destroyed = true;
    this.receiver?.onClose();
  }
  rst(): void {
    this.destroyed = true;
    this.receiver?.onError({ code: 'ECONNRESET', message: 'read ECONNRESET' });
    this.receiver?.onClose();
  }
}

export class FakeNetwork implements Network {
  readonly opened: FakeTransport[] = [];
  /** Make the next connect throw (resource failure). */
  failNext = false;

  connect(host: string, port: number): Transport {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('EMFILE');
    }
    const t = new FakeTransport({ address: host, port, family: 'IPv4' }, { host, port });
    this.opened.push(t);
    return t;
  }

  last(): FakeTransport {
    const t = this.opened[this.opened.length - 1];
    if (!t) throw new Error('no connection opened');
    return t;
  }
}

export function clientTransport(ip = '127.0.0.1'): FakeTransport {
  return new FakeTransport({ address: ip, port: nextPort++, family: 'IPv4' });
}
