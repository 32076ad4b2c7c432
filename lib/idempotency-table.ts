import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/**
 * The table Powertools idempotency keeps its records in (partition key `id`, TTL attribute `expiration`), so
 * an S3 event delivered twice is checked once. One table serves every function of a stack: Powertools
 * prefixes each key with the function name.
 */
export class IdempotencyTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Holds only in-flight and recently finished keys that expire within hours: nothing to keep.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
