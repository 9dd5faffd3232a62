/**
 * The VTC runner's tokenizer and expectations, and a `.vtc` that must fail: the runner reports the
 * failing line with what was expected and seen (a runner that passes everything tests nothing).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { compare, parseAddress, parseSpec, runVtcFile, synthBody, vre } from '../vtc/runner.ts';
import { Target, TestStatus, TokenKind, VtcError } from '../vtc/runner.types.ts';

const OPTS = { timeoutS: 20, target: Target.SWITCHYARD, verbose: false, keepTmp: false, threads: 1, out: () => undefined } as const;

test('commands end at a newline; a backslash continues the line; # comments out the rest', () => {
  const cmds = parseSpec('varnishtest "a test"\n# comment line\nclient c1 -connect ${x} \\\n   -repeat 2 # trailing\n\ndelay 0.1\n');
  assert.deepEqual(
    cmds.map((c) => [c.line, c.tokens.map((t) => t.text)]),
    [
      [1, ['varnishtest', 'a test']],
      [3, ['client', 'c1', '-connect', '${x}', '-repeat', '2']],
      [6, ['delay', '0.1']],
    ],
  );
});

test('quoted strings take escapes; other backslashes stay for regexes', () => {
  const [cmd] = parseSpec('send "a\\r\\n\\"b\\" \\x41 \\\\ \\. \\d"');
  assert.equal(cmd?.tokens[1]?.kind, TokenKind.QUOTED);
  assert.equal(cmd?.tokens[1]?.text, 'a\r\n"b" A \\ \\. \\d');
});

test('blocks nest, stay raw, and number their inner lines from where they start', () => {
  const text = 'server s1 {\n    rxreq\n    expect req.http.x == "{}"\n    loop 2 { send "x" }\n} -start\nclient c1 {\n  txreq\n} -run\n';
  const cmds = parseSpec(text);
  assert.equal(cmds.length, 2);
  const block = cmds[0]?.tokens[2];
  assert.equal(block?.kind, TokenKind.BLOCK);
  assert.equal(cmds[0]?.tokens[3]?.text, '-start');
  const inner = parseSpec(block?.text ?? '', block?.line);
  assert.deepEqual(
    inner.map((c) => [c.line, c.tokens[0]?.text]),
    [
      [2, 'rxreq'],
      [3, 'expect'],
      [4, 'loop'],
    ],
  );
  assert.equal(inner[2]?.tokens[2]?.text, ' send "x" ');
  assert.equal(cmds[1]?.line, 6);
});

test('an unterminated block or string is a syntax error with its line', () => {
  assert.throws(() => parseSpec('vtest "x"\nserver s1 {\n rxreq\n'), (e: unknown) => e instanceof VtcError && e.line === 2 && /unterminated/.test(e.message));
  assert.throws(() => parseSpec('\n\nsend "abc\n'), (e: unknown) => e instanceof VtcError && e.line === 3);
});

test('expect compares as VTest does: strings, regexes, numbers, <undef>', () => {
  assert.ok(compare('200', '==', '200'));
  assert.ok(!compare('200', '==', '201'));
  assert.ok(compare(null, '==', '<undef>'));
  assert.ok(!compare(null, '~', '.*'));
  assert.ok(compare('abc', '~', '^a.c$'));
  assert.ok(compare('abc', '!~', 'x'));
  assert.ok(compare('10', '>', '9'));
  assert.ok(!compare('x', '<', '9'));
  assert.ok(vre('(?m)^b$').test('a\nb\nc'));
  assert.throws(() => vre('(', 'c1', 7), (e: unknown) => e instanceof VtcError && e.line === 7);
});

test('addresses and generated bodies', () => {
  assert.deepEqual(parseAddress('127.0.0.1 8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseAddress('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseAddress('/tmp/x.sock'), { path: '/tmp/x.sock' });
  assert.equal(parseAddress('nonsense'), null);
  const b = synthBody(200);
  assert.equal(b.length, 200);
  assert.equal(b[63], 0x0a);
  assert.equal(b[199], 0x0a);
  assert.ok([...b].every((c) => c === 0x0a || (c >= 0x21 && c < 0x7f)));
});

function vtcFile(text: string): { file: string; done: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vtc-unit-'));
  const file = path.join(dir, 't.vtc');
  fs.writeFileSync(file, text);
  return { file, done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const EXCHANGE = (expectStatus: string) => `varnishtest "client and server alone"
server s1 {
    rxreq
    expect req.url == "/x"
    txresp -status 404 -body "nope"
} -start

client c1 -connect \${s1_sock} {
    txreq -url "/x"
    rxresp
    expect resp.body == "nope"
    expect resp.status == ${expectStatus}
} -run
`;

test('a .vtc whose expectations hold passes', async () => {
  const t = vtcFile(EXCHANGE('404'));
  try {
    const r = await runVtcFile(t.file, OPTS);
    assert.equal(r.status, TestStatus.PASSED, r.reason ?? '');
  } finally {
    t.done();
  }
});

test('a .vtc that must fail fails, at its line, with what was expected and seen', async () => {
  const t = vtcFile(EXCHANGE('200'));
  try {
    const r = await runVtcFile(t.file, OPTS);
    assert.equal(r.status, TestStatus.FAILED);
    assert.equal(r.line, 12);
    assert.match(r.reason ?? '', /^c1 t\.vtc:12: EXPECT resp\.status \(404\) == "200" failed$/);
  } finally {
    t.done();
  }
});

test('a server that never gets its request fails the test by the timeout, and everything is closed', async () => {
  const t = vtcFile('vtest "timeout"\nserver s1 {\n    rxreq\n} -start\nserver s1 -wait\n');
  try {
    const r = await runVtcFile(t.file, { ...OPTS, timeoutS: 0.5 });
    assert.equal(r.status, TestStatus.FAILED);
    assert.match(r.reason ?? '', /TIMED OUT/);
  } finally {
    t.done();
  }
});

test('feature cmd skips the test when its command fails, and an unknown macro is an error', async () => {
  const skip = vtcFile('vtest "skip"\nfeature cmd "exit 3"\n');
  const macro = vtcFile('vtest "macro"\nshell "echo ${nope}"\n');
  const ignored = vtcFile('vtest "macro"\nfeature ignore_unknown_macro\nshell -expect "${nope}" "echo \'${nope}\'"\n');
  try {
    const r1 = await runVtcFile(skip.file, OPTS);
    assert.equal(r1.status, TestStatus.SKIPPED);
    const r2 = await runVtcFile(macro.file, OPTS);
    assert.equal(r2.status, TestStatus.FAILED);
    assert.match(r2.reason ?? '', /Macro \$\{nope\} not found/);
    const r3 = await runVtcFile(ignored.file, OPTS);
    assert.equal(r3.status, TestStatus.PASSED, r3.reason ?? '');
  } finally {
    skip.done();
    macro.done();
    ignored.done();
  }
});
