import { performance } from 'node:perf_hooks';
import type { Clock, TimerTarget } from './scheduler.types.ts';
import { NEVER, WHEEL_SLOTS, WHEEL_TICK_MS } from './scheduler.types.ts';

/**
 * A timer entry owned by one session (or pool). Re-arming only changes `expiresAt` when the new
 * expiry is later than the slot it sits in (the common "refresh on activity" case costs no list
 * operation); the wheel re-files it when its slot comes round, as HAProxy's tick-based expiry does.
 */
export class Timer {
  expiresAt = NEVER;
  /** Slot tick the entry is filed under, or -1 when not in the wheel. */
  filedTick = -1;
  prev: Timer | null = null;
  next: Timer | null = null;
  readonly target: TimerTarget;
  readonly kind: number;

  constructor(target: TimerTarget, kind: number) {
    this.target = target;
    this.kind = kind;
  }

  get armed(): boolean {
    return this.expiresAt !== NEVER;
  }
}

/**
 * One per worker: a hashed timer wheel behind a single armed wake-up, and a run queue of deferred
 * tasks. All session timeouts are wheel entries; nothing in core/ calls setTimeout.
 */
export class Scheduler {
  readonly clock: Clock;
  private readonly slots: Array<Timer | null> = new Array(WHEEL_SLOTS).fill(null);
  private count = 0;
  /** Last tick whose slot has been processed. */
  private doneTick: number;
  private armedFor = NEVER;
  private runQueue: Array<() => void> = [];
  private runScheduled = false;
  /** Observability: loops of the wheel and deferred tasks run. */
  wakeups = 0;
  tasksRun = 0;

  constructor(clock: Clock) {
    this.clock = clock;
    this.doneTick = Math.floor(clock.now() / WHEEL_TICK_MS);
  }

  now(): number {
    return this.clock.now();
  }

  get timersPending(): number {
    return this.count;
  }

  /** Arm (or re-arm) `t` to expire `delayMs` from now. `undefined` or `NEVER` cancels it. */
  arm(t: Timer, delayMs: number | undefined): void {
    if (delayMs === undefined || delayMs === NEVER) {
      this.cancel(t);
      return;
    }
    const at = this.clock.now() + delayMs;
    const tick = Math.max(Math.ceil(at / WHEEL_TICK_MS), this.doneTick + 1);
    t.expiresAt = at;
    if (t.filedTick !== -1 && t.filedTick <= tick) return; // lazily re-filed when its slot comes
    if (t.filedTick !== -1) this.unlink(t);
    this.file(t, tick);
    if (at < this.armedFor) this.rearm();
  }

  /** Disarm `t` (a timer not made yet, null, has nothing to cancel). */
  cancel(t: Timer | null): void {
    if (t === null) return;
    t.expiresAt = NEVER;
    if (t.filedTick !== -1) this.unlink(t);
  }

  /** Queue `task` to run after the current callback (a wake-up of the run queue). */
  defer(task: () => void): void {
    this.runQueue.push(task);
    if (!this.runScheduled) {
      this.runScheduled = true;
      this.clock.defer(this.runTasks);
    }
  }

  private readonly runTasks = (): void => {
    this.runScheduled = false;
    const q = this.runQueue;
    this.runQueue = [];
    for (const task of q) {
      this.tasksRun++;
      task();
    }
  };

  private file(t: Timer, tick: number): void {
    const i = tick % WHEEL_SLOTS;
    const head = this.slots[i] ?? null;
    t.filedTick = tick;
    t.prev = null;
    t.next = head;
    if (head) head.prev = t;
    this.slots[i] = t;
    this.count++;
  }

  private unlink(t: Timer): void {
    const i = t.filedTick % WHEEL_SLOTS;
    if (t.prev) t.prev.next = t.next;
    else this.slots[i] = t.next;
    if (t.next) t.next.prev = t.prev;
    t.prev = t.next = null;
    t.filedTick = -1;
    this.count--;
  }

  private rearm(): void {
    if (this.count === 0) {
      this.armedFor = NEVER;
      this.clock.disarm();
      return;
    }
    const next = this.nearestTick();
    const at = next * WHEEL_TICK_MS;
    this.armedFor = at;
    this.clock.arm(Math.max(0, at - this.clock.now()), this.onWake);
  }

  /** The earliest tick holding an entry, scanning at most one turn of the wheel. */
  private nearestTick(): number {
    let best = NEVER;
    for (let d = 1; d <= WHEEL_SLOTS; d++) {
      const tick = this.doneTick + d;
      for (let t = this.slots[tick % WHEEL_SLOTS] ?? null; t; t = t.next) {
        if (t.filedTick < best) best = t.filedTick;
      }
      if (best <= tick) return best;
    }
    return best;
  }

  private readonly onWake = (): void => {
    this.wakeups++;
    this.armedFor = NEVER;
    const nowTick = Math.floor(this.clock.now() / WHEEL_TICK_MS);
    const expired: Timer[] = [];
    const last = Math.min(nowTick, this.doneTick + WHEEL_SLOTS);
    for (let tick = this.doneTick + 1; tick <= last; tick++) {
      let t = this.slots[tick % WHEEL_SLOTS] ?? null;
      while (t) {
        const next = t.next;
        if (t.filedTick <= nowTick) {
          this.unlink(t);
          const due = Math.ceil(t.expiresAt / WHEEL_TICK_MS);
          if (due <= nowTick) expired.push(t);
          else this.file(t, due); // refreshed since it was filed: ride to its new slot
        }
        t = next;
      }
    }
    this.doneTick = nowTick;
    for (const t of expired) {
      // A handler run earlier in this batch may have re-armed or cancelled this one.
      if (t.filedTick !== -1 || t.expiresAt === NEVER) continue;
      t.expiresAt = NEVER;
      try {
        t.target.onTimer(t.kind);
      } catch (err) {
        // one target's failure must not stop the other timers of this tick
        if (t.target.onFault) t.target.onFault(err);
        else queueMicrotask(() => {
          throw err;
        });
      }
    }
    this.rearm();
  };
}

/** The production clock: monotonic time, one real timer, setImmediate for the run queue. */
export class NodeClock implements Clock {
  private handle: ReturnType<typeof setTimeout> | null = null;
  private readonly unrefTimers: boolean;

  constructor(unrefTimers = false) {
    this.unrefTimers = unrefTimers;
  }

  /**
   * Monotonic time, read once per callback from the event loop: the first read of a callback
   * caches it and a microtask (run when the callback returns) forgets it. A request reads the
   * clock a dozen times across a few callbacks (timestamps of its log line, timer arming); one
   * read per callback is HAProxy's `now_ms`, updated once per polling loop.
   */
  now(): number {
    let t = this.cached;
    if (t < 0) {
      t = this.cached = performance.now();
      queueMicrotask(this.forget);
    }
    return t;
  }

  private cached = -1;
  private readonly forget = (): void => {
    this.cached = -1;
  };

  arm(delayMs: number, fire: () => void): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = setTimeout(fire, delayMs);
    if (this.unrefTimers) this.handle.unref();
  }

  disarm(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = null;
  }

  defer(fn: () => void): void {
    setImmediate(fn);
  }
}
