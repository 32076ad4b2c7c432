/**
 * The feedback consumer: Kinesis records of labelled outcomes in (one shard's batch per invocation, by the
 * event source mapping), concept-drift detectors and rate monitors per model and cohort updated in DynamoDB,
 * `Concept Drift Detected` events and metrics out. The work is in ./consumer.ts and lambdas/core.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SSMClient } from '@aws-sdk/client-ssm';
import middy from '@middy/core';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { feedbackSettings } from '../../lib/config/runtime.ts';
import type { FeedbackSettings } from '../core/concept-drift/feedback.ts';
import { createAwsClients } from '../shared/clients.ts';
import { requiredEnv } from '../shared/config-fields.ts';
import { DIMENSION, METRIC, PAGE_REASON, REASON_DIMENSION, UNROUTED_MODEL } from '../shared/contract.ts';
import { createMetrics } from '../shared/metrics.ts';
import { catalogFromEnvironment, parseModelParameter } from '../shared/model-catalog.ts';
import { dynamoCohortStore, eventPutter, FEEDBACK_ENV, failureSender } from './aws.ts';
import { type BatchResult, type FeedbackPorts, processFeedbackBatch } from './consumer.ts';
import { closeQuietConceptDrift, openConceptDrift } from './incident.ts';

const logger = new Logger({ serviceName: 'driftwatch-feedback' });
const metrics = createMetrics(logger);

let ports: FeedbackPorts | undefined;
/** Where the models' incident records are, and the client that writes them. */
let incidents: { documents: ReturnType<typeof createAwsClients>['documents']; table: string } | undefined;

function getPorts(): FeedbackPorts {
  if (ports) return ports;
  const env = process.env;
  const clients = createAwsClients();
  const putEvents = eventPutter(clients.eventBridge, requiredEnv(env, FEEDBACK_ENV.eventBusName));
  const history = { documents: clients.documents, table: requiredEnv(env, FEEDBACK_ENV.historyTable) };
  incidents = history;
  ports = {
    catalog: catalogFromEnvironment<FeedbackSettings>(env, {
      parseStatic: (text) => {
        const settings = feedbackSettings(parseModelParameter('MODEL_CONFIG/model', text));
        if (!settings) throw new Error('MODEL_CONFIG: the model has no conceptDrift section');
        return settings;
      },
      toRuntime: (model) => feedbackSettings(model),
      ssm: () => new SSMClient({}),
    }),
    store: dynamoCohortStore(clients.documents, requiredEnv(env, FEEDBACK_ENV.stateTable)),
    // The event first, then the model's incident (its one page names the detection); both at least once.
    putEvents: async (details) => {
      await putEvents(details);
      await openConceptDrift(history.documents, history.table, details);
    },
    reject: failureSender(clients.sqs, requiredEnv(env, FEEDBACK_ENV.failureQueueUrl)),
    now: Date.now,
    parallelizationFactor: Number(env[FEEDBACK_ENV.parallelizationFactor] ?? 1),
  };
  return ports;
}

/** One EMF document per model and metric (a batch may hold several models). */
function publish(metrics: Metrics, result: BatchResult): void {
  const put = (
    dimensions: Record<string, string>,
    name: string,
    unit: (typeof MetricUnit)[keyof typeof MetricUnit],
    value: number,
  ) => {
    const single = metrics.singleMetric();
    single.clearDefaultDimensions();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, unit, value);
  };
  for (const [model, counts] of result.counts) {
    const dims = { [DIMENSION.model]: model };
    put(dims, METRIC.feedbackOutcomes.name, MetricUnit.Count, counts.applied);
    if (counts.duplicates > 0) put(dims, METRIC.feedbackDuplicates.name, MetricUnit.Count, counts.duplicates);
    if (counts.rejected > 0) put(dims, METRIC.feedbackRejected.name, MetricUnit.Count, counts.rejected);
    if (counts.detections === 0) continue;
    put(dims, METRIC.conceptDriftDetections.name, MetricUnit.Count, counts.detections);
    // The model's one paging alarm watches Page; PageReason says why on the dashboard.
    put(dims, METRIC.page.name, MetricUnit.Count, counts.detections);
    for (const [reason, n] of [
      [PAGE_REASON.conceptDrift, counts.pages.conceptDrift],
      [PAGE_REASON.cohortRate, counts.pages.cohortRate],
    ] as const) {
      if (n > 0) put({ ...dims, [REASON_DIMENSION]: reason }, METRIC.pageReason.name, MetricUnit.Count, n);
    }
    for (const seconds of counts.latencies)
      put(dims, METRIC.conceptDriftLatency.name, MetricUnit.Seconds, seconds);
  }
  if (result.unrouted > 0)
    put(
      { [DIMENSION.model]: UNROUTED_MODEL },
      METRIC.feedbackRejected.name,
      MetricUnit.Count,
      result.unrouted,
    );
}

async function consume(event: KinesisStreamEvent, _context: Context): Promise<KinesisStreamBatchResponse> {
  const current = getPorts();
  const result = await processFeedbackBatch(event, current);
  publish(metrics, result);
  // A model whose feedback stayed quiet past its detectors' quiet time recovers from concept drift.
  for (const [model, counts] of result.counts) {
    if (counts.detections > 0 || counts.applied === 0 || incidents === undefined) continue;
    const settings = await current.catalog.get(model);
    if (
      settings &&
      (await closeQuietConceptDrift(
        incidents.documents,
        incidents.table,
        model,
        settings.renotifyAfterMs,
        current.now(),
      ))
    )
      logger.info('Concept drift signal closed: quiet since its last detection', { model });
  }
  for (const [model, counts] of result.counts) {
    logger.info('Feedback applied', {
      model,
      applied: counts.applied,
      duplicates: counts.duplicates,
      rejected: counts.rejected,
      detections: counts.detections,
      quieted: counts.quieted,
      cohortOverflow: counts.cohortOverflow,
    });
  }
  if (result.batchItemFailures.length > 0)
    logger.warn('Batch failed from a record on: Lambda retries from it', {
      failures: result.batchItemFailures,
      conflicts: result.conflicts,
    });
  return { batchItemFailures: result.batchItemFailures };
}

export const handler = middy(consume)
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics, { captureColdStartMetric: false }));
