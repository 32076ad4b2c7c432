/**
 * Profiles one byte range of a CSV file, on a worker thread or on the main thread. A range holding a quote
 * character is declined ({@link QuoteFound}), since a line break there may sit inside a quoted field.
 */
import type { TableProfile } from '../../../lambdas/core/drift/profile.ts';
import { TableAccumulator } from '../../../lambdas/core/drift/table-accumulator.ts';
import { CsvParser } from '../../../lambdas/core/readers/csv.ts';
import { readFileChunks } from '../../../lambdas/core/readers/input.ts';
import type { PartTask } from './messages.ts';

const QUOTE = 0x22;
const PROGRESS_BYTES = 8 * 1024 * 1024;

export class QuoteFound extends Error {
  override readonly name: string = 'QuoteFound';
}

/** The part's profile, finished as a part (sampled rows kept for the merge). */
export async function profilePart(
  task: PartTask,
  onProgress: (bytesRead: number, rows: number) => void,
): Promise<TableProfile> {
  const sink = new TableAccumulator(task.options, task.context);
  const parser = new CsvParser(sink, { name: task.context.name, delimiter: task.delimiter });
  parser.push(task.header);
  let bytesRead = 0;
  let reported = 0;
  for await (const chunk of readFileChunks(task.path, task.start, task.end)) {
    if (chunk.indexOf(QUOTE) >= 0) throw new QuoteFound('a quoted field');
    parser.push(chunk);
    bytesRead += chunk.length;
    if (bytesRead - reported >= PROGRESS_BYTES) {
      reported = bytesRead;
      onProgress(bytesRead, parser.rows);
    }
  }
  parser.finish();
  onProgress(bytesRead, parser.rows);
  return sink.finish({ format: 'csv', part: true });
}

/** The profile's array buffers, to move to another thread rather than copy. */
export function buffersOf(profile: TableProfile): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const features = [...profile.whole.values(), ...profile.segments.flatMap((s) => [...s.features.values()])];
  for (const feature of features) {
    for (const array of [feature.sample, feature.edges, feature.binCounts]) {
      if (array && array.buffer instanceof ArrayBuffer && array.byteLength > 0) buffers.add(array.buffer);
    }
  }
  return [...buffers];
}
