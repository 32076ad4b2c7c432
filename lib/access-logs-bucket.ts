import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { type SecureBucketOptions, secureBucketProps } from './secure-defaults.ts';

export interface AccessLogsBucketProps {
  /** How long access logs are kept. @default 365 days */
  retention?: Duration;
}

/**
 * The bucket that receives the S3 server access logs of the other buckets. SSE-S3 encrypted (S3 cannot
 * deliver access logs to an SSE-KMS bucket), private, SSL-only; log delivery is allowed by bucket policy, not
 * by ACL. cdk-nag accepts it without access logs of its own because other buckets log to it.
 *
 * @example
 * ```ts
 * const logs = new AccessLogsBucket(this, 'AccessLogs');
 * new LandingBucket(this, 'Landing', { serverAccessLogsBucket: logs.bucket });
 * ```
 */
export class AccessLogsBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsBucketProps = {}) {
    super(scope, id);
    // Grant log delivery with a bucket policy (the current AWS advice) whatever the app's feature flags.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const retention = props.retention ?? Duration.days(365);
    this.bucket = new s3.Bucket(
      this,
      'Bucket',
      secureBucketProps(
        {},
        {
          lifecycleRules: [
            {
              id: 'expire-access-logs',
              expiration: retention,
              noncurrentVersionExpiration: Duration.days(1),
              abortIncompleteMultipartUploadAfter: Duration.days(1),
            },
          ],
        },
      ),
    );
  }
}

export interface AccessLoggedBucketOptions extends SecureBucketOptions {
  /** @default RemovalPolicy.RETAIN */
  removalPolicy?: RemovalPolicy;
}

/**
 * A bucket with driftwatch's secure defaults ({@link secureBucketProps}), created as `Bucket` under `scope`,
 * whose access logs go to `serverAccessLogsBucket`, or to a new {@link AccessLogsBucket} `AccessLogs` under
 * `scope` when none is given.
 */
export function accessLoggedBucket(scope: Construct, options: AccessLoggedBucketOptions): s3.Bucket {
  const { removalPolicy, ...bucketOptions } = options;
  const serverAccessLogsBucket =
    options.serverAccessLogsBucket ?? new AccessLogsBucket(scope, 'AccessLogs').bucket;
  return new s3.Bucket(
    scope,
    'Bucket',
    secureBucketProps(
      { ...bucketOptions, serverAccessLogsBucket },
      removalPolicy === undefined ? {} : { removalPolicy },
    ),
  );
}
