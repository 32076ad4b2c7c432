import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { accessLoggedBucket } from './access-logs-bucket.ts';
import { DEFAULT_REPORTS_PREFIX } from './config/validate.ts';

export interface ResultsStoreProps {
  /** KMS key of the results bucket. @default SSE-S3 encryption */
  encryptionKey?: kms.IKey;
  /** Where the bucket's access logs go. @default a new {@link AccessLogsBucket} */
  serverAccessLogsBucket?: s3.IBucket;
  /** @default "results/" */
  serverAccessLogsPrefix?: string;
  /** Key prefix of the reports (ends with `/`). @default "reports/" */
  reportsPrefix?: string;
  /** Attribute holding an item's expiry time (epoch seconds), if history items should expire. @default none */
  historyTimeToLiveAttribute?: string;
  /** Of the bucket and the history table. @default RemovalPolicy.RETAIN */
  removalPolicy?: RemovalPolicy;
}

/**
 * Where checks leave their results: the JSON and HTML reports in a bucket of their own (under
 * `reportsPrefix`, then `<model>/<time>/`), and one history item per check in a DynamoDB table keyed as
 * `lambdas/shared/contract.ts` says (`pk` = `MODEL#<name>`, `sk` = `<kind>#<time>#<key>`), with
 * point-in-time recovery.
 */
export class ResultsStore extends Construct {
  readonly bucket: s3.Bucket;
  readonly historyTable: dynamodb.Table;
  readonly reportsPrefix: string;

  constructor(scope: Construct, id: string, props: ResultsStoreProps = {}) {
    super(scope, id);
    this.reportsPrefix = props.reportsPrefix ?? DEFAULT_REPORTS_PREFIX;
    this.bucket = accessLoggedBucket(this, {
      encryptionKey: props.encryptionKey,
      serverAccessLogsBucket: props.serverAccessLogsBucket,
      serverAccessLogsPrefix: props.serverAccessLogsPrefix ?? 'results/',
      removalPolicy: props.removalPolicy,
    });
    this.historyTable = new dynamodb.Table(this, 'History', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS-managed key: encrypted at rest and auditable, with no key policy for every reader to join.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: props.historyTimeToLiveAttribute,
      removalPolicy: props.removalPolicy,
    });
  }
}
