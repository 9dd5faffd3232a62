import type { Diagnostic } from './errors.ts';
import { ConfigError } from './errors.ts';

/** The words of one logical line and the (first) line number they came from. */
export interface ConfigLine {
  readonly line: number;
  readonly words: string[];
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Split a file into logical lines of words, with HAProxy's line syntax (`parse_line` in its
 * tools.c). Blank and comment-only lines are dropped. A backslash at the very end of a line joins
 * it with the next one (HAProxy has no continuation; switchyard adds it for long `server` lines),
 * and the joined line reports the number of its first line.
 *
 * Throws a ConfigError carrying every bad line of the file.
 */
export function tokenize(text: string, file: string, env: Env = process.env): ConfigLine[] {
  const { lines, errors } = tokenizeLines(text, file, env);
  if (errors.length > 0) throw new ConfigError(errors);
  return lines;
}

/** As `tokenize`, but returns the bad lines as diagnostics beside the good ones (the parser goes on). */
export function tokenizeLines(text: string, file: string, env: Env = process.env): { lines: ConfigLine[]; errors: Diagnostic[] } {
  const lines: ConfigLine[] = [];
  const errors: Diagnostic[] = [];
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    const first = i + 1;
    let src = raw[i] as string;
    while (endsWithContinuation(src) && i + 1 < raw.length) src = src.slice(0, -1) + (raw[++i] as string);
    const r = splitWords(src, env);
    if (typeof r === 'string') errors.push({ file, line: first, message: r });
    else if (r.length > 0) lines.push({ line: first, words: r });
  }
  return { lines, errors };
}

/** An odd number of backslashes at the end: the last one is not itself escaped. */
const endsWithContinuation = (s: string): boolean => /(^|[^\\])(\\\\)*\\$/.test(s);

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\v' || c === '\f' || c === '\r';

/**
 * Words of one logical line, or an error message. As HAProxy:
 * - blanks separate words, except inside quotes or when escaped (`\ `);
 * - `#` outside quotes starts a comment, even in the middle of a word;
 * - single quotes are fully literal; double quotes group, allow escapes and expand variables;
 * - a quote in the middle of a word does not split it (`a"b c"d` is `ab cd`), `""` is an empty word;
 * - outside single quotes `\\`, `\ `, `\#`, `\'`, `\"` give the character, `\t`, `\n`, `\r` the
 *   control character, `\xHH` the byte, and `\$` a `$` inside double quotes; any other backslash
 *   is kept as it is (`\1` stays `\1`).
 */
export function splitWords(s: string, env: Env = process.env): string[] | string {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
      continue;
    }
    if (c === '\\') {
      const esc = escapeAt(s, i, quote === '"');
      if (typeof esc === 'string') return esc;
      cur += esc.text;
      i += esc.consumed - 1;
      inWord = true;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '$') {
        const v = expandVar(s, i, env);
        if (typeof v === 'string') return v;
        i = v.end;
        // `${NAME[*]}`: a value of several words becomes several arguments
        const parts = v.split ? v.value.split(/\s+/).filter(Boolean) : [v.value];
        parts.forEach((part, k) => {
          cur += part;
          if (k < parts.length - 1) {
            words.push(cur);
            cur = '';
          }
        });
      } else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '#') {
      break;
    } else if (isBlank(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) return `unmatched ${quote === '"' ? 'double' : 'single'} quote`;
  if (inWord) words.push(cur);
  return words;
}

/** The escape sequence at `s[i]` (a backslash, outside single quotes): what it gives and its length. */
function escapeAt(s: string, i: number, inDouble: boolean): { text: string; consumed: number } | string {
  const n = s[i + 1];
  switch (n) {
    case undefined:
      return 'a backslash ends the line (nothing to continue it with)';
    case ' ':
    case '\\':
    case '#':
    case "'":
    case '"':
      return { text: n, consumed: 2 };
    case 't':
      return { text: '\t', consumed: 2 };
    case 'n':
      return { text: '\n', consumed: 2 };
    case 'r':
      return { text: '\r', consumed: 2 };
    case '$':
      return inDouble ? { text: '$', consumed: 2 } : { text: '\\', consumed: 1 };
    case 'x': {
      const hex = s.slice(i + 2, i + 4);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return `invalid or incomplete hex sequence '\\x${hex}'`;
      return { text: String.fromCharCode(Number.parseInt(hex, 16)), consumed: 4 };
    }
    default:
      return { text: '\\', consumed: 1 };
  }
}

/**
 * `$NAME`, `${NAME}`, `${NAME-default}`, `${NAME[*]}` starting at `s[i]` (the `$`), inside double
 * quotes. An unset variable is empty; the default replaces an unset variable, not an empty one.
 * As HAProxy, a `$` not followed by a variable name is an error (write `\$` for a dollar sign).
 */
function expandVar(s: string, i: number, env: Env): { value: string; end: number; split: boolean } | string {
  if (s[i + 1] !== '{') {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1));
    if (!m) return `invalid variable name after '$' (write '\\$' for a dollar sign)`;
    return { value: env[m[0]] ?? '', end: i + m[0].length, split: false };
  }
  const close = s.indexOf('}', i + 2);
  if (close < 0) return "missing '}' after '${'";
  const body = s.slice(i + 2, close);
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(\[\*\])?(?:-(.*))?$/.exec(body);
  if (!m) return `invalid variable name in '\${${body}}'`;
  const value = env[m[1] as string];
  return { value: value ?? m[3] ?? '', end: close, split: m[2] !== undefined };
}
