/**
 * "Object Created" notifications as they reach a queue: EventBridge events from S3 (what driftwatch
 * deploys) and, so a queue fed by S3 event notifications works too, the `Records` format of S3 itself.
 */

/** The body of a queue message is not an S3 object-created notification we can act on. */
export class EventFormatError extends Error {
  override readonly name = 'EventFormatError';
}

/** One created object, as a notification describes it. */
export interface CreatedObject {
  bucket: string;
  /** The key exactly as the notification carried it. */
  eventKey: string;
  /**
   * Keys the object may have, most likely first: S3 event notifications URL-encode keys (spaces as `+`),
   * EventBridge events carry them as they are. Resolving the first one that exists copes with either.
   */
  keyCandidates: string[];
  versionId: string | null;
  /** ETag without quotes. */
  etag: string | null;
  size: number | null;
  sequencer: string | null;
  format: 'eventbridge' | 's3-notification';
}

/**
 * An object no notification announced (a capture window's key, say), as a failure record names it: no
 * version, ETag, size or sequencer.
 */
export function unannouncedObject(bucket: string, key: string): CreatedObject {
  return {
    bucket,
    eventKey: key,
    keyCandidates: [key],
    versionId: null,
    etag: null,
    size: null,
    sequencer: null,
    format: 'eventbridge',
  };
}

/**
 * Decodes a key the way S3 event notifications encode it (`application/x-www-form-urlencoded`: `+` for a
 * space, `%XX` for UTF-8 bytes); undefined when it is not validly encoded.
 *
 * @example
 * ```ts
 * formDecodeKey('incoming/red+flower%2B1.csv'); // 'incoming/red flower+1.csv'
 * ```
 */
export function formDecodeKey(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

const unique = (values: (string | undefined)[]) => [...new Set(values.filter((v) => v !== undefined))];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function unquote(etag: string | null): string | null {
  return etag === null ? null : etag.replace(/^"(.*)"$/, '$1');
}

/** Without a version, an ETag or a sequencer two uploads of one key could not be told apart. */
function checkIdentifiable(object: CreatedObject): CreatedObject {
  if (object.versionId === null && object.etag === null && object.sequencer === null) {
    throw new EventFormatError(
      `the event for ${JSON.stringify(object.eventKey)} has no version id, ETag or sequencer`,
    );
  }
  return object;
}

function fromEventBridge(event: Record<string, unknown>): CreatedObject {
  if (event['detail-type'] !== 'Object Created') {
    throw new EventFormatError(
      `expected an "Object Created" event, got ${JSON.stringify(event['detail-type'])}`,
    );
  }
  const detail = event['detail'];
  const bucket = isRecord(detail) && isRecord(detail['bucket']) ? text(detail['bucket']['name']) : null;
  const object = isRecord(detail) && isRecord(detail['object']) ? detail['object'] : null;
  const key = object === null ? null : text(object['key']);
  if (bucket === null || object === null || key === null) {
    throw new EventFormatError('the event has no detail.bucket.name or detail.object.key');
  }
  return checkIdentifiable({
    bucket,
    eventKey: key,
    keyCandidates: unique([key, formDecodeKey(key)]),
    versionId: text(object['version-id']),
    etag: unquote(text(object['etag'])),
    size: typeof object['size'] === 'number' ? object['size'] : null,
    sequencer: text(object['sequencer']),
    format: 'eventbridge',
  });
}

function fromS3Record(record: unknown, index: number): CreatedObject | null {
  if (!isRecord(record) || !isRecord(record['s3'])) {
    throw new EventFormatError(`Records[${index}] is not an S3 event record`);
  }
  const eventName = typeof record['eventName'] === 'string' ? record['eventName'] : '';
  if (!eventName.startsWith('ObjectCreated:')) return null;
  const s3 = record['s3'];
  const bucket = isRecord(s3['bucket']) ? text(s3['bucket']['name']) : null;
  const object = isRecord(s3['object']) ? s3['object'] : null;
  const key = object === null ? null : text(object['key']);
  if (bucket === null || object === null || key === null) {
    throw new EventFormatError(`Records[${index}] has no s3.bucket.name or s3.object.key`);
  }
  return checkIdentifiable({
    bucket,
    eventKey: key,
    keyCandidates: unique([formDecodeKey(key), key]),
    versionId: text(object['versionId']),
    etag: unquote(text(object['eTag'])),
    size: typeof object['size'] === 'number' ? object['size'] : null,
    sequencer: text(object['sequencer']),
    format: 's3-notification',
  });
}

/**
 * The created objects a queue message announces: one for an EventBridge event, any number for an S3
 * notification, none for the `s3:TestEvent` S3 sends when a notification is configured.
 *
 * @throws EventFormatError when the body is not JSON or not one of those shapes.
 *
 * @example
 * ```ts
 * const [object] = parseCreatedObjects(record.body);
 * ```
 */
export function parseCreatedObjects(body: string): CreatedObject[] {
  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    throw new EventFormatError('the message body is not JSON');
  }
  if (!isRecord(message)) throw new EventFormatError('the message body is not a JSON object');
  if (message['source'] === 'aws.s3' || 'detail-type' in message) return [fromEventBridge(message)];
  if (message['Event'] === 's3:TestEvent') return [];
  if (Array.isArray(message['Records'])) {
    return message['Records'].map(fromS3Record).filter((object) => object !== null);
  }
  throw new EventFormatError('the message is neither an EventBridge event nor an S3 event notification');
}

/**
 * What makes two notifications the same upload: the bucket, the key and the object version, or, in a
 * bucket without versioning, the ETag and the sequencer S3 gives each write.
 *
 * @example
 * ```ts
 * objectIdentity(object); // 'data-bucket/incoming/day 1.csv?versionId=3HL4kqtJ'
 * ```
 */
export function objectIdentity(object: CreatedObject): string {
  const version =
    object.versionId !== null
      ? `versionId=${object.versionId}`
      : `etag=${object.etag ?? ''}&sequencer=${object.sequencer ?? ''}`;
  return `${object.bucket}/${object.eventKey}?${version}`;
}
