/**
 * `npm run bench [-- --quick]`: every benchmark of bench/, peers started by the harness itself and
 * interleaved in the same run; writes bench/results/<date>.md, .json, a .svg chart of the TCP relay's
 * CPU per connection, <date>-http.svg of the HTTP keep-alive CPU per request of every target
 * (switchyard, HAProxy, nginx, node-http-proxy, @fastify/http-proxy) and <date>-http-idle.svg of
 * their memory per idle keep-alive client.
 * Peers that are not installed are skipped with a line saying how to install them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runHttp } from './http.ts';
import { runSeam } from './seam.ts';
import { runTcpRelay, type TargetResult } from './tcp-relay.ts';

const quick = process.argv.includes('--quick');
const RESULTS = new URL('./results/', import.meta.url).pathname;

/** A horizontal bar chart of one metric per target, as standalone SVG. */
export function barChart(title: string, unit: string, rows: ReadonlyArray<{ label: string; value: number }>): string {
  const w = 720;
  const rowH = 28;
  const left = 300;
  const h = 50 + rows.length * rowH;
  const max = Math.max(...rows.map((r) => r.value), 1);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const bars = rows
    .map((r, i) => {
      const y = 40 + i * rowH;
      const bw = ((w - left - 90) * r.value) / max;
      const fill = r.label.startsWith('switchyard') ? '#2f6fb0' : /^(haproxy|nginx)/.test(r.label) ? '#666' : '#aaa';
      return `<text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(r.label)}</text><rect x="${left}" y="${y + 3}" width="${bw.toFixed(1)}" height="${rowH - 8}" fill="${fill}"/><text x="${(left + bw + 6).toFixed(1)}" y="${y + 16}">${r.value.toFixed(r.value < 10 ? 2 : 0)} ${esc(unit)}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>
${bars}
</svg>
`;
}

const relay = await runTcpRelay(quick);
process.stderr.write('seam: bare socket against NodeTransport + ConnActor…\n');
const seam = await runSeam(quick);
process.stderr.write('http: origin direct, switchyard, HAProxy, nginx, node-http-proxy and @fastify/http-proxy…\n');
const http = await runHttp(quick);
fs.mkdirSync(RESULTS, { recursive: true });
const base = path.join(RESULTS, `${relay.date}${quick ? '-quick' : ''}`);
const md = `# switchyard benchmarks\n\n${relay.markdown}\n\n![CPU per connection](${path.basename(base)}.svg)\n\n${seam.markdown}\n\n${http.markdown}\n\n![HTTP CPU per request](${path.basename(base)}-http.svg)\n\n![HTTP memory per idle client](${path.basename(base)}-http-idle.svg)\n`;
fs.writeFileSync(`${base}.md`, md);
fs.writeFileSync(`${base}.json`, `${JSON.stringify({ tcpRelay: relay, seam, http }, null, 2)}\n`);
const rows = (f: (t: TargetResult) => number) => relay.targets.map((t) => ({ label: t.name, value: f(t) }));
fs.writeFileSync(`${base}.svg`, barChart(`TCP relay: proxy CPU per connection (lower is better) — ${relay.date}`, 'µs', rows((t) => t.cpuUsPerConn)));
const httpRows = http.rows.filter((r) => r.scenario === 'ka-small' && r.cpuUsPerReq !== null).map((r) => ({ label: r.target, value: r.cpuUsPerReq as number }));
fs.writeFileSync(`${base}-http.svg`, barChart(`HTTP keep-alive: proxy CPU per request (lower is better) — ${http.date}`, 'µs', httpRows));
const idleRows = http.idle.filter((r) => r.kbPerClient !== null).map((r) => ({ label: r.target, value: r.kbPerClient as number }));
fs.writeFileSync(
  `${base}-http-idle.svg`,
  barChart(`HTTP: RSS per idle keep-alive client, ${http.idleClients.toLocaleString('en-US')} clients (lower is better) — ${http.date}`, 'KB', idleRows),
);
process.stdout.write(`${md}\nwritten: ${base}.md, .json, .svg, -http.svg, -http-idle.svg\n`);
