import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileLogFormat, formatHttpLog, formatJsonLog, formatAcceptDate, formatTcpLog, frameRfc3164 } from '../../src/log/format.ts';
import type { TcpLogFields } from '../../src/log/log.types.ts';

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
    frontendIp: '127.0.0.1',
    frontendPort: 8002,
    serverIp: '127.0.0.1',
    serverPort: 8000,
    bytesUploaded: 129,
  });
  assert.equal(line, '127.0.0.1:34682 [25/Nov/2026:06:58:40.120] victim victim/s1 0/1/53 212 -- 3/2/1/1/0 0/0');
  assert.equal(formatAcceptDate(new Date(2026, 0, 5, 1, 2, 3, 4).getTime()), '05/Jan/2026:01:02:03.004');
});

test('a redispatched session shows its retries with a +', () => {
  const line = formatTcpLog({
    clientIp: '::1', clientPort: 1, acceptDate: 0, frontend: 'f', backend: 'b', server: '<NOSRV>',
    tw: -1, tc: -1, tt: 3, bytesRead: 0, termination: 'SC', actconn: 0, feconn: 0, beconn: 0, srvconn: 0,
    retries: 3, redispatched: true, srvQueue: 0, backendQueue: 0,
    frontendIp: '::1', frontendPort: 80, serverIp: '', serverPort: 0, bytesUploaded: 0,
  });
  assert.match(line, / f b\/<NOSRV> -1\/-1\/3 0 SC 0\/0\/0\/0\/\+3 0\/0$/);
});

test('RFC 3164 framing', () => {
  const s = frameRfc3164('hello', 16, 6, 'switchyard', 42, new Date(2026, 10, 5, 7, 8, 9));
  assert.equal(s, '<134>Nov  5 07:08:09 switchyard[42]: hello');
});

const fields: TcpLogFields = {
  clientIp: '10.0.0.1', clientPort: 5000, acceptDate: new Date(2026, 10, 25, 6, 58, 40, 120).getTime(),
  frontend: 'fe', backend: 'be', server: 's1', tw: 1, tc: 2, tt: 30, bytesRead: 100, termination: 'SD',
  actconn: 4, feconn: 3, beconn: 2, srvconn: 1, retries: 1, redispatched: true, srvQueue: 0, backendQueue: 5,
  frontendIp: '10.0.0.254', frontendPort: 443, serverIp: '10.0.1.1', serverPort: 8080, bytesUploaded: 42,
};

test('log-format: HAProxy variables, literal text, %% and flags', () => {
  const f = compileLogFormat('%ci:%cp>%fi:%fp %f/%ft %b/%s@%si:%sp %Tw/%Tc/%Tt %B/%U %ts %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq 100%% %{+Q}ci');
  assert.equal(typeof f, 'function');
  assert.equal(
    (f as (x: TcpLogFields) => string)(fields),
    '10.0.0.1:5000>10.0.0.254:443 fe/fe be/s1@10.0.1.1:8080 1/2/30 100/42 SD SD-- 4/3/2/1/+1 0/5 100% "10.0.0.1"',
  );
  const t = compileLogFormat('[%t] %pid');
  assert.match((t as (x: TcpLogFields) => string)(fields), /^\[25\/Nov\/2026:06:58:40\.120\] \d+$/);
});

test('log-format: unknown variables and sample fetches are refused with their name', () => {
  assert.equal(compileLogFormat('%zz'), "log-format: unknown variable '%zz'");
  assert.equal(compileLogFormat('%[src]'), 'log-format: sample fetches (%[...]) are not supported yet');
  assert.equal(compileLogFormat('%{+Q'), "log-format: missing '}' after '%{'");
});

test('the tcplog line is the log-format of HAProxy\'s tcplog string', () => {
  assert.equal(formatTcpLog(fields), '10.0.0.1:5000 [25/Nov/2026:06:58:40.120] fe be/s1 1/2/30 100 SD 4/3/2/1/+1 0/5');
});

test('httplog: HAProxy HTTP_LOG line, empty captures collapse to one space, request line quoted', () => {
  const http = {
    requestDate: new Date(2026, 10, 25, 6, 58, 40, 125).getTime(),
    ti: 0,
    tR: 1,
    tr: 7,
    ta: 12,
    status: 200,
    requestLine: 'GET /a?b=1 HTTP/1.1',
    method: 'GET',
    uri: '/a?b=1',
    version: 'HTTP/1.1',
  };
  assert.equal(
    formatHttpLog({ ...fields, termination: '--', redispatched: false, retries: 0, http }),
    '10.0.0.1:5000 [25/Nov/2026:06:58:40.125] fe be/s1 1/1/2/7/12 200 100 - - ---- 4/3/2/1/0 0/5 "GET /a?b=1 HTTP/1.1"',
  );
  const f = compileLogFormat('%HM %HP %HQ %HV %ST %Ta %{+Q}r') as (x: TcpLogFields) => string;
  assert.equal(f({ ...fields, http }), 'GET /a ?b=1 HTTP/1.1 200 12 "GET /a?b=1 HTTP/1.1"');
  // a TCP session in an HTTP format: HAProxy's placeholders
  assert.equal(f(fields), '-1 30 "<BADREQ>"');
});

test('jsonlog: the same fields as one JSON object, HTTP ones when the line is a request', () => {
  const tcp = JSON.parse(formatJsonLog(fields)) as Record<string, unknown>;
  assert.equal(tcp.client_ip, '10.0.0.1');
  assert.equal(tcp.termination_state, 'SD');
  assert.equal(tcp.status, undefined);
  const http = { requestDate: fields.acceptDate, ti: 0, tR: 1, tr: 2, ta: 3, status: 404, requestLine: 'GET /x HTTP/1.1', method: 'GET', uri: '/x', version: 'HTTP/1.1' };
  const o = JSON.parse(formatJsonLog({ ...fields, termination: '--', http })) as Record<string, unknown>;
  assert.deepEqual([o.status, o.termination_state, o.request, o.Tr, o.backend, o.server], [404, '----', 'GET /x HTTP/1.1', 2, 'be', 's1']);
});
