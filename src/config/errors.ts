/** One problem found in a configuration, located by file and line. */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** Every error of a configuration, collected (parsing does not stop at the first). */
export class ConfigError extends Error {
  readonly code = 'SY_ERR_CONFIG';
  readonly source = 'proxy';
  readonly retryable = false;
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => `${d.file}:${d.line}: ${d.message}`).join('\n'));
    this.name = 'ConfigError';
    this.diagnostics = diagnostics;
  }
}

/** Thrown by a keyword parser for one bad line; the parser adds file and line. */
export class KeywordError extends Error {}
