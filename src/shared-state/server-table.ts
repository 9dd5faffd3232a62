import type { ServerTableInit } from './server-table.types.ts';
import { BACKEND_STRIDE, BackendSlot, SERVER_STRIDE, ServerOpState, ServerSlot } from './server-table.types.ts';

/**
 * Per-server and per-backend state shared by all workers without messages. Writes that must be
 * global (a connection slot against `maxconn`) are atomic; a worker that has sessions queued for a
 * backend waits on the backend's release sequence with `Atomics.waitAsync` and is notified when any
 * worker frees a slot.
 */
export class ServerTable {
  readonly init: ServerTableInit;
  private readonly a: Int32Array;
  private readonly beBase: number;

  static create(servers: number, backends: number): ServerTable {
    const bytes = (servers * SERVER_STRIDE + backends * BACKEND_STRIDE) * 4;
    return new ServerTable({ buffer: new SharedArrayBuffer(Math.max(bytes, 4)), servers, backends });
  }

  constructor(init: ServerTableInit) {
    this.init = init;
    this.a = new Int32Array(init.buffer);
    this.beBase = init.servers * SERVER_STRIDE;
  }

  srv(id: number, slot: number): number {
    return Atomics.load(this.a, id * SERVER_STRIDE + slot);
  }

  setSrv(id: number, slot: number, v: number): void {
    Atomics.store(this.a, id * SERVER_STRIDE + slot, v);
  }

  addSrv(id: number, slot: number, d: number): number {
    return Atomics.add(this.a, id * SERVER_STRIDE + slot, d) + d;
  }

  /** Raise a high-water mark slot to `v` if it is lower (races only ever lose a lower value). */
  maxSrv(id: number, slot: number, v: number): void {
    const i = id * SERVER_STRIDE + slot;
    if (v > Atomics.load(this.a, i)) Atomics.store(this.a, i, v);
  }

  maxBe(id: number, slot: number, v: number): void {
    const i = this.beBase + id * BACKEND_STRIDE + slot;
    if (v > Atomics.load(this.a, i)) Atomics.store(this.a, i, v);
  }

  be(id: number, slot: number): number {
    return Atomics.load(this.a, this.beBase + id * BACKEND_STRIDE + slot);
  }

  setBe(id: number, slot: number, v: number): void {
    Atomics.store(this.a, this.beBase + id * BACKEND_STRIDE + slot, v);
  }

  addBe(id: number, slot: number, d: number): number {
    return Atomics.add(this.a, this.beBase + id * BACKEND_STRIDE + slot, d) + d;
  }

  state(id: number): ServerOpState {
    return this.srv(id, ServerSlot.STATE) as ServerOpState;
  }

  /** Change a server's operational state, remembering when (for `show servers state`, `show stat`). */
  setState(id: number, state: ServerOpState, nowSec = Math.floor(Date.now() / 1000)): void {
    if (this.state(id) === state) return;
    this.setSrv(id, ServerSlot.STATE, state);
    this.setSrv(id, ServerSlot.LAST_CHANGE, nowSec);
    if (state === ServerOpState.MAINT || state === ServerOpState.DOWN) this.setSrv(id, ServerSlot.CHECK_HEALTH, 0);
  }

  /** Take one connection slot on server `id` if it has one free (`maxconn` 0 = unlimited). */
  tryReserve(id: number, maxconn: number): boolean {
    const i = id * SERVER_STRIDE + ServerSlot.CUR_CONN;
    for (;;) {
      const cur = Atomics.load(this.a, i);
      if (maxconn > 0 && cur >= maxconn) return false;
      if (Atomics.compareExchange(this.a, i, cur, cur + 1) === cur) {
        const max = id * SERVER_STRIDE + ServerSlot.MAX_CONN_SEEN;
        if (cur + 1 > Atomics.load(this.a, max)) Atomics.store(this.a, max, cur + 1);
        return true;
      }
    }
  }

  /** Free a slot of server `id` (of backend `be`) and wake every worker waiting on that backend. */
  release(id: number, be: number): void {
    Atomics.sub(this.a, id * SERVER_STRIDE + ServerSlot.CUR_CONN, 1);
    const seq = this.beBase + be * BACKEND_STRIDE + BackendSlot.RELEASE_SEQ;
    Atomics.add(this.a, seq, 1);
    Atomics.notify(this.a, seq);
  }

  /** The backend's release sequence now, to wait on. */
  releaseSeq(be: number): number {
    return this.be(be, BackendSlot.RELEASE_SEQ);
  }

  /** Resolves once the release sequence of `be` differs from `seen` (or after `timeoutMs`). */
  waitRelease(be: number, seen: number, timeoutMs: number): Promise<unknown> | null {
    const r = Atomics.waitAsync(this.a, this.beBase + be * BACKEND_STRIDE + BackendSlot.RELEASE_SEQ, seen, timeoutMs);
    return r.async ? r.value : null;
  }
}
