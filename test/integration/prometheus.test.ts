/**
 * `http-request use-service prometheus-exporter`: the main thread serves the metrics on its own
 * frontend; the exposition is parsed with a Prometheus text-format parser and checked against a
 * known traffic run.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { get, httpOrigin, ok, request } from '../helpers/http.ts';
import { closedPort, type Origin } from '../helpers/origins.ts';
import { cleanup, type RunningProxy, startProxy } from '../helpers/proxy.ts';

let p: RunningProxy;
let app: Origin;

before(async () => {
  app = await httpOrigin(() => ok('hello'));
  const dead = await closedPort();
  p = await startProxy(
    `
defaults
    mode http
    timeout connect 500ms
    timeout client 2s
    timeout server 2s
frontend prometheus
    bind 127.0.0.1:0
    http-request return status 200 content-type text/plain string ok if { path /ready }
    http-request use-service prometheus-exporter if { path /metrics }
listen web
    bind 127.0.0.1:0
    retries 0
    server s1 127.0.0.1:${app.port} pool-purge-delay 300ms
    server down 127.0.0.1:${dead} disabled
`,
    { threads: 2 },
  );
});

after(async () => {
  await cleanup(p, app);
});

const value = (families: ReturnType<typeof parsePrometheusTextFormat>, name: string, labels: Record<string, string>): number => {
  const f = families.find((x) => x.name === name);
  assert.ok(f, `no family ${name}`);
  const m = f.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  assert.ok(m, `no ${name}${JSON.stringify(labels)}`);
  return Number(m.value);
};

test('the metrics parse as Prometheus text and count a known run of traffic', async () => {
  for (let i = 0; i < 7; i++) assert.equal((await request(p.port('web'), get('/'))).status, 200);
  const r = await request(p.port('prometheus'), get('/metrics'));
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4');
  const families = parsePrometheusTextFormat(r.body);
  assert.equal(value(families, 'switchyard_frontend_sessions_total', { proxy: 'web' }), 7);
  assert.equal(value(families, 'switchyard_server_sessions_total', { proxy: 'web', server: 's1' }), 7);
  assert.equal(value(families, 'switchyard_server_status', { proxy: 'web', server: 's1' }), 1);
  assert.equal(value(families, 'switchyard_server_status', { proxy: 'web', server: 'down' }), 0);
  assert.equal(value(families, 'switchyard_backend_active_servers', { proxy: 'web' }), 1);
  assert.ok(value(families, 'switchyard_frontend_bytes_out_total', { proxy: 'web' }) > 0);
  assert.equal(value(families, 'switchyard_process_nbthread', {}), 2);
  const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
  assert.equal(types.switchyard_frontend_sessions_total, 'COUNTER');
  assert.equal(types.switchyard_server_current_sessions, 'GAUGE');
  // HAProxy's metric names with our prefix: a dashboard needs only the prefix changed
  for (const f of families) assert.match(f.name, /^switchyard_(process|frontend|backend|server)_[a-z_]+$/);
});

test('the service frontend answers its other rules, and 503 for anything else; it is not in the data path', async () => {
  assert.equal((await request(p.port('prometheus'), get('/ready'))).body, 'ok');
  assert.equal((await request(p.port('prometheus'), get('/other'))).status, 503);
  const stat = await p.cli('show stat');
  assert.doesNotMatch(stat, /^prometheus,/m, 'served by the main thread, not a data-path proxy');
});
