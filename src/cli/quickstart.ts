/**
 * `npm start`: two demo backends (tiny HTTP/1.1 responders on raw TCP) and switchyard in front of
 * them with docs/quickstart.cfg, so `curl localhost:8080` answers with nothing else running.
 */
import net from 'node:net';
import { main } from './main.ts';

function demoBackend(name: string, port: number): net.Server {
  const server = net.createServer((sock) => {
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        buf = buf.slice(end + 4); // requests without a body: enough for a demo
        const body = `Hello from switchyard demo backend ${name}\n`;
        sock.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      }
    });
  });
  server.listen(port, '127.0.0.1');
  return server;
}

const backends = [demoBackend('demo1', 3001), demoBackend('demo2', 3002)];
const cfg = new URL('../../docs/quickstart.cfg', import.meta.url).pathname;
process.stderr.write('[NOTICE] demo backends on 127.0.0.1:3001 and 127.0.0.1:3002; try: curl localhost:8080\n');
main(['-f', cfg, ...process.argv.slice(2)]).then((code) => {
  for (const b of backends) b.close();
  process.exit(code);
});
