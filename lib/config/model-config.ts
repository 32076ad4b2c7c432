/**
 * The validated shape of `driftwatch.config.json`: every default filled in, every constraint checked by
 * `validateConfig`. These types are inferred from the one declaration in `schema.ts` (where each field's
 * description and default live), so they cannot disagree with the validator or the JSON Schema. Code past the
 * validator trusts them. No CDK imports, so the CLI can load the same file.
 */
import type * as z from 'zod';
import type { PerformanceLimit } from '../../lambdas/core/performance/limits.ts';
import type { MetricName } from '../../lambdas/core/performance/metrics.ts';
import type { EndpointContentType } from '../../lambdas/shared/contract.ts';
import type {
  AlertsSchema,
  CanarySchema,
  ConfigSchema,
  DriftSchema,
  ModelSchema,
  PrefixesSchema,
  RETRAINING_TRIGGERS,
} from './schema.ts';

export type DriftwatchConfig = z.output<typeof ConfigSchema>;
/** Subscriptions of the stack's one alarm topic. */
export type AlertsConfig = z.output<typeof AlertsSchema>;
/** How the data buckets (landing and results) are encrypted. */
export type BucketEncryptionSetting = DriftwatchConfig['encryption'];
/** Where a model's files live in the landing bucket. */
export type ModelPrefixes = z.output<typeof PrefixesSchema>;
export type ModelConfig = z.output<typeof ModelSchema>;
export type DriftSettings = z.output<typeof DriftSchema>;
/** Scheduled performance checks on a golden dataset (defaults that depend on the model filled in). */
export type PerformanceConfig = NonNullable<ModelConfig['performance']>;
/** SageMaker retraining (defaults that depend on the model filled in). */
export type RetrainingConfig = NonNullable<ModelConfig['retraining']>;
/** Canary rollout of a retrained model (defaults that depend on the model filled in). */
export type CanaryConfig = NonNullable<ModelConfig['canary']>;
/** Data Capture of the model's endpoints (defaults that depend on the model filled in). */
export type CaptureConfig = NonNullable<ModelConfig['capture']>;
/** The canary section as written, before the model's defaults. */
export type CanaryInput = z.input<typeof CanarySchema>;
export type RetrainingTrigger = (typeof RETRAINING_TRIGGERS)[number];
/** Performance metrics of `docs/performance-spec.md`. */
export type PerformanceMetric = MetricName;

/**
 * `PerformanceLimit`: a limit on one metric, for the whole dataset or one segment value; the core's type, the
 * same as `driftwatch evaluate --min/--max/--max-drop` take (at least one bound is set).
 * `EndpointContentType`: the payload format of the requests that score a golden dataset with the endpoint.
 */
export type { EndpointContentType, PerformanceLimit };
