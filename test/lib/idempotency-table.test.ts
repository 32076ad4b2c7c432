import { Template } from 'aws-cdk-lib/assertions';
import { describe, it } from 'vitest';
import { IdempotencyTable } from '../../lib/idempotency-table.ts';
import { testStack } from '../helpers/cdk.ts';

describe('IdempotencyTable', () => {
  it('has the key and TTL attribute Powertools idempotency uses, with point-in-time recovery', () => {
    const stack = testStack();
    new IdempotencyTable(stack, 'Idempotency');
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
      DeletionPolicy: 'Delete',
    });
  });
});
