/**
 * Starts the profile worker thread while the command's bundle is still loading (about 80 ms), when the
 * command will most likely use it: `drift` or `profile`, more than one core, no `--threads 1`, and an
 * argument naming a CSV file of at least 16 MB (PARALLEL_MIN_BYTES of profile-parallel.ts). The parallel
 * profiler takes it from `globalThis` under {@link EARLY_WORKER}; one it does not take is unreferenced and
 * ends with the process.
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const EARLY_WORKER = Symbol.for('driftwatch.earlyWorker');
const MIN_BYTES = 16 * 1024 * 1024;
/** Names the parallel profiler reads (formatFromName's CSV extensions), gzip or not. */
const CSV_NAME = /\.(csv|tsv)(\.gz)?$/i;

/** `workerUrl`: the worker's module next to the bundle. */
export function startEarlyWorker(/** @type {URL} */ workerUrl, /** @type {string[]} */ args) {
  if (!['drift', 'profile'].includes(args[0] ?? '') || availableParallelism() < 2) return;
  const threads = args.indexOf('--threads');
  if ((threads >= 0 && args[threads + 1] === '1') || args.includes('--threads=1')) return;
  const large = args.some(
    (arg) => CSV_NAME.test(arg) && (statSync(arg, { throwIfNoEntry: false })?.size ?? 0) >= MIN_BYTES,
  );
  if (!large) return;
  const worker = new Worker(workerUrl);
  worker.unref();
  /** @type {Record<symbol, unknown>} */ (globalThis)[EARLY_WORKER] = worker;
}
