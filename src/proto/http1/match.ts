import type { AclDef, Condition, HttpAction, HttpRule } from '../../config/config.types.ts';
import { headerValue } from './head.ts';
import type { H1Head } from './http1.types.ts';

/** What a condition looks at: the request (path, method, url), the message whose headers `hdr()` reads, the client. */
export interface MatchInput {
  readonly req: H1Head;
  /** The request in http-request rules, the response in http-response rules (HAProxy's hdr()). */
  readonly msg: H1Head;
  readonly src: string;
}

type Matcher = (input: MatchInput) => boolean;

/** Compiled once per ACL object (each worker holds its own copy of the config). */
const compiled = new WeakMap<AclDef, Matcher>();

export const pathOf = (target: string): string => {
  // absolute-form (`http://host/p?q`): the path starts after the authority
  let s = target;
  if (!s.startsWith('/')) {
    const i = s.indexOf('://');
    if (i >= 0) {
      const j = s.indexOf('/', i + 3);
      s = j < 0 ? '/' : s.slice(j);
    }
  }
  const q = s.indexOf('?');
  return q < 0 ? s : s.slice(0, q);
};

function ipv4(a: string): number | null {
  const v = a.startsWith('::ffff:') ? a.slice(7) : a;
  const p = v.split('.');
  if (p.length !== 4) return null;
  let n = 0;
  for (const x of p) {
    const b = Number(x);
    if (!/^\d{1,3}$/.test(x) || b > 255) return null;
    n = n * 256 + b;
  }
  return n;
}

function ipMatcher(values: readonly string[]): (ip: string) => boolean {
  const nets = values.map((v) => {
    const [addr = '', bits] = v.split('/');
    const a = ipv4(addr);
    const prefix = bits === undefined ? 32 : Number(bits);
    return { a, raw: addr.toLowerCase(), prefix };
  });
  return (ip) => {
    const x = ipv4(ip);
    for (const n of nets) {
      if (n.a === null || x === null) {
        if (ip.toLowerCase() === n.raw) return true;
        continue;
      }
      const block = 2 ** (32 - n.prefix);
      if (Math.floor(x / block) === Math.floor(n.a / block)) return true;
    }
    return false;
  };
}

function compile(acl: AclDef): Matcher {
  const { fetch, match, ignoreCase } = acl;
  if (fetch.kind === 'always') return () => true;
  if (fetch.kind === 'never') return () => false;
  if (fetch.kind === 'src') {
    const m = ipMatcher(acl.values);
    return (i) => m(i.src);
  }
  let get: (i: MatchInput) => string | undefined;
  if (fetch.kind === 'hdr') {
    const name = fetch.header;
    get = (i) => headerValue(i.msg, name);
  } else if (fetch.kind === 'path') get = (i) => pathOf(i.req.target);
  else if (fetch.kind === 'url') get = (i) => i.req.target;
  else get = (i) => i.req.method;
  if (match === 'found') return (i) => get(i) !== undefined;
  const norm = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  const values = acl.values.map(norm);
  let test: (s: string) => boolean;
  switch (match) {
    case 'beg':
      test = (s) => values.some((v) => s.startsWith(v));
      break;
    case 'end':
      test = (s) => values.some((v) => s.endsWith(v));
      break;
    case 'sub':
      test = (s) => values.some((v) => s.includes(v));
      break;
    case 'reg': {
      const res = acl.values.map((v) => new RegExp(v, ignoreCase ? 'i' : ''));
      return (i) => {
        const s = get(i);
        return s !== undefined && res.some((r) => r.test(s));
      };
    }
    default: {
      const set = new Set(values);
      test = (s) => set.has(s);
    }
  }
  // as HAProxy, hdr(host) compares the whole value: `example.com` does not match `example.com:8080`
  return (i) => {
    const s = get(i);
    return s !== undefined && test(norm(s));
  };
}

export function aclMatches(acl: AclDef, input: MatchInput): boolean {
  let m = compiled.get(acl);
  if (!m) {
    m = compile(acl);
    compiled.set(acl, m);
  }
  return m(input);
}

/** A condition holds: any OR-group whose terms all hold; `unless` negates the whole. */
export function conditionHolds(cond: Condition | undefined, input: MatchInput): boolean {
  if (!cond) return true;
  const ok = cond.any.some((group) => group.every((t) => aclMatches(t.acl, input) !== t.negate));
  return ok !== cond.unless;
}

/** Header edits collected from set-header/add-header/del-header rules, applied in order. */
export interface Edits {
  del: Set<string>;
  add: string[];
}

/**
 * Run rules in order until one ends the transaction (deny, return), collecting header edits into
 * `edits`. Returns the final action, or null when every rule ran.
 */
export function runRules(rules: readonly HttpRule[], input: MatchInput, edits: Edits): HttpAction | null {
  for (const r of rules) {
    if (!conditionHolds(r.cond, input)) continue;
    const a = r.action;
    switch (a.type) {
      case 'set-header':
      case 'del-header': {
        const name = a.name.toLowerCase();
        edits.del.add(name);
        edits.add = edits.add.filter((l) => l.slice(0, l.indexOf(':')).toLowerCase() !== name);
        if (a.type === 'set-header') edits.add.push(`${name}: ${a.value}`);
        break;
      }
      case 'add-header':
        edits.add.push(`${a.name.toLowerCase()}: ${a.value}`);
        break;
      default:
        return a;
    }
  }
  return null;
}
