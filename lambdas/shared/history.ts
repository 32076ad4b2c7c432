import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { HistoryItem } from './contract.ts';

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
