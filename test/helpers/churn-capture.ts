import { readFileSync } from 'node:fs';
import type { CaptureRuntimeConfig } from '../../lambdas/shared/contract.ts';
import { type CaptureRecord, captureText, jsonInput, jsonOutput, record } from './capture-files.ts';

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
