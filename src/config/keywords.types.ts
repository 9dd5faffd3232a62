import type { AclDef, BackendConfig, BindConfig, FrontendConfig, GlobalConfig, HttpRule, ProxySettings, ServerConfig, SourceRef, UseBackendRule } from './config.types.ts';

export const SectionKinds = ['global', 'defaults', 'frontend', 'backend', 'listen'] as const;
export type SectionKind = (typeof SectionKinds)[number];

/** A proxy section under construction (frontend, backend, listen or defaults). */
export interface ProxyDraft {
  readonly kind: Exclude<SectionKind, 'global'>;
  readonly name: string;
  readonly settings: ProxySettings;
  readonly binds: BindConfig[];
  readonly servers: ServerConfig[];
  /** Named ACLs of this proxy, as declared so far (a condition may only use earlier ones). */
  readonly acls: Map<string, AclDef>;
  readonly useBackends: UseBackendRule[];
  readonly httpRequest: HttpRule[];
  readonly httpResponse: HttpRule[];
  /** `default_backend`: set here or inherited from the `defaults` section (as HAProxy does). */
  defaultBackend?: string;
  /** Where that `default_backend` line is (maybe in a `defaults` section), for the error if it names nothing. */
  defaultBackendSrc?: SourceRef;
  readonly line: number;
  readonly file: string;
}

export interface ParseContext {
  readonly file: string;
  readonly line: number;
  readonly global: GlobalConfig;
  /** The current proxy section, or null in `global`. */
  readonly proxy: ProxyDraft | null;
  readonly negated: boolean;
  warn(message: string): void;
}

/**
 * Which proxies a keyword means something in. HAProxy refuses a keyword outside its sections with
 * an error, and ignores with a warning one that needs a capability the proxy lacks (`balance` in a
 * frontend); `server` in a frontend is an error there too.
 */
export type Capability = 'fe' | 'be' | 'any';

export interface Keyword {
  /** One or two words: `server`, `timeout connect`, `option redispatch`, `stats socket`. */
  readonly name: string;
  readonly sections: readonly SectionKind[];
  readonly cap: Capability;
  /** A missing capability is an error, not a warning (HAProxy: `server` in a frontend). */
  readonly capFatal?: boolean;
  /** The `no` prefix is accepted (`no option redispatch`, `no log`). */
  readonly negatable?: boolean;
  readonly args: string;
  readonly help: string;
  parse(ctx: ParseContext, args: readonly string[]): void;
}

export type { BackendConfig, FrontendConfig };
