import type { BufferInfo } from './buffer-budget.types.ts';

/**
 * A worker's bound on the buffers its streams hold (`tune.buffers.limit`, `tune.buffers.reserve`).
 *
 * A stream — a TCP session, or an HTTP transaction — takes one buffer per direction while it
 * carries data, and gives them back when it ends. A new connection takes them on arrival (so that
 * one refused is never read); an HTTP connection waiting for its next request holds none, as in
 * HAProxy, and takes them again at that request's first byte. What one buffer stands for is bounded by the data path itself: the
 * paused source socket's read buffer (its 64 KiB high-water mark and one read of ≤ 64 KiB), the
 * destination's write queue (64 KiB and one chunk), and what a session keeps for a retry or reads
 * ahead (`tune.bufsize`, 16 KiB). So the limit bounds what the worker's streams hold to about
 * limit × 256 KiB, whatever the clients and servers do; the fixed cost of a connection is bounded
 * by `maxconn`.
 *
 * Past `limit − reserve`, a new stream is refused (HTTP: 503, logged `RR`; TCP: closed, `RC`); the
 * reserve is what the refusals themselves and the streams already running may still use. Buffers
 * are counted, not pre-allocated: Node allocates socket reads itself.
 */
export class BufferBudget {
  readonly limit: number;
  readonly reserve: number;
  private inUse = 0;
  private most = 0;
  private refused = 0;

  constructor(limit: number, reserve: number) {
    this.limit = limit;
    this.reserve = reserve;
  }

  /** Take `n` buffers for a new stream; false (and counted) when that would go past the limit. */
  take(n: number): boolean {
    if (this.limit > 0 && this.inUse + n > this.limit - this.reserve) {
      this.refused++;
      return false;
    }
    this.inUse += n;
    if (this.inUse > this.most) this.most = this.inUse;
    return true;
  }

  give(n: number): void {
    this.inUse -= n;
    if (this.inUse < 0) throw new Error(`buffer budget: ${-this.inUse} buffers given back that were never taken`);
  }

  get used(): number {
    return this.inUse;
  }

  /** `clear counters`: the maximum restarts from now; `clear counters all`: the refusals too. */
  clear(all: boolean): void {
    this.most = this.inUse;
    if (all) this.refused = 0;
  }

  info(): BufferInfo {
    return { limit: this.limit, reserve: this.reserve, used: this.inUse, max: this.most, failed: this.refused };
  }
}
