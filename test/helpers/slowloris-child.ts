/**
 * A slowloris attacker in its own process (so that its CPU is not the test's): opens N
 * connections to 127.0.0.1:PORT and sends a request head one byte per connection every
 * INTERVAL ms, never finishing it. Prints `open` once all are connected, then one line per
 * answer it gets (the status line), and exits when every connection is closed.
 * Usage: node slowloris-child.ts PORT N INTERVAL_MS
 */
import net from 'node:net';

const [port, n, interval] = process.argv.slice(2).map(Number) as [number, number, number];
const head = 'GET / HTTP/1.1\r\nhost: t\r\nx-a: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const socks: net.Socket[] = [];
let connected = 0;
let closed = 0;
for (let i = 0; i < n; i++) {
  const s = net.connect(port, '127.0.0.1');
  s.setEncoding('latin1');
  s.on('connect', () => {
    if (++connected === n) process.stdout.write('open\n');
  });
  s.on('data', (d: string) => process.stdout.write(`${d.split('\r\n')[0]}\n`));
  s.on('error', () => {});
  s.on('close', () => {
    if (++closed === n) process.exit(0);
  });
  socks.push(s);
}
let sent = 0;
const drip = setInterval(() => {
  if (sent >= head.length) return;
  for (const s of socks) if (!s.destroyed) s.write(head[sent] as string);
  sent++;
}, interval);
drip.unref();
