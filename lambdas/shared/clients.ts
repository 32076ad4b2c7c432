import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The AWS clients the handlers use, built once per execution environment. */
export interface AwsClients {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  /** Document client over {@link AwsClients.dynamodb}: plain JavaScript values in and out. */
  documents: DynamoDBDocumentClient;
  eventBridge: EventBridgeClient;
  sqs: SQSClient;
}

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * S3 settings that depend on the environment. Endpoints themselves need no code: SDK v3 reads
 * `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`) on its own. When such an override points at an S3
 * emulator (s3rver in the tests, MinIO, LocalStack), buckets go in the path rather than the host name, and
 * checksums are only computed and checked when an operation requires them: the default CRC32 trailers of
 * streamed uploads are not understood by every emulator and corrupt the stored bytes.
 *
 * @example
 * ```ts
 * s3ClientConfig({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569' }).forcePathStyle; // true
 * s3ClientConfig({}); // {}
 * ```
 */
export function s3ClientConfig(env: Environment = process.env): S3ClientConfig {
  const override = env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL'];
  if (!override) return {};
  return {
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/**
 * Builds the clients from the environment: region and credentials from the Lambda runtime, endpoint
 * overrides from `AWS_ENDPOINT_URL_<SERVICE>` (read by the SDK itself).
 *
 * @example
 * ```ts
 * const { s3 } = createAwsClients();
 * ```
 */
export function createAwsClients(env: Environment = process.env): AwsClients {
  const dynamodb = new DynamoDBClient({});
  return {
    s3: new S3Client(s3ClientConfig(env)),
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    eventBridge: new EventBridgeClient({}),
    sqs: new SQSClient({}),
  };
}
