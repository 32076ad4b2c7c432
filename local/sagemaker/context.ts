import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock } from './clock.ts';
import type { EndpointRecord } from './endpoints.ts';
import type { EndpointConfigRecord, ModelRecord } from './models.ts';
import { arnFor } from './protocol.ts';
import type { ModelPackageGroupRecord, ModelPackageRecord } from './registry.ts';
import type { InvocationRecord, ShadowResult } from './runtime.ts';
import type { TrainingJobRecord } from './training.ts';
import type { TransformJobRecord } from './transform.ts';

/** How long the emulator's timed state changes take, in seconds of its clock. */
export interface EmulatorTimings {
  /** A training job's `Starting` phase, before it reads its data. @default 0 */
  trainingStartSeconds: number;
  /** Time a training job stays in `Training` beyond the real fitting time. @default 0 */
  trainingSeconds: number;
  /** `Creating` → `InService` of a new endpoint, at least the time to load its models. @default 0.2 */
  endpointCreateSeconds: number;
  /** `Updating` → `InService` of UpdateEndpoint. @default 0.2 */
  endpointUpdateSeconds: number;
  /** `Updating` → `InService` of UpdateEndpointWeightsAndCapacities. @default 0.05 */
  weightsUpdateSeconds: number;
  /** Time a transform job stays `InProgress` beyond the real scoring time. @default 0 */
  transformSeconds: number;
}

export const DEFAULT_TIMINGS: EmulatorTimings = {
  trainingStartSeconds: 0,
  trainingSeconds: 0,
  endpointCreateSeconds: 0.2,
  endpointUpdateSeconds: 0.2,
  weightsUpdateSeconds: 0.05,
  transformSeconds: 0,
};

/** Everything the emulator holds, for tests and local tooling to look at (treat as read-only). */
export interface EmulatorState {
  trainingJobs: Map<string, TrainingJobRecord>;
  models: Map<string, ModelRecord>;
  endpointConfigs: Map<string, EndpointConfigRecord>;
  endpoints: Map<string, EndpointRecord>;
  transformJobs: Map<string, TransformJobRecord>;
  modelPackageGroups: Map<string, ModelPackageGroupRecord>;
  /** By ARN. */
  modelPackages: Map<string, ModelPackageRecord>;
  /** Every invocation of a production or shadow variant, in order. */
  invocations: InvocationRecord[];
  /** The latest answers of shadow variants (never returned to callers), at most 1,000. */
  shadowResults: ShadowResult[];
}

/**
 * An EventBridge event as SageMaker sends it (`SageMaker Model Package State Change`, `SageMaker Training
 * Job State Change`, `SageMaker Endpoint State Change`), for local mode to route like the real bus.
 */
export interface SageMakerEvent {
  source: 'aws.sagemaker';
  'detail-type': string;
  time: string;
  region: string;
  account: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** What every operation module gets: the shared state and the emulator's services. */
export class EmulatorContext {
  readonly state: EmulatorState = {
    trainingJobs: new Map(),
    models: new Map(),
    endpointConfigs: new Map(),
    endpoints: new Map(),
    transformJobs: new Map(),
    modelPackageGroups: new Map(),
    modelPackages: new Map(),
    invocations: [],
    shadowResults: [],
  };
  readonly clock: Clock;
  readonly timings: EmulatorTimings;
  readonly region: string;
  readonly accountId: string;
  private readonly onEvent: ((event: SageMakerEvent) => void) | undefined;
  private readonly onBackground: ((work: Promise<void>) => void) | undefined;
  private readonly stopping = new AbortController();
  private readonly tasks = new Set<Promise<void>>();

  private readonly s3Source: S3Client | ((roleArn?: string) => S3Client);

  constructor(options: {
    s3: S3Client | ((roleArn?: string) => S3Client);
    clock: Clock;
    timings: EmulatorTimings;
    region: string;
    accountId: string;
    onEvent?: (event: SageMakerEvent) => void;
    onBackground?: (work: Promise<void>) => void;
  }) {
    this.s3Source = options.s3;
    this.clock = options.clock;
    this.timings = options.timings;
    this.region = options.region;
    this.accountId = options.accountId;
    this.onEvent = options.onEvent;
    this.onBackground = options.onBackground;
  }

  /** The S3 of the emulator itself (not a job's), resolved on first use when given as a function. */
  get s3(): S3Client {
    return this.s3As(undefined);
  }

  /** The S3 as a job or model's role (`RoleArn`, `ExecutionRoleArn`), when the emulator was given roles. */
  s3As(roleArn: string | undefined): S3Client {
    return typeof this.s3Source === 'function' ? this.s3Source(roleArn) : this.s3Source;
  }

  arn(type: string, name: string): string {
    return arnFor(this.region, this.accountId, type, name);
  }

  now(): Date {
    return new Date(this.clock.now());
  }

  /** Waits on the emulator's clock; rejects when the emulator closes. */
  sleep(seconds: number): Promise<void> {
    return this.clock.sleep(seconds * 1000, this.stopping.signal);
  }

  get closing(): boolean {
    return this.stopping.signal.aborted;
  }

  /**
   * Runs a task after the current request has been answered, as SageMaker does the work behind an
   * `InProgress` status. Tasks handle their own errors; one interrupted by {@link close} just ends.
   */
  background(task: () => Promise<void>): void {
    const running = (async () => {
      await Promise.resolve();
      await task();
    })().catch((error: unknown) => {
      if (!this.closing)
        console.error(JSON.stringify({ message: 'emulator task failed', error: String(error) }));
    });
    this.tasks.add(running);
    void running.finally(() => this.tasks.delete(running));
    this.onBackground?.(running);
  }

  emit(detailType: string, resource: string, detail: Record<string, unknown>): void {
    if (this.onEvent === undefined) return;
    const detailJson = JSON.parse(
      JSON.stringify(detail, function (this: Record<string, unknown>, key, item) {
        const original = this[key];
        return original instanceof Date ? original.getTime() : item;
      }),
    ) as Record<string, unknown>;
    this.onEvent({
      source: 'aws.sagemaker',
      'detail-type': detailType,
      time: this.now()
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      account: this.accountId,
      resources: [resource],
      detail: detailJson,
    });
  }

  /** Stops the clock's waits and waits for the background tasks to end. */
  async close(): Promise<void> {
    this.stopping.abort(new Error('the SageMaker emulator is closing'));
    await Promise.allSettled([...this.tasks]);
  }
}
