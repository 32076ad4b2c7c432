/**
 * Time as the emulator sees it. Every timestamp and every timed state change (an endpoint leaving
 * `Updating`) goes through a clock, so tests can use a {@link ManualClock} and step through the states.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves once `ms` have passed on this clock; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Wall-clock time and real timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      // Even a zero wait lets the caller's response go out before the state changes.
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

interface Sleeper {
  due: number;
  resolve: () => void;
}

/**
 * A clock that moves only when told to. Sleepers wake, in order of their due time, when {@link advance}
 * passes it.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(Date.parse('2024-06-01T00:00:00Z'));
 * const emulator = await startSageMakerEmulator({ s3, clock, timings: { endpointUpdateSeconds: 60 } });
 * // … UpdateEndpoint: the endpoint is Updating until …
 * await clock.advance(60_000);
 * ```
 */
export class ManualClock implements Clock {
  private time: number;
  private sleepers: Sleeper[] = [];

  constructor(start = Date.UTC(2024, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  /** Waits for {@link advance} to pass `ms`; a wait of 0 or less ends at once, as on a real clock. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (ms <= 0) return resolve();
      const sleeper: Sleeper = { due: this.time + ms, resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((other) => other !== sleeper);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /**
   * Moves time forward by `ms`, waking every sleeper due by then, and waits a turn of the event loop so
   * that what they do next (without I/O) has happened when this resolves.
   */
  async advance(ms: number): Promise<void> {
    this.time += ms;
    const due = this.sleepers.filter((sleeper) => sleeper.due <= this.time).sort((a, b) => a.due - b.due);
    this.sleepers = this.sleepers.filter((sleeper) => sleeper.due > this.time);
    for (const sleeper of due) sleeper.resolve();
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** The number of sleepers waiting, to tell when a background task has reached its timed step. */
  get pending(): number {
    return this.sleepers.length;
  }
}
