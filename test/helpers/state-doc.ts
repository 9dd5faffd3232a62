/**
 * Renders a state machine's transition table as the Markdown table and mermaid diagram kept in
 * docs/internals/. `npm run docs:states` rewrites the generated blocks; a test fails when the
 * docs and the code's tables differ.
 */
import fs from 'node:fs';
import { WorkerTransitions } from '../../src/acceptor/acceptor.types.ts';
import { ConnTransitions } from '../../src/core/actor.types.ts';
import { EpStateMeaning, EpTransitions } from '../../src/core/endpoint.types.ts';
import { RxMeaning, RxTransitions, TxMeaning, TxTransitions } from '../../src/core/http-session.types.ts';

export interface MachineDoc {
  readonly file: string;
  readonly name: string;
  readonly transitions: Record<string, readonly string[]>;
  readonly meaning?: Record<string, string>;
}

const ROOT = new URL('../../', import.meta.url).pathname;

export const MACHINES: readonly MachineDoc[] = [
  { file: 'docs/internals/server-endpoint.md', name: 'server-endpoint', transitions: EpTransitions, meaning: EpStateMeaning },
  { file: 'docs/internals/connection-actor.md', name: 'connection-actor', transitions: ConnTransitions },
  { file: 'docs/internals/acceptor.md', name: 'worker', transitions: WorkerTransitions },
  { file: 'docs/internals/http-transaction.md', name: 'http-request', transitions: RxTransitions, meaning: RxMeaning },
  { file: 'docs/internals/http-transaction.md', name: 'http-response', transitions: TxTransitions, meaning: TxMeaning },
];

export function renderMachine(m: MachineDoc): string {
  const states = Object.keys(m.transitions);
  const rows = states.map((s) => {
    const to = (m.transitions[s] ?? []).join(', ') || '—';
    return m.meaning ? `| ${s} | ${m.meaning[s] ?? ''} | ${to} |` : `| ${s} | ${to} |`;
  });
  const head = m.meaning ? '| state | meaning | leaves to |\n|---|---|---|' : '| state | leaves to |\n|---|---|';
  const edges = states.flatMap((s) => (m.transitions[s] ?? []).map((t) => `    ${s} --> ${t}`));
  return [
    `<!-- BEGIN GENERATED ${m.name} (npm run docs:states) -->`,
    head,
    ...rows,
    '',
    '```mermaid',
    'stateDiagram-v2',
    `    [*] --> ${states[0]}`,
    ...edges,
    '```',
    `<!-- END GENERATED ${m.name} -->`,
  ].join('\n');
}

const blockRe = (name: string) => new RegExp(`<!-- BEGIN GENERATED ${name} [^>]*-->[\\s\\S]*?<!-- END GENERATED ${name} -->`);

/** The generated block currently in the doc file, or null. */
export function docBlock(m: MachineDoc): string | null {
  const text = fs.readFileSync(ROOT + m.file, 'utf8');
  return blockRe(m.name).exec(text)?.[0] ?? null;
}

/** Rewrite the generated blocks (run by `npm run docs:states`). */
export function writeDocs(): void {
  for (const m of MACHINES) {
    const path = ROOT + m.file;
    const text = fs.readFileSync(path, 'utf8');
    const re = blockRe(m.name);
    if (!re.test(text)) throw new Error(`${m.file}: no generated block for ${m.name}`);
    fs.writeFileSync(path, text.replace(re, renderMachine(m)));
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '-')) writeDocs();
