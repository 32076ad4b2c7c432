/**
 * The performance Lambda: invoked by the model's EventBridge Scheduler schedule with
 * `{"model": "<name>", "executionId": …, "scheduledTime": …}`, it runs one performance check of the golden
 * dataset (report, baseline, history item, metrics, `Performance Degraded` events). This file only wires
 * things together; the check is in `check-golden.ts`, the metrics and limits in `lambdas/core/performance`.
 * Scheduled runs need no idempotency: each is a new check, named by its run id in logs and history.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SSMClient } from '@aws-sdk/client-ssm';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { ConfigError } from '../core/errors.ts';
import { createAwsClients } from '../shared/clients.ts';
import { DIMENSION, type PerformanceCheckEvent } from '../shared/contract.ts';
import { createMetrics } from '../shared/metrics.ts';
import { type CheckDependencies, type CheckOutcome, checkGolden } from './check-golden.ts';
import { loadPerformanceEngineConfig, type PerformanceEngineConfig } from './config.ts';

const logger = new Logger({ serviceName: 'driftwatch-performance' });
const metrics = createMetrics(logger);

let engine: { config: PerformanceEngineConfig; shared: Omit<CheckDependencies, 'config'> } | undefined;

/** Reads and checks the environment and builds the clients, once per execution environment. */
function getEngine(): NonNullable<typeof engine> {
  if (engine !== undefined) return engine;
  const config = loadPerformanceEngineConfig(() => new SSMClient({}));
  const { s3, documents, eventBridge } = createAwsClients();
  // The SDK's own retries (3 attempts) come first; the scorer adds jittered backoff around them.
  const sagemakerRuntime = new SageMakerRuntimeClient({ maxAttempts: 3 });
  engine = { config, shared: { clients: { s3, documents, eventBridge, sagemakerRuntime }, metrics, logger } };
  return engine;
}

/**
 * The event names no configured model with a performance section (a schedule left behind, a typo in a manual
 * invocation). Thrown, so the invocation fails and the FunctionErrors alarm says so.
 */
export class WrongModelError extends ConfigError {
  override readonly name: string = 'WrongModelError';
}

export const handler = middy(
  async (event: PerformanceCheckEvent, context: Context): Promise<CheckOutcome> => {
    const { config, shared } = getEngine();
    const runId =
      typeof event?.executionId === 'string' && event.executionId !== ''
        ? event.executionId
        : context.awsRequestId;
    logger.appendKeys({
      runId,
      ...(typeof event?.scheduledTime === 'string' && { scheduledTime: event.scheduledTime }),
    });
    const requested = typeof event?.model === 'string' ? event.model : null;
    const model = requested === null ? undefined : await config.catalog.get(requested);
    if (model === undefined) {
      const known = (await config.catalog.all()).map((entry) => entry.name);
      throw new WrongModelError(
        'event.model',
        known.length === 1
          ? `this function checks model ${JSON.stringify(known[0])}, the event names ${JSON.stringify(requested)}`
          : `no model ${JSON.stringify(requested)} with a performance section is configured (known: ${known.join(', ') || 'none'})`,
      );
    }
    logger.appendKeys({ model: model.name });
    metrics.setDefaultDimensions({ [DIMENSION.model]: model.name });
    const { catalog: _catalog, ...storage } = config;
    const deps: CheckDependencies = { ...shared, config: { ...storage, model } };
    const outcome = await checkGolden(deps, runId);
    logger.debug('Check finished', { outcome });
    return outcome;
  },
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
