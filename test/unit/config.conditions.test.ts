/**
 * Conditional blocks (`.if/.elif/.else/.endif`) and `.notice/.warning/.alert`, checked against
 * HAProxy 2.6 itself: the same file goes through `haproxy -c` and through switchyard's parser, and
 * the branch taken, the messages and the errors (with their lines) must be the same.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/errors.ts';
import { parseConfig } from '../../src/config/parse.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-cond-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  readonly notices: string[];
  readonly warnings: string[];
  readonly errors: string[];
}

/** What HAProxy 2.6 says of `text` (`haproxy -c`): its notices, warnings and alerts about lines. */
function haproxy(text: string): Outcome {
  const file = path.join(dir, 'c.cfg');
  fs.writeFileSync(file, text);
  const r = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8', env: { ...process.env, SY_COND_SET: 'yes' } });
  assert.ok(r.error === undefined, `haproxy must be installed (.ci/run installs it): ${r.error?.message}`);
  const out: Outcome = { notices: [], warnings: [], errors: [] };
  for (const l of `${r.stdout}${r.stderr}`.split('\n')) {
    const m = /^\[(NOTICE|WARNING|ALERT)\][^:]*: config : parsing \[[^\]]*c\.cfg:(\d+)\]\s*: (.*?)(?: at position \d+:?)?$/.exec(l);
    if (!m) continue;
    const line = `${m[2]}: ${m[3]}`;
    if (m[1] === 'NOTICE') out.notices.push(line);
    else if (m[1] === 'WARNING') out.warnings.push(line);
    else out.errors.push(line);
  }
  return out;
}

/** What switchyard says of the same text. */
function switchyard(text: string): Outcome {
  const strip = (m: string) => m.replace(/ at position \d+$/, '');
  const prev = process.env.SY_COND_SET;
  process.env.SY_COND_SET = 'yes';
  try {
    const cfg = parseConfig([{ name: 'c.cfg', text }]);
    return { notices: cfg.notices.map((n) => `${n.line}: ${n.message}`), warnings: cfg.warnings.map((w) => `${w.line}: ${w.message}`), errors: [] };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { notices: [], warnings: [], errors: e.diagnostics.map((d) => `${d.line}: ${strip(d.message)}`) };
  } finally {
    if (prev === undefined) delete process.env.SY_COND_SET;
    else process.env.SY_COND_SET = prev;
  }
}

const branch = (cond: string): string => `global\n.if ${cond}\n  .notice "TRUE"\n.else\n  .notice "FALSE"\n.endif\n`;

// conditions whose value is the same for both programs (no OPENSSL-like features, no patch levels)
const CONDITIONS = [
  '1',
  '0',
  '2',
  '',
  '"${SY_COND_UNSET}"',
  'feature(THREAD)',
  'feature(SY_NO_SUCH)',
  '!feature(SY_NO_SUCH) || 0',
  'feature(THREAD) && 1',
  'feature(THREAD)&&0',
  '(1 && (0 || 1))',
  '!(1 && 0)',
  '0 || 0 || 1',
  '1 && 0 || 1 && 1',
  'defined(SY_COND_SET)',
  'defined(SY_COND_UNSET)',
  'streq(a,a)',
  'streq(a, a)',
  'strneq(a,b)',
  'streq("${SY_COND_SET}",yes)',
  'strneq("${SY_COND_SET}",yes)',
  'version_atleast(2.4)',
  'version_atleast(2.4-dev19)',
  'version_atleast(2.7)',
  'version_before(2.7)',
  'version_before(2.6)',
  'version_before(3)',
];

for (const c of CONDITIONS) {
  test(`.if ${c || '(empty)'}: the branch HAProxy 2.6 takes`, () => {
    const want = haproxy(branch(c));
    assert.deepEqual(want.errors, [], 'HAProxy accepts it');
    assert.deepEqual(switchyard(branch(c)), want);
  });
}

const FILES: Record<string, string> = {
  'elif chain': 'global\n.if 0\n.notice "if"\n.elif 0\n.notice "elif 1"\n.elif 1\n.notice "elif 2"\n.elif 1\n.notice "elif 3"\n.else\n.notice "else"\n.endif\n',
  'nested, inner not evaluated when the outer is not taken': 'global\n.if 0\n.if bogus(x)\n.alert "no"\n.endif\n.else\n.notice "outer else"\n.endif\n',
  'an elif after a taken branch is not evaluated': 'global\n.if 1\n.notice "taken"\n.elif bogus(x)\n.endif\n',
  'lines of a block not taken are not parsed': 'global\n.if 0\n  nonsense keyword here\n.endif\n',
  'notice, warning, empty notice': 'global\n.notice "hello there"\n.warning "warn me"\n.notice\n',
  'alert is an error': 'global\n.if 1\n.alert "boom"\n.endif\n',
  'lone endif': 'global\n.endif\n',
  'lone else': 'global\n.else\n',
  'else after else': 'global\n.if 1\n.else\n.else\n.endif\n',
  'elif after else': 'global\n.if 1\n.else\n.elif 1\n.endif\n',
  'non-terminated if': 'global\n.if 1\n',
  'unknown predicate': 'global\n.if bogus(x)\n.endif\n',
  'not an expression': 'global\n.if foo\n.endif\n',
  'trailing junk': 'global\n.if 1 2\n.endif\n',
  'comments after directives': 'global\n.if 1 # comment\n.notice "x"\n.endif # c\n',
};

for (const [name, text] of Object.entries(FILES)) {
  test(`conditional blocks: ${name}, as HAProxy 2.6 says`, () => {
    const want = haproxy(text);
    // HAProxy adds a summary alert ("Error(s) found in configuration file"), not about a line
    assert.deepEqual(switchyard(text), want);
  });
}

test('an unterminated predicate argument is an error naming the line', () => {
  const o = switchyard('global\n.if streq(a,b\n.endif\n');
  assert.deepEqual(o.errors, ["2: expected ')' in argument 2 of predicate 'streq' used in conditional expression in '.if'"]);
  assert.equal(haproxy('global\n.if streq(a,b\n.endif\n').errors.length, 1);
});

test('a block taken keeps its keywords, one not taken drops them', () => {
  const cfg = parseConfig([{ name: 'c.cfg', text: 'global\n.if feature(THREAD)\n  maxconn 123\n.else\n  maxconn 456\n.endif\n' }]);
  assert.equal(cfg.global.maxconn, 123);
});

test('-cc: the exit status of haproxy -cc (0 true, 1 false, 2 error)', () => {
  const bin = new URL('../../bin/switchyard.js', import.meta.url).pathname;
  for (const c of ['1', '0', 'feature(THREAD) && version_atleast(2.5-dev0)', 'version_before(2.4)', 'bogus(x)', 'streq(a,b']) {
    const mine = spawnSync(process.execPath, [bin, '-cc', c], { encoding: 'utf8' }).status;
    const ref = spawnSync('haproxy', ['-cc', c], { encoding: 'utf8' }).status;
    assert.equal(mine, ref, `-cc '${c}'`);
  }
});
