import fs from 'node:fs';
import path from 'node:path';
import type { BackendConfig, Config, FrontendConfig, GlobalConfig, Mode, ProxySettings } from './config.types.ts';
import { parseHostPort } from './keywords.ts';
import { keywords } from './keywords.ts';
import type { Diagnostic } from './errors.ts';
import { ConfigError, KeywordError } from './errors.ts';
import type { Keyword, ParseContext, ProxyDraft, SectionKind } from './keywords.types.ts';
import { SectionKinds } from './keywords.types.ts';
import { didYouMean } from './suggest.ts';
import { tokenize } from './tokenize.ts';

export const DEFAULT_MAXCONN = 4096;
export const DEFAULT_HARD_STOP_AFTER = 30_000;

export function defaultSettings(): ProxySettings {
  return {
    mode: 'tcp',
    timeouts: {},
    logGlobal: false,
    tcplog: false,
    balance: 'roundrobin',
    retries: 3,
    redispatch: 0,
    dontlognull: false,
    httplog: false,
  };
}

const cloneSettings = (s: ProxySettings): ProxySettings => ({ ...s, timeouts: { ...s.timeouts } });

const byName = new Map<string, Keyword>(keywords.map((k) => [k.name, k]));

/** The keyword a line starts with: the two-word form first (`timeout connect`), then one word. */
function lookup(words: readonly string[]): { kw: Keyword; argsFrom: number } | undefined {
  const two = words.length >= 2 ? byName.get(`${words[0]} ${words[1]}`) : undefined;
  if (two) return { kw: two, argsFrom: 2 };
  const one = byName.get(words[0] as string);
  if (one && !one.name.includes(' ')) return { kw: one, argsFrom: 1 };
  return undefined;
}

const hasCap = (kind: SectionKind, cap: Keyword['cap']): boolean =>
  cap === 'any' || kind === 'defaults' || kind === 'listen' || (cap === 'fe' ? kind === 'frontend' : kind === 'backend');

const sectionLabel = (kind: SectionKind, name: string): string => (kind === 'global' || kind === 'defaults' ? `'${kind}' section` : `${kind} '${name}'`);

/**
 * Parse HAProxy-format text. Several files are read in order as one configuration (as HAProxy
 * does with several -f). Every error is collected; a ConfigError carries them all.
 */
export function parseConfig(files: ReadonlyArray<{ name: string; text: string }>): Config {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const global: GlobalConfig = { maxconn: DEFAULT_MAXCONN, hardStopAfter: DEFAULT_HARD_STOP_AFTER, statsSockets: [], logs: [] };
  const proxies: ProxyDraft[] = [];
  // the last `defaults` section applies to the proxies after it, across files (as in HAProxy);
  // named ones can also be chosen with `from NAME`
  let defaults = defaultSettings();
  const named = new Map<string, ProxySettings>();
  for (const f of files) {
    let lines: ReturnType<typeof tokenize>;
    try {
      lines = tokenize(f.text, f.name);
    } catch (err) {
      if (err instanceof ConfigError) {
        errors.push(...err.diagnostics);
        continue;
      }
      throw err;
    }
    let kind: SectionKind | null = null;
    let current: ProxyDraft | null = null;
    /** The section header was in error: its lines are skipped (the header's error is enough). */
    let skip = false;
    for (const { line, words } of lines) {
      const first = words[0] as string;
      const err = (message: string) => errors.push({ file: f.name, line, message });
      if ((SectionKinds as readonly string[]).includes(first)) {
        kind = first as SectionKind;
        current = null;
        skip = kind !== 'global';
        if (kind === 'global') continue;
        // `defaults [NAME] [from BASE]`, `frontend|backend|listen NAME [from DEFAULTS]`
        const fromAt = words.indexOf('from');
        const name = fromAt === 1 ? '' : (words[1] ?? '');
        const fromName = fromAt > 0 ? words[fromAt + 1] : undefined;
        if (fromAt > 0 && (fromName === undefined || words.length > fromAt + 2)) {
          err(`'${kind}': expected 'from <defaults name>'`);
          continue;
        }
        if (fromAt < 0 && words.length > 2) err(`'${kind} ${name}': unexpected argument '${words[2]}'`);
        if (kind !== 'defaults' && name === '') {
          err(`'${kind}' section needs a name`);
          continue;
        }
        let base = defaults;
        if (fromName !== undefined) {
          const b = named.get(fromName);
          if (!b) {
            err(`defaults section '${fromName}' not found for ${kind === 'defaults' ? 'defaults' : 'proxy'} '${name}'${didYouMean(fromName, [...named.keys()])}`);
            continue;
          }
          base = b;
        }
        if (kind === 'defaults') {
          defaults = fromName === undefined ? defaultSettings() : cloneSettings(base);
          if (name !== '') named.set(name, defaults);
          current = { kind, name, settings: defaults, binds: [], servers: [], line, file: f.name };
          skip = false;
          continue;
        }
        const clash = proxies.find((p) => p.name === name && (p.kind === kind || p.kind === 'listen' || kind === 'listen'));
        if (clash) err(`${kind} '${name}' has the same name as the ${clash.kind} declared at ${clash.file}:${clash.line}`);
        current = { kind, name, settings: cloneSettings(base), binds: [], servers: [], line, file: f.name };
        proxies.push(current);
        skip = false;
        continue;
      }
      if (skip) continue;
      if (kind === null) {
        err(`unknown keyword '${first}' out of section${didYouMean(first, SectionKinds)}`);
        continue;
      }
      const negated = first === 'no';
      const rest = negated ? words.slice(1) : words;
      if (rest.length === 0) {
        err(`'no' expects a keyword`);
        continue;
      }
      const found = lookup(rest);
      const label = sectionLabel(kind, current?.name ?? '');
      if (!found) {
        const typed = rest.length >= 2 && ['timeout', 'option', 'stats'].includes(rest[0] as string) ? `${rest[0]} ${rest[1]}` : (rest[0] as string);
        const valid = keywords.filter((k) => k.sections.includes(kind as SectionKind)).map((k) => k.name);
        err(`unknown keyword '${typed}' in ${label}${didYouMean(typed, valid)}`);
        continue;
      }
      const { kw, argsFrom } = found;
      if (!kw.sections.includes(kind)) {
        err(`'${kw.name}' is not allowed in ${kind === 'global' || kind === 'defaults' ? `'${kind}' section` : `'${kind}' section (${label})`}`);
        continue;
      }
      if (negated && !kw.negatable) {
        err(`'no ${kw.name}' is not supported`);
        continue;
      }
      if (current && !hasCap(kind, kw.cap)) {
        const need = kw.cap === 'fe' ? 'frontend' : 'backend';
        const msg = `'${kw.name}' ${kw.capFatal ? 'not allowed' : 'ignored'} because ${kind} '${current.name}' has no ${need} capability`;
        if (kw.capFatal) err(msg);
        else warnings.push({ file: f.name, line, message: msg });
        continue;
      }
      const ctx: ParseContext = {
        file: f.name,
        line,
        global,
        proxy: current,
        negated,
        warn: (message) => warnings.push({ file: f.name, line, message }),
      };
      try {
        kw.parse(ctx, rest.slice(argsFrom));
      } catch (e) {
        if (e instanceof KeywordError) err(e.message);
        else throw e;
      }
    }
  }
  const cfg = assemble(global, proxies, errors, warnings, files.map((f) => f.name));
  if (errors.length > 0) throw new ConfigError(errors);
  return cfg;
}

/** Cross-section checks and the final model: listen → frontend + backend, backend references. */
function assemble(global: GlobalConfig, proxies: ProxyDraft[], errors: Diagnostic[], warnings: Diagnostic[], files: string[]): Config {
  const backends: BackendConfig[] = [];
  const frontends: FrontendConfig[] = [];
  for (const p of proxies) {
    if (p.kind === 'backend' || p.kind === 'listen') {
      backends.push({ name: p.name, settings: p.settings, servers: p.servers, src: { file: p.file, line: p.line } });
    }
  }
  for (const p of proxies) {
    if (p.kind !== 'frontend' && p.kind !== 'listen') continue;
    if (p.binds.length === 0) {
      warnings.push({ file: p.file, line: p.line, message: `${p.kind} '${p.name}' has no 'bind' directive: it will never accept a connection` });
    }
    let target = p.kind === 'listen' && p.servers.length > 0 ? p.name : p.defaultBackend;
    if (p.kind === 'listen' && p.defaultBackend !== undefined) target = p.defaultBackend;
    if (target !== undefined && !backends.some((b) => b.name === target)) {
      errors.push({ file: p.file, line: p.defaultBackendLine ?? p.line, message: `${p.kind} '${p.name}': unable to find required default_backend: '${target}'${didYouMean(target, backends.map((b) => b.name))}` });
    }
    if (target === undefined && p.kind === 'listen') target = p.name;
    if (target === undefined) {
      warnings.push({ file: p.file, line: p.line, message: `${p.kind} '${p.name}' has no backend: its sessions will be closed` });
    }
    frontends.push(
      target === undefined
        ? { name: p.name, settings: p.settings, binds: p.binds, src: { file: p.file, line: p.line } }
        : { name: p.name, settings: p.settings, binds: p.binds, defaultBackend: target, src: { file: p.file, line: p.line } },
    );
  }
  for (const p of proxies) {
    const t = p.settings.timeouts;
    const fe = p.kind !== 'backend';
    const be = p.kind !== 'frontend';
    if ((fe && t.client === undefined) || (be && (t.connect === undefined || t.server === undefined))) {
      warnings.push({ file: p.file, line: p.line, message: `missing timeouts for ${p.kind === 'listen' ? 'proxy' : p.kind} '${p.name}'` });
    }
  }
  return { global, frontends, backends, files, warnings };
}

/** Read and parse files; a directory loads its `*.cfg` files in lexical order (HAProxy's -f DIR). */
export function loadConfig(paths: readonly string[]): Config {
  const files: Array<{ name: string; text: string }> = [];
  for (const p of paths) {
    if (fs.statSync(p).isDirectory()) {
      for (const f of fs.readdirSync(p).filter((n) => n.endsWith('.cfg')).sort()) {
        const full = path.join(p, f);
        files.push({ name: full, text: fs.readFileSync(full, 'utf8') });
      }
    } else {
      files.push({ name: p, text: fs.readFileSync(p, 'utf8') });
    }
  }
  return parseConfig(files);
}

/** The config of quick mode (`--listen … --to …`): one listen section named `quick`. */
export function quickConfig(opts: { listen: readonly string[]; to: readonly string[]; mode: Mode }): Config {
  const errors: Diagnostic[] = [];
  const src = { file: '<command line>', line: 0 };
  const settings: ProxySettings = {
    ...defaultSettings(),
    mode: opts.mode,
    redispatch: -1,
    tcplog: true,
    timeouts: { connect: 5000, client: 30_000, server: 30_000 },
  };
  const addr = (text: string, what: string) => {
    try {
      return parseHostPort(text, what);
    } catch (e) {
      errors.push({ ...src, message: (e as Error).message });
      return { host: '', port: 0 };
    }
  };
  const binds = opts.listen.map((l) => ({ ...addr(l, '--listen'), src }));
  const servers = opts.to.map((t, i) => ({ name: `s${i + 1}`, ...addr(t, '--to'), weight: 1, maxconn: 0, maxqueue: 0, backup: false, disabled: false, src }));
  if (errors.length > 0) throw new ConfigError(errors);
  return {
    global: { maxconn: DEFAULT_MAXCONN, hardStopAfter: DEFAULT_HARD_STOP_AFTER, statsSockets: [], logs: [] },
    frontends: [{ name: 'quick', settings, binds, defaultBackend: 'quick', src }],
    backends: [{ name: 'quick', settings, servers, src }],
    files: [],
    warnings: [],
  };
}
