import { KeywordError } from './errors.ts';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** A `host:low-high` port range (HAProxy `bind` only): one address per port. */
export interface HostPortRange {
  readonly host: string;
  readonly ports: readonly number[];
}

/** The largest port range one `bind` address may expand to (a typo like `1-65535` should not open 65k sockets silently). */
const MAX_RANGE = 1024;

/**
 * HAProxy address forms: `host:port`, `:port`, `*:port`, `[v6]:port`, `v6:port` (the last colon
 * separates the port), with an optional `ipv4@` / `ipv6@` / `tcp@` prefix. `*` and an empty host
 * mean every address (host `''`).
 */
export function parseHostPort(text: string, what: string, portRequired = true): HostPort {
  const { host, portText } = splitHostPort(text, what);
  if (portText === undefined || portText === '') {
    if (portRequired) throw new KeywordError(`${what}: missing port in '${text}'`);
    return { host, port: 0 };
  }
  return { host, port: parsePort(portText, text, what) };
}

/** As `parseHostPort`, but the port may be a range `low-high` (`bind :8000-8003`). */
export function parseHostPortRange(text: string, what: string): HostPortRange {
  const { host, portText } = splitHostPort(text, what);
  if (portText === undefined || portText === '') throw new KeywordError(`${what}: missing port in '${text}'`);
  const range = /^(\d+)-(\d+)$/.exec(portText);
  if (!range) return { host, ports: [parsePort(portText, text, what)] };
  const low = parsePort(range[1] as string, text, what);
  const high = parsePort(range[2] as string, text, what);
  if (low === 0 || high < low) throw new KeywordError(`${what}: invalid port range '${portText}' in '${text}'`);
  if (high - low + 1 > MAX_RANGE) throw new KeywordError(`${what}: port range '${portText}' is larger than ${MAX_RANGE} ports`);
  return { host, ports: Array.from({ length: high - low + 1 }, (_, k) => low + k) };
}

function splitHostPort(text: string, what: string): { host: string; portText: string | undefined } {
  let s = expandAddressEnv(text);
  const family = /^(ipv4|ipv6|tcp|tcp4|tcp6)@/.exec(s);
  if (family) s = s.slice(family[0].length);
  else if (/^[a-z0-9-]+@/.test(s)) throw new KeywordError(`${what}: unsupported address family in '${text}'`);
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) throw new KeywordError(`${what}: unterminated '[' in '${text}'`);
    host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new KeywordError(`${what}: invalid address '${text}'`);
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const i = s.lastIndexOf(':');
    host = i < 0 ? s : s.slice(0, i);
    portText = i < 0 ? undefined : s.slice(i + 1);
  }
  return { host: host === '*' ? '' : host, portText };
}

function parsePort(portText: string, text: string, what: string): number {
  if (!/^\d+$/.test(portText)) throw new KeywordError(`${what}: invalid port '${portText}' in '${text}'`);
  const port = Number(portText);
  if (port > 65535) throw new KeywordError(`${what}: port ${port} out of range in '${text}'`);
  return port;
}

/**
 * HAProxy expands `${NAME}` and `${NAME-default}` in addresses wherever they are written (quoted,
 * single-quoted or bare): its address parser does it, not the tokenizer.
 */
export function expandAddressEnv(text: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:-([^}]*))?\}/g, (_m, name: string, def: string | undefined) => env[name] ?? def ?? '');
}

/** `/path`, `unix@path` or `abns@name`: a UNIX socket address rather than host:port. */
export const isUnixAddress = (text: string): boolean => text.startsWith('/') || text.startsWith('unix@') || text.startsWith('abns@');
