import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';

/**
 * Processes the records of an SQS batch one after the other and reports the ones that threw, so the event
 * source mapping (with `ReportBatchItemFailures`) deletes the others and retries only those. Records run
 * in order, one at a time: a drift check holds a file's samples in memory.
 *
 * @example
 * ```ts
 * return processSqsBatch(event.Records, (record) => processRecord(record), logger);
 * ```
 */
export async function processSqsBatch(
  records: readonly SQSRecord[],
  processRecord: (record: SQSRecord) => Promise<void>,
  logger: Logger,
): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of records) {
    logger.appendKeys({ messageId: record.messageId });
    try {
      await processRecord(record);
    } catch (error) {
      logger.error('Message left for retry', {
        error: error instanceof Error ? error : String(error),
        receiveCount: record.attributes.ApproximateReceiveCount,
      });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    } finally {
      logger.removeKeys(['messageId']);
    }
  }
  return { batchItemFailures };
}
