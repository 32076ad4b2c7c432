import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ResultsStore } from '../../lib/results-store.ts';
import { testStack } from '../helpers/cdk.ts';

let store: ResultsStore;
let template: Template;

beforeAll(() => {
  const stack = testStack();
  const logs = new s3.Bucket(stack, 'Logs');
  store = new ResultsStore(stack, 'Results', {
    serverAccessLogsBucket: logs,
    historyTimeToLiveAttribute: 'expiresAt',
  });
  template = Template.fromStack(stack);
});

describe('ResultsStore', () => {
  it('keeps reports under reports/ by default', () => {
    expect(store.reportsPrefix).toBe('reports/');
  });

  it('has a history table keyed as the contract says, on demand, with point-in-time recovery', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('puts reports in a secure bucket logged to the given bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { LogFilePrefix: 'results/' },
    });
    // The given log bucket and the results bucket: no extra log bucket.
    template.resourceCountIs('AWS::S3::Bucket', 2);
  });

  it('has no TTL unless asked', () => {
    const stack = testStack();
    new ResultsStore(stack, 'Results');
    const table = Object.values(Template.fromStack(stack).findResources('AWS::DynamoDB::Table'))[0]!;
    expect(table['Properties']['TimeToLiveSpecification']).toBeUndefined();
  });
});
