import { Buffer } from 'node:buffer';
import type { HttpAction, HttpRule, RetryOn } from '../config/config.types.ts';
import type { TcpLogFields, TerminationPhase } from '../log/log.types.ts';
import { BodyFramer } from '../proto/http1/body.ts';
import { HeadReader, headerValue } from '../proto/http1/head.ts';
import type { H1Head } from '../proto/http1/http1.types.ts';
import { BodyKind, DEFAULT_H1_LIMITS, H1ErrStatus, HeadStatus } from '../proto/http1/http1.types.ts';
import { errorReply, reasonPhrase } from '../proto/http1/replies.ts';
import { ConnHeader, serializeHead, serializeHeadText } from '../proto/http1/serialize.ts';
import { ServerSlot } from '../shared-state/server-table.types.ts';
import type { ConnActor } from './actor.ts';
import { ConnEvent, SILENT_CLOSE } from './actor.types.ts';
import type { BackendRuntime } from './backend.ts';
import { countHttp, hashes } from './backend.ts';
import type { ServerRuntime } from './backend.types.ts';
import { EpState, SessTimer } from './endpoint.types.ts';
import { conditionHolds, type Edits, type MatchInput, pathOf, runRules } from '../proto/http1/match.ts';
import { connectError } from './errors.ts';
import type { TerminationCause } from './errors.types.ts';
import { RxState, RxTransitions, TxState, TxTransitions } from './http-session.types.ts';
import { decideRetry } from './retry.ts';
import { Session } from './session.ts';
import { BUFSIZE } from './buffer-budget.types.ts';
import type { SessionSnapshot } from './session.types.ts';
import type { TransportError } from './transport.types.ts';

const NO_RULES: readonly HttpRule[] = [];

/**
 * How long a connection refused past `tune.buffers.limit` is kept after its 503 (at most; `timeout
 * client-fin` if shorter): long enough for the answer to reach the client before the close, short
 * enough that refused connections, whose socket may hold a read of up to 128 KiB, do not pile up.
 */
const REFUSED_LINGER_MS = 1000;

/** The request's queue and replay copy between transactions: frozen, so that nothing can be added outside one. */
const NO_CHUNKS = Object.freeze([]) as unknown as Buffer[];

/**
 * The parsers of one transaction (request and response heads, their bodies), lent to a session
 * from the first byte of a request to the end of its transaction, then kept on this thread's
 * free list for the next one: an idle keep-alive connection holds none.
 */
class TxnParsers {
  readonly reqReader = new HeadReader(true, DEFAULT_H1_LIMITS);
  readonly resReader = new HeadReader(false, DEFAULT_H1_LIMITS);
  readonly reqBody = new BodyFramer();
  readonly resBody = new BodyFramer();
}
const spareParsers: TxnParsers[] = [];
/** Parsers kept for reuse at most (beyond, the spares of a burst are left to the GC). */
const SPARE_PARSERS_MAX = 256;


/**
 * A client connection in HTTP mode: a sequence of transactions (request → server → response),
 * each with its own pass through the server endpoint (INI → … → EST → CLO → INI), its own
 * retries and its own log line. Between transactions the server connection goes back to the
 * worker's idle pool (or stays private to this session under `http-reuse never`), and the client
 * connection waits for its next request (`timeout http-keep-alive`). Pipelined requests are read
 * ahead and handled in order. A 101 answer to an Upgrade request (or a 2xx to CONNECT) turns the
 * session into a TCP tunnel, relayed by the TCP session code.
 */
export class HttpSession extends Session {
  /** The parsers lent for the transaction in progress (null between transactions). */
  private parsers: TxnParsers | null = null;
  private rx: RxState = RxState.HEAD;
  private tx: TxState = TxState.NONE;
  private req: H1Head | null = null;
  /** Client bytes read ahead: the next pipelined request(s), handled when this transaction ends. */
  private held: Buffer | null = null;
  /** Request bytes waiting for the server connection. */
  private out: Buffer[] = NO_CHUNKS;
  private outBytes = 0;
  /** The request as sent so far, kept for a retry; null once it outgrew the buffer. */
  private replay: Buffer[] | null = NO_CHUNKS;
  private replayBytes = 0;
  /** Transactions completed on this client connection. */
  private txnCount = 0;
  /** A request has begun (its first byte came, or the wait for it timed out). */
  private txnActive = false;
  private logged = false;
  private tunnel = false;
  /** Close the client connection once this response is sent. */
  private clientClose = false;
  /** The response is sent and our FIN is on its way: waiting for the client to close. */
  private lingering = false;
  /** The last write to the client found its queue past the high-water mark, and no DRAIN came since. */
  private cliBlocked = false;
  /**
   * The next request waits until the client has read what it was sent (its DRAIN): a client that
   * pipelines requests and reads no answer must not make the proxy hold the answers.
   */
  private drainWait = false;
  /** Refused past tune.buffers.limit: the 503 is on its way, the client is not read any more. */
  private refused = false;
  /** The server connection came from the idle pool, and how many transactions it had served. */
  private srvReused = false;
  private srvUses = 0;
  /** The once-only immediate retry after a reused connection failed was used. */
  private reuseRetried = false;
  /** The next connection must be a new one (retry after a reused connection failed). */
  private forceFresh = false;
  /** The server connection must not be reused (close-delimited, `Connection: close`, junk). */
  private srvNoReuse = false;
  /** Part of the final response went to the client: no retry, no generated answer any more. */
  private respStarted = false;
  private srvBytes = 0;
  /** The server a transaction of this session is using a connection to (the pool's estimate of need). */
  private usedOn: ServerRuntime | null = null;
  /** Bytes sent to the client when its timer was last armed: progress since then is activity. */
  private cliArmedBytes = 0;
  /** A response head waiting to go out with the first bytes of its body, in one write. */
  private headOut: string | null = null;
  /** The switching rules ran: the log names the backend (before, the frontend, as HAProxy). */
  private routed = false;
  // per transaction: accounting and timers (HAProxy's Ti, TR, Tr, Ta)
  private txnIn = 0;
  private txnOut = 0;
  private status = -1;
  /** The status of the server's response (-1: none came), for its `hrsp_*` counters. */
  private srvStatus = -1;
  private tIdle = 0;
  private tReq = 0;
  private reqDate = 0;
  private tHead = -1;
  private tSent = -1;
  private tResp = -1;

  private get lent(): TxnParsers {
    return (this.parsers ??= spareParsers.pop() ?? new TxnParsers());
  }

  private get reqReader(): HeadReader {
    return this.lent.reqReader;
  }

  private get resReader(): HeadReader {
    return this.lent.resReader;
  }

  private get reqBody(): BodyFramer {
    return this.lent.reqBody;
  }

  private get resBody(): BodyFramer {
    return this.lent.resBody;
  }

  /** The transaction is over: its parsers, reset, go back to the free list. */
  private releaseParsers(): void {
    const p = this.parsers;
    if (p === null) return;
    this.parsers = null;
    p.reqReader.reset();
    p.resReader.reset();
    p.resBody.sink = null;
    if (spareParsers.length < SPARE_PARSERS_MAX) spareParsers.push(p);
  }

  private setRx(next: RxState): void {
    if (next === this.rx) return;
    if (!RxTransitions[this.rx].includes(next)) throw new Error(`http request: illegal transition ${this.rx} -> ${next}`);
    this.rx = next;
  }

  private setTx(next: TxState): void {
    if (next === this.tx) return;
    if (!TxTransitions[this.tx].includes(next)) throw new Error(`http response: illegal transition ${this.tx} -> ${next}`);
    this.tx = next;
  }

  /** A bad PROXY header: logged as a bad request (`PR`, `<BADREQ>`), the connection closed. */
  protected override proxyHeaderFailed(): void {
    this.beginRequest();
    this.close('P', 'R');
  }

  /** An HTTP session waits for its first request (after the PROXY header, if one is expected). */
  protected override begin(): void {
    this.tIdle = this.host.sched.now();
    // a new connection takes its buffers on arrival, as a TCP session does (else a burst of
    // connections would all be read before the first of them took any); past tune.buffers.limit
    // it is refused before anything of it is read (the worker leaves a refused socket paused from
    // its creation). It gives them back once its first transaction is over, and a keep-alive
    // connection takes them again at the first byte of its next request.
    if (!this.takeBuffers()) {
      this.refuse();
      return;
    }
    this.armClient();
  }

  /**
   * Past tune.buffers.limit: 503, logged `RR`, the worker does not grow (HAProxy would make the
   * stream wait for a buffer; README, "Memory bound"). Nothing more of the client is read (a body
   * would only be read to be dropped: memory and CPU spent on the very load that is refused), and
   * the connection is let go within REFUSED_LINGER_MS.
   */
  private refuse(): void {
    this.clientClose = true;
    this.reply(503, 'R', 'R');
    if (this.done) return;
    this.refused = true;
    this.holdClient();
    this.armClient();
  }

  // ---- client side: requests --------------------------------------------------------------

  protected override fromClient(chunk: Buffer): void {
    if (this.tunnel) {
      this.txnIn += chunk.length; // a tunnel's bytes are its transaction's (log, show stat)
      super.fromClient(chunk);
      return;
    }
    this.host.stats.bytesIn += chunk.length;
    this.bytesFromClient += chunk.length;
    this.txnIn += chunk.length;
    if (this.lingering) return; // after our last answer, what the client sends is dropped
    if (this.held !== null || this.drainWait) {
      this.hold(this.held === null ? chunk : Buffer.concat([this.held, chunk]));
      return;
    }
    this.feedClient(chunk, 0);
  }

  /**
   * Keep bytes of the next request until this transaction is over. The client is not read
   * meanwhile: a pipelining client's next requests are read in one go when they are due, not one
   * read per request as they come (HAProxy reads no further ahead either). While answers wait for
   * the client's DRAIN, it is read on up to the buffer (its close is seen and logged).
   */
  private hold(buf: Buffer): void {
    this.held = buf;
    if (!this.drainWait || buf.length >= BUFSIZE) this.holdClient();
  }

  protected override clientReadable(): boolean {
    return !this.srvBackpressured && this.held === null && !this.drainWait && !this.refused && this.outBytes < BUFSIZE;
  }

  private feedClient(buf: Buffer, from: number): void {
    let off = from;
    while (off < buf.length && !this.done && !this.lingering) {
      if (this.drainWait) {
        // a local answer (http-request return…) inside this loop found the client blocked: the
        // requests after it wait for its DRAIN like any other
        this.hold(off === 0 ? buf : buf.subarray(off));
        return;
      }
      if (this.rx === RxState.HEAD) {
        if (!this.txnActive) {
          this.beginRequest();
          if (!this.takeBuffers()) {
            this.refuse(); // a request of a connection accepted while there was room
            return;
          }
        }
        const st = this.reqReader.push(buf, off);
        if (st === HeadStatus.MORE) {
          this.inputEnded();
          return;
        }
        if (st === HeadStatus.ERROR) {
          this.reply(H1ErrStatus[this.reqReader.error ?? 'start-line'], 'P', 'R');
          return;
        }
        off += this.reqReader.consumed;
        this.onRequestHead(this.reqReader.head as H1Head);
      } else if (this.rx === RxState.BODY) {
        const n = this.reqBody.feed(buf, off);
        if (n < 0) {
          this.fail('P', 'R', 400); // invalid chunked request body
          return;
        }
        this.sendRequest(n === buf.length && off === 0 ? buf : buf.subarray(off, off + n));
        off += n;
        if (this.reqBody.done) this.setRx(RxState.DONE);
        this.armClient();
      } else {
        this.hold(off === 0 ? buf : buf.subarray(off));
        return;
      }
    }
    if (off >= buf.length) this.inputEnded();
  }

  private beginRequest(): void {
    this.txnActive = true;
    this.tReq = this.host.sched.now();
    this.reqDate = this.host.wallClock();
    this.armClient(); // timeout http-request from the first byte
  }

  private onRequestHead(req: H1Head): void {
    this.req = req;
    this.reqReader.reset();
    this.tHead = this.host.sched.now();
    this.reqBody.start(req.body, req.contentLength);
    this.setRx(this.reqBody.done ? RxState.DONE : RxState.BODY);
    // frontend rules, then use_backend, then the backend's rules (HAProxy's order)
    // the match input and the edits are made only for a proxy with rules (most have none)
    const fe = this.fe.cfg;
    let input: MatchInput | null = null;
    let edits: Edits | null = null;
    let final: HttpAction | null = null;
    if (fe.httpRequest.length > 0) {
      input = { req, msg: req, src: this.srcIp };
      edits = { del: new Set(), add: [] };
      final = runRules(fe.httpRequest, input, edits);
    }
    if (!final) {
      if (fe.useBackends.length > 0) input ??= { req, msg: req, src: this.srcIp };
      this.chooseBackend(input);
      const be = this.be?.cfg;
      if (be && be.name !== fe.name && be.httpRequest.length > 0) {
        input ??= { req, msg: req, src: this.srcIp };
        edits ??= { del: new Set(), add: [] };
        final = runRules(be.httpRequest, input, edits);
      }
    }
    const mode = (this.be ?? this.fe).cfg.settings.httpConnMode;
    this.clientClose = req.wantsClose || mode === 'close' || this.host.stopping;
    if (final) {
      this.finalAction(final);
      return;
    }
    const ff = this.forwardFor(req);
    if (ff !== null) (edits ??= { del: new Set(), add: [] }).add.push(ff);
    const head = serializeHead(req, this.serverConnHeader(req), edits !== null && (edits.del.size > 0 || edits.add.length > 0) ? edits : undefined);
    this.replay = [];
    this.replayBytes = 0;
    this.out = [];
    this.outBytes = 0;
    this.sendRequest(head);
    this.resReader.reset();
    this.resReader.noBody = req.method === 'HEAD';
    this.setTx(TxState.WAIT);
    this.armClient();
    // a new pass through the server endpoint
    this.retriesLeft = this.be ? this.be.cfg.settings.retries : 0;
    this.tw = -1;
    this.tc = -1;
    this.redispatched = false;
    this.ep.setState(EpState.REQ);
    this.assignServer(null);
  }

  private serverConnHeader(req: H1Head): ConnHeader {
    if (req.upgrade) return ConnHeader.UPGRADE;
    const mode = (this.be ?? this.fe).cfg.settings.httpConnMode;
    if (mode !== 'keep-alive') return ConnHeader.CLOSE;
    return req.minor === 0 ? ConnHeader.KEEP_ALIVE : ConnHeader.NONE;
  }

  /** `option forwardfor`: the X-Forwarded-For line with the client's address (backend setting first), or null. */
  private forwardFor(req: H1Head): string | null {
    const ff = this.be?.cfg.settings.forwardFor ?? this.fe.cfg.settings.forwardFor;
    if (!ff) return null;
    if (ff.ifNone && headerValue(req, ff.header) !== undefined) return null;
    const ip = this.srcIp.startsWith('::ffff:') ? this.srcIp.slice(7) : this.srcIp;
    if (ff.except && inNetwork(ip, ff.except.addr, ff.except.prefix)) return null;
    return `${ff.header}: ${ip}`;
  }

  /** `use_backend … if …`: the first rule that holds picks the backend, else default_backend (`input`: null when there is no use_backend). */
  private chooseBackend(input: MatchInput | null): void {
    this.routed = true;
    const rule = input === null ? undefined : this.fe.cfg.useBackends.find((u) => conditionHolds(u.cond, input));
    const be = rule ? this.host.backendByName(rule.backend) : this.fe.backendId === undefined ? undefined : this.host.backendByName(this.feDefaultBackend());
    if (be === this.be) return;
    if (this.be) this.be.current--;
    this.be = be;
    if (be) {
      be.current++;
      be.total++;
      if (be.current > be.max) be.max = be.current;
    }
  }

  private feDefaultBackend(): string {
    return this.fe.cfg.defaultBackend ?? this.fe.cfg.name;
  }

  /** `http-request deny` (403 or deny_status, then close) or `return` (a local answer, keep-alive). */
  private finalAction(a: HttpAction): void {
    if (a.type === 'deny') {
      this.fe.denied++;
      this.reply(a.status, 'P', 'R');
      return;
    }
    if (a.type === 'use-service') {
      this.reply(503, 'P', 'R'); // served by the main thread; never reaches a worker (config check)
      return;
    }
    if (a.type !== 'return') return;
    const body = a.body ?? '';
    let head = `HTTP/1.1 ${a.status} ${reasonPhrase(a.status)}\r\n`;
    if (a.contentType !== undefined) head += `content-type: ${a.contentType}\r\n`;
    for (const [n, v] of a.headers) head += `${n}: ${v}\r\n`;
    head += `content-length: ${Buffer.byteLength(body, 'latin1')}\r\n`;
    const req = this.req as H1Head;
    if (this.clientClose && req.minor === 1) head += 'connection: close\r\n';
    else if (!this.clientClose && req.minor === 0) head += 'connection: keep-alive\r\n';
    this.reply(a.status, 'L', 'R', Buffer.from(`${head}\r\n${req.method === 'HEAD' ? '' : body}`, 'latin1'), true);
  }

  /** Request bytes to the server: written when connected, queued before; a copy kept for retries. */
  private sendRequest(chunk: Buffer): void {
    if (this.replay) {
      if (this.replayBytes + chunk.length <= BUFSIZE) {
        this.replay.push(chunk);
        this.replayBytes += chunk.length;
      } else this.replay = null;
    }
    if (this.ep.state === EpState.EST && this.ep.conn) {
      this.toServer(this.ep.conn, chunk);
      return;
    }
    this.out.push(chunk);
    this.outBytes += chunk.length;
    if (this.outBytes >= BUFSIZE) this.holdClient();
  }

  /** `balance uri` hashes the path, `balance hdr(<name>)` that header ('' when absent: round robin). */
  override lbKey(): string {
    const be = this.be;
    const req = this.req;
    if (!be || !req) return this.srcIp;
    if (be.algo === 'uri') return pathOf(req.target);
    if (be.algo === 'hdr') return headerValue(req, be.cfg.settings.balanceHdr ?? '') ?? '';
    return hashes(be.algo) ? this.srcIp : '';
  }

  // ---- server side: connection reuse ------------------------------------------------------

  /** ASS → CON: an idle connection when the reuse policy allows one, else a new connection. */
  protected override connect(): void {
    const server = this.ep.server;
    if (server && !(this.be as BackendRuntime).usable(server)) this.host.pool.purge(server); // DOWN or MAINT: none is reused
    const got = server && !this.forceFresh ? this.host.pool.checkout(server, this, this.id, this.minUses()) : null;
    this.forceFresh = false;
    if (!server || !got) {
      this.srvReused = false;
      this.srvUses = 0;
      super.connect();
      return;
    }
    this.srvReused = true;
    this.srvUses = got.uses;
    this.ep.attempts++;
    this.host.table.addSrv(server.id, ServerSlot.TOTAL, 1);
    if (this.tw < 0) this.tw = 0;
    this.ep.attach(got.conn, got.epoch);
    this.ep.setState(EpState.CON);
    this.tConnStart = this.host.sched.now();
    this.onConnected();
  }

  /**
   * Which shared idle connections this request may take (`http-reuse`, HAProxy's meaning): none
   * under `never`; under `safe` none for the first request of a client connection; under
   * `aggressive` only proven ones (≥ 2 transactions) for it; any under `always`.
   */
  private minUses(): number {
    const first = this.txnCount === 0;
    // a connection that began with a PROXY header speaks for one client: never shared
    if (this.ep.server?.cfg.sendProxy) return Number.POSITIVE_INFINITY;
    switch ((this.be as BackendRuntime).cfg.settings.httpReuse) {
      case 'never':
        return Number.POSITIVE_INFINITY;
      case 'safe':
        return first ? Number.POSITIVE_INFINITY : 0;
      case 'aggressive':
        return first ? 2 : 0;
      default:
        return 0;
    }
  }

  protected override onConnected(): void {
    this.host.sched.cancel(this.lazyExpTimer);
    const now = this.host.sched.now();
    this.tc = Math.round(now - this.tConnStart);
    this.tSent = now;
    this.ep.setState(EpState.EST);
    if (!this.usedOn && this.ep.server) {
      this.usedOn = this.ep.server;
      this.host.pool.inUse(this.usedOn, 1);
    }
    const conn = this.ep.conn as ConnActor;
    if (!this.srvReused) {
      const hdr = this.proxyHeaderFor(this.ep.server as ServerRuntime);
      if (hdr) conn.write(this.ep.epoch, hdr);
    }
    const out = this.out;
    this.out = [];
    this.outBytes = 0;
    for (const chunk of out) this.toServer(conn, chunk);
    this.readClient();
    this.armServer();
  }

  // ---- server side: responses ---------------------------------------------------------------

  protected override fromServer(c: ConnActor, chunk: Buffer): void {
    if (this.tunnel) {
      this.txnOut += chunk.length;
      super.fromServer(c, chunk);
      return;
    }
    this.srvBytes += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      if (this.tx === TxState.WAIT) {
        const st = this.resReader.push(chunk, off);
        if (st === HeadStatus.MORE) break;
        if (st === HeadStatus.ERROR) {
          this.badResponse();
          return;
        }
        off += this.resReader.consumed;
        const res = this.resReader.head as H1Head;
        this.resReader.reset();
        const req = this.req as H1Head;
        if (res.status < 200) {
          if (res.status === 101) {
            // a switch nobody asked for is a broken server
            if (req.upgrade) this.startTunnel(res, chunk.subarray(off));
            else this.badResponse();
            return;
          }
          // interim answer (100 Continue, 103 Early Hints): forwarded to an HTTP/1.1 client (an
          // HTTP/1.0 one does not know them), then the final one is awaited
          if (req.minor === 1) this.toClient(serializeHead(res, ConnHeader.NONE));
          this.resReader.noBody = req.method === 'HEAD';
          continue;
        }
        if (this.retryOnStatus(res.status)) return;
        if (req.method === 'CONNECT' && res.status < 300) {
          this.startTunnel(res, chunk.subarray(off));
          return;
        }
        this.onResponseHead(res);
        if (this.resBody.done) {
          if (off < chunk.length) this.srvNoReuse = true; // bytes past the response: a broken server
          this.responseDone();
          return;
        }
      } else if (this.tx === TxState.BODY) {
        const n = this.resBody.feed(chunk, off);
        if (n < 0) {
          this.close('P', 'D'); // invalid chunked response body: the client connection is cut
          return;
        }
        // (dechunked for an HTTP/1.0 client, the body went through the sink)
        if (this.resBody.sink === null) this.bodyToClient(chunk, off, n);
        off += n;
        if (this.resBody.done) {
          if (off < chunk.length) this.srvNoReuse = true; // bytes past the response: a broken server
          this.responseDone();
          return;
        }
      } else {
        this.srvNoReuse = true;
        return;
      }
    }
    this.flushHead();
    if (!this.done) this.armServer();
  }

  /** The transaction no longer uses its server connection. */
  private unuse(): void {
    if (this.usedOn) {
      this.host.pool.inUse(this.usedOn, -1);
      this.usedOn = null;
    }
  }

  /** A response head still waiting for body bytes to share its write goes alone. */
  private flushHead(): void {
    const h = this.headOut;
    if (h !== null) {
      this.headOut = null;
      this.toClient(Buffer.from(h, 'latin1'));
    }
  }

  private onResponseHead(res: H1Head): void {
    const req = this.req as H1Head;
    this.tResp = this.host.sched.now();
    this.status = res.status;
    this.srvStatus = res.status;
    this.resBody.start(res.body, res.contentLength);
    const mode = (this.be ?? this.fe).cfg.settings.httpConnMode;
    if (res.body === BodyKind.CLOSE || res.wantsClose || mode !== 'keep-alive') this.srvNoReuse = true;
    if (res.body === BodyKind.CLOSE || this.host.stopping || (res.body === BodyKind.CHUNKED && req.minor === 0)) this.clientClose = true;
    let ch: ConnHeader = ConnHeader.NONE;
    if (req.minor === 0) ch = this.clientClose ? ConnHeader.NONE : ConnHeader.KEEP_ALIVE;
    else if (this.clientClose) ch = ConnHeader.CLOSE;
    this.respStarted = true;
    this.setTx(TxState.BODY);
    // an HTTP/1.0 client cannot read chunked: the body goes without its framing, ended by our close
    this.resBody.sink = res.body === BodyKind.CHUNKED && req.minor === 0 ? (this.dechunked ??= (data) => this.toClient(data)) : null;
    const beRules = this.be && this.be.cfg.name !== this.fe.cfg.name ? this.be.cfg.httpResponse : NO_RULES;
    const feRules = this.fe.cfg.httpResponse;
    let edits: Edits | null = null;
    if (this.resBody.sink || beRules.length > 0 || feRules.length > 0) {
      edits = { del: new Set(), add: [] };
      if (this.resBody.sink) edits.del.add('transfer-encoding');
      const input: MatchInput = { req, msg: res, src: this.srcIp };
      runRules(beRules, input, edits);
      runRules(feRules, input, edits);
    }
    // written with the first body bytes (one write, as HAProxy does), or alone if none came with it
    this.headOut = serializeHeadText(res, ch, edits !== null && (edits.del.size > 0 || edits.add.length > 0) ? edits : undefined);
  }

  /** The payload of a chunked response, unframed, for an HTTP/1.0 client (bound once, when first needed). */
  private dechunked: ((data: Buffer) => void) | null = null;

  /**
   * `n` bytes of the response body at `off` in a chunk from the server. When the response head came
   * in the same read, ours is written where the server's was, right before the body, and both leave
   * in one write without a copy of the body (the chunk is ours: TransportReceiver.onData).
   */
  private bodyToClient(chunk: Buffer, off: number, n: number): void {
    const head = this.headOut;
    if (head !== null && head.length <= off) {
      this.headOut = null;
      const at = off - head.length;
      chunk.write(head, at, 'latin1');
      this.toClient(chunk.subarray(at, off + n));
    } else this.toClient(n === chunk.length ? chunk : chunk.subarray(off, off + n));
  }

  private toClient(data: Buffer): void {
    let buf = data;
    const head = this.headOut;
    if (head !== null) {
      // the head and the first body bytes in one buffer, one write (a latin1 string: a byte per character)
      this.headOut = null;
      if (data.length <= 65536) {
        buf = Buffer.allocUnsafe(head.length + data.length);
        buf.write(head, 0, 'latin1');
        data.copy(buf, head.length);
      } else this.toClient(Buffer.from(head, 'latin1'));
    }
    this.txnOut += buf.length;
    this.bytesToClient += buf.length;
    this.host.stats.bytesOut += buf.length;
    if (!this.cli.write(this.cliEpoch, buf)) {
      this.cliBlocked = true;
      if (this.ep.conn && !this.srvHeld) {
        this.srvHeld = true;
        this.ep.conn.pause(this.ep.epoch);
      }
    }
  }

  private responseDone(): void {
    this.flushHead();
    this.setTx(TxState.DONE);
    if (this.rx !== RxState.DONE) {
      // the server answered before the request was over: finish here, close both sides
      this.clientClose = true;
      this.srvNoReuse = true;
    }
    this.endTransaction();
  }

  /** 101 to an Upgrade request, or 2xx to CONNECT: from now on bytes flow both ways untouched. */
  private startTunnel(res: H1Head, rest: Buffer): void {
    this.status = res.status;
    this.srvStatus = res.status;
    this.tResp = this.host.sched.now();
    this.tunnel = true;
    this.respStarted = true;
    this.srvNoReuse = true;
    this.setTx(TxState.DONE);
    this.toClient(serializeHead(res, res.status === 101 ? ConnHeader.UPGRADE : ConnHeader.NONE));
    if (rest.length > 0) this.toClient(rest);
    const held = this.held;
    this.held = null;
    if (held && this.ep.conn) this.toServer(this.ep.conn, held);
    this.readClient();
    this.armClient();
    this.armServer();
  }

  // ---- retries --------------------------------------------------------------------------------

  private retryOn(what: RetryOn): boolean {
    return (this.be as BackendRuntime).cfg.settings.retryOn.includes(what);
  }

  /** A request may be sent again: nothing went to the client yet and the request is all kept. */
  private canRetry(): boolean {
    return !this.respStarted && this.replay !== null && this.retriesLeft > 0;
  }

  private retryOnStatus(status: number): boolean {
    if (status < 401 || !this.retryOn(status as RetryOn) || !this.canRetry()) return false;
    this.retryRequest(true);
    return true;
  }

  /** The response head was invalid (junk) or incomplete: retry (`junk-response`) or 502 PH. */
  private badResponse(): void {
    if (this.retryOn('junk-response') && this.canRetry()) this.retryRequest(true);
    else this.fail('P', 'H', 502);
  }

  /**
   * EST → REQ: send the request again on a new connection. `counted`: a `retry-on` retry (uses
   * one of `retries`); otherwise the once-only immediate retry after a reused connection failed.
   */
  private retryRequest(counted: boolean): void {
    const be = this.be as BackendRuntime;
    const server = this.ep.server;
    const conn = this.ep.conn;
    if (conn) conn.close(this.ep.epoch, SILENT_CLOSE);
    this.ep.conn = null;
    this.unuse();
    this.host.sched.cancel(this.lazySrvTimer);
    this.srvHeld = false;
    this.srvBackpressured = false;
    this.resReader.reset();
    this.resReader.noBody = (this.req as H1Head).method === 'HEAD';
    this.srvBytes = 0;
    this.srvNoReuse = false;
    this.out = [...(this.replay as Buffer[])];
    this.outBytes = this.replayBytes;
    this.forceFresh = true;
    this.ep.setState(EpState.REQ);
    if (counted) {
      this.retriesLeft--;
      this.host.stats.retries++;
      // HAProxy's do_l7_retry() goes through stream_choose_redispatch(), as connection retries do
      const decision = server
        ? decideRetry({
            retries: be.cfg.settings.retries,
            retriesLeft: this.retriesLeft,
            redispatch: be.cfg.settings.redispatch,
            retryable: true,
            serverUsable: be.usable(server),
            activeServers: be.activeCount(),
            algo: be.algo,
          })
        : 'redispatch';
      if (decision === 'redispatch' && server) {
        this.host.stats.redispatches++;
        this.redispatched = true;
        this.releaseSlot();
        this.ep.clearTarget();
        this.assignServer(server);
        return;
      }
      if (server) this.countRetry(server);
    }
    if (!server) {
      this.assignServer(null);
      return;
    }
    this.ep.setState(EpState.ASS);
    this.connect();
  }

  // ---- end of a transaction -----------------------------------------------------------------

  /**
   * The response is complete: log it, give the server connection back (idle pool, or private
   * under `http-reuse never`) or close it, reset the server endpoint, then wait for the next
   * request — or close the client connection when this was its last.
   */
  private endTransaction(): void {
    this.log();
    this.account();
    this.unuse();
    const conn = this.ep.conn;
    const srv = this.ep.server;
    if (conn) {
      this.ep.conn = null;
      const be = this.be as BackendRuntime;
      const keep = !this.srvNoReuse && !conn.readEnded && !conn.writeShut && !conn.closed && !this.host.stopping && srv !== null;
      if (srv && keep) {
        if (this.srvHeld) conn.resume(this.ep.epoch);
        const privateTo = be.cfg.settings.httpReuse === 'never' || srv.cfg.sendProxy ? this.id : 0;
        if (!this.host.pool.park(conn, srv, this.srvUses + 1, privateTo)) conn.close(this.ep.epoch, SILENT_CLOSE);
      } else conn.close(this.ep.epoch, SILENT_CLOSE);
    }
    this.resetTransaction();
    // the client half-closed: what it sent before is still served, then we close
    if (this.clientClose || (this.cli.readEnded && this.held === null)) {
      this.linger();
      return;
    }
    const held = this.held;
    this.held = null;
    this.nextRequest(held);
  }

  /** Wait for the next request (`timeout http-keep-alive`), starting with what was read ahead. */
  private nextRequest(held: Buffer | null): void {
    this.tIdle = this.host.sched.now();
    if (this.cliBlocked) {
      // the client has not read what it was sent: its next request waits, held (the client is
      // paused past the buffer), until its DRAIN — answers never pile up in the proxy
      this.drainWait = true;
      if (held) this.hold(held);
      this.armClient();
      return;
    }
    this.armClient();
    // what was read ahead first: reading goes on once it is used up
    if (held) this.feedClient(held, 0);
    else this.inputEnded();
    this.readClient();
  }

  /**
   * The client is gone, or timed out, while its next requests waited for its DRAIN: the first of
   * them counts as begun, so that the close that follows logs the transaction the client started
   * (with its request line when its head was complete). Nothing is sent or read any more: the
   * client's socket may be gone already.
   */
  private beginHeld(): void {
    if (!this.drainWait) return;
    this.drainWait = false;
    const held = this.held;
    this.held = null;
    if (!held || held.length === 0) return;
    this.beginRequest();
    if (this.reqReader.push(held, 0) === HeadStatus.DONE) this.req = this.reqReader.head; // whole: an aborted request, not a bad one
    this.reqReader.reset();
  }

  /**
   * Everything the client sent has been read: if its FIN came too, nothing more will — close
   * after the answers owed (a request cut in its head is answered 400, logged CR).
   */
  private inputEnded(): void {
    if (this.done || this.lingering || !this.cli.readEnded || this.rx !== RxState.HEAD) return;
    if (this.txnActive) this.reply(400, 'C', 'R');
    else this.linger();
  }

  private resetTransaction(): void {
    // what the client has not drained of its answer still stands for the response buffer
    this.giveBuffers(this.cliBlocked ? 1 : 0);
    this.unuse();
    this.headOut = null;
    this.releaseSlot();
    const sched = this.host.sched;
    sched.cancel(this.lazySrvTimer);
    sched.cancel(this.lazyExpTimer);
    this.lazySrvTimer = null;
    this.lazyExpTimer = null;
    if (this.ep.state === EpState.QUE) this.dequeue();
    if (this.ep.state !== EpState.INI) {
      this.ep.setState(EpState.CLO);
      this.ep.setState(EpState.INI);
    }
    this.ep.server = null;
    this.ep.attempts = 0;
    this.txnCount++;
    this.txnActive = false;
    this.routed = false;
    this.logged = false;
    this.req = null;
    this.setRx(RxState.HEAD);
    this.setTx(TxState.NONE);
    this.releaseParsers();
    this.replay = NO_CHUNKS;
    this.replayBytes = 0;
    this.out = NO_CHUNKS;
    this.outBytes = 0;
    this.srvHeld = false;
    this.srvBackpressured = false;
    this.srvReused = false;
    this.reuseRetried = false;
    this.forceFresh = false;
    this.srvNoReuse = false;
    this.respStarted = false;
    this.srvBytes = 0;
    this.status = -1;
    this.srvStatus = -1;
    this.txnIn = 0;
    this.txnOut = 0;
    this.tHead = -1;
    this.tSent = -1;
    this.tResp = -1;
    this.termCause = null;
    this.termPhase = '-';
  }

  /** Our last answer is written: send FIN after it and wait for the client to close. */
  private linger(): void {
    this.lingering = true;
    this.held = null;
    this.shutClient();
    this.armClient();
    // what the client still sends is read and dropped, so that its FIN or reset ends the session
    // (it may have been paused with read-ahead or for a server); a refused one stays unread
    if (this.cliHeld && !this.refused) this.resumeClient();
    // even when the client has half-closed already, its socket closes once our FIN went out after
    // the queued answer (CLOSE event): closing here would destroy what is still queued
    if (this.cliGone) this.close('-', '-');
  }

  /**
   * Answer the client ourselves (400, 408, 502, 503, 504…) with HAProxy's message, log the
   * transaction with `cause`/`phase`, drop the server side, and close the client connection.
   */
  private reply(status: number, cause: TerminationCause, phase: TerminationPhase, answer?: Buffer, keepAlive = false): void {
    if (!this.txnActive) this.beginRequest();
    this.termCause = cause;
    this.termPhase = phase;
    const conn = this.ep.conn;
    if (conn) {
      conn.close(this.ep.epoch, cause !== '-');
      this.ep.conn = null;
    }
    this.unuse();
    this.headOut = null;
    this.status = status;
    this.respStarted = true;
    this.toClient(answer ?? this.errorAnswer(status));
    this.log();
    this.account();
    const held = this.held;
    this.held = null;
    // the rest of a request body still coming makes the connection unusable for a next request
    const reusable = keepAlive && !this.clientClose && this.rx === RxState.DONE && !(this.cli.readEnded && held === null);
    this.resetTransaction();
    if (!reusable) {
      this.linger();
      return;
    }
    // answered locally, inside the reading of its request: the loop reading the client's bytes goes
    // on with what follows (a pipelined request), and decides about the client's FIN at its end
    if (this.cliBlocked) {
      this.nextRequest(held); // waits for the client's DRAIN
      return;
    }
    this.tIdle = this.host.sched.now();
    this.armClient();
    if (held) this.feedClient(held, 0);
    this.readClient();
  }

  /** `errorfile` of the backend, then of the frontend, else HAProxy's built-in answer. */
  private errorAnswer(status: number): Buffer {
    const ef = this.be?.cfg.settings.errorfiles?.[status] ?? this.fe.cfg.settings.errorfiles?.[status];
    const full = ef !== undefined ? Buffer.from(ef, 'latin1') : errorReply(status, this.req !== null && this.req.minor === 0);
    // the answer to a HEAD request has no body (RFC 9112 §6.3): its head only, length kept
    if (this.req?.method !== 'HEAD') return full;
    const end = full.indexOf('\r\n\r\n');
    return end < 0 ? full : full.subarray(0, end + 4);
  }

  protected override fail(cause: TerminationCause, phase: TerminationPhase, status: number): void {
    if (this.respStarted || this.done) this.close(cause, phase);
    else this.reply(status, cause, phase);
  }

  // ---- events ---------------------------------------------------------------------------------

  protected override clientEvent(ev: ConnEvent): void {
    if (this.tunnel) {
      super.clientEvent(ev);
      return;
    }
    switch (ev) {
      case ConnEvent.DRAIN:
        this.cliBlocked = false;
        if (!this.txnActive) this.giveBuffers();
        super.clientEvent(ev);
        if (this.drainWait && !this.done) {
          this.drainWait = false;
          const held = this.held;
          this.held = null;
          this.nextRequest(held);
        }
        return;
      case ConnEvent.END:
        if (this.drainWait) return; // its requests still held are answered first (DRAIN goes on with them)
        if (this.lingering || !this.txnActive) this.close('-', '-'); // between requests: a normal end, no log
        // the client stopped in the middle of a request head: as HAProxy, 400 (it may still read) and CR
        else if (this.rx === RxState.HEAD) this.reply(400, 'C', 'R');
        else if (this.rx === RxState.BODY) this.close('C', this.phase());
        // request complete, the client half-closed: answer it and the requests it sent before its
        // FIN (held, pipelined), then close (endTransaction / nextRequest see cli.readEnded)
        return;
      case ConnEvent.CLOSE:
      case ConnEvent.ERROR:
        if (ev === ConnEvent.CLOSE) this.cliGone = true;
        this.beginHeld();
        if (this.done) return;
        if (this.lingering || !this.txnActive) this.close('-', '-');
        else {
          // a reset in the middle of a request head: logged as the bad request it is (HAProxy: 400 CR)
          if (this.rx === RxState.HEAD && this.status < 0 && this.req === null) this.status = 400;
          this.close('C', this.phase());
        }
        return;
      default:
        super.clientEvent(ev);
    }
  }

  protected override serverEvent(c: ConnActor, ev: ConnEvent, err: TransportError | undefined): void {
    if (this.tunnel) {
      super.serverEvent(c, ev, err);
      return;
    }
    switch (ev) {
      case ConnEvent.END:
      case ConnEvent.ERROR:
      case ConnEvent.CLOSE:
        if (this.ep.state === EpState.CON) {
          if (ev !== ConnEvent.END) this.connectFailed(connectError(err));
          return;
        }
        if (this.ep.state === EpState.EST) this.serverGone(ev);
        return;
      default:
        super.serverEvent(c, ev, err);
    }
  }

  /** The server closed or broke the connection in the middle of a transaction. */
  private serverGone(ev: ConnEvent): void {
    if (this.tx === TxState.BODY) {
      if (ev === ConnEvent.END && this.resBody.endOfInput()) {
        this.srvNoReuse = true;
        this.responseDone(); // close-delimited body: the server's FIN ends it
      } else this.close('S', 'D'); // truncated response: the client connection is cut
      return;
    }
    if (this.tx !== TxState.WAIT) return;
    if (this.srvBytes === 0) {
      // the race of seed 003: a reused connection closed by the server just as we sent on it is
      // retried once, at once, on a new connection, whatever the method
      if (this.srvReused && !this.reuseRetried && this.replay !== null && !this.respStarted) {
        this.reuseRetried = true;
        this.retryRequest(false);
        return;
      }
      if (this.retryOn('empty-response') && this.canRetry()) {
        this.retryRequest(true);
        return;
      }
      this.fail('S', 'H', 502);
      return;
    }
    // an incomplete response head
    if (this.retryOn('junk-response') && this.canRetry()) this.retryRequest(true);
    else this.fail('S', 'H', 502);
  }

  override onTimer(kind: number): void {
    if (this.tunnel || this.done || this.proxyWait) {
      super.onTimer(kind);
      return;
    }
    this.calls++;
    switch (kind) {
      case SessTimer.CLIENT:
        this.clientTimeout();
        return;
      case SessTimer.SERVER:
        this.serverTimeout();
        return;
      default:
        super.onTimer(kind);
    }
  }

  private clientTimeout(): void {
    if (this.lingering) this.close('-', '-');
    else if (this.drainWait) {
      // answered, but the client read none of it for `timeout client`
      this.beginHeld();
      this.close('c', 'D');
    }
    else if (this.rx === RxState.HEAD) {
      // keep-alive wait over: a normal end; a request not complete in time: 408 cR
      if (!this.txnActive && this.txnCount > 0) this.linger(); // a FIN after what is still queued, not a reset
      else this.reply(408, 'c', 'R');
    } else if (this.rx === RxState.BODY && !this.cliHeld) this.fail('c', 'D', 408);
    else if (this.srvHeld && this.bytesToClient === this.cliArmedBytes) this.close('c', 'D'); // the client read nothing of its response for `timeout client`
    else this.armClient();
  }

  private serverTimeout(): void {
    if (this.ep.state !== EpState.EST) return;
    if (this.tx === TxState.WAIT) {
      if (this.retryOn('response-timeout') && this.canRetry()) this.retryRequest(true);
      else this.fail('s', 'H', 504);
    } else if (this.srvHeld) this.armServer(); // we stopped reading it, for the client: not the server's fault
    else this.close('s', 'D');
  }

  // ---- timers ---------------------------------------------------------------------------------

  /**
   * Client side: `timeout http-request` for a request head (from its first byte, or from the
   * accept for the first request), `timeout http-keep-alive` between requests, `timeout client`
   * otherwise, `timeout client-fin` after our FIN.
   */
  protected override armClient(): void {
    if (this.tunnel) {
      super.armClient();
      return;
    }
    const t = this.feTimeouts;
    let ms = t.client;
    this.cliArmedBytes = this.bytesToClient;
    if (this.lingering) ms = this.refused ? Math.min(t.clientFin ?? t.client ?? REFUSED_LINGER_MS, REFUSED_LINGER_MS) : (t.clientFin ?? t.client);
    else if (this.drainWait) ms = t.client;
    else if (this.rx === RxState.HEAD) ms = this.txnActive || this.txnCount === 0 ? (t.httpRequest ?? t.client) : (t.httpKeepAlive ?? t.httpRequest ?? t.client);
    this.host.sched.arm(this.cliTimer, ms);
  }

  protected override armServer(): void {
    if (this.tunnel) {
      super.armServer();
      return;
    }
    this.host.sched.arm(this.srvTimer, this.timeouts.server);
  }

  /** HAProxy's second letter in HTTP: R request, Q queue, C connect, H response headers, D data. */
  protected override phase(): TerminationPhase {
    // a request body still coming in: the data phase, whatever the server side is doing (HAProxy's CD)
    if (this.tunnel || this.rx === RxState.BODY) return 'D';
    switch (this.ep.state) {
      case EpState.QUE:
        return 'Q';
      case EpState.TAR:
      case EpState.ASS:
      case EpState.CON:
      case EpState.CER:
        return 'C';
      case EpState.EST:
        return this.tx === TxState.BODY || this.tx === TxState.DONE ? 'D' : 'H';
      default:
        return this.rx === RxState.DONE ? 'H' : 'R';
    }
  }

  // ---- end of session, logs, counters -----------------------------------------------------------

  override snapshot(worker: number): SessionSnapshot {
    return { ...super.snapshot(worker), http: { rx: this.rx, tx: this.tx, requests: this.txnCount } };
  }

  override close(cause: TerminationCause, phase: TerminationPhase): void {
    if (this.done) return;
    if (this.txnActive && !this.logged) {
      // log the transaction now, with its bytes (the session's close accounts them first)
      this.termCause = cause;
      this.termPhase = cause === '-' ? '-' : phase;
      this.log();
    }
    super.close(cause, phase);
    this.unuse();
    this.host.pool.dropPrivate(this.id);
  }

  /** One line per transaction, HAProxy's HTTP format; none for a connection closed between requests. */
  protected override log(): void {
    if (!this.txnActive || this.logged) return;
    this.logged = true;
    this.countTransaction();
    this.countResponseError();
    if (this.fe.cfg.settings.dontlognull && this.txnIn === 0) return;
    if (!this.host.logging(this.fe.id)) return;
    const now = this.host.sched.now();
    const req = this.req;
    const version = req ? `HTTP/1.${req.minor}` : '';
    const fields: TcpLogFields = {
      ...this.logFields(),
      // a request answered before a backend was chosen is logged against the frontend, as HAProxy
      ...(req && this.routed ? {} : { backend: this.fe.cfg.name }),
      tt: Math.round(now - this.tIdle),
      bytesRead: this.txnOut,
      bytesUploaded: this.txnIn,
      http: {
        requestDate: this.reqDate,
        ti: Math.round(this.tReq - this.tIdle),
        tR: this.tHead < 0 ? -1 : Math.round(this.tHead - this.tReq),
        tr: this.tResp < 0 || this.tSent < 0 ? -1 : Math.round(this.tResp - this.tSent),
        ta: Math.round(now - this.tReq),
        status: this.status,
        requestLine: req ? `${req.method} ${req.target} ${version}` : '<BADREQ>',
        method: req ? req.method : '<BADREQ>',
        uri: req ? req.target : '',
        version,
      },
    };
    this.host.log(fields, this.fe.id);
  }

  /**
   * `req_tot` and `hrsp_*` as HAProxy counts them: every request and the answer sent on the
   * frontend (the proxy's own included), those routed on the backend, and on the server the
   * responses it sent.
   */
  private countTransaction(): void {
    countHttp(this.fe.http, this.status);
    if (this.routed && this.be) countHttp(this.be.http, this.status);
    const srv = this.ep.server;
    if (srv && this.srvStatus >= 0) countHttp(srv.http, this.srvStatus);
  }

  /** Bytes of this transaction to its frontend, backend and server (`show stat`). */
  protected override account(): void {
    const up = this.txnIn;
    const down = this.txnOut;
    this.txnIn = 0;
    this.txnOut = 0;
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
}

/** `ip` (IPv4 dotted) inside `net/prefix`. */
function inNetwork(ip: string, net: string, prefix: number): boolean {
  const v = (s: string) => s.split('.').reduce((a, b) => (a << 8) + Number(b), 0) >>> 0;
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return false;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return (v(ip) & mask) >>> 0 === (v(net) & mask) >>> 0;
}
