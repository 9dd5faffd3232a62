import fs from 'node:fs';
import path from 'node:path';
import { parseHostPort } from './address.ts';
import type { BackendConfig, BindConfig, Config, FrontendConfig, GlobalConfig, Mode, ProxySettings, ServerConfig, SourceRef } from './config.types.ts';
import type { Diagnostic } from './errors.ts';
import { ConfigError, KeywordError } from './errors.ts';
import { keywords } from './keywords.ts';
import type { Keyword, ParseContext, ProxyDraft, SectionKind } from './keywords.types.ts';
import { SectionKinds } from './keywords.types.ts';
import { parseBind } from './proxy-lines.ts';
import { didYouMean } from './suggest.ts';
import { type ConfigLine, tokenizeLines } from './tokenize.ts';
import { applyConditionals, condContext } from './conditions.ts';

/**
 * `maxconn` of the process when `global` sets none. HAProxy derives its default from the file
 * descriptor limit; switchyard takes a fixed, documented value instead (`switchyard -vv` prints it).
 */
export const DEFAULT_MAXCONN = 4096;
/** `hard-stop-after` when unset: HAProxy waits forever; switchyard closes what is left after 30 s. */
export const DEFAULT_HARD_STOP_AFTER = 30_000;

/** The settings of a proxy that no `defaults` section precedes (HAProxy's documented defaults). */
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
    httpConnMode: 'keep-alive',
    httpReuse: 'safe',
    retryOn: ['conn-failure'],
  };
}

function defaultGlobal(): GlobalConfig {
  return { maxconn: DEFAULT_MAXCONN, hardStopAfter: DEFAULT_HARD_STOP_AFTER, statsSockets: [], logs: [] };
}

/** A proxy gets a copy of its defaults, never a shared reference (a later change must not leak back). */
const cloneSettings = (s: ProxySettings): ProxySettings => ({ ...s, timeouts: { ...s.timeouts } });

/** HAProxy sections switchyard does not implement: refused at the header, their lines skipped. */
const UNSUPPORTED_SECTIONS = ['peers', 'resolvers', 'userlist', 'program', 'ring', 'mailers', 'cache', 'http-errors', 'log-forward', 'fcgi-app', 'crt-store', 'traces'];

/** HAProxy's `invalid_char`: proxy and server names are letters, digits, `-`, `_`, `.` and `:`. */
const invalidNameChar = (name: string): string | undefined => /[^A-Za-z0-9._:-]/.exec(name)?.[0];

const byName = new Map<string, Keyword>(keywords.map((k) => [k.name, k]));

/** The keyword a line starts with: the two-word form first (`timeout connect`), then one word. */
function lookup(words: readonly string[]): { kw: Keyword; argsFrom: number } | undefined {
  const two = words.length >= 2 ? byName.get(`${words[0]} ${words[1]}`) : undefined;
  if (two) return { kw: two, argsFrom: 2 };
  const one = byName.get(words[0] as string);
  if (one && !one.name.includes(' ')) return { kw: one, argsFrom: 1 };
  return undefined;
}

/** Whether a proxy of this kind has the capability a keyword needs (defaults hold anything). */
const hasCap = (kind: SectionKind, cap: Keyword['cap']): boolean =>
  cap === 'any' || kind === 'defaults' || kind === 'listen' || (cap === 'fe' ? kind === 'frontend' : kind === 'backend');

const sectionLabel = (kind: SectionKind, name: string): string => (kind === 'global' || kind === 'defaults' ? `'${kind}' section` : `${kind} '${name}'`);

/**
 * Parse HAProxy-format text. Several files are read in order as one configuration (as HAProxy
 * does with several -f). Every error is collected; a ConfigError carries them all.
 */
export function parseConfig(files: ReadonlyArray<{ name: string; text: string }>): Config {
  const parser = new ConfigParser();
  for (const f of files) parser.file(f.name, f.text);
  return parser.finish(files.map((f) => f.name));
}

/** The state of one parse: what the sections built so far, and where the reader is. */
class ConfigParser {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];
  readonly notices: Diagnostic[] = [];
  readonly global = defaultGlobal();
  readonly proxies: ProxyDraft[] = [];
  /** The last `defaults` section, inherited by the proxies after it, across files (null: built-in defaults). */
  private defaults: ProxyDraft | null = null;
  /** Named `defaults` sections, for `from NAME`. */
  private readonly named = new Map<string, ProxyDraft>();
  // the reader's position: a new file starts outside any section, as in HAProxy
  private fileName = '';
  private kind: SectionKind | null = null;
  private current: ProxyDraft | null = null;
  /** The section header was refused: its lines are skipped (the header's error is enough). */
  private skip = false;

  file(name: string, text: string): void {
    this.fileName = name;
    this.kind = null;
    this.current = null;
    this.skip = false;
    const tok = tokenizeLines(text, name);
    // conditional blocks (.if/.elif/.else/.endif) first: a block not taken is never parsed
    const cond = applyConditionals(tok.lines, name, condContext());
    const lines = cond.lines;
    const errors = [...tok.errors, ...cond.errors].sort((a, b) => a.line - b.line);
    this.warnings.push(...cond.warnings);
    this.notices.push(...cond.notices);
    // a line the tokenizer refused is reported in its place among the others, then skipped
    let e = 0;
    for (const l of lines) {
      while (e < errors.length && (errors[e] as Diagnostic).line < l.line) this.errors.push(errors[e++] as Diagnostic);
      this.readLine(l);
    }
    this.errors.push(...errors.slice(e));
  }

  private error(line: number, message: string): void {
    this.errors.push({ file: this.fileName, line, message });
  }

  private readLine({ line, words }: ConfigLine): void {
    const first = words[0] as string;
    if ((SectionKinds as readonly string[]).includes(first)) this.sectionHeader(first as SectionKind, words, line);
    else if (UNSUPPORTED_SECTIONS.includes(first)) this.unsupportedSection(first, line);
    else if (!this.skip) this.keywordLine(words, line);
  }

  private unsupportedSection(name: string, line: number): void {
    this.error(line, `section '${name}' is not supported`);
    this.kind = null;
    this.current = null;
    this.skip = true;
  }

  private sectionHeader(kind: SectionKind, words: readonly string[], line: number): void {
    this.kind = kind;
    this.current = null;
    const refused = this.openSection(kind, words, line);
    if (refused !== undefined) this.error(line, refused);
    this.skip = refused !== undefined;
  }

  /**
   * `global`, `defaults [NAME] [from BASE]`, `frontend|backend|listen NAME [from DEFAULTS]`: the
   * section becomes current, or the reason it is refused is returned.
   */
  private openSection(kind: SectionKind, words: readonly string[], line: number): string | undefined {
    if (kind === 'global') {
      if (words.length > 1) this.error(line, `'global': unexpected argument '${words[1]}'`);
      return undefined;
    }
    const fromAt = words.indexOf('from');
    const name = fromAt === 1 ? '' : (words[1] ?? '');
    const fromName = fromAt > 0 ? words[fromAt + 1] : undefined;
    if (fromAt > 0 && (fromName === undefined || words.length > fromAt + 2)) return `'${kind}': expected 'from <defaults name>'`;
    if (fromAt < 0 && words.length > 2) this.error(line, `'${kind} ${name}': unexpected argument '${words[2]}'`);
    if (kind !== 'defaults' && name === '') return `'${kind}' section needs a name`;
    const bad = invalidNameChar(name);
    if (bad !== undefined) return `character '${bad}' is not permitted in ${kind} name '${name}'`;
    let base = this.defaults;
    if (fromName !== undefined) {
      const b = this.named.get(fromName);
      if (!b) return `defaults section '${fromName}' not found for ${kind === 'defaults' ? 'defaults' : 'proxy'} '${name}'${didYouMean(fromName, [...this.named.keys()])}`;
      base = b;
    }
    // a `defaults` section without `from` starts again from the built-in defaults (HAProxy 2.6)
    const draft = this.draft(kind, name, kind === 'defaults' && fromName === undefined ? null : base, line);
    if (kind === 'defaults') {
      this.defaults = draft;
      if (name !== '') this.named.set(name, draft);
    } else {
      const clash = this.proxies.find((p) => p.name === name && (p.kind === kind || p.kind === 'listen' || kind === 'listen'));
      if (clash) this.error(line, `${kind} '${name}' has the same name as the ${clash.kind} declared at ${clash.file}:${clash.line}`);
      this.proxies.push(draft);
    }
    this.current = draft;
    return undefined;
  }

  /** A new section's draft, inheriting a copy of `base` (HAProxy copies `default_backend` to frontends only). */
  private draft(kind: ProxyDraft['kind'], name: string, base: ProxyDraft | null, line: number): ProxyDraft {
    const d: ProxyDraft = {
      kind,
      name,
      settings: base ? cloneSettings(base.settings) : defaultSettings(),
      binds: [],
      servers: [],
      acls: new Map(),
      useBackends: [],
      httpRequest: [],
      httpResponse: [],
      line,
      file: this.fileName,
    };
    if (kind !== 'backend' && base?.defaultBackend !== undefined && base.defaultBackendSrc !== undefined) {
      d.defaultBackend = base.defaultBackend;
      d.defaultBackendSrc = base.defaultBackendSrc;
    }
    return d;
  }

  /** Any other line: a keyword of the table, checked against the section, then parsed by its entry. */
  private keywordLine(words: readonly string[], line: number): void {
    const found = this.resolve(words);
    if (typeof found === 'string') {
      this.error(line, found);
      return;
    }
    const { kw, args, negated } = found;
    if (this.current && !hasCap(this.current.kind, kw.cap)) {
      this.capability(kw, this.current, line);
      return;
    }
    const ctx: ParseContext = {
      file: this.fileName,
      line,
      global: this.global,
      proxy: this.current,
      negated,
      warn: (message) => this.warnings.push({ file: this.fileName, line, message }),
    };
    try {
      kw.parse(ctx, args);
    } catch (e) {
      if (e instanceof KeywordError) this.error(line, e.message);
      else throw e;
    }
  }

  /** The keyword of a line and its arguments, or why the line is refused (unknown, misplaced, bad `no`). */
  private resolve(words: readonly string[]): { kw: Keyword; args: readonly string[]; negated: boolean } | string {
    const kind = this.kind;
    const first = words[0] as string;
    if (kind === null) return `unknown keyword '${first}' out of section${didYouMean(first, SectionKinds)}`;
    const negated = first === 'no';
    const rest = negated ? words.slice(1) : words;
    if (rest.length === 0) return `'no' expects a keyword`;
    const label = sectionLabel(kind, this.current?.name ?? '');
    const found = lookup(rest);
    if (!found) return unknownKeyword(rest, kind, label);
    const { kw, argsFrom } = found;
    if (!kw.sections.includes(kind)) {
      return `'${kw.name}' is not allowed in ${kind === 'global' || kind === 'defaults' ? `'${kind}' section` : `'${kind}' section (${label})`}`;
    }
    if (negated && !kw.negatable) return `negation is not supported for '${kw.name}'`;
    return { kw, args: rest.slice(argsFrom), negated };
  }

  /** A keyword in a proxy without the capability it needs: HAProxy's warning ("ignored"), or its error. */
  private capability(kw: Keyword, p: ProxyDraft, line: number): void {
    const need = kw.cap === 'fe' ? 'frontend' : 'backend';
    const message = `'${kw.name}' ${kw.capFatal ? 'not allowed' : 'ignored'} because ${p.kind} '${p.name}' has no ${need} capability`;
    if (kw.capFatal) this.error(line, message);
    else this.warnings.push({ file: this.fileName, line, message });
  }

  /** Cross-section checks, then the model: listen → frontend + backend, backend references. */
  finish(files: string[]): Config {
    const backends = this.proxies.filter((p) => p.kind === 'backend' || p.kind === 'listen').map(toBackend);
    const frontends = this.proxies.filter((p) => p.kind === 'frontend' || p.kind === 'listen').map((p) => this.toFrontend(p, backends));
    for (const p of this.proxies) this.checkTimeouts(p);
    if (this.errors.length > 0) throw new ConfigError(this.errors);
    return { global: this.global, frontends, backends, files, warnings: this.warnings, notices: this.notices };
  }

  private toFrontend(p: ProxyDraft, backends: readonly BackendConfig[]): FrontendConfig {
    const warn = (message: string, at: SourceRef = p) => this.warnings.push({ file: at.file, line: at.line, message });
    if (p.binds.length === 0) warn(`${p.kind} '${p.name}' has no 'bind' directive. Please declare it as a backend if this was intended.`);
    // a listen section is its own backend unless a default_backend (its own or inherited) says otherwise
    const target = p.defaultBackend ?? (p.kind === 'listen' ? p.name : undefined);
    const at = p.defaultBackendSrc ?? p;
    if (target !== undefined && !backends.some((b) => b.name === target)) {
      this.errors.push({ file: at.file, line: at.line, message: `${p.kind} '${p.name}': unable to find required default_backend: '${target}'${didYouMean(target, backends.map((b) => b.name))}` });
    }
    if (p.kind === 'listen' && target !== p.name && p.servers.length > 0) {
      warn(`listen '${p.name}' has servers but sends its sessions to default_backend '${target}' (set at ${at.file}:${at.line})`);
    }
    // a service proxy (metrics, statistics page) is served by the main thread: it has no server
    // of its own and hands nothing to a backend
    const service = p.httpRequest.some((r) => r.action.type === 'use-service') || p.settings.stats?.enabled === true;
    const ownEmptyBackend = p.kind === 'listen' && target === p.name && p.servers.length === 0;
    if (service && ((target !== undefined && !ownEmptyBackend) || p.useBackends.length > 0)) {
      const what = p.settings.stats?.enabled ? "'stats enable'" : "'http-request use-service'";
      this.errors.push({ file: p.file, line: p.line, message: `${p.kind} '${p.name}': ${what} needs a proxy without a backend (switchyard serves it from the main thread)` });
    }
    const proxied = p.binds.find((b) => b.acceptProxy);
    if (service && proxied) {
      this.errors.push({ file: proxied.src.file, line: proxied.src.line, message: `${p.kind} '${p.name}': 'accept-proxy' is not supported on a proxy the main thread serves (statistics, metrics)` });
    }
    if (target === undefined && !service) warn(`${p.kind} '${p.name}' has no backend: its sessions will be closed`);
    // as HAProxy: an HTTP frontend cannot hand its requests to a TCP backend (the reverse is an upgrade)
    const incompatible = (name: string | undefined, how: string, at: SourceRef) => {
      const b = backends.find((x) => x.name === name);
      if (b && p.settings.mode === 'http' && b.settings.mode === 'tcp') {
        this.errors.push({ file: at.file, line: at.line, message: `http ${p.kind === 'listen' ? 'proxy' : p.kind} '${p.name}' (${p.file}:${p.line}) tries to use incompatible tcp backend '${b.name}' (${b.src.file}:${b.src.line}) ${how} (see 'mode').` });
      }
    };
    incompatible(target, 'as its default backend', at);
    for (const u of p.useBackends) {
      incompatible(u.backend, "in a 'use_backend' rule", u.src);
      if (!backends.some((b) => b.name === u.backend)) {
        this.errors.push({ file: u.src.file, line: u.src.line, message: `${p.kind} '${p.name}': unable to find required use_backend: '${u.backend}'${didYouMean(u.backend, backends.map((b) => b.name))}` });
      }
    }
    const fe = {
      name: p.name,
      settings: p.settings,
      binds: p.binds,
      useBackends: p.useBackends,
      httpRequest: p.httpRequest,
      httpResponse: p.httpResponse,
      src: { file: p.file, line: p.line },
    };
    return target === undefined ? fe : { ...fe, defaultBackend: target };
  }

  /** HAProxy's "missing timeouts" warning: a proxy without them keeps dead sessions forever. */
  private checkTimeouts(p: ProxyDraft): void {
    const t = p.settings.timeouts;
    const fe = p.kind !== 'backend';
    const be = p.kind !== 'frontend';
    if ((fe && t.client === undefined) || (be && (t.connect === undefined || t.server === undefined))) {
      this.warnings.push({ file: p.file, line: p.line, message: `missing timeouts for ${p.kind === 'listen' ? 'proxy' : p.kind} '${p.name}'` });
    }
  }
}

/** A `listen` section's rules run once, in its frontend part (HAProxy evaluates them there). */
const toBackend = (p: ProxyDraft): BackendConfig => ({
  name: p.name,
  settings: p.settings,
  servers: p.servers,
  httpRequest: p.kind === 'listen' ? [] : p.httpRequest,
  httpResponse: p.kind === 'listen' ? [] : p.httpResponse,
  src: { file: p.file, line: p.line },
});

/**
 * `unknown keyword 'srever' in backend 'app' (did you mean 'server'?)`, over the keywords of that
 * section and the section names (a misspelt header lands in the section before it).
 */
function unknownKeyword(words: readonly string[], kind: SectionKind, label: string): string {
  const prefixed = words.length >= 2 && ['timeout', 'option', 'stats', 'http-request', 'http-response'].includes(words[0] as string);
  const typed = prefixed ? `${words[0]} ${words[1]}` : (words[0] as string);
  const valid = [...keywords.filter((k) => k.sections.includes(kind)).map((k) => k.name), ...SectionKinds];
  return `unknown keyword '${typed}' in ${label}${didYouMean(typed, valid)}`;
}

/** Read and parse files; a directory loads its `*.cfg` files in lexical order (HAProxy's -f DIR). */
export function loadConfig(paths: readonly string[]): Config {
  const files: Array<{ name: string; text: string }> = [];
  for (const p of paths) {
    const names = fs.statSync(p).isDirectory()
      ? fs
          .readdirSync(p)
          .filter((n) => n.endsWith('.cfg'))
          .sort()
          .map((n) => path.join(p, n))
      : [p];
    for (const name of names) files.push({ name, text: fs.readFileSync(name, 'utf8') });
  }
  return parseConfig(files);
}

export interface QuickOptions {
  /** `--listen` addresses, each as a `bind` line takes it (`127.0.0.1:8080`, `:8080`, `fd@3`). */
  readonly listen: readonly string[];
  /** `--to` servers, `host:port`; named s1, s2… in order. */
  readonly to: readonly string[];
  readonly mode: Mode;
}

/**
 * The config of quick mode (`--listen … --to …`): one listen section named `quick`, with retries 3,
 * option redispatch, timeouts connect 5s / client 30s / server 30s, and raw session lines on stdout.
 */
export function quickConfig(opts: QuickOptions): Config {
  const errors: Diagnostic[] = [];
  const src = { file: '<command line>', line: 0 };
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof KeywordError)) throw e;
      errors.push({ ...src, message: e.message });
      return undefined;
    }
  };
  if (opts.listen.length === 0) errors.push({ ...src, message: '--listen: at least one address is needed' });
  if (opts.to.length === 0) errors.push({ ...src, message: '--to: at least one server is needed' });
  const binds: BindConfig[] = opts.listen.flatMap((l) => attempt(() => parseBind([l], src, '--listen')) ?? []);
  const servers: ServerConfig[] = [];
  opts.to.forEach((t, i) => {
    const hp = attempt(() => parseHostPort(t, '--to'));
    if (hp && hp.host === '') errors.push({ ...src, message: `--to: missing host in '${t}'` });
    else if (hp) servers.push({ name: `s${i + 1}`, ...hp, weight: 1, maxconn: 0, maxqueue: 0, backup: false, disabled: false, src });
  });
  if (errors.length > 0) throw new ConfigError(errors);
  const settings: ProxySettings = {
    ...defaultSettings(),
    mode: opts.mode,
    redispatch: -1,
    logGlobal: true,
    tcplog: true,
    timeouts: { connect: 5000, client: 30_000, server: 30_000 },
  };
  return {
    global: { ...defaultGlobal(), logs: [{ target: 'stdout', format: 'raw', facility: 'local0' }] },
    frontends: [{ name: 'quick', settings, binds, defaultBackend: 'quick', useBackends: [], httpRequest: [], httpResponse: [], src }],
    backends: [{ name: 'quick', settings, servers, httpRequest: [], httpResponse: [], src }],
    files: [],
    warnings: [],
    notices: [],
  };
}
