import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  finishMergedProfile,
  mergeTableProfiles,
  SampleShortfall,
} from '../../../lambdas/core/drift/merge-profiles.ts';
import type { ResolvedColumnOptions } from '../../../lambdas/core/drift/options.ts';
import type { TableProfile } from '../../../lambdas/core/drift/profile.ts';
import { seedFor } from '../../../lambdas/core/drift/row-sample.ts';
import type { Profiler } from '../../../lambdas/core/drift/run.ts';
import type { AccumulatorContext } from '../../../lambdas/core/drift/table-accumulator.ts';
import { isGzip } from '../../../lambdas/core/readers/decompress.ts';
import type { TableInput } from '../../../lambdas/core/readers/input.ts';
import type { ReadProgress } from '../../../lambdas/core/readers/types.ts';
import type { PartTask, WorkerMessage } from './messages.ts';
import { profilePart } from './profile-part.ts';

/** Threads of `drift` and `profile` when `--threads` is not given. */
export const DEFAULT_THREADS = 1;
/** Below this size one thread is about as fast as starting workers. */
export const PARALLEL_MIN_BYTES = 48 * 1024 * 1024;
/**
 * A file is cut into one part per PART_BYTES, at least 2 and at most the threads asked for (and MAX_PARTS):
 * the cut depends on the file and the `--threads` flag alone, not on the machine, so the samples (and so the
 * numbers of sampled entries) are the same on every machine, and each thread reads one part, whose sample
 * memory then does not grow with the file.
 */
export const PART_BYTES = 96 * 1024 * 1024;
export const MAX_PARTS = 4;
const HEAD_BYTES = 1 << 20;
/** A part's samples hold its share of the file's bytes times this much of the sample cap. */
const SAMPLE_SPARE = 1.25;
/** The worker's module: its source, or its bundle next to the command's (bin/build-cli.mjs). */
const WORKER_FILE = import.meta.url.endsWith('.ts') ? './profile-worker.ts' : './profile-worker.mjs';

const DELIMITERS: Record<string, string> = { csv: ',', tsv: '\t', tab: '\t' };

/**
 * A {@link Profiler} for large local CSV files: cuts the file into ranges of whole lines,
 * profiles them on worker threads and merges the parts in order. It declines (returns null, and the
 * single-threaded reader takes over) for anything else: small, compressed or non-CSV files, a header with a
 * quote, a range with a quote (a line break might be inside a quoted field), or any error in a part, so
 * errors keep their exact line numbers.
 */
export interface ParallelOptions {
  /** Threads, the main one included. @default the number of cores, at most MAX_PARTS */
  workers?: number;
  /** Smallest file read in parallel. @default PARALLEL_MIN_BYTES */
  minBytes?: number;
  /** Bytes per part (2 parts to one per thread). @default PART_BYTES */
  partBytes?: number;
  /**
   * Files the profiler will be asked for: its worker threads stop after the last, which gives their memory
   * back before the drift numbers are computed. @default no limit (idle workers stay, unreferenced)
   */
  files?: number;
  /** Start one worker thread now, so it is ready when the first (large) file comes. @default false */
  startNow?: boolean;
}

/**
 * The profiler of a command that reads `inputs` (in that order) with `threads` threads: none for one thread;
 * a worker is started at once when an input is large enough to be read in parallel.
 */
export function commandProfiler(threads: number, inputs: readonly TableInput[]): Profiler | undefined {
  if (threads < 2) return undefined;
  const large = inputs.some((input) => (input.size ?? 0) >= PARALLEL_MIN_BYTES);
  return parallelProfiler({ workers: threads, files: inputs.length, startNow: large });
}

export function parallelProfiler(settings: ParallelOptions = {}): Profiler {
  const threads = settings.workers ?? Math.min(availableParallelism(), MAX_PARTS);
  const minBytes = settings.minBytes ?? PARALLEL_MIN_BYTES;
  const partBytes = settings.partBytes ?? PART_BYTES;
  // Started on first use (or now) and kept for the next file (a baseline, then the current data); idle
  // workers do not keep the process alive.
  const pool: Worker[] = [];
  const startWorkers = (count: number) => {
    while (pool.length < count) {
      const worker = new Worker(new URL(WORKER_FILE, import.meta.url));
      worker.unref();
      // A worker that stopped (a crash, or after the last file) must not be handed the next file.
      worker.once('exit', () => {
        const index = pool.indexOf(worker);
        if (index >= 0) pool.splice(index, 1);
      });
      pool.push(worker);
    }
  };
  if (settings.startNow && threads > 1) startWorkers(1);
  let filesLeft = settings.files ?? Number.POSITIVE_INFINITY;
  return async (input, options, context, onProgress) => {
    try {
      return await profileInParts(input, options, context, onProgress);
    } finally {
      if (--filesLeft <= 0) for (const worker of [...pool]) await worker.terminate();
    }
  };

  async function profileInParts(...[input, options, context, onProgress]: Parameters<Profiler>) {
    if (threads < 2 || input.size === undefined || input.size < minBytes) return null;
    const extension = /\.([a-z]+)$/i.exec(input.name)?.[1]?.toLowerCase() ?? '';
    const delimiter = DELIMITERS[extension];
    if (delimiter === undefined) return null;
    const parts = Math.min(MAX_PARTS, threads, Math.max(2, Math.round(input.size / partBytes)));
    const ranges = await lineRanges(input.name, input.size, parts);
    if (ranges === null) return null;
    startWorkers(Math.min(threads, parts) - 1);
    return runParts(input, ranges, { delimiter, options, context, pool, onProgress });
  }
}

interface Ranges {
  header: Uint8Array;
  parts: [number, number][];
}

/** The header line and `parts` ranges cut just after a line feed; null for gzip or a header with a quote. */
async function lineRanges(path: string, size: number, parts: number): Promise<Ranges | null> {
  const handle = await open(path, 'r');
  try {
    const read = async (position: number) => {
      const buffer = Buffer.alloc(HEAD_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, position);
      return buffer.subarray(0, bytesRead);
    };
    const head = await read(0);
    if (isGzip(head)) return null;
    const headerEnd = head.indexOf(0x0a) + 1;
    if (headerEnd === 0 || head.subarray(0, headerEnd).indexOf(0x22) >= 0) return null;
    const cuts = [headerEnd];
    for (let part = 1; part < parts; part++) {
      const at = headerEnd + Math.floor(((size - headerEnd) * part) / parts);
      const window = await read(at);
      const newline = window.indexOf(0x0a);
      if (newline < 0) return null;
      cuts.push(Math.max(cuts.at(-1)!, at + newline + 1));
    }
    cuts.push(size);
    const ranges = cuts.slice(0, -1).map((start, i): [number, number] => [start, cuts[i + 1]!]);
    return { header: Uint8Array.from(head.subarray(0, headerEnd)), parts: ranges };
  } finally {
    await handle.close();
  }
}

interface RunSettings {
  delimiter: string;
  options: ResolvedColumnOptions;
  context: AccumulatorContext;
  /** Worker threads; the main thread profiles parts too. */
  pool: Worker[];
  onProgress: ((progress: ReadProgress) => void) | undefined;
}

/** Runs one part somewhere and resolves with its profile; rejects with {@link Declined} to give up. */
type Executor = (
  task: PartTask,
  progress: (bytesRead: number, rows: number) => void,
) => Promise<TableProfile>;

async function runParts(
  input: TableInput,
  ranges: Ranges,
  settings: RunSettings,
): Promise<TableProfile | null> {
  const { options } = settings;
  // Parts merge in order, each into the merge of those before it: part i gives about its share of the bytes
  // merged so far (parts 0 and 1 half each when they are the same size).
  const first = ranges.parts[0]![0];
  const mergedBytes = (part: number) => ranges.parts[Math.max(part, 1)]![1] - first;
  const tasks: PartTask[] = ranges.parts.map(([start, end], part) => ({
    part,
    path: input.name,
    delimiter: settings.delimiter,
    header: ranges.header,
    start,
    end,
    // Each part samples with its own seed; the merge draws from the parts with the run's seed.
    options: { ...options, seed: seedFor(options.seed, `part-${part}`) },
    // That share of the sample, with a quarter to spare (the merge declines, and the file is read in one
    // pass, if the rows are spread far less evenly than the bytes).
    context: {
      ...settings.context,
      sampleShare: Math.min(1, (SAMPLE_SPARE * (end - start)) / mergedBytes(part)),
    },
  }));
  const bytes = new Array<number>(tasks.length).fill(0);
  const rows = new Array<number>(tasks.length).fill(0);
  const report = (part: number) => (bytesRead: number, partRows: number) => {
    bytes[part] = bytesRead;
    rows[part] = partRows;
    settings.onProgress?.({ bytesRead: sum(bytes), totalBytes: input.size, rows: sum(rows) });
  };
  const done = new Map<number, TableProfile>();
  let merged: TableProfile | null = null;
  let nextToMerge = 0;
  let queued = 0;
  let failed = false;
  // Each executor takes the next part until none is left; parts are merged in order as soon as possible,
  // so at most a few part profiles are held at once.
  const drain = async (execute: Executor) => {
    while (queued < tasks.length && !failed) {
      const task = tasks[queued++]!;
      try {
        done.set(task.part, await execute(task, report(task.part)));
      } catch (error) {
        failed = true;
        throw error;
      }
      while (done.has(nextToMerge)) {
        const profile = done.get(nextToMerge)!;
        done.delete(nextToMerge);
        merged = merged === null ? profile : mergeTableProfiles([merged, profile]);
        nextToMerge++;
      }
    }
  };
  const onMainThread: Executor = (task, progress) =>
    profilePart(task, progress).catch((error: unknown) => {
      throw new Declined(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    });
  try {
    await Promise.all([drain(onMainThread), ...settings.pool.map((worker) => drain(onWorker(worker)))]);
  } catch (error) {
    if (error instanceof Declined || error instanceof SampleShortfall) return null;
    throw error;
  }
  const profile = merged as TableProfile | null;
  if (profile === null) return null;
  // Limits are checked per part; the union may exceed them, and then the single pass reports it.
  if (profile.segments.length > options.maxSegments) return null;
  for (const feature of profile.whole.values()) {
    if (
      feature.categories !== null &&
      feature.textCount > 0 &&
      feature.categories.size > options.maxCategories
    ) {
      return null;
    }
  }
  return finishMergedProfile({
    ...profile,
    name: input.name,
    options: { ...profile.options, seed: options.seed },
  });
}

/** An executor that sends the part to a worker thread, which is kept referenced only while it works. */
function onWorker(worker: Worker): Executor {
  return (task, progress) =>
    new Promise<TableProfile>((resolve, reject) => {
      const finish = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        worker.unref();
      };
      const onError = (error: Error) => {
        finish();
        reject(error);
      };
      // Stopped without an error event: give the file to the single pass rather than wait for ever.
      const onExit = () => {
        finish();
        reject(new Declined('the worker thread stopped'));
      };
      const onMessage = (message: WorkerMessage) => {
        if (message.type === 'progress') {
          progress(message.bytesRead, message.rows);
          return;
        }
        finish();
        if (message.type === 'declined') reject(new Declined(message.reason));
        else resolve(message.profile);
      };
      worker.ref();
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(task);
    });
}

class Declined extends Error {
  override readonly name: string = 'Declined';
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
