/**
 * `npm start`: switchyard with docs/quickstart.cfg, a proxy on :8080 in front of two demo backends
 * that the same file defines (`http-request return`), so `curl localhost:8080` answers with
 * nothing else running.
 */
import { main } from './main.ts';

const cfg = new URL('../../docs/quickstart.cfg', import.meta.url).pathname;
process.stderr.write('[NOTICE] quickstart: proxy on 127.0.0.1:8080, demo backends on 127.0.0.1:3001-3002; try: curl localhost:8080\n');
main(['-f', cfg, ...process.argv.slice(2)]).then((code) => process.exit(code));
