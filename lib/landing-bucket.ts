import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { accessLoggedBucket } from './access-logs-bucket.ts';

export interface LandingBucketProps {
  /** KMS key of the bucket; uploaders then need `kms:GenerateDataKey` on it. @default SSE-S3 encryption */
  encryptionKey?: kms.IKey;
  /** Where the bucket's access logs go. @default a new {@link AccessLogsBucket} */
  serverAccessLogsBucket?: s3.IBucket;
  /** @default "landing/" */
  serverAccessLogsPrefix?: string;
  /** How long a replaced or deleted file version is kept. @default 30 days */
  noncurrentVersionExpiration?: Duration;
  /** @default RemovalPolicy.RETAIN */
  removalPolicy?: RemovalPolicy;
}

/**
 * The bucket models' files land in: incoming data, golden datasets and baseline profiles, each model under its
 * own prefixes. Every object created is announced on the default EventBridge bus, where a
 * {@link DriftDetector} per model picks up its incoming prefix.
 *
 * @example
 * ```ts
 * const landing = new LandingBucket(this, 'Landing', { encryptionKey: key });
 * landing.bucket.grantPut(uploaderRole, 'churn/incoming/*');
 * ```
 */
export class LandingBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LandingBucketProps = {}) {
    super(scope, id);
    this.bucket = accessLoggedBucket(this, {
      encryptionKey: props.encryptionKey,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsPrefix ?? 'landing/',
      noncurrentVersionExpiration: props.noncurrentVersionExpiration,
      removalPolicy: props.removalPolicy,
    });
    // Set on the CloudFormation resource itself: the `eventBridgeEnabled` prop would deploy a custom-resource
    // Lambda, with a wildcard IAM policy, to do what CloudFormation does natively.
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
  }
}
