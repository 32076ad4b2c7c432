import { S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../core/errors.ts';
import { filterTrainingRows, splitHoldout } from '../core/retraining/csv-rows.ts';
import { s3ClientConfig } from '../shared/clients.ts';
import type { DataFile, PreparedInputs, RunPlan } from '../shared/retraining-contract.ts';
import { parseS3Uri, type RetrainingEnvironment, retrainingEnvironmentFor, s3ObjectStore } from './aws.ts';
import type { ObjectStore } from './ports.ts';

export interface PrepareInputsEvent {
  model: string;
  plan: RunPlan;
}

/** No labelled data arrived in the window: there is nothing to train on. */
export class NoTrainingDataError extends Error {
  override readonly name = 'NoTrainingDataError';
}

/**
 * Puts the run's inputs under its work prefix and records their lineage:
 * - training data: the labelled files under the golden prefix uploaded in the last `dataWindowDays` (the
 *   holdout excluded), copied as they are, or, when the trigger names a segment, that segment's rows of every
 *   CSV file in one `train/segment.csv`. An emergency run (concept drift) trains on its recent window only
 *   (`plan.trainingSince`): the rows whose event time is in it (with `eventTimeColumn`), else the files
 *   uploaded in it;
 * - holdout: the holdout split into `holdout/features.csv` (no header, the model's columns: what the batch
 *   transforms score) and `holdout/labels.csv` (label and segment, same row order: what the evaluation reads);
 * - `manifest.json`: every file read with its ETag and version.
 */
export async function handlePrepareInputs(
  event: PrepareInputsEvent,
  environment: RetrainingEnvironment,
  objects: ObjectStore,
): Promise<PreparedInputs> {
  const { config, dataBucket } = environment;
  const { plan } = event;
  const now = new Date(plan.now);
  const windowSince = plan.trainingSince ? Date.parse(plan.trainingSince) : null;
  const byRowTime = windowSince !== null && plan.eventTimeColumn !== null;
  // Rows by event time: every file of the data window may hold rows of the recent one.
  const since =
    windowSince !== null && !byRowTime ? windowSince : now.getTime() - config.dataWindowDays * 86_400_000;
  const candidates = (await objects.list(dataBucket, config.goldenPrefix)).filter(
    (object) =>
      object.key !== config.holdoutKey &&
      !object.key.endsWith('/') &&
      object.lastModified.getTime() >= since &&
      object.lastModified.getTime() <= now.getTime(),
  );
  if (candidates.length === 0) {
    const window =
      windowSince !== null && !byRowTime
        ? `uploaded since ${plan.trainingSince} (the emergency window)`
        : `in the last ${config.dataWindowDays} days`;
    throw new NoTrainingDataError(
      `no labelled file under s3://${dataBucket}/${config.goldenPrefix} ${window} (the holdout ${config.holdoutKey} excluded)`,
    );
  }
  const train = parseS3Uri(plan.s3.trainUri);
  const segment = plan.trigger.segment;
  const files: DataFile[] = [];
  let trainingRows: number | null = null;
  if (segment === null && !byRowTime) {
    for (const [i, object] of candidates.entries()) {
      const name = object.key.slice(object.key.lastIndexOf('/') + 1);
      await objects.copy(
        { bucket: dataBucket, key: object.key },
        { bucket: train.bucket, key: `${train.key}${String(i).padStart(4, '0')}-${name}` },
      );
      files.push({ key: object.key, etag: object.etag, versionId: object.versionId });
    }
  } else {
    const what = [
      segment ? `segment ${segment.column}=${segment.value}` : null,
      byRowTime ? `the rows since ${plan.trainingSince} (${plan.eventTimeColumn})` : null,
    ]
      .filter(Boolean)
      .join(' and ');
    let csv = '';
    trainingRows = 0;
    for (const object of candidates) {
      if (!/\.csv$/i.test(object.key)) {
        throw new InputError({ file: object.key }, `training on ${what} filters CSV files only`);
      }
      const { text, etag, versionId } = await objects.getText(dataBucket, object.key);
      const filtered = filterTrainingRows(text, object.key, {
        segment,
        eventTime: byRowTime ? { column: plan.eventTimeColumn!, sinceMs: windowSince! } : null,
      });
      // One header: the first file's.
      csv += csv === '' ? filtered.csv : filtered.csv.slice(filtered.csv.indexOf('\n') + 1);
      trainingRows += filtered.kept;
      files.push({ key: object.key, etag, versionId });
    }
    if (trainingRows === 0) {
      throw new NoTrainingDataError(`no row of ${what} in the ${candidates.length} files of the window`);
    }
    await objects.putText(train.bucket, `${train.key}segment.csv`, csv, 'text/csv');
  }

  const holdout = await objects.getText(dataBucket, config.holdoutKey);
  const split = splitHoldout(holdout.text, config.holdoutKey, {
    label: config.labelColumn,
    segment: config.segmentColumn,
    features: config.featureColumns,
    exclude: config.exclude,
  });
  const features = parseS3Uri(plan.s3.holdoutFeaturesUri);
  await objects.putText(features.bucket, features.key, split.features, 'text/csv');
  await objects.putText(features.bucket, labelsKey(features.key), split.labels, 'text/csv');

  const manifestKey = `${train.key.replace(/train\/$/, '')}manifest.json`;
  const prepared: PreparedInputs = {
    trainUri: plan.s3.trainUri,
    files,
    segment,
    trainingRows,
    trainingSince: plan.trainingSince ?? null,
    holdout: {
      key: config.holdoutKey,
      etag: holdout.etag,
      versionId: holdout.versionId,
      rows: split.rows,
      featureColumns: split.featureColumns,
    },
    manifestUri: `s3://${train.bucket}/${manifestKey}`,
  };
  await objects.putText(
    train.bucket,
    manifestKey,
    `${JSON.stringify({ bucket: dataBucket, ...prepared }, null, 2)}\n`,
    'application/json',
  );
  return prepared;
}

/** Key of the labels table beside the holdout's features file. */
export function labelsKey(featuresKey: string): string {
  return featuresKey.replace(/features\.csv$/, 'labels.csv');
}

let store: ObjectStore | undefined;

export const handler = async (event: PrepareInputsEvent): Promise<PreparedInputs> => {
  store ??= s3ObjectStore(new S3Client(s3ClientConfig()));
  return handlePrepareInputs(event, await retrainingEnvironmentFor(event.model), store);
};
