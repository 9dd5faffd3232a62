/**
 * The Prometheus exposition of what `show stat` and `show info` report, with HAProxy's
 * prometheus-exporter metric names (prefix `switchyard_` for `haproxy_`) and labels (`proxy`,
 * `server`), so that a dashboard built for HAProxy needs only the prefix changed.
 */
import type { WorkerInfo } from '../shared-state/snapshots.types.ts';
import type { StatRow } from './stat.ts';

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly from: keyof StatRow | ((r: StatRow) => number | undefined);
}

const num = (v: string | number | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));

const FRONTEND: readonly Metric[] = [
  { name: 'frontend_current_sessions', help: 'Number of current sessions on the frontend.', type: 'gauge', from: 'scur' },
  { name: 'frontend_max_sessions', help: 'Highest value of current sessions encountered since last reset.', type: 'gauge', from: 'smax' },
  { name: 'frontend_limit_sessions', help: 'Frontend configured maxconn.', type: 'gauge', from: 'slim' },
  { name: 'frontend_sessions_total', help: 'Total number of sessions since process started.', type: 'counter', from: 'stot' },
  { name: 'frontend_bytes_in_total', help: 'Total number of request bytes since process started.', type: 'counter', from: 'bin' },
  { name: 'frontend_bytes_out_total', help: 'Total number of response bytes since process started.', type: 'counter', from: 'bout' },
];

const BACKEND: readonly Metric[] = [
  { name: 'backend_status', help: 'Current status of the service (1 UP, 0 DOWN).', type: 'gauge', from: (r) => (r.status === 'UP' ? 1 : 0) },
  { name: 'backend_current_queue', help: 'Number of current queued connections.', type: 'gauge', from: 'qcur' },
  { name: 'backend_max_queue', help: 'Highest value of queued connections encountered since last reset.', type: 'gauge', from: 'qmax' },
  { name: 'backend_current_sessions', help: 'Number of current sessions on the backend.', type: 'gauge', from: 'scur' },
  { name: 'backend_max_sessions', help: 'Highest value of current sessions encountered since last reset.', type: 'gauge', from: 'smax' },
  { name: 'backend_sessions_total', help: 'Total number of sessions since process started.', type: 'counter', from: 'stot' },
  { name: 'backend_bytes_in_total', help: 'Total number of request bytes since process started.', type: 'counter', from: 'bin' },
  { name: 'backend_bytes_out_total', help: 'Total number of response bytes since process started.', type: 'counter', from: 'bout' },
  { name: 'backend_connection_errors_total', help: 'Total number of failed connections to server since the worker process started.', type: 'counter', from: 'econ' },
  { name: 'backend_response_errors_total', help: 'Total number of invalid responses since the worker process started.', type: 'counter', from: 'eresp' },
  { name: 'backend_retry_warnings_total', help: 'Total number of server connection retries since the worker process started.', type: 'counter', from: 'wretr' },
  { name: 'backend_redispatch_warnings_total', help: 'Total number of server redispatches due to connection failures since the worker process started.', type: 'counter', from: 'wredis' },
  { name: 'backend_active_servers', help: 'Total number of active UP servers with a non-zero weight.', type: 'gauge', from: 'act' },
  { name: 'backend_backup_servers', help: 'Total number of backup UP servers with a non-zero weight.', type: 'gauge', from: 'bck' },
  { name: 'backend_weight', help: 'Service weight.', type: 'gauge', from: 'weight' },
  { name: 'backend_loadbalanced_total', help: 'Total number of times a service was selected.', type: 'counter', from: 'lbtot' },
];

const SERVER: readonly Metric[] = [
  { name: 'server_status', help: 'Current status of the server (1 UP or DRAIN, 0 otherwise).', type: 'gauge', from: (r) => (String(r.status).startsWith('UP') || r.status === 'DRAIN' || r.status === 'no check' ? 1 : 0) },
  { name: 'server_current_queue', help: 'Number of current queued connections.', type: 'gauge', from: 'qcur' },
  { name: 'server_max_queue', help: 'Highest value of queued connections encountered since last reset.', type: 'gauge', from: 'qmax' },
  { name: 'server_current_sessions', help: 'Number of current sessions on the server.', type: 'gauge', from: 'scur' },
  { name: 'server_max_sessions', help: 'Highest value of current sessions encountered since last reset.', type: 'gauge', from: 'smax' },
  { name: 'server_limit_sessions', help: 'Configured session limit.', type: 'gauge', from: 'slim' },
  { name: 'server_sessions_total', help: 'Total number of sessions since process started.', type: 'counter', from: 'stot' },
  { name: 'server_bytes_in_total', help: 'Total number of request bytes since process started.', type: 'counter', from: 'bin' },
  { name: 'server_bytes_out_total', help: 'Total number of response bytes since process started.', type: 'counter', from: 'bout' },
  { name: 'server_connection_errors_total', help: 'Total number of failed connections to server since the worker process started.', type: 'counter', from: 'econ' },
  { name: 'server_response_errors_total', help: 'Total number of invalid responses since the worker process started.', type: 'counter', from: 'eresp' },
  { name: 'server_retry_warnings_total', help: 'Total number of server connection retries since the worker process started.', type: 'counter', from: 'wretr' },
  { name: 'server_redispatch_warnings_total', help: 'Total number of server redispatches due to connection failures since the worker process started.', type: 'counter', from: 'wredis' },
  { name: 'server_weight', help: 'Service weight.', type: 'gauge', from: 'weight' },
  { name: 'server_check_failures_total', help: 'Total number of failed individual health checks.', type: 'counter', from: 'chkfail' },
  { name: 'server_check_up_down_total', help: 'Total number of failed checks causing UP to DOWN server transitions.', type: 'counter', from: 'chkdown' },
  { name: 'server_downtime_seconds_total', help: 'Total time spent in DOWN state, for server or backend.', type: 'counter', from: 'downtime' },
  { name: 'server_loadbalanced_total', help: 'Total number of times a service was selected.', type: 'counter', from: 'lbtot' },
];

/** Label values are escaped as the text format requires (backslash, double quote, newline). */
const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export interface ProcessFigures {
  readonly currentConnections: number;
  readonly maxconn: number;
  readonly uptimeSec: number;
  readonly nbthread: number;
}

/** The whole exposition: process, frontends, backends, servers (HAProxy's order). */
export function renderPrometheus(rows: readonly StatRow[], workers: readonly WorkerInfo[], p: ProcessFigures): string {
  let out = '';
  const family = (name: string, help: string, type: string, samples: ReadonlyArray<readonly [string, number]>) => {
    if (samples.length === 0) return;
    out += `# HELP switchyard_${name} ${help}\n# TYPE switchyard_${name} ${type}\n`;
    for (const [labels, v] of samples) out += `switchyard_${name}${labels} ${v}\n`;
  };
  family('process_nbthread', 'Number of started threads (global.nbthread).', 'gauge', [['', p.nbthread]]);
  family('process_current_connections', 'Number of active sessions.', 'gauge', [['', p.currentConnections]]);
  family('process_max_connections', 'Maximum number of concurrent connections (global.maxconn).', 'gauge', [['', p.maxconn]]);
  family('process_uptime_seconds', 'How long ago this worker process was started (seconds).', 'gauge', [['', p.uptimeSec]]);
  family('process_idle_connections', 'Idle server connections in the workers\' pools.', 'gauge', [['', workers.reduce((n, w) => n + w.pool.idle, 0)]]);
  family('process_stale_events_total', 'Connection events dropped because they came from an older owner (epochs).', 'counter', [['', workers.reduce((n, w) => n + w.staleEvents, 0)]]);
  const emit = (metrics: readonly Metric[], which: (r: StatRow) => boolean, labels: (r: StatRow) => string) => {
    const selected = rows.filter(which);
    for (const m of metrics) {
      const samples: Array<[string, number]> = [];
      for (const r of selected) {
        const v = typeof m.from === 'function' ? m.from(r) : num(r[m.from]);
        if (v !== undefined && Number.isFinite(v)) samples.push([labels(r), v]);
      }
      family(m.name, m.help, m.type, samples);
    }
  };
  emit(FRONTEND, (r) => r.svname === 'FRONTEND', (r) => `{proxy="${esc(String(r.pxname))}"}`);
  emit(BACKEND, (r) => r.svname === 'BACKEND', (r) => `{proxy="${esc(String(r.pxname))}"}`);
  emit(SERVER, (r) => r.svname !== 'FRONTEND' && r.svname !== 'BACKEND', (r) => `{proxy="${esc(String(r.pxname))}",server="${esc(String(r.svname))}"}`);
  return out;
}
