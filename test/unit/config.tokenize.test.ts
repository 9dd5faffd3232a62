/**
 * The configuration tokenizer against HAProxy's `parse_line` rules, and the time and integer
 * helpers. Expected values are what HAProxy 2.6 reads for the same text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseDuration, parseInteger, parseSignedInteger } from '../../src/config/duration.ts';
import { ConfigError, KeywordError } from '../../src/config/errors.ts';
import { splitWords, tokenize, tokenizeLines } from '../../src/config/tokenize.ts';

const words = (line: string) => splitWords(line, {});

test('tokenizer: words, quotes and comments', () => {
  const cases: Array<[string, string[]]> = [
    ['', []],
    ['   \t  ', []],
    ['# a comment', []],
    ['    # an indented comment', []],
    ['server s1 127.0.0.1:80', ['server', 's1', '127.0.0.1:80']],
    ['  bind\t:80 \t maxconn 5   ', ['bind', ':80', 'maxconn', '5']],
    ['bind :80 # trailing comment', ['bind', ':80']],
    ['bind :80#no space before the comment', ['bind', ':80']],
    ['log-tag "my tag"', ['log-tag', 'my tag']],
    ["log-tag 'my tag'", ['log-tag', 'my tag']],
    ['x "a # not a comment"', ['x', 'a # not a comment']],
    ["x 'a # not a comment'", ['x', 'a # not a comment']],
    ['x "it\'s"', ['x', "it's"]],
    ['x \'say "hi"\'', ['x', 'say "hi"']],
    ['x a"b c"d', ['x', 'ab cd']],
    ['x "" y', ['x', '', 'y']],
    ["x '' y", ['x', '', 'y']],
    ['x ""', ['x', '']],
  ];
  for (const [line, expected] of cases) assert.deepEqual(words(line), expected, line);
});

test('tokenizer: backslash escapes as HAProxy reads them', () => {
  const cases: Array<[string, string[]]> = [
    ['a\\ b', ['a b']],
    ['a\\\\b', ['a\\b']],
    ['a\\#b', ['a#b']],
    ['a\\"b', ['a"b']],
    ["a\\'b", ["a'b"]],
    ['"a\\"b"', ['a"b']],
    ['"a\\\\b"', ['a\\b']],
    ['a\\tb a\\nb a\\rb', ['a\tb', 'a\nb', 'a\rb']],
    ['\\x41\\x7a', ['Az']],
    // any other backslash is kept, as HAProxy keeps `\1`
    ['a\\1 \\q', ['a\\1', '\\q']],
    // `\$` is a dollar only where `$` means a variable (inside double quotes)
    ['"\\$HOME" \\$HOME', ['$HOME', '\\$HOME']],
    // single quotes are fully literal
    ["'a\\ b\\\\'", ['a\\ b\\\\']],
  ];
  for (const [line, expected] of cases) assert.deepEqual(words(line), expected, line);
});

test('tokenizer: errors are messages, not exceptions', () => {
  assert.equal(words('x "open'), 'unmatched double quote');
  assert.equal(words("x 'open"), 'unmatched single quote');
  assert.equal(words('x \\x4'), "invalid or incomplete hex sequence '\\x4'");
  assert.equal(words('x \\xZZ'), "invalid or incomplete hex sequence '\\xZZ'");
  assert.equal(words('x "cost $5"'), "invalid variable name after '$' (write '\\$' for a dollar sign)");
  assert.deepEqual(words('x cost$5'), ['x', 'cost$5'], 'outside double quotes a $ is literal');
});

test('tokenizer: line numbers, blank lines, CRLF, continuation reporting the first line', () => {
  const text = ['global', '', '    # comment', '    maxconn \\', '        100', 'defaults\r', '    mode tcp   ', '    log-tag a\\\\', '    x \\', '\\', '      y'].join('\n');
  assert.deepEqual(tokenize(text, 'f.cfg', {}), [
    { line: 1, words: ['global'] },
    { line: 4, words: ['maxconn', '100'] },
    { line: 6, words: ['defaults'] },
    { line: 7, words: ['mode', 'tcp'] },
    { line: 8, words: ['log-tag', 'a\\'] }, // an escaped backslash does not continue the line
    { line: 9, words: ['x', 'y'] }, // two continuations in a row
  ]);
});

test('tokenizer: every bad line of a file is reported, with its line', () => {
  const text = 'global\n  log-tag "a\n  maxconn 1\n  x \\xG1\n';
  assert.throws(
    () => tokenize(text, 'f.cfg', {}),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.code, 'SY_ERR_CONFIG');
      assert.equal(e.source, 'proxy');
      assert.equal(e.retryable, false);
      assert.deepEqual(e.diagnostics, [
        { file: 'f.cfg', line: 2, message: 'unmatched double quote' },
        { file: 'f.cfg', line: 4, message: "invalid or incomplete hex sequence '\\xG1'" },
      ]);
      assert.equal(e.message, "f.cfg:2: unmatched double quote\nf.cfg:4: invalid or incomplete hex sequence '\\xG1'");
      return true;
    },
  );
  const { lines, errors } = tokenizeLines(text, 'f.cfg', {});
  assert.deepEqual(lines.map((l) => l.line), [1, 3], 'the good lines are still returned');
  assert.equal(errors.length, 2);
  assert.throws(() => tokenize('x \\', 'f.cfg', {}), /f\.cfg:1: a backslash ends the line/);
});

test('tokenizer: returns tokens or throws a ConfigError, whatever the text (fast-check)', () => {
  const interesting = fc.constantFrom(' ', '\t', '\n', '\r\n', '#', '"', "'", '\\', '$', '${', '}', '[*]', '-', 'x', 'A', '\\x4', '\\x41');
  const text = fc.oneof(fc.string({ maxLength: 200, unit: 'binary' }), fc.array(interesting, { maxLength: 60 }).map((a) => a.join('')));
  fc.assert(
    fc.property(text, (s) => {
      try {
        const lines = tokenize(s, 'f', { A: 'one two' });
        for (const l of lines) {
          assert.ok(Number.isInteger(l.line) && l.line >= 1);
          assert.ok(l.words.length > 0 && l.words.every((w) => typeof w === 'string'));
        }
      } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        assert.ok(e.diagnostics.length > 0);
      }
    }),
    { numRuns: 1000 },
  );
});

test('durations: HAProxy units, unitless milliseconds, microseconds rounded up', () => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['100', 100],
    ['100ms', 100],
    ['1s', 1000],
    ['2m', 120_000],
    ['3h', 10_800_000],
    ['1d', 86_400_000],
    ['10us', 1],
    ['1000us', 1],
    ['1001us', 2],
    ['1500us', 2],
    ['0us', 0],
    ['24d', 2_073_600_000],
    ['2147483647', 2_147_483_647],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  for (const bad of ['', 's', '1x', '10x', '-1s', '+1s', '1.5s', '1 s', '1S', '1sec', '1mn', '25d', '2147483648', '99999999999999999999d']) {
    assert.throws(() => parseDuration(bad, 'timeout client'), KeywordError, bad);
  }
  assert.throws(() => parseDuration('10x', 'timeout client'), { message: "timeout client: invalid time '10x' (expected a number with an optional unit: us, ms, s, m, h, d)" });
  assert.throws(() => parseDuration('25d', 'hard-stop-after'), { message: "hard-stop-after: time '25d' is too large (at most 2147483647 ms, about 24.8 days)" });
});

test('integers: non-negative within bounds; signed for redispatch', () => {
  assert.equal(parseInteger('0', 'n'), 0);
  assert.equal(parseInteger('256', 'n', 0, 256), 256);
  assert.throws(() => parseInteger('257', 'weight', 0, 256), { message: 'weight: 257 is out of range (0..256)' });
  assert.throws(() => parseInteger(undefined, 'retries'), { message: "retries: expected an integer, got ''" });
  for (const bad of ['-1', '1.0', '1e3', '0x10', ' 1', 'ten']) assert.throws(() => parseInteger(bad, 'n'), KeywordError, bad);
  assert.equal(parseSignedInteger('-2', 'r'), -2);
  assert.equal(parseSignedInteger('+3', 'r'), 3);
  assert.throws(() => parseSignedInteger('two', 'option redispatch'), { message: "option redispatch: expected an integer, got 'two'" });
});
