/**
 * Worker thread of {@link parallelProfiler}: reads a local file and profiles the share of its columns the
 * task names, then computes the numeric tests of those features if the task has their baseline. A failure is
 * only reported: the single pass then reads the file and gives the exact error.
 */
import { parentPort } from 'node:worker_threads';
import { computeNumericResults, type NumericResults } from '../../../lambdas/core/drift/compute.ts';
import type { TableProfile } from '../../../lambdas/core/drift/profile.ts';
import { profileInOnePass } from '../../../lambdas/core/drift/run.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import { nameResults, type ShareTask, type WorkerMessage } from './messages.ts';

parentPort!.on('message', (task: ShareTask) => {
  profileInOnePass(fileInput(task.path), task.options, task.context, {
    maxDecompressedBytes: task.maxDecompressedBytes,
  }).then(
    (profile) => {
      const results: NumericResults = new Map();
      if (task.tests) computeNumericResults(task.tests.baseline, profile, task.tests.declared, results);
      const tests = nameResults(profile, results);
      parentPort!.postMessage({ type: 'done', profile, tests } satisfies WorkerMessage, buffersOf(profile));
    },
    (error: unknown) =>
      parentPort!.postMessage({
        type: 'failed',
        reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      } satisfies WorkerMessage),
  );
});

/** The profile's array buffers, to move to the main thread rather than copy. */
function buffersOf(profile: TableProfile): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const features = [...profile.whole.values(), ...profile.segments.flatMap((s) => [...s.features.values()])];
  for (const feature of features) {
    for (const array of [feature.sample, feature.edges, feature.binCounts]) {
      if (array && array.buffer instanceof ArrayBuffer && array.byteLength > 0) buffers.add(array.buffer);
    }
  }
  return [...buffers];
}
