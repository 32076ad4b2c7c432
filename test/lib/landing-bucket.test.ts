import { Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { LandingBucket } from '../../lib/landing-bucket.ts';
import { testStack } from '../helpers/cdk.ts';

let stack: Stack;
let landing: LandingBucket;
let template: Template;
let bucketProperties: Record<string, unknown>;

beforeAll(() => {
  stack = testStack();
  const key = new kms.Key(stack, 'Key');
  landing = new LandingBucket(stack, 'Landing', {
    encryptionKey: key,
    noncurrentVersionExpiration: Duration.days(10),
  });
  template = Template.fromStack(stack);
  const id = stack.getLogicalId(landing.bucket.node.defaultChild as s3.CfnBucket);
  bucketProperties = template.findResources('AWS::S3::Bucket')[id]!['Properties'];
});

describe('LandingBucket', () => {
  it('sends object events to EventBridge natively, without a custom resource', () => {
    expect(bucketProperties['NotificationConfiguration']).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });

  it('is SSE-KMS encrypted with the given key and a bucket key', () => {
    expect(bucketProperties['BucketEncryption']).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
          },
        },
      ],
    });
  });

  it('is versioned, private, access-logged and expires old versions', () => {
    expect(bucketProperties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { LogFilePrefix: 'landing/' },
      LifecycleConfiguration: {
        Rules: [expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 10 } })],
      },
    });
    // Alone, it brings its own access log bucket.
    template.resourceCountIs('AWS::S3::Bucket', 2);
  });

  it('refuses requests without TLS 1.2', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: stack.getLogicalId(landing.bucket.node.defaultChild as s3.CfnBucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  it('is SSE-S3 encrypted without a key', () => {
    const other = testStack();
    const plain = new LandingBucket(other, 'Landing');
    const properties =
      Template.fromStack(other).findResources('AWS::S3::Bucket')[
        other.getLogicalId(plain.bucket.node.defaultChild as s3.CfnBucket)
      ]!['Properties'];
    expect(properties['BucketEncryption']).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });
});
