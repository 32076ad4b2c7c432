import type { ResolvedColumnOptions } from '../../../lambdas/core/drift/options.ts';
import type { TableProfile } from '../../../lambdas/core/drift/profile.ts';
import type { AccumulatorContext } from '../../../lambdas/core/drift/table-accumulator.ts';

/** A local file for a worker thread to read whole, profiling the share of its columns the context names. */
export interface ShareTask {
  path: string;
  options: ResolvedColumnOptions;
  context: AccumulatorContext;
  maxDecompressedBytes: number | undefined;
}

export type WorkerMessage =
  | { type: 'done'; profile: TableProfile }
  /** The share could not be read (bad input, most likely): the single pass reads the file and says why. */
  | { type: 'failed'; reason: string };
