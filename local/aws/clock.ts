/**
 * Time and work of the local AWS. The {@link Clock} only moves when told to (`advance`), so schedules,
 * visibility timeouts, Step Functions waits and alarm periods take no real time; the {@link Activity}
 * counts the work in flight (invocations, deliveries, executions) so a caller can wait until everything an
 * upload or a tick started has finished.
 */

/** Counts work in flight; {@link Activity.settle} waits until there is none. */
export class Activity {
  private active = 0;
  /** Work waiting for the clock: it cannot progress until the clock moves, so it does not hold `settle`. */
  private waiting = 0;
  private waiters: (() => void)[] = [];
  private readonly failures: unknown[] = [];

  /**
   * Counts `work` until it settles. A rejection is also kept for {@link Activity.takeFailures}: the local
   * AWS records expected failures (function errors, failed executions) in its timeline and never rejects
   * for them, so a rejection here is a fault of the local AWS itself, reported by `settle()`.
   */
  track<T>(work: Promise<T>): Promise<T> {
    this.active += 1;
    work
      .catch((error: unknown) => {
        this.failures.push(error);
      })
      .finally(() => {
        this.active -= 1;
        this.changed();
      });
    return work;
  }

  /** Runs `work` counted. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return this.track(Promise.resolve().then(work));
  }

  /** Marks tracked work as waiting for the clock until `wake` is called. */
  sleep(): () => void {
    this.waiting += 1;
    this.changed();
    let woken = false;
    return () => {
      if (woken) return;
      woken = true;
      this.waiting -= 1;
    };
  }

  /** Whether nothing is in flight except work waiting for the clock. */
  get idle(): boolean {
    return this.active - this.waiting <= 0;
  }

  /** Rejections of tracked work since the last call. */
  takeFailures(): unknown[] {
    return this.failures.splice(0);
  }

  /**
   * Resolves once nothing is in flight (work waiting for the clock aside), checked again after the event
   * loop turned, since finished work often starts more (a queue delivery, a retry).
   */
  async settle(): Promise<void> {
    for (;;) {
      if (!this.idle) await new Promise<void>((resolve) => this.waiters.push(resolve));
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.idle) return;
    }
  }

  private changed(): void {
    if (!this.idle) return;
    const waiters = this.waiters.splice(0);
    for (const wake of waiters) wake();
  }
}

/** A timer of the {@link Clock}. */
export interface ClockTimer {
  readonly time: number;
  readonly label: string;
  cancel(): void;
}

interface Scheduled {
  time: number;
  sequence: number;
  label: string;
  fire: () => void | Promise<void>;
  cancelled: boolean;
}

/**
 * A clock that moves only when advanced. Timers fire in time order; after each, the clock waits for the
 * work it started to settle before the next, so a schedule at 06:00 and an alarm evaluation at 06:01 see
 * each other's effects as they would in AWS.
 *
 * @example
 * ```ts
 * const clock = new Clock(Date.parse('2025-01-01T00:00:00Z'), new Activity());
 * clock.at(clock.now() + 60_000, () => console.log('a minute later'));
 * await clock.advance(120_000);
 * ```
 */
export class Clock {
  readonly activity: Activity;
  private current: number;
  private sequence = 0;
  private timers: Scheduled[] = [];
  private advancing = false;
  private readonly sleepers = new Set<(reason: unknown) => void>();

  constructor(start: number, activity: Activity) {
    this.current = start;
    this.activity = activity;
  }

  /** Milliseconds since the epoch, local time. */
  now(): number {
    return this.current;
  }

  date(): Date {
    return new Date(this.current);
  }

  /** Runs `fire` when the clock reaches `time` (at once on the next advance if `time` is past). */
  at(time: number, fire: () => void | Promise<void>, label = 'timer'): ClockTimer {
    const scheduled: Scheduled = { time, sequence: this.sequence++, label, fire, cancelled: false };
    this.timers.push(scheduled);
    return {
      time,
      label,
      cancel: () => {
        scheduled.cancelled = true;
        this.timers = this.timers.filter((timer) => timer !== scheduled);
      },
    };
  }

  /**
   * Resolves when the clock has moved `ms` forward. Called from tracked work (a Step Functions wait), it
   * does not hold {@link Activity.settle}: that work waits for the clock, not for the event loop.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const wake = this.activity.sleep();
      const stop = (reason: unknown) => {
        timer.cancel();
        wake();
        this.sleepers.delete(stop);
        signal?.removeEventListener('abort', onAbort);
        reject(reason);
      };
      const timer = this.at(
        this.current + Math.max(0, ms),
        () => {
          wake();
          this.sleepers.delete(stop);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        'sleep',
      );
      const onAbort = () => stop(signal?.reason ?? new Error('aborted'));
      this.sleepers.add(stop);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Timers not fired yet, soonest first. */
  pending(): { time: number; label: string }[] {
    return [...this.timers]
      .sort((a, b) => a.time - b.time || a.sequence - b.sequence)
      .map(({ time, label }) => ({ time, label }));
  }

  /** Moves the clock `ms` forward, firing every timer due on the way, each after the work before it settled. */
  advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`cannot advance the clock by ${ms} ms`);
    return this.advanceTo(this.current + ms);
  }

  /** Moves the clock to `time` (not backwards), firing every timer due on the way. */
  async advanceTo(time: number): Promise<void> {
    if (this.advancing) throw new Error('the clock is already advancing');
    this.advancing = true;
    try {
      await this.activity.settle();
      for (;;) {
        const next = this.nextDue(time);
        if (next === undefined) break;
        this.timers = this.timers.filter((timer) => timer !== next);
        this.current = Math.max(this.current, next.time);
        await this.activity.run(async () => next.fire());
        if (!this.activity.idle) await this.activity.settle();
      }
      this.current = Math.max(this.current, time);
    } finally {
      this.advancing = false;
    }
  }

  /** Drops every timer and rejects every sleep (when the local AWS stops). */
  clear(): void {
    for (const timer of this.timers) timer.cancelled = true;
    this.timers = [];
    for (const stop of [...this.sleepers]) stop(new Error('the clock was stopped'));
  }

  private nextDue(until: number): Scheduled | undefined {
    let next: Scheduled | undefined;
    for (const timer of this.timers) {
      if (timer.cancelled || timer.time > until) continue;
      if (!next || timer.time < next.time || (timer.time === next.time && timer.sequence < next.sequence)) {
        next = timer;
      }
    }
    return next;
  }
}
