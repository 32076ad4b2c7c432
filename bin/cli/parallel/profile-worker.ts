/**
 * Worker thread of {@link profileCsvInParallel}: profiles byte ranges of a CSV file. A range holding a quote
 * character is declined, since a line break there may sit inside a quoted field; so is any input error,
 * which the single-threaded reader then reports with its exact line.
 */
import { createReadStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { TableAccumulator } from '../../../lambdas/core/drift/table-accumulator.ts';
import { CsvParser } from '../../../lambdas/core/readers/csv.ts';
import type { PartTask, WorkerMessage } from './messages.ts';

const QUOTE = 0x22;
const PROGRESS_BYTES = 8 * 1024 * 1024;

class QuoteFound extends Error {
  override readonly name: string = 'QuoteFound';
}

async function profilePart(task: PartTask): Promise<WorkerMessage> {
  const sink = new TableAccumulator(task.options, task.context);
  const parser = new CsvParser(sink, { name: task.context.name, delimiter: task.delimiter });
  parser.push(task.header);
  let bytesRead = 0;
  let reported = 0;
  const stream = createReadStream(task.path, {
    start: task.start,
    end: task.end - 1,
    highWaterMark: 1 << 20,
  });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (chunk.indexOf(QUOTE) >= 0) throw new QuoteFound('a quoted field');
    parser.push(chunk);
    bytesRead += chunk.length;
    if (bytesRead - reported >= PROGRESS_BYTES) {
      reported = bytesRead;
      parentPort!.postMessage({ type: 'progress', part: task.part, bytesRead, rows: parser.rows });
    }
  }
  parser.finish();
  parentPort!.postMessage({ type: 'progress', part: task.part, bytesRead, rows: parser.rows });
  return { type: 'done', part: task.part, profile: sink.finish({ format: 'csv' }) };
}

/** The profile's array buffers, moved to the main thread rather than copied. */
function buffersOf(message: WorkerMessage): ArrayBuffer[] {
  if (message.type !== 'done') return [];
  const buffers = new Set<ArrayBuffer>();
  const features = [
    ...message.profile.whole.values(),
    ...message.profile.segments.flatMap((s) => [...s.features.values()]),
  ];
  for (const feature of features) {
    for (const array of [feature.sample, feature.edges, feature.binCounts]) {
      if (array && array.buffer instanceof ArrayBuffer && array.byteLength > 0) buffers.add(array.buffer);
    }
  }
  return [...buffers];
}

parentPort!.on('message', (task: PartTask) => {
  profilePart(task).then(
    (message) => parentPort!.postMessage(message, buffersOf(message)),
    (error: unknown) =>
      parentPort!.postMessage({
        type: 'declined',
        part: task.part,
        reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      } satisfies WorkerMessage),
  );
});
