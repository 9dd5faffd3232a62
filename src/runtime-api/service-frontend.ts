/**
 * Frontends that serve a built-in service (`http-request use-service prometheus-exporter`), run by
 * the main thread beside the stats socket: what they show lives there (the shared table, the
 * workers' counters over comlink), and a scrape must not take a worker's time from traffic.
 * Requests are read with switchyard's own parser and matched by the frontend's rules, in order:
 * `use-service` answers the metrics, `return` and `deny` answer as in a worker, anything else is
 * 503 (a frontend without a backend, as HAProxy answers it).
 */
import { timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { FrontendConfig } from '../config/config.types.ts';
import { BodyFramer } from '../proto/http1/body.ts';
import { HeadReader, headerValue } from '../proto/http1/head.ts';
import { DEFAULT_H1_LIMITS, H1ErrStatus, HeadStatus } from '../proto/http1/http1.types.ts';
import { runRules } from '../proto/http1/match.ts';
import { errorReply, reasonPhrase } from '../proto/http1/replies.ts';

/** Whether a frontend is served by the main thread (a use-service rule or `stats enable`; the config check saw to it that it has no backend). */
export const isServiceFrontend = (fe: FrontendConfig): boolean => fe.httpRequest.some((r) => r.action.type === 'use-service') || fe.settings.stats?.enabled === true;

/** What a service frontend shows: the metrics text, the statistics page's HTML. */
export interface ServiceViews {
  metrics(): Promise<string>;
  statsPage(refreshSec: number | undefined): Promise<string>;
}

export class ServiceFrontend {
  readonly fe: FrontendConfig;
  private readonly views: ServiceViews;
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();

  constructor(fe: FrontendConfig, views: ServiceViews) {
    this.fe = fe;
    this.views = views;
  }

  async listen(): Promise<void> {
    for (const b of this.fe.binds) {
      const server = net.createServer({ allowHalfOpen: true }, (s) => this.connection(s));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        const done = () => {
          server.off('error', reject);
          resolve();
        };
        if (b.fd !== undefined) server.listen({ fd: b.fd }, done);
        else server.listen({ host: b.host === '' || b.host === '*' ? undefined : b.host, port: b.port }, done);
      });
      this.servers.push(server);
    }
  }

  addresses(): Array<{ host: string; port: number }> {
    return this.servers.map((s) => {
      const a = s.address() as net.AddressInfo;
      return { host: a.address, port: a.port };
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }

  private connection(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setTimeout(this.fe.settings.timeouts.client ?? 30_000, () => sock.destroy());
    const reader = new HeadReader(true, DEFAULT_H1_LIMITS);
    const body = new BodyFramer();
    let busy = false;
    let ended = false;
    const pending: Buffer[] = [];
    // one request at a time: the socket is not read while an answer is being made or written
    // (the main thread also runs the acceptor: a client that floods and never reads must cost nothing)
    const write = (bytes: Buffer): Promise<void> => (sock.write(bytes) ? Promise.resolve() : new Promise((r) => sock.once('drain', r)));
    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      sock.pause();
      try {
        while (pending.length > 0 && !sock.destroyed) {
          const chunk = pending.shift() as Buffer;
          let off = 0;
          while (off < chunk.length) {
            if (!body.done) {
              const n = body.feed(chunk, off);
              if (n < 0) return void sock.end(errorReply(400, false));
              off += n;
              continue;
            }
            const st = reader.push(chunk, off);
            if (st === HeadStatus.MORE) break;
            if (st === HeadStatus.ERROR) return void sock.end(errorReply(H1ErrStatus[reader.error ?? 'start-line'], false));
            off += reader.consumed;
            const req = reader.head;
            reader.reset();
            if (!req) break;
            body.start(req.body, req.contentLength);
            const answer = await this.answer(req.method, { req, msg: req, src: sock.remoteAddress ?? '' });
            if (sock.destroyed) return;
            if (answer.close || req.wantsClose) return void sock.end(answer.bytes);
            await write(answer.bytes);
          }
        }
        // the client half-closed after its requests: they are answered, now we close too
        if (ended) sock.end();
      } finally {
        busy = false;
        if (!sock.destroyed) sock.resume();
      }
    };
    sock.on('data', (d: Buffer) => {
      pending.push(d);
      void pump();
    });
    sock.on('end', () => {
      ended = true;
      if (!busy && pending.length === 0) sock.end();
    });
  }

  private async answer(method: string, input: Parameters<typeof runRules>[1]): Promise<{ bytes: Buffer; close: boolean }> {
    const head = (status: number, type: string, length: number, extra = '') =>
      `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\ncontent-type: ${type}\r\ncontent-length: ${length}\r\n${extra}\r\n`;
    // the frontend's rules first (a `deny unless { src … }` protects the page), then the page
    const a = runRules(this.fe.httpRequest, input, { del: new Set(), add: [] });
    if (a?.type === 'deny') return { bytes: errorReply(a.status, false), close: true };
    const stats = this.fe.settings.stats;
    if (a?.type !== 'return' && a?.type !== 'use-service' && stats?.enabled && input.req.target.startsWith(stats.uri)) {
      if (stats.auth.length > 0 && !authorized(headerValue(input.req, 'authorization'), stats.auth)) {
        const body = '<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n';
        const extra = `www-authenticate: Basic realm="${stats.realm}"\r\ncache-control: no-cache\r\n`;
        return { bytes: Buffer.from(head(401, 'text/html', body.length, extra) + (method === 'HEAD' ? '' : body)), close: false };
      }
      const html = await this.views.statsPage(stats.refresh === undefined ? undefined : Math.max(1, Math.round(stats.refresh / 1000)));
      return { bytes: Buffer.from(head(200, 'text/html', Buffer.byteLength(html), 'cache-control: no-cache\r\n') + (method === 'HEAD' ? '' : html)), close: false };
    }
    if (a?.type === 'use-service') {
      const text = await this.views.metrics();
      const len = Buffer.byteLength(text);
      return { bytes: Buffer.from(head(200, 'text/plain; version=0.0.4', len) + (method === 'HEAD' ? '' : text)), close: false };
    }
    if (a?.type === 'return') {
      const b = a.body ?? '';
      const extra = a.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('');
      return { bytes: Buffer.from(head(a.status, a.contentType ?? 'text/plain', Buffer.byteLength(b, 'latin1'), extra) + (method === 'HEAD' ? '' : b), 'latin1'), close: false };
    }
    return { bytes: errorReply(503, false), close: true };
  }
}

/** HTTP basic authentication against `stats auth` pairs (constant-time comparison of the whole value). */
function authorized(header: string | undefined, users: ReadonlyArray<readonly [string, string]>): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const given = Buffer.from(header.slice(6).trim(), 'base64');
  return users.some(([u, p]) => {
    const want = Buffer.from(`${u}:${p}`);
    return want.length === given.length && timingSafeEqual(want, given);
  });
}
