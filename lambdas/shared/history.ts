import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type HistoryItem, historyKey } from './contract.ts';

/**
 * Writes one history item (see {@link HistoryItem} for the table's keys).
 *
 * @example
 * ```ts
 * await putHistoryItem(documents, process.env.HISTORY_TABLE!, item);
 * ```
 */
export async function putHistoryItem(
  documents: DynamoDBDocumentClient,
  tableName: string,
  item: HistoryItem,
): Promise<void> {
  await documents.send(new PutCommand({ TableName: tableName, Item: item }));
}

/** The object a check read: a version of an S3 object, or a capture window's key (no version, no ETag). */
export interface HistorySource {
  bucket: string;
  key: string;
  versionId: string | null;
  etag: string | null;
}

/**
 * The fields every history item starts with: its table keys, the model, kind, status and time of the check,
 * and the object it read. A check adds what it found.
 *
 * @example
 * ```ts
 * const item: HistoryItem = {
 *   ...historyHead({ model: 'churn', kind: 'drift', status: 'failed', checkedAt }, found),
 *   error: failure,
 * };
 * ```
 */
export function historyHead(
  check: Pick<HistoryItem, 'model' | 'kind' | 'status' | 'checkedAt'>,
  source: HistorySource,
): HistoryItem {
  return {
    ...historyKey(check.model, check.kind, check.checkedAt, source.key),
    model: check.model,
    kind: check.kind,
    status: check.status,
    checkedAt: check.checkedAt,
    bucket: source.bucket,
    key: source.key,
    versionId: source.versionId,
    etag: source.etag,
  };
}
