import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAcceptDate, formatTcpLog, frameRfc3164 } from '../../src/log/format.ts';

test('tcplog line has HAProxy field order and spacing', () => {
  const date = new Date(2026, 10, 25, 6, 58, 40, 120).getTime();
  const line = formatTcpLog({
    clientIp: '127.0.0.1',
    clientPort: 34682,
    acceptDate: date,
    frontend: 'victim',
    backend: 'victim',
    server: 's1',
    tw: 0,
    tc: 1,
    tt: 53,
    bytesRead: 212,
    termination: '--',
    actconn: 3,
    feconn: 2,
    beconn: 1,
    srvconn: 1,
    retries: 0,
    redispatched: false,
    srvQueue: 0,
    backendQueue: 0,
  });
  assert.equal(line, '127.0.0.1:34682 [25/Nov/2026:06:58:40.120] victim victim/s1 0/1/53 212 -- 3/2/1/1/0 0/0');
  assert.equal(formatAcceptDate(new Date(2026, 0, 5, 1, 2, 3, 4).getTime()), '05/Jan/2026:01:02:03.004');
});

test('a redispatched session shows its retries with a +', () => {
  const line = formatTcpLog({
    clientIp: '::1', clientPort: 1, acceptDate: 0, frontend: 'f', backend: 'b', server: '<NOSRV>',
    tw: -1, tc: -1, tt: 3, bytesRead: 0, termination: 'SC', actconn: 0, feconn: 0, beconn: 0, srvconn: 0,
    retries: 3, redispatched: true, srvQueue: 0, backendQueue: 0,
  });
  assert.match(line, / f b\/<NOSRV> -1\/-1\/3 0 SC 0\/0\/0\/0\/\+3 0\/0$/);
});

test('RFC 3164 framing', () => {
  const s = frameRfc3164('hello', 16, 6, 'switchyard', 42, new Date(2026, 10, 5, 7, 8, 9));
  assert.equal(s, '<134>Nov  5 07:08:09 switchyard[42]: hello');
});
