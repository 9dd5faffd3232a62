/**
 * HAProxy's HTML statistics page, in its layout: one table per proxy (frontend, servers,
 * backend), a row per line of `show stat` with queue, sessions, bytes, errors, warnings and server
 * columns, and the state colours operators know (UP green, DOWN red, going up/down yellow-orange,
 * MAINT brown, DRAIN blue). Plain HTML and CSS, no script; `stats refresh` adds a meta refresh.
 */
import type { StatRow } from './stat.ts';

const html = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The CSS class of a row's state (HAProxy's colour names). */
function stateClass(r: StatRow): string {
  const st = String(r.status ?? '');
  if (r.svname === 'FRONTEND') return st === 'OPEN' ? 'active_up' : 'active_down';
  if (st.startsWith('UP ')) return 'active_going_down';
  if (st.startsWith('DOWN ')) return 'active_going_up';
  if (st === 'UP' || st === 'no check') return r.bck === 1 ? 'backup_up' : 'active_up';
  if (st === 'DRAIN') return 'active_draining';
  if (st === 'MAINT') return 'maintain';
  return 'active_down';
}

const CSS = `body{font-family:arial,helvetica,sans-serif;font-size:12px;margin:8px;background:#fff}
h1{font-size:16px;background:#20377f;color:#fff;padding:4px}
table.tbl{border-collapse:collapse;margin:12px 0;border:1px solid #999}
table.tbl th{background:#b9c7e8;padding:2px 4px;border:1px solid #999}
table.tbl td{padding:2px 4px;border:1px solid #bbb;text-align:right}
td.pxname{background:#b00040;color:#ffff40;font-weight:bold;text-align:left}
td.name{text-align:left}
tr.active_up td{background:#c0ffc0}tr.backup_up td{background:#b0d0ff}
tr.active_down td{background:#ff9090}tr.active_going_down td{background:#ffd020}
tr.active_going_up td{background:#ffffa0}tr.active_draining td{background:#20a0ff}
tr.maintain td{background:#c07820}tr.frontend td,tr.backend td{font-weight:bold}
table.lgd{font-size:11px;margin:6px 0}table.lgd td{padding:1px 6px;border:1px solid #999}`;

const COLUMNS: ReadonlyArray<readonly [header: string, key: keyof StatRow]> = [
  ['Queue cur', 'qcur'],
  ['Queue max', 'qmax'],
  ['Queue limit', 'qlimit'],
  ['Sessions cur', 'scur'],
  ['Sessions max', 'smax'],
  ['Sessions limit', 'slim'],
  ['Sessions total', 'stot'],
  ['LbTot', 'lbtot'],
  ['Bytes in', 'bin'],
  ['Bytes out', 'bout'],
  ['Errors conn', 'econ'],
  ['Warnings retr', 'wretr'],
  ['Warnings redis', 'wredis'],
  ['Status', 'status'],
  ['LastChk', 'check_status'],
  ['Wght', 'weight'],
  ['Act', 'act'],
  ['Bck', 'bck'],
  ['Chk', 'chkfail'],
  ['Dwn', 'chkdown'],
  ['Dwntme', 'downtime'],
];

export interface PageInfo {
  readonly name: string;
  readonly version: string;
  readonly pid: number;
  readonly uptimeSec: number;
  readonly nbthread: number;
  readonly currConns: number;
  readonly maxconn: number;
  readonly refreshSec?: number;
}

export function renderStatsPage(rows: readonly StatRow[], info: PageInfo): string {
  const byProxy = new Map<string, StatRow[]>();
  for (const r of rows) {
    const list = byProxy.get(String(r.pxname)) ?? [];
    list.push(r);
    byProxy.set(String(r.pxname), list);
  }
  let tables = '';
  for (const [px, list] of byProxy) {
    tables += `<table class="tbl" id="${html(px)}"><tr><td class="pxname" colspan="${COLUMNS.length + 1}">${html(px)}</td></tr>`;
    tables += `<tr><th></th>${COLUMNS.map(([h]) => `<th>${html(h)}</th>`).join('')}</tr>`;
    for (const r of list) {
      const kind = r.svname === 'FRONTEND' ? ' frontend' : r.svname === 'BACKEND' ? ' backend' : '';
      tables += `<tr class="${stateClass(r)}${kind}"><td class="name">${html(r.svname)}</td>${COLUMNS.map(([, k]) => `<td>${html(r[k])}</td>`).join('')}</tr>`;
    }
    tables += '</table>\n';
  }
  const legend = [
    ['active_up', 'active UP'],
    ['backup_up', 'backup UP'],
    ['active_going_down', 'active UP, going down'],
    ['active_going_up', 'active DOWN, going up'],
    ['active_down', 'active or backup DOWN'],
    ['active_draining', 'active or backup DRAIN'],
    ['maintain', 'MAINT'],
  ]
    .map(([c, t]) => `<tr class="${c}"><td>&nbsp;&nbsp;</td><td>${t}</td></tr>`)
    .join('');
  const refresh = info.refreshSec !== undefined ? `<meta http-equiv="refresh" content="${info.refreshSec}">` : '';
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8">${refresh}<title>Statistics Report for ${html(info.name)}</title><style>${CSS}</style></head>
<body><h1>${html(info.name)} version ${html(info.version)}</h1>
<p>pid = ${info.pid} (nbthread = ${info.nbthread}); uptime = ${info.uptimeSec}s; current conns = ${info.currConns}; maxconn = ${info.maxconn}</p>
<table class="lgd">${legend}</table>
${tables}</body></html>
`;
}
