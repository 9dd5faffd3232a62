/**
 * `show stat` read by a real CSV parser (csv-parse), after a known HTTP traffic run: eight
 * requests of known sizes through a frontend to a backend of two servers on raw origins, one to a
 * backend whose server refuses connections, one denied. Every counter is checked for an exact
 * value: sessions, requests, status classes, bytes to the byte on each side, load-balancing picks,
 * connection errors, and what stays at zero.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { type RawRequest, httpOrigin } from '../helpers/http.ts';
import { closedPort, exchange } from '../helpers/origins.ts';
import { cleanup, startProxy } from '../helpers/proxy.ts';
import { STAT_COLUMNS } from '../../src/runtime-api/stat.ts';

/** An origin that answers by path, its body naming it. */
const site = (name: string) =>
  httpOrigin((req: RawRequest) => {
    const [status, body] = req.target === '/missing' ? ['404 Not Found', 'no such page\n'] : req.target === '/broken' ? ['500 Internal Server Error', 'oops\n'] : ['200 OK', `hello from ${name}\n`];
    return `HTTP/1.1 ${status}\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  });

test('show stat CSV, parsed by csv-parse: exact counters after a known HTTP traffic run', async () => {
  const s1 = await site('s1');
  const s2 = await site('s2');
  const dead = await closedPort();
  const p = await startProxy(`
defaults
    mode http
    option http-server-close
    retries 0
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:0
    maxconn 300
    http-request deny if { path /deny }
    use_backend dead if { path /dead }
    default_backend be
backend be
    balance roundrobin
    server s1 127.0.0.1:${s1.port} maxconn 10 maxqueue 20
    server s2 127.0.0.1:${s2.port} weight 3
backend dead
    server d1 127.0.0.1:${dead}
`);
  try {
    const post = 'x'.repeat(100);
    const requests = [
      'GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n',
      'GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n',
      'GET /missing HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n',
      `POST /broken HTTP/1.1\r\nhost: test\r\nconnection: close\r\ncontent-length: ${post.length}\r\n\r\n${post}`,
      'GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n',
      'GET / HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n',
      'GET /dead HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n',
      'GET /deny HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n',
    ];
    const answers: string[] = [];
    for (const r of requests) {
      const { data, error } = await exchange(p.port('fe'), r, { end: false });
      assert.equal(error, undefined);
      answers.push(data);
    }
    const statuses = answers.map((a) => a.slice(9, 12));
    const toClients = answers.reduce((n, a) => n + Buffer.byteLength(a, 'latin1'), 0);
    // weights 1 and 3, smooth weighted round robin: s2, s1, s2, s2, then s2, s1 — s1 gets the
    // second and the sixth request (two 200s), s2 the first and fifth (200s), the 404 and the 500
    assert.deepEqual(statuses, ['200', '200', '404', '500', '200', '200', '503', '403']);
    const servedBy = ['s2', 's1', 's2', 's2', 's2', 's1'];
    for (const [i, a] of answers.entries()) if (statuses[i] === '200') assert.ok(a.endsWith(`hello from ${servedBy[i]}\n`), `request ${i + 1} went to ${servedBy[i]}`);
    // a server's bin and bout are those of its transactions on the client side, as HAProxy counts
    const bytesOf = (name: string) => ({
      bin: String(servedBy.reduce((n, sv, i) => n + (sv === name ? Buffer.byteLength(requests[i] ?? '') : 0), 0)),
      bout: String(servedBy.reduce((n, sv, i) => n + (sv === name ? Buffer.byteLength(answers[i] ?? '', 'latin1') : 0), 0)),
    });
    await p.waitLog(/ fe fe\/<NOSRV> /); // the denied request is the last one logged

    const text = await p.cli('show stat');
    const rows = parse(text.replace(/^# /, ''), { columns: true, skip_empty_lines: true, relax_column_count: false }) as Array<Record<string, string>>;
    const header = Object.keys(rows[0] ?? {});
    assert.deepEqual(header, [...STAT_COLUMNS, ''], "HAProxy's columns, each line ending with a comma");
    const row = (px: string, sv: string): Record<string, string> => {
      const r = rows.find((x) => x.pxname === px && x.svname === sv);
      assert.ok(r, `a row for ${px}/${sv}`);
      return r;
    };
    assert.deepEqual(
      rows.map((r) => `${r.pxname}/${r.svname}`),
      ['fe/FRONTEND', 'be/s1', 'be/s2', 'be/BACKEND', 'dead/d1', 'dead/BACKEND'],
    );
    const pick = (r: Record<string, string>, cols: readonly string[]) => Object.fromEntries(cols.map((c) => [c, r[c]]));
    const HTTP = ['req_tot', 'hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other'];
    const sentByClients = requests.reduce((n, r) => n + Buffer.byteLength(r), 0);

    const fe = row('fe', 'FRONTEND');
    assert.deepEqual(pick(fe, ['scur', 'slim', 'stot', 'conn_tot', 'bin', 'bout', 'dreq', 'status', 'type', 'mode', ...HTTP]), {
      scur: '0', slim: '300', stot: '8', conn_tot: '8', bin: String(sentByClients), bout: String(toClients), dreq: '1', status: 'OPEN', type: '0', mode: 'http',
      req_tot: '8', hrsp_1xx: '0', hrsp_2xx: '4', hrsp_3xx: '0', hrsp_4xx: '2', hrsp_5xx: '2', hrsp_other: '0',
    });

    const srv = (r: Record<string, string>) => pick(r, ['scur', 'qcur', 'stot', 'lbtot', 'econ', 'wretr', 'wredis', 'status', 'weight', 'act', 'bck', 'slim', 'qlimit', 'sid', 'type', ...HTTP]);
    assert.deepEqual(srv(row('be', 's1')), {
      scur: '0', qcur: '0', stot: '2', lbtot: '2', econ: '0', wretr: '0', wredis: '0', status: 'no check', weight: '1', act: '1', bck: '0', slim: '10', qlimit: '20', sid: '1', type: '2',
      req_tot: '2', hrsp_1xx: '0', hrsp_2xx: '2', hrsp_3xx: '0', hrsp_4xx: '0', hrsp_5xx: '0', hrsp_other: '0',
    });
    assert.deepEqual(srv(row('be', 's2')), {
      scur: '0', qcur: '0', stot: '4', lbtot: '4', econ: '0', wretr: '0', wredis: '0', status: 'no check', weight: '3', act: '1', bck: '0', slim: '', qlimit: '', sid: '2', type: '2',
      req_tot: '4', hrsp_1xx: '0', hrsp_2xx: '2', hrsp_3xx: '0', hrsp_4xx: '1', hrsp_5xx: '1', hrsp_other: '0',
    });
    assert.deepEqual(pick(row('be', 's1'), ['bin', 'bout']), bytesOf('s1'));
    assert.deepEqual(pick(row('be', 's2'), ['bin', 'bout']), bytesOf('s2'));

    const be = row('be', 'BACKEND');
    assert.deepEqual(pick(be, ['scur', 'qcur', 'lbtot', 'econ', 'status', 'weight', 'act', 'bck', 'algo', 'type', ...HTTP]), {
      scur: '0', qcur: '0', lbtot: '6', econ: '0', status: 'UP', weight: '4', act: '2', bck: '0', algo: 'roundrobin', type: '1',
      req_tot: '6', hrsp_1xx: '0', hrsp_2xx: '4', hrsp_3xx: '0', hrsp_4xx: '1', hrsp_5xx: '1', hrsp_other: '0',
    });
    // the refused server: one connection error, no retry (retries 0), no response from it
    assert.deepEqual(pick(row('dead', 'd1'), ['scur', 'lbtot', 'econ', 'wretr', 'status', ...HTTP]), {
      scur: '0', lbtot: '1', econ: '1', wretr: '0', status: 'no check', req_tot: '0', hrsp_1xx: '0', hrsp_2xx: '0', hrsp_3xx: '0', hrsp_4xx: '0', hrsp_5xx: '0', hrsp_other: '0',
    });
    assert.deepEqual(pick(row('dead', 'BACKEND'), ['scur', 'stot', 'lbtot', 'econ', 'status', ...HTTP]), {
      scur: '0', stot: '1', lbtot: '1', econ: '1', status: 'UP', req_tot: '1', hrsp_1xx: '0', hrsp_2xx: '0', hrsp_3xx: '0', hrsp_4xx: '0', hrsp_5xx: '1', hrsp_other: '0',
    });

    // clear counters all: the totals go back to zero
    await p.cli('clear counters all');
    const cleared = parse((await p.cli('show stat')).replace(/^# /, ''), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
    const feAfter = cleared.find((r) => r.svname === 'FRONTEND') ?? {};
    assert.deepEqual(pick(feAfter, ['stot', 'bin', 'bout', 'dreq', 'req_tot', 'hrsp_2xx']), { stot: '0', bin: '0', bout: '0', dreq: '0', req_tot: '0', hrsp_2xx: '0' });
  } finally {
    await cleanup(p, s1, s2);
  }
});
