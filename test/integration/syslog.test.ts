/**
 * Logging to syslog over UDP: RFC 3164 framing with HAProxy's `TAG[PID]:` prefix, the facility and
 * level in the priority, `log-tag` — compared with what HAProxy 2.6 itself sends for the same session.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { freePort, startHaproxy } from '../helpers/haproxy.ts';
import { echo, exchange } from '../helpers/origins.ts';
import { cleanup, eventually, startProxy } from '../helpers/proxy.ts';

async function udpSink(): Promise<{ port: number; lines: string[]; close(): Promise<void> }> {
  const s = dgram.createSocket('udp4');
  const lines: string[] = [];
  s.on('message', (m) => lines.push(m.toString()));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, lines, close: () => new Promise<void>((r) => s.close(() => r())) };
}

const config = (udp: number, port: number, origin: number) => `
global
    log 127.0.0.1:${udp} local3 info
    log-tag edge
defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen app
    bind 127.0.0.1:${port}
    server s1 127.0.0.1:${origin}
`;

/** The frame with the variable parts (date, pid, client port, timers) replaced. */
const shape = (l: string) =>
  l
    .replace(/^<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d /, '<$1>DATE ')
    .replace(/\[\d+\]: /, '[PID]: ')
    .replace(/127\.0\.0\.1:\d+ \[[^\]]+\]/, 'CLIENT [ACCEPT]')
    .replace(/ \d+\/\d+\/\d+ /, ' TW/TC/TT ')
    .replace(/ \d+\/\d+\/\d+\/\d+\/(\+?\d+) /, ' CONNS/$1 ');

test('syslog over UDP: the same frame as HAProxy (priority, date, tag[pid], tcplog line)', async () => {
  const o = await echo();
  const sink = await udpSink();
  try {
    const hport = await freePort();
    const hap = await startHaproxy(config(sink.port, hport, o.port), hport);
    try {
      await exchange(hport, 'hello');
      await eventually(() => sink.lines.some((l) => / app app\/s1 /.test(l)), 3000, 'haproxy line');
    } finally {
      await hap.stop();
    }
    const hapLine = sink.lines.find((l) => / app app\/s1 /.test(l)) as string;
    sink.lines.length = 0;
    const sport = await freePort();
    const p = await startProxy(config(sink.port, sport, o.port));
    try {
      await exchange(sport, 'hello');
      await eventually(() => sink.lines.some((l) => / app app\/s1 /.test(l)), 3000, 'switchyard line');
    } finally {
      await cleanup(p);
    }
    const syLine = sink.lines.find((l) => / app app\/s1 /.test(l)) as string;
    assert.match(syLine, /^<158>\w{3} [ \d]\d \d\d:\d\d:\d\d edge\[\d+\]: 127\.0\.0\.1:\d+ \[/, 'local3.info = <158>, tag from log-tag');
    assert.equal(shape(syLine), shape(hapLine));
  } finally {
    await o.close();
    await sink.close();
  }
});
