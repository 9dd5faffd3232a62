/**
 * Loading configuration files: a realistic HAProxy `mode tcp` file to its full model, a directory
 * of `*.cfg` files in lexical order, several files as one configuration, and quick mode.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Config, ProxySettings } from '../../src/config/config.types.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { loadConfig, parseConfig, quickConfig } from '../../src/config/parse.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const fixture = (name: string) => path.join(FIXTURES, name);

function diagnosticsOf(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.diagnostics.map((d) => `${path.basename(d.file)}:${d.line}: ${d.message}`);
  }
  assert.fail('expected a ConfigError');
}

test('a realistic HAProxy mode tcp configuration loads to the expected model', () => {
  const file = fixture('realistic.cfg');
  const src = (line: number) => ({ file, line });
  const first: ProxySettings = {
    mode: 'tcp',
    timeouts: { queue: 60_000, connect: 10_000, client: 60_000, server: 60_000, check: 10_000 },
    logGlobal: true,
    tcplog: true,
    balance: 'roundrobin',
    retries: 3,
    redispatch: -1,
    dontlognull: true,
    httplog: false,
    httpConnMode: 'keep-alive',
    httpReuse: 'safe',
    retryOn: ['conn-failure'],
    maxconn: 3000,
  };
  const redis: ProxySettings = {
    mode: 'tcp',
    timeouts: { connect: 2000, client: 30_000, server: 30_000, clientFin: 1000, serverFin: 1000 },
    logGlobal: false,
    tcplog: false,
    balance: 'leastconn',
    retries: 3,
    redispatch: 0,
    dontlognull: false,
    httplog: false,
    httpConnMode: 'keep-alive',
    httpReuse: 'safe',
    retryOn: ['conn-failure'],
  };
  const server = { weight: 1, maxconn: 0, maxqueue: 0, backup: false, disabled: false };
  const check = { inter: 2000, fastinter: 2000, downinter: 2000, rise: 2, fall: 3 };
  const expected: Config = {
    global: {
      maxconn: 20_000,
      nbthread: 4,
      hardStopAfter: 30_000,
      logTag: 'edge lb',
      statsSockets: [
        { address: { kind: 'unix', path: '/run/switchyard/admin.sock' }, level: 'admin', src: src(11) },
        { address: { kind: 'tcp', host: '127.0.0.1', port: 9999 }, level: 'operator', src: src(12) },
      ],
      logs: [
        { target: { host: '127.0.0.1', port: 514 }, format: 'rfc3164', facility: 'local0', level: 'info' },
        { target: 'stdout', format: 'raw', facility: 'daemon', level: 'notice' },
      ],
    },
    frontends: [
      {
        name: 'postgres',
        settings: first,
        binds: [
          { host: '10.0.0.1', port: 5432, maxconn: 500, src: src(35) },
          { host: '10.0.0.2', port: 5432, maxconn: 500, src: src(35) },
        ],
        defaultBackend: 'pg_primary',
        useBackends: [],
        httpRequest: [],
        httpResponse: [],
        src: src(34),
      },
      {
        name: 'redis',
        settings: redis,
        binds: [
          { host: '', port: 6379, src: src(55) },
          { host: '::1', port: 6379, src: src(56) },
        ],
        defaultBackend: 'redis',
        useBackends: [],
        httpRequest: [],
        httpResponse: [],
        src: src(54),
      },
    ],
    backends: [
      {
        name: 'pg_primary',
        settings: { ...first, balance: 'first', timeouts: { ...first.timeouts, server: 28_800_000, tunnel: 28_800_000 } },
        servers: [
          { name: 'pg1', host: '10.0.1.11', port: 5432, ...server, maxconn: 100, maxqueue: 200, check, src: src(42) },
          { name: 'pg2', host: '10.0.1.12', port: 5432, ...server, maxconn: 100, maxqueue: 200, backup: true, check, src: src(43) },
        ],
        httpRequest: [],
        httpResponse: [],
        src: src(38),
      },
      {
        name: 'redis',
        settings: redis,
        servers: [
          { name: 'r1', host: '10.0.2.11', port: 6379, ...server, weight: 10, src: src(59) },
          { name: 'r2', host: '10.0.2.12', port: 6379, ...server, weight: 20, src: src(60) },
          { name: 'r3', host: '10.0.2.13', port: 6379, ...server, disabled: true, src: src(61) },
        ],
        httpRequest: [],
        httpResponse: [],
        src: src(54),
      },
    ],
    files: [file],
    warnings: [],
    notices: [],
  };
  const cfg = loadConfig([file]);
  assert.deepEqual(cfg, expected);
  assert.deepEqual(structuredClone(cfg), cfg, 'the model is structured-clonable (posted to workers as is)');
});

test('a directory loads its *.cfg files in lexical order, as one configuration', () => {
  const dir = fixture('conf.d');
  const cfg = loadConfig([dir]);
  assert.deepEqual(cfg.files, [path.join(dir, '10-global.cfg'), path.join(dir, '20-proxies.cfg')]);
  assert.equal(cfg.global.maxconn, 100);
  assert.equal(cfg.frontends[0]?.defaultBackend, 'app');
  assert.equal(cfg.backends[0]?.settings.retries, 5, 'the defaults of the first file apply in the second');
  assert.equal(cfg.backends[0]?.src.file, path.join(dir, '20-proxies.cfg'));
  assert.deepEqual(cfg.warnings, []);
});

test('several paths are read in the order given; errors name each file', () => {
  const cfg = loadConfig([fixture('conf.d/10-global.cfg'), fixture('conf.d/20-proxies.cfg')]);
  assert.equal(cfg.files.length, 2);
  assert.deepEqual(diagnosticsOf(() => loadConfig([fixture('bad.cfg'), fixture('bad-frontend.cfg')])), [
    "bad.cfg:2: unknown keyword 'nbthrad' in 'global' section (did you mean 'nbthread'?)",
    "bad.cfg:5: unknown keyword 'srever' in backend 'app' (did you mean 'server'?)",
    "bad-frontend.cfg:3: frontend 'web': unable to find required default_backend: 'ap' (did you mean 'app'?)",
  ]);
});

test('a missing file is the file system error (the CLI reports it as HAProxy does)', () => {
  assert.throws(() => loadConfig([fixture('nope.cfg')]), { code: 'ENOENT' });
});

test('each file starts outside any section', () => {
  assert.deepEqual(diagnosticsOf(() => parseConfig([{ name: 'a.cfg', text: 'global\n    maxconn 5\n' }, { name: 'b.cfg', text: '    nbthread 2\n' }])), ["b.cfg:1: unknown keyword 'nbthread' out of section"]);
});

test('quick mode: one listen section named quick, redispatch, 5s/30s/30s timeouts, logs on stdout', () => {
  const cfg = quickConfig({ listen: ['127.0.0.1:8080', ':8081'], to: ['127.0.0.1:3000', '[::1]:3001'], mode: 'tcp' });
  const src = { file: '<command line>', line: 0 };
  const settings: ProxySettings = {
    mode: 'tcp',
    timeouts: { connect: 5000, client: 30_000, server: 30_000 },
    logGlobal: true,
    tcplog: true,
    balance: 'roundrobin',
    retries: 3,
    redispatch: -1,
    dontlognull: false,
    httplog: false,
    httpConnMode: 'keep-alive',
    httpReuse: 'safe',
    retryOn: ['conn-failure'],
  };
  const server = { weight: 1, maxconn: 0, maxqueue: 0, backup: false, disabled: false, src };
  assert.deepEqual(cfg, {
    global: { maxconn: 4096, hardStopAfter: 30_000, statsSockets: [], logs: [{ target: 'stdout', format: 'raw', facility: 'local0' }] },
    frontends: [
      {
        name: 'quick',
        settings,
        binds: [
          { host: '127.0.0.1', port: 8080, src },
          { host: '', port: 8081, src },
        ],
        defaultBackend: 'quick',
        useBackends: [],
        httpRequest: [],
        httpResponse: [],
        src,
      },
    ],
    backends: [
      {
        name: 'quick',
        settings,
        servers: [
          { name: 's1', host: '127.0.0.1', port: 3000, ...server },
          { name: 's2', host: '::1', port: 3001, ...server },
        ],
        httpRequest: [],
        httpResponse: [],
        src,
      },
    ],
    files: [],
    warnings: [],
    notices: [],
  } satisfies Config);
  assert.equal(quickConfig({ listen: [':1'], to: ['127.0.0.1:2'], mode: 'http' }).backends[0]?.settings.mode, 'http');
});

test('quick mode: every bad address is reported', () => {
  assert.deepEqual(diagnosticsOf(() => quickConfig({ listen: ['nope', ':1'], to: ['127.0.0.1', ':80'], mode: 'tcp' })), [
    "<command line>:0: --listen: missing port in 'nope'",
    "<command line>:0: --to: missing port in '127.0.0.1'",
    "<command line>:0: --to: missing host in ':80'",
  ]);
  assert.deepEqual(diagnosticsOf(() => quickConfig({ listen: [], to: [], mode: 'tcp' })), ['<command line>:0: --listen: at least one address is needed', '<command line>:0: --to: at least one server is needed']);
});
