import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { computeNumericResults } from '../../../lambdas/core/drift/compute.ts';
import { joinColumnShares } from '../../../lambdas/core/drift/join-column-shares.ts';
import type { FeatureProfile, TableProfile } from '../../../lambdas/core/drift/profile.ts';
import {
  type PairProfiler,
  type Profiler,
  profileInOnePass,
  profilePairShare,
} from '../../../lambdas/core/drift/run.ts';
import { type ColumnShare, inColumnShare } from '../../../lambdas/core/drift/table-accumulator.ts';
import type { TableInput } from '../../../lambdas/core/readers/input.ts';
import { formatFromName } from '../../../lambdas/core/readers/read-table.ts';
import { PARALLEL_MIN_BYTES, takeEarlyWorker } from '../../early-worker.mjs';
import { type PairTask, placeResults, type ShareTask, type WorkerMessage } from './messages.ts';

type DoneMessage = Exclude<WorkerMessage, { type: 'failed' }>;

/**
 * Threads of `drift` and `profile` when `--threads` is not given: the machine's cores, at most this many.
 * Each thread reads the whole file, so more gain less, and each costs its own memory (1M-row benchmark: peak
 * RSS about 195, 225, 255 and 280 MB for 1 to 4 threads), which keeps the default under 300 MB.
 */
export const MAX_DEFAULT_THREADS = 3;

/** The worker's module: its source, or its bundle next to the command's (bin/build-cli.mjs). */
const WORKER_FILE = import.meta.url.endsWith('.ts') ? './profile-worker.ts' : './profile-worker.mjs';

export function defaultThreads(): number {
  return Math.min(availableParallelism(), MAX_DEFAULT_THREADS);
}

export interface ParallelOptions {
  /** Threads, the main one included. */
  threads: number;
  /** Smallest file read on several threads. @default PARALLEL_MIN_BYTES (bin/early-worker.mjs) */
  minBytes?: number;
  /**
   * Files the profiler will be asked for: its worker threads stop after the last, which gives their memory
   * back before the drift numbers are computed. @default no limit (idle workers stay, unreferenced)
   */
  files?: number;
  /** Start the worker threads now, so they are ready when the first (large) file comes. @default false */
  startNow?: boolean;
}

/**
 * The profiler of a command that reads `inputs` (in that order) with `threads` threads: none for one thread;
 * workers are started at once when an input is large enough to be read on several threads.
 */
export function commandProfiler(
  threads: number,
  inputs: readonly TableInput[],
): (Profiler & { pair: PairProfiler }) | undefined {
  if (threads < 2) return undefined;
  const large = inputs.some((input) => (input.size ?? 0) >= PARALLEL_MIN_BYTES);
  return parallelProfiler({ threads, files: inputs.length, startNow: large });
}

/**
 * A {@link Profiler} for large local CSV files (plain or gzip): every thread reads the whole file and
 * profiles its share of the feature columns (every N-th one), and the shares are joined. All of them sample
 * the same rows, so the profile, and every number of the report, is the one a single pass gives, whatever
 * the number of threads. It declines (returns null, and the single pass takes over) for other inputs, and
 * when any share fails, so that bad input is reported by the single pass with its exact line.
 */
export function parallelProfiler(settings: ParallelOptions): Profiler & { pair: PairProfiler } {
  const { threads } = settings;
  const minBytes = settings.minBytes ?? PARALLEL_MIN_BYTES;
  // Started on first use (or now) and kept for the next file (a baseline, then the current data); idle
  // workers do not keep the process alive.
  const pool: Worker[] = [];
  const startWorkers = () => {
    while (pool.length < threads - 1) {
      // The one the launcher started while the bundle loaded, if any (bin/early-worker.mjs).
      const worker = takeEarlyWorker() ?? new Worker(new URL(WORKER_FILE, import.meta.url));
      worker.unref();
      // A worker that stopped (a crash, a stop after a failure, the last file) must not get the next file.
      worker.once('exit', () => {
        const index = pool.indexOf(worker);
        if (index >= 0) pool.splice(index, 1);
      });
      pool.push(worker);
    }
  };
  if (settings.startNow && threads > 1) startWorkers();
  let filesLeft = settings.files ?? Number.POSITIVE_INFINITY;
  const filesDone = async (count: number) => {
    filesLeft -= count;
    if (filesLeft <= 0) for (const worker of [...pool]) await worker.terminate();
  };
  const eligible = (input: TableInput) =>
    threads > 1 &&
    input.size !== undefined &&
    input.size >= minBytes &&
    input.openReused !== undefined &&
    formatFromName(input.name) !== undefined;

  /**
   * Runs share 0 of the columns here and the others on the workers; null when any fails (stopping the
   * others), so that the single pass reads the input and reports the error.
   */
  const inShares = async <Here, Kind extends DoneMessage['type']>(
    here: (columnShare: ColumnShare, signal: AbortSignal) => Promise<Here>,
    task: (columnShare: ColumnShare) => ShareTask | PairTask,
    done: Kind,
  ): Promise<[Here, Extract<DoneMessage, { type: Kind }>[]] | null> => {
    startWorkers();
    const parts = pool.length + 1;
    const stop = new AbortController();
    const failed = (error: unknown): never => {
      stop.abort();
      throw error;
    };
    const [first, ...rest] = await Promise.allSettled([
      here({ part: 0, parts }, stop.signal).catch(failed),
      ...pool.map((worker, i) =>
        onWorker(worker, task({ part: i + 1, parts }), done, stop.signal).catch(failed),
      ),
    ]);
    const others = rest.flatMap((share) => (share.status === 'fulfilled' ? [share.value] : []));
    return first!.status === 'fulfilled' && others.length === rest.length ? [first!.value, others] : null;
  };

  const pair: PairProfiler = async (baseline, current, options, read, into) => {
    try {
      if (!eligible(baseline) || !eligible(current)) return null;
      const shares = await inShares(
        (columnShare, signal) =>
          profilePairShare(
            stoppable(baseline, signal),
            stoppable(current, signal),
            options,
            columnShare,
            read,
          ),
        (columnShare) => ({
          kind: 'pair',
          baselinePath: baseline.name,
          currentPath: current.name,
          options,
          columnShare,
          maxDecompressedBytes: read.maxDecompressedBytes,
        }),
        'pair-done',
      );
      if (shares === null) return null;
      const [main, others] = shares;
      // The main thread's results are keyed by its entries, which the joined profiles keep.
      for (const [entry, result] of main.results) into.set(entry, result);
      const joined = {
        baseline: joinColumnShares([main.baseline, ...others.map((share) => share.baseline)]),
        current: joinColumnShares([main.current, ...others.map((share) => share.current)]),
        baselineMs: main.baselineMs,
      };
      for (const share of others) placeResults(joined.current, share.tests, into);
      return joined;
    } finally {
      await filesDone(2);
    }
  };

  const profiler: Profiler = async (input, options, context, read, ahead) => {
    try {
      if (!eligible(input)) return null;
      const shares = await inShares(
        async (columnShare, signal) => {
          const share = await profileInOnePass(
            stoppable(input, signal),
            options,
            { ...context, columnShare },
            read,
          );
          // Its tests, while the worker threads may still be reading.
          if (ahead) computeNumericResults(ahead.baseline, share, ahead.declared, ahead.into);
          return share;
        },
        (columnShare) => ({
          kind: 'share',
          path: input.name,
          options,
          context: { ...context, columnShare },
          maxDecompressedBytes: read.maxDecompressedBytes,
          ...(ahead
            ? {
                tests: {
                  baseline: baselineShare(ahead.baseline, columnShare),
                  // Just the two sets: the object given may be all the column options.
                  declared: { numeric: ahead.declared.numeric, categorical: ahead.declared.categorical },
                },
              }
            : {}),
        }),
        'done',
      );
      if (shares === null) return null;
      const [main, others] = shares;
      const profile = joinColumnShares([main, ...others.map((share) => share.profile)]);
      if (ahead) for (const share of others) placeResults(profile, share.tests, ahead.into);
      return profile;
    } finally {
      await filesDone(1);
    }
  };
  return Object.assign(profiler, { pair });
}

/** The input, failing at its next chunk once `signal` is aborted (another share failed). */
function stoppable(input: TableInput, signal: AbortSignal): TableInput {
  const guarded = (open: () => AsyncIterable<Uint8Array>) =>
    async function* () {
      for await (const chunk of open()) {
        signal.throwIfAborted();
        yield chunk;
      }
    };
  const { openReused, readRange } = input;
  return {
    ...input,
    open: guarded(() => input.open()),
    ...(openReused ? { openReused: guarded(() => openReused.call(input)) } : {}),
    ...(readRange
      ? {
          readRange: (start: number, end: number) => {
            signal.throwIfAborted();
            return readRange.call(input, start, end);
          },
        }
      : {}),
  };
}

/**
 * The baseline's entries of the features that share `part` of `parts` reads when the current side has the
 * baseline's column order (features the share does not get are just not computed ahead).
 */
function baselineShare(baseline: TableProfile, share: ColumnShare): TableProfile {
  const features = baseline.features.filter((_, ordinal) => inColumnShare(ordinal, share));
  const keep = (entries: Map<string, FeatureProfile>) =>
    new Map(features.flatMap((name) => (entries.has(name) ? [[name, entries.get(name)!] as const] : [])));
  return {
    ...baseline,
    features,
    whole: keep(baseline.whole),
    segments: baseline.segments.map((segment) => ({ ...segment, features: keep(segment.features) })),
  };
}

/** Runs a task on a worker thread, which is kept referenced only while it works (stopped on abort). */
function onWorker<Kind extends DoneMessage['type']>(
  worker: Worker,
  task: ShareTask | PairTask,
  done: Kind,
  signal: AbortSignal,
): Promise<Extract<DoneMessage, { type: Kind }>> {
  return new Promise((resolve, reject) => {
    const finish = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      signal.removeEventListener('abort', onAbort);
      worker.unref();
    };
    const onError = (error: Error) => {
      finish();
      reject(error);
    };
    const onExit = () => {
      finish();
      reject(new Error('the worker thread stopped'));
    };
    const onAbort = () => void worker.terminate();
    const onMessage = (message: WorkerMessage) => {
      finish();
      if (message.type === 'failed') reject(new Error(message.reason));
      else if (message.type !== done) reject(new Error(`the worker thread answered ${message.type}`));
      else resolve(message as Extract<DoneMessage, { type: Kind }>);
    };
    worker.ref();
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    signal.addEventListener('abort', onAbort);
    worker.postMessage(task);
  });
}
