/**
 * HTTP/1.1 message model for a proxy: the head of a message is kept as one latin1 string with the
 * header fields as offsets into it (nothing is copied per header until asked for), plus the framing
 * facts the proxy acts on, derived once while parsing.
 */

/** Why a message was refused. Each maps to a status the proxy answers (requests) or a 502 (responses). */
export const H1Err = {
  /** Start line: bad method, target, version or status. */
  START_LINE: 'start-line',
  /** A header line is malformed: no colon, whitespace before the colon, invalid name byte. */
  HEADER_SYNTAX: 'header-syntax',
  /** A forbidden byte: NUL or another control character, or DEL. */
  CONTROL_BYTE: 'control-byte',
  /** A line ends in a bare LF or contains a bare CR. */
  BARE_LF_CR: 'bare-lf-cr',
  /** A header line starts with whitespace (obsolete line folding). */
  OBS_FOLD: 'obs-fold',
  /** Content-Length and Transfer-Encoding both present. */
  CL_AND_TE: 'cl-and-te',
  /** Content-Length is not a number, or several differ. */
  BAD_CONTENT_LENGTH: 'bad-content-length',
  /** Transfer-Encoding other than a single final `chunked` (or in an HTTP/1.0 request). */
  BAD_TRANSFER_ENCODING: 'bad-transfer-encoding',
  /** A request with a coding besides `chunked` (`gzip, chunked`): HAProxy answers 422. */
  UNSUPPORTED_CODING: 'unsupported-coding',
  /** More header fields than `tune.http.maxhdr`. */
  TOO_MANY_HEADERS: 'too-many-headers',
  /** The head does not fit in the buffer (`tune.bufsize` - `tune.maxrewrite`). */
  HEAD_TOO_LARGE: 'head-too-large',
  /** Several Host fields. */
  DUPLICATE_HOST: 'duplicate-host',
  /** Chunk size line or chunk framing is invalid. */
  BAD_CHUNK: 'bad-chunk',
} as const;
export type H1Err = (typeof H1Err)[keyof typeof H1Err];

/** The status a proxy answers for a refused request. */
export const H1ErrStatus: Record<H1Err, number> = {
  'start-line': 400,
  'header-syntax': 400,
  'control-byte': 400,
  'bare-lf-cr': 400,
  'obs-fold': 400,
  'cl-and-te': 400,
  'bad-content-length': 400,
  'bad-transfer-encoding': 400,
  'unsupported-coding': 422,
  'too-many-headers': 400,
  'head-too-large': 400, // HAProxy 2.6 answers 400 (it has no 431 message)
  'duplicate-host': 400,
  'bad-chunk': 400,
};

/** How the body of a message is delimited. */
export const BodyKind = {
  /** No body (GET without Content-Length, HEAD response, 204, 304, 1xx). */
  NONE: 0,
  /** Exactly `contentLength` bytes. */
  LENGTH: 1,
  /** Chunked transfer coding. */
  CHUNKED: 2,
  /** Until the server closes (responses only). */
  CLOSE: 3,
} as const;
export type BodyKind = (typeof BodyKind)[keyof typeof BodyKind];

/** Parsed head of a request or a response. */
export interface H1Head {
  readonly isRequest: boolean;
  /** The head text (latin1), from the start line to the blank line included. */
  readonly raw: string;
  /** Request: method; response: ''. */
  readonly method: string;
  /** Request: target as sent; response: ''. */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: number;
  /** Response: status code; request: 0. */
  readonly status: number;
  /** Response: reason phrase (may be empty). */
  readonly reason: string;
  /** Header fields: 4 offsets into `raw` each (name start, name end, value start, value end). */
  readonly fields: readonly number[];
  readonly fieldCount: number;
  /** Framing of the body. */
  readonly body: BodyKind;
  /** Content-Length when `body` is LENGTH, else -1. */
  readonly contentLength: number;
  /** The Content-Length the message declared (identical duplicates merged), -1 if none. */
  readonly declaredLength: number;
  /** `Connection: close` seen (or HTTP/1.0 without keep-alive). */
  readonly wantsClose: boolean;
  /** `Connection: upgrade` with an Upgrade header. */
  readonly upgrade: boolean;
  /** `Expect: 100-continue`. */
  readonly expectContinue: boolean;
  /** Lower-case names listed in Connection (besides close/keep-alive/upgrade): hop-by-hop fields. */
  readonly connectionTokens: readonly string[] | null;
  /** Index of the Host field, -1 if none. */
  readonly hostField: number;
}

/** Limits of the head parser (HAProxy's tune.bufsize - tune.maxrewrite, tune.http.maxhdr). */
export interface H1Limits {
  readonly maxHead: number;
  readonly maxHeaders: number;
}

/**
 * HAProxy's defaults: tune.bufsize 16384 - tune.maxrewrite 1024; tune.http.maxhdr 101, one slot
 * of which HAProxy uses for the end of the headers, so 100 fields is its real limit.
 */
export const DEFAULT_H1_LIMITS: H1Limits = { maxHead: 16384 - 1024, maxHeaders: 100 };

/** Result of feeding bytes to a head reader. */
export const HeadStatus = {
  /** More bytes are needed. */
  MORE: 0,
  /** The head is complete: `head` is set and `consumed` bytes of the last chunk belong to it. */
  DONE: 1,
  /** The message is refused: `error` says why. */
  ERROR: 2,
} as const;
export type HeadStatus = (typeof HeadStatus)[keyof typeof HeadStatus];
