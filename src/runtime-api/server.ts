import fs from 'node:fs';
import net from 'node:net';
import type { StatsSocketConfig } from '../config/config.types.ts';
import { runCommand } from './commands.ts';
import type { CliContext, RuntimeHost } from './runtime-api.types.ts';

let nextCliId = 1;

/**
 * The `stats socket`: HAProxy's CLI protocol. Without `prompt`, one line is read, its commands
 * (separated by `;`) run, their output is sent, each ending with an empty line, and the
 * connection closes. After `prompt`, the connection stays open and prints `> ` after each reply.
 */
export class RuntimeApiServer {
  private readonly server: net.Server;
  private readonly cfg: StatsSocketConfig;
  private readonly host: RuntimeHost;
  private readonly conns = new Set<net.Socket>();

  constructor(cfg: StatsSocketConfig, host: RuntimeHost) {
    this.cfg = cfg;
    this.host = host;
    this.server = net.createServer((sock) => this.onConnection(sock));
  }

  listen(): Promise<void> {
    const a = this.cfg.address;
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const ok = (): void => {
        this.server.off('error', reject);
        resolve();
      };
      if (a.kind === 'unix') {
        if (fs.existsSync(a.path)) fs.unlinkSync(a.path); // a stale socket from a previous run
        this.server.listen(a.path, ok);
      } else if (a.kind === 'fd') {
        this.server.listen({ fd: a.fd }, ok); // inherited from the parent (stats socket fd@N)
      } else {
        this.server.listen({ host: a.host, port: a.port }, ok);
      }
    });
  }

  address(): string {
    const a = this.server.address();
    return typeof a === 'string' ? a : a ? `${a.address}:${a.port}` : '';
  }

  close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(sock: net.Socket): void {
    this.conns.add(sock);
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => sock.destroy());
    const started = Date.now();
    const ctx: CliContext = {
      level: this.cfg.level,
      host: this.host,
      selfId: nextCliId++,
      selfSrc: sock.remoteAddress ? `${sock.remoteAddress}:${sock.remotePort}` : 'unix:1',
      get selfAgeMs() {
        return Date.now() - started;
      },
      interactive: false,
      quit: false,
    };
    let buf = '';
    let busy = Promise.resolve();
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 65536) return void sock.destroy();
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        busy = busy.then(() => this.runLine(ctx, sock, line));
        nl = buf.indexOf('\n');
      }
    });
    sock.on('end', () => {
      const rest = buf;
      buf = '';
      busy = busy.then(() => (rest.trim() ? this.runLine(ctx, sock, rest) : undefined)).then(() => {
        if (!sock.destroyed) sock.end();
      });
    });
  }

  private async runLine(ctx: CliContext, sock: net.Socket, line: string): Promise<void> {
    if (sock.destroyed || sock.writableEnded) return;
    let out = '';
    for (const cmd of line.split(';')) {
      if (!cmd.trim()) continue;
      try {
        const r = await runCommand(ctx, cmd);
        out += r;
        if (r !== '' || !ctx.interactive) out += '\n';
      } catch (err) {
        out += `Internal error: ${(err as Error).message}\n\n`;
      }
      if (ctx.quit) break;
    }
    if (ctx.interactive && !ctx.quit) out += '> ';
    if (out) sock.write(out);
    if (ctx.quit || !ctx.interactive) sock.end();
  }
}
