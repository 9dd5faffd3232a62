/**
 * Loaded into every test process (`node --import`): once a file's tests and hooks are done,
 * nothing they opened may be left — no socket, server, child process or timer. A leftover fails
 * the file (exit code 1, with the list on stderr); it would otherwise keep the process alive.
 * (The proxies' own side is checked by `RunningProxy.stop()`: no session, connection, timer or
 * extra socket in any worker.)
 */
import { after } from 'node:test';

const ALLOWED = new Set(['PipeWrap', 'TTYWrap', 'FSReqCallback', 'CloseReq']);

// This hook runs before the file's own `after` hooks (it was registered first), so it only starts
// a watcher: the file's hooks then close what they opened, and the watcher checks what remains.
after(() => {
  let tries = 0;
  const watch = (): void => {
    const left = leftovers();
    if (left.length === 0) return;
    if (++tries < 100) {
      setTimeout(watch, 20).unref();
      return;
    }
    process.stderr.write(`resources left open after the tests of ${process.argv[1]}: ${left.join(', ')}\n`);
    process.exit(1);
  };
  setTimeout(watch, 20).unref();
});

function leftovers(): string[] {
  return process.getActiveResourcesInfo().filter((r) => !ALLOWED.has(r) && r !== 'Timeout');
}
