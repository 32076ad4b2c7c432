/**
 * The secure defaults every driftwatch construct uses, in one place: a bucket is encrypted, SSL-only (TLS
 * 1.2+), private, versioned and access-logged; a queue is encrypted and SSL-only; a topic is KMS-encrypted and
 * SSL-only; a key rotates. A construct applies them through these functions and a caller's override is
 * explicit (the `overrides` argument wins).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';

/** How long a replaced or deleted object version is kept before S3 removes it. */
export const DEFAULT_NONCURRENT_VERSION_EXPIRATION = Duration.days(30);

export interface SecureBucketOptions {
  /** KMS key of the bucket (SSE-KMS with an S3 bucket key). @default SSE-S3 */
  encryptionKey?: kms.IKey;
  /** Where server access logs go; only the access log bucket itself has none. */
  serverAccessLogsBucket?: s3.IBucket;
  /** Key prefix of this bucket's access logs in `serverAccessLogsBucket`. */
  serverAccessLogsPrefix?: string;
  /** @default {@link DEFAULT_NONCURRENT_VERSION_EXPIRATION} */
  noncurrentVersionExpiration?: Duration;
}

/** Props of an encrypted, SSL-only, private, versioned bucket whose incomplete uploads and old versions expire. */
export function secureBucketProps(
  options: SecureBucketOptions,
  overrides: s3.BucketProps = {},
): s3.BucketProps {
  const { encryptionKey } = options;
  return {
    encryption: encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
    ...(encryptionKey && { encryptionKey, bucketKeyEnabled: true }),
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    ...(options.serverAccessLogsBucket && {
      serverAccessLogsBucket: options.serverAccessLogsBucket,
      serverAccessLogsPrefix: options.serverAccessLogsPrefix,
    }),
    lifecycleRules: [
      {
        id: 'expire-old-versions-and-uploads',
        abortIncompleteMultipartUploadAfter: Duration.days(7),
        noncurrentVersionExpiration:
          options.noncurrentVersionExpiration ?? DEFAULT_NONCURRENT_VERSION_EXPIRATION,
      },
    ],
    removalPolicy: RemovalPolicy.RETAIN,
    ...overrides,
  };
}

/** Props of an SSE-SQS encrypted queue that refuses requests without TLS. */
export function secureQueueProps(overrides: sqs.QueueProps = {}): sqs.QueueProps {
  return { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, ...overrides };
}

/**
 * Props of a KMS-encrypted topic that refuses publishers without TLS. The key must let the publishing service
 * use it (see {@link Alerting}, which allows CloudWatch).
 */
export function secureTopicProps(masterKey: kms.IKey, overrides: sns.TopicProps = {}): sns.TopicProps {
  return { masterKey, enforceSSL: true, ...overrides };
}

/** Props of a customer-managed key with yearly rotation, kept when the stack is deleted. */
export function secureKeyProps(description: string, overrides: kms.KeyProps = {}): kms.KeyProps {
  return { description, enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN, ...overrides };
}
