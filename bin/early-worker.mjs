/**
 * Starts the profile worker thread while the command's bundle is still loading (about 80 ms), when the
 * command will most likely use it: `drift` or `profile`, more than one core, no `--threads 1`, and an
 * argument naming a table file (CSV, JSON Lines or Parquet) of at least {@link PARALLEL_MIN_BYTES}. The parallel profiler takes it
 * ({@link takeEarlyWorker}); one it does not take is unreferenced and ends with the process. Plain JavaScript,
 * like the launcher that calls it, so it runs before anything is compiled or bundled.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Below this size one thread is about as fast as handing columns to others (see profile-parallel.ts). */
export const PARALLEL_MIN_BYTES = 16 * 1024 * 1024;
/** Where the worker waits: a registered symbol, so the bundle's copy of this module finds it too. */
const EARLY_WORKER = Symbol.for('driftwatch.earlyWorker');
/** Names the parallel profiler reads (formatFromName's extensions), gzip or not. */
const TABLE_NAME = /\.(csv|tsv|tab|jsonl|ndjson|json|parquet|pq)(\.gz)?$/i;

/** `workerUrl`: the worker's module next to the bundle. */
export function startEarlyWorker(/** @type {URL} */ workerUrl, /** @type {string[]} */ args) {
  if (!['drift', 'profile'].includes(args[0] ?? '') || availableParallelism() < 2) return;
  const threads = args.indexOf('--threads');
  if ((threads >= 0 && args[threads + 1] === '1') || args.includes('--threads=1')) return;
  const large = args.some(
    (arg) =>
      TABLE_NAME.test(arg) && (statSync(arg, { throwIfNoEntry: false })?.size ?? 0) >= PARALLEL_MIN_BYTES,
  );
  if (!large) return;
  const worker = new Worker(workerUrl);
  worker.unref();
  /** @type {Record<symbol, unknown>} */ (globalThis)[EARLY_WORKER] = worker;
}

/** The worker started early, once: undefined when none was, or it was taken. */
export function takeEarlyWorker() {
  const store = /** @type {Record<symbol, import('node:worker_threads').Worker | undefined>} */ (globalThis);
  const worker = store[EARLY_WORKER];
  store[EARLY_WORKER] = undefined;
  return worker;
}
