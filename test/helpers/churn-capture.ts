import { readFileSync } from 'node:fs';
import type {
  CaptureEstimateRuntimeConfig,
  CaptureRuntimeConfig,
  GroundTruthRuntimeConfig,
} from '../../lambdas/shared/contract.ts';
import {
  type CaptureRecord,
  capturePath,
  captureText,
  jsonInput,
  jsonOutput,
  record,
} from './capture-files.ts';

/** A row of a churn scenario CSV, with the model's score added. */
export type ChurnRow = Record<string, string | number>;

/**
 * The capture settings of the churn model's endpoint in the drift tests: hourly windows of `churn-endpoint`
 * under `capture/`, JSON payloads with a `score`. A test adds its `estimate` or `groundTruth`.
 */
export const CHURN_CAPTURE: CaptureRuntimeConfig = {
  prefix: 'capture/',
  endpoints: ['churn-endpoint'],
  windowMinutes: 60,
  maxRows: 1_000_000,
  graceMinutes: 10,
  maxBadShare: 0.01,
  scoreColumn: 'score',
  features: [],
};

/**
 * The rows of a churn scenario CSV (no commas inside its quoted fields), with a score added: a logistic
 * function of the day minutes, as a simple model of churn would give.
 */
export function churnRows(path: string): ChurnRow[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const names = header!.split(',').map((name) => name.replaceAll('"', ''));
  return lines.map((line) => {
    const row: ChurnRow = {};
    line.split(',').forEach((field, i) => {
      row[names[i]!] = field.startsWith('"') ? field.slice(1, -1) : Number(field);
    });
    const minutes = row['total_day_minutes'] as number;
    row['score'] = Math.round(1e6 / (1 + Math.exp(-(minutes - 180) / 40))) / 1e6;
    return row;
  });
}

export function churnCsv(rows: ChurnRow[]): string {
  const names = Object.keys(rows[0]!);
  const cell = (value: string | number) => (typeof value === 'string' ? `"${value}"` : String(value));
  return `${names.join(',')}\n${rows.map((row) => names.map((name) => cell(row[name]!)).join(',')).join('\n')}\n`;
}

/** How {@link churnCaptureRecords} groups rows into requests and names them. */
export interface ChurnRequests {
  /** Rows per request: 1 to 3 in turn (`mixed`), or one each. @default 'mixed' */
  rowsPerRequest?: 'mixed' | 'one';
  /** The n-th request's event id. @default `event-<time ms>-<n>` */
  eventId?: (n: number) => string;
  /** The n-th request's inference id (undefined: none). @default none */
  inferenceId?: (n: number) => string | undefined;
}

/**
 * Capture records of rows, as an endpoint sending `{"instances": [...]}` and answering
 * `{"predictions": [...]}` writes them, the label left out.
 */
export function churnCaptureRecords(
  rows: ChurnRow[],
  time: Date,
  requests: ChurnRequests = {},
): CaptureRecord[] {
  const eventId = requests.eventId ?? ((n: number) => `event-${time.getTime()}-${n}`);
  const records: CaptureRecord[] = [];
  for (let at = 0, n = 0; at < rows.length; n++) {
    const take = requests.rowsPerRequest === 'one' ? 1 : (n % 3) + 1;
    const batch = rows.slice(at, at + take);
    at += take;
    const instances = batch.map(({ churn: _label, score: _score, ...features }) => features);
    records.push(
      record(
        jsonInput({ instances }),
        jsonOutput({ predictions: batch.map((row) => ({ score: row['score'] })) }),
        eventId(n),
        time.toISOString(),
        requests.inferenceId?.(n),
      ),
    );
  }
  return records;
}

/** The text of a capture file of rows ({@link churnCaptureRecords}). */
export function churnCaptureText(rows: ChurnRow[], time: Date, requests: ChurnRequests = {}): string {
  return captureText(churnCaptureRecords(rows, time, requests));
}

/** Where the drift tests put the reference of the churn model's estimates: scored, labelled customers. */
export const CHURN_REFERENCE_KEY = 'churn/golden/reference.csv';

/**
 * The estimate (CBPE) of the churn endpoint's windows in the drift tests: the calibrator's reference at
 * {@link CHURN_REFERENCE_KEY} (its `score` column, labels in `churn`, `yes` positive, threshold 0.5),
 * segmented by `area_code`, with a baseline report; `limits` none.
 */
export function churnEstimate(
  limits: CaptureEstimateRuntimeConfig['limits'] = [],
): CaptureEstimateRuntimeConfig {
  return {
    referenceKey: CHURN_REFERENCE_KEY,
    referenceScoreColumn: 'score',
    referenceModel: null,
    labelColumn: 'churn',
    positiveClass: 'yes',
    classes: null,
    threshold: 0.5,
    segmentColumn: 'area_code',
    limits,
    baselineReportKey: 'churn/baselines/performance.json',
  };
}

/**
 * The ground truth of the churn endpoint's windows in the drift tests: SageMaker's label files under
 * `ground-truth/`, joined at once (no settling), outcomes fed to the concept-drift detectors; `limits` none.
 */
export function churnGroundTruth(limits: GroundTruthRuntimeConfig['limits'] = []): GroundTruthRuntimeConfig {
  return {
    prefix: 'ground-truth/',
    idColumn: 'inferenceId',
    labelColumn: 'label',
    settleMinutes: 0,
    maxDelayHours: 24,
    positiveClass: 'yes',
    classes: ['no', 'yes'],
    threshold: 0.5,
    segmentColumn: 'area_code',
    limits,
    baselineReportKey: null,
    feedback: true,
  };
}

/**
 * Capture records of rows for a ground-truth join, one request per row: every other request carries an
 * inferenceId (the label's id), else its eventId is the id. Ids are `<tag>-inference-<n>`, `<tag>-event-<n>`.
 */
export function labelledCaptureRecords(rows: ChurnRow[], time: Date, tag: string): CaptureRecord[] {
  return churnCaptureRecords(rows, time, {
    rowsPerRequest: 'one',
    eventId: (n) => `${tag}-event-${n}`,
    inferenceId: (n) => (n % 2 === 0 ? `${tag}-inference-${n}` : undefined),
  });
}

/** The id a label file names for a capture record: its inferenceId, else its eventId. */
export const labelId = (record: CaptureRecord): string =>
  record.eventMetadata.inferenceId ?? record.eventMetadata.eventId;

/** One line of a SageMaker ground-truth file: the label of the prediction `id`, in the given encoding. */
export function groundTruthLine(
  id: string,
  label: string,
  encoding: 'CSV' | 'JSON' | 'BASE64' = 'CSV',
): string {
  return JSON.stringify({
    groundTruthData: {
      data:
        encoding === 'BASE64'
          ? Buffer.from(label).toString('base64')
          : encoding === 'JSON'
            ? JSON.stringify(label)
            : label,
      encoding,
    },
    eventMetadata: { eventId: id },
    eventVersion: '0',
  });
}

/**
 * The capture files of one hour's window of `churn-endpoint`, for a ground-truth join: per variant, its rows
 * split over `files` files a quarter of an hour apart ({@link labelledCaptureRecords}), each handed to
 * `arrive` (upload and check) in turn, variant by variant. Returns each variant's label ids in the order the files hold them.
 */
export async function arriveCaptureWindow(
  hour: number,
  variants: Readonly<Record<string, readonly [rows: ChurnRow[], files: number]>>,
  arrive: (key: string, body: string) => Promise<unknown>,
): Promise<Record<string, string[]>> {
  const ids: Record<string, string[]> = {};
  for (const [variant, [rows, files]] of Object.entries(variants)) {
    ids[variant] = [];
    const size = rows.length / files;
    for (let f = 0; f < files; f++) {
      const time = new Date(hour + (f * 15 + 2) * 60_000);
      const records = labelledCaptureRecords(rows.slice(f * size, (f + 1) * size), time, `${variant}-${f}`);
      ids[variant].push(...records.map(labelId));
      await arrive(capturePath('capture', 'churn-endpoint', variant, time, `f${f}`), captureText(records));
    }
  }
  return ids;
}
