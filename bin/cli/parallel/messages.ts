import type { ResolvedColumnOptions } from '../../../lambdas/core/drift/options.ts';
import type { TableProfile } from '../../../lambdas/core/drift/profile.ts';
import type { AccumulatorContext } from '../../../lambdas/core/drift/table-accumulator.ts';

/** One byte range of a CSV file for a worker to profile, with the header to parse it by. */
export interface PartTask {
  part: number;
  path: string;
  delimiter: string;
  /** The header line's bytes (a BOM included), parsed before the range. */
  header: Uint8Array;
  /** Byte range [start, end) of the file: whole lines. */
  start: number;
  end: number;
  options: ResolvedColumnOptions;
  context: AccumulatorContext;
}

export type WorkerMessage =
  | { type: 'progress'; part: number; bytesRead: number; rows: number }
  | { type: 'done'; part: number; profile: TableProfile }
  /** The range cannot be read on its own (a quote: a line break may be inside a field) or is bad input. */
  | { type: 'declined'; part: number; reason: string };
