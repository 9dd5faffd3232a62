/**
 * Parsers of HAProxy's HTTP rule lines: `acl`, conditions (`if|unless …`), `use_backend`,
 * `http-request …`, `http-response …`. They produce plain data (config.types.ts); core/ compiles
 * it into matchers once per worker.
 */
import type { AclDef, AclFetch, AclMatch, AclTerm, Condition, HttpAction } from './config.types.ts';
import { AclMatches } from './config.types.ts';
import { parseInteger } from './duration.ts';
import { KeywordError } from './errors.ts';
import { didYouMean } from './suggest.ts';

/** ACL criteria: the fetch and its default match method, as HAProxy's `path_beg` is `path -m beg`. */
const CRITERIA: Readonly<Record<string, readonly [fetch: AclFetch['kind'], match: AclMatch]>> = {
  path: ['path', 'str'],
  path_beg: ['path', 'beg'],
  path_end: ['path', 'end'],
  path_sub: ['path', 'sub'],
  path_reg: ['path', 'reg'],
  url: ['url', 'str'],
  url_beg: ['url', 'beg'],
  url_end: ['url', 'end'],
  url_sub: ['url', 'sub'],
  url_reg: ['url', 'reg'],
  hdr: ['hdr', 'str'],
  hdr_beg: ['hdr', 'beg'],
  hdr_end: ['hdr', 'end'],
  hdr_sub: ['hdr', 'sub'],
  hdr_reg: ['hdr', 'reg'],
  method: ['method', 'str'],
  src: ['src', 'ip'],
};

/** HAProxy's predefined ACLs that need nothing switchyard lacks. */
const PREDEFINED: Readonly<Record<string, AclDef>> = {
  TRUE: { name: 'TRUE', fetch: { kind: 'always' }, match: 'found', values: [], ignoreCase: false },
  FALSE: { name: 'FALSE', fetch: { kind: 'never' }, match: 'found', values: [], ignoreCase: false },
  ...Object.fromEntries(
    ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'].map((m) => [
      `METH_${m}`,
      { name: `METH_${m}`, fetch: { kind: 'method' }, match: 'str', values: m === 'GET' ? ['GET', 'HEAD'] : [m], ignoreCase: false } satisfies AclDef,
    ]),
  ),
};

/** `criterion [-i] [-m method] value…` (the words after an ACL's name, or inside `{ }`). */
export function parseAcl(name: string, words: readonly string[]): AclDef {
  const crit = words[0];
  if (crit === undefined) throw new KeywordError(`acl '${name}': missing criterion`);
  const m = /^([a-z_]+)(?:\(([^)]*)\))?$/.exec(crit);
  const base = m ? CRITERIA[m[1] as string] : undefined;
  if (!m || !base) throw new KeywordError(`acl '${name}': unknown criterion '${crit}'${didYouMean(crit.replace(/\(.*$/, ''), Object.keys(CRITERIA))}`);
  let fetch: AclFetch;
  if (base[0] === 'hdr') {
    const header = (m[2] ?? '').trim().toLowerCase();
    if (header === '') throw new KeywordError(`acl '${name}': '${m[1]}' needs a header name, as in ${m[1]}(host)`);
    fetch = { kind: 'hdr', header };
  } else {
    if (m[2] !== undefined) throw new KeywordError(`acl '${name}': '${m[1]}' takes no argument`);
    fetch = { kind: base[0] } as AclFetch;
  }
  let match: AclMatch = base[1];
  let ignoreCase = false;
  let i = 1;
  for (; i < words.length; i++) {
    const w = words[i] as string;
    if (w === '-i') ignoreCase = true;
    else if (w === '-m') {
      const v = words[++i] ?? '';
      if (!(AclMatches as readonly string[]).includes(v) || v === 'ip') throw new KeywordError(`acl '${name}': unknown match method '${v}'${didYouMean(v, AclMatches)}`);
      match = v as AclMatch;
    } else if (w === '--') {
      i++;
      break;
    } else if (w.startsWith('-') && w.length > 1 && /^-[a-z]$/.test(w)) throw new KeywordError(`acl '${name}': unsupported flag '${w}' (-i, -m)`);
    else break;
  }
  const values = words.slice(i);
  if (values.length === 0 && match !== 'found') throw new KeywordError(`acl '${name}': no value to match`);
  for (const v of values) {
    if (match === 'reg') {
      try {
        new RegExp(v);
      } catch (e) {
        throw new KeywordError(`acl '${name}': invalid regex '${v}': ${(e as Error).message}`);
      }
    }
    if (match === 'ip' && !/^[0-9.]+(\/\d{1,2})?$/.test(v) && !/^[0-9a-fA-F:]+(\/\d{1,3})?$/.test(v)) throw new KeywordError(`acl '${name}': invalid address '${v}'`);
  }
  return { name, fetch, match, values, ignoreCase };
}

/**
 * `if|unless term… [|| term…]`: each term is an ACL name (declared earlier in this proxy, or
 * predefined), optionally negated with `!`, or an anonymous ACL in braces `{ path_beg /api }`.
 */
export function parseCondition(words: readonly string[], acls: ReadonlyMap<string, AclDef>): Condition {
  const kw = words[0];
  if (kw !== 'if' && kw !== 'unless') throw new KeywordError(`expected 'if' or 'unless', got '${kw ?? ''}'`);
  const any: AclTerm[][] = [[]];
  for (let i = 1; i < words.length; i++) {
    let w = words[i] as string;
    if (w === '||' || w === 'or') {
      if ((any.at(-1) as AclTerm[]).length === 0) throw new KeywordError(`'${w}' without a condition before it`);
      any.push([]);
      continue;
    }
    let negate = false;
    if (w.startsWith('!')) {
      negate = true;
      w = w.slice(1) || (words[++i] ?? '');
    }
    let acl: AclDef | undefined;
    if (w === '{') {
      const close = words.indexOf('}', i + 1);
      if (close < 0) throw new KeywordError(`missing '}' after '{'`);
      acl = parseAcl('anonymous', words.slice(i + 1, close));
      i = close;
    } else {
      acl = acls.get(w) ?? PREDEFINED[w];
      if (!acl) throw new KeywordError(`no such ACL : '${w}'${didYouMean(w, [...acls.keys(), ...Object.keys(PREDEFINED)])}`);
    }
    (any.at(-1) as AclTerm[]).push({ negate, acl });
  }
  if (any.some((g) => g.length === 0)) throw new KeywordError(`'${kw}' expects a condition`);
  return { unless: kw === 'unless', any };
}

/** Split `… if|unless …` into the words before and the condition. */
export function splitCondition(args: readonly string[], acls: ReadonlyMap<string, AclDef>): { words: readonly string[]; cond?: Condition } {
  const at = args.findIndex((w) => w === 'if' || w === 'unless');
  if (at < 0) return { words: args };
  return { words: args.slice(0, at), cond: parseCondition(args.slice(at), acls) };
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function headerName(what: string, v: string | undefined): string {
  if (v === undefined || !HEADER_NAME.test(v)) throw new KeywordError(`${what}: expects a header name${v === undefined ? '' : `, got '${v}'`}`);
  // the proxy frames messages by these: a rule changing them would desynchronise the next hop
  if (['content-length', 'transfer-encoding', 'connection'].includes(v.toLowerCase())) throw new KeywordError(`${what}: '${v}' frames the message and cannot be changed by a rule`);
  return v;
}

/** A header name for a setting (`option forwardfor header`): a token, nothing that could break a line. */
export function validHeaderName(what: string, v: string | undefined): string {
  if (v === undefined || !HEADER_NAME.test(v)) throw new KeywordError(`${what}: expects a header name${v === undefined ? '' : `, got '${v}'`}`);
  return v;
}

/** A header value: literal text (HAProxy's log-format values with `%[…]` are not supported yet). */
function headerValueArg(what: string, v: string | undefined): string {
  if (v === undefined) throw new KeywordError(`${what}: expects a value`);
  if (v.includes('%[')) throw new KeywordError(`${what}: sample expressions (%[...]) in values are not supported yet`);
  if (/[\r\n\0]/.test(v)) throw new KeywordError(`${what}: a value cannot contain CR, LF or NUL`);
  return v;
}

function onlyArgs(what: string, words: readonly string[], n: number): void {
  if (words.length > n) throw new KeywordError(`${what}: unexpected argument '${words[n]}'`);
}

/** The actions of `http-request` (`response`: of `http-response`). */
export function parseHttpAction(kind: 'http-request' | 'http-response', action: string, words: readonly string[], readFile: (path: string) => string): HttpAction {
  const what = `${kind} ${action}`;
  switch (action) {
    case 'set-header':
    case 'add-header':
      onlyArgs(what, words, 2);
      return { type: action, name: headerName(what, words[0]), value: headerValueArg(what, words[1]) };
    case 'del-header':
      onlyArgs(what, words, 1);
      return { type: 'del-header', name: headerName(what, words[0]) };
    case 'use-service': {
      onlyArgs(what, words, 1);
      if (words[0] !== 'prometheus-exporter') throw new KeywordError(`${what}: unknown service '${words[0] ?? ''}'${didYouMean(words[0] ?? '', ['prometheus-exporter'])} (prometheus-exporter)`);
      return { type: 'use-service', service: 'prometheus-exporter' };
    }
    case 'deny': {
      let status = 403;
      for (let i = 0; i < words.length; i++) {
        if (words[i] === 'deny_status') status = parseInteger(words[++i], `${what} deny_status`, 200, 599);
        else throw new KeywordError(`${what}: unexpected argument '${words[i]}' (deny_status <code>)`);
      }
      return { type: 'deny', status };
    }
    case 'return': {
      let status = 200;
      let contentType: string | undefined;
      let body: string | undefined;
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < words.length; i++) {
        const w = words[i] as string;
        if (w === 'status') status = parseInteger(words[++i], `${what} status`, 200, 599);
        else if (w === 'content-type') contentType = headerValueArg(`${what} content-type`, words[++i]);
        else if (w === 'string' || w === 'lf-string') body = headerValueArgBody(what, w, words[++i]);
        else if (w === 'file' || w === 'lf-file') {
          const f = words[++i];
          if (f === undefined) throw new KeywordError(`${what}: '${w}' expects a file name`);
          try {
            body = readFile(f);
          } catch (e) {
            throw new KeywordError(`${what}: cannot read '${f}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
          }
        } else if (w === 'hdr') {
          headers.push([headerName(`${what} hdr`, words[++i]), headerValueArg(`${what} hdr`, words[++i])]);
        } else throw new KeywordError(`${what}: unexpected argument '${w}'${didYouMean(w, ['status', 'content-type', 'string', 'file', 'hdr'])}`);
      }
      if (body !== undefined && contentType === undefined) throw new KeywordError(`${what}: a body needs a 'content-type'`);
      const r: HttpAction = { type: 'return', status, headers };
      return { ...r, ...(contentType === undefined ? {} : { contentType }), ...(body === undefined ? {} : { body }) };
    }
    default:
      throw new KeywordError(`unknown action '${action}'`);
  }
}

function headerValueArgBody(what: string, w: string, v: string | undefined): string {
  if (v === undefined) throw new KeywordError(`${what}: '${w}' expects a text`);
  if (w === 'lf-string' && v.includes('%[')) throw new KeywordError(`${what}: sample expressions (%[...]) are not supported yet`);
  return v;
}

/** The actions each rule keyword has, for the keyword table. */
export const HTTP_REQUEST_ACTIONS = ['set-header', 'add-header', 'del-header', 'deny', 'return', 'use-service'] as const;
export const HTTP_RESPONSE_ACTIONS = ['set-header', 'add-header', 'del-header'] as const;
