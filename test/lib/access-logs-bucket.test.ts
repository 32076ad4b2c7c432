import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { AccessLogsBucket } from '../../lib/access-logs-bucket.ts';
import { testStack } from '../helpers/cdk.ts';

let template: Template;
let logsId: string;

beforeAll(() => {
  const stack = testStack();
  const logs = new AccessLogsBucket(stack, 'AccessLogs', { retention: Duration.days(90) });
  new s3.Bucket(stack, 'Source', { serverAccessLogsBucket: logs.bucket, serverAccessLogsPrefix: 'source/' });
  template = Template.fromStack(stack);
  logsId = stack.getLogicalId(logs.bucket.node.defaultChild as s3.CfnBucket);
});

describe('AccessLogsBucket', () => {
  it('is SSE-S3 encrypted (S3 cannot deliver access logs to SSE-KMS), private and expires logs', () => {
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 90, Status: 'Enabled' })] },
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('lets S3 log delivery write by bucket policy, only for the source bucket, and refuses non-TLS requests', () => {
    const policy = template.findResources('AWS::S3::BucketPolicy', {
      Properties: { Bucket: { Ref: logsId } },
    });
    const statements = Object.values(policy)[0]!['Properties']['PolicyDocument']['Statement'];
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Action: 's3:PutObject',
        Condition: expect.objectContaining({ ArnLike: { 'aws:SourceArn': expect.anything() } }),
      }),
    );
  });

  it('uses no ACL', () => {
    const bucket = template.findResources('AWS::S3::Bucket')[logsId]!;
    expect(bucket['Properties']['AccessControl']).toBeUndefined();
  });
});
