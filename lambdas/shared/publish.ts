/**
 * What the checks write besides history items: JSON reports to S3 and events to EventBridge. One place, so
 * every check sends the same calls and fails the same way when EventBridge refuses an entry.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { EVENT_SOURCE } from './contract.ts';

/** EventBridge accepted the call but not every entry (throttled, internal error): worth a retry. */
export class EventPublishError extends Error {
  override readonly name = 'EventPublishError';
}

/** PutEvents takes at most 10 entries per call. */
const EVENTS_PER_CALL = 10;

/**
 * Puts one event of `detailType` per detail on the bus, ten per call, in order.
 *
 * @throws EventPublishError when EventBridge refuses any entry (naming the first error code).
 *
 * @example
 * ```ts
 * await putEvents(clients.eventBridge, config.eventBusName, DETAIL_TYPE.performanceDegraded, details);
 * ```
 */
export async function putEvents(
  eventBridge: Pick<EventBridgeClient, 'send'>,
  eventBusName: string,
  detailType: string,
  details: readonly object[],
): Promise<void> {
  for (let start = 0; start < details.length; start += EVENTS_PER_CALL) {
    const response = await eventBridge.send(
      new PutEventsCommand({
        Entries: details.slice(start, start + EVENTS_PER_CALL).map((detail) => ({
          EventBusName: eventBusName,
          Source: EVENT_SOURCE,
          DetailType: detailType,
          Detail: JSON.stringify(detail),
          Resources: [],
        })),
      }),
    );
    if ((response.FailedEntryCount ?? 0) > 0) {
      const entry = response.Entries?.find((candidate) => candidate.ErrorCode !== undefined);
      throw new EventPublishError(
        `EventBridge refused ${response.FailedEntryCount} ${detailType} events: ` +
          `${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim(),
      );
    }
  }
}

/**
 * Writes `body` as a JSON object (`application/json`) at `s3://bucket/key`.
 *
 * @example
 * ```ts
 * await putJsonObject(clients.s3, config.resultsBucket, reportKey, { ...report, checkedAt });
 * ```
 */
export async function putJsonObject(s3: Pick<S3Client, 'send'>, bucket: string, key: string, body: unknown) {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: JSON.stringify(body),
      ContentType: 'application/json',
    }),
  );
}
