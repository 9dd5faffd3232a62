/**
 * The scheduler's view of time. Production reads `performance.now()` and arms one real
 * `setTimeout`; the simulator supplies virtual time. `core/` never reads the clock itself.
 */
export interface Clock {
  now(): number;
  /** Arm the single wake-up for the wheel; a later call replaces the earlier one. */
  arm(delayMs: number, fire: () => void): void;
  disarm(): void;
  /** Run `fn` after the current I/O callback, before new I/O (setImmediate/microtask in production). */
  defer(fn: () => void): void;
}

/** Who a timer calls: an object with one method, so arming a timer allocates no closure. */
export interface TimerTarget {
  onTimer(kind: number): void;
  /** `onTimer` threw: contain it. Without it the error is rethrown after the other timers ran. */
  onFault?(err: unknown): void;
}

/** Wheel geometry: 512 slots of 4 ms cover ~2 s per turn; later expiries ride extra turns. */
export const WHEEL_SLOTS = 512;
export const WHEEL_TICK_MS = 4;
export const NEVER = Number.POSITIVE_INFINITY;
