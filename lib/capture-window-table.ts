import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { CAPTURE } from '../lambdas/shared/contract.ts';

/**
 * Data Capture windows of every model (see `lambdas/drift/capture.ts`): per window of an endpoint variant,
 * its row counter, one item per capture file and one per part with its status and check version
 * (`pk` = `<model>#<endpoint>#<variant>#<window start>`, `sk`). The `due` index holds only the open parts
 * (partition `dueShard`, sort `due`), so the sweep finds the windows to close with one Query. Items expire
 * (`expiresAt`) weeks after their window; the partial profiles themselves are in the results bucket.
 */
export class CaptureWindowTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiresAt',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Window bookkeeping that expires by itself; the reports and history are kept elsewhere.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: CAPTURE.dueIndex,
      partitionKey: { name: 'dueShard', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'due', type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
  }
}
