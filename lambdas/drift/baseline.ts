import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { profileFromJson, type TableProfile } from '../core/drift/profile.ts';
import { readAllText } from '../core/readers/decompress.ts';
import { isForbidden, isNotFound } from '../shared/s3-input.ts';

/** The model's baseline profile is not in the data bucket: every file fails until it is uploaded. */
export class BaselineProfileMissingError extends Error {
  override readonly name = 'BaselineProfileMissingError';
  readonly bucket: string;
  readonly key: string;

  constructor(bucket: string, key: string, options: { forbidden?: boolean } = {}) {
    super(
      `the baseline profile s3://${bucket}/${key} does not exist` +
        (options.forbidden
          ? ' or may not be read (S3 answers 403 for a missing key without s3:ListBucket)'
          : '') +
        '; upload one made by `driftwatch profile`',
    );
    this.bucket = bucket;
    this.key = key;
  }
}

/** Largest baseline profile read, after decompression: profiles hold samples, not data, so this is ample. */
export const MAX_PROFILE_BYTES = 1024 ** 3;

/**
 * The baseline profile of a model, kept between invocations of one execution environment. Each load costs
 * a HEAD; the profile is downloaded and parsed again only when its ETag changed (a new baseline).
 */
export class BaselineProfileCache {
  private cached: {
    bucket: string;
    key: string;
    etag: string;
    profile: TableProfile;
    version: string;
  } | null = null;
  private readonly s3: S3Client;

  constructor(s3: S3Client) {
    this.s3 = s3;
  }

  /**
   * The profile at `s3://bucket/key` (JSON, optionally gzip).
   *
   * @throws BaselineProfileMissingError when there is no such object.
   * @throws InputError when it is not a readable driftwatch profile.
   */
  async load(bucket: string, key: string): Promise<TableProfile> {
    return (await this.loadVersioned(bucket, key)).profile;
  }

  /**
   * The profile and its version: the object's ETag, or without one a hash of its content. Profiles made
   * against one version (bins over its edges) are merged only with profiles made against the same version.
   */
  async loadVersioned(bucket: string, key: string): Promise<{ profile: TableProfile; version: string }> {
    let etag: string;
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      etag = head.ETag ?? '';
    } catch (error) {
      if (isNotFound(error)) throw new BaselineProfileMissingError(bucket, key);
      if (isForbidden(error)) throw new BaselineProfileMissingError(bucket, key, { forbidden: true });
      throw error;
    }
    const cached = this.cached;
    if (
      cached !== null &&
      cached.bucket === bucket &&
      cached.key === key &&
      cached.etag === etag &&
      etag !== ''
    ) {
      return cached;
    }
    const { profile, text } = await this.download(bucket, key, etag);
    const version = etag !== '' ? etag : `sha256:${createHash('sha256').update(text).digest('hex')}`;
    this.cached = { bucket, key, etag, profile, version };
    return { profile, version };
  }

  private async download(
    bucket: string,
    key: string,
    etag: string,
  ): Promise<{ profile: TableProfile; text: string }> {
    const name = `s3://${bucket}/${key}`;
    let body: AsyncIterable<Uint8Array>;
    try {
      const response = await this.s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, ...(etag === '' ? {} : { IfMatch: etag }) }),
      );
      if (response.Body === undefined) throw new BaselineProfileMissingError(bucket, key);
      body = response.Body as AsyncIterable<Uint8Array>;
    } catch (error) {
      if (isNotFound(error)) throw new BaselineProfileMissingError(bucket, key);
      throw error;
    }
    const text = await readAllText(body, { name, maxDecompressedBytes: MAX_PROFILE_BYTES });
    return { profile: profileFromJson(text, name), text };
  }
}
