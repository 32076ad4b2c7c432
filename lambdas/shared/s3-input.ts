import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LimitExceededError } from '../core/errors.ts';
import type { TableInput } from '../core/readers/input.ts';

/** The object a notification announced is not there (deleted since, or never under that key). */
export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | null;

  constructor(bucket: string, key: string, versionId: string | null, options: { forbidden?: boolean } = {}) {
    const version = versionId === null ? '' : ` (version ${versionId})`;
    super(
      `s3://${bucket}/${key}${version} does not exist` +
        (options.forbidden
          ? ' or may not be read (S3 answers 403 for a missing key without s3:ListBucket)'
          : ''),
    );
    this.bucket = bucket;
    this.key = key;
    this.versionId = versionId;
  }
}

/** One version of an object, as HeadObject saw it. */
export interface S3ObjectVersion {
  bucket: string;
  key: string;
  /** The version read; null in a bucket without versioning. */
  versionId: string | null;
  /** ETag without quotes. */
  etag: string | null;
  size: number;
}

const statusOf = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;

/** True for the 404s of S3: `NotFound` (HEAD), `NoSuchKey`, `NoSuchVersion`. */
export function isNotFound(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return statusOf(error) === 404 || ['NotFound', 'NoSuchKey', 'NoSuchVersion'].includes(error.name);
}

/**
 * True for a 403 on HEAD: what S3 answers for a missing key when the caller may not list the bucket, and
 * also for a key the caller may not read.
 */
export function isForbidden(error: unknown): boolean {
  return error instanceof Error && (statusOf(error) === 403 || error.name === 'Forbidden');
}

const unquote = (etag: string | undefined) => (etag === undefined ? null : etag.replace(/^"(.*)"$/, '$1'));

/**
 * HEADs the first of `keys` that exists (in the given version when there is one). A 403 counts as "not
 * this key" too: without s3:ListBucket, that is how S3 says a key is missing.
 *
 * @throws ObjectNotFoundError when none does; other S3 errors pass through unchanged.
 *
 * @example
 * ```ts
 * const object = await findObject(s3, 'data', ['incoming/a+b.csv', 'incoming/a b.csv'], null);
 * ```
 */
export async function findObject(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
  versionId: string | null,
): Promise<S3ObjectVersion> {
  let forbidden = false;
  for (const key of keys) {
    try {
      const head = await s3.send(
        new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId ?? undefined }),
      );
      return {
        bucket,
        key,
        versionId: head.VersionId ?? versionId,
        etag: unquote(head.ETag),
        size: head.ContentLength ?? 0,
      };
    } catch (error) {
      if (isForbidden(error)) forbidden = true;
      else if (!isNotFound(error)) throw error;
    }
  }
  throw new ObjectNotFoundError(bucket, keys[0] ?? '', versionId, { forbidden });
}

/**
 * Refuses an object above the model's `maxObjectBytes` before it is read.
 *
 * @throws LimitExceededError naming the file and the limit.
 */
export function checkObjectSize(found: S3ObjectVersion, maxObjectBytes: number): void {
  if (found.size > maxObjectBytes) {
    throw new LimitExceededError(
      { file: found.key },
      `the object is ${found.size} bytes, above the limit of ${maxObjectBytes} bytes (maxObjectBytes)`,
      maxObjectBytes,
    );
  }
}

/**
 * One object version as a {@link TableInput}: `open` streams it with GetObject, `readRange` (used for
 * Parquet) makes ranged GETs. Every request names the version, or, without versioning, requires the ETag
 * seen by HEAD, so an overwrite while the file is read fails the read instead of mixing two files.
 *
 * @example
 * ```ts
 * const input = s3TableInput(s3, await findObject(s3, bucket, [key], versionId));
 * await readTable(input, sink);
 * ```
 */
export function s3TableInput(s3: S3Client, object: S3ObjectVersion): TableInput {
  const target = {
    Bucket: object.bucket,
    Key: object.key,
    ...(object.versionId !== null
      ? { VersionId: object.versionId }
      : object.etag !== null
        ? { IfMatch: `"${object.etag}"` }
        : {}),
  };
  const get = async (range?: string) => {
    try {
      const response = await s3.send(new GetObjectCommand({ ...target, Range: range }));
      if (response.Body === undefined)
        throw new ObjectNotFoundError(object.bucket, object.key, object.versionId);
      return response.Body;
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(object.bucket, object.key, object.versionId);
      throw error;
    }
  };
  return {
    name: object.key,
    size: object.size,
    open: async function* () {
      const body = await get();
      yield* body as AsyncIterable<Uint8Array>;
    },
    readRange: async (start, end) => {
      if (end <= start) return new Uint8Array(0);
      const body = await get(`bytes=${start}-${end - 1}`);
      return body.transformToByteArray();
    },
  };
}
