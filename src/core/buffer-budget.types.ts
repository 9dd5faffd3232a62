/**
 * tune.bufsize (HAProxy's default, fixed here): the request bytes an HTTP session keeps for a retry
 * or reads ahead before it pauses the client, and the size `show info` counts a buffer as.
 */
export const BUFSIZE = 16384;

/** Buffers a stream uses: one per direction (HAProxy's request and response channels). */
export const BUFFERS_PER_STREAM = 2;

/** One worker's buffer accounting, as `show pools` and `show info` report it. */
export interface BufferInfo {
  /** `tune.buffers.limit` (0: unlimited) and `tune.buffers.reserve`. */
  readonly limit: number;
  readonly reserve: number;
  /** Buffers held by live streams now, and the most ever held at once. */
  readonly used: number;
  readonly max: number;
  /** Streams refused because their buffers would have gone past the limit. */
  readonly failed: number;
}
