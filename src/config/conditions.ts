/**
 * HAProxy's conditional blocks (`.if` / `.elif` / `.else` / `.endif`) and report directives
 * (`.diag` / `.notice` / `.warning` / `.alert`), applied to a file's tokenized lines before the
 * keywords see them (HAProxy 2.6 configuration manual, section 2.4). Lines in a block not taken
 * are dropped unparsed, as HAProxy drops them; the messages and errors are HAProxy's.
 */
import type { CondContext, CondResult } from './conditions.types.ts';
import { COND_PREDICATES, FEATURES, HAPROXY_COMPAT_VERSION } from './conditions.types.ts';
import type { Diagnostic } from './errors.ts';
import type { ConfigLine, Env } from './tokenize.ts';

const FEATURE_NAMES: ReadonlySet<string> = new Set(FEATURES.filter((f) => f.on).map((f) => f.name));

/** What switchyard's conditions are evaluated against: the environment, its features, HAProxy 2.6. */
export const condContext = (env: Env = process.env): CondContext => ({ env, features: FEATURE_NAMES, version: HAPROXY_COMPAT_VERSION });

/** An error in a condition: HAProxy's message, and the 1-based position in the expression. */
class CondError extends Error {
  readonly pos: number;
  constructor(message: string, pos: number) {
    super(message);
    this.pos = pos;
  }
}

/** A recursive-descent reader of one condition expression (the words after `.if`, joined by a space). */
class CondReader {
  private i = 0;
  private readonly s: string;
  private readonly ctx: CondContext;
  private readonly directive: string;

  constructor(s: string, ctx: CondContext, directive: string) {
    this.s = s;
    this.ctx = ctx;
    this.directive = directive;
  }

  evaluate(): boolean {
    this.skipBlanks();
    if (this.i >= this.s.length) return false; // an empty condition is false
    const v = this.or();
    this.skipBlanks();
    if (this.i < this.s.length) {
      throw new CondError(`unexpected character '${this.s[this.i]}' at the end of conditional expression '${this.s}' in '${this.directive}'`, this.i + 1);
    }
    return v;
  }

  private skipBlanks(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
  }

  private take(tok: string): boolean {
    this.skipBlanks();
    if (!this.s.startsWith(tok, this.i)) return false;
    this.i += tok.length;
    return true;
  }

  // `||` binds looser than `&&`; both evaluate every operand here (no side effects to skip)
  private or(): boolean {
    let v = this.and();
    while (this.take('||')) v = this.and() || v;
    return v;
  }

  private and(): boolean {
    let v = this.term();
    while (this.take('&&')) v = this.term() && v;
    return v;
  }

  private term(): boolean {
    this.skipBlanks();
    const start = this.i;
    if (this.take('!')) return !this.term();
    if (this.take('(')) {
      const v = this.or();
      if (!this.take(')')) throw new CondError(`expected ')' in conditional expression '${this.s}' in '${this.directive}'`, this.i + 1);
      return v;
    }
    const num = /^-?\d+/.exec(this.s.slice(this.i));
    if (num) {
      this.i += num[0].length;
      return Number(num[0]) !== 0;
    }
    const name = /^[a-z_]+/.exec(this.s.slice(this.i))?.[0];
    const pred = name === undefined ? undefined : COND_PREDICATES.find((p) => p.name === name);
    if (!pred || name === undefined) throw new CondError(`unparsable conditional expression '${this.s.slice(start)}' in '${this.directive}'`, start + 1);
    this.i += name.length;
    const args = this.args(pred.name);
    if (args.length !== pred.args) {
      throw new CondError(`predicate '${pred.name}' takes ${pred.args} argument${pred.args > 1 ? 's' : ''}, got ${args.length}, in conditional expression '${this.s}' in '${this.directive}'`, start + 1);
    }
    return this.predicate(pred.name, args, start);
  }

  /** `(a,b)` right after a predicate's name: its arguments, raw (blanks included, as HAProxy). */
  private args(pred: string): string[] {
    if (this.s[this.i] !== '(') return [];
    this.i++;
    const args: string[] = [];
    let cur = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i++] as string;
      if (c === ')') {
        args.push(cur);
        return args;
      }
      if (c === ',') {
        args.push(cur);
        cur = '';
      } else cur += c;
    }
    throw new CondError(`expected ')' in argument ${args.length + 1} of predicate '${pred}' used in conditional expression in '${this.directive}'`, this.i + 1);
  }

  private predicate(name: string, args: readonly string[], at: number): boolean {
    const [a = '', b = ''] = args;
    switch (name) {
      case 'defined':
        return this.ctx.env[a] !== undefined;
      case 'feature':
        return this.ctx.features.has(a);
      case 'streq':
        return a === b;
      case 'strneq':
        return a !== b;
      case 'version_atleast':
        return compareVersions(this.ctx.version, this.version(a, at)) >= 0;
      case 'version_before':
        return compareVersions(this.ctx.version, this.version(a, at)) < 0;
      default:
        throw new CondError(`unparsable conditional expression '${name}' in '${this.directive}'`, at + 1);
    }
  }

  private version(v: string, at: number): number[] {
    const parts = parseVersion(v);
    if (!parts) throw new CondError(`invalid version '${v}' in conditional expression '${this.s}' in '${this.directive}'`, at + 1);
    return parts;
  }
}

/**
 * `2.6`, `2.4-dev19`, `2.6.12-1+deb12u4`: major, minor, patch (missing ones are zero, as HAProxy
 * says), then a development release counts as before the release (`2.4-dev19` < `2.4`).
 */
function parseVersion(v: string): number[] | null {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-dev(\d+))?(?:[-+].*)?$/.exec(v.trim());
  if (!m) return null;
  const dev = m[4] === undefined ? Number.MAX_SAFE_INTEGER : Number(m[4]);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0), dev];
}

function compareVersions(have: string, want: readonly number[]): number {
  const h = parseVersion(have) ?? [0, 0, 0, 0];
  for (let k = 0; k < 4; k++) {
    const d = (h[k] as number) - (want[k] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** Evaluate one condition (the words after `.if`/`.elif`); throws a CondError. */
export function evalCondition(words: readonly string[], ctx: CondContext, directive = '.if'): boolean {
  return new CondReader(words.join(' '), ctx, directive).evaluate();
}

interface Level {
  readonly line: number;
  /** This level's lines are kept now. */
  taking: boolean;
  /** A branch of this level was taken already (the ones after it are not, whatever they say). */
  taken: boolean;
  /** The enclosing level was not taking: nothing in this one is taken or evaluated. */
  readonly dead: boolean;
  sawElse: boolean;
}

/**
 * Apply the conditional blocks of one file: the lines kept, and what the directives say — errors
 * (HAProxy's alerts), warnings and notices, each with its file and line.
 */
export function applyConditionals(lines: readonly ConfigLine[], file: string, ctx: CondContext): CondResult {
  const kept: ConfigLine[] = [];
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const notices: Diagnostic[] = [];
  const stack: Level[] = [];
  const at = (line: number, message: string): Diagnostic => ({ file, line, message });
  const taking = (): boolean => stack.length === 0 || (stack.at(-1) as Level).taking;
  const cond = (l: ConfigLine, directive: string): boolean => {
    try {
      return evalCondition(l.words.slice(1), ctx, directive);
    } catch (e) {
      if (!(e instanceof CondError)) throw e;
      errors.push(at(l.line, `${e.message} at position ${e.pos}`));
      return false;
    }
  };
  for (const l of lines) {
    const d = l.words[0] as string;
    switch (d) {
      case '.if': {
        const dead = !taking();
        const v = !dead && cond(l, '.if');
        stack.push({ line: l.line, taking: v, taken: v, dead, sawElse: false });
        continue;
      }
      case '.elif':
      case '.else': {
        const top = stack.at(-1);
        if (!top) {
          errors.push(at(l.line, `lone '${d}' with no matching '.if'.`));
          continue;
        }
        if (top.sawElse) {
          errors.push(at(l.line, `'${d}' after '.else' is not permitted.`));
          continue;
        }
        if (d === '.else') top.sawElse = true;
        const v = !top.dead && !top.taken && (d === '.else' || cond(l, '.elif'));
        top.taking = v;
        if (v) top.taken = true;
        continue;
      }
      case '.endif':
        if (!stack.pop()) errors.push(at(l.line, `lone '.endif' with no matching '.if'.`));
        continue;
      case '.diag':
      case '.notice':
      case '.warning':
      case '.alert': {
        if (!taking()) continue;
        const msg = at(l.line, `'${l.words.slice(1).join(' ')}'.`);
        if (d === '.alert') errors.push(msg);
        else if (d === '.warning') warnings.push(msg);
        else if (d === '.notice' || ctx.diagnostics) notices.push(msg);
        continue;
      }
      default:
        if (taking()) kept.push(l);
    }
  }
  for (const open of stack) errors.push(at(open.line, `non-terminated '.if' block.`));
  return { lines: kept, errors, warnings, notices };
}
