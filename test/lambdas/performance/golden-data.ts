import { readFileSync } from 'node:fs';
import { evaluateTable } from '../../../lambdas/core/performance/evaluate.ts';
import type { PerformanceReport } from '../../../lambdas/core/performance/report.ts';
import { churnScore, FIXTURES } from './environment.ts';

/** The churn halves of mlc_churn with every column (features, area_code, churn), as bytes. */
export const CHURN_BASELINE_HALF = readFileSync(`${FIXTURES}scenarios/churn-halves/baseline.csv`);
export const CHURN_CURRENT_HALF = readFileSync(`${FIXTURES}scenarios/churn-halves/current.csv`);
/** The current half with day minutes x1.2 + 10 and more international plans: the stub's model degrades. */
export const CHURN_SHIFTED = readFileSync(`${FIXTURES}scenarios/churn-shifted/current.csv`);

/** The credit fixtures of the evaluate command (Status, score, tier) and the baseline's report. */
export const CREDIT_BASELINE = readFileSync(`${FIXTURES}performance/credit-baseline/credit-baseline.csv`);
export const CREDIT_CURRENT = readFileSync(`${FIXTURES}performance/credit-current/credit-current.csv`);
export const CREDIT_BASELINE_REPORT = JSON.parse(
  readFileSync(`${FIXTURES}performance/credit-baseline/expected.json`, 'utf8'),
) as PerformanceReport;
export const CREDIT_CURRENT_REPORT = JSON.parse(
  readFileSync(`${FIXTURES}performance/credit-current/expected.json`, 'utf8'),
) as PerformanceReport;

/** Rows of a CSV without quoted commas (mlc_churn), quotes removed, numbers as numbers. */
export function parseSimpleCsv(bytes: Uint8Array): {
  header: string[];
  rows: Record<string, string | number>[];
} {
  const [head, ...lines] = Buffer.from(bytes).toString('utf8').trimEnd().split('\n');
  const header = head!.split(',').map((name) => name.replaceAll('"', ''));
  const rows = lines.map((line) =>
    Object.fromEntries(
      line
        .split(',')
        .map((field, i) => [header[i]!, field.startsWith('"') ? field.replaceAll('"', '') : Number(field)]),
    ),
  );
  return { header, rows };
}

/** Writes rows back as CSV (numbers as JavaScript prints them, text quoted). */
export function toCsv(header: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const cell = (value: unknown) =>
    value === null || value === undefined
      ? ''
      : typeof value === 'number'
        ? String(value)
        : `"${String(value)}"`;
  return `${[header.join(','), ...rows.map((row) => header.map((name) => cell(row[name])).join(','))].join('\n')}\n`;
}

/**
 * The report `driftwatch evaluate` gives for a churn file scored by {@link churnScore}: what the handler must
 * find when the stub endpoint scores the same rows.
 */
export async function expectedChurnReport(bytes: Uint8Array): Promise<PerformanceReport> {
  const { rows } = parseSimpleCsv(bytes);
  const scored = rows.map((row) => ({
    churn: row['churn'],
    score: churnScore(row),
    area_code: row['area_code'],
  }));
  const text = toCsv(['churn', 'score', 'area_code'], scored);
  const { report } = await evaluateTable(
    {
      name: 'expected.csv',
      open: async function* () {
        yield Buffer.from(text);
      },
    },
    { label: 'churn', score: 'score', positive: 'yes', segment: 'area_code', classes: ['no', 'yes'] },
  );
  return report;
}
