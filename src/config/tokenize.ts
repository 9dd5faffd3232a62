import { ConfigError } from './errors.ts';

export interface ConfigLine {
  readonly line: number;
  readonly words: string[];
}

/**
 * HAProxy's line syntax: words split on blanks, `#` starts a comment outside quotes, single quotes
 * are literal, double quotes group and allow escapes, a backslash escapes the next character
 * (`\ `, `\"`, `\\`, `\#`). A backslash at the very end of a line continues it on the next one.
 */
export function tokenize(text: string, file: string): ConfigLine[] {
  const out: ConfigLine[] = [];
  const errors: Array<{ file: string; line: number; message: string }> = [];
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    const first = i + 1;
    let src = raw[i] as string;
    while (/(^|[^\\])(\\\\)*\\$/.test(src) && i + 1 < raw.length) {
      src = src.slice(0, -1) + (raw[++i] as string);
    }
    const r = splitWords(src);
    if (typeof r === 'string') errors.push({ file, line: first, message: r });
    else if (r.length > 0) out.push({ line: first, words: r });
  }
  if (errors.length > 0) throw new ConfigError(errors);
  return out;
}

/** Words of one logical line, or an error message. */
export function splitWords(s: string): string[] | string {
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
      else cur += c;
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
