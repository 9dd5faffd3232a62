import { KeywordError } from './errors.ts';

/** The largest time HAProxy accepts: its timers are signed 32-bit milliseconds (~24.8 days). */
export const MAX_TIME_MS = 2_147_483_647;

/** Each unit as a fraction `mult / div` of a millisecond, so that the arithmetic stays in integers. */
const UNITS: Readonly<Record<string, readonly [mult: number, div: number]>> = {
  us: [1, 1000],
  ms: [1, 1],
  s: [1000, 1],
  m: [60_000, 1],
  h: [3_600_000, 1],
  d: [86_400_000, 1],
};

/**
 * HAProxy time: `100ms`, `1s`, `2m`, `3h`, `1d`, `10us`; unitless means milliseconds. As HAProxy
 * (`parse_time_err`), a fraction of a millisecond rounds up, so `10us` is 1 ms and never 0.
 * `what` names the keyword in the message (`timeout client: invalid time '10x'`).
 */
export function parseDuration(text: string, what = 'time'): number {
  const m = /^(\d+)(us|ms|s|m|h|d)?$/.exec(text);
  if (!m) throw new KeywordError(`${what}: invalid time '${text}' (expected a number with an optional unit: us, ms, s, m, h, d)`);
  const [mult, div] = UNITS[m[2] ?? 'ms'] as readonly [number, number];
  const ms = Math.ceil((Number(m[1]) * mult) / div);
  if (ms > MAX_TIME_MS) throw new KeywordError(`${what}: time '${text}' is too large (at most 2147483647 ms, about 24.8 days)`);
  return ms;
}

/** A non-negative decimal integer within [min, max] (HAProxy's counts: maxconn, retries, weight…). */
export function parseInteger(text: string | undefined, what: string, min = 0, max = 2_147_483_647): number {
  if (text === undefined || !/^\d+$/.test(text)) throw new KeywordError(`${what}: expected an integer, got '${text ?? ''}'`);
  const n = Number(text);
  if (n < min || n > max) throw new KeywordError(`${what}: ${n} is out of range (${min}..${max})`);
  return n;
}

/** A signed decimal integer (`option redispatch -2`). */
export function parseSignedInteger(text: string, what: string): number {
  if (!/^[-+]?\d+$/.test(text) || Math.abs(Number(text)) > 2_147_483_647) throw new KeywordError(`${what}: expected an integer, got '${text}'`);
  return Number(text);
}
