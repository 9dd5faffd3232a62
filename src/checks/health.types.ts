/** Health checks: result codes as HAProxy names them (`check_status` in `show stat`). */

export const CheckStatus = {
  /** Not checked yet. */
  INI: 'INI',
  L4OK: 'L4OK',
  L4TOUT: 'L4TOUT',
  L4CON: 'L4CON',
  L7OK: 'L7OK',
  L7TOUT: 'L7TOUT',
  L7RSP: 'L7RSP',
  L7STS: 'L7STS',
} as const;
export type CheckStatus = (typeof CheckStatus)[keyof typeof CheckStatus];

/** HAProxy's wording of each result, for the UP/DOWN log lines. */
export const CheckReason: Record<CheckStatus, string> = {
  INI: 'Initializing',
  L4OK: 'Layer4 check passed',
  L4TOUT: 'Layer4 timeout',
  L4CON: 'Layer4 connection problem',
  L7OK: 'Layer7 check passed',
  L7TOUT: 'Layer7 timeout',
  L7RSP: 'Layer7 invalid response',
  L7STS: 'Layer7 wrong status',
};

export const passed = (s: CheckStatus): boolean => s === CheckStatus.L4OK || s === CheckStatus.L7OK;

/** One check's outcome. */
export interface CheckResult {
  readonly status: CheckStatus;
  /** HTTP status code, when one came back. */
  readonly code?: number;
  /** Extra text: the error ("Connection refused") or the reason phrase. */
  readonly info?: string;
  readonly durationMs: number;
}

/** What `show stat` reports of a server's checks. */
export interface CheckState {
  readonly status: CheckStatus;
  readonly code: number | undefined;
  readonly durationMs: number;
  /** HAProxy's health counter (0 … rise+fall-1; UP at ≥ rise). */
  readonly health: number;
  readonly rise: number;
  readonly fall: number;
  /** Failed checks (chkfail) and UP→DOWN transitions (chkdown). */
  readonly failed: number;
  readonly downs: number;
  /** Seconds spent DOWN so far (downtime). */
  readonly downtimeSec: number;
  readonly desc: string;
}

/** What the checker needs from the process: where to log, and how to tell the workers. */
export interface CheckHooks {
  /** A line for the operator (HAProxy writes these to stderr and the logs). */
  log(level: 'WARNING' | 'ALERT' | 'NOTICE', message: string): void;
  /** The server went DOWN: workers close its idle connections and requeue its queue. Resolves with requeued sessions. */
  serverDown(serverId: number): Promise<number>;
  /** Sessions on the server now, and in queues (for the log line). */
  counts(serverId: number): { active: number; queued: number };
}
