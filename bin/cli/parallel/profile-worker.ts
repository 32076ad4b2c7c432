/**
 * Worker thread of {@link parallelProfiler}: profiles byte ranges of a CSV file with {@link profilePart}.
 * Any failure declines the part, and the single-threaded reader then reports input errors with their exact
 * line.
 */
import { parentPort } from 'node:worker_threads';
import type { PartTask, WorkerMessage } from './messages.ts';
import { buffersOf, profilePart } from './profile-part.ts';

parentPort!.on('message', (task: PartTask) => {
  const progress = (bytesRead: number, rows: number) =>
    parentPort!.postMessage({ type: 'progress', part: task.part, bytesRead, rows } satisfies WorkerMessage);
  profilePart(task, progress).then(
    (profile) =>
      parentPort!.postMessage(
        { type: 'done', part: task.part, profile } satisfies WorkerMessage,
        buffersOf(profile),
      ),
    (error: unknown) =>
      parentPort!.postMessage({
        type: 'declined',
        part: task.part,
        reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      } satisfies WorkerMessage),
  );
});
