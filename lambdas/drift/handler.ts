/**
 * The drift Lambda: SQS messages carrying S3 "Object Created" events in, a drift check per object out
 * (reports, history item, metrics, `Drift Detected` event). This file only wires things together; the
 * check is in `check-object.ts`, the statistics in `lambdas/core`.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createAwsClients } from '../shared/clients.ts';
import { DIMENSION } from '../shared/contract.ts';
import {
  type CreatedObject,
  EventFormatError,
  objectIdentity,
  parseCreatedObjects,
} from '../shared/s3-event.ts';
import { BaselineProfileCache } from './baseline.ts';
import { processSqsBatch } from './batch.ts';
import { type CheckDependencies, type CheckOutcome, checkObject, recordFailure } from './check-object.ts';
import { loadDriftHandlerConfig } from './config.ts';
import { createMetrics } from './emit-metrics.ts';

/** How long a finished check is remembered: duplicates of an S3 event arrive within minutes. */
const IDEMPOTENCY_EXPIRY_SECONDS = 24 * 60 * 60;

const logger = new Logger({ serviceName: 'driftwatch-drift' });
const metrics = createMetrics(logger);

interface CheckRequest {
  /** What makes two deliveries the same: see {@link objectIdentity}. The idempotency key is its hash. */
  identity: string;
  object: CreatedObject;
  body: string;
}

interface Runtime {
  dependencies: CheckDependencies;
  idempotency: IdempotencyConfig;
  check: (request: CheckRequest) => Promise<CheckOutcome>;
}

let runtime: Runtime | undefined;

/** Reads and checks the environment and builds the clients, once per execution environment. */
function getRuntime(): Runtime {
  if (runtime !== undefined) return runtime;
  const config = loadDriftHandlerConfig();
  logger.appendPersistentKeys({ model: config.model.name });
  metrics.setDefaultDimensions({ [DIMENSION.model]: config.model.name });
  const clients = createAwsClients();
  const dependencies: CheckDependencies = {
    config,
    clients,
    baselines: new BaselineProfileCache(clients.s3),
    metrics,
    logger,
  };
  const idempotency = new IdempotencyConfig({
    eventKeyJmesPath: 'identity',
    expiresAfterSeconds: IDEMPOTENCY_EXPIRY_SECONDS,
    throwOnNoIdempotencyKey: true,
    // Runs only when a duplicate is answered from the record of an earlier check.
    responseHook: (response) => {
      logger.info('Duplicate event: already checked', { outcome: response });
      return response;
    },
  });
  const check = makeIdempotent(
    (request: CheckRequest) => checkObject(dependencies, request.object, request.body),
    {
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: config.idempotencyTable,
        awsSdkV3Client: clients.dynamodb,
      }),
      config: idempotency,
      keyPrefix: `driftwatch-drift#${config.model.name}`,
    },
  );
  runtime = { dependencies, idempotency, check };
  return runtime;
}

/**
 * One queue message. A message that our own dead-letter path sent (it carries the `errorName` attribute)
 * and that an operator moved back to the queue is checked again rather than answered from the
 * idempotency record of its failed check.
 */
async function processRecord(current: Runtime, record: SQSRecord): Promise<void> {
  let objects: CreatedObject[];
  try {
    objects = parseCreatedObjects(record.body);
  } catch (error) {
    if (!(error instanceof EventFormatError)) throw error;
    await recordFailure(current.dependencies, null, '', error, record.body);
    return;
  }
  const redrive = record.messageAttributes?.['errorName'] !== undefined ? `#redrive=${record.messageId}` : '';
  for (const object of objects) {
    logger.appendKeys({ bucket: object.bucket, key: object.eventKey, versionId: object.versionId });
    try {
      const outcome = await current.check({
        identity: objectIdentity(object) + redrive,
        object,
        body: record.body,
      });
      logger.debug('Check finished', { outcome });
    } finally {
      logger.removeKeys(['bucket', 'key', 'versionId']);
    }
  }
}

/** SQS event source (`ReportBatchItemFailures`): the messages that failed transiently are retried. */
export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const current = getRuntime();
  current.idempotency.registerLambdaContext(context);
  return processSqsBatch(event.Records, (record) => processRecord(current, record), logger);
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
