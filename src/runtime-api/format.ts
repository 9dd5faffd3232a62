/** Days, hours, minutes and seconds of a duration in ms. */
function split(ms: number): { d: number; h: number; m: number; s: number } {
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  return { d, h, m, s: s - m * 60 };
}

const two = (n: number): string => String(n).padStart(2, '0');

/** HAProxy's human_time(): `45s`, `3m12s`, `1h02m`, `2d03h`. */
export function humanTime(ms: number): string {
  const { d, h, m, s } = split(ms);
  if (d > 0) return `${d}d${two(h)}h`;
  if (h > 0) return `${h}h${two(m)}m`;
  if (m > 0) return `${m}m${two(s)}s`;
  return `${s}s`;
}

/** `show info`'s Uptime: `0d 0h01m12s`. */
export function uptime(ms: number): string {
  const { d, h, m, s } = split(ms);
  return `${d}d ${h}h${two(m)}m${two(s)}s`;
}
