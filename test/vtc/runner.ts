/**
 * A VTest-compatible runner for `.vtc` files, in TypeScript, for the subset of the VTC language that
 * HAProxy's reg-tests use most: scripted HTTP/TCP `server`s and `client`s, an `haproxy` started
 * with an inline config on sockets the runner opened itself (`fd@${NAME}`), its CLI (`-cli`), config
 * checks (`-conf-OK`, `-conf-BAD`), `delay`, `shell`, `barrier` and `feature`.
 *
 * The "haproxy" it starts is switchyard (`node bin/switchyard.js -d -f cfg`), or the real HAProxy
 * with `--haproxy` (or `VTC_TARGET=haproxy`; `HAPROXY_PROGRAM` names the binary, as for VTest).
 *
 *   node test/vtc/runner.ts [-v] [-k] [-t SECONDS] [--haproxy] [--threads N] [file.vtc…]
 *
 * Written from VTest's documented behaviour (its man page and the semantics of its commands); no
 * VTest source is copied. Everything listens and connects on 127.0.0.1 only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Command,
  DEFAULT_TIMEOUT_S,
  EXPECT_OPS,
  type ExpectOp,
  GOOD_CONF,
  type HttpMessage,
  MAX_RX_BYTES,
  type RunOptions,
  START_LIMIT_MS,
  STOP_GRACE_MS,
  Target,
  type TestResult,
  TestStatus,
  type Token,
  TokenKind,
  VtcError,
  VtcErrorCode,
  VtcSkip,
} from './runner.types.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Proxies running now: killed if the runner itself dies, so that none outlives it. */
const LIVE_CHILDREN = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of LIVE_CHILDREN) c.kill('SIGKILL');
});

/** VTest commands outside this runner's subset: a test that reaches one is skipped, with the reason. */
const UNSUPPORTED_TOP_COMMANDS = new Set(['syslog', 'logexpect', 'process', 'varnish', 'filewrite', 'setenv', 'tunnel', 'vsm']);
const UNSUPPORTED_SPEC_COMMANDS = new Set(['txpri', 'rxpri', 'stream', 'settings', 'upgrade', 'gunzip', 'write_body', 'rxchunk', 'send_urgent', 'expect_pattern']);
const LOG_LIMIT = 20_000;

// ---------------------------------------------------------------------------------------------
// Tokenizer

/**
 * Split VTC text into commands (one a line; `\` + newline continues a line). Tokens are bare
 * words, `"quoted strings"` (with `\n \r \t \\ \" \xHH` escapes; other backslashes are kept, so a
 * regex's `\.` survives) and `{ blocks }` (nested braces counted, content kept raw). `#` at the
 * start of a token comments out the rest of the line. `firstLine` numbers the lines of a block.
 */
export function parseSpec(text: string, firstLine = 1): Command[] {
  const cmds: Command[] = [];
  let tokens: Token[] = [];
  let cmdLine = firstLine;
  let line = firstLine;
  let i = 0;
  const n = text.length;
  const endCommand = (): void => {
    if (tokens.length > 0) cmds.push({ tokens, line: cmdLine });
    tokens = [];
  };
  while (i < n) {
    const c = text[i] as string;
    if (c === '\n') {
      endCommand();
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) {
      i += text[i + 1] === '\n' ? 2 : 3;
      line++;
      continue;
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (tokens.length === 0) cmdLine = line;
    if (c === '"') {
      const start = line;
      let out = '';
      let j = i + 1;
      while (j < n && text[j] !== '"') {
        const ch = text[j] as string;
        if (ch === '\n') line++;
        if (ch === '\\' && j + 1 < n) {
          const e = text[j + 1] as string;
          const hex = /^[0-9a-fA-F]{2}$/.exec(text.slice(j + 2, j + 4));
          if (e === 'n') out += '\n';
          else if (e === 'r') out += '\r';
          else if (e === 't') out += '\t';
          else if (e === '\\' || e === '"') out += e;
          else if (e === 'x' && hex) {
            out += String.fromCharCode(Number.parseInt(hex[0], 16));
            j += 2;
          } else if (e === '\n') line++;
          else out += `\\${e}`;
          j += 2;
          continue;
        }
        out += ch;
        j++;
      }
      if (j >= n) throw new VtcError(VtcErrorCode.SYNTAX, 'top', start, 'unterminated quoted string');
      tokens.push({ kind: TokenKind.QUOTED, text: out, line: start });
      i = j + 1;
      continue;
    }
    if (c === '{') {
      const start = line;
      let depth = 1;
      let j = i + 1;
      for (; j < n && depth > 0; j++) {
        const ch = text[j];
        if (ch === '{') depth++;
        else if (ch === '}') depth--;
        else if (ch === '\n') line++;
      }
      if (depth > 0) throw new VtcError(VtcErrorCode.SYNTAX, 'top', start, "unterminated '{' block");
      tokens.push({ kind: TokenKind.BLOCK, text: text.slice(i + 1, j - 1), line: start });
      i = j;
      continue;
    }
    let j = i;
    while (j < n && !/\s/.test(text[j] as string)) j++;
    tokens.push({ kind: TokenKind.WORD, text: text.slice(i, j), line });
    i = j;
  }
  endCommand();
  return cmds;
}

/** `"IP PORT"`, `"IP:PORT"` or `/path` → what `net.connect`/`listen` take. */
export function parseAddress(s: string): { host: string; port: number } | { path: string } | null {
  const t = s.trim();
  if (t.startsWith('/')) return { path: t };
  const m = /^(\S+?)(?:\s+|:)(\d+)$/.exec(t);
  if (!m) return null;
  return { host: m[1] as string, port: Number(m[2]) };
}

/** A generated body of `len` bytes (printable characters, a newline every 64 and at the end), as `-bodylen` sends. */
export function synthBody(len: number): Buffer {
  const b = Buffer.alloc(len);
  let k = 0x21;
  for (let j = 0; j < len; j++) {
    if (j % 64 === 63) {
      b[j] = 0x0a;
      k = k === 0x7d ? 0x21 : k + 1;
    } else b[j] = 0x21 + ((k - 0x21 + (j % 64)) % 94);
  }
  if (len > 0) b[len - 1] = 0x0a;
  return b;
}

/**
 * A VTC regex (VTest compiles PCRE) as a JS RegExp: leading inline flags `(?i)`, `(?m)`, `(?s)`
 * become flags; an invalid pattern is a syntax failure at `line`.
 */
export function vre(pattern: string, entity = 'top', line = 0): RegExp {
  const m = /^\(\?([ims]+)\)/.exec(pattern);
  try {
    return m ? new RegExp(pattern.slice(m[0].length), [...new Set(m[1])].join('')) : new RegExp(pattern);
  } catch (e) {
    throw new VtcError(VtcErrorCode.SYNTAX, entity, line, `regexp error: ${(e as Error).message}`);
  }
}

/** VTest's `expect` comparison; `lhs`/`rhs` null print and compare as `<undef>`. */
export function compare(lhs: string | null, op: ExpectOp, rhs: string | null): boolean {
  const l = lhs ?? '<undef>';
  const r = rhs ?? '<undef>';
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '~':
      return lhs !== null && vre(r).test(l);
    case '!~':
      return lhs !== null && !vre(r).test(l);
    default: {
      const a = Number(l);
      const b = Number(r);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return op === '<' ? a < b : op === '>' ? a > b : op === '<=' ? a <= b : a >= b;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The run of one file

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

interface Barrier {
  cond: number;
  cyclic: boolean;
  count: number;
  waiters: Array<() => void>;
}

class TestRun {
  readonly log: string[] = [];
  readonly macros = new Map<string, string>();
  ignoreUnknownMacro = false;
  readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  error: Error | null = null;
  readonly servers = new Map<string, VServer>();
  readonly clients = new Map<string, VClient>();
  readonly proxies = new Map<string, VHaproxy>();
  readonly barriers = new Map<string, Barrier>();
  readonly rxTimeoutMs: number;

  readonly file: string;
  readonly tmpdir: string;
  readonly opts: RunOptions;

  constructor(file: string, tmpdir: string, opts: RunOptions) {
    this.file = file;
    this.tmpdir = tmpdir;
    this.opts = opts;
    this.rxTimeoutMs = (opts.timeoutS * 1000) / 2;
    this.macros.set('tmpdir', tmpdir);
    this.macros.set('testdir', path.dirname(path.resolve(file)));
    this.macros.set('localhost', '127.0.0.1');
  }

  say(entity: string, msg: string): void {
    const l = `**** ${entity.padEnd(5)} ${msg}`;
    if (this.log.length < LOG_LIMIT) this.log.push(l);
    if (this.opts.verbose) (this.opts.out ?? console.log)(l);
  }

  /** The first failure wins: it aborts every entity of the test. */
  fail(e: unknown): void {
    // after the end of the test (aborted without an error), what the stopping entities throw is no failure
    if (this.error || this.signal.aborted) return;
    this.error = e instanceof Error ? e : new Error(String(e));
    this.controller.abort(this.error);
  }

  expand(s: string, entity: string, line: number): string {
    return s.replace(/\$\{([^}\s]+)\}/g, (m, name: string) => {
      const v = this.macros.get(name);
      if (v !== undefined) return v;
      if (this.ignoreUnknownMacro) return m;
      throw new VtcError(VtcErrorCode.SYNTAX, entity, line, `Macro ${m} not found`);
    });
  }

  /** The command's words, macros expanded (blocks are left raw: they are specs run later). */
  words(cmd: Command, entity: string): string[] {
    return cmd.tokens.map((t) => (t.kind === TokenKind.BLOCK ? t.text : this.expand(t.text, entity, t.line)));
  }

  delay(seconds: number): Promise<void> {
    return sleep(seconds * 1000, undefined, { signal: this.signal }).catch(() => {
      throw this.signal.reason;
    });
  }

  async barrier(args: readonly string[], entity: string, line: number): Promise<void> {
    const [name, verb, count] = args;
    if (name === undefined || !/^b/.test(name)) throw new VtcError(VtcErrorCode.SYNTAX, entity, line, "barrier: a name starting with 'b' expected");
    if (verb === 'cond') {
      const cond = Number(count);
      if (!Number.isInteger(cond) || cond < 2) throw new VtcError(VtcErrorCode.SYNTAX, entity, line, `barrier ${name} cond: an integer ≥ 2 expected`);
      this.barriers.set(name, { cond, cyclic: args.includes('-cyclic'), count: 0, waiters: [] });
      return;
    }
    if (verb !== 'sync') throw new VtcError(VtcErrorCode.SYNTAX, entity, line, `barrier ${name}: 'cond N' or 'sync' expected`);
    const b = this.barriers.get(name);
    if (!b) throw new VtcError(VtcErrorCode.SYNTAX, entity, line, `barrier ${name} is not defined`);
    if (!b.cyclic && b.count >= b.cond) throw new VtcError(VtcErrorCode.EXPECT, entity, line, `barrier ${name}: more waiters than the ${b.cond} expected`);
    b.count++;
    this.say(entity, `barrier ${name} sync (${b.count}/${b.cond})`);
    if (b.count === b.cond) {
      for (const w of b.waiters.splice(0)) w();
      if (b.cyclic) b.count = 0;
      return;
    }
    await abortable(
      new Promise<void>((resolve) => b.waiters.push(resolve)),
      this.signal,
    );
  }

  /**
   * The environment of `shell` and `feature cmd`: HAProxy's reg-tests ask `$HAPROXY_PROGRAM -cc
   * 'version_atleast(…)'` (unquoted, so the shell splits it into words). Against HAProxy it names
   * the binary; against switchyard, Node and bin/switchyard.js, which answer `-cc` as HAProxy 2.6.
   */
  shellEnv(): NodeJS.ProcessEnv {
    const prog = this.opts.target === Target.HAPROXY ? (process.env.HAPROXY_PROGRAM ?? 'haproxy') : `${process.execPath} ${path.join(ROOT, 'bin/switchyard.js')}`;
    return { ...process.env, HAPROXY_PROGRAM: prog, tmpdir: this.tmpdir, testdir: this.macros.get('testdir') ?? '' };
  }

  async shell(args: readonly string[], entity: string, line: number): Promise<void> {
    let exit = 0;
    let expect: string | undefined;
    let match: RegExp | undefined;
    let i = 0;
    for (; i < args.length - 1; i++) {
      const a = args[i];
      if (a === '-err') exit = -1;
      else if (a === '-exit') exit = Number(args[++i]);
      else if (a === '-expect') expect = args[++i];
      else if (a === '-match') match = vre(args[++i] ?? '', entity, line);
      else break;
    }
    const script = args[i];
    if (script === undefined) throw new VtcError(VtcErrorCode.SYNTAX, entity, line, 'shell: no command');
    const r = await runCommand('/bin/sh', ['-c', this.expand(script, entity, line)], this.tmpdir, this.signal, { env: this.shellEnv() });
    this.say(entity, `shell exit ${r.code}: ${r.out.trim().split('\n').slice(0, 20).join(' | ')}`);
    if (exit === -1 ? r.code === 0 : r.code !== exit) throw new VtcError(VtcErrorCode.EXPECT, entity, line, `shell: exit ${r.code}, expected ${exit === -1 ? 'non-zero' : exit}`);
    if (expect !== undefined && !r.out.includes(expect)) throw new VtcError(VtcErrorCode.EXPECT, entity, line, `shell: output does not contain "${expect}"`);
    if (match && !match.test(r.out)) throw new VtcError(VtcErrorCode.EXPECT, entity, line, `shell: output does not match ${match}`);
  }
}

/** Run a program to its end (stdout and stderr together), bounded by the test's abort. */
function runCommand(prog: string, args: readonly string[], cwd: string, signal: AbortSignal, extra: Partial<{ stdio: Array<'ignore' | 'pipe' | number>; env: NodeJS.ProcessEnv }> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(prog, args, { cwd, stdio: extra.stdio ?? ['ignore', 'pipe', 'pipe'], env: extra.env ?? process.env });
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => (out += d));
    child.stderr?.on('data', (d: string) => (out += d));
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      reject(new VtcError(VtcErrorCode.PROCESS, 'top', 0, `cannot run ${prog}: ${e.message}`));
    });
    child.once('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) reject(signal.reason);
      else resolve({ code, out });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// A connection with a receive buffer

class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private eof = false;
  private wake: (() => void) | null = null;
  readonly closed: Promise<void>;

  readonly socket: net.Socket;
  private readonly run: TestRun;
  private readonly entity: string;

  constructor(socket: net.Socket, run: TestRun, entity: string) {
    this.socket = socket;
    this.run = run;
    this.entity = entity;
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.notify();
    });
    socket.on('end', () => {
      this.eof = true;
      this.notify();
    });
    socket.on('error', (e) => {
      this.run.say(this.entity, `socket error: ${e.message}`);
      this.eof = true;
      this.notify();
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.eof = true;
        this.notify();
        resolve();
      }),
    );
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Wait until `ready()` holds or the peer closed; fail after the receive timeout. */
  private async fill(ready: () => boolean, what: string, line: number, timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!ready()) {
      if (this.eof) return false;
      if (this.buf.length > MAX_RX_BYTES) throw new VtcError(VtcErrorCode.IO, this.entity, line, `${what}: more than ${MAX_RX_BYTES} bytes received`);
      const left = end - Date.now();
      if (left <= 0) throw new VtcError(VtcErrorCode.TIMEOUT, this.entity, line, `${what}: rx timeout (${timeoutMs} ms)`);
      let timer: NodeJS.Timeout | undefined;
      await abortable(
        new Promise<void>((resolve) => {
          this.wake = resolve;
          timer = setTimeout(resolve, left);
        }),
        this.run.signal,
      ).finally(() => clearTimeout(timer));
    }
    return true;
  }

  /** Exactly `n` bytes; EOF first is a failure. */
  async read(n: number, what: string, line: number, timeoutMs: number): Promise<Buffer> {
    if (!(await this.fill(() => this.buf.length >= n, what, line, timeoutMs))) {
      throw new VtcError(VtcErrorCode.IO, this.entity, line, `${what}: EOF after ${this.buf.length} of ${n} bytes`);
    }
    return this.take(n);
  }

  /** Up to and including the first `delim`. */
  async readUntil(delim: RegExp, what: string, line: number, timeoutMs: number): Promise<Buffer> {
    let m: RegExpExecArray | null = null;
    const found = await this.fill(() => (m = delim.exec(this.buf.toString('latin1'))) !== null, what, line, timeoutMs);
    if (!found || m === null) throw new VtcError(VtcErrorCode.IO, this.entity, line, `${what}: EOF (received ${JSON.stringify(this.buf.toString('latin1').slice(0, 200))})`);
    const hit = m as RegExpExecArray;
    return this.take(hit.index + hit[0].length);
  }

  async readToEof(what: string, line: number, timeoutMs: number): Promise<Buffer> {
    await this.fill(() => false, what, line, timeoutMs);
    return this.take(this.buf.length);
  }

  /** VTest's expect_close: only whitespace may arrive before EOF (a reset counts as a close). */
  async expectClose(line: number, timeoutMs: number): Promise<void> {
    await this.fill(() => /[^ \t\r\n]/.test(this.buf.toString('latin1')), 'expect_close', line, timeoutMs);
    const rest = this.buf.toString('latin1').replace(/^[ \t\r\n]+/, '');
    if (rest.length > 0) throw new VtcError(VtcErrorCode.EXPECT, this.entity, line, `expected close, received ${JSON.stringify(rest.slice(0, 80))}`);
  }

  private take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  async write(data: Buffer | string, line: number): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) throw new VtcError(VtcErrorCode.IO, this.entity, line, 'write on a closed connection');
    await abortable(
      new Promise<void>((resolve, reject) => this.socket.write(data, (e) => (e ? reject(new VtcError(VtcErrorCode.IO, this.entity, line, `write failed: ${e.message}`)) : resolve()))),
      this.run.signal,
    );
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP/TCP specs of servers and clients

type Role = 'server' | 'client';

class HttpSpec {
  req: HttpMessage | null = null;
  resp: HttpMessage | null = null;
  /** Method of the last `txreq`: the response to a HEAD has no body. */
  private lastMethod = 'GET';
  timeoutMs: number;

  private readonly run: TestRun;
  readonly entity: string;
  readonly role: Role;
  conn: Conn;
  /** For a server's `accept`: the next connection. */
  private readonly acceptNext: (() => Promise<Conn>) | null;

  constructor(run: TestRun, entity: string, role: Role, conn: Conn, acceptNext: (() => Promise<Conn>) | null) {
    this.run = run;
    this.entity = entity;
    this.role = role;
    this.conn = conn;
    this.acceptNext = acceptNext;
    this.timeoutMs = run.rxTimeoutMs;
  }

  async exec(spec: Token): Promise<void> {
    for (const cmd of parseSpec(spec.text, spec.line)) {
      if (this.run.signal.aborted) throw this.run.signal.reason;
      await this.step(cmd);
    }
  }

  private only(role: Role, name: string, line: number): void {
    if (this.role !== role) throw new VtcError(VtcErrorCode.SYNTAX, this.entity, line, `"${name}" only possible in ${role}`);
  }

  private async step(cmd: Command): Promise<void> {
    const w = this.run.words(cmd, this.entity);
    const [name, ...args] = w as [string, ...string[]];
    const line = cmd.line;
    this.run.say(this.entity, `${line}: ${w.map((x) => (/\s/.test(x) ? JSON.stringify(x) : x)).join(' ')}`.slice(0, 300));
    switch (name) {
      case 'txreq': {
        this.only('client', name, line);
        const m = args.findIndex((a) => a === '-req' || a === '-method');
        this.lastMethod = m >= 0 ? (args[m + 1] ?? 'GET') : 'GET';
        return this.conn.write(this.buildMessage(args, 'client', line), line);
      }
      case 'txresp':
        this.only('server', name, line);
        return this.conn.write(this.buildMessage(args, 'server', line), line);
      case 'rxreq':
      case 'rxreqhdrs': {
        this.only('server', name, line);
        this.req = await this.rxHeaders('req', line);
        if (name === 'rxreq') await this.rxBody(this.req, false, line);
        return;
      }
      case 'rxreqbody':
        this.only('server', name, line);
        if (!this.req) throw new VtcError(VtcErrorCode.SYNTAX, this.entity, line, 'rxreqbody before rxreqhdrs');
        return this.rxBody(this.req, false, line);
      case 'rxresp':
      case 'rxresphdrs': {
        this.only('client', name, line);
        this.resp = await this.rxHeaders('resp', line);
        if (name !== 'rxresp' || args.includes('-no_obj')) return;
        // no body after a HEAD, a 1xx, a 204 or a 304, whatever the headers announce
        if (this.lastMethod === 'HEAD' || /^(1..|204|304)$/.test(this.resp.first[1])) {
          this.resp.body = Buffer.alloc(0);
          this.resp.bodylen = '0';
          return;
        }
        await this.rxBody(this.resp, this.resp.first[1] === '200', line);
        return;
      }
      case 'rxrespbody':
        this.only('client', name, line);
        if (!this.resp) throw new VtcError(VtcErrorCode.SYNTAX, this.entity, line, 'rxrespbody before rxresphdrs');
        return this.rxBody(this.resp, false, line);
      case 'expect':
        return this.expect(args, line);
      case 'send':
        return this.conn.write(Buffer.from(args[0] ?? '', 'latin1'), line);
      case 'send_n':
        return this.conn.write(Buffer.from((args[1] ?? '').repeat(Number(args[0])), 'latin1'), line);
      case 'sendhex':
        return this.conn.write(Buffer.from((args[0] ?? '').replace(/\s+/g, ''), 'hex'), line);
      case 'recv': {
        const n = Number(args[0]);
        const got = await this.conn.read(n, `recv ${n}`, line, this.timeoutMs);
        this.run.say(this.entity, `recv ${JSON.stringify(got.toString('latin1').slice(0, 200))}`);
        return;
      }
      case 'chunked': {
        const s = Buffer.from(args[0] ?? '', 'latin1');
        return this.conn.write(Buffer.concat([Buffer.from(`${s.length.toString(16)}\r\n`), s, Buffer.from('\r\n')]), line);
      }
      case 'chunkedlen': {
        const len = Number(args[0]);
        if (len === 0) return this.conn.write('0\r\n\r\n', line);
        const s = Buffer.alloc(len, 0).map((_, i) => 0x30 + (i & 7));
        return this.conn.write(Buffer.concat([Buffer.from(`${len.toString(16)}\r\n`), s, Buffer.from('\r\n')]), line);
      }
      case 'expect_close':
        return this.conn.expectClose(line, this.timeoutMs);
      case 'close':
        this.only('server', name, line);
        await this.conn.close();
        return;
      case 'accept': {
        this.only('server', name, line);
        await this.conn.close();
        if (!this.acceptNext) throw new VtcError(VtcErrorCode.SYNTAX, this.entity, line, 'accept outside a server');
        this.conn = await this.acceptNext();
        return;
      }
      case 'timeout':
        this.timeoutMs = Number(args[0]) * 1000;
        return;
      case 'delay':
        return this.run.delay(Number(args[0]));
      case 'barrier':
        return this.run.barrier(args, this.entity, line);
      case 'shell':
        return this.run.shell(args, this.entity, line);
      case 'loop': {
        const n = Number(args[0]);
        const block = cmd.tokens[2];
        if (!Number.isInteger(n) || n < 0 || !block) throw new VtcError(VtcErrorCode.SYNTAX, this.entity, line, 'loop N { spec }');
        for (let i = 0; i < n; i++) await this.exec(block);
        return;
      }
      case 'fatal':
      case 'non_fatal':
        return;
      default:
        if (UNSUPPORTED_SPEC_COMMANDS.has(name)) throw new VtcSkip(`'${name}' (line ${line}) is not implemented by this runner`);
        throw new VtcError(VtcErrorCode.SYNTAX, this.entity, line, `Unknown ${this.role === 'server' ? 'server' : 'client'} command: "${name}"`);
    }
  }

  /** txreq / txresp: first line, -hdr lines, Host (txreq, HTTP/1.1, unless given or -nohost), Content-Length (with a body, unless -nolen), body. */
  private buildMessage(args: readonly string[], role: Role, line: number): Buffer {
    let method = 'GET';
    let url = '/';
    let proto = 'HTTP/1.1';
    let status = '200';
    let reason = 'OK';
    let nolen = false;
    let nohost = role === 'server';
    const headers: string[] = [];
    let body: Buffer | null = role === 'server' ? Buffer.alloc(0) : null;
    for (let i = 0; i < args.length; i++) {
      const a = args[i] as string;
      const v = (): string => {
        const x = args[++i];
        if (x === undefined) throw new VtcError(VtcErrorCode.SYNTAX, this.entity, line, `${a}: missing value`);
        return x;
      };
      if (role === 'client' && (a === '-req' || a === '-method')) method = v();
      else if (role === 'client' && a === '-url') url = v();
      else if (a === '-proto') proto = v();
      else if (role === 'server' && a === '-status') status = v();
      else if (role === 'server' && a === '-reason') reason = v();
      else if (a === '-nolen') nolen = true;
      else if (a === '-nohost') nohost = true;
      else if (a === '-hdr') {
        const h = v();
        if (/^host:/i.test(h)) nohost = true;
        headers.push(h);
      } else if (a === '-hdrlen') {
        const hn = v();
        const len = Number(v());
        headers.push(`${hn}: ${Array.from({ length: len }, (_, k) => String((len - 1 - k) % 10)).join('')}`);
      } else if (a === '-body') body = Buffer.from(v(), 'latin1');
      else if (a === '-bodylen') body = synthBody(Number(v()));
      else throw new VtcError(VtcErrorCode.SYNTAX, this.entity, line, `Unknown http ${role === 'client' ? 'txreq' : 'txresp'} spec: ${a}`);
    }
    if (role === 'client' && proto.toUpperCase() !== 'HTTP/1.1') nohost = true;
    const head = [role === 'client' ? `${method} ${url} ${proto}` : `${proto} ${status} ${reason}`, ...headers];
    if (!nohost) head.push(`Host: ${this.run.macros.get('localhost')}`);
    if (body !== null && !nolen) head.push(`Content-Length: ${body.length}`);
    return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body ?? Buffer.alloc(0)]);
  }

  private async rxHeaders(kind: 'req' | 'resp', line: number): Promise<HttpMessage> {
    const raw = (await this.conn.readUntil(/\r?\n\r?\n/, kind === 'req' ? 'rxreq' : 'rxresp', line, this.timeoutMs)).toString('latin1');
    const lines = raw.replace(/^[\r\n]+/, '').split(/\r?\n/).filter((l) => l.length > 0);
    const first = lines.shift() ?? '';
    const m = /^\s*(\S+)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(first);
    if (!m) throw new VtcError(VtcErrorCode.IO, this.entity, line, `malformed ${kind === 'req' ? 'request' : 'status'} line ${JSON.stringify(first)}`);
    const msg: HttpMessage = { first: [m[1] as string, m[2] as string, m[3] ?? ''], headers: lines, body: null, bodylen: '<undef>' };
    this.run.say(this.entity, `${kind === 'req' ? 'rxreq' : 'rxresp'} ${JSON.stringify(first)}`);
    for (const l of lines) this.run.say(this.entity, `  ${JSON.stringify(l)}`);
    if (lines.filter((l) => /^content-length:/i.test(l)).length > 1) throw new VtcError(VtcErrorCode.EXPECT, this.entity, line, 'Multiple Content-Length headers');
    return msg;
  }

  /** As VTest: chunked, else Content-Length, else (a 200 response) to EOF, else no body. */
  private async rxBody(msg: HttpMessage, toEof: boolean, line: number): Promise<void> {
    const te = header(msg, 'transfer-encoding');
    const cl = header(msg, 'content-length');
    let body: Buffer;
    if (te !== null && te.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      let total = 0;
      for (;;) {
        const sizeLine = (await this.conn.readUntil(/\n/, 'chunk size', line, this.timeoutMs)).toString('latin1');
        const size = Number.parseInt(sizeLine.trim(), 16);
        if (Number.isNaN(size)) throw new VtcError(VtcErrorCode.IO, this.entity, line, `chunked: bad size line ${JSON.stringify(sizeLine)}`);
        if (size > 0) parts.push(await this.conn.read(size, 'chunk', line, this.timeoutMs));
        total += size;
        if (total > MAX_RX_BYTES) throw new VtcError(VtcErrorCode.IO, this.entity, line, 'chunked body too large');
        const tail = (await this.conn.read(2, 'chunk tail', line, this.timeoutMs)).toString('latin1');
        if (tail !== '\r\n') throw new VtcError(VtcErrorCode.IO, this.entity, line, `chunked: wrong chunk tail ${JSON.stringify(tail)}`);
        if (size === 0) break;
      }
      body = Buffer.concat(parts);
    } else if (cl !== null) {
      body = await this.conn.read(Number.parseInt(cl, 10), 'body', line, this.timeoutMs);
    } else if (toEof) {
      body = await this.conn.readToEof('body', line, this.timeoutMs);
    } else body = Buffer.alloc(0);
    msg.body = body;
    msg.bodylen = String(body.length);
  }

  private resolve(spec: string): string | null {
    const req = this.req;
    const resp = this.resp;
    switch (spec) {
      case 'req.method':
        return req?.first[0] ?? null;
      case 'req.url':
        return req?.first[1] ?? null;
      case 'req.proto':
        return req?.first[2] ?? null;
      case 'resp.proto':
        return resp?.first[0] ?? null;
      case 'resp.status':
        return resp?.first[1] ?? null;
      case 'resp.reason':
        return resp?.first[2] ?? null;
      case 'req.bodylen':
        return req?.bodylen ?? null;
      case 'resp.bodylen':
        return resp?.bodylen ?? null;
      case 'req.body':
        return req?.body?.toString('latin1') ?? null;
      case 'resp.body':
        return resp?.body?.toString('latin1') ?? null;
      case 'remote.ip':
        return this.conn.socket.remoteAddress ?? null;
      case 'remote.port':
        return String(this.conn.socket.remotePort ?? '');
    }
    if (spec.startsWith('req.http.')) return req ? header(req, spec.slice(9)) : null;
    if (spec.startsWith('resp.http.')) return resp ? header(resp, spec.slice(10)) : null;
    return spec;
  }

  private expect(args: readonly string[], line: number): void {
    const [l, op, r] = args;
    if (l === undefined || r === undefined || args.length !== 3 || !(EXPECT_OPS as readonly string[]).includes(op ?? '')) {
      throw new VtcError(VtcErrorCode.SYNTAX, this.entity, line, `expect LHS OP RHS (OP one of ${EXPECT_OPS.join(' ')})`);
    }
    const lhs = this.resolve(l);
    const rhs = this.resolve(r);
    if (!compare(lhs, op as ExpectOp, rhs)) {
      throw new VtcError(VtcErrorCode.EXPECT, this.entity, line, `EXPECT ${l} (${lhs ?? '<undef>'}) ${op} "${rhs ?? '<undef>'}" failed`);
    }
    this.run.say(this.entity, `EXPECT ${l} (${lhs ?? '<undef>'}) ${op} "${rhs ?? '<undef>'}" match`);
  }
}

function header(msg: HttpMessage, name: string): string | null {
  const lower = `${name.toLowerCase()}:`;
  for (const h of msg.headers) {
    if (h.toLowerCase().startsWith(lower)) return h.slice(lower.length).replace(/^[ \t]+/, '');
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// server sN

class VServer {
  spec: Token | null = null;
  repeat = 1;
  listen = '127.0.0.1 0';
  private server: net.Server | null = null;
  private readonly queue: net.Socket[] = [];
  private waiter: ((s: net.Socket) => void) | null = null;
  private readonly conns = new Set<Conn>();
  task: Promise<void> | null = null;

  readonly name: string;
  private readonly run: TestRun;

  constructor(name: string, run: TestRun) {
    this.name = name;
    this.run = run;
  }

  async start(line: number): Promise<void> {
    if (!this.spec) throw new VtcError(VtcErrorCode.SYNTAX, this.name, line, 'server without a spec');
    if (!this.server) {
      const addr = parseAddress(this.listen);
      if (!addr) throw new VtcError(VtcErrorCode.SYNTAX, this.name, line, `bad -listen address '${this.listen}'`);
      if ('host' in addr && addr.host !== '127.0.0.1') throw new VtcError(VtcErrorCode.SYNTAX, this.name, line, 'servers listen on 127.0.0.1 only');
      const server = net.createServer((s) => {
        // a connection waiting for its turn may be reset meanwhile: its Conn reports it later
        s.on('error', () => undefined);
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = null;
          w(s);
        } else this.queue.push(s);
      });
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e) => reject(new VtcError(VtcErrorCode.IO, this.name, line, `listen: ${e.message}`)));
        server.listen('path' in addr ? { path: addr.path } : { host: addr.host, port: addr.port, backlog: 128 }, () => resolve());
      });
      const a = server.address();
      if (a && typeof a === 'object') {
        this.run.macros.set(`${this.name}_addr`, a.address);
        this.run.macros.set(`${this.name}_port`, String(a.port));
        this.run.macros.set(`${this.name}_sock`, `${a.address} ${a.port}`);
      } else if (typeof a === 'string') this.run.macros.set(`${this.name}_sock`, a);
      this.run.say(this.name, `listening on ${this.run.macros.get(`${this.name}_sock`)}`);
    }
    const spec = this.spec;
    const repeat = this.repeat;
    this.task = (async () => {
      for (let i = 0; i < repeat; i++) {
        const conn = await this.accept();
        const http = new HttpSpec(this.run, this.name, 'server', conn, () => this.accept());
        try {
          await http.exec(spec);
        } finally {
          await http.conn.close();
        }
      }
      this.run.say(this.name, 'ending');
    })();
    this.task.catch((e: unknown) => this.run.fail(e));
  }

  private async accept(): Promise<Conn> {
    const next = this.queue.shift();
    const sock = next ?? (await abortable(new Promise<net.Socket>((resolve) => (this.waiter = resolve)), this.run.signal));
    const conn = new Conn(sock, this.run, this.name);
    this.conns.add(conn);
    void conn.closed.then(() => this.conns.delete(conn));
    this.run.say(this.name, `accepted from ${sock.remoteAddress}:${sock.remotePort}`);
    return conn;
  }

  async wait(line: number): Promise<void> {
    if (!this.task) throw new VtcError(VtcErrorCode.SYNTAX, this.name, line, 'server not started');
    await abortable(this.task, this.run.signal);
    this.task = null;
  }

  /** The end of the test (or `-break`): stop listening, close what is open. */
  async stop(): Promise<void> {
    this.waiter = null;
    for (const s of this.queue.splice(0)) s.destroy();
    await Promise.all([...this.conns].map((c) => c.close()));
    const srv = this.server;
    this.server = null;
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
    await this.task?.catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// client cN

class VClient {
  spec: Token | null = null;
  repeat = 1;
  keepalive = false;
  connect: string | null = null;
  task: Promise<void> | null = null;
  private readonly conns = new Set<Conn>();

  readonly name: string;
  private readonly run: TestRun;

  constructor(name: string, run: TestRun) {
    this.name = name;
    this.run = run;
  }

  start(line: number): void {
    const spec = this.spec;
    const target = this.connect;
    if (!spec) throw new VtcError(VtcErrorCode.SYNTAX, this.name, line, 'client without a spec');
    if (target === null) throw new VtcError(VtcErrorCode.SYNTAX, this.name, line, 'client without -connect');
    const addr = parseAddress(target);
    if (!addr) throw new VtcError(VtcErrorCode.SYNTAX, this.name, line, `bad -connect address '${target}'`);
    const repeat = this.repeat;
    const keepalive = this.keepalive;
    this.task = (async () => {
      let conn: Conn | null = null;
      for (let i = 0; i < repeat; i++) {
        if (!conn) conn = await this.open(addr, target, line);
        const http = new HttpSpec(this.run, this.name, 'client', conn, null);
        try {
          await http.exec(spec);
        } finally {
          if (!keepalive || i === repeat - 1) {
            await conn.close();
            conn = null;
          }
        }
      }
      this.run.say(this.name, 'ending');
    })();
    this.task.catch((e: unknown) => this.run.fail(e));
  }

  private async open(addr: { host: string; port: number } | { path: string }, target: string, line: number): Promise<Conn> {
    const sock = 'path' in addr ? net.connect({ path: addr.path }) : net.connect({ host: addr.host, port: addr.port });
    const conn = new Conn(sock, this.run, this.name);
    this.conns.add(conn);
    void conn.closed.then(() => this.conns.delete(conn));
    await abortable(
      new Promise<void>((resolve, reject) => {
        sock.once('connect', () => resolve());
        sock.once('error', (e) => reject(new VtcError(VtcErrorCode.IO, this.name, line, `failed to connect to ${target}: ${e.message}`)));
      }),
      this.run.signal,
    );
    this.run.say(this.name, `connected to ${target} from ${sock.localAddress}:${sock.localPort}`);
    return conn;
  }

  async wait(line: number): Promise<void> {
    if (!this.task) throw new VtcError(VtcErrorCode.SYNTAX, this.name, line, 'client not started');
    await abortable(this.task, this.run.signal);
    this.task = null;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.conns].map((c) => c.close()));
    await this.task?.catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// haproxy hN

class VHaproxy {
  private conf: string | null = null;
  /** `fd@${NAME}` listeners the runner opened, by NAME, in the order of the child's fds (3, 4, …). */
  private readonly listeners = new Map<string, { server: net.Server; fd: number }>();
  private handedOver = false;
  private child: ChildProcess | null = null;
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  private stopping = false;
  private cliSpec: Token | null = null;
  expectExit = 0;
  /** `-arg` words, after the runner's own (`-d` or `-c`). */
  private readonly extraArgs: string[] = [];
  readonly workdir: string;
  readonly cfgFile: string;
  readonly statsPath: string;

  readonly name: string;
  private readonly run: TestRun;

  constructor(name: string, run: TestRun) {
    this.name = name;
    this.run = run;
    this.workdir = path.join(run.tmpdir, name);
    fs.mkdirSync(this.workdir, { recursive: true });
    this.cfgFile = path.join(this.workdir, 'cfg');
    this.statsPath = path.join(this.workdir, 'stats.sock');
  }

  /**
   * `-arg STRING`: words added to the command line. For switchyard, `-L NAME` (HAProxy's local peer
   * name) is dropped: switchyard has no peers section, and the name changes nothing else.
   */
  addArgs(s: string): void {
    const words = s.split(/\s+/).filter((x) => x !== '');
    for (let i = 0; i < words.length; i++) {
      if (this.run.opts.target === Target.SWITCHYARD && words[i] === '-L') {
        this.run.say(this.name, `-arg: '-L ${words[i + 1] ?? ''}' dropped (switchyard has no peers)`);
        i++;
      } else this.extraArgs.push(words[i] as string);
    }
  }

  private program(): { prog: string; args: string[] } {
    if (this.run.opts.target === Target.HAPROXY) return { prog: process.env.HAPROXY_PROGRAM ?? 'haproxy', args: [] };
    return { prog: process.execPath, args: [path.join(ROOT, 'bin/switchyard.js'), '--threads', String(this.run.opts.threads)] };
  }

  /**
   * Store a config as VTest does: a `global` section with the stats sockets first (a unix one in
   * the work dir, `fd@${cli}` for `-cli`), every `fd@${NAME}` bound by the runner on 127.0.0.1:0
   * and rewritten to the child's fd, then macros expanded.
   */
  async store(text: string, line: number): Promise<void> {
    let cfg = `    global\n\tstats socket "${this.statsPath}" level admin mode 600\n    stats socket "fd@\${cli}" level admin\n${text}`;
    for (const m of cfg.matchAll(/fd@\$\{([A-Za-z0-9_]+)\}/g)) {
      const nm = m[1] as string;
      if (this.listeners.has(nm)) continue;
      if (this.handedOver) throw new VtcError(VtcErrorCode.SYNTAX, this.name, line, `fd@\${${nm}}: ${this.name} was already started (a restart on new sockets is not supported)`);
      const server = net.createServer((s) => s.destroy());
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, () => resolve());
      });
      const handle = (server as unknown as { _handle: { fd: number } | null })._handle;
      if (!handle || handle.fd < 0) throw new VtcError(VtcErrorCode.IO, this.name, line, 'cannot get the listening socket of a fd@ bind');
      this.listeners.set(nm, { server, fd: handle.fd });
      const port = (server.address() as net.AddressInfo).port;
      const key = `${this.name}_${nm}`;
      this.run.macros.set(`${key}_addr`, '127.0.0.1');
      this.run.macros.set(`${key}_port`, String(port));
      this.run.macros.set(`${key}_sock`, `127.0.0.1 ${port}`);
      this.run.say(this.name, `fd@\${${nm}} listens on 127.0.0.1:${port}`);
    }
    const names = [...this.listeners.keys()];
    cfg = cfg.replace(/fd@\$\{([A-Za-z0-9_]+)\}/g, (_, nm: string) => `fd@${3 + names.indexOf(nm)}`);
    this.conf = this.run.expand(cfg, this.name, line);
    this.run.macros.set(`${this.name}_name`, this.workdir);
  }

  private childEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    let fd = 3;
    for (const nm of this.listeners.keys()) env[nm] = String(fd++);
    return env;
  }

  private stdio(): Array<'ignore' | 'pipe' | number> {
    return ['ignore', 'pipe', 'pipe', ...[...this.listeners.values()].map((l) => l.fd)];
  }

  /** `-conf-OK` / `-conf-BAD`: the program in `-c` mode; exit code and a string in its output. */
  async check(expectOk: boolean, expected: string, line: number): Promise<void> {
    if (this.conf === null) throw new VtcError(VtcErrorCode.SYNTAX, this.name, line, 'no configuration');
    fs.writeFileSync(this.cfgFile, this.conf);
    const { prog, args } = this.program();
    const r = await runCommand(prog, [...args, '-c', ...this.extraArgs, '-f', this.cfgFile], this.workdir, this.run.signal, { stdio: this.stdio(), env: this.childEnv() });
    for (const l of r.out.split('\n').slice(0, 50)) if (l) this.run.say(this.name, `| ${l}`);
    const want = expectOk ? 0 : 1;
    if (r.code !== want) throw new VtcError(VtcErrorCode.EXPECT, this.name, line, `${expectOk ? '-conf-OK' : '-conf-BAD'}: exit ${r.code}, expected ${want}`);
    if (!r.out.includes(expected)) throw new VtcError(VtcErrorCode.EXPECT, this.name, line, `Did not find expected string '${expected}'`);
    this.run.say(this.name, `Found expected '${expected}'`);
  }

  async start(line: number): Promise<void> {
    if (this.conf === null) throw new VtcError(VtcErrorCode.SYNTAX, this.name, line, 'no configuration (-conf)');
    if (this.child) throw new VtcError(VtcErrorCode.SYNTAX, this.name, line, 'already started');
    fs.writeFileSync(this.cfgFile, this.conf);
    fs.rmSync(this.statsPath, { force: true });
    const { prog, args } = this.program();
    const argv = [...args, '-d', ...this.extraArgs, '-f', this.cfgFile];
    this.run.say(this.name, `argv: ${prog} ${argv.join(' ')}`);
    const child = spawn(prog, argv, { cwd: this.workdir, stdio: this.stdio(), env: this.childEnv() });
    this.child = child;
    LIVE_CHILDREN.add(child);
    child.once('exit', () => LIVE_CHILDREN.delete(child));
    // the child has its copies of the listening sockets now: the runner lets go of its own, so
    // that only the proxy accepts (the runner never accepts on them)
    this.handedOver = true;
    await Promise.all([...this.listeners.values()].map((l) => new Promise<void>((r) => l.server.close(() => r()))));
    const lines = (stream: NodeJS.ReadableStream | null, tag: string): void => {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (d: string) => {
        buf += d;
        const parts = buf.split('\n');
        buf = parts.pop() ?? '';
        for (const p of parts) this.run.say(this.name, `${tag} ${p}`);
      });
    };
    lines(child.stdout, '|');
    lines(child.stderr, '!');
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.once('error', (e) => this.run.fail(new VtcError(VtcErrorCode.PROCESS, this.name, line, `cannot start ${prog}: ${e.message}`)));
    void this.exited.then(({ code, signal }) => {
      this.run.say(this.name, `exited (code ${code}, signal ${signal})`);
      if (!this.stopping) this.run.fail(new VtcError(VtcErrorCode.PROCESS, this.name, line, `${this.name} exited unexpectedly (code ${code}, signal ${signal})`));
    });
    this.run.macros.set(`${this.name}_pid`, String(child.pid));
    // ready when its stats socket exists (it binds it while starting up, before serving)
    const end = Date.now() + START_LIMIT_MS;
    while (!fs.existsSync(this.statsPath)) {
      if (Date.now() > end) throw new VtcError(VtcErrorCode.PROCESS, this.name, line, `${this.name} did not open its stats socket within ${START_LIMIT_MS} ms`);
      await abortable(sleep(20), this.run.signal);
    }
    this.run.say(this.name, `started, pid ${child.pid}`);
    if (this.cliSpec) {
      const spec = this.cliSpec;
      this.cliSpec = null;
      await this.cli(spec);
    }
  }

  /** `-cli { send "…"; expect ~ "…" }`: each `send` opens a connection if none is open; `expect` reads the answer to its close. */
  async cli(spec: Token): Promise<void> {
    if (!this.child) {
      this.cliSpec = spec;
      return;
    }
    const target = this.run.macros.get(`${this.name}_cli_sock`);
    const addr = target ? parseAddress(target) : null;
    if (!addr) throw new VtcError(VtcErrorCode.SYNTAX, this.name, spec.line, 'no CLI socket');
    let conn: Conn | null = null;
    const entity = `${this.name}`;
    try {
      for (const cmd of parseSpec(spec.text, spec.line)) {
        const [verb, ...args] = this.run.words(cmd, entity) as [string, ...string[]];
        this.run.say(entity, `CLI ${cmd.line}: ${verb} ${args.map((a) => JSON.stringify(a)).join(' ')}`);
        if (verb === 'send') {
          if (!conn) {
            const sock = 'path' in addr ? net.connect({ path: addr.path }) : net.connect({ host: addr.host, port: addr.port });
            conn = new Conn(sock, this.run, entity);
            await abortable(
              new Promise<void>((resolve, reject) => {
                sock.once('connect', () => resolve());
                sock.once('error', (e) => reject(new VtcError(VtcErrorCode.IO, entity, cmd.line, `CLI failed to open ${target}: ${e.message}`)));
              }),
              this.run.signal,
            );
          }
          await conn.write(`${args[0] ?? ''}\n`, cmd.line);
        } else if (verb === 'expect') {
          const [op, re] = args;
          if ((op !== '~' && op !== '!~') || re === undefined) throw new VtcError(VtcErrorCode.SYNTAX, entity, cmd.line, 'CLI expect ~|!~ REGEX');
          if (!conn) throw new VtcError(VtcErrorCode.SYNTAX, entity, cmd.line, 'CLI expect before send');
          const answer = (await conn.readToEof('CLI recv', cmd.line, this.run.rxTimeoutMs)).toString('utf8');
          await conn.close();
          conn = null;
          for (const l of answer.split('\n').slice(0, 40)) this.run.say(entity, `CLI recv| ${l}`);
          const hit = vre(re, entity, cmd.line).test(answer);
          if (hit !== (op === '~')) throw new VtcError(VtcErrorCode.EXPECT, entity, cmd.line, `CLI expect failed ${op} ${JSON.stringify(re)} (answer: ${JSON.stringify(answer.slice(0, 400))})`);
          this.run.say(entity, `CLI expect match ${op} ${JSON.stringify(re)}`);
        } else throw new VtcError(VtcErrorCode.SYNTAX, entity, cmd.line, `Unknown CLI command: "${verb}"`);
      }
    } finally {
      await conn?.close();
    }
  }

  /** `-wait` and the end of the test: SIGINT, then SIGTERM, then SIGKILL, `STOP_GRACE_MS` apart; the exit must be `-expectexit` (0) or the signal. */
  async stop(line: number, check: boolean): Promise<void> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return;
    this.stopping = true;
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGKILL'];
    let sent: NodeJS.Signals | null = null;
    let result: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    for (const sig of signals) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      child.kill(sig);
      sent = sig;
      const timer = new Promise<null>((r) => setTimeout(() => r(null), STOP_GRACE_MS).unref());
      result = await Promise.race([exited, timer]);
      if (result) break;
    }
    result ??= await exited;
    this.child = null;
    this.run.say(this.name, `stopped with ${sent ?? 'nothing'}: code ${result.code}, signal ${result.signal}`);
    if (check) {
      const ok = result.code === this.expectExit || (result.signal !== null && result.signal === sent && sent !== 'SIGKILL');
      if (!ok) throw new VtcError(VtcErrorCode.PROCESS, this.name, line, `bad exit status (code ${result.code}, signal ${result.signal}; expected exit ${this.expectExit})`);
    }
  }

  async dispose(): Promise<void> {
    await this.stop(0, false).catch(() => undefined);
    await Promise.all([...this.listeners.values()].map((l) => (l.server.listening ? new Promise<void>((r) => l.server.close(() => r())) : Promise.resolve())));
  }
}

// ---------------------------------------------------------------------------------------------
// Top level

async function topCommand(run: TestRun, cmd: Command, first: boolean): Promise<void> {
  const w = run.words(cmd, 'top');
  const [name, ...args] = w as [string, ...string[]];
  const line = cmd.line;
  if (first && name !== 'varnishtest' && name !== 'vtest') throw new VtcError(VtcErrorCode.SYNTAX, 'top', line, "the first command must be 'vtest' or 'varnishtest'");
  run.say('top', `${line}: ${name} ${args.map((a) => (a.includes('\n') ? '{…}' : a)).join(' ')}`.slice(0, 200));
  switch (name) {
    case 'varnishtest':
    case 'vtest':
      if (!first) throw new VtcError(VtcErrorCode.SYNTAX, 'top', line, `'${name}' must be the first command`);
      return;
    case 'feature':
      for (let i = 0; i < args.length; i++) {
        const f = args[i];
        if (f === 'ignore_unknown_macro') run.ignoreUnknownMacro = true;
        else if (f === 'cmd') {
          const c = args[++i] ?? '';
          const r = await runCommand('/bin/sh', ['-c', c], run.tmpdir, run.signal, { env: run.shellEnv() });
          if (r.code !== 0) throw new VtcSkip(`feature cmd "${c}" failed (exit ${r.code})`);
        } else throw new VtcSkip(`feature '${f}' not supported by this runner`);
      }
      return;
    case 'delay':
      return run.delay(Number(args[0]));
    case 'shell':
      return run.shell(args, 'top', line);
    case 'barrier':
      return run.barrier(args, 'top', line);
    case 'server':
      return serverCommand(run, cmd, args, line);
    case 'client':
      return clientCommand(run, cmd, args, line);
    case 'haproxy':
      return haproxyCommand(run, cmd, args, line);
    default:
      if (UNSUPPORTED_TOP_COMMANDS.has(name)) throw new VtcSkip(`'${name}' (line ${line}) is not implemented by this runner`);
      throw new VtcError(VtcErrorCode.SYNTAX, 'top', line, `Unknown command: "${name}"`);
  }
}

function blockAt(cmd: Command, index: number): Token {
  const t = cmd.tokens[index + 1];
  if (!t) throw new VtcError(VtcErrorCode.SYNTAX, 'top', cmd.line, 'missing argument');
  return t;
}

async function serverCommand(run: TestRun, cmd: Command, args: readonly string[], line: number): Promise<void> {
  const name = args[0];
  if (!name?.startsWith('s')) throw new VtcError(VtcErrorCode.SYNTAX, 'top', line, "server name must start with 's'");
  let s = run.servers.get(name);
  if (!s) run.servers.set(name, (s = new VServer(name, run)));
  for (let i = 1; i < args.length; i++) {
    const a = args[i] as string;
    const tok = cmd.tokens[i + 1];
    if (a === '-repeat') s.repeat = Number(args[++i]);
    else if (a === '-listen') s.listen = args[++i] ?? '';
    else if (a === '-start') await s.start(line);
    else if (a === '-wait') await s.wait(line);
    else if (a === '-break') await s.stop();
    else if (tok?.kind === TokenKind.BLOCK || (tok?.kind === TokenKind.QUOTED && !a.startsWith('-'))) s.spec = tok;
    else throw new VtcError(VtcErrorCode.SYNTAX, name, line, `Unknown server argument: ${a}`);
  }
}

async function clientCommand(run: TestRun, cmd: Command, args: readonly string[], line: number): Promise<void> {
  const name = args[0];
  if (!name?.startsWith('c')) throw new VtcError(VtcErrorCode.SYNTAX, 'top', line, "client name must start with 'c'");
  let c = run.clients.get(name);
  if (!c) run.clients.set(name, (c = new VClient(name, run)));
  for (let i = 1; i < args.length; i++) {
    const a = args[i] as string;
    const tok = cmd.tokens[i + 1];
    if (a === '-repeat') c.repeat = Number(args[++i]);
    else if (a === '-keepalive') c.keepalive = true;
    else if (a === '-connect') c.connect = args[++i] ?? '';
    else if (a === '-start') c.start(line);
    else if (a === '-wait') await c.wait(line);
    else if (a === '-run') {
      c.start(line);
      await c.wait(line);
    } else if (tok?.kind === TokenKind.BLOCK || (tok?.kind === TokenKind.QUOTED && !a.startsWith('-'))) c.spec = tok;
    else throw new VtcError(VtcErrorCode.SYNTAX, name, line, `Unknown client argument: ${a}`);
  }
}

async function haproxyCommand(run: TestRun, cmd: Command, args: readonly string[], line: number): Promise<void> {
  const name = args[0];
  if (!name?.startsWith('h')) throw new VtcError(VtcErrorCode.SYNTAX, 'top', line, "haproxy name must start with 'h'");
  let h = run.proxies.get(name);
  if (!h) {
    h = new VHaproxy(name, run);
    run.proxies.set(name, h);
    // the CLI socket is bound like any fd@ one: ${hN_cli_sock}
    await h.store('', line);
    const sock = run.macros.get(`${name}_cli_sock`);
    if (sock === undefined) throw new VtcError(VtcErrorCode.IO, name, line, 'no CLI socket');
  }
  for (let i = 1; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-conf') await h.store(blockAt(cmd, ++i).text, line);
    else if (a === '-conf-OK') {
      await h.store(blockAt(cmd, ++i).text, line);
      await h.check(true, GOOD_CONF, line);
    } else if (a === '-conf-BAD') {
      const expected = args[++i] ?? '';
      await h.store(blockAt(cmd, ++i).text, line);
      await h.check(false, expected.trim(), line);
    } else if (a === '-cli') await h.cli(blockAt(cmd, ++i));
    else if (a === '-start') await h.start(line);
    else if (a === '-wait') await h.stop(line, true);
    else if (a === '-expectexit') h.expectExit = Number(args[++i]);
    else if (a === '-arg') h.addArgs(args[++i] ?? '');
    else if (a === '-W' || a === '-D' || a === '-S' || a === '-conf+backend') throw new VtcSkip(`haproxy ${a} is not supported by this runner`);
    else throw new VtcError(VtcErrorCode.SYNTAX, name, line, `Unknown haproxy argument: ${a}`);
  }
}

/** Run one `.vtc` file to its end; never throws. */
export async function runVtcFile(file: string, opts: RunOptions): Promise<TestResult> {
  const t0 = performance.now();
  const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'vtc.'));
  const run = new TestRun(file, tmpdir, opts);
  const timer = setTimeout(() => run.fail(new VtcError(VtcErrorCode.TIMEOUT, 'top', 0, `TEST TIMED OUT (${opts.timeoutS} s)`)), opts.timeoutS * 1000);
  let skip: string | null = null;
  try {
    const cmds = parseSpec(fs.readFileSync(file, 'utf8'));
    let first = true;
    for (const cmd of cmds) {
      await abortable(topCommand(run, cmd, first), run.signal);
      first = false;
    }
    if (first) throw new VtcError(VtcErrorCode.SYNTAX, 'top', 1, 'empty test');
    // VTest's end of test: clients run to their end, proxies are stopped (their exit checked)
    for (const c of run.clients.values()) if (c.task) await c.wait(0);
    for (const h of run.proxies.values()) await abortable(h.stop(0, true), run.signal);
  } catch (e) {
    if (e instanceof VtcSkip) skip = e.message;
    else run.fail(e);
  } finally {
    clearTimeout(timer);
    if (!run.signal.aborted) run.controller.abort(new Error('test over'));
    await Promise.all([...run.clients.values()].map((c) => c.stop()));
    await Promise.all([...run.proxies.values()].map((h) => h.dispose()));
    await Promise.all([...run.servers.values()].map((s) => s.stop()));
    if (!opts.keepTmp) fs.rmSync(tmpdir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  const base = { file, seconds, log: run.log };
  if (skip !== null) return { ...base, status: TestStatus.SKIPPED, reason: skip };
  const err = run.error;
  if (!err) return { ...base, status: TestStatus.PASSED };
  if (err instanceof VtcError) return { ...base, status: TestStatus.FAILED, reason: `${err.entity} ${err.line > 0 ? `${path.basename(file)}:${err.line}: ` : ''}${err.message}`, line: err.line };
  return { ...base, status: TestStatus.FAILED, reason: `top ${err.stack ?? err.message}` };
}

/** `#    top  TEST file passed (1.234)`, and a failure's log and reason before it. */
export function formatResult(r: TestResult): string[] {
  const out: string[] = [];
  if (r.status === TestStatus.FAILED) {
    out.push(...r.log.slice(-200));
    out.push(`---- ${r.reason ?? ''}`);
    out.push(`#    top  TEST ${r.file} FAILED (${r.seconds.toFixed(3)}) exit=2`);
  } else if (r.status === TestStatus.SKIPPED) out.push(`#    top  TEST ${r.file} skipped (${r.reason ?? ''})`);
  else out.push(`#    top  TEST ${r.file} passed (${r.seconds.toFixed(3)})`);
  return out;
}

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: node test/vtc/runner.ts [-v] [-k] [-t SECONDS] [--haproxy] [--threads N] [file.vtc…]\n`);
  process.exit(2);
}

/** The command line: run the files (default: test/vtc/*.vtc) one after the other; exit 0 if none failed. */
export async function main(argv: readonly string[]): Promise<number> {
  let timeoutS = DEFAULT_TIMEOUT_S;
  let verbose = false;
  let keepTmp = false;
  let target: Target = process.env.VTC_TARGET === 'haproxy' ? Target.HAPROXY : Target.SWITCHYARD;
  let threads = 1;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-t') timeoutS = Number(argv[++i]);
    else if (a === '-v') verbose = true;
    else if (a === '-k') keepTmp = true;
    else if (a === '--haproxy') target = Target.HAPROXY;
    else if (a === '--switchyard') target = Target.SWITCHYARD;
    else if (a === '--threads') threads = Number(argv[++i]);
    else if (a.startsWith('-')) usage(`unknown option '${a}'`);
    else files.push(a);
  }
  if (!(timeoutS > 0)) usage('-t: a positive number of seconds expected');
  if (!Number.isInteger(threads) || threads < 1) usage('--threads: a positive integer expected');
  if (files.length === 0) files.push(...listVtcFiles(path.join(ROOT, 'test/vtc')));
  let failed = 0;
  const counts = { passed: 0, FAILED: 0, skipped: 0 };
  for (const f of files) {
    const r = await runVtcFile(f, { timeoutS, target, verbose, keepTmp, threads });
    counts[r.status]++;
    if (r.status === TestStatus.FAILED) failed++;
    for (const l of formatResult(r)) console.log(l);
  }
  console.log(`#    top  ${target}: ${counts.passed} passed, ${counts.FAILED} failed, ${counts.skipped} skipped`);
  return failed > 0 ? 2 : 0;
}

/** The `.vtc` files of a directory, in lexical order. */
export function listVtcFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.vtc'))
    .sort()
    .map((f) => path.join(dir, f));
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`${e.stack ?? e.message}\n`);
      process.exit(2);
    },
  );
}
