import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { vi } from 'vitest';
import type { CheckOutcome } from '../../../lambdas/performance/check-golden.ts';
import {
  type HistoryItem,
  PERFORMANCE_ENV,
  type PerformanceCheckEvent,
  type PerformanceDegradedDetail,
  type PerformanceModelRuntimeConfig,
} from '../../../lambdas/shared/contract.ts';
import { performanceRuntimeConfig } from '../../../lib/config/runtime.ts';
import { validateConfig } from '../../../lib/config/validate.ts';
import { AwsEmulators } from '../../helpers/aws-emulators.ts';
import {
  DATA_BUCKET,
  EVENT_BUS,
  HandlerEnvironment,
  HISTORY_TABLE,
  modelHistory,
  putEventEntries,
  REPORTS_PREFIX,
  RESULTS_BUCKET,
  lambdaContext as sharedLambdaContext,
} from '../../helpers/lambda-harness.ts';
import { type Instance, SageMakerEndpointStub } from '../../helpers/sagemaker-endpoint-stub.ts';

export const FIXTURES = new URL('../../fixtures/', import.meta.url).pathname;
export {
  DATA_BUCKET,
  EVENT_BUS,
  HISTORY_TABLE,
  REPORTS_PREFIX,
  RESULTS_BUCKET,
} from '../../helpers/lambda-harness.ts';

const config = validateConfig(JSON.parse(readFileSync('driftwatch.config.json', 'utf8')));

/** A model of driftwatch.config.json as its performance Lambda sees it: the seed scenarios run on these. */
function fromConfig(name: string): PerformanceModelRuntimeConfig {
  const model = config.models.find((candidate) => candidate.name === name);
  if (model?.performance === undefined)
    throw new Error(`driftwatch.config.json has no performance checks of ${name}`);
  return performanceRuntimeConfig({ ...model, performance: model.performance });
}

/** The churn model of driftwatch.config.json: scored by its endpoint, accuracy at least 0.85. */
export const CHURN: PerformanceModelRuntimeConfig = fromConfig('churn');

/** How churn is scored: its endpoint, the declared features in their order. */
export const CHURN_FEATURES = CHURN.scoring as Extract<
  PerformanceModelRuntimeConfig['scoring'],
  { kind: 'endpoint' }
>;
export const ENDPOINT_NAME = CHURN_FEATURES.endpointName;

/** The credit model of driftwatch.config.json: scores in the file, subprime Gini at most 5% below baseline. */
export const CREDIT: PerformanceModelRuntimeConfig = fromConfig('credit');

/**
 * A churn model of a few lines, as the stub serves it: a logistic function of day minutes, service calls
 * and the plans. Its accuracy is 0.874 on the baseline half of mlc_churn and 0.774 on the shifted half.
 */
export function churnScore(instance: Instance): number {
  const row = instance as Record<string, unknown>;
  const z =
    -8.5 +
    0.025 * (row['total_day_minutes'] as number) +
    0.6 * (row['number_customer_service_calls'] as number) +
    (row['international_plan'] === 'yes' ? 2 : 0) -
    (row['voice_mail_plan'] === 'yes' ? 0.8 : 0);
  return 1 / (1 + Math.exp(-z));
}

export function lambdaContext(): Context {
  return sharedLambdaContext({
    name: 'driftwatch-performance',
    memoryLimitInMB: '1769',
    remainingMillis: 600_000,
  });
}

/**
 * The performance handler's world on loopback: S3 (s3rver) with the data and results buckets, DynamoDB
 * (dynalite) with the history table, a SageMaker endpoint stub reached by `AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME`,
 * EventBridge stubbed, stdout captured for the EMF and log lines. {@link useModel} changes the function's
 * `MODEL_CONFIG`; the handler module is loaded afresh after each change, as a new deployment would be.
 */
export class PerformanceEnvironment extends HandlerEnvironment {
  readonly endpoint: SageMakerEndpointStub;
  model: PerformanceModelRuntimeConfig;

  private constructor(
    aws: AwsEmulators,
    endpoint: SageMakerEndpointStub,
    model: PerformanceModelRuntimeConfig,
  ) {
    super(aws);
    this.endpoint = endpoint;
    this.model = model;
  }

  static async start(model: PerformanceModelRuntimeConfig): Promise<PerformanceEnvironment> {
    const aws = await AwsEmulators.start({
      buckets: [DATA_BUCKET, RESULTS_BUCKET],
      tables: [{ name: HISTORY_TABLE, partitionKey: 'pk', sortKey: 'sk' }],
    });
    const endpoint = await SageMakerEndpointStub.start([ENDPOINT_NAME]);
    endpoint.score = churnScore;
    const environment = new PerformanceEnvironment(aws, endpoint, model);
    environment.setEnv({
      ...aws.environment,
      AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: endpoint.endpoint,
      [PERFORMANCE_ENV.dataBucket]: DATA_BUCKET,
      [PERFORMANCE_ENV.resultsBucket]: RESULTS_BUCKET,
      [PERFORMANCE_ENV.reportsPrefix]: REPORTS_PREFIX,
      [PERFORMANCE_ENV.historyTable]: HISTORY_TABLE,
      [PERFORMANCE_ENV.eventBusName]: EVENT_BUS,
      AWS_ENDPOINT_URL: undefined,
      AWS_PROFILE: undefined,
      AWS_MAX_ATTEMPTS: undefined,
      POWERTOOLS_DEV: undefined,
      POWERTOOLS_METRICS_DISABLED: undefined,
    });
    environment.useModel(model);
    environment.resetStubs();
    return environment;
  }

  /** Deploys `model`: the next invocation loads the handler with it. */
  useModel(model: PerformanceModelRuntimeConfig): void {
    this.model = model;
    this.setEnv({ [PERFORMANCE_ENV.modelConfig]: JSON.stringify(model) });
    vi.resetModules();
  }

  /** EventBridge accepts every event; the endpoint forgets its requests and faults. */
  resetStubs(): void {
    this.eventBridge.reset();
    this.eventBridge.on(PutEventsCommand).callsFake((input: { Entries?: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: (input.Entries ?? []).map(() => ({ EventId: randomUUID() })),
    }));
    this.endpoint.reset();
    this.endpoint.score = churnScore;
  }

  async dataText(key: string): Promise<string | null> {
    try {
      const response = await this.aws.s3.send(new GetObjectCommand({ Bucket: DATA_BUCKET, Key: key }));
      return (await response.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return null;
      throw error;
    }
  }

  /** Runs the real handler, as the schedule invokes it. */
  async invoke(event: PerformanceCheckEvent = { model: this.model.name }): Promise<CheckOutcome> {
    const { handler } = await import('../../../lambdas/performance/handler.ts');
    return (await handler(event, lambdaContext())) as CheckOutcome;
  }

  async history(model: string = this.model.name): Promise<HistoryItem[]> {
    return modelHistory<HistoryItem>(this.aws.documents, HISTORY_TABLE, model);
  }

  /** The `Performance Degraded` events put so far, with the entry fields around them. */
  putEvents(): { source: string; detailType: string; bus: string; detail: PerformanceDegradedDetail }[] {
    return putEventEntries<PerformanceDegradedDetail>(this.eventBridge);
  }

  override async stop(): Promise<void> {
    await this.endpoint.close();
    await super.stop();
  }
}
