import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseDuration } from '../../src/config/duration.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { helpText, keywords, parseHostPort } from '../../src/config/keywords.ts';
import { parseConfig, quickConfig } from '../../src/config/parse.ts';
import { distance, suggest } from '../../src/config/suggest.ts';
import { splitWords, tokenize } from '../../src/config/tokenize.ts';

const parse = (text: string) => parseConfig([{ name: 'h.cfg', text }]);
function errorsOf(text: string): string[] {
  try {
    parse(text);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.code, 'SY_ERR_CONFIG');
    return e.diagnostics.map((d) => `${d.file}:${d.line}: ${d.message}`);
  }
  return [];
}

test('tokenizer: blanks, comments, quotes, escapes, continuation', () => {
  assert.deepEqual(splitWords('  server s1   127.0.0.1:80\tweight 3 # comment'), ['server', 's1', '127.0.0.1:80', 'weight', '3']);
  assert.deepEqual(splitWords('a "b c" \'d "e"\' f\\ g h\\#i "j\\"k"'), ['a', 'b c', 'd "e"', 'f g', 'h#i', 'j"k']);
  assert.deepEqual(splitWords('x "" y'), ['x', '', 'y']);
  assert.deepEqual(splitWords('# only a comment'), []);
  assert.equal(splitWords('a "unterminated'), 'unmatched double quote');
  const lines = tokenize('global\n  maxconn \\\n  100\n\n# c\nx', 'f');
  assert.deepEqual(lines, [
    { line: 1, words: ['global'] },
    { line: 2, words: ['maxconn', '100'] },
    { line: 6, words: ['x'] },
  ]);
});

test('tokenizer never throws anything but a ConfigError, on any input', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (s) => {
      try {
        tokenize(s, 'f');
      } catch (e) {
        assert.ok(e instanceof ConfigError);
      }
    }),
    { numRuns: 500 },
  );
});

test('durations as HAProxy reads them', () => {
  const cases: Array<[string, number]> = [['100', 100], ['100ms', 100], ['1s', 1000], ['2m', 120_000], ['3h', 10_800_000], ['1d', 86_400_000], ['1500us', 2], ['0', 0]];
  for (const [t, ms] of cases) assert.equal(parseDuration(t), ms, t);
  for (const bad of ['', '1x', '-1s', '1.5s', 's', '99999999d']) assert.throws(() => parseDuration(bad), bad);
});

test('addresses: v4, v6, wildcard, prefixes', () => {
  assert.deepEqual(parseHostPort('127.0.0.1:80', 'x'), { host: '127.0.0.1', port: 80 });
  assert.deepEqual(parseHostPort(':8080', 'x'), { host: '', port: 8080 });
  assert.deepEqual(parseHostPort('*:8080', 'x'), { host: '', port: 8080 });
  assert.deepEqual(parseHostPort('[::1]:443', 'x'), { host: '::1', port: 443 });
  assert.deepEqual(parseHostPort('ipv6@::1:443', 'x'), { host: '::1', port: 443 });
  assert.deepEqual(parseHostPort('ipv4@10.0.0.1:5', 'x'), { host: '10.0.0.1', port: 5 });
  assert.throws(() => parseHostPort('10.0.0.1', 'x'), /missing port/);
  assert.throws(() => parseHostPort('10.0.0.1:99999', 'x'), /out of range/);
});

test('did-you-mean: close misspellings only', () => {
  assert.equal(distance('srever', 'server'), 2);
  assert.equal(suggest('srever', ['server', 'bind', 'balance']), 'server');
  assert.equal(suggest('timeout clinet', ['timeout client', 'timeout server']), 'timeout client');
  assert.equal(suggest('xyz', ['server', 'bind']), undefined);
});

test('a realistic mode tcp config parses to the expected model', () => {
  const cfg = parse(`
# HAProxy-style config
global
    maxconn 20000
    nbthread 2
    hard-stop-after 10s
    stats socket /run/sy.sock level admin
    stats socket ipv4@127.0.0.1:9999
    log 127.0.0.1:514 local0 info
    log stdout format raw daemon

defaults
    mode tcp
    log global
    option tcplog
    option dontlognull
    retries 2
    option redispatch
    timeout connect 5s
    timeout client 1m
    timeout server 1m

frontend db
    bind 127.0.0.1:5433,127.0.0.2:5433 maxconn 500
    default_backend pg

backend pg
    balance leastconn
    no option redispatch
    server pg1 10.0.0.11:5432 maxconn 100 maxqueue 50 weight 10
    server pg2 10.0.0.12:5432 check inter 2s rise 2 fall 3
    server pg3 10.0.0.13:5432 backup disabled

defaults
    mode tcp
    timeout connect 1s
    timeout client 2s
    timeout server 2s

listen cache
    bind :6380
    balance source
    server c1 [::1]:6379
`);
  assert.equal(cfg.global.maxconn, 20000);
  assert.equal(cfg.global.nbthread, 2);
  assert.equal(cfg.global.hardStopAfter, 10_000);
  assert.deepEqual(cfg.global.statsSockets.map((s) => [s.address, s.level]), [
    [{ kind: 'unix', path: '/run/sy.sock' }, 'admin'],
    [{ kind: 'tcp', host: '127.0.0.1', port: 9999 }, 'operator'],
  ]);
  assert.deepEqual(cfg.global.logs, [
    { target: { host: '127.0.0.1', port: 514 }, format: 'rfc3164', facility: 'local0', level: 'info' },
    { target: 'stdout', format: 'raw', facility: 'daemon' },
  ]);
  assert.deepEqual(cfg.frontends.map((f) => [f.name, f.defaultBackend, f.binds.map((b) => `${b.host}:${b.port}/${b.maxconn}`)]), [
    ['db', 'pg', ['127.0.0.1:5433/500', '127.0.0.2:5433/500']],
    ['cache', 'cache', [':6380/undefined']],
  ]);
  const [pg, cache] = cfg.backends;
  assert.ok(pg && cache);
  assert.equal(pg.settings.balance, 'leastconn');
  assert.equal(pg.settings.redispatch, 0, 'no option redispatch overrides the defaults');
  assert.equal(pg.settings.retries, 2);
  assert.equal(pg.settings.logGlobal, true);
  assert.deepEqual(pg.settings.timeouts, { connect: 5000, client: 60_000, server: 60_000 });
  assert.deepEqual(pg.servers.map((s) => [s.name, s.host, s.port, s.weight, s.maxconn, s.maxqueue, s.backup, s.disabled]), [
    ['pg1', '10.0.0.11', 5432, 10, 100, 50, false, false],
    ['pg2', '10.0.0.12', 5432, 1, 0, 0, false, false],
    ['pg3', '10.0.0.13', 5432, 1, 0, 0, true, true],
  ]);
  // the second defaults section applies to what follows it only, and starts from scratch
  assert.equal(cache.settings.balance, 'source');
  assert.equal(cache.settings.retries, 3);
  assert.equal(cache.settings.logGlobal, false);
  assert.deepEqual(cache.settings.timeouts, { connect: 1000, client: 2000, server: 2000 });
  assert.equal(cache.servers[0]?.host, '::1');
  assert.deepEqual(cfg.warnings, []);
});

test('option redispatch values and the no prefix', () => {
  const r = (line: string) => parse(`backend b\n    ${line}\n    server s 1.2.3.4:1\n`).backends[0]?.settings.redispatch;
  assert.equal(r('option redispatch'), -1);
  assert.equal(r('option redispatch 2'), 2);
  assert.equal(r('option redispatch -2'), -2);
  assert.equal(r('no option redispatch'), 0);
});

test('errors name the file and line, suggest a keyword, and are all collected', () => {
  const errs = errorsOf(`global
    maxconn lots
defaults
    mode tcpp
backend app
    srever s1 127.0.0.1:80
    timeout clinet 5s
    timeout server 10x
    balance roundrobbin
    server s1 127.0.0.1:80
    server s2 127.0.0.1:81 wieght 3
    server s1 127.0.0.1:82
frontend fe
    bind 127.0.0.1:80
    default_backend ap
`);
  assert.deepEqual(errs, [
    "h.cfg:2: maxconn: expected an integer, got 'lots'",
    "h.cfg:4: mode: unknown mode 'tcpp' (did you mean 'tcp'?) (tcp, http)",
    "h.cfg:6: unknown keyword 'srever' in backend 'app' (did you mean 'server'?)",
    "h.cfg:7: unknown keyword 'timeout clinet' in backend 'app' (did you mean 'timeout client'?)",
    "h.cfg:8: timeout server: invalid time '10x' (expected a number with an optional unit: us, ms, s, m, h, d)",
    "h.cfg:9: balance: unknown algorithm 'roundrobbin' (did you mean 'roundrobin'?) (roundrobin, static-rr, leastconn, first, source, random, uri, hdr)",
    "h.cfg:11: 'server s2': unknown option 'wieght' (did you mean 'weight'?)",
    "h.cfg:12: server 's1' is already defined in backend 'app'",
    "h.cfg:15: frontend 'fe': unable to find required default_backend: 'ap' (did you mean 'app'?)",
  ]);
});

test('section rules: errors where HAProxy errors, warnings where it only warns', () => {
  assert.deepEqual(errorsOf('defaults\n    bind 127.0.0.1:1\n'), ["h.cfg:2: 'bind' is not allowed in 'defaults' section"]);
  assert.deepEqual(errorsOf('frontend f\n    bind 127.0.0.1:1\n    server s 1.2.3.4:5\n'), ["h.cfg:3: 'server' not allowed because frontend 'f' has no backend capability"]);
  assert.deepEqual(errorsOf('global\n    mode tcp\n'), ["h.cfg:2: 'mode' is not allowed in 'global' section"]);
  assert.deepEqual(errorsOf('maxconn 5\n'), ["h.cfg:1: unknown keyword 'maxconn' out of section"]);
  const cfg = parse('backend b\n    bind 127.0.0.1:1\n    timeout client 1s\n    server s 1.2.3.4:5\n');
  assert.deepEqual(
    cfg.warnings.map((w) => `${w.line}: ${w.message}`),
    ["2: 'bind' ignored because backend 'b' has no frontend capability", "3: 'timeout client' ignored because backend 'b' has no frontend capability", "1: missing timeouts for backend 'b'"],
  );
});

test('several files are one configuration, in order', () => {
  const cfg = parseConfig([
    { name: 'a.cfg', text: 'defaults\n    mode tcp\n    retries 7\n' },
    { name: 'b.cfg', text: 'backend b\n    server s 1.2.3.4:5\n' },
  ]);
  assert.equal(cfg.backends[0]?.settings.retries, 7, 'a defaults section applies across files, as in HAProxy');
});

test('named defaults: defaults NAME [from BASE], proxies choose with from NAME', () => {
  const cfg = parse(`
defaults base
    mode tcp
    retries 5
    timeout connect 1s
defaults strict from base
    retries 1
defaults
    retries 2
backend a from base
    server s 1.2.3.4:5
backend b from strict
    server s 1.2.3.4:5
backend c
    server s 1.2.3.4:5
`);
  assert.deepEqual(cfg.backends.map((b) => [b.name, b.settings.retries, b.settings.timeouts.connect]), [
    ['a', 5, 1000],
    ['b', 1, 1000],
    ['c', 2, undefined],
  ]);
  assert.deepEqual(errorsOf('defaults base\n    mode tcp\nlisten c from bsae\n    bind 127.0.0.1:1\n'), [
    "h.cfg:3: defaults section 'bsae' not found for proxy 'c' (did you mean 'base'?)",
  ]);
});

test('environment variables: in double quotes, with defaults and [*]; in addresses anywhere', () => {
  const env = { ADDR: '127.0.0.1:8001', LIST: '10.0.0.1:1 10.0.0.2:2', T: '250' };
  const words = (line: string) => splitWords(line, env);
  assert.deepEqual(words('bind "${ADDR}"'), ['bind', '127.0.0.1:8001']);
  assert.deepEqual(words('x "${NOPE-def}" "${T}ms" "$T"'), ['x', 'def', '250ms', '250']);
  assert.deepEqual(words('x "${LIST[*]}"'), ['x', '10.0.0.1:1', '10.0.0.2:2']);
  assert.deepEqual(words("x '${T}'"), ['x', '${T}'], 'single quotes are literal');
  assert.equal(words('x "${T"'), "missing '}' after '${'");
  const prev = { ...process.env };
  process.env.SY_TEST_ADDR = '127.0.0.1:8002';
  try {
    const cfg = parse('listen a\n    bind ${SY_TEST_ADDR}\n    server s "${SY_TEST_NOPE-10.0.0.9:80}"\n');
    assert.equal(cfg.frontends[0]?.binds[0]?.port, 8002, 'addresses expand ${} even unquoted, as HAProxy does');
    assert.equal(cfg.backends[0]?.servers[0]?.host, '10.0.0.9');
  } finally {
    process.env = prev;
  }
});

test('quick mode builds one listen section with redispatch and timeouts', () => {
  const cfg = quickConfig({ listen: ['127.0.0.1:8080'], to: ['127.0.0.1:3000', '127.0.0.1:3001'], mode: 'tcp' });
  assert.equal(cfg.frontends[0]?.defaultBackend, 'quick');
  assert.deepEqual(cfg.backends[0]?.servers.map((s) => `${s.name}=${s.host}:${s.port}`), ['s1=127.0.0.1:3000', 's2=127.0.0.1:3001']);
  assert.equal(cfg.backends[0]?.settings.redispatch, -1);
  assert.throws(() => quickConfig({ listen: ['nope'], to: ['127.0.0.1:1'], mode: 'tcp' }), ConfigError);
});

test('every keyword has help text and appears in --help', () => {
  const help = helpText();
  for (const k of keywords) {
    assert.ok(k.help.length > 10, `${k.name} has help`);
    assert.ok(help.includes(k.name), `${k.name} in help`);
  }
});

test('the parser never fails with anything but a ConfigError, whatever the lines (fast-check)', () => {
  const words = ['global', 'defaults', 'frontend', 'backend', 'listen', 'from', 'x', 'bind', 'server', 's1', '127.0.0.1:80', ':0', 'fd@3', 'maxconn', '5', 'timeout', 'client', '1s', 'balance', 'source', 'option', 'redispatch', 'no', 'log', 'global', 'stdout', 'local0', 'mode', 'tcp', 'default_backend', 'stats', 'socket', '/tmp/s', 'level', 'admin', 'weight', '300', '"${X-1}"', '#', '"'];
  const line = fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 5 }).map((ws) => ws.join(' '));
  fc.assert(
    fc.property(fc.array(line, { maxLength: 25 }), (lines) => {
      try {
        parseConfig([{ name: 'f.cfg', text: lines.join('\n') }]);
      } catch (e) {
        assert.ok(e instanceof ConfigError, String((e as Error).stack));
      }
    }),
    { numRuns: 1000 },
  );
});
