import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { TableInput } from '../../lambdas/core/readers/input.ts';
import { findObject, s3TableInput } from '../../lambdas/shared/s3-input.ts';

/** An S3 location: `s3://bucket/key`. */
export interface S3Location {
  bucket: string;
  key: string;
}

/** Thrown for a string that is not an `s3://bucket/key` URI. */
export class S3UriError extends Error {
  override readonly name = 'S3UriError';
}

export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (match === null) throw new S3UriError(`${JSON.stringify(uri)} is not an s3:// URI`);
  return { bucket: match[1]!, key: match[2]! };
}

export const s3Uri = (location: S3Location) => `s3://${location.bucket}/${location.key}`;

/** Joins an S3 prefix URI and a relative key with exactly one slash between them. */
export const joinS3 = (prefix: string, ...parts: string[]) =>
  [prefix.replace(/\/+$/, ''), ...parts.map((part) => part.replace(/^\/+|\/+$/g, ''))].join('/');

/**
 * The keys under a prefix, as SageMaker's `S3Prefix` data type reads them: every object whose key starts
 * with the prefix, in key order, except "folder" markers (keys ending in `/`).
 */
export async function listKeys(s3: S3Client, location: S3Location): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: location.bucket, Prefix: location.key, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? [])
      if (object.Key && !object.Key.endsWith('/')) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys.sort();
}

/** The objects under an `S3Prefix` URI as tables to read with the core readers. */
export async function prefixInputs(s3: S3Client, uri: string): Promise<TableInput[]> {
  const location = parseS3Uri(uri);
  const inputs: TableInput[] = [];
  for (const key of await listKeys(s3, location)) {
    inputs.push(s3TableInput(s3, await findObject(s3, location.bucket, [key], null)));
  }
  return inputs;
}

export async function getBytes(s3: S3Client, location: S3Location): Promise<Uint8Array> {
  const response = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
  return response.Body!.transformToByteArray();
}

export async function putBytes(
  s3: S3Client,
  location: S3Location,
  body: Uint8Array | string,
  contentType: string,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: location.bucket,
      Key: location.key,
      Body: body,
      ContentType: contentType,
    }),
  );
}
