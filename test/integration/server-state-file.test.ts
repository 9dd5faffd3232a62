/**
 * Server state across a reload: the operator saves `show servers state` to the server-state-file,
 * the new process reads it (`load-server-state-from-file global`) and keeps maintenance, drain and
 * weights — the weight only where the configured weight did not change, as HAProxy does.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { named } from '../helpers/origins.ts';
import { cleanup, startProxy } from '../helpers/proxy.ts';

test('a saved server state survives a restart; a changed weight in the config wins', async () => {
  const a = await named('A');
  const b = await named('B');
  const c = await named('C');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-state-'));
  const config = (bWeight: number) => `
global
    server-state-base ${dir}
    server-state-file switchyard.state
defaults
    mode tcp
    load-server-state-from-file global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen app
    bind 127.0.0.1:0
    server a 127.0.0.1:${a.port}
    server b 127.0.0.1:${b.port} weight ${bWeight}
    server c 127.0.0.1:${c.port} weight 4
`;
  try {
    const first = await startProxy(config(2));
    try {
      await first.cli('disable server app/a');
      await first.cli('set server app/b weight 7');
      await first.cli('set server app/c state drain');
      fs.writeFileSync(path.join(dir, 'switchyard.state'), (await first.cli('show servers state')).trimEnd() + '\n');
    } finally {
      await cleanup(first);
    }
    const row = (out: string, srv: string) => out.split('\n').find((l) => l.split(' ')[3] === srv)?.split(' ') ?? [];
    const second = await startProxy(config(2));
    try {
      const out = await second.cli('show servers state app');
      assert.equal(row(out, 'a')[6], '1', 'a is still in maintenance');
      assert.equal(row(out, 'b')[7], '7', 'b keeps the weight set at run time');
      assert.equal(row(out, 'c')[6], '8', 'c is still draining');
    } finally {
      await cleanup(second);
    }
    const third = await startProxy(config(5));
    try {
      const out = await third.cli('show servers state app');
      assert.equal(row(out, 'b')[7], '5', 'the configured weight changed: the config wins');
      assert.equal(row(out, 'a')[6], '1');
    } finally {
      await cleanup(third);
    }
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
