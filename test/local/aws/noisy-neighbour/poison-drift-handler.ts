/**
 * The drift handler shipped with driftwatch, with one fault injected: a check of a file whose key contains
 * `poison` fails every time (as a bug, or a file the function cannot read, would), so its message is
 * retried until the checks queue's redrive policy moves it to the dead-letter queue. Routing is untouched.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { handler as shipped } from '../../../../lambdas/drift/handler.ts';

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const poisoned = event.Records.filter(
    (record) => record.eventSourceARN.endsWith('.fifo') && record.body.includes('poison'),
  );
  if (poisoned.length > 0) throw new Error(`injected fault: ${poisoned.length} poison message(s)`);
  return shipped(event, context);
}
