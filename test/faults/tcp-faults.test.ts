/**
 * Faults in mode tcp, one per case, through the real proxy (two workers): what the client gets,
 * the termination state of the tcplog line, no session left, and echo clients on the same proxy
 * undisturbed meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { echo, type Origin } from '../helpers/origins.ts';
import { cleanup, type RunningProxy, startProxy } from '../helpers/proxy.ts';
import { underLoad } from './common.ts';
import { FaultClient, type FaultOrigin, faultOrigin, logFrom, refusingPort, S, sleep, tcpTermination } from './harness.ts';

let p: RunningProxy;
let e: Origin;
const o: Record<string, FaultOrigin> = {};

before(async () => {
  e = await echo();
  o.srvRst = await faultOrigin({ accept: () => [S.write('hello'), S.delay(50), S.rst()] });
  o.srvFin = await faultOrigin({ accept: () => [S.write('bye'), S.fin()] });
  o.silent = await faultOrigin({ accept: () => [S.hang()] });
  const refused = await refusingPort();
  p = await startProxy(
    `
global
    maxconn 1000
defaults
    mode tcp
    option tcplog
    retries 0
    timeout connect 500ms
    timeout client 3s
    timeout server 3s
listen echo
    bind 127.0.0.1:0
    server s1 127.0.0.1:${e.port}
listen srvrst
    bind 127.0.0.1:0
    server s1 127.0.0.1:${o.srvRst.port}
listen srvfin
    bind 127.0.0.1:0
    server s1 127.0.0.1:${o.srvFin.port}
listen cliidle
    bind 127.0.0.1:0
    timeout client 300ms
    server s1 127.0.0.1:${e.port}
listen srvidle
    bind 127.0.0.1:0
    timeout server 300ms
    server s1 127.0.0.1:${o.silent.port}
listen clirst
    bind 127.0.0.1:0
    server s1 127.0.0.1:${e.port}
listen refused
    bind 127.0.0.1:0
    server s1 127.0.0.1:${refused}
`,
    { threads: 2 },
  );
});

after(async () => {
  assert.equal(await cleanup(p, e, ...Object.values(o)), 0);
});

const tcpCase = (fe: string, fault: (from: number) => Promise<void>) => underLoad({ p, fe, bgPort: p.port('echo'), tcp: true }, fault);

async function termOf(fe: string, c: FaultClient, from: number): Promise<string> {
  const line = await logFrom(p, fe, c.localPort, from);
  return `${tcpTermination(line)} ${line}`;
}

test('server RST in the middle of the stream: the client gets what came before, then the cut; SD', async () => {
  await tcpCase('srvrst', async (from) => {
    const c = await FaultClient.connect(p.port('srvrst'));
    try {
      c.send('x');
      await c.waitClosed(3000);
      assert.equal(c.text, 'hello');
      assert.match(await termOf('srvrst', c, from), /^SD /);
    } finally {
      c.close();
    }
  });
});

// As HAProxy 2.6 (checked with the haproxy binary): the server's FIN ends the session, logged --;
// what the client sends afterwards is not forwarded.
test('server half-closes (FIN): the FIN reaches the client after the data, --', async () => {
  await tcpCase('srvfin', async (from) => {
    const c = await FaultClient.connect(p.port('srvfin'));
    try {
      await c.until(() => c.ended, 3000, 'the server FIN forwarded');
      assert.equal(c.text, 'bye');
      c.fin();
      await c.closed;
      assert.match(await termOf('srvfin', c, from), /^-- /);
    } finally {
      c.close();
    }
  });
});

test('client idle past timeout client: closed by the proxy, cD', async () => {
  await tcpCase('cliidle', async (from) => {
    const c = await FaultClient.connect(p.port('cliidle'));
    try {
      const t0 = Date.now();
      c.send('hi');
      await c.until(() => c.text === 'hi', 3000, 'echo');
      await c.waitClosed(3000);
      const ms = Date.now() - t0;
      assert.ok(ms >= 250 && ms < 1500, `closed after ${ms} ms (timeout client 300ms)`);
      assert.match(await termOf('cliidle', c, from), /^cD /);
    } finally {
      c.close();
    }
  });
});

test('server silent past timeout server: closed by the proxy, sD', async () => {
  await tcpCase('srvidle', async (from) => {
    const c = await FaultClient.connect(p.port('srvidle'));
    try {
      c.send('anyone?');
      await c.waitClosed(3000);
      assert.equal(c.received, 0);
      assert.match(await termOf('srvidle', c, from), /^sD /);
    } finally {
      c.close();
    }
  });
});

test('client RST in the middle of the stream: CD', async () => {
  await tcpCase('clirst', async (from) => {
    const c = await FaultClient.connect(p.port('clirst'));
    c.send('ping');
    await c.until(() => c.text === 'ping', 3000, 'echo');
    await sleep(20);
    c.rst();
    await c.closed;
    assert.match(await termOf('clirst', c, from), /^CD /);
  });
});

test('server refuses (closed port, retries 0): the client is closed, SC', async () => {
  await tcpCase('refused', async (from) => {
    const c = await FaultClient.connect(p.port('refused'));
    try {
      c.send('hello?');
      await c.waitClosed(3000);
      assert.equal(c.received, 0);
      assert.match(await termOf('refused', c, from), /^SC /);
    } finally {
      c.close();
    }
  });
});
