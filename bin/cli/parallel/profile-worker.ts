/**
 * Worker thread of {@link parallelProfiler}: reads a local file and profiles the share of its columns the
 * task names, then computes the numeric tests of those features if the task has their baseline; or does
 * that for a drift run's two files in turn. A failure is only reported: the single pass then reads the files
 * and gives the exact error.
 */
import { parentPort } from 'node:worker_threads';
import { computeNumericResults, type NumericResults } from '../../../lambdas/core/drift/compute.ts';
import type { TableProfile } from '../../../lambdas/core/drift/profile.ts';
import { profileInOnePass, profilePairShare } from '../../../lambdas/core/drift/run.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import { nameResults, type PairTask, type ShareTask, type WorkerMessage } from './messages.ts';

parentPort!.on('message', (task: ShareTask | PairTask) => {
  run(task).then(
    ([message, buffers]) => parentPort!.postMessage(message, buffers),
    (error: unknown) =>
      parentPort!.postMessage({
        type: 'failed',
        reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      } satisfies WorkerMessage),
  );
});

async function run(task: ShareTask | PairTask): Promise<[WorkerMessage, ArrayBuffer[]]> {
  const read = { maxDecompressedBytes: task.maxDecompressedBytes };
  if (task.kind === 'pair') {
    const pair = await profilePairShare(
      fileInput(task.baselinePath),
      fileInput(task.currentPath),
      task.options,
      task.columnShare,
      read,
    );
    const { baseline, current } = pair;
    const tests = nameResults(current, pair.results);
    return [{ type: 'pair-done', baseline, current, tests }, [...buffersOf(baseline), ...buffersOf(current)]];
  }
  const profile = await profileInOnePass(fileInput(task.path), task.options, task.context, read);
  const results: NumericResults = new Map();
  if (task.tests) computeNumericResults(task.tests.baseline, profile, task.tests.declared, results);
  return [{ type: 'done', profile, tests: nameResults(profile, results) }, buffersOf(profile)];
}

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
