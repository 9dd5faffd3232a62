/**
 * Start the real proxy (bin/switchyard.js, a child process on Node 26) with an inline config, as a
 * reg-test does: listeners on port 0, a stats socket in a temp dir, logs collected from stdout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
const NODE = process.execPath;

export interface RunningProxy {
  readonly child: ChildProcess;
  readonly dir: string;
  /** Listening ports by frontend name (first bind of each). */
  readonly ports: Map<string, number>;
  readonly socketPath: string;
  readonly logs: string[];
  readonly stderr: string[];
  port(frontend: string): number;
  cli(command: string): Promise<string>;
  /** Resolves with the first log line matching `re` (waits up to `ms`). */
  waitLog(re: RegExp, ms?: number): Promise<string>;
  /**
   * Check that nothing is left in the proxy (no session, connection or timer in any worker, no
   * FD beyond those it had after start-up), then stop it; resolves with the exit code. Pass
   * `leakCheck: false` where a test leaves sessions on purpose (hard-stop-after).
   */
  stop(opts?: { signal?: NodeJS.Signals; leakCheck?: boolean }): Promise<number | null>;
}

export interface StartOptions {
  threads?: number;
  args?: string[];
  /** Do not add a stats socket to the global section. */
  noStats?: boolean;
}

/**
 * The most common test config, as a reg-test would write it: `listen app` on an ephemeral port in
 * front of one server, with short test timeouts. `global`, `bind` and `listen` add lines.
 */
export function listenConfig(serverPort: number, opts: { global?: string; bind?: string; listen?: string } = {}): string {
  return `${opts.global ? `global\n${opts.global}\n` : ''}
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen app
    bind 127.0.0.1:0${opts.bind ?? ''}
    server s1 127.0.0.1:${serverPort}
${opts.listen ?? ''}`;
}

/** `config` is HAProxy text; `@STATS@` in it, if present, is replaced by the stats socket path. */
export async function startProxy(config: string, opts: StartOptions = {}): Promise<RunningProxy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-test-'));
  const socketPath = path.join(dir, 'stats.sock');
  let text = config.replaceAll('@STATS@', socketPath);
  if (!opts.noStats && !config.includes('@STATS@')) {
    text = /^global\b/m.test(text)
      ? text.replace(/^global\b.*$/m, (g) => `${g}\n    stats socket ${socketPath} level admin`)
      : `global\n    stats socket ${socketPath} level admin\n${text}`;
  }
  const file = path.join(dir, 'test.cfg');
  fs.writeFileSync(file, text);
  const args = [path.join(ROOT, 'bin/switchyard.js'), '-f', file, '--threads', String(opts.threads ?? 1), ...(opts.args ?? [])];
  const child = spawn(NODE, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  const stderr: string[] = [];
  const ports = new Map<string, number>();
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  lines(child.stdout, (l) => {
    logs.push(l);
    for (const w of [...waiters]) {
      if (w.re.test(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`proxy exited with ${code} before starting:\n${stderr.join('\n')}`));
    child.once('exit', onExit);
    lines(child.stderr, (l) => {
      stderr.push(l);
      const m = /frontend (\S+) listening on (\S+):(\d+)$/.exec(l);
      if (m && !ports.has(m[1] as string)) ports.set(m[1] as string, Number(m[3]));
      if (/started: /.test(l)) {
        child.off('exit', onExit);
        resolve();
      }
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // warm up once (the first CLI request makes the process open what it opens lazily), then count
  await cliCommand(socketPath, 'show info').catch(() => '');
  await new Promise((r) => setTimeout(r, 50));
  const fdBaseline = fdCount(child.pid as number);
  return {
    child,
    dir,
    ports,
    socketPath,
    logs,
    stderr,
    port(fe: string) {
      const p = ports.get(fe);
      if (p === undefined) throw new Error(`no frontend '${fe}' (have ${[...ports.keys()].join(', ')})`);
      return p;
    },
    cli: (command: string) => cliCommand(socketPath, command),
    waitLog(re: RegExp, ms = 5000) {
      const found = logs.find((l) => re.test(l));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { re, resolve: (l: string) => { clearTimeout(timer); resolve(l); } };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no log line matching ${re} within ${ms} ms; logs:\n${logs.join('\n')}`));
        }, ms);
        waiters.push(w);
      });
    },
    async stop(opts: { signal?: NodeJS.Signals; leakCheck?: boolean } = {}) {
      let leak: Error | null = null;
      if (opts.leakCheck !== false && child.exitCode === null && child.signalCode === null && !child.killed) {
        try {
          await eventually(
            async () => {
              const info = parseInfo(await cliCommand(socketPath, 'show info'));
              const zero = [...info].filter(([k]) => /^(CurrConns|Held_sockets|Worker_\d+_(sessions|conns|timers))$/.test(k)).every(([, v]) => v === '0');
              await new Promise((r) => setTimeout(r, 20)); // the CLI connection itself is closing
              return zero && fdCount(child.pid as number) <= fdBaseline;
            },
            3000,
            'no session, connection, timer or extra FD left in the proxy',
          );
        } catch (e) {
          const info = await cliCommand(socketPath, 'show info').catch(() => '');
          const sess = await cliCommand(socketPath, 'show sess').catch(() => '');
          const left = info.split('\n').filter((l) => /^(CurrConns|Held_sockets|Worker_\d+_(sessions|conns|timers)): [1-9]/.test(l));
          leak = new Error(`${(e as Error).message} (socket FDs now ${fdCount(child.pid as number)}, ${fdBaseline} after start-up)\n${left.join('\n')}\n${sess}`);
        }
      }
      if (child.exitCode === null) child.kill(opts.signal ?? 'SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(kill);
      fs.rmSync(dir, { recursive: true, force: true });
      if (leak) throw leak;
      return code;
    },
  };
}

/** Open socket file descriptors of a process (listeners, clients, servers, CLI). */
function fdCount(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } catch {
    return 0;
  }
}

/** Stop the proxy (with its leak check), then close the origins, whatever the outcome of the first. */
export async function cleanup(p: RunningProxy | undefined, ...origins: Array<{ close(): Promise<void> }>): Promise<number | null> {
  try {
    return p ? await p.stop() : null;
  } finally {
    await Promise.all(origins.map((o) => o.close()));
  }
}

function lines(stream: NodeJS.ReadableStream | null, on: (l: string) => void): void {
  let buf = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      on(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
  });
}

/**
 * One command on its own connection, as `socat` would send it; resolves with the whole reply.
 * `target` is a unix socket path or a TCP port on 127.0.0.1 (the same protocol for HAProxy's CLI).
 */
export function cliCommand(target: string | number, command: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = typeof target === 'number' ? net.connect(target, '127.0.0.1') : net.connect(target);
    let out = '';
    // a command the proxy never answers fails the test instead of hanging it
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`runtime API: no answer to '${command}' within ${timeoutMs} ms (got ${JSON.stringify(out)})`));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(`${command}\n`));
    c.on('data', (d: string) => (out += d));
    c.on('end', () => {
      clearTimeout(timer);
      resolve(out);
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Parse `show info` into a map. */
export function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of text.split('\n')) {
    const i = l.indexOf(': ');
    if (i > 0) m.set(l.slice(0, i), l.slice(i + 2));
  }
  return m;
}

/** Poll `fn` until it returns true (or throw after `ms`). */
export async function eventually(fn: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} not reached within ${ms} ms`);
}

/** Sessions listed by `show sess`, without the CLI's own (fe=GLOBAL). */
export async function liveSessions(p: RunningProxy): Promise<string[]> {
  const out = await p.cli('show sess');
  return out.split('\n').filter((l) => l.startsWith('0x') && !l.includes('fe=GLOBAL'));
}
