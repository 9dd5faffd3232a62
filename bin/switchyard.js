#!/usr/bin/env node
// The entry point is the one JavaScript file: Node strips TypeScript with a WebAssembly compiler
// that it loads into every thread the first time a .ts file is read (≈ 12 MB resident each: the
// main thread and every worker). With the compile cache on before any .ts file is read, the
// stripped sources come from the cache from the second start on and the compiler is never loaded:
// idle RSS 125 → 78 MB with one worker, 148 → 92 MB with two (docs/design-notes.md, "Start-up: the
// compile cache").
import module from 'node:module';
import path from 'node:path';

// Node's own NODE_COMPILE_CACHE wins; NODE_DISABLE_COMPILE_CACHE=1 turns it off. The default lives
// in this installation (node_modules/.cache), not in a shared temporary directory whose files
// another local user could plant. Where it cannot be written, Node goes on without it.
const cacheDir = process.env.NODE_COMPILE_CACHE ?? path.join(import.meta.dirname, '..', 'node_modules', '.cache', 'switchyard');
process.env.NODE_COMPILE_CACHE = cacheDir; // the workers start with the same cache
module.enableCompileCache(cacheDir);

const { main } = await import('../src/cli/main.ts');
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`[ALERT] ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
