/**
 * Every configuration keyword's happy path, HAProxy's section rules, `defaults` inheritance, and
 * the exact text of each error and warning.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Config, ProxySettings } from '../../src/config/config.types.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { helpText, keywords } from '../../src/config/keywords.ts';
import { defaultSettings, parseConfig } from '../../src/config/parse.ts';

const parse = (text: string): Config => parseConfig([{ name: 'k.cfg', text }]);

function errorsOf(text: string): string[] {
  try {
    parse(text);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.diagnostics.map((d) => `${d.file}:${d.line}: ${d.message}`);
  }
  assert.fail('expected a ConfigError');
}

const warningsOf = (text: string): string[] => parse(text).warnings.map((w) => `${w.file}:${w.line}: ${w.message}`);

/** The settings of backend `b` after the given lines (timeouts set so that nothing warns). */
function backendSettings(lines: string): ProxySettings {
  const cfg = parse(`backend b\n    timeout connect 1s\n    timeout server 1s\n${lines}\n    server s 127.0.0.1:1\n`);
  return (cfg.backends[0] as Config['backends'][number]).settings;
}

/** The settings of frontend `f` after the given lines. */
function frontendSettings(lines: string): ProxySettings {
  const cfg = parse(`frontend f\n    bind :1\n    timeout client 1s\n${lines}\n`);
  return (cfg.frontends[0] as Config['frontends'][number]).settings;
}

// ---- happy paths, keyword by keyword --------------------------------------------------------------

/**
 * One line per keyword of the table, with what it must produce. The last test checks this table
 * covers the keyword table, so that a new keyword comes with its test.
 */
const happy: Record<string, () => void> = {
  nbthread: () => assert.equal(parse('global\n    nbthread 4\n').global.nbthread, 4),
  maxconn: () => {
    assert.equal(parse('global\n    maxconn 100\n').global.maxconn, 100);
    assert.equal(frontendSettings('    maxconn 50').maxconn, 50);
    assert.equal(parse('defaults\n    maxconn 7\nlisten l\n    bind :1\n    server s 127.0.0.1:1\n').frontends[0]?.settings.maxconn, 7);
  },
  'hard-stop-after': () => assert.equal(parse('global\n    hard-stop-after 2m\n').global.hardStopAfter, 120_000),
  'thread-groups': () => {
    assert.equal(parse('global\n    thread-groups 1\n').warnings.length, 0);
    assert.deepEqual(errorsOf('global\n    thread-groups 2\n'), ["k.cfg:2: 'thread-groups' value must be between 1 and 1 (was 2)"]);
  },
  'tune.idle-pool.shared': () => {
    assert.deepEqual(parse('global\n    tune.idle-pool.shared off\n').warnings, []);
    assert.equal(parse('global\n    tune.idle-pool.shared on\n').warnings.length, 1);
    assert.deepEqual(errorsOf('global\n    tune.idle-pool.shared maybe\n'), ["k.cfg:2: 'tune.idle-pool.shared' expects either 'on' or 'off' but got 'maybe'."]);
  },
  'tune.buffers.limit': () => {
    assert.equal(parse('global\n    tune.buffers.limit 100\n').global.buffersLimit, 100);
    // a limit that leaves no stream's 2 buffers beyond the reserve is raised to reserve + 2, and said
    const text = 'global\n    tune.buffers.reserve 4\n    tune.buffers.limit 5\n';
    assert.equal(parse(text).global.buffersLimit, 6);
    assert.deepEqual(warningsOf(text), ["k.cfg:3: tune.buffers.limit 5 leaves no stream's 2 buffers beyond tune.buffers.reserve 4: raised to 6"]);
    assert.deepEqual(warningsOf('global\n    tune.buffers.limit 4\n'), [], 'the default reserve 2 and one stream: enough');
  },
  'tune.buffers.reserve': () => {
    assert.equal(parse('global\n    tune.buffers.reserve 8\n').global.buffersReserve, 8);
    assert.throws(() => parse('global\n    tune.buffers.reserve 1\n'), /k\.cfg:2: tune\.buffers\.reserve/);
  },
  'stats socket': () => {
    const g = parse(
      [
        'global',
        '    stats socket /run/sy.sock',
        '    stats socket unix@rel.sock mode 600 level admin expose-fd listeners',
        '    stats socket ipv4@127.0.0.1:9999 level user',
        '    stats socket 127.0.0.1:9998 level operator',
        '    stats socket :9997 user haproxy group haproxy',
        '    stats socket fd@5',
      ].join('\n'),
    ).global;
    assert.deepEqual(
      g.statsSockets.map((s) => [s.address, s.level, s.src.line]),
      [
        [{ kind: 'unix', path: '/run/sy.sock' }, 'operator', 2],
        [{ kind: 'unix', path: 'rel.sock' }, 'admin', 3],
        [{ kind: 'tcp', host: '127.0.0.1', port: 9999 }, 'user', 4],
        [{ kind: 'tcp', host: '127.0.0.1', port: 9998 }, 'operator', 5],
        [{ kind: 'tcp', host: '0.0.0.0', port: 9997 }, 'operator', 6],
        [{ kind: 'fd', fd: 5 }, 'operator', 7],
      ],
    );
  },
  'log-tag': () => assert.equal(parse('global\n    log-tag edge-lb\n').global.logTag, 'edge-lb'),
  'server-state-file': () => assert.equal(parse('global\n    server-state-file /var/lib/sy/state\n').global.serverStateFile, '/var/lib/sy/state'),
  'server-state-base': () => assert.equal(parse('global\n    server-state-base /var/lib/sy\n').global.serverStateBase, '/var/lib/sy'),
  daemon: () => assert.deepEqual(parse('global\n    daemon\n').global, parse('global\n').global, 'daemon records nothing'),
  log: () => {
    const g = parse(
      [
        'global',
        '    log stdout local0',
        '    log stderr format raw daemon notice',
        '    log 10.0.0.1 local1',
        '    log 10.0.0.2:1514 len 4096 format rfc3164 local2 info debug',
        '    log udp@[::1]:515 local3 err',
        '    log fd@1 format raw daemon',
      ].join('\n'),
    ).global;
    assert.deepEqual(g.logs, [
      { target: 'stdout', format: 'rfc3164', facility: 'local0' },
      { target: 'stderr', format: 'raw', facility: 'daemon', level: 'notice' },
      { target: { host: '10.0.0.1', port: 514 }, format: 'rfc3164', facility: 'local1' },
      { target: { host: '10.0.0.2', port: 1514 }, format: 'rfc3164', facility: 'local2', level: 'info' },
      { target: { host: '::1', port: 515 }, format: 'rfc3164', facility: 'local3', level: 'err' },
      { target: 'stdout', format: 'raw', facility: 'daemon' },
    ]);
    assert.equal(backendSettings('    log global').logGlobal, true);
    assert.equal(backendSettings('    no log').noLog, true);
  },
  'load-server-state-from-file': () => {
    assert.equal(backendSettings('    load-server-state-from-file global').loadServerState, 'global');
    assert.equal(backendSettings('    load-server-state-from-file none').loadServerState, 'none');
  },
  mode: () => {
    assert.equal(backendSettings('    mode http').mode, 'http');
    assert.equal(backendSettings('    mode tcp').mode, 'tcp');
  },
  bind: () => {
    const binds = parse(
      [
        'frontend f',
        '    timeout client 1s',
        '    bind *:80',
        '    bind :81 maxconn 10',
        '    bind 127.0.0.1:82,[::1]:83',
        '    bind ipv6@::1:84',
        '    bind ipv4@0.0.0.0:85',
        '    bind 10.0.0.1:8000-8002',
        '    bind fd@3',
      ].join('\n'),
    ).frontends[0]?.binds;
    assert.deepEqual(
      binds?.map((b) => [b.host, b.port, b.maxconn, b.fd, b.src.line]),
      [
        ['', 80, undefined, undefined, 3],
        ['', 81, 10, undefined, 4],
        ['127.0.0.1', 82, undefined, undefined, 5],
        ['::1', 83, undefined, undefined, 5],
        ['::1', 84, undefined, undefined, 6],
        ['0.0.0.0', 85, undefined, undefined, 7],
        ['10.0.0.1', 8000, undefined, undefined, 8],
        ['10.0.0.1', 8001, undefined, undefined, 8],
        ['10.0.0.1', 8002, undefined, undefined, 8],
        ['', 0, undefined, 3, 9],
      ],
    );
    const f = parse('frontend f\n    bind 127.0.0.1:80,127.0.0.1:81 maxconn 5 accept-proxy\n    bind :82\n').frontends[0];
    assert.deepEqual(
      f?.binds.map((b) => ({ ...b, src: b.src.line })),
      [
        { host: '127.0.0.1', port: 80, maxconn: 5, acceptProxy: true, src: 2 },
        { host: '127.0.0.1', port: 81, maxconn: 5, acceptProxy: true, src: 2 },
        { host: '', port: 82, src: 3 },
      ],
    );
  },
  default_backend: () => {
    const cfg = parse('frontend f\n    bind :1\n    timeout client 1s\n    default_backend b\nbackend b\n    timeout connect 1s\n    timeout server 1s\n    server s 127.0.0.1:1\n');
    assert.equal(cfg.frontends[0]?.defaultBackend, 'b');
    assert.deepEqual(cfg.warnings, []);
  },
  server: () => {
    const cfg = parse(
      [
        'backend b',
        '    server a 10.0.0.1:80',
        '    server b 10.0.0.2:80 weight 0 maxconn 10 maxqueue 20',
        '    server c [2001:db8::1]:80 weight 256 backup',
        '    server d db.internal:5432 disabled check inter 2s fastinter 500ms downinter 5s rise 2 fall 3 port 8080',
      ].join('\n'),
    );
    assert.deepEqual(
      cfg.backends[0]?.servers.map((s) => ({ ...s, src: s.src.line })),
      [
        { name: 'a', host: '10.0.0.1', port: 80, weight: 1, maxconn: 0, maxqueue: 0, backup: false, disabled: false, src: 2 },
        { name: 'b', host: '10.0.0.2', port: 80, weight: 0, maxconn: 10, maxqueue: 20, backup: false, disabled: false, src: 3 },
        { name: 'c', host: '2001:db8::1', port: 80, weight: 256, maxconn: 0, maxqueue: 0, backup: true, disabled: false, src: 4 },
        {
          name: 'd',
          host: 'db.internal',
          port: 5432,
          weight: 1,
          maxconn: 0,
          maxqueue: 0,
          backup: false,
          disabled: true,
          check: { inter: 2000, fastinter: 500, downinter: 5000, rise: 2, fall: 3, port: 8080 },
          src: 5,
        },
      ],
    );
    const px = parse('backend b\n    server v1 127.0.0.1:80 send-proxy\n    server v2 127.0.0.1:80 send-proxy-v2\n').backends[0];
    assert.deepEqual(px?.servers.map((s) => s.sendProxy), [1, 2]);
    const b = parse('backend b\n    server s 127.0.0.1:80 check inter 3s fastinter 1s rise 4 fall 5 port 8080 addr 127.0.0.2\n    server t 127.0.0.1:81 check\n    server u 127.0.0.1:82\n').backends[0];
    assert.deepEqual(b?.servers[0]?.check, { inter: 3000, fastinter: 1000, downinter: 3000, rise: 4, fall: 5, port: 8080, addr: '127.0.0.2' });
    assert.deepEqual(b?.servers[1]?.check, { inter: 2000, fastinter: 2000, downinter: 2000, rise: 2, fall: 3 });
    assert.equal(b?.servers[2]?.check, undefined, 'inter without check does nothing');
    assert.deepEqual(errorsOf('backend b\n    server s 127.0.0.1:80 check inter 0\n'), ["k.cfg:2: 'server s': 'inter' must be greater than 0"]);
  },
  balance: () => {
    for (const algo of ['roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'random', 'uri'] as const) {
      assert.equal(backendSettings(`    balance ${algo}`).balance, algo);
    }
    assert.equal(backendSettings('    balance random 2').balance, 'random');
    const h = backendSettings('    balance hdr(X-User)');
    assert.deepEqual([h.balance, h.balanceHdr], ['hdr', 'x-user']);
    assert.deepEqual(errorsOf('backend b\n    balance hdr()\n'), ['k.cfg:2: balance hdr(): expects a header name, as in hdr(host)']);
  },
  retries: () => {
    assert.equal(backendSettings('    retries 0').retries, 0);
    assert.equal(backendSettings('    retries 10').retries, 10);
  },
  'option redispatch': () => {
    assert.equal(backendSettings('    option redispatch').redispatch, -1);
    assert.equal(backendSettings('    option redispatch 3').redispatch, 3);
    assert.equal(backendSettings('    option redispatch -2').redispatch, -2);
    assert.equal(backendSettings('    option redispatch\n    no option redispatch').redispatch, 0);
  },
  'log-format': () => {
    const s = frontendSettings('    log-format "%ci:%cp [%t] %ft %b/%s"');
    assert.deepEqual(s.logFormat, { text: '%ci:%cp [%t] %ft %b/%s', src: { file: 'k.cfg', line: 4 } });
    assert.equal(frontendSettings('    log-format %ci\\ %ft').logFormat?.text, '%ci %ft', 'escaped spaces, as HAProxy configs write them');
  },
  'option tcplog': () => assert.equal(frontendSettings('    option tcplog').tcplog, true),
  'option httplog': () => assert.equal(frontendSettings('    option httplog').httplog, true),
  'option dontlognull': () => {
    assert.equal(frontendSettings('    option dontlognull').dontlognull, true);
    assert.equal(parse('defaults\n    option dontlognull\nfrontend f\n    bind :1\n    no option dontlognull\n').frontends[0]?.settings.dontlognull, false);
  },
  'option httpchk': () => {
    assert.deepEqual(backendSettings('    option httpchk').httpchk, { method: 'OPTIONS', uri: '/', version: 'HTTP/1.0' });
    assert.deepEqual(backendSettings('    option httpchk /health').httpchk, { method: 'OPTIONS', uri: '/health', version: 'HTTP/1.0' });
    assert.deepEqual(backendSettings('    option httpchk GET /health HTTP/1.1').httpchk, { method: 'GET', uri: '/health', version: 'HTTP/1.1' });
    assert.equal(backendSettings('    option httpchk GET /\n    no option httpchk').httpchk, undefined);
    assert.deepEqual(errorsOf('backend b\n    option httpchk GET / HTTP/2\n'), ["k.cfg:2: option httpchk: version must be HTTP/1.0 or HTTP/1.1, not 'HTTP/2'"]);
  },
  'http-check expect': () => {
    assert.deepEqual(backendSettings('    http-check expect status 200-299,302').httpCheckExpect, { kind: 'status', value: '200-299,302', negate: false });
    assert.deepEqual(backendSettings('    http-check expect ! string maintenance').httpCheckExpect, { kind: 'string', value: 'maintenance', negate: true });
    assert.deepEqual(errorsOf('backend b\n    http-check expect status ok\n'), ["k.cfg:2: http-check expect status: expects codes or ranges (200, 200-299, 200,301), not 'ok'"]);
  },
  'option allbackups': () => assert.equal(backendSettings('    option allbackups').allbackups, true),
  'option log-health-checks': () => assert.equal(backendSettings('    option log-health-checks').logHealthChecks, true),
  'option jsonlog': () => {
    assert.equal(frontendSettings('    option jsonlog').jsonlog, true);
    assert.equal(frontendSettings('    option jsonlog\n    no option jsonlog').jsonlog, false);
  },
  'option http-keep-alive': () => {
    assert.equal(frontendSettings('    option httpclose\n    option http-keep-alive').httpConnMode, 'keep-alive');
  },
  'option http-server-close': () => {
    assert.equal(frontendSettings('    option http-server-close').httpConnMode, 'server-close');
    // `no option X` returns to keep-alive only when X is the mode in force (HAProxy)
    assert.equal(frontendSettings('    option http-server-close\n    no option http-server-close').httpConnMode, 'keep-alive');
    assert.equal(frontendSettings('    option httpclose\n    no option http-server-close').httpConnMode, 'close');
  },
  'option httpclose': () => assert.equal(frontendSettings('    option httpclose').httpConnMode, 'close'),
  'http-reuse': () => {
    assert.equal(backendSettings('').httpReuse, 'safe');
    assert.equal(backendSettings('    http-reuse always').httpReuse, 'always');
    assert.deepEqual(errorsOf('backend b\n    http-reuse sometimes\n'), ["k.cfg:2: http-reuse: unknown mode 'sometimes' (never, safe, aggressive, always)"]);
  },
  'retry-on': () => {
    assert.deepEqual(backendSettings('').retryOn, ['conn-failure']);
    assert.deepEqual(backendSettings('    retry-on empty-response 503').retryOn, ['empty-response', 503]);
    assert.deepEqual(backendSettings('    retry-on none').retryOn, []);
    assert.deepEqual(backendSettings('    retry-on all-retryable-errors').retryOn, ['conn-failure', 'empty-response', 'junk-response', 'response-timeout', '0rtt-rejected', 500, 502, 503, 504]);
    assert.deepEqual(errorsOf('backend b\n    retry-on 418\n'), ["k.cfg:2: retry-on: unsupported status code '418' (401, 403, 404, 408, 425, 500, 501, 502, 503, 504)"]);
    assert.deepEqual(errorsOf('backend b\n    retry-on emtpy-response\n'), [
      "k.cfg:2: retry-on: unknown keyword 'emtpy-response' (did you mean 'empty-response'?) (none, conn-failure, empty-response, junk-response, response-timeout, 0rtt-rejected, all-retryable-errors)",
    ]);
  },
  acl: () => {
    const cfg = parse(
      'frontend f\n    mode http\n    bind :1\n    acl api path_beg -i /api /v2\n    acl api path_beg /x\n    acl h hdr(Host) -m end .example.com\n    use_backend b if api h || { src 10.0.0.0/8 }\nbackend b\n    mode http\n    server s 127.0.0.1:1\n',
    );
    const u = cfg.frontends[0]?.useBackends[0];
    assert.equal(u?.backend, 'b');
    assert.deepEqual(u?.cond.any[0]?.map((t) => t.acl), [
      { name: 'api', fetch: { kind: 'path' }, match: 'beg', values: ['/api', '/v2', '/x'], ignoreCase: true },
      { name: 'h', fetch: { kind: 'hdr', header: 'host' }, match: 'end', values: ['.example.com'], ignoreCase: false },
    ]);
    assert.deepEqual(u?.cond.any[1]?.[0]?.acl, { name: 'anonymous', fetch: { kind: 'src' }, match: 'ip', values: ['10.0.0.0/8'], ignoreCase: false });
    assert.deepEqual(errorsOf('frontend f\n    acl a pth_beg /x\n'), ["k.cfg:2: acl 'a': unknown criterion 'pth_beg' (did you mean 'path_beg'?)"]);
    assert.deepEqual(errorsOf('frontend f\n    acl a path_reg (\n'), ["k.cfg:2: acl 'a': invalid regex '(': Invalid regular expression: /(/: Unterminated group"]);
  },
  use_backend: () => {
    const text = 'frontend f\n    mode http\n    bind :1\n    acl get method GET\n    use_backend b unless !get\n    default_backend b\nbackend b\n    mode http\n    server s 127.0.0.1:1\n';
    assert.equal(parse(text).frontends[0]?.useBackends[0]?.cond.unless, true);
    assert.deepEqual(errorsOf('frontend f\n    mode http\n    bind :1\n    use_backend b if nope\n'), ["k.cfg:4: no such ACL : 'nope'"]);
    assert.deepEqual(errorsOf('frontend f\n    mode http\n    bind :1\n    use_backend bb if TRUE\nbackend b\n    mode http\n    server s 127.0.0.1:1\n'), [
      "k.cfg:4: frontend 'f': unable to find required use_backend: 'bb' (did you mean 'b'?)",
    ]);
    assert.deepEqual(errorsOf('frontend f\n    bind :1\n    use_backend b if TRUE\n'), ["k.cfg:3: 'use_backend' with HTTP conditions needs 'mode http'"]);
  },
  'http-request set-header': () => {
    const cfg = parse('listen l\n    mode http\n    bind :1\n    http-request set-header X-Env prod if { path_beg /a }\n    server s 127.0.0.1:1\n');
    assert.deepEqual(cfg.frontends[0]?.httpRequest[0]?.action, { type: 'set-header', name: 'X-Env', value: 'prod' });
    assert.equal(cfg.frontends[0]?.httpRequest[0]?.cond?.any[0]?.[0]?.acl.values[0], '/a');
    assert.deepEqual(cfg.backends[0]?.httpRequest, [], 'a listen section runs its rules once');
    assert.deepEqual(errorsOf('listen l\n    mode http\n    http-request set-header X %[src]\n'), ['k.cfg:3: http-request set-header: sample expressions (%[...]) in values are not supported yet']);
    assert.deepEqual(errorsOf('listen l\n    http-request set-header X y\n'), ["k.cfg:2: 'http-request set-header' needs 'mode http'"]);
    assert.deepEqual(errorsOf('listen l\n    mode http\n    http-request set-header Content-Length 5\n'), [
      "k.cfg:3: http-request set-header: 'Content-Length' frames the message and cannot be changed by a rule",
    ]);
  },
  'http-request add-header': () =>
    assert.deepEqual(parse('listen l\n    mode http\n    http-request add-header X-A 1\n').frontends[0]?.httpRequest[0]?.action, { type: 'add-header', name: 'X-A', value: '1' }),
  'http-request del-header': () =>
    assert.deepEqual(parse('listen l\n    mode http\n    http-request del-header Cookie\n').frontends[0]?.httpRequest[0]?.action, { type: 'del-header', name: 'Cookie' }),
  'http-request deny': () => {
    assert.deepEqual(parse('listen l\n    mode http\n    http-request deny deny_status 429 if METH_POST\n').frontends[0]?.httpRequest[0]?.action, { type: 'deny', status: 429 });
    assert.deepEqual(parse('listen l\n    mode http\n    http-request deny\n').frontends[0]?.httpRequest[0]?.action, { type: 'deny', status: 403 });
  },
  'http-request return': () => {
    assert.deepEqual(parse('listen l\n    mode http\n    http-request return status 200 content-type text/plain string "hello world" hdr x-a 1\n').frontends[0]?.httpRequest[0]?.action, {
      type: 'return',
      status: 200,
      contentType: 'text/plain',
      body: 'hello world',
      headers: [['x-a', '1']],
    });
    assert.deepEqual(errorsOf('listen l\n    mode http\n    http-request return status 200 string hi\n'), ["k.cfg:3: http-request return: a body needs a 'content-type'"]);
    assert.deepEqual(errorsOf('listen l\n    mode http\n    http-request return stauts 200\n'), ["k.cfg:3: http-request return: unexpected argument 'stauts' (did you mean 'status'?)"]);
  },
  'http-request use-service': () => {
    const cfg = parse('frontend m\n    mode http\n    bind :1\n    timeout client 1s\n    http-request use-service prometheus-exporter if { path /metrics }\n');
    assert.deepEqual(cfg.frontends[0]?.httpRequest[0]?.action, { type: 'use-service', service: 'prometheus-exporter' });
    assert.deepEqual(cfg.warnings, [], 'no "no backend" warning for a service frontend');
    assert.deepEqual(errorsOf('frontend m\n    mode http\n    bind :1\n    http-request use-service prometheus-exportr\n'), [
      "k.cfg:4: http-request use-service: unknown service 'prometheus-exportr' (did you mean 'prometheus-exporter'?) (prometheus-exporter)",
    ]);
    assert.deepEqual(errorsOf('listen l\n    mode http\n    bind :1\n    http-request use-service prometheus-exporter\n    server s 127.0.0.1:1\n'), [
      "k.cfg:1: listen 'l': 'http-request use-service' needs a proxy without a backend (switchyard serves it from the main thread)",
    ]);
  },
  'stats enable': () => {
    const cfg = parse('listen st\n    mode http\n    bind :1\n    timeout client 1s\n    stats enable\n');
    assert.deepEqual(cfg.frontends[0]?.settings.stats, { enabled: true, uri: '/haproxy?stats', auth: [], realm: 'HAProxy Statistics' });
    assert.deepEqual(errorsOf('listen st\n    mode http\n    bind :1\n    stats enable\n    server s 127.0.0.1:1\n'), [
      "k.cfg:1: listen 'st': 'stats enable' needs a proxy without a backend (switchyard serves it from the main thread)",
    ]);
  },
  'stats uri': () => assert.equal(frontendSettings('    stats uri /st').stats?.uri, '/st'),
  'stats auth': () => {
    assert.deepEqual(frontendSettings('    stats auth a:b\n    stats auth c:d:e').stats?.auth, [
      ['a', 'b'],
      ['c', 'd:e'],
    ]);
    assert.deepEqual(errorsOf('frontend f\n    stats auth nopassword\n'), ["k.cfg:2: 'stats auth' expects <user>:<password>"]);
    // a proxy's own `stats auth` does not reach back into its defaults
    const cfg = parse('defaults\n    stats auth a:b\nlisten x\n    stats auth c:d\nlisten y\n');
    assert.deepEqual(cfg.frontends[1]?.settings.stats?.auth, [['a', 'b']]);
  },
  'stats refresh': () => assert.equal(frontendSettings('    stats refresh 10s').stats?.refresh, 10_000),
  'stats realm': () => {
    assert.equal(frontendSettings('    stats realm Ops').stats?.realm, 'Ops');
    assert.deepEqual(errorsOf('frontend f\n    stats realm "a\\"b"\n'), ["k.cfg:2: 'stats realm': a realm cannot contain quotes, backslashes or line breaks"]);
  },
  'http-response set-header': () =>
    assert.deepEqual(parse('listen l\n    mode http\n    http-response set-header Cache-Control no-store\n').frontends[0]?.httpResponse[0]?.action, {
      type: 'set-header',
      name: 'Cache-Control',
      value: 'no-store',
    }),
  'http-response add-header': () =>
    assert.deepEqual(parse('listen l\n    mode http\n    http-response add-header X-B 2\n').frontends[0]?.httpResponse[0]?.action, { type: 'add-header', name: 'X-B', value: '2' }),
  'http-response del-header': () =>
    assert.deepEqual(parse('listen l\n    mode http\n    http-response del-header Server\n').frontends[0]?.httpResponse[0]?.action, { type: 'del-header', name: 'Server' }),
  errorfile: () => {
    const cfg = parseConfig([{ name: 'test/fixtures/config/k.cfg', text: 'defaults\n    errorfile 503 errors/503.http\nlisten l\n    bind :1\n' }]);
    assert.equal(
      cfg.frontends[0]?.settings.errorfiles?.[503],
      'HTTP/1.1 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nsorry, later\n',
    );
    assert.deepEqual(errorsOf('listen l\n    errorfile 503 /nonexistent.http\n'), ["k.cfg:2: errorfile: cannot read '/nonexistent.http': ENOENT"]);
  },
  'option forwardfor': () => {
    assert.deepEqual(frontendSettings('    option forwardfor').forwardFor, { header: 'x-forwarded-for', ifNone: false });
    assert.deepEqual(frontendSettings('    option forwardfor except 10.0.0.0/8 header X-Real-IP if-none').forwardFor, {
      header: 'x-real-ip',
      ifNone: true,
      except: { addr: '10.0.0.0', prefix: 8 },
    });
    assert.deepEqual(errorsOf('frontend f\n    option forwardfor excpet 1.2.3.4\n'), ["k.cfg:2: option forwardfor: unknown argument 'excpet' (did you mean 'except'?)"]);
    assert.deepEqual(errorsOf('frontend f\n    option forwardfor header "x\\r\\ny: z"\n'), ["k.cfg:2: option forwardfor: 'header': expects a header name, got 'x\r\ny: z'"]);
  },
};

const TIMEOUT_FIELDS = {
  connect: 'connect',
  client: 'client',
  server: 'server',
  queue: 'queue',
  tunnel: 'tunnel',
  'client-fin': 'clientFin',
  'server-fin': 'serverFin',
  'http-request': 'httpRequest',
  'http-keep-alive': 'httpKeepAlive',
  check: 'check',
} as const;
for (const [word, field] of Object.entries(TIMEOUT_FIELDS)) {
  happy[`timeout ${word}`] = () => {
    // in a listen section every timeout has the capability it needs
    const s = parse(`listen l\n    bind :1\n    timeout ${word} 1500ms\n    server s 127.0.0.1:1\n`).backends[0]?.settings;
    assert.equal(s?.timeouts[field], 1500);
  };
}

for (const [name, check] of Object.entries(happy)) test(`keyword ${name}: happy path`, check);

test('every keyword of the table has a happy-path test, help text and a line in --help', () => {
  assert.deepEqual(keywords.map((k) => k.name).filter((n) => !(n in happy)), []);
  const help = helpText();
  for (const k of keywords) {
    assert.ok(k.help.length > 10, `${k.name} has help`);
    assert.ok(k.sections.length > 0, `${k.name} has sections`);
    assert.ok(help.includes(`  ${k.name}`), `${k.name} is in --help`);
  }
  assert.equal(new Set(keywords.map((k) => k.name)).size, keywords.length, 'no keyword twice');
});

// ---- defaults and inheritance ----------------------------------------------------------------------

test('built-in defaults: mode tcp, roundrobin, retries 3, no redispatch, no timeouts; global maxconn 4096, hard-stop-after 30s', () => {
  const cfg = parse('backend b\n    server s 127.0.0.1:1\n');
  assert.deepEqual(cfg.backends[0]?.settings, {
    mode: 'tcp',
    timeouts: {},
    logGlobal: false,
    tcplog: false,
    balance: 'roundrobin',
    retries: 3,
    redispatch: 0,
    dontlognull: false,
    httplog: false,
    httpConnMode: 'keep-alive',
    httpReuse: 'safe',
    retryOn: ['conn-failure'],
  });
  assert.deepEqual(cfg.backends[0]?.settings, defaultSettings());
  assert.deepEqual(cfg.global, { maxconn: 4096, hardStopAfter: 30_000, statsSockets: [], logs: [] });
});

test('defaults: each proxy takes a copy of the last defaults above it; a second defaults applies to later proxies only', () => {
  const cfg = parse(`
defaults
    mode http
    retries 5
    option redispatch
    timeout connect 1s
    timeout server 10s
backend early
    timeout server 20s
    server s 127.0.0.1:1
defaults
    retries 1
    timeout connect 2s
    timeout server 2s
backend late
    server s 127.0.0.1:1
`);
  const [early, late] = cfg.backends;
  assert.ok(early && late);
  assert.deepEqual([early.settings.mode, early.settings.retries, early.settings.redispatch, early.settings.timeouts], ['http', 5, -1, { connect: 1000, server: 20_000 }]);
  // the second defaults starts from the built-in defaults, not from the first
  assert.deepEqual([late.settings.mode, late.settings.retries, late.settings.redispatch, late.settings.timeouts], ['tcp', 1, 0, { connect: 2000, server: 2000 }]);
  assert.notEqual(early.settings.timeouts, late.settings.timeouts);
});

test('defaults: proxies do not share the settings object (copy, not reference)', () => {
  const cfg = parse('defaults\n    timeout connect 1s\nbackend a\n    timeout connect 5s\n    server s 127.0.0.1:1\nbackend b\n    server s 127.0.0.1:1\n');
  const [a, b] = cfg.backends;
  assert.equal(a?.settings.timeouts.connect, 5000);
  assert.equal(b?.settings.timeouts.connect, 1000, "a's own timeout did not leak into the defaults");
  assert.notEqual(a?.settings, b?.settings);
});

test('defaults: default_backend is inherited by frontends and listens (as HAProxy), not by backends', () => {
  const cfg = parse(`
defaults
    timeout connect 1s
    timeout client 1s
    timeout server 1s
    default_backend web
frontend f
    bind :1
backend web
    server s 127.0.0.1:1
frontend g
    bind :2
    default_backend api
backend api
    server s 127.0.0.1:2
`);
  assert.deepEqual(
    cfg.frontends.map((f) => [f.name, f.defaultBackend]),
    [
      ['f', 'web'],
      ['g', 'api'],
    ],
  );
  assert.deepEqual(cfg.warnings, []);
  // an inherited default_backend that names nothing is reported at the defaults line
  assert.deepEqual(errorsOf('defaults\n    default_backend nope\nfrontend f\n    bind :1\n'), ["k.cfg:2: frontend 'f': unable to find required default_backend: 'nope'"]);
});

test('a timeout of 0 means no timeout, as in HAProxy, and clears an inherited one', () => {
  const cfg = parse('defaults\n    timeout server 5s\n    timeout connect 1s\nbackend b\n    timeout server 0\n    server s 127.0.0.1:1\n');
  assert.deepEqual(cfg.backends[0]?.settings.timeouts, { connect: 1000 });
});

test('listen: one frontend and one backend of the same name; the frontend sends to itself', () => {
  const cfg = parse('listen db\n    bind 127.0.0.1:5433\n    balance leastconn\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\n    server pg 127.0.0.1:5432\n');
  assert.deepEqual(
    cfg.frontends.map((f) => [f.name, f.defaultBackend, f.binds.length, f.src.line]),
    [['db', 'db', 1, 1]],
  );
  assert.deepEqual(
    cfg.backends.map((b) => [b.name, b.servers.length, b.settings.balance, b.src.line]),
    [['db', 1, 'leastconn', 1]],
  );
  assert.equal(cfg.frontends[0]?.settings, cfg.backends[0]?.settings, 'one proxy: one settings object');
  assert.deepEqual(cfg.warnings, []);
});

test('a listen with its own default_backend sends there, and says its servers go unused', () => {
  const cfg = parse('listen l\n    bind :1\n    default_backend b\n    server x 127.0.0.1:1\nbackend b\n    server s 127.0.0.1:2\n');
  assert.equal(cfg.frontends[0]?.defaultBackend, 'b');
  assert.ok(cfg.warnings.some((w) => w.line === 1 && w.message === "listen 'l' has servers but sends its sessions to default_backend 'b' (set at k.cfg:3)"));
});

test('a frontend without default_backend is allowed, with a warning', () => {
  const cfg = parse('frontend f\n    bind :1\n    timeout client 1s\n');
  assert.equal(cfg.frontends[0]?.defaultBackend, undefined);
  assert.deepEqual(warningsOf('frontend f\n    bind :1\n    timeout client 1s\n'), ["k.cfg:1: frontend 'f' has no backend: its sessions will be closed"]);
});

test('frontends and backends are listed in file order; a frontend and a backend may share a name', () => {
  const cfg = parse('backend app\n    server s 127.0.0.1:1\nfrontend app\n    bind :1\n    default_backend app\nlisten z\n    bind :2\n    server s 127.0.0.1:2\nbackend a\n    server s 127.0.0.1:3\n');
  assert.deepEqual(
    cfg.frontends.map((f) => f.name),
    ['app', 'z'],
  );
  assert.deepEqual(
    cfg.backends.map((b) => b.name),
    ['app', 'z', 'a'],
  );
});

// ---- HAProxy's section rules: errors and warnings ----------------------------------------------------

test('section rules: keywords outside their sections are errors', () => {
  assert.deepEqual(errorsOf('defaults\n    bind :1\n'), ["k.cfg:2: 'bind' is not allowed in 'defaults' section"]);
  assert.deepEqual(errorsOf('defaults\n    server s 127.0.0.1:1\n'), ["k.cfg:2: 'server' is not allowed in 'defaults' section"]);
  assert.deepEqual(errorsOf('global\n    balance roundrobin\n'), ["k.cfg:2: 'balance' is not allowed in 'global' section"]);
  assert.deepEqual(errorsOf('backend b\n    nbthread 2\n    server s 127.0.0.1:1\n'), ["k.cfg:2: 'nbthread' is not allowed in 'backend' section (backend 'b')"]);
  assert.deepEqual(errorsOf('frontend f\n    bind :1\n    server s 127.0.0.1:1\n'), ["k.cfg:3: 'server' not allowed because frontend 'f' has no backend capability"]);
  assert.deepEqual(errorsOf('timeout client 1s\n'), ["k.cfg:1: unknown keyword 'timeout' out of section"]);
  assert.deepEqual(errorsOf('globl\n'), ["k.cfg:1: unknown keyword 'globl' out of section (did you mean 'global'?)"]);
});

test('section rules: keywords a proxy has no capability for are ignored with HAProxy warnings', () => {
  const text = `frontend f
    bind :1
    timeout client 1s
    balance leastconn
    retries 2
    timeout server 1s
    option redispatch
backend b
    timeout connect 1s
    timeout server 1s
    bind :2
    default_backend x
    timeout client 1s
    option tcplog
    maxconn 10
    server s 127.0.0.1:1
`;
  assert.deepEqual(warningsOf(text), [
    "k.cfg:4: 'balance' ignored because frontend 'f' has no backend capability",
    "k.cfg:5: 'retries' ignored because frontend 'f' has no backend capability",
    "k.cfg:6: 'timeout server' ignored because frontend 'f' has no backend capability",
    "k.cfg:7: 'option redispatch' ignored because frontend 'f' has no backend capability",
    "k.cfg:11: 'bind' ignored because backend 'b' has no frontend capability",
    "k.cfg:12: 'default_backend' ignored because backend 'b' has no frontend capability",
    "k.cfg:13: 'timeout client' ignored because backend 'b' has no frontend capability",
    "k.cfg:14: 'option tcplog' ignored because backend 'b' has no frontend capability",
    "k.cfg:15: 'maxconn' ignored because backend 'b' has no frontend capability. Maybe you want 'fullconn' instead ?",
    "k.cfg:1: frontend 'f' has no backend: its sessions will be closed",
  ]);
  const cfg = parse(text);
  assert.equal(cfg.frontends[0]?.settings.balance, 'roundrobin', 'ignored: not applied');
  assert.equal(cfg.backends[0]?.settings.maxconn, 10, 'maxconn in a backend is stored, as HAProxy stores it');
  assert.equal(cfg.backends[0]?.settings.tcplog, false);
});

test('warnings HAProxy gives after parsing: no bind, missing timeouts', () => {
  assert.deepEqual(warningsOf('frontend f\n    default_backend b\nbackend b\n    server s 127.0.0.1:1\n'), [
    "k.cfg:1: frontend 'f' has no 'bind' directive. Please declare it as a backend if this was intended.",
    "k.cfg:1: missing timeouts for frontend 'f'",
    "k.cfg:3: missing timeouts for backend 'b'",
  ]);
  assert.deepEqual(warningsOf('listen l\n    bind :1\n    timeout client 1s\n    timeout connect 1s\n    server s 127.0.0.1:1\n'), ["k.cfg:1: missing timeouts for proxy 'l'"]);
});

// ---- errors, each with its exact text ---------------------------------------------------------------

test('unknown keywords: suggestions among the keywords of that section, options and section names', () => {
  assert.deepEqual(errorsOf('backend app\n    srever s1 127.0.0.1:80\n'), ["k.cfg:2: unknown keyword 'srever' in backend 'app' (did you mean 'server'?)"]);
  assert.deepEqual(errorsOf('backend app\n    option redispach\n'), ["k.cfg:2: unknown keyword 'option redispach' in backend 'app' (did you mean 'option redispatch'?)"]);
  assert.deepEqual(errorsOf('defaults\n    timeout conect 1s\n'), ["k.cfg:2: unknown keyword 'timeout conect' in 'defaults' section (did you mean 'timeout connect'?)"]);
  assert.deepEqual(errorsOf('global\n    stats sockt /tmp/s\n'), ["k.cfg:2: unknown keyword 'stats sockt' in 'global' section (did you mean 'stats socket'?)"]);
  assert.deepEqual(errorsOf('global\n    master-worker\n'), ["k.cfg:2: unknown keyword 'master-worker' in 'global' section"]);
  assert.deepEqual(errorsOf('global\n    nbthrad 2\n'), ["k.cfg:2: unknown keyword 'nbthrad' in 'global' section (did you mean 'nbthread'?)"]);
  assert.deepEqual(errorsOf('global\n    chroot /var/empty\n'), ["k.cfg:2: unknown keyword 'chroot' in 'global' section"]);
  assert.deepEqual(errorsOf('frontend f\n    bind :1\n    option forwardfr\n'), ["k.cfg:3: unknown keyword 'option forwardfr' in frontend 'f' (did you mean 'option forwardfor'?)"]);
  // a misspelt section header lands in the section before it
  assert.deepEqual(errorsOf('global\n    maxconn 5\nbakend b\n'), ["k.cfg:3: unknown keyword 'bakend' in 'global' section (did you mean 'backend'?)"]);
});

test('keyword arguments: exact errors', () => {
  const cases: Array<[string, string]> = [
    ['global\n    nbthread 0', "k.cfg:2: nbthread: 0 is out of range (1..256)"],
    ['global\n    nbthread', "k.cfg:2: 'nbthread' expects 1 argument"],
    ['global\n    maxconn 10 20', "k.cfg:2: 'maxconn': unexpected argument '20'"],
    ['global\n    daemon now', "k.cfg:2: 'daemon': unexpected argument 'now'"],
    ['global\n    hard-stop-after soon', "k.cfg:2: hard-stop-after: invalid time 'soon' (expected a number with an optional unit: us, ms, s, m, h, d)"],
    ['global\n    stats socket /s level root', "k.cfg:2: 'stats socket' level: expected user, operator or admin, got 'root'"],
    ['global\n    stats socket /s levle admin', "k.cfg:2: 'stats socket': unknown option 'levle' (did you mean 'level'?)"],
    ['global\n    stats socket /s level', "k.cfg:2: 'stats socket' level: missing value"],
    ['global\n    stats socket 127.0.0.1', "k.cfg:2: stats socket: missing port in '127.0.0.1'"],
    ['global\n    log 127.0.0.1 locl0', "k.cfg:2: log: unknown facility 'locl0' (did you mean 'local0'?)"],
    ['global\n    log 127.0.0.1 local0 inf', "k.cfg:2: log: unknown level 'inf' (did you mean 'info'?)"],
    ['global\n    log stdout format rfc5424 local0', "k.cfg:2: log format: 'rfc5424' is not supported (raw, rfc3164)"],
    ['global\n    log stdout format rwa local0', "k.cfg:2: log format: unknown format 'rwa' (did you mean 'raw'?) (raw, rfc3164)"],
    ['global\n    log stdout', "k.cfg:2: log: expected '<target> [format raw] <facility>'"],
    ['global\n    log /dev/log local0', "k.cfg:2: log: unix socket targets ('/dev/log') are not supported yet; use host:port (UDP syslog) or stdout"],
    ['global\n    log 127.0.0.1 local0 info debug extra', "k.cfg:2: log: unexpected argument 'extra'"],
    ['global\n    no log', "k.cfg:2: 'no log' is only valid in a proxy section"],
    ['backend b\n    log 127.0.0.1 local0', "k.cfg:2: log: per-proxy log targets are not supported yet; declare them in 'global' and use 'log global'"],
    ['backend b\n    mode quic', "k.cfg:2: mode: unknown mode 'quic' (tcp, http)"],
    ['backend b\n    balance', "k.cfg:2: 'balance' expects an algorithm (roundrobin, static-rr, leastconn, first, source, random, uri, hdr)"],
    ['backend b\n    balance url', "k.cfg:2: balance: unknown algorithm 'url' (did you mean 'uri'?) (roundrobin, static-rr, leastconn, first, source, random, uri, hdr)"],
    ['backend b\n    balance random 3', "k.cfg:2: balance random: only 2 draws are supported"],
    ['backend b\n    retries many', "k.cfg:2: retries: expected an integer, got 'many'"],
    ['backend b\n    option redispatch x', "k.cfg:2: option redispatch: expected an integer, got 'x'"],
    ['backend b\n    no option redispatch 2', "k.cfg:2: 'no option redispatch': unexpected argument '2'"],
    ['frontend f\n    no option tcplog', "k.cfg:2: negation is not supported for 'option tcplog'"],
    ['frontend f\n    log-format', "k.cfg:2: 'log-format' expects a format string"],
    ['frontend f\n    log-format %ci %ft', "k.cfg:2: 'log-format' expects only one argument, don't forget to escape spaces!"],
    ['backend b\n    no retries', "k.cfg:2: negation is not supported for 'retries'"],
    ['backend b\n    no', "k.cfg:2: 'no' expects a keyword"],
    ['frontend f\n    timeout client 10x', "k.cfg:2: timeout client: invalid time '10x' (expected a number with an optional unit: us, ms, s, m, h, d)"],
    ['frontend f\n    timeout client', "k.cfg:2: 'timeout client' expects 1 argument"],
    ['frontend f\n    bind', "k.cfg:2: 'bind' expects an address"],
    ['frontend f\n    bind 127.0.0.1', "k.cfg:2: bind: missing port in '127.0.0.1'"],
    ['frontend f\n    bind :99999', "k.cfg:2: bind: port 99999 out of range in ':99999'"],
    ['frontend f\n    bind :80 maxcon 5', "k.cfg:2: 'bind': unknown option 'maxcon' (did you mean 'maxconn'?)"],
    ['frontend f\n    bind :443 ssl', "k.cfg:2: 'bind': option 'ssl' is not supported"],
    ['frontend f\n    bind /run/x.sock', "k.cfg:2: bind: unix socket addresses ('/run/x.sock') are not supported; use host:port or fd@N"],
    ['frontend f\n    bind :9-1', "k.cfg:2: bind: invalid port range '9-1' in ':9-1'"],
    ['frontend f\n    bind sctp@:80', "k.cfg:2: bind: unsupported address family in 'sctp@:80'"],
    ['frontend f\n    default_backend', "k.cfg:2: 'default_backend' expects 1 argument"],
    ['backend b\n    server s1', "k.cfg:2: 'server' expects a name and an address"],
    ['backend b\n    server s1 :80', "k.cfg:2: server s1: missing host in ':80'"],
    ['backend b\n    server s1 10.0.0.1:80 weight 257', "k.cfg:2: 'server b/s1': weight of server s1 is not within 0 and 256 (257)"],
    ['backend b\n    server s1 10.0.0.1:80 wieght 3', "k.cfg:2: 'server s1': unknown option 'wieght' (did you mean 'weight'?)"],
    ['backend b\n    server s1 10.0.0.1:80 send-proxy-v3', "k.cfg:2: 'server s1': unknown option 'send-proxy-v3' (did you mean 'send-proxy-v2'?)"],
    ['backend b\n    server s1 10.0.0.1:80 inter fast', "k.cfg:2: server s1 inter: invalid time 'fast' (expected a number with an optional unit: us, ms, s, m, h, d)"],
    ['backend b\n    server s1 10.0.0.1:80 rise 0', "k.cfg:2: server s1 rise: 0 is out of range (1..2147483647)"],
    ['backend b\n    load-server-state-from-file local', "k.cfg:2: load-server-state-from-file local: per-backend state files are not supported yet; use 'global'"],
  ];
  for (const [text, expected] of cases) assert.deepEqual(errorsOf(`${text}\n`), [expected], text);
});

test('proxy errors: names, duplicates, unsupported sections', () => {
  assert.deepEqual(errorsOf('backend b\n    server s 127.0.0.1:1\nbackend b\n    server s 127.0.0.1:1\n'), ["k.cfg:3: backend 'b' has the same name as the backend declared at k.cfg:1"]);
  assert.deepEqual(errorsOf('listen l\n    bind :1\nfrontend l\n    bind :2\n'), ["k.cfg:3: frontend 'l' has the same name as the listen declared at k.cfg:1"]);
  assert.deepEqual(errorsOf('backend b\n    server s 127.0.0.1:1\n    server s 127.0.0.1:2\n'), ["k.cfg:3: server 's' is already defined in backend 'b'"]);
  assert.deepEqual(errorsOf('frontend\n    bind :1\n'), ["k.cfg:1: 'frontend' section needs a name"]);
  assert.deepEqual(errorsOf('backend "a b"\n    server s 127.0.0.1:1\n'), ["k.cfg:1: character ' ' is not permitted in backend name 'a b'"]);
  assert.deepEqual(errorsOf('backend b extra\n    server s 127.0.0.1:1\n'), ["k.cfg:1: 'backend b': unexpected argument 'extra'"]);
  assert.deepEqual(errorsOf('global extra\n'), ["k.cfg:1: 'global': unexpected argument 'extra'"]);
  // an unsupported section is refused once; its lines are skipped, the next section is read again
  assert.deepEqual(errorsOf('peers mypeers\n    peer a 127.0.0.1:1024\nuserlist u\n    user x password y\nbackend b\n    srever s 127.0.0.1:1\n'), [
    "k.cfg:1: section 'peers' is not supported",
    "k.cfg:3: section 'userlist' is not supported",
    "k.cfg:6: unknown keyword 'srever' in backend 'b' (did you mean 'server'?)",
  ]);
});

test('all errors of the configuration are collected, in order, tokenizer errors included', () => {
  assert.deepEqual(
    errorsOf(`global
    maxconn lots
    log-tag "unterminated
defaults
    mode tcpp
    bind :1
backend app
    srever s1 127.0.0.1:80
    timeout server 10x
    server s1 127.0.0.1:80 weight 300
frontend fe
    bind 127.0.0.1:80
    server x 127.0.0.1:1
    default_backend ap
`),
    [
      "k.cfg:2: maxconn: expected an integer, got 'lots'",
      'k.cfg:3: unmatched double quote',
      "k.cfg:5: mode: unknown mode 'tcpp' (did you mean 'tcp'?) (tcp, http)",
      "k.cfg:6: 'bind' is not allowed in 'defaults' section",
      "k.cfg:8: unknown keyword 'srever' in backend 'app' (did you mean 'server'?)",
      "k.cfg:9: timeout server: invalid time '10x' (expected a number with an optional unit: us, ms, s, m, h, d)",
      "k.cfg:10: 'server app/s1': weight of server s1 is not within 0 and 256 (300)",
      "k.cfg:13: 'server' not allowed because frontend 'fe' has no backend capability",
      "k.cfg:14: frontend 'fe': unable to find required default_backend: 'ap' (did you mean 'app'?)",
    ],
  );
});

test('ConfigError: typed, with every diagnostic in its message', () => {
  try {
    parse('backend b\n    srever s\n    retries x\n');
    assert.fail('expected a ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.name, 'ConfigError');
    assert.equal(e.code, 'SY_ERR_CONFIG');
    assert.equal(e.source, 'proxy');
    assert.equal(e.retryable, false);
    assert.equal(e.diagnostics.length, 2);
    assert.equal(e.message, "k.cfg:2: unknown keyword 'srever' in backend 'b' (did you mean 'server'?)\nk.cfg:3: retries: expected an integer, got 'x'");
  }
});
