import type { TcpLogFields } from './log.types.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/** HAProxy's accept date, `%t`: `25/Nov/2026:06:58:40.120` (local time, as HAProxy prints it). */
export function formatAcceptDate(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad3(d.getMilliseconds())}`;
}

/** HAProxy's `option tcplog` format, as a log-format string (HAProxy defines it the same way). */
export const TCPLOG_FORMAT = '%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq';

/** HAProxy's `option httplog` format (its HTTP_LOG definition). */
export const HTTPLOG_FORMAT = '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r';

/** A space of the format: HAProxy writes one only if the output does not end with one already. */
const SEP = 0;
type Part = typeof SEP | string | ((f: TcpLogFields) => string | number);

const h = (f: TcpLogFields) => f.http;
const quoted = (s: string) => `"${s}"`;

/** The `%` variables switchyard knows, for TCP sessions (HAProxy's names and meanings). */
export const LOG_VARIABLES: Readonly<Record<string, (f: TcpLogFields) => string | number>> = {
  ci: (f) => f.clientIp,
  cp: (f) => f.clientPort,
  fi: (f) => f.frontendIp,
  fp: (f) => f.frontendPort,
  f: (f) => f.frontend,
  ft: (f) => f.frontend, // with a '~' once TLS exists
  b: (f) => f.backend,
  s: (f) => f.server,
  si: (f) => f.serverIp || '-',
  sp: (f) => (f.serverIp ? f.serverPort : '-'),
  t: (f) => formatAcceptDate(f.acceptDate),
  Tw: (f) => f.tw,
  Tc: (f) => f.tc,
  Tt: (f) => f.tt,
  B: (f) => f.bytesRead,
  U: (f) => f.bytesUploaded,
  ts: (f) => f.termination,
  tsc: (f) => `${f.termination}--`,
  ac: (f) => f.actconn,
  fc: (f) => f.feconn,
  bc: (f) => f.beconn,
  sc: (f) => f.srvconn,
  rc: (f) => (f.redispatched ? `+${f.retries}` : f.retries),
  sq: (f) => f.srvQueue,
  bq: (f) => f.backendQueue,
  pid: () => process.pid,
  // HTTP (a TCP session prints them as HAProxy does with nothing to show)
  tr: (f) => formatAcceptDate(h(f)?.requestDate ?? f.acceptDate),
  Ti: (f) => h(f)?.ti ?? 0,
  TR: (f) => h(f)?.tR ?? -1,
  Tq: (f) => h(f)?.tR ?? -1,
  Tr: (f) => h(f)?.tr ?? -1,
  Ta: (f) => h(f)?.ta ?? f.tt,
  ST: (f) => h(f)?.status ?? -1,
  r: (f) => h(f)?.requestLine ?? '<BADREQ>',
  HM: (f) => h(f)?.method ?? '',
  HU: (f) => h(f)?.uri ?? '',
  HP: (f) => (h(f)?.uri ?? '').split('?')[0] as string,
  HQ: (f) => {
    const u = h(f)?.uri ?? '';
    const q = u.indexOf('?');
    return q < 0 ? '' : u.slice(q);
  },
  HV: (f) => h(f)?.version ?? '',
  CC: () => '-',
  CS: () => '-',
  hr: () => '',
  hs: () => '',
};

/**
 * Compile a `log-format` string once: literal text and `%var` / `%{flags}var` references. An
 * unknown variable or a sample fetch (`%[…]`) is an error message naming it (the config layer
 * reports it with file and line); `%%` is a literal percent sign.
 */
export function compileLogFormat(fmt: string): ((f: TcpLogFields) => string) | string {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i] as string;
    if (c !== '%') {
      lit += c;
      continue;
    }
    if (fmt[i + 1] === '%') {
      lit += '%';
      i++;
      continue;
    }
    if (fmt[i + 1] === '[') return `log-format: sample fetches (%[...]) are not supported yet`;
    let j = i + 1;
    let flags = '';
    if (fmt[j] === '{') {
      const close = fmt.indexOf('}', j);
      if (close < 0) return `log-format: missing '}' after '%{'`;
      flags = fmt.slice(j + 1, close); // +Q quotes the value; other flags are accepted and ignored
      j = close + 1;
    }
    const m = /^[A-Za-z]+/.exec(fmt.slice(j));
    if (!m) return `log-format: expected a variable name after '%' at position ${i}`;
    // the longest known name that prefixes the text (HAProxy names run into literal letters)
    let name = m[0];
    while (name.length > 0 && !(name in LOG_VARIABLES)) name = name.slice(0, -1);
    if (!name) return `log-format: unknown variable '%${m[0]}'`;
    pushLiteral(parts, lit);
    lit = '';
    const v = LOG_VARIABLES[name] as (f: TcpLogFields) => string | number;
    parts.push(flags.includes('+Q') ? (f) => quoted(String(v(f))) : v);
    i = j + name.length - 1;
  }
  pushLiteral(parts, lit);
  return (f) => {
    let out = '';
    for (const p of parts) {
      if (p === SEP) {
        if (out.length > 0 && out.charCodeAt(out.length - 1) !== 32) out += ' ';
      } else out += typeof p === 'string' ? p : p(f);
    }
    return out;
  };
}

/** Literal text, its spaces as separators (so a variable printing nothing leaves one space, as HAProxy). */
function pushLiteral(parts: Part[], lit: string): void {
  const words = lit.split(' ');
  words.forEach((w, i) => {
    if (i > 0) parts.push(SEP);
    if (w) parts.push(w);
  });
}

const tcplog = compileLogFormat(TCPLOG_FORMAT) as (f: TcpLogFields) => string;
const httplog = compileLogFormat(HTTPLOG_FORMAT) as (f: TcpLogFields) => string;

/**
 * `option jsonlog` (a switchyard extension): the fields of HAProxy's tcplog / httplog line as one
 * JSON object per line, named as HAProxy's log-format variables are documented.
 */
export function formatJsonLog(f: TcpLogFields): string {
  const o: Record<string, string | number | boolean> = {
    client_ip: f.clientIp,
    client_port: f.clientPort,
    frontend_ip: f.frontendIp,
    frontend_port: f.frontendPort,
    accept_date: new Date(f.acceptDate).toISOString(),
    frontend: f.frontend,
    backend: f.backend,
    server: f.server,
    Tw: f.tw,
    Tc: f.tc,
    Tt: f.tt,
    bytes_read: f.bytesRead,
    bytes_uploaded: f.bytesUploaded,
    termination_state: f.http ? `${f.termination}--` : f.termination,
    actconn: f.actconn,
    feconn: f.feconn,
    beconn: f.beconn,
    srv_conn: f.srvconn,
    retries: f.retries,
    redispatched: f.redispatched,
    srv_queue: f.srvQueue,
    backend_queue: f.backendQueue,
  };
  const h = f.http;
  if (h) {
    o.request_date = new Date(h.requestDate).toISOString();
    o.Ti = h.ti;
    o.TR = h.tR;
    o.Tr = h.tr;
    o.Ta = h.ta;
    o.status = h.status;
    o.method = h.method;
    o.uri = h.uri;
    o.version = h.version;
    o.request = h.requestLine;
  }
  return JSON.stringify(o);
}

/** HAProxy's HTTP log line (`option httplog`). */
export function formatHttpLog(f: TcpLogFields): string {
  return httplog(f);
}

/**
 * HAProxy's TCP log line (`option tcplog`), field for field:
 * `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`
 */
export function formatTcpLog(f: TcpLogFields): string {
  return tcplog(f);
}

/** RFC 3164 framing for syslog: `<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG`. */
export function frameRfc3164(msg: string, facility: number, severity: number, tag: string, pid: number, now: Date): string {
  const day = now.getDate();
  const ts = `${MONTHS[now.getMonth()]} ${day < 10 ? ` ${day}` : day} ${pad2(now.getHours())}:${pad2(now.getMinutes())}:${pad2(now.getSeconds())}`;
  return `<${facility * 8 + severity}>${ts} ${tag}[${pid}]: ${msg}`;
}

export const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, auth2: 10,
  ftp: 11, ntp: 12, audit: 13, alert: 14, cron2: 15, local0: 16, local1: 17, local2: 18, local3: 19,
  local4: 20, local5: 21, local6: 22, local7: 23,
};
export const SEVERITIES: Record<string, number> = {
  emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7,
};
