/**
 * A model's incident record in the history table (`pk` = `INCIDENT#<name>`, `sk` = `incident`: its own
 * partition, so a query of the model's checks (`MODEL#<name>`) never returns it) and the reads the paging
 * decisions make there. The rules are in
 * `lambdas/core/alerting/incident.ts`; this module only stores.
 */
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type IncidentRecord,
  SIGNALS,
  type SignalName,
  type SignalState,
  signalChange,
} from '../core/alerting/incident.ts';
import type { HistoryItem } from './contract.ts';

/** Sort key of a model's incident record. */
export const INCIDENT_SORT_KEY = 'incident';

/** The attribute of a signal in the record: `signal:<name>`. */
const attribute = (name: SignalName) => `signal:${name}`;

/** The key of a model's incident record. */
export const incidentKey = (model: string) => ({ pk: `INCIDENT#${model}`, sk: INCIDENT_SORT_KEY });

function recordOf(item: Record<string, unknown> | undefined): IncidentRecord | undefined {
  if (item === undefined) return undefined;
  const signals: IncidentRecord['signals'] = {};
  for (const name of SIGNALS) {
    const state = item[attribute(name)] as SignalState | undefined;
    if (state !== undefined) signals[name] = state;
  }
  return {
    signals,
    ...(typeof item['openedAt'] === 'string' ? { openedAt: item['openedAt'] } : {}),
    ...(typeof item['notifiedAt'] === 'string' ? { notifiedAt: item['notifiedAt'] } : {}),
  };
}

/**
 * Sets one signal of a model's incident. One atomic write per signal (concurrent writers of other signals
 * do not overwrite it); DynamoDB orders writes to an item, so exactly one writer sees the incident open.
 *
 * @returns whether this write opened or closed the incident, and the record after it.
 */
export async function setSignal(
  documents: DynamoDBDocumentClient,
  table: string,
  model: string,
  name: SignalName,
  state: SignalState,
): Promise<ReturnType<typeof signalChange>> {
  const response = await documents.send(
    new UpdateCommand({
      TableName: table,
      Key: incidentKey(model),
      UpdateExpression: 'SET #signal = :state, #model = :model',
      ExpressionAttributeNames: { '#signal': attribute(name), '#model': 'model' },
      ExpressionAttributeValues: { ':state': state, ':model': model },
      ReturnValues: 'ALL_OLD',
    }),
  );
  const change = signalChange(recordOf(response.Attributes), name, state);
  if (change.opened) {
    await documents.send(
      new UpdateCommand({
        TableName: table,
        Key: incidentKey(model),
        UpdateExpression: 'SET openedAt = :at',
        ExpressionAttributeValues: { ':at': state.at },
      }),
    );
  }
  return change;
}

/** A model's incident record (strongly consistent), or undefined when it never had one. */
export async function readIncident(
  documents: DynamoDBDocumentClient,
  table: string,
  model: string,
): Promise<IncidentRecord | undefined> {
  const response = await documents.send(
    new GetCommand({ TableName: table, Key: incidentKey(model), ConsistentRead: true }),
  );
  return recordOf(response.Item);
}

/**
 * Records that on-call was paged at `at`, unless a page at or after it is already recorded (two notifier
 * runs for one incident page once).
 *
 * @returns false when another run recorded its page first
 */
export async function markNotified(
  documents: DynamoDBDocumentClient,
  table: string,
  model: string,
  at: string,
): Promise<boolean> {
  try {
    await documents.send(
      new UpdateCommand({
        TableName: table,
        Key: incidentKey(model),
        UpdateExpression: 'SET notifiedAt = :at',
        ConditionExpression: 'attribute_not_exists(notifiedAt) OR notifiedAt < :at',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/**
 * The model's latest `limit` succeeded checks of `kind`, newest first: history items whose sort key starts
 * with `<kind>#` (failed checks are skipped: a file that could not be checked is no evidence either way).
 * Strongly consistent, so the check just written is among them.
 */
export async function latestChecks(
  documents: DynamoDBDocumentClient,
  table: string,
  model: string,
  kind: HistoryItem['kind'],
  limit: number,
): Promise<HistoryItem[]> {
  const checks: HistoryItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :kind)',
        ExpressionAttributeValues: { ':pk': `MODEL#${model}`, ':kind': `${kind}#` },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: limit + 10,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of (page.Items ?? []) as HistoryItem[]) {
      if (item.status === 'succeeded') checks.push(item);
      if (checks.length === limit) return checks;
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return checks;
}
