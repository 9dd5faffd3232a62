/** Raw-byte origins for integration tests: each records what it received and answers in bytes. */
import { readFileSync } from 'node:fs';
import net from 'node:net';

export interface Origin {
  readonly server: net.Server;
  readonly port: number;
  readonly received: Buffer[];
  readonly sockets: Set<net.Socket>;
  /** Connections accepted so far. */
  accepted: number;
  close(): Promise<void>;
}

export type OriginHandler = (sock: net.Socket, origin: Origin) => void;

export async function origin(handler: OriginHandler, host = '127.0.0.1'): Promise<Origin> {
  const sockets = new Set<net.Socket>();
  const o: { -readonly [K in keyof Origin]: Origin[K] } = {
    server: net.createServer({ allowHalfOpen: true }),
    port: 0,
    received: [],
    sockets,
    accepted: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        o.server.close(() => resolve());
      }),
  };
  o.server.on('connection', (sock) => {
    o.accepted++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.on('data', (d: Buffer) => o.received.push(d));
    handler(sock, o);
  });
  await new Promise<void>((r) => o.server.listen(0, host, () => r()));
  o.port = (o.server.address() as net.AddressInfo).port;
  return o;
}

/** Echoes every byte, half-closes when the client does. */
export const echo = (): Promise<Origin> =>
  origin((sock) => {
    sock.on('data', (d) => sock.write(d));
    sock.on('end', () => sock.end());
  });

/** Sends `banner` at once, then echoes. Useful to tell which server answered. */
export const named = (name: string): Promise<Origin> =>
  origin((sock) => {
    sock.write(`${name}\n`);
    sock.on('data', (d) => sock.write(d));
    sock.on('end', () => sock.end());
  });

/** Answers each chunk after `ms` milliseconds. */
export const slow = (ms: number, reply = 'pong'): Promise<Origin> =>
  origin((sock) => {
    sock.on('data', () => {
      const t = setTimeout(() => !sock.destroyed && sock.write(reply), ms);
      sock.once('close', () => clearTimeout(t));
    });
    sock.on('end', () => sock.end());
  });

/** The low end of the kernel's ephemeral range: `bind …:0` and outgoing connections take ports from there up. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'latin1').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32768;
  } catch {
    return 32768;
  }
}

/**
 * A port on which nothing listens (connects are refused), taken below the ephemeral range: a port
 * the kernel gave out and took back would be given again to the next `bind 127.0.0.1:0` — once it
 * was the proxy's own listener of the same test, and the "dead" server answered.
 */
export async function closedPort(): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 1024 + Math.floor(Math.random() * (low - 1024));
    const refused = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(false);
      });
      c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
    });
    if (refused) return port;
  }
  throw new Error('no closed port found below the ephemeral range');
}

/** Connect, send `payload`, half-close, collect everything until the proxy closes. */
export function exchange(port: number, payload: string | Buffer, opts: { end?: boolean; timeoutMs?: number } = {}): Promise<{ data: string; error?: string; ms: number }> {
  return new Promise((resolve) => {
    const start = Date.now();
    const c = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      c.destroy();
      resolve({ data, error: 'timeout', ms: Date.now() - start });
    }, opts.timeoutMs ?? 5000);
    c.setEncoding('utf8');
    c.on('connect', () => {
      c.write(payload);
      if (opts.end !== false) c.end();
    });
    c.on('data', (d: string) => (data += d));
    c.on('error', (e) => {
      clearTimeout(timer);
      resolve({ data, error: (e as NodeJS.ErrnoException).code ?? e.message, ms: Date.now() - start });
    });
    c.on('close', () => {
      clearTimeout(timer);
      resolve({ data, ms: Date.now() - start });
    });
  });
}
