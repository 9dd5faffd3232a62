import type { Config, LogTarget, ProxySettings } from '../config/config.types.ts';

const STDOUT: LogTarget = { target: 'stdout', format: 'raw', facility: 'local0' };

/**
 * Where a proxy's session lines go: its `log global` targets; with no `log` line anywhere in
 * `global`, switchyard logs to stdout (HAProxy would log nothing: a proxy nobody can observe is
 * not what an operator trying switchyard expects). `no log` in a proxy silences it.
 */
export function logTargetsFor(cfg: Config, s: ProxySettings): readonly LogTarget[] {
  if (s.noLog) return [];
  if (cfg.global.logs.length === 0) return [STDOUT];
  return s.logGlobal ? cfg.global.logs : [];
}
