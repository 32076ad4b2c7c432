import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client } from '@aws-sdk/client-s3';
import {
  type CanaryDecision,
  decideCanaryStep,
  type VariantObservation,
} from '../core/retraining/canary-decision.ts';
import { parseCsv } from '../core/retraining/csv-rows.ts';
import { s3ClientConfig } from '../shared/clients.ts';
import type { RunPlan } from '../shared/retraining-contract.ts';
import {
  cloudWatchVariantMetrics,
  type RetrainingEnvironment,
  retrainingEnvironmentFor,
  s3ObjectStore,
} from './aws.ts';
import type { ObjectStore, VariantMetricsSource } from './ports.ts';

export interface CanaryDecisionEvent {
  model: string;
  plan: RunPlan;
  championVariant: string;
  challengerVariant: string;
  /** Bake periods this step has already been judged inconclusive (0 at the first decision). */
  round: number;
  /** When the decision is made; defaults to now. */
  now?: string;
}

export interface CanaryDecisionResult extends CanaryDecision {
  elapsedMinutes: number;
  champion: VariantObservation;
  challenger: VariantObservation;
}

/** Accuracy counts per variant from the feedback CSVs (`variant,label,score`) uploaded since `since`. */
export async function feedbackCounts(
  objects: ObjectStore,
  bucket: string,
  prefix: string,
  since: Date,
  positiveClass: string,
  threshold: number,
): Promise<Map<string, { labelled: number; correct: number }>> {
  const counts = new Map<string, { labelled: number; correct: number }>();
  const files = (await objects.list(bucket, prefix)).filter(
    (object) => object.lastModified.getTime() >= since.getTime() && /\.csv$/i.test(object.key),
  );
  for (const file of files) {
    const [header, ...rows] = parseCsv((await objects.getText(bucket, file.key)).text, file.key);
    if (!header) continue;
    const [variantAt, labelAt, scoreAt] = ['variant', 'label', 'score'].map((name) => header.indexOf(name));
    if (variantAt! < 0 || labelAt! < 0 || scoreAt! < 0) continue;
    for (const row of rows) {
      const score = Number(row[scoreAt!]);
      const label = row[labelAt!];
      const variant = row[variantAt!];
      if (variant === undefined || label === undefined || label === '' || !Number.isFinite(score)) continue;
      const entry = counts.get(variant) ?? { labelled: 0, correct: 0 };
      entry.labelled++;
      if (score >= threshold === (label === positiveClass)) entry.correct++;
      counts.set(variant, entry);
    }
  }
  return counts;
}

/**
 * Compares the two variants over the step so far: `(round + 1) × bakeMinutes` up to now, since every round
 * waits one bake period before deciding. See {@link decideCanaryStep} for the rules.
 */
export async function handleCanaryDecision(
  event: CanaryDecisionEvent,
  environment: RetrainingEnvironment,
  metrics: VariantMetricsSource,
  objects: ObjectStore,
): Promise<CanaryDecisionResult> {
  const { config, dataBucket } = environment;
  const now = event.now ? new Date(event.now) : new Date();
  const elapsedMinutes = (event.round + 1) * config.canary.bakeMinutes;
  const start = new Date(now.getTime() - elapsedMinutes * 60_000);
  const [championTraffic, challengerTraffic, feedback] = await Promise.all([
    metrics.get(config.endpointName, event.championVariant, start, now),
    metrics.get(config.endpointName, event.challengerVariant, start, now),
    feedbackCounts(objects, dataBucket, config.feedbackPrefix, start, config.positiveClass, config.threshold),
  ]);
  const observation = (traffic: typeof championTraffic, variant: string): VariantObservation => ({
    ...traffic,
    ...(feedback.get(variant) ?? { labelled: 0, correct: 0 }),
  });
  const champion = observation(championTraffic, event.championVariant);
  const challenger = observation(challengerTraffic, event.challengerVariant);
  const decision = decideCanaryStep(champion, challenger, config.canary, elapsedMinutes);
  return { ...decision, elapsedMinutes, champion, challenger };
}

let clients: { metrics: VariantMetricsSource; objects: ObjectStore } | undefined;

export const handler = async (event: CanaryDecisionEvent): Promise<CanaryDecisionResult> => {
  clients ??= {
    metrics: cloudWatchVariantMetrics(new CloudWatchClient({})),
    objects: s3ObjectStore(new S3Client(s3ClientConfig())),
  };
  return handleCanaryDecision(
    event,
    await retrainingEnvironmentFor(event.model),
    clients.metrics,
    clients.objects,
  );
};
