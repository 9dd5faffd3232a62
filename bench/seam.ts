/**
 * What the simulation seam costs on the hot path: bytes received through `NodeTransport` and a
 * `ConnActor` (the production path) against a bare `socket.on('data')` handler, in the same
 * process, interleaved rounds. Run by `npm run bench`, or alone: `node bench/seam.ts [--quick]`.
 */
import net from 'node:net';
import { ConnActor } from '../src/core/actor.ts';
import type { ActorStats, ConnActorLike, ConnOwner } from '../src/core/actor.types.ts';
import { NodeTransport } from '../src/net/node-transport.ts';

export interface SeamReport {
  readonly markdown: string;
  readonly bareCpuMsPerGB: number;
  readonly seamCpuMsPerGB: number;
}

type Receiver = (sock: net.Socket, done: (bytes: number) => void) => void;

const bare: Receiver = (sock, done) => {
  let n = 0;
  sock.on('data', (d: Buffer) => (n += d.length));
  sock.on('end', () => {
    sock.destroy();
    done(n);
  });
};

const seam: Receiver = (sock, done) => {
  const stats: ActorStats = { staleEvents: 0, staleCommands: 0, opened: 0, closed: 0 };
  let n = 0;
  let epoch = 0;
  const owner: ConnOwner = {
    onConnData(_c: ConnActorLike, e: number, chunk: Buffer) {
      if (e === epoch) n += chunk.length;
    },
    onConnEvent(_c: ConnActorLike, e: number, ev: number) {
      if (e === epoch && ev === 2) {
        // END: the sender is done
        actor.close(epoch);
        done(n);
      }
    },
    onFault(err: unknown) {
      throw err;
    },
  };
  const actor: ConnActor = new ConnActor('client', new NodeTransport(sock), stats, true);
  epoch = actor.attach(owner);
};

async function once(receiver: Receiver, bytes: number): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true });
  const got = new Promise<number>((resolve) => server.once('connection', (s) => receiver(s, resolve)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const c = net.connect(port, '127.0.0.1');
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const t0 = process.cpuUsage();
  let sent = 0;
  const pump = (): void => {
    while (sent < bytes) {
      sent += chunk.length;
      if (!c.write(chunk)) return void c.once('drain', pump);
    }
    c.end();
  };
  c.on('connect', pump);
  const n = await got;
  const cpu = process.cpuUsage(t0);
  c.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  if (n !== bytes) throw new Error(`received ${n} of ${bytes}`);
  return (cpu.user + cpu.system) / 1000; // ms, sender and receiver together (same process)
}

export async function runSeam(quick: boolean): Promise<SeamReport> {
  const GB = 1024 * 1024 * 1024;
  const bytes = quick ? GB / 4 : GB;
  const rounds = quick ? 3 : 5;
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i++) {
    a.push(await once(bare, bytes));
    b.push(await once(seam, bytes));
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
  const perGB = (ms: number) => (ms * GB) / bytes;
  const bareMs = perGB(med(a));
  const seamMs = perGB(med(b));
  const markdown = [
    '## Simulation seam: cost on the hot path',
    '',
    `${(bytes / GB).toFixed(2)} GiB over loopback per run, sender and receiver in one process, median of ${rounds} interleaved runs (CPU of the whole process).`,
    '',
    '| receiver | CPU ms per GiB |',
    '|---|---:|',
    `| bare \`socket.on('data')\` | ${bareMs.toFixed(0)} |`,
    `| \`NodeTransport\` → \`ConnActor\` → owner (epoch checked) | ${seamMs.toFixed(0)} |`,
    '',
    `Ratio: ${(seamMs / bareMs).toFixed(3)} (run-to-run noise on this machine is a few percent).`,
  ].join('\n');
  return { markdown, bareCpuMsPerGB: bareMs, seamCpuMsPerGB: seamMs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runSeam(process.argv.includes('--quick'));
  process.stdout.write(`${r.markdown}\n`);
}
