/**
 * The notifier Lambda, invoked by two EventBridge rules of the engine: a model's Page alarm changing state
 * (`CloudWatch Alarm State Change`), and an execution of the retraining state machine ending
 * (`Step Functions Execution Status Change`). The work is in `notify.ts`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { EventBridgeEvent } from 'aws-lambda';
import { createAwsClients } from '../shared/clients.ts';
import { createMetrics } from '../shared/metrics.ts';
import {
  type AlarmStateChangeDetail,
  type ExecutionStatusDetail,
  type NotifierDependencies,
  notifierConfigFromEnvironment,
  onPageAlarm,
  onRetrainingStatus,
} from './notify.ts';

const logger = new Logger({ serviceName: 'driftwatch-notifier' });
const metrics = createMetrics(logger);

let dependencies: NotifierDependencies | undefined;

function getDependencies(): NotifierDependencies {
  if (dependencies !== undefined) return dependencies;
  const { documents } = createAwsClients();
  dependencies = {
    config: notifierConfigFromEnvironment(),
    documents,
    sns: new SNSClient({}),
    metrics,
    logger,
  };
  return dependencies;
}

export const handler = middy(async (event: EventBridgeEvent<string, unknown>) => {
  const deps = getDependencies();
  switch (event['detail-type']) {
    case 'CloudWatch Alarm State Change':
      return onPageAlarm(deps, event.detail as AlarmStateChangeDetail);
    case 'Step Functions Execution Status Change':
      return onRetrainingStatus(deps, event.detail as ExecutionStatusDetail);
    default:
      logger.warn('Event ignored', { detailType: event['detail-type'], source: event.source });
      return { status: 'ignored' };
  }
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
