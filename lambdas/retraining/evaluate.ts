import { S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../core/errors.ts';
import { evaluateTable } from '../core/performance/evaluate.ts';
import type { PerformanceReport } from '../core/performance/report.ts';
import type { TableInput } from '../core/readers/input.ts';
import { formatCsvRow, parseCsv } from '../core/retraining/csv-rows.ts';
import { type ChallengerEvaluation, evaluateChallenger } from '../core/retraining/evaluate-challenger.ts';
import { s3ClientConfig } from '../shared/clients.ts';
import type { PreparedInputs, RunPlan } from '../shared/retraining-contract.ts';
import { parseS3Uri, type RetrainingEnvironment, retrainingEnvironmentFor, s3ObjectStore } from './aws.ts';
import type { ObjectStore } from './ports.ts';
import { labelsKey } from './prepare-inputs.ts';

export interface EvaluateEvent {
  model: string;
  plan: RunPlan;
  data: PreparedInputs;
}

export interface EvaluationResult extends ChallengerEvaluation {
  championReport: PerformanceReport;
  challengerReport: PerformanceReport;
}

/** Batch transform writes the scores of `<input file>` to `<output path><input file>.out`. */
export function transformOutputKey(outputUri: string, inputUri: string): { bucket: string; key: string } {
  const output = parseS3Uri(outputUri);
  const input = parseS3Uri(inputUri);
  return {
    bucket: output.bucket,
    key: `${output.key}${input.key.slice(input.key.lastIndexOf('/') + 1)}.out`,
  };
}

/** The first field of each line of a transform output: the positive-class score. */
export function readScores(text: string, name: string): string[] {
  return parseCsv(text, name)
    .filter((row) => !(row.length === 1 && row[0] === ''))
    .map((row) => (row[0] ?? '').trim());
}

function memoryInput(name: string, text: string): TableInput {
  const bytes = Buffer.from(text, 'utf8');
  return {
    name,
    size: bytes.length,
    open: async function* () {
      yield bytes;
    },
  };
}

/**
 * Scores the champion and the challenger on the same holdout: the labels table and each model's batch
 * transform output, joined by row, evaluated with the performance core (the same metrics as the scheduled
 * checks), then judged by {@link evaluateChallenger}. The evaluation is written to `plan.s3.metricsUri` for
 * the model package's metrics.
 */
export async function handleEvaluate(
  event: EvaluateEvent,
  environment: RetrainingEnvironment,
  objects: ObjectStore,
): Promise<EvaluationResult> {
  const { config } = environment;
  const { plan } = event;
  const features = parseS3Uri(plan.s3.holdoutFeaturesUri);
  const labelsName = labelsKey(features.key);
  const labels = parseCsv((await objects.getText(features.bucket, labelsName)).text, labelsName).slice(1);
  const report = async (which: 'champion' | 'challenger', scoresUri: string) => {
    const location = transformOutputKey(scoresUri, plan.s3.holdoutFeaturesUri);
    const scores = readScores((await objects.getText(location.bucket, location.key)).text, location.key);
    if (scores.length !== labels.length) {
      throw new InputError(
        { file: location.key },
        `the ${which}'s transform output has ${scores.length} scores for ${labels.length} holdout rows`,
      );
    }
    let csv = formatCsvRow(['label', 'segment', 'score']);
    labels.forEach(([label = '', segment = ''], i) => {
      csv += formatCsvRow([label, segment, scores[i]!]);
    });
    const { report: result } = await evaluateTable(memoryInput(`${which} scores`, csv), {
      label: 'label',
      score: 'score',
      positive: config.positiveClass,
      threshold: config.threshold,
      segment: config.segmentColumn === null ? null : 'segment',
    });
    // The segment column of the joined table is called `segment`; report it under its real name.
    for (const entry of result.segments) entry.column = config.segmentColumn ?? entry.column;
    return result;
  };
  const championReport = await report('champion', plan.s3.championScoresUri);
  const challengerReport = await report('challenger', plan.s3.challengerScoresUri);
  const evaluation = evaluateChallenger(championReport, challengerReport, {
    primaryMetric: config.primaryMetric,
    minImprovement: config.minImprovement,
    segmentTolerance: config.segmentTolerance,
    floors: config.floors,
  });
  const result: EvaluationResult = { ...evaluation, championReport, challengerReport };
  const metrics = parseS3Uri(plan.s3.metricsUri);
  await objects.putText(
    metrics.bucket,
    metrics.key,
    `${JSON.stringify(result, null, 2)}\n`,
    'application/json',
  );
  return result;
}

let store: ObjectStore | undefined;

export const handler = async (event: EvaluateEvent): Promise<EvaluationResult> => {
  store ??= s3ObjectStore(new S3Client(s3ClientConfig()));
  return handleEvaluate(event, await retrainingEnvironmentFor(event.model), store);
};
