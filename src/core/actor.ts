import type { ActorStats, ConnActorLike, ConnOwner, ConnSide } from './actor.types.ts';
import { ConnEvent, ConnState, ConnTransitions } from './actor.types.ts';
import type { Transport, TransportError, TransportReceiver } from './transport.types.ts';

let nextConnId = 1;

/**
 * The connection actor: sole owner of one transport. Only the actor performs lifecycle transitions
 * (attach, detach, park, close); owners ask by calling its methods with the epoch they were given.
 * A command carrying an older epoch is refused and counted, so a stale owner (a session that already
 * gave the connection up after a connect error, say) can never write to, pause or close a socket
 * that now belongs to someone else. Events go to the current owner tagged with the current epoch.
 */
export class ConnActor implements TransportReceiver, ConnActorLike {
  readonly id = nextConnId++;
  readonly side: ConnSide;
  readonly transport: Transport;
  private readonly stats: ActorStats;
  epoch = 0;
  owner: ConnOwner | null = null;
  state: ConnState;
  /** Read side finished (peer FIN seen). */
  readEnded = false;
  /** Write side shut (we sent FIN). */
  writeShut = false;
  paused = false;
  bytesIn = 0;
  bytesOut = 0;

  constructor(side: ConnSide, transport: Transport, stats: ActorStats, connected: boolean) {
    this.side = side;
    this.transport = transport;
    this.stats = stats;
    this.state = connected ? ConnState.READY : ConnState.CONNECTING;
    stats.opened++;
    transport.bind(this);
  }

  private setState(next: ConnState): void {
    if (!ConnTransitions[this.state].includes(next)) {
      throw new Error(`connection ${this.id}: illegal transition ${this.state} -> ${next}`);
    }
    this.state = next;
  }

  get closed(): boolean {
    return this.state === ConnState.CLOSED;
  }

  // ---- commands from the owner -------------------------------------------------------------

  /** Hand the connection to `owner`; returns the epoch the owner must present from now on. */
  attach(owner: ConnOwner): number {
    this.owner = owner;
    return ++this.epoch;
  }

  /** The owner gives the connection up; its epoch dies with it. */
  detach(epoch: number): boolean {
    if (!this.current(epoch)) return false;
    this.owner = null;
    this.epoch++;
    return true;
  }

  write(epoch: number, chunk: Buffer): boolean {
    if (!this.current(epoch) || this.closed || this.writeShut) return true;
    this.bytesOut += chunk.length;
    return this.transport.write(chunk);
  }

  /** Half-close our write side (FIN after pending data). */
  shutWrite(epoch: number): void {
    if (!this.current(epoch) || this.closed || this.writeShut) return;
    this.writeShut = true;
    this.transport.end();
  }

  pause(epoch: number): void {
    if (!this.current(epoch) || this.paused || this.closed) return;
    this.paused = true;
    this.transport.pause();
  }

  resume(epoch: number): void {
    if (!this.current(epoch) || !this.paused || this.closed) return;
    this.paused = false;
    this.transport.resume();
  }

  /** Close the socket now and forget the owner. `reset` sends RST instead of FIN. */
  close(epoch: number, reset = false): void {
    if (!this.current(epoch)) return;
    this.owner = null;
    this.epoch++;
    this.destroy(reset);
  }

  private destroy(reset: boolean): void {
    if (this.closed) return;
    this.setState(ConnState.CLOSED);
    this.stats.closed++;
    this.transport.destroy(reset);
  }

  private current(epoch: number): boolean {
    if (epoch === this.epoch && this.owner !== null) return true;
    this.stats.staleCommands++;
    return false;
  }

  /**
   * Deliver an event that was posted under `epoch` (the simulator and tests post events late on
   * purpose). The owner decides: an event from an older epoch is dropped.
   */
  post(epoch: number, ev: ConnEvent, err?: TransportError): void {
    const o = this.owner;
    if (!o) this.stats.staleEvents++;
    else
      try {
        o.onConnEvent(this, epoch, ev, err);
      } catch (e) {
        o.onFault(e);
      }
  }

  // ---- events from the transport -------------------------------------------------------------

  onConnect(): void {
    if (this.state !== ConnState.CONNECTING) return;
    this.setState(ConnState.READY);
    this.emit(ConnEvent.CONNECT);
  }

  onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    const o = this.owner;
    if (!o) {
      this.destroy(false); // nobody owns it: nothing may read it
      return;
    }
    try {
      o.onConnData(this, this.epoch, chunk);
    } catch (e) {
      o.onFault(e);
    }
  }

  onEnd(): void {
    this.readEnded = true;
    this.emit(ConnEvent.END);
  }

  onDrain(): void {
    this.emit(ConnEvent.DRAIN);
  }

  onError(err: TransportError): void {
    this.deliver(ConnEvent.ERROR, err);
    this.destroy(false);
  }

  onClose(): void {
    if (!this.closed) {
      this.setState(ConnState.CLOSED);
      this.stats.closed++;
    }
    const o = this.owner;
    this.owner = null;
    if (o)
      try {
        o.onConnEvent(this, this.epoch, ConnEvent.CLOSE);
      } catch (e) {
        o.onFault(e);
      }
  }

  private emit(ev: ConnEvent): void {
    if (this.owner) this.deliver(ev);
    else if (ev !== ConnEvent.DRAIN) this.destroy(false);
  }

  /** Hand an event to the owner; an exception in its handler is the owner's fault to contain. */
  private deliver(ev: ConnEvent, err?: TransportError): void {
    const o = this.owner;
    if (!o) return;
    try {
      o.onConnEvent(this, this.epoch, ev, err);
    } catch (e) {
      o.onFault(e);
    }
  }
}
