/**
 * `show stat typed|json` and `show info typed|json` against HAProxy 2.6: the same config (a
 * frontend and a backend of two servers in mode http, a listen proxy in mode tcp) and the same
 * traffic on both. Every field switchyard reports, HAProxy reports for the same object with the
 * same position, name, tags and value type; the fields HAProxy reports and switchyard does not are
 * exactly the counters switchyard does not keep (listed below, so that a new counter updates the
 * list); the values agree for the counters both keep. JSON is read with JSON.parse, and says the
 * same as the typed lines.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, startHaproxy } from '../helpers/haproxy.ts';
import { type RawRequest, httpOrigin, request } from '../helpers/http.ts';
import { echo, exchange } from '../helpers/origins.ts';
import { cleanup, cliCommand, eventually, startProxy } from '../helpers/proxy.ts';

/** One field of typed output (or of JSON, brought to the same shape). */
interface Field {
  readonly key: string; // `F.2.0` (object) or '' (show info)
  readonly pos: number;
  readonly name: string;
  readonly proc: number;
  readonly tags: string;
  readonly type: string;
  readonly value: string;
}

const TYPED = /^(?:([FBLS])\.(\d+)\.(\d+)\.)?(\d+)\.(.+?)\.(\d+):([A-Za-z]{3}):(s32|u32|s64|u64|str|flt):(.*)$/;

function parseTyped(text: string): Field[] {
  assert.ok(text.endsWith('\n\n'), 'the reply ends with an empty line');
  return text
    .slice(0, -1)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = TYPED.exec(l);
      assert.ok(m, `a typed line: ${l}`);
      return { key: m[1] ? `${m[1]}.${m[2]}.${m[3]}` : '', pos: Number(m[4]), name: m[5] as string, proc: Number(m[6]), tags: m[7] as string, type: m[8] as string, value: m[9] as string };
    });
}

// the words of JSON's tags, as HAProxy 2.6 prints them, to the letters of its typed output
const ORIGIN: Record<string, string> = { Metric: 'M', Status: 'S', Key: 'K', Config: 'C', Product: 'P' };
const NATURE: Record<string, string> = { Age: 'A', Avg: 'a', Counter: 'C', Duration: 'D', Gauge: 'G', Limit: 'L', Max: 'M', Name: 'N', Output: 'O', Rate: 'R', Time: 'T' };
const SCOPE: Record<string, string> = { Process: 'P', Service: 'S', System: 's' };
const OBJ: Record<string, string> = { Frontend: 'F', Backend: 'B', Listener: 'L', Server: 'S' };

interface JsonField {
  objType?: string;
  proxyId?: number;
  id?: number;
  field: { pos: number; name: string };
  processNum: number;
  tags: { origin: string; nature: string; scope: string };
  value: { type: string; value: string | number };
}

function fromJson(f: JsonField): Field {
  const tags = `${ORIGIN[f.tags.origin] ?? '?'}${NATURE[f.tags.nature] ?? '?'}${SCOPE[f.tags.scope] ?? '?'}`;
  assert.equal(typeof f.value.value, f.value.type === 'str' ? 'string' : 'number', `${f.field.name}: a ${f.value.type} is a JSON ${f.value.type === 'str' ? 'string' : 'number'}`);
  return {
    key: f.objType === undefined ? '' : `${OBJ[f.objType] ?? '?'}.${f.proxyId}.${f.id}`,
    pos: f.field.pos,
    name: f.field.name,
    proc: f.processNum,
    tags,
    type: f.value.type,
    value: String(f.value.value),
  };
}

/** `show stat json`: an array of objects, each an array of fields of that object. */
function parseStatJson(text: string): Field[] {
  const objects = JSON.parse(text) as JsonField[][];
  assert.ok(Array.isArray(objects) && objects.every(Array.isArray), 'an array of arrays');
  return objects.flatMap((o) => {
    const fields = o.map(fromJson);
    assert.equal(new Set(fields.map((f) => f.key)).size, 1, 'one object per inner array');
    return fields;
  });
}

const parseInfoJson = (text: string): Field[] => (JSON.parse(text) as JsonField[]).map(fromJson);

const id = (f: Field): string => `${f.key}.${f.pos}.${f.name}`;
const meta = (f: Field): string => `${id(f)}.${f.proc}:${f.tags}:${f.type}`;

/** Fields of HAProxy's answer switchyard leaves empty (it keeps no such counter), by object type. */
const NOT_KEPT: Record<string, readonly string[]> = {
  F: ['req_rate', 'req_rate_max', 'comp_in', 'comp_out', 'comp_byp', 'comp_rsp', 'intercepted', 'dcon', 'dses', 'wrew', 'cache_lookups', 'cache_hits', 'eint', 'ssl_sess', 'ssl_reused_sess', 'ssl_failed_handshake', 'h2_headers_rcvd', 'h2_data_rcvd', 'h2_settings_rcvd', 'h2_rst_stream_rcvd', 'h2_goaway_rcvd', 'h2_detected_conn_protocol_errors', 'h2_detected_strm_protocol_errors', 'h2_rst_stream_resp', 'h2_goaway_resp', 'h2_open_connections', 'h2_backend_open_streams', 'h2_total_connections', 'h2_backend_total_streams', 'h1_open_connections', 'h1_open_streams', 'h1_total_connections', 'h1_total_streams', 'h1_bytes_in', 'h1_bytes_out', 'h1_spliced_bytes_in', 'h1_spliced_bytes_out'],
  B: ['comp_in', 'comp_out', 'comp_byp', 'comp_rsp', 'wrew', 'connect', 'reuse', 'cache_lookups', 'cache_hits', 'qtime_max', 'ctime_max', 'rtime_max', 'ttime_max', 'eint', 'uweight', 'agg_server_status', 'agg_server_check_status', 'agg_check_status', 'ssl_sess', 'ssl_reused_sess', 'ssl_failed_handshake', 'h2_headers_rcvd', 'h2_data_rcvd', 'h2_settings_rcvd', 'h2_rst_stream_rcvd', 'h2_goaway_rcvd', 'h2_detected_conn_protocol_errors', 'h2_detected_strm_protocol_errors', 'h2_rst_stream_resp', 'h2_goaway_resp', 'h2_open_connections', 'h2_backend_open_streams', 'h2_total_connections', 'h2_backend_total_streams', 'h1_open_connections', 'h1_open_streams', 'h1_total_connections', 'h1_total_streams', 'h1_bytes_in', 'h1_bytes_out', 'h1_spliced_bytes_in', 'h1_spliced_bytes_out'],
  S: ['wrew', 'connect', 'reuse', 'srv_icur', 'qtime_max', 'ctime_max', 'rtime_max', 'ttime_max', 'eint', 'idle_conn_cur', 'safe_conn_cur', 'used_conn_cur', 'need_conn_est', 'ssl_sess', 'ssl_reused_sess', 'ssl_failed_handshake'],
};

/** Counters both keep, compared by value (times, ages and rates are not). */
const SAME_VALUE = new Set(['pxname', 'svname', 'qcur', 'scur', 'slim', 'stot', 'bin', 'bout', 'dreq', 'dresp', 'ereq', 'econ', 'eresp', 'wretr', 'wredis', 'status', 'weight', 'act', 'bck', 'qlimit', 'pid', 'iid', 'sid', 'lbtot', 'type', 'rate_lim', 'hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other', 'req_tot', 'cli_abrt', 'srv_abrt', 'addr', 'mode', 'algo', 'conn_tot']);

/**
 * Where switchyard counts differently, on purpose or not yet: it counts a backend session when the
 * connection is accepted, before the http-request rules (the denied request is in it); HAProxy
 * once the backend is assigned.
 */
const KNOWN_DIFFERENT = ['B.3.0.7.stot: switchyard 6, HAProxy 5'];

test('show stat typed and json: the same objects, fields, tags, types and counters as HAProxy 2.6', async () => {
  const answers: Record<string, string> = { '/': '200 OK', '/missing': '404 Not Found', '/broken': '500 Internal Server Error' };
  const web = await httpOrigin((req: RawRequest) => {
    const status = answers[req.target] ?? '200 OK';
    const body = `answer to ${req.target}\n`;
    return `HTTP/1.1 ${status}\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  });
  const tcp = await echo();
  const [fePort, tcpPort] = [await freePort(), await freePort()];
  const config = (stats: string) => `
global
    maxconn 1000
    stats socket ${stats} level admin
defaults
    mode http
    option http-server-close
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:${fePort}
    maxconn 500
    http-request deny if { path /deny }
    default_backend be
backend be
    server s1 127.0.0.1:${web.port}
    server s2 127.0.0.1:${web.port} maxconn 5 maxqueue 7
listen tcpx
    mode tcp
    bind 127.0.0.1:${tcpPort}
    server t1 127.0.0.1:${tcp.port}
`;
  const paths = ['/', '/missing', '/', '/broken', '/deny', '/'];
  const traffic = async () => {
    for (const p of paths) await request(fePort, `GET ${p} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n`);
    for (let i = 0; i < 3; i++) assert.equal((await exchange(tcpPort, 'hello')).data, 'hello');
  };
  const commands = ['show stat typed', 'show stat json', 'show info typed', 'show info json', 'show stat be 4 2 typed', 'show stat json typed', 'show stat nope -1 -1', 'show stat typed nope'];
  const hapSock = `/tmp/sy-hap-typed-${process.pid}.sock`;
  const hap = await startHaproxy(config(hapSock), fePort);
  const h: Record<string, string> = {};
  try {
    await traffic();
    await new Promise((r) => setTimeout(r, 300));
    for (const c of commands) h[c] = await cliCommand(hapSock, c);
  } finally {
    await hap.stop();
  }
  const p = await startProxy(config('@STATS@'), { threads: 1 });
  const s: Record<string, string> = {};
  try {
    await traffic();
    await eventually(() => p.logs.length >= paths.length + 3, 3000, 'all sessions logged');
    for (const c of commands) s[c] = await p.cli(c);
  } finally {
    await cleanup(p, web, tcp);
  }

  const hTyped = parseTyped(h['show stat typed'] ?? '');
  const sTyped = parseTyped(s['show stat typed'] ?? '');
  // the same objects in the same order
  const objects = (fs: Field[]) => [...new Set(fs.map((f) => f.key))];
  assert.deepEqual(objects(sTyped), objects(hTyped));
  assert.deepEqual(objects(sTyped), ['F.2.0', 'S.3.1', 'S.3.2', 'B.3.0', 'F.4.0', 'S.4.1', 'B.4.0']);
  // every switchyard field is one of HAProxy's, with the same tags and type; positions ascend
  const hByKey = new Map(hTyped.map((f) => [id(f), f]));
  const httpObject = new Set(hTyped.filter((f) => f.name === 'mode' && f.value === 'http').map((f) => f.key));
  const differ: string[] = [];
  for (const f of sTyped) {
    const hf = hByKey.get(id(f));
    assert.ok(hf, `HAProxy has ${id(f)} too`);
    assert.equal(meta(f), meta(hf), `${id(f)}: tags and type`);
    // HAProxy counts HTTP bytes as its HTX layer sees them: not comparable byte for byte
    const bytes = f.name === 'bin' || f.name === 'bout';
    if (SAME_VALUE.has(f.name) && !(bytes && httpObject.has(f.key)) && f.value !== hf.value) differ.push(`${id(f)}: switchyard ${f.value}, HAProxy ${hf.value}`);
  }
  assert.deepEqual(differ, KNOWN_DIFFERENT, 'the same counters');
  for (const k of objects(sTyped)) {
    const pos = sTyped.filter((f) => f.key === k).map((f) => f.pos);
    assert.deepEqual(pos, [...pos].sort((a, b) => a - b), `${k}: fields in position order`);
  }
  // what HAProxy has and switchyard does not: the counters it does not keep, nothing else
  const sIds = new Set(sTyped.map(id));
  for (const k of objects(hTyped)) {
    const missing = hTyped.filter((f) => f.key === k && !sIds.has(id(f))).map((f) => f.name);
    const type = k[0] as string;
    const mode = hTyped.find((f) => f.key === k && f.name === 'mode')?.value;
    // in mode http HAProxy fills these for a frontend too; in mode tcp it leaves them empty
    const expected = (NOT_KEPT[type] ?? []).filter((n) => mode === 'http' || !['intercepted', 'cache_lookups', 'cache_hits'].includes(n));
    assert.deepEqual(missing, expected, `${k}: the fields switchyard leaves empty`);
  }
  // the traffic is in the counters (a test of the comparison itself)
  const value = (fs: Field[], k: string, n: string) => fs.find((f) => f.key === k && f.name === n)?.value;
  assert.deepEqual(
    ['req_tot', 'hrsp_2xx', 'hrsp_4xx', 'hrsp_5xx'].map((n) => value(sTyped, 'F.2.0', n)),
    ['6', '3', '2', '1'],
  );
  assert.equal(value(sTyped, 'B.3.0', 'req_tot'), '5');
  assert.equal(value(sTyped, 'S.4.1', 'stot'), '3');

  // JSON: parsed, the same fields as the typed lines of the same proxy
  for (const [who, out, typed] of [['HAProxy', h, hTyped], ['switchyard', s, sTyped]] as const) {
    const json = out['show stat json'] ?? '';
    assert.ok(json.endsWith(']\n\n'), `${who}: one JSON text, then the empty line`);
    const fromJ = parseStatJson(json);
    assert.deepEqual(fromJ.map(meta), typed.map(meta), `${who}: json and typed carry the same fields`);
    const counters = (fs: Field[]) => fs.filter((f) => SAME_VALUE.has(f.name)).map((f) => `${id(f)}=${f.value}`);
    assert.deepEqual(counters(fromJ), counters(typed), `${who}: and the same counters`);
  }

  // show info: HAProxy's fields at HAProxy's positions with its tags, switchyard's own after them
  const hInfo = parseTyped(h['show info typed'] ?? '');
  const sInfo = parseTyped(s['show info typed'] ?? '');
  assert.deepEqual(sInfo.slice(0, hInfo.length).map(meta), hInfo.map(meta));
  const own = sInfo.slice(hInfo.length);
  assert.ok(own.length > 0 && own.every((f, i) => f.pos === 72 + i), 'own fields from position 72 on');
  for (const n of ['Nbproc', 'Process_num', 'CurrConns', 'Stopping']) {
    assert.equal(sInfo.find((f) => f.name === n)?.value, hInfo.find((f) => f.name === n)?.value, n);
  }
  for (const [who, out, typed] of [['HAProxy', h, hInfo], ['switchyard', s, sInfo]] as const) {
    const fromJ = parseInfoJson(out['show info json'] ?? '');
    assert.deepEqual(fromJ.map(meta), typed.map(meta), `${who}: show info json and typed carry the same fields`);
  }

  // a scope (one server), the last format word winning, an unknown word (ignored): each proxy
  // answers as it did for plain `show stat typed`, the scope with that server's object only
  const keys = (t: string) => parseTyped(t).map(meta);
  for (const [out, typed] of [[h, hTyped], [s, sTyped]] as const) {
    assert.deepEqual(keys(out['show stat be 4 2 typed'] ?? ''), typed.filter((f) => f.key === 'S.3.2').map(meta));
    assert.deepEqual(keys(out['show stat json typed'] ?? ''), typed.map(meta));
    assert.deepEqual(keys(out['show stat typed nope'] ?? ''), typed.map(meta));
  }
  assert.equal(s['show stat nope -1 -1'], h['show stat nope -1 -1']);
  assert.equal(s['show stat nope -1 -1'], 'No such proxy.\n\n');
});
