import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.types.ts';
import type { ServerTable } from './server-table.ts';
import { ServerOpState, ServerSlot } from './server-table.types.ts';

/** HAProxy's admin-state flags in `show servers state` (srv_admin_state). */
const FMAINT = 0x01;
const FDRAIN = 0x08;

/**
 * Restore server states saved with `show servers state` (HAProxy's version 1 format) into the
 * shared table, for the backends with `load-server-state-from-file global`: forced maintenance,
 * forced drain and the weight — the weight only when the server's configured weight is still the
 * one saved (a changed config wins), as HAProxy does. Returns a warning per line it cannot apply.
 */
export function loadServerState(cfg: Config, table: ServerTable): string[] {
  const file = cfg.global.serverStateFile;
  const wanted = cfg.backends.some((b) => b.settings.loadServerState === 'global');
  if (!file || !wanted) return [];
  const full = path.isAbsolute(file) || !cfg.global.serverStateBase ? file : path.join(cfg.global.serverStateBase, file);
  let text: string;
  try {
    text = fs.readFileSync(full, 'utf8');
  } catch (err) {
    return [`server-state-file ${full}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found, starting with the configured states' : (err as Error).message}`];
  }
  const lines = text.split('\n');
  if (lines[0]?.trim() !== '1') return [`server-state-file ${full}: unknown format version '${lines[0] ?? ''}' (expected 1)`];
  const ids = new Map<string, { id: number; weight: number }>();
  let sid = 0;
  for (const b of cfg.backends) {
    for (const s of b.servers) {
      if (b.settings.loadServerState === 'global') ids.set(`${b.name}/${s.name}`, { id: sid, weight: s.weight });
      sid++;
    }
  }
  const warnings: string[] = [];
  for (const [i, line] of lines.entries()) {
    if (i === 0 || line.startsWith('#') || line.trim() === '') continue;
    const f = line.trim().split(/\s+/);
    const [beName, srvName, admin, uweight, iweight] = [f[1], f[3], Number(f[6]), Number(f[7]), Number(f[8])];
    const srv = ids.get(`${beName}/${srvName}`);
    if (!srv) {
      if (cfg.backends.some((b) => b.name === beName && b.settings.loadServerState === 'global')) {
        warnings.push(`server-state-file ${full}:${i + 1}: no server '${srvName}' in backend '${beName}' any more`);
      }
      continue;
    }
    if (admin & FMAINT) table.setState(srv.id, ServerOpState.MAINT);
    else if (admin & FDRAIN) table.setState(srv.id, ServerOpState.DRAIN);
    else table.setState(srv.id, ServerOpState.UP);
    if (Number.isInteger(uweight) && iweight === srv.weight) table.setSrv(srv.id, ServerSlot.WEIGHT, uweight);
  }
  return warnings;
}

/**
 * Reload: carry the runtime state of every server that is in both configurations (same backend,
 * same name) from the old generation's table to the new one — in memory, where HAProxy goes
 * through its server-state-file between the old and the new process. Carried: maintenance and
 * drain set by the operator (a server the old config had `disabled` follows the new config), DOWN
 * with its check health (only for a server checked in both), the weight when the configured
 * weight did not change, and `set maxconn server` when the configured maxconn did not change.
 * Counters start from zero, as in a new HAProxy process.
 */
export function carryServerState(oldCfg: Config, oldTable: ServerTable, cfg: Config, table: ServerTable): number {
  const before = new Map<string, { id: number; disabled: boolean; weight: number; maxconn: number; checked: boolean }>();
  let sid = 0;
  for (const b of oldCfg.backends) {
    for (const s of b.servers) before.set(`${b.name}/${s.name}`, { id: sid++, disabled: s.disabled === true, weight: s.weight, maxconn: s.maxconn, checked: s.check !== undefined });
  }
  let carried = 0;
  sid = 0;
  for (const b of cfg.backends) {
    for (const s of b.servers) {
      const id = sid++;
      const o = before.get(`${b.name}/${s.name}`);
      if (!o) continue;
      carried++;
      const st = oldTable.state(o.id);
      if (!s.disabled) {
        if ((st === ServerOpState.MAINT && !o.disabled) || st === ServerOpState.DRAIN) table.setState(id, st);
        else if (st === ServerOpState.DOWN && o.checked && s.check) {
          table.setState(id, st);
          table.setSrv(id, ServerSlot.CHECK_HEALTH, oldTable.srv(o.id, ServerSlot.CHECK_HEALTH));
        }
        if (table.state(id) === st) table.setSrv(id, ServerSlot.LAST_CHANGE, oldTable.srv(o.id, ServerSlot.LAST_CHANGE));
      }
      if (o.weight === s.weight) table.setSrv(id, ServerSlot.WEIGHT, oldTable.srv(o.id, ServerSlot.WEIGHT));
      if (o.maxconn === s.maxconn) table.setSrv(id, ServerSlot.MAXCONN, oldTable.srv(o.id, ServerSlot.MAXCONN));
    }
  }
  return carried;
}
