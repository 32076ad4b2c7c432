import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import {
  secureBucketProps,
  secureKeyProps,
  secureQueueProps,
  secureTopicProps,
} from '../../lib/secure-defaults.ts';

describe('secureBucketProps', () => {
  it('makes a bucket SSE-S3 encrypted, SSL-only, private, versioned and kept', () => {
    expect(secureBucketProps({})).toMatchObject({
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    expect(secureBucketProps({}).serverAccessLogsBucket).toBeUndefined();
  });

  it('uses SSE-KMS with a bucket key when given a key, and logs where told', () => {
    const stack = new Stack();
    const key = new kms.Key(stack, 'Key');
    const logs = new s3.Bucket(stack, 'Logs');
    expect(
      secureBucketProps({ encryptionKey: key, serverAccessLogsBucket: logs, serverAccessLogsPrefix: 'x/' }),
    ).toMatchObject({
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'x/',
    });
  });

  it('expires old versions and abandoned uploads', () => {
    expect(secureBucketProps({ noncurrentVersionExpiration: Duration.days(3) }).lifecycleRules).toEqual([
      {
        id: 'expire-old-versions-and-uploads',
        abortIncompleteMultipartUploadAfter: Duration.days(7),
        noncurrentVersionExpiration: Duration.days(3),
      },
    ]);
  });

  it('lets an explicit override win', () => {
    expect(secureBucketProps({}, { versioned: false }).versioned).toBe(false);
  });
});

describe('other secure defaults', () => {
  it('encrypts queues and refuses requests without TLS', () => {
    expect(secureQueueProps({ retentionPeriod: Duration.days(1) })).toEqual({
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(1),
    });
  });

  it('encrypts topics with the given key and refuses publishers without TLS', () => {
    const key = new kms.Key(new Stack(), 'Key');
    expect(secureTopicProps(key)).toEqual({ masterKey: key, enforceSSL: true });
  });

  it('rotates keys and keeps them', () => {
    expect(secureKeyProps('k')).toEqual({
      description: 'k',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  });
});
