import type { TcpLogFields, TerminationPhase } from '../log/log.types.ts';
import { BackendSlot, ServerSlot } from '../shared-state/server-table.types.ts';
import { BUFFERS_PER_STREAM } from './buffer-budget.types.ts';
import { ConnActor } from './actor.ts';
import type { ConnActorLike, ConnOwner } from './actor.types.ts';
import { ConnEvent } from './actor.types.ts';
import type { BackendRuntime } from './backend.ts';
import { hashes } from './backend.ts';
import type { FrontendRuntime, ServerRuntime } from './backend.types.ts';
import { AssignResult } from './backend.types.ts';
import { ServerEndpoint } from './endpoint.ts';
import { EpState, SessTimer } from './endpoint.types.ts';
import { connectError, connectTimeout, type ProxyError } from './errors.ts';
import type { TerminationCause } from './errors.types.ts';
import { decideRetry, turnAroundDelay } from './retry.ts';
import { ProxyHeaderReader, ProxyRead, proxyV1, proxyV2 } from '../proto/proxy/proxy-protocol.ts';
import { Timer } from './scheduler.ts';
import type { TimerTarget } from './scheduler.types.ts';
import type { SessionHost, SessionSnapshot } from './session.types.ts';
import type { SessionDetail, SideDetail } from '../shared-state/snapshots.types.ts';
import { PENDING_LIMIT } from './session.types.ts';
import type { TransportError } from './transport.types.ts';

let nextSessionId = 1;

/**
 * One client connection in TCP mode: the client endpoint (established at accept), the server
 * endpoint (INI at first), and the relay between them. The session alone decides the transitions
 * of its endpoints; it owns both connections through their actors and presents the epoch it was
 * given with every command.
 */
export class Session implements ConnOwner, TimerTarget {
  readonly id = nextSessionId++;
  readonly host: SessionHost;
  readonly fe: FrontendRuntime;
  /** The backend of the current request (HTTP may switch it per request with use_backend). */
  be: BackendRuntime | undefined;
  readonly cli: ConnActor;
  protected cliEpoch: number;
  readonly ep = new ServerEndpoint();
  /** The client's address: the socket's peer (read lazily: getpeername), or what a PROXY protocol header says. */
  private srcAddr: string | null = null;
  private srcPortNo = 0;
  /** The address the client connected to (`%fi:%fp`; a PROXY header's destination), read lazily (getsockname). */
  private dstAddr: string | null = null;
  private dstPortNo = 0;
  /** `accept-proxy`: the PROXY header being read before anything else. */
  protected proxyWait: ProxyHeaderReader | null = null;

  // client data held while the server side is not established (bounded by PENDING_LIMIT)
  protected pending: Buffer[] = [];
  protected pendingBytes = 0;
  /** Client paused because the server side cannot take its data (pending full or server backpressure). */
  protected cliHeld = false;
  /** Server paused because the client cannot take its data. */
  protected srvHeld = false;
  /** The last write to the server returned false: wait for its drain. */
  protected srvBackpressured = false;
  /** The client socket reported CLOSE during an orderly disconnect. */
  protected cliGone = false;

  protected readonly cliTimer: Timer;
  /**
   * The server-side and queue/connect timers are made when first armed (`srvTimer`, `expTimer`)
   * and let go when an HTTP transaction ends: an idle keep-alive connection, the most numerous
   * kind, holds only its client timer (≈ 90 B less per connection for each).
   */
  protected lazySrvTimer: Timer | null = null;
  protected lazyExpTimer: Timer | null = null;

  // accounting (HAProxy's timers and counters)
  readonly acceptDate: number;
  protected readonly t0: number;
  protected tQueueStart = -1;
  protected tw = -1;
  protected tConnStart = -1;
  protected tc = -1;
  protected retriesLeft: number;
  protected redispatched = false;
  protected queuedOn: ServerRuntime | null = null;
  /** Bytes read from the client (HAProxy's request channel total: `bin`). */
  bytesFromClient = 0;
  bytesToServer = 0;
  /** Bytes read from the server and sent on (`bout`, `%B`). */
  bytesToClient = 0;
  calls = 0;
  protected termCause: TerminationCause | null = null;
  protected termPhase: TerminationPhase = '-';
  protected done = false;
  /** Connections of this session that have not reported CLOSE yet while disconnecting. */
  protected closing = 0;
  /** Buffers taken from the worker's budget (`tune.buffers.limit`) for the stream now running. */
  protected bufs = 0;

  /** The acceptor's listener the client came through (its `closed` acks are per listener). */
  readonly listenerId: number;

  constructor(host: SessionHost, fe: FrontendRuntime, be: BackendRuntime | undefined, cli: ConnActor, listenerId = -1) {
    this.host = host;
    this.listenerId = listenerId;
    this.fe = fe;
    this.be = be;
    this.cli = cli;
    this.cliEpoch = cli.attach(this);
    // who the client is and where it connected to (%ci:%cp, %fi:%fp), asked of the socket now,
    // while it is open, when this frontend logs; else when first needed (balance source, an ACL,
    // forwardfor, show sess), which is while the connection is open: a getpeername and a
    // getsockname per connection saved
    if (host.logging(fe.id)) {
      void this.srcIp;
      void this.dstIp;
    }
    this.acceptDate = host.wallClock();
    this.t0 = host.sched.now();
    this.cliTimer = new Timer(this, SessTimer.CLIENT);
    this.retriesLeft = be ? be.cfg.settings.retries : 0;
    fe.current++;
    fe.total++;
    if (fe.current > fe.max) fe.max = fe.current;
  }

  protected get timeouts() {
    return (this.be ? this.be.cfg : this.fe.cfg).settings.timeouts;
  }

  protected get feTimeouts() {
    return this.fe.cfg.settings.timeouts;
  }

  get srcIp(): string {
    if (this.srcAddr === null) this.readSrc();
    return this.srcAddr as string;
  }

  get srcPort(): number {
    if (this.srcAddr === null) this.readSrc();
    return this.srcPortNo;
  }

  private readSrc(): void {
    const r = this.cli.transport.remote;
    this.srcAddr = r.address;
    this.srcPortNo = r.port;
  }

  get dstIp(): string {
    if (this.dstAddr === null) this.readDst();
    return this.dstAddr as string;
  }

  get dstPort(): number {
    if (this.dstAddr === null) this.readDst();
    return this.dstPortNo;
  }

  private readDst(): void {
    const local = this.cli.transport.local;
    this.dstAddr = local.address;
    this.dstPortNo = local.port;
  }

  /** `bind … accept-proxy`: read a PROXY protocol header first (before start()). */
  expectProxyHeader(): void {
    this.proxyWait = new ProxyHeaderReader();
  }

  /** Start: wait for the PROXY header if one is expected, else begin at once. */
  start(): void {
    if (this.proxyWait) {
      this.armClient();
      return;
    }
    this.begin();
  }

  /** TCP mode connects to a server at once (HAProxy does not wait for client data). */
  protected begin(): void {
    if (!this.takeBuffers()) {
      this.fail('R', 'C', 503); // past tune.buffers.limit: refused, the worker does not grow
      return;
    }
    this.armClient();
    this.ep.setState(EpState.REQ);
    this.assignServer(null);
  }

  /** Bytes of the PROXY header: the addresses it gives replace the socket's, then the session begins. */
  private proxyBytes(chunk: Buffer): void {
    const r = this.proxyWait as ProxyHeaderReader;
    this.bytesFromClient += chunk.length;
    const st = r.push(chunk);
    if (st === ProxyRead.MORE) return;
    if (st === ProxyRead.ERROR) {
      this.proxyHeaderFailed();
      return;
    }
    this.proxyWait = null;
    const h = r.header;
    if (h?.kind === 'proxy') {
      this.srcAddr = h.addresses.srcIp;
      this.srcPortNo = h.addresses.srcPort;
      this.dstAddr = h.addresses.dstIp;
      this.dstPortNo = h.addresses.dstPort;
    }
    this.bytesFromClient -= r.rest.length;
    this.begin();
    if (r.rest.length > 0 && !this.done) this.fromClient(r.rest);
  }

  /** Take the stream's buffers (one per direction) from the worker's budget; false past its limit. */
  protected takeBuffers(): boolean {
    const need = BUFFERS_PER_STREAM - this.bufs;
    if (need <= 0) return true;
    if (!this.host.buffers.take(need)) return false;
    this.bufs = BUFFERS_PER_STREAM;
    return true;
  }

  /** Give back the stream's buffers but `keep`. */
  protected giveBuffers(keep = 0): void {
    if (this.bufs <= keep) return;
    this.host.buffers.give(this.bufs - keep);
    this.bufs = keep;
  }

  /** A bad PROXY header ends the connection, logged PR (the session never began). */
  protected proxyHeaderFailed(): void {
    this.close('P', 'R');
  }

  /** `server … send-proxy[-v2]`: the header a new server connection starts with, if any. */
  protected proxyHeaderFor(server: ServerRuntime): Buffer | null {
    const v = server.cfg.sendProxy;
    if (!v) return null;
    const a = { srcIp: this.srcIp, srcPort: this.srcPort, dstIp: this.dstIp, dstPort: this.dstPort };
    return v === 2 ? proxyV2(a) : proxyV1(a);
  }

  // ---- server side: assignment, queueing, connection, retries -----------------------------

  protected assignServer(avoid: ServerRuntime | null): void {
    const be = this.be;
    if (!be) {
      this.fail('P', 'R', 503); // frontend without a backend
      return;
    }
    // read before trying: a slot another worker frees after our failed try moves it, and the wait
    // below then returns at once instead of sleeping on the new value (a lost wake-up otherwise)
    const seq = this.host.table.releaseSeq(be.id);
    const { result, server } = be.assign(this.lbKey(), avoid);
    if (avoid && server) {
      // as HAProxy counts it: a redispatch that lands on the same server is a retry
      if (server === avoid) this.countRetry(server);
      else {
        this.host.table.addSrv(avoid.id, ServerSlot.REDISPATCHES, 1);
        this.host.table.addBe(be.id, BackendSlot.REDISPATCHES, 1);
      }
    }
    if (result === AssignResult.OK && server) {
      this.ep.server = server;
      this.ep.slotHeld = true;
      this.ep.setState(EpState.ASS);
      this.connect();
    } else if (result === AssignResult.QUEUE_SERVER && server) {
      this.enqueue(server, seq);
    } else if (result === AssignResult.FULL) {
      this.enqueue(null, seq);
    } else {
      this.fail('S', 'C', 503); // no server available (HAProxy logs SC with <NOSRV>)
    }
  }

  /** What hashing algorithms hash: the client address here; HTTP adds the path and headers. */
  lbKey(): string {
    return this.be && !hashes(this.be.algo) ? '' : this.srcIp;
  }

  /** Wait in `server`'s queue (bounded by maxqueue), or in the backend queue when `server` is null. */
  protected enqueue(server: ServerRuntime | null, seq: number): void {
    const be = this.be as BackendRuntime;
    const table = this.host.table;
    if (server) {
      const max = server.cfg.maxqueue;
      if (max > 0 && table.srv(server.id, ServerSlot.QUEUE) >= max) {
        // the server's queue is full: go elsewhere when allowed, else give up
        const other = be.cfg.settings.redispatch !== 0 ? be.assignOther(server) : null;
        if (other) {
          this.redispatched = true;
          this.ep.server = other;
          this.ep.slotHeld = true;
          this.ep.setState(EpState.ASS);
          this.connect();
        } else {
          this.fail('S', 'Q', 503);
        }
        return;
      }
      this.ep.server = server;
      server.queue.push(this);
      table.maxSrv(server.id, ServerSlot.MAX_QUEUE_SEEN, table.addSrv(server.id, ServerSlot.QUEUE, 1));
    } else {
      be.queue.push(this);
      table.maxBe(be.id, BackendSlot.MAX_QUEUE_SEEN, table.addBe(be.id, BackendSlot.QUEUE, 1));
    }
    this.queuedOn = server;
    this.host.stats.queued++;
    if (this.ep.state !== EpState.QUE) this.ep.setState(EpState.QUE);
    this.tQueueStart = this.host.sched.now();
    this.host.sched.arm(this.expTimer, this.timeouts.queue ?? this.timeouts.connect);
    this.host.watchQueue(be, seq);
  }

  /**
   * Our server went DOWN while we waited in its queue (the worker already took us out of it):
   * wait in the backend queue instead, for any server; the queue timeout keeps running.
   */
  requeue(): void {
    const srv = this.queuedOn;
    const be = this.be;
    if (this.ep.state !== EpState.QUE || !srv || !be) return;
    const table = this.host.table;
    table.addSrv(srv.id, ServerSlot.QUEUE, -1);
    be.queue.push(this);
    table.maxBe(be.id, BackendSlot.MAX_QUEUE_SEEN, table.addBe(be.id, BackendSlot.QUEUE, 1));
    this.queuedOn = null;
    this.ep.clearTarget();
    this.redispatched = true;
  }

  /** Leave whichever queue holds us (granted, timed out, or closing). */
  protected dequeue(): void {
    const be = this.be as BackendRuntime;
    const q = this.queuedOn ? this.queuedOn.queue : be.queue;
    const i = q.indexOf(this);
    if (i >= 0) {
      q.splice(i, 1);
      if (this.queuedOn) this.host.table.addSrv(this.queuedOn.id, ServerSlot.QUEUE, -1);
      else this.host.table.addBe(be.id, BackendSlot.QUEUE, -1);
    }
    this.queuedOn = null;
    this.tw = Math.round(this.host.sched.now() - this.tQueueStart);
  }

  /** Called by the worker when a slot was reserved for this queued session on `server`. */
  grant(server: ServerRuntime): void {
    const wasQueued = this.ep.state === EpState.QUE;
    if (wasQueued) this.dequeue();
    if (this.done || !wasQueued) {
      (this.be as BackendRuntime).release(server);
      return;
    }
    this.host.sched.cancel(this.lazyExpTimer);
    this.ep.server = server;
    this.ep.slotHeld = true;
    this.ep.setState(EpState.ASS);
    this.connect();
  }

  /** ASS → CON: allocate the connection now, on first need (seed 004). */
  protected connect(): void {
    const server = this.ep.server as ServerRuntime;
    let conn: ConnActor;
    try {
      const t = this.host.net.connect(server.host, server.port);
      conn = new ConnActor('server', t, this.host.stats, false);
    } catch {
      this.fail('R', 'C', 503); // could not allocate a connection: resource error
      return;
    }
    this.ep.attempts++;
    this.host.table.addSrv(server.id, ServerSlot.TOTAL, 1);
    if (this.tw < 0) this.tw = 0;
    this.ep.attach(conn, conn.attach(this));
    this.ep.setState(EpState.CON);
    this.tConnStart = this.host.sched.now();
    this.host.sched.arm(this.expTimer, this.timeouts.connect);
  }

  protected onConnected(): void {
    this.host.sched.cancel(this.lazyExpTimer);
    this.tc = Math.round(this.host.sched.now() - this.tConnStart);
    this.ep.setState(EpState.EST);
    const conn = this.ep.conn as ConnActor;
    const hdr = this.proxyHeaderFor(this.ep.server as ServerRuntime);
    if (hdr) conn.write(this.ep.epoch, hdr);
    // flush what the client sent while we were connecting, in order
    for (const chunk of this.pending) this.toServer(conn, chunk);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.cli.readEnded) this.shutServer();
    else this.readClient();
    this.armServer();
    this.armClient();
  }

  /** CON → CER: a failed attempt. Decide retry on the same server, redispatch, or give up. */
  protected connectFailed(err: ProxyError): void {
    const be = this.be as BackendRuntime;
    const server = this.ep.server as ServerRuntime;
    this.host.sched.cancel(this.lazyExpTimer);
    this.ep.setState(EpState.CER);
    this.ep.detachFailed(); // seed 000: nothing of this attempt survives
    this.host.stats.connectErrors++;
    this.retriesLeft--;
    const decision = decideRetry({
      retries: be.cfg.settings.retries,
      retriesLeft: this.retriesLeft,
      redispatch: be.cfg.settings.redispatch,
      retryable: err.retryable,
      serverUsable: be.usable(server),
      activeServers: be.activeCount(),
      algo: be.algo,
    });
    const table = this.host.table;
    if (decision === 'give-up') {
      // HAProxy's econ: sessions that gave up connecting, counted once, on the last server
      table.addSrv(server.id, ServerSlot.CONN_ERRORS, 1);
      table.addBe(be.id, BackendSlot.CONN_ERRORS, 1);
      this.fail(err.termination, 'C', 503);
      return;
    }
    this.host.stats.retries++;
    if (decision === 'same') {
      this.countRetry(server);
      this.ep.setState(EpState.TAR);
      this.host.sched.arm(this.expTimer, turnAroundDelay(this.timeouts.connect));
      return;
    }
    // redispatch: release the slot, forget the target (seed 001), pick again with no wait
    this.host.stats.redispatches++;
    this.redispatched = true;
    this.releaseSlot();
    this.ep.clearTarget();
    this.ep.setState(EpState.REQ);
    this.assignServer(server);
  }

  protected countRetry(server: ServerRuntime): void {
    this.host.table.addSrv(server.id, ServerSlot.RETRIES, 1);
    this.host.table.addBe((this.be as BackendRuntime).id, BackendSlot.RETRIES, 1);
  }

  protected releaseSlot(): void {
    const s = this.ep.server;
    if (s && this.ep.slotHeld) {
      this.ep.slotHeld = false;
      (this.be as BackendRuntime).release(s);
      this.host.slotFreed(this.be as BackendRuntime);
    }
  }

  // ---- events -----------------------------------------------------------------------------

  /**
   * Which of our connections an event is for: the client, the server connection of the current
   * attempt, or nobody (an event from an older epoch: dropped and counted).
   */
  protected route(conn: ConnActorLike, epoch: number): ConnActor | 'client' | null {
    this.calls++;
    const c = conn === this.cli ? (epoch === this.cliEpoch ? 'client' : null) : this.ep.current(conn, epoch);
    if (c === null) this.host.stats.staleEvents++;
    return c;
  }

  onConnData(conn: ConnActorLike, epoch: number, chunk: Buffer): void {
    const c = this.route(conn, epoch);
    if (c === 'client') {
      if (this.proxyWait) this.proxyBytes(chunk);
      else this.fromClient(chunk);
    }
    else if (c) this.fromServer(c, chunk);
  }

  onConnEvent(conn: ConnActorLike, epoch: number, ev: ConnEvent, err?: TransportError): void {
    if (this.done) return;
    const c = this.route(conn, epoch);
    if (c === 'client') this.clientEvent(ev);
    else if (c) this.serverEvent(c, ev, err);
  }

  protected fromServer(c: ConnActor, chunk: Buffer): void {
    this.bytesToClient += chunk.length;
    this.host.stats.bytesOut += chunk.length;
    if (!this.cli.write(this.cliEpoch, chunk)) {
      this.srvHeld = true;
      c.pause(this.ep.epoch);
    } else {
      this.armClient();
    }
    this.armServer();
  }

  protected fromClient(chunk: Buffer): void {
    this.host.stats.bytesIn += chunk.length;
    this.bytesFromClient += chunk.length;
    this.armClient();
    if (this.ep.state === EpState.EST) {
      this.toServer(this.ep.conn as ConnActor, chunk);
      return;
    }
    // not connected yet: hold the data (bounded), stop reading past the bound
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= PENDING_LIMIT) this.holdClient();
  }

  protected toServer(conn: ConnActor, chunk: Buffer): void {
    this.bytesToServer += chunk.length;
    if (!conn.write(this.ep.epoch, chunk)) {
      this.srvBackpressured = true;
      this.holdClient();
    }
    this.armServer();
  }

  protected holdClient(): void {
    if (this.cliHeld) return;
    this.cliHeld = true;
    this.cli.pause(this.cliEpoch);
  }

  /** Nothing keeps the client from being read again (here: a server that reads what it is sent). */
  protected clientReadable(): boolean {
    return !this.srvBackpressured;
  }

  /** Read the client again when nothing holds it any more. */
  protected readClient(): void {
    if (this.cliHeld && !this.done && this.clientReadable()) this.resumeClient();
  }

  protected resumeClient(): void {
    this.cliHeld = false;
    this.cli.resume(this.cliEpoch);
  }

  protected clientEvent(ev: ConnEvent): void {
    switch (ev) {
      case ConnEvent.END:
        if (this.ep.state === EpState.EST) {
          this.shutServer();
          this.maybeFinish();
        } else if (this.pendingBytes === 0) {
          // As HAProxy: the client closed with nothing left to forward, so the pending shutdown
          // of the server side aborts the connection attempt; a normal end, not an error.
          this.close('-', '-');
        }
        // else: keep connecting; what the client sent is forwarded, then its FIN
        return;
      case ConnEvent.DRAIN:
        this.armClient();
        if (this.srvHeld && this.ep.conn) {
          this.srvHeld = false;
          this.ep.conn.resume(this.ep.epoch);
        }
        return;
      case ConnEvent.ERROR:
        this.close('C', this.phase());
        return;
      case ConnEvent.CLOSE:
        this.connClosed(true);
        return;
      default:
        return;
    }
  }

  protected serverEvent(c: ConnActor, ev: ConnEvent, err: TransportError | undefined): void {
    switch (ev) {
      case ConnEvent.CONNECT:
        if (this.ep.state === EpState.CON) this.onConnected();
        return;
      case ConnEvent.END:
        if (this.ep.state === EpState.EST) {
          this.shutClient();
          this.maybeFinish();
        }
        return;
      case ConnEvent.DRAIN:
        this.srvBackpressured = false;
        this.armServer();
        this.readClient();
        return;
      case ConnEvent.ERROR:
        if (this.ep.state === EpState.CON) this.connectFailed(connectError(err));
        else this.close('S', this.phase());
        return;
      case ConnEvent.CLOSE:
        if (this.ep.state === EpState.CON) this.connectFailed(connectError(err));
        else if (this.ep.state === EpState.EST && !(c.readEnded && c.writeShut)) this.close('S', 'D');
        else this.connClosed(false);
        return;
      default:
        return;
    }
  }

  /** The client finished sending: forward the FIN (server-fin timeout from now on). */
  protected shutServer(): void {
    const c = this.ep.conn;
    if (!c || c.writeShut) return;
    c.shutWrite(this.ep.epoch);
    this.armServer();
  }

  /** The server finished sending: forward the FIN (client-fin timeout from now on). */
  protected shutClient(): void {
    if (this.cli.writeShut) return;
    this.cli.shutWrite(this.cliEpoch);
    this.armClient();
  }

  /** Both directions are done: disconnect, and close when both sockets report CLOSE. */
  protected maybeFinish(): void {
    const c = this.ep.conn;
    if (!c || !this.cli.readEnded || !c.readEnded) return;
    this.ep.setState(EpState.DIS);
    this.closing = 2;
  }

  protected connClosed(client: boolean): void {
    if (this.ep.state === EpState.DIS) {
      this.closing--;
      if (client) this.cliGone = true;
      if (this.closing <= 0) this.close('-', '-');
      return;
    }
    // a socket vanished outside an orderly shutdown: the peer reset or we were destroyed
    if (client) this.close('C', this.phase());
    else this.close('S', this.phase());
  }

  // ---- timers -------------------------------------------------------------------------------

  /** Client-side inactivity: `timeout tunnel` once established (TCP), else client / client-fin. */
  protected armClient(): void {
    const t = this.feTimeouts;
    let ms = t.client;
    if (this.cli.writeShut && t.clientFin !== undefined) ms = t.clientFin;
    else if (this.ep.state === EpState.EST && this.timeouts.tunnel !== undefined) ms = this.timeouts.tunnel;
    this.host.sched.arm(this.cliTimer, ms);
  }

  protected armServer(): void {
    const t = this.timeouts;
    let ms = t.server;
    const c = this.ep.conn;
    if (c?.writeShut && t.serverFin !== undefined) ms = t.serverFin;
    else if (t.tunnel !== undefined) ms = t.tunnel;
    this.host.sched.arm(this.srvTimer, ms);
  }

  onTimer(kind: number): void {
    this.calls++;
    if (this.done) return;
    switch (kind) {
      case SessTimer.CLIENT:
        // the client is not at fault while we hold it because the server is slow to read
        if (this.cliHeld && !this.srvHeld && this.ep.state === EpState.EST) {
          this.armClient();
          return;
        }
        this.close('c', this.phase());
        return;
      case SessTimer.SERVER:
        if (this.ep.state !== EpState.EST && this.ep.state !== EpState.DIS) return;
        if (this.srvHeld && !this.cliHeld) {
          this.armServer();
          return;
        }
        this.close('s', this.phase());
        return;
      case SessTimer.EXP:
        this.expired();
        return;
      default:
        return;
    }
  }

  protected expired(): void {
    switch (this.ep.state) {
      case EpState.CON:
        this.connectFailed(connectTimeout());
        return;
      case EpState.TAR:
        this.ep.setState(EpState.ASS);
        this.connect();
        return;
      case EpState.QUE:
        this.fail('s', 'Q', 503); // timeout queue
        return;
      default:
        return;
    }
  }

  /** HAProxy's second letter: where the session stood when it ended. */
  protected phase(): TerminationPhase {
    switch (this.ep.state) {
      case EpState.INI:
      case EpState.REQ:
        return 'R';
      case EpState.QUE:
        return 'Q';
      case EpState.TAR:
      case EpState.ASS:
      case EpState.CON:
      case EpState.CER:
        return 'C';
      default:
        return 'D';
    }
  }

  // ---- end of session -----------------------------------------------------------------------

  /**
   * Crash containment: an exception in this session's code ends this session only, with `I`
   * (internal error); its sockets are closed even if closing itself fails.
   */
  onFault(err: unknown): void {
    this.host.sessionFault(this, err);
    try {
      this.close('I', this.phase());
    } catch {
      this.done = true;
      this.giveBuffers();
      this.ep.conn?.transport.destroy();
      this.cli.transport.destroy();
      this.host.sessionClosed(this);
    }
  }

  /**
   * The server side failed for good (no server, queue, connect): TCP closes the session; HTTP
   * answers `status` first (HttpSession overrides this).
   */
  protected fail(cause: TerminationCause, phase: TerminationPhase, _status: number): void {
    this.close(cause, phase);
  }

  /** Kill from the runtime API (`shutdown session`). */
  kill(): void {
    this.close('K', this.phase());
  }

  /**
   * End the session: cancel every timer it armed, leave any queue, close both connections,
   * give back the server slot, log one line, tell the worker.
   */
  close(cause: TerminationCause, phase: TerminationPhase): void {
    if (this.done) return;
    this.done = true;
    this.termCause = cause;
    this.termPhase = cause === '-' ? '-' : phase;
    const sched = this.host.sched;
    sched.cancel(this.cliTimer);
    sched.cancel(this.lazySrvTimer);
    sched.cancel(this.lazyExpTimer);
    if (this.ep.state === EpState.QUE) this.dequeue();
    const srvConn = this.ep.conn;
    if (srvConn) {
      if (!srvConn.closed) srvConn.close(this.ep.epoch, cause !== '-');
      this.ep.conn = null;
    }
    if (!this.cliGone && !this.cli.closed) this.cli.close(this.cliEpoch, false);
    this.giveBuffers();
    this.ep.setState(EpState.CLO);
    // HAProxy logs after the server and backend have let the session go, before the frontend
    this.releaseSlot();
    this.account();
    if (this.be) this.be.current--;
    this.log();
    this.fe.current--;
    this.host.sessionClosed(this);
  }

  /** Add this session's bytes to its frontend, backend and server counters (`show stat`). */
  protected account(): void {
    const up = this.bytesFromClient;
    const down = this.bytesToClient;
    this.fe.bytesIn += up;
    this.fe.bytesOut += down;
    if (this.be) {
      this.be.bytesIn += up;
      this.be.bytesOut += down;
    }
    const srv = this.ep.server;
    if (srv && this.ep.attempts > 0) {
      srv.bytesIn += up;
      srv.bytesOut += down;
    }
  }

  protected log(): void {
    this.countResponseError();
    if (!this.host.logging(this.fe.id)) return;
    this.host.log(this.logFields(), this.fe.id);
  }

  /**
   * HAProxy's `eresp`: the session (in HTTP, the transaction) ended on an error of the server's
   * side while the response was awaited or relayed — server abort or timeout, a response refused
   * (`SH SD sH sD PH PD`) — counted once, on its server and its backend, when it is logged.
   */
  protected countResponseError(): void {
    const c = this.termCause;
    const p = this.termPhase;
    if ((c !== 'S' && c !== 's' && c !== 'P') || (p !== 'H' && p !== 'D')) return;
    const srv = this.ep.server;
    if (srv && this.ep.attempts > 0) this.host.table.addSrv(srv.id, ServerSlot.RESP_ERRORS, 1);
    if (this.be) this.host.table.addBe(this.be.id, BackendSlot.RESP_ERRORS, 1);
  }

  /** The fields of this session's log line. */
  protected logFields(): TcpLogFields {
    const be = this.be;
    const srv = this.ep.server;
    const t = this.host.table;
    return {
        clientIp: this.srcIp,
        clientPort: this.srcPort,
        acceptDate: this.acceptDate,
        frontend: this.fe.cfg.name,
        backend: be ? be.cfg.name : this.fe.cfg.name,
        server: srv && this.ep.attempts > 0 ? srv.cfg.name : '<NOSRV>',
        tw: this.tw,
        tc: this.tc,
        tt: Math.round(this.host.sched.now() - this.t0),
        bytesRead: this.bytesToClient,
        termination: `${this.termCause ?? '-'}${this.termPhase}`,
        actconn: this.host.liveSessions,
        feconn: this.fe.current,
        beconn: be ? be.current : 0,
        srvconn: srv ? t.srv(srv.id, ServerSlot.CUR_CONN) : 0,
        retries: be ? be.cfg.settings.retries - Math.max(this.retriesLeft, 0) : 0,
        redispatched: this.redispatched,
        srvQueue: srv ? t.srv(srv.id, ServerSlot.QUEUE) : 0,
        backendQueue: be ? t.be(be.id, BackendSlot.QUEUE) : 0,
        frontendIp: this.dstIp,
        frontendPort: this.dstPort,
        serverIp: srv && this.ep.attempts > 0 ? srv.host : '',
        serverPort: srv && this.ep.attempts > 0 ? srv.port : 0,
        bytesUploaded: this.bytesFromClient,
    };
  }

  get terminationState(): string | null {
    return this.done ? `${this.termCause ?? '-'}${this.termPhase}` : null;
  }

  get closed(): boolean {
    return this.done;
  }

  protected get srvTimer(): Timer {
    return (this.lazySrvTimer ??= new Timer(this, SessTimer.SERVER));
  }

  protected get expTimer(): Timer {
    return (this.lazyExpTimer ??= new Timer(this, SessTimer.EXP));
  }

  snapshot(worker: number): SessionSnapshot {
    const now = this.host.sched.now();
    const exps = [this.cliTimer, this.lazySrvTimer, this.lazyExpTimer].flatMap((t) => (t?.armed ? [t.expiresAt - now] : []));
    return {
      id: this.id,
      worker,
      proto: this.srcIp.includes(':') && !this.srcIp.startsWith('::ffff:') ? 'tcpv6' : 'tcpv4',
      src: `${this.srcIp}:${this.srcPort}`,
      fe: this.fe.cfg.name,
      be: this.be ? this.be.cfg.name : '<NONE>',
      srv: this.ep.server ? this.ep.server.cfg.name : '<none>',
      ageMs: Math.round(now - this.t0),
      calls: this.calls,
      s0: this.cli.closed ? 'CLO' : this.cli.readEnded || this.cli.writeShut ? 'DIS' : 'EST',
      s1: this.ep.state,
      expMs: exps.length ? Math.max(0, Math.round(Math.min(...exps))) : -1,
      reqBytes: this.bytesToServer,
      resBytes: this.bytesToClient,
      detail: this.detail(now),
    };
  }

  private detail(now: number): SessionDetail {
    const left = (t: Timer | null): number => (t?.armed ? Math.max(0, Math.round(t.expiresAt - now)) : -1);
    const actor = (c: ConnActor | null): SideDetail['conn'] =>
      c && { id: c.id, state: c.state, epoch: c.epoch, paused: c.paused, readEnded: c.readEnded, writeShut: c.writeShut };
    const srv = this.ep.server;
    return {
      acceptDate: this.acceptDate,
      dst: this.cli.closed ? '-' : `${this.dstIp}:${this.dstPort}`,
      mode: this.fe.cfg.settings.mode,
      srvAddr: srv ? `${srv.host}:${srv.port}` : '-',
      attempts: this.ep.attempts,
      retriesLeft: this.retriesLeft,
      queueExpMs: this.ep.state === EpState.QUE || this.ep.state === EpState.CON || this.ep.state === EpState.TAR ? left(this.lazyExpTimer) : -1,
      client: { conn: actor(this.cli), ownerEpoch: this.cliEpoch, timerMs: left(this.cliTimer), held: this.cliHeld },
      server: { conn: actor(this.ep.conn), ownerEpoch: this.ep.epoch, timerMs: left(this.lazySrvTimer), held: this.srvHeld },
      bytesFromClient: this.bytesFromClient,
      buffers: this.bufs,
    };
  }
}
