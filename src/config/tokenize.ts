import { ConfigError } from './errors.ts';

export interface ConfigLine {
  readonly line: number;
  readonly words: string[];
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * HAProxy's line syntax: words split on blanks, `#` starts a comment outside quotes, single quotes
 * are literal, double quotes group and allow escapes, a backslash escapes the next character
 * (`\ `, `\"`, `\\`, `\#`). A backslash at the very end of a line continues it on the next one.
 * Inside double quotes, environment variables are expanded as HAProxy does: `$NAME`, `${NAME}`,
 * `${NAME-default}` (the default replaces an unset variable, not an empty one) and `${NAME[*]}`
 * (a value of several words becomes several arguments).
 */
export function tokenize(text: string, file: string, env: Env = process.env): ConfigLine[] {
  const out: ConfigLine[] = [];
  const errors: Array<{ file: string; line: number; message: string }> = [];
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    const first = i + 1;
    let src = raw[i] as string;
    while (/(^|[^\\])(\\\\)*\\$/.test(src) && i + 1 < raw.length) {
      src = src.slice(0, -1) + (raw[++i] as string);
    }
    const r = splitWords(src, env);
    if (typeof r === 'string') errors.push({ file, line: first, message: r });
    else if (r.length > 0) out.push({ line: first, words: r });
  }
  if (errors.length > 0) throw new ConfigError(errors);
  return out;
}

/** Words of one logical line, or an error message. */
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
      const n = s[i + 1];
      if (n === undefined) return 'a backslash ends the line';
      cur += n;
      inWord = true;
      i++;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '$' && /[A-Za-z_{]/.test(s[i + 1] ?? '')) {
        const v = expandVar(s, i, env);
        if (typeof v === 'string') return v;
        i = v.end;
        if (v.split) {
          const parts = v.value.split(/\s+/).filter(Boolean);
          parts.forEach((part, k) => {
            if (k < parts.length - 1) {
              words.push(cur + part);
              cur = '';
            } else cur += part;
          });
        } else cur += v.value;
      } else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === '#') break;
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += c;
    inWord = true;
  }
  if (quote) return `unmatched ${quote === '"' ? 'double' : 'single'} quote`;
  if (inWord) words.push(cur);
  return words;
}

/** `$NAME`, `${NAME}`, `${NAME-default}`, `${NAME[*]}` starting at `s[i]` (the `$`). */
function expandVar(s: string, i: number, env: Env): { value: string; end: number; split: boolean } | string {
  if (s[i + 1] !== '{') {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1)) as RegExpExecArray;
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
