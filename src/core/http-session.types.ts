/**
 * The two state machines of an HTTP transaction (one per direction), checked by
 * `HttpSession.setRx()` / `setTx()` and drawn in docs/internals/http-transaction.md, which a test
 * keeps in step with these tables.
 */

/** Where the request of the current transaction stands (client side). */
export const RxState = { HEAD: 'HEAD', BODY: 'BODY', DONE: 'DONE' } as const;
export type RxState = (typeof RxState)[keyof typeof RxState];

export const RxTransitions: Record<RxState, readonly RxState[]> = {
  HEAD: ['BODY', 'DONE'],
  BODY: ['DONE', 'HEAD'],
  DONE: ['HEAD'],
};

export const RxMeaning: Record<RxState, string> = {
  HEAD: 'waiting for a request head (`timeout http-request`, `timeout http-keep-alive` before its first byte)',
  BODY: 'forwarding the request body (Content-Length or chunked); bytes kept for a retry up to tune.bufsize',
  DONE: 'request complete; bytes of the next (pipelined) request are held until this transaction ends',
};

/** Where its response stands (server side). */
export const TxState = { NONE: 'NONE', WAIT: 'WAIT', BODY: 'BODY', DONE: 'DONE' } as const;
export type TxState = (typeof TxState)[keyof typeof TxState];

export const TxTransitions: Record<TxState, readonly TxState[]> = {
  NONE: ['WAIT'],
  WAIT: ['BODY', 'DONE', 'NONE'],
  BODY: ['DONE', 'NONE'],
  DONE: ['NONE'],
};

export const TxMeaning: Record<TxState, string> = {
  NONE: 'no request yet',
  WAIT: 'request sent or queued, waiting for the final response head (`timeout server`: 504 sH); interim 1xx forwarded; retries happen here',
  BODY: 'forwarding the response body; no retry and no generated answer any more',
  DONE: 'response complete, or the session became a tunnel (101, CONNECT)',
};
