import type { TcpLogFields } from './log.types.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/** HAProxy's accept date, `%t`: `25/Nov/2026:06:58:40.120` (local time, as HAProxy prints it). */
export function formatAcceptDate(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${pad3(d.getMilliseconds())}`;
}

/**
 * HAProxy's TCP log line (`option tcplog`), field for field:
 * `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`
 */
export function formatTcpLog(f: TcpLogFields): string {
  const rc = f.redispatched ? `+${f.retries}` : `${f.retries}`;
  return `${f.clientIp}:${f.clientPort} [${formatAcceptDate(f.acceptDate)}] ${f.frontend} ${f.backend}/${f.server} ${f.tw}/${f.tc}/${f.tt} ${f.bytesRead} ${f.termination} ${f.actconn}/${f.feconn}/${f.beconn}/${f.srvconn}/${rc} ${f.srvQueue}/${f.backendQueue}`;
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
