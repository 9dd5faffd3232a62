/**
 * Load and check a configuration the way start-up does (parse, `log-format` compile, the limits of
 * the accept mode), without touching anything live: start-up runs it in place, a reload runs it
 * off the main thread (`workers/config-check.ts`, a piscina task), so that reading and compiling a
 * large configuration never stalls the acceptor's event loop.
 */
import type { Config } from '../config/config.types.ts';
import { ConfigError } from '../config/errors.ts';
import { loadConfig } from '../config/parse.ts';
import { compileLogFormat } from '../log/format.ts';

export type ConfigCheck =
  | { readonly ok: true; readonly config: Config }
  /** `errors`: the alert lines, without the `[ALERT] ` prefix, in the order they are printed. */
  | { readonly ok: false; readonly errors: readonly string[] };

export interface ConfigCheckRequest {
  readonly files: readonly string[];
  readonly accept: 'handoff' | 'reuseport';
}

const FATAL = 'Fatal errors found in configuration.';

export function checkConfigFiles(req: ConfigCheckRequest): ConfigCheck {
  let cfg: Config;
  try {
    cfg = loadConfig(req.files);
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, errors: [...err.diagnostics.map((d) => `${d.file}:${d.line}: ${d.message}`), FATAL] };
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { ok: false, errors: [`Cannot open configuration file/directory ${(err as NodeJS.ErrnoException).path ?? ''}: No such file or directory`] };
    }
    throw err;
  }
  return checkLoaded(cfg, req.accept);
}

/** The checks start-up makes on a loaded configuration (also for quick mode's). */
export function checkLoaded(cfg: Config, accept: 'handoff' | 'reuseport'): ConfigCheck {
  if (accept === 'reuseport' && cfg.frontends.some((f) => f.binds.some((b) => b.fd !== undefined))) {
    return { ok: false, errors: [`'bind fd@N' listens on one inherited socket: it needs --accept handoff (the default), not reuseport`] };
  }
  if (accept === 'reuseport') {
    // each worker binds on its own: port 0 would give each its own port, and half the
    // connections would go to a port nobody was told of
    const anyPort = cfg.frontends.flatMap((f) => f.binds.filter((b) => b.port === 0).map((b) => `${b.src.file}:${b.src.line}: 'bind ${b.host || '*'}:0' (any free port) gives each worker its own port under --accept reuseport: name the port, or use --accept handoff (the default)`));
    if (anyPort.length > 0) return { ok: false, errors: [...anyPort, FATAL] };
  }
  const formatErrors = cfg.frontends.flatMap((f) => {
    const lf = f.settings.logFormat;
    const r = lf ? compileLogFormat(lf.text) : null;
    return lf && typeof r === 'string' ? [`${lf.src.file}:${lf.src.line}: ${r}`] : [];
  });
  if (formatErrors.length > 0) return { ok: false, errors: [...formatErrors, FATAL] };
  return { ok: true, config: cfg };
}
