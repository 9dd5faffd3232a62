import { KeywordError } from './errors.ts';

const UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** HAProxy time: `100ms`, `1s`, `2m`, `3h`, `1d`, `10us`; unitless means milliseconds. */
export function parseDuration(text: string, what = 'time'): number {
  const m = /^(\d+)(us|ms|s|m|h|d)?$/.exec(text);
  if (!m) throw new KeywordError(`${what}: invalid time '${text}' (expected a number with an optional unit: us, ms, s, m, h, d)`);
  const ms = Number(m[1]) * (UNITS[m[2] ?? 'ms'] as number);
  if (ms > 2_147_483_647) throw new KeywordError(`${what}: time '${text}' is too large (at most 24.8 days)`);
  return Math.ceil(ms);
}

/** A non-negative integer within [min, max]. */
export function parseInteger(text: string | undefined, what: string, min = 0, max = 2_147_483_647): number {
  if (text === undefined || !/^\d+$/.test(text)) throw new KeywordError(`${what}: expected an integer, got '${text ?? ''}'`);
  const n = Number(text);
  if (n < min || n > max) throw new KeywordError(`${what}: ${n} is out of range (${min}..${max})`);
  return n;
}
