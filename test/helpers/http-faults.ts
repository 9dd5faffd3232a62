/**
 * Faulty HTTP origins for the retry tests: an origin that follows a script (the nth request it
 * receives is answered, dropped, closed or reset as the script says) and records every request,
 * and a parser for the proxy's HTTP log line.
 */
import type net from 'node:net';
import { type Answer, httpOrigin, type RawRequest } from './http.ts';
import type { Origin } from './origins.ts';

export interface ScriptedOrigin {
  readonly origin: Origin;
  readonly port: number;
  /** Every complete request received, in arrival order. */
  readonly requests: RawRequest[];
  close(): Promise<void>;
}

/**
 * An HTTP origin whose `script` decides what to do with each request: `n` is its 1-based rank
 * among all the requests this origin received (whatever the connection).
 */
export async function scriptedOrigin(script: (req: RawRequest, n: number, sock: net.Socket) => Answer): Promise<ScriptedOrigin> {
  const requests: RawRequest[] = [];
  const origin = await httpOrigin((req, sock) => {
    requests.push(req);
    return script(req, requests.length, sock);
  });
  return { origin, port: origin.port, requests, close: () => origin.close() };
}

/** A 200 whose body says which request it answers: `<tag> conn=<c> nth=<n> body=<bytes>`. */
export const okFor = (tag: string, r: RawRequest): string => {
  const body = `${tag} conn=${r.conn} nth=${r.nth} body=${r.body.length}`;
  return `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
};

export interface HttpLogLine {
  readonly frontend: string;
  readonly backend: string;
  readonly server: string;
  readonly status: number;
  /** The four-character termination state (`----`, `SH--`…). */
  readonly termination: string;
  /** `%rc`: the retry count, `+N` when the session was redispatched. */
  readonly retries: string;
  readonly request: string;
}

const HTTPLOG =
  /^\S+ \[[^\]]+\] (\S+) ([^/\s]+)\/(\S+) -?\d+\/-?\d+\/-?\d+\/-?\d+\/-?\d+ (-?\d+) \d+ \S+ \S+ (\S{4}) \d+\/\d+\/\d+\/\d+\/(\+?\d+) \d+\/\d+ "(.*)"$/;

/** The fields of an `option httplog` line that the retry tests check. */
export function parseHttpLog(line: string): HttpLogLine {
  const m = HTTPLOG.exec(line);
  if (!m) throw new Error(`not an HTTP log line: ${line}`);
  return {
    frontend: m[1] as string,
    backend: m[2] as string,
    server: m[3] as string,
    status: Number(m[4]),
    termination: m[5] as string,
    retries: m[6] as string,
    request: m[7] as string,
  };
}

/** A regex for the log line of `request` (e.g. `GET /x`) through listen section `name`. */
export const logOf = (name: string, request: string): RegExp =>
  new RegExp(` ${name} ${name}/\\S+ .*"${request.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} HTTP/1\\.1"$`);
