/**
 * The data of the VTC runner (test/vtc/runner.ts): tokens and commands of a `.vtc` file, the
 * failures it reports, its options and results. VTC is the test language of VTest (HAProxy's fork
 * of Varnish's varnishtest); the runner implements the subset HAProxy's reg-tests use most.
 */

/** VTest's default limit on one test file (its `-t`), in seconds. */
export const DEFAULT_TIMEOUT_S = 60;

/** How long `haproxy hN -wait` and the end of a test give the proxy after each signal (SIGINT, then SIGTERM), as VTest does (20 × 100 ms). */
export const STOP_GRACE_MS = 2000;

/** How long a started proxy may take to open its stats socket before the test fails. */
export const START_LIMIT_MS = 15_000;

/** What `haproxy -c` prints when a configuration is valid (VTest's `-conf-OK` looks for it). */
export const GOOD_CONF = 'Configuration file is valid';

/** Most data one HTTP message, a CLI answer or a `recv` may hold (VTest's 2 MiB receive buffer). */
export const MAX_RX_BYTES = 2 * 1024 * 1024;

export const TokenKind = { WORD: 'WORD', QUOTED: 'QUOTED', BLOCK: 'BLOCK' } as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

/** One token of a VTC line: a bare word, a `"quoted string"` (escapes done) or a `{ block }` (raw). */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** Line of the token's first character in the file (a block's content starts on this line). */
  readonly line: number;
}

/** One command: its tokens up to the end of the line (`\` + newline continues it). */
export interface Command {
  readonly tokens: readonly Token[];
  readonly line: number;
}

/** What the proxy under test is: switchyard (`node bin/switchyard.js`) or the reference `haproxy`. */
export const Target = { SWITCHYARD: 'switchyard', HAPROXY: 'haproxy' } as const;
export type Target = (typeof Target)[keyof typeof Target];

export interface RunOptions {
  /** Limit on the whole file, seconds (`-t`). */
  readonly timeoutS: number;
  readonly target: Target;
  /** Print every step as it runs (`-v`); otherwise only a failing test's log is printed. */
  readonly verbose: boolean;
  /** Keep the temporary directory of each test (`-k`). */
  readonly keepTmp: boolean;
  /** Worker threads of switchyard (`--threads`); HAProxy keeps its own default. */
  readonly threads: number;
  /** Where log lines go (stdout by default; the node:test wrapper collects them). */
  readonly out?: (line: string) => void;
}

export const TestStatus = { PASSED: 'passed', FAILED: 'FAILED', SKIPPED: 'skipped' } as const;
export type TestStatus = (typeof TestStatus)[keyof typeof TestStatus];

export interface TestResult {
  readonly file: string;
  readonly status: TestStatus;
  readonly seconds: number;
  /** The failure (with its line) or the reason for a skip. */
  readonly reason?: string;
  /** Line of the command that failed, when known. */
  readonly line?: number;
  /** Every step, as `-v` prints them. */
  readonly log: readonly string[];
}

export const VtcErrorCode = {
  SYNTAX: 'VTC_ERR_SYNTAX',
  EXPECT: 'VTC_ERR_EXPECT',
  TIMEOUT: 'VTC_ERR_TIMEOUT',
  IO: 'VTC_ERR_IO',
  PROCESS: 'VTC_ERR_PROCESS',
} as const;
export type VtcErrorCode = (typeof VtcErrorCode)[keyof typeof VtcErrorCode];

/** A test failure: which entity (`top`, `c1`, `s1`, `h1`), at which line, what was expected and seen. */
export class VtcError extends Error {
  readonly code: VtcErrorCode;
  readonly entity: string;
  readonly line: number;
  constructor(code: VtcErrorCode, entity: string, line: number, message: string) {
    super(message);
    this.name = 'VtcError';
    this.code = code;
    this.entity = entity;
    this.line = line;
  }
}

/** `feature cmd "…"` whose command failed, or a feature the runner does not have: the test is skipped. */
export class VtcSkip extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VtcSkip';
  }
}

/** An HTTP message as received: first line split in three, header lines, body. */
export interface HttpMessage {
  /** `[method, url, proto]` or `[proto, status, reason]`. */
  readonly first: readonly [string, string, string];
  readonly headers: readonly string[];
  body: Buffer | null;
  bodylen: string;
}

/** Comparison operators of `expect` (VTest's vtc_expect). */
export const EXPECT_OPS = ['==', '!=', '~', '!~', '<', '>', '<=', '>='] as const;
export type ExpectOp = (typeof EXPECT_OPS)[number];
