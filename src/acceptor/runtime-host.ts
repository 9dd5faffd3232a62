import type { Config } from '../config/config.types.ts';
import type { RuntimeHost, ServerStateRow } from '../runtime-api/runtime-api.types.ts';
import { ServerOpState, ServerSlot } from '../shared-state/server-table.types.ts';
import type { Acceptor } from './acceptor.ts';

export const VERSION = '0.1.0';
export const RELEASE_DATE = '2026/11/25';

/** The runtime API's view of the process, backed by the acceptor, its workers and the shared table. */
export function runtimeHost(acc: Acceptor, cfg: Config, nbthread: number): RuntimeHost {
  return {
    name: 'switchyard',
    version: VERSION,
    releaseDate: RELEASE_DATE,
    pid: process.pid,
    startedAt: acc.startedAt,
    nbthread,
    maxconn: cfg.global.maxconn,
    currConns: () => acc.live,
    cumConns: () => acc.totalAccepted,
    lostSessions: () => acc.lostSessions,
    workerDeaths: () => acc.workerDeaths,
    heldSockets: () => acc.heldCount,
    workers: () => acc.workerInfo(),
    sessions: () => acc.sessions(),
    shutdownSession: (id) => acc.shutdownSession(id),
    crashWorker: (index) => acc.crashWorker(index),
    serversState: (backend) => {
      const rows: ServerStateRow[] = [];
      let sid = 0;
      let found = backend === undefined;
      for (const [bi, be] of cfg.backends.entries()) {
        for (const [si, s] of be.servers.entries()) {
          if (backend === undefined || be.name === backend) {
            found = true;
            const st = acc.table.state(sid);
            rows.push({
              beId: bi + 1,
              beName: be.name,
              srvId: si + 1,
              srvName: s.name,
              srvAddr: s.host,
              opState: st === ServerOpState.UP || st === ServerOpState.DRAIN ? 2 : 0,
              adminState: st === ServerOpState.MAINT ? 1 : 0,
              uweight: acc.table.srv(sid, ServerSlot.WEIGHT),
              iweight: s.weight,
              timeSinceLastChange: Math.floor((Date.now() - acc.startedAt) / 1000),
              port: s.port,
            });
          }
          sid++;
        }
      }
      return found ? rows : null;
    },
  };
}
