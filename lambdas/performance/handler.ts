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
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { ConfigError } from '../core/errors.ts';
import { createAwsClients } from '../shared/clients.ts';
import { DIMENSION, type PerformanceCheckEvent } from '../shared/contract.ts';
import { createMetrics } from '../shared/metrics.ts';
import { type CheckDependencies, type CheckOutcome, checkGolden } from './check-golden.ts';
import { loadPerformanceHandlerConfig } from './config.ts';

const logger = new Logger({ serviceName: 'driftwatch-performance' });
const metrics = createMetrics(logger);

let dependencies: CheckDependencies | undefined;

/** Reads and checks the environment and builds the clients, once per execution environment. */
function getDependencies(): CheckDependencies {
  if (dependencies !== undefined) return dependencies;
  const config = loadPerformanceHandlerConfig();
  logger.appendPersistentKeys({ model: config.model.name });
  metrics.setDefaultDimensions({ [DIMENSION.model]: config.model.name });
  const { s3, documents, eventBridge } = createAwsClients();
  // The SDK's own retries (3 attempts) come first; the scorer adds jittered backoff around them.
  const sagemakerRuntime = new SageMakerRuntimeClient({ maxAttempts: 3 });
  dependencies = { config, clients: { s3, documents, eventBridge, sagemakerRuntime }, metrics, logger };
  return dependencies;
}

/**
 * The event names a model other than this function's: a schedule wired to the wrong function. Thrown, so
 * the invocation fails and the FunctionErrors alarm says so.
 */
export class WrongModelError extends ConfigError {
  override readonly name: string = 'WrongModelError';
}

export const handler = middy(
  async (event: PerformanceCheckEvent, context: Context): Promise<CheckOutcome> => {
    const deps = getDependencies();
    const runId =
      typeof event?.executionId === 'string' && event.executionId !== ''
        ? event.executionId
        : context.awsRequestId;
    logger.appendKeys({
      runId,
      ...(typeof event?.scheduledTime === 'string' && { scheduledTime: event.scheduledTime }),
    });
    const model = deps.config.model.name;
    if (event?.model !== model) {
      throw new WrongModelError(
        'event.model',
        `this function checks model ${JSON.stringify(model)}, the event names ${JSON.stringify(event?.model ?? null)}`,
      );
    }
    const outcome = await checkGolden(deps, runId);
    logger.debug('Check finished', { outcome });
    return outcome;
  },
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
