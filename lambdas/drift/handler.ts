/**
 * The drift Lambda: SQS messages carrying S3 "Object Created" events in, a drift check per object out
 * (reports, history item, metrics, `Drift Detected` event). This file only wires things together; the
 * check is in `check-object.ts`, the statistics in `lambdas/core`.
 */
import { createHash } from 'node:crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { DEFAULT_PERSISTENCE } from '../core/alerting/persistence.ts';
import { DEFAULT_MIN_EFFECT } from '../core/drift/significance.ts';
import { ConfigError } from '../core/errors.ts';
import { createAwsClients } from '../shared/clients.ts';
import { DIMENSION, DRIFT_ENV, UNROUTED_MODEL } from '../shared/contract.ts';
import {
  type CreatedObject,
  EventFormatError,
  objectIdentity,
  parseCreatedObjects,
} from '../shared/s3-event.ts';
import { BaselineProfileCache } from './baseline.ts';
import { processSqsBatch } from './batch.ts';
import {
  captureObject,
  closeAndCheck,
  parseEngineMessage,
  recheckClosed,
  sweepDueWindows,
} from './capture.ts';
import {
  type CheckDependencies,
  type CheckOutcome,
  checkObject,
  recordFailure,
  recordLastDeliveryFailure,
} from './check-object.ts';
import { type DriftCatalogEntry, type DriftEngineConfig, loadDriftEngineConfig, routeKey } from './config.ts';
import { createMetrics } from './emit-metrics.ts';
import { groundTruthObject, joinWindow } from './ground-truth.ts';
import { isLastDelivery, maxReceiveCountFromEnvironment } from './paging.ts';
import { checkGroupOf, ROUTED_ATTRIBUTE, routedMessage } from './route.ts';

/** How long a finished check is remembered: duplicates of an S3 event arrive within minutes. */
const IDEMPOTENCY_EXPIRY_SECONDS = 24 * 60 * 60;

const logger = new Logger({ serviceName: 'driftwatch-drift' });
const maxReceiveCount = maxReceiveCountFromEnvironment();
const metrics = createMetrics(logger);

interface CheckRequest {
  /** What makes two deliveries the same: see {@link objectIdentity}. The idempotency key is its hash. */
  identity: string;
  object: CreatedObject;
  body: string;
  /** A Data Capture file (profiled into its window) rather than a dropped file (checked alone). */
  capture: boolean;
  /** A label file (registered with the capture windows it labels). */
  groundTruth?: boolean;
}

export { UNROUTED_MODEL };

/** A file under no configured model's prefix: recorded as a failure, never dropped. */
export class UnroutedFileError extends ConfigError {
  override readonly name: string = 'UnroutedFileError';
}

interface Runtime {
  engine: DriftEngineConfig;
  /** Shared by every model: clients, caches, metrics, logger; `config.model` is set per file. */
  shared: Omit<CheckDependencies, 'config'>;
  idempotency: IdempotencyConfig;
  persistence: DynamoDBPersistenceLayer;
  /** The idempotent check of each model, made on first use. */
  checks: Map<string, (request: CheckRequest) => Promise<CheckOutcome>>;
}

let runtime: Runtime | undefined;

/** Reads and checks the environment and builds the clients, once per execution environment. */
function getRuntime(): Runtime {
  if (runtime !== undefined) return runtime;
  const clients = createAwsClients();
  const engine = loadDriftEngineConfig(() => new SSMClient({}));
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
  runtime = {
    engine,
    shared: { clients, baselines: new BaselineProfileCache(clients.s3), metrics, logger },
    idempotency,
    persistence: new DynamoDBPersistenceLayer({
      tableName: engine.idempotencyTable,
      awsSdkV3Client: clients.dynamodb,
    }),
    checks: new Map(),
  };
  return runtime;
}

function dependenciesOf(current: Runtime, model: DriftCatalogEntry['drift']): CheckDependencies {
  const { catalog: _catalog, ...storage } = current.engine;
  return { ...current.shared, config: { ...storage, model } };
}

/** The idempotent check of one model (its records keyed `driftwatch-drift#<model>#…`, as before). */
function checkOf(
  current: Runtime,
  entry: DriftCatalogEntry,
): (request: CheckRequest) => Promise<CheckOutcome> {
  let check = current.checks.get(entry.name);
  if (check === undefined) {
    const dependencies = dependenciesOf(current, entry.drift);
    const storage = current.engine.capture;
    check = makeIdempotent(
      (request: CheckRequest) =>
        request.groundTruth && storage !== null
          ? groundTruthObject(dependencies, storage, request.object, request.body)
          : request.capture && storage !== null
            ? captureObject(dependencies, storage, request.object, request.body)
            : checkObject(dependencies, request.object, request.body),
      {
        persistenceStore: current.persistence,
        config: current.idempotency,
        keyPrefix: `driftwatch-drift#${entry.name}`,
      },
    );
    current.checks.set(entry.name, check);
  }
  return check;
}

/** A model whose config changed gets a fresh check (the cached one holds the old config). */
const checkedConfigs = new Map<string, DriftCatalogEntry['drift']>();

/**
 * What the function does with a record: `route` a landing event to the checks queue (in its model's message
 * group, see `route.ts`), or `check` the file. A function without a checks queue (one model, `MODEL_CONFIG`)
 * checks what it receives.
 */
type Stage = 'route' | 'check';

function stageOf(current: Runtime, record: SQSRecord): Stage {
  if (current.engine.checksQueueUrl === undefined) return 'check';
  return record.eventSourceARN?.endsWith('.fifo') ? 'check' : 'route';
}

/**
 * One queue message. A message that our own dead-letter path sent (it carries the `errorName` attribute)
 * and that an operator moved back to the queue is checked again rather than answered from the
 * idempotency record of its failed check. Files under no model's prefix, and messages that are no S3
 * event, are recorded as failures by whichever stage meets them first.
 */
async function processRecord(current: Runtime, record: SQSRecord, stage: Stage): Promise<void> {
  let objects: CreatedObject[];
  const models = await current.engine.catalog.all();
  // A one-model function records what it cannot route under its model, as it always did.
  const unrouted = dependenciesOf(
    current,
    current.engine.unroutedFiles === 'ignore' && models.length === 1
      ? models[0]!.drift
      : { ...UNROUTED_CONFIG },
  );
  const engineMessage = parseEngineMessage(record.body);
  if (engineMessage !== null) {
    const redriven = record.messageAttributes?.['errorName'] !== undefined;
    // A window check is a check like a file's: it waits in its model's message groups, not ahead of them.
    if (
      stage === 'route' &&
      (engineMessage.driftwatch === 'capture-window' || engineMessage.driftwatch === 'ground-truth-join')
    ) {
      const entry = models.find((model) => model.name === engineMessage.model);
      if (entry !== undefined) {
        await current.shared.clients.sqs.send(
          new SendMessageCommand({
            QueueUrl: current.engine.checksQueueUrl,
            MessageBody: record.body,
            MessageGroupId: checkGroupOf(entry.name, engineMessage.pk, entry.maxConcurrency),
            MessageDeduplicationId: createHash('sha256')
              .update(record.body + (redriven ? `#redrive=${record.messageId}` : ''))
              .digest('hex'),
            ...(redriven
              ? {
                  MessageAttributes: {
                    errorName: {
                      DataType: 'String',
                      StringValue: record.messageAttributes['errorName']?.stringValue ?? 'redriven',
                    },
                  },
                }
              : {}),
          }),
        );
        return;
      }
    }
    await processEngineMessage(current, engineMessage, record.body, models, redriven);
    return;
  }
  try {
    objects = parseCreatedObjects(record.body);
  } catch (error) {
    if (!(error instanceof EventFormatError)) throw error;
    metrics.setDefaultDimensions({ [DIMENSION.model]: unrouted.config.model.name });
    await recordFailure(unrouted, null, '', error, record.body);
    return;
  }
  const errorName = record.messageAttributes?.['errorName']?.stringValue;
  const redrive = errorName !== undefined ? `#redrive=${record.messageId}` : '';
  // A routed message names the one file it is for (an S3 notification may announce several).
  const routedKey = record.messageAttributes?.[ROUTED_ATTRIBUTE.key]?.stringValue;
  for (const object of objects) {
    if (stage === 'check' && routedKey !== undefined && object.eventKey !== routedKey) continue;
    logger.appendKeys({ bucket: object.bucket, key: object.eventKey, versionId: object.versionId });
    const route = routeKey(models, object.keyCandidates);
    if (route.kind === 'other') {
      logger.debug('Not incoming data: the file is under another prefix of the model', {
        model: route.entry.name,
      });
      logger.removeKeys(['bucket', 'key', 'versionId']);
      continue;
    }
    if (route.kind === 'none') {
      metrics.setDefaultDimensions({ [DIMENSION.model]: UNROUTED_MODEL });
      try {
        if (current.engine.unroutedFiles === 'ignore') {
          logger.warn('Object outside the incoming prefix ignored', {
            incomingPrefix: models.map((m) => m.drift.incomingPrefix).join(', '),
          });
        } else if (object.bucket === current.engine.dataBucket) {
          await recordFailure(
            unrouted,
            object,
            object.eventKey,
            new UnroutedFileError(
              'key',
              `${object.eventKey} is under no configured model's incoming prefix (${models.map((m) => m.drift.incomingPrefix).join(', ') || 'no models'})`,
            ),
            record.body,
          );
        } else {
          logger.warn('Event for another bucket ignored', { dataBucket: current.engine.dataBucket });
        }
      } finally {
        metrics.publishStoredMetrics();
        logger.removeKeys(['bucket', 'key', 'versionId']);
      }
      continue;
    }
    if (stage === 'route') {
      const message = routedMessage(record.body, object, route.entry, redrive);
      if (errorName !== undefined) {
        message.MessageAttributes['errorName'] = { DataType: 'String', StringValue: errorName };
      }
      await current.shared.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: current.engine.checksQueueUrl, ...message }),
      );
      logger.debug('Routed', { model: route.entry.name, messageGroupId: message.MessageGroupId });
      logger.removeKeys(['bucket', 'key', 'versionId']);
      continue;
    }
    const entry = route.entry;
    if ((route.kind === 'capture' || route.kind === 'groundTruth') && current.engine.capture === null) {
      metrics.setDefaultDimensions({ [DIMENSION.model]: entry.name });
      try {
        await recordFailure(
          dependenciesOf(current, entry.drift),
          object,
          object.eventKey,
          new ConfigError(
            DRIFT_ENV.captureTable,
            'this drift function has no capture table, so it cannot watch Data Capture files',
          ),
          record.body,
        );
      } finally {
        metrics.publishStoredMetrics();
        logger.removeKeys(['bucket', 'key', 'versionId']);
      }
      continue;
    }
    if (checkedConfigs.get(entry.name) !== entry.drift) {
      checkedConfigs.set(entry.name, entry.drift);
      current.checks.delete(entry.name);
    }
    logger.appendKeys({ model: entry.name });
    // Each file's model-level metrics are flushed with its model as the dimension.
    metrics.setDefaultDimensions({ [DIMENSION.model]: entry.name });
    try {
      const outcome = await checkOf(
        current,
        entry,
      )({
        identity: objectIdentity(object) + redrive,
        object,
        body: record.body,
        capture: route.kind === 'capture',
        groundTruth: route.kind === 'groundTruth',
      });
      logger.debug('Check finished', { outcome });
    } catch (error) {
      // The last delivery failed: SQS dead-letters the message, and the model's page says so.
      if (isLastDelivery(record, maxReceiveCount))
        await recordLastDeliveryFailure(dependenciesOf(current, entry.drift), object.eventKey, error);
      throw error;
    } finally {
      metrics.publishStoredMetrics();
      logger.removeKeys(['bucket', 'key', 'versionId', 'model']);
    }
  }
}

/**
 * The engine's own messages: the sweep schedule's (queue a check of every window due) and the sweep's (close
 * and check one window). A window whose model was removed since is logged and dropped with it.
 */
async function processEngineMessage(
  current: Runtime,
  message: NonNullable<ReturnType<typeof parseEngineMessage>>,
  body: string,
  models: readonly DriftCatalogEntry[],
  redriven: boolean,
): Promise<void> {
  const storage = current.engine.capture;
  if (storage === null) {
    logger.warn('Capture message ignored: this drift function has no capture table', { message });
    return;
  }
  if (message.driftwatch === 'capture-sweep') {
    await sweepDueWindows(current.shared, storage);
    return;
  }
  const entry = models.find((model) => model.name === message.model);
  if (message.driftwatch === 'ground-truth-join') {
    if (entry?.drift.capture?.groundTruth === undefined) {
      logger.warn('Labels of a model without ground truth dropped', {
        model: message.model,
        window: message.pk,
      });
      return;
    }
    logger.appendKeys({ model: entry.name, window: message.pk });
    metrics.setDefaultDimensions({ [DIMENSION.model]: entry.name });
    try {
      const outcome = await joinWindow(
        dependenciesOf(current, entry.drift),
        storage,
        message.pk,
        body,
        redriven,
      );
      logger.debug('Labels joined', { outcome });
    } finally {
      metrics.publishStoredMetrics();
      logger.removeKeys(['model', 'window']);
    }
    return;
  }
  if (entry?.drift.capture === undefined) {
    logger.warn('Window of a model without capture dropped', { model: message.model, window: message.pk });
    return;
  }
  logger.appendKeys({ model: entry.name, window: message.pk });
  metrics.setDefaultDimensions({ [DIMENSION.model]: entry.name });
  try {
    const dependencies = dependenciesOf(current, entry.drift);
    const outcome = await closeAndCheck(dependencies, storage, message.pk, message.part, 'time', body);
    // A failed check moved back from the dead-letter queue: its part is closed and was marked checked.
    if (outcome === 'done' && redriven)
      await recheckClosed(dependencies, storage, message.pk, message.part, body, 'redrive');
    logger.debug('Window closed', { outcome, redriven });
  } finally {
    metrics.publishStoredMetrics();
    logger.removeKeys(['model', 'window']);
  }
}

/** The stand-in model of files that belong to none: failures are recorded under {@link UNROUTED_MODEL}. */
const UNROUTED_CONFIG: DriftCatalogEntry['drift'] = {
  name: UNROUTED_MODEL,
  incomingPrefix: '',
  baselineProfileKey: '',
  numeric: [],
  categorical: [],
  exclude: [],
  segment: null,
  method: null,
  featureMethods: {},
  driftShare: 0.5,
  criticalFeatures: [],
  fdr: null,
  minEffect: { ...DEFAULT_MIN_EFFECT },
  persistence: { ...DEFAULT_PERSISTENCE },
  maxObjectBytes: 1,
  maxDecompressedBytes: 1,
};

/** SQS event source (`ReportBatchItemFailures`): the messages that failed transiently are retried. */
export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const current = getRuntime();
  current.idempotency.registerLambdaContext(context);
  return processSqsBatch(
    event.Records,
    (record) => processRecord(current, record, stageOf(current, record)),
    logger,
  );
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
