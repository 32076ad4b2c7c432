/**
 * Does the CBPE estimate track the realized accuracy when the customers shift month by month? On the MLC
 * churn set (test/fixtures/data/mlc_churn.csv):
 *
 * 1. a logistic model (the local trainer) is trained on customers 1-2,000; its scores on customers
 *    2,001-3,000, with their labels, are the reference the calibrator is fitted on;
 * 2. twelve months of 1,000 customers each are drawn, with replacement, from customers 3,001-5,000 with a
 *    weight that grows month by month for heavy day callers on the international plan with many service
 *    calls: the covariates shift, while each customer keeps their real label, so the relation between
 *    features and churn stays what it is (no concept drift, CBPE's assumption);
 * 3. each month, CBPE's estimated accuracy (from the scores alone) is compared with the realized accuracy
 *    (scores against the labels).
 *
 * `node scripts/cbpe-months.ts` prints the months and the mean and max absolute error; the test
 * `test/core/performance/cbpe-months.test.ts` holds the error to the bound docs/deploy.md states.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { estimateFromRows } from '../lambdas/core/performance/cbpe.ts';
import type { ScoredRows } from '../lambdas/core/performance/evaluate.ts';
import { column, parseChurn, random } from '../local/demo/data.ts';
import type { Table as TrainerTable } from '../local/trainers/dataset.ts';
import { parseHyperparameters } from '../local/trainers/hyperparameters.ts';
import { scoreRows } from '../local/trainers/model.ts';
import { trainModel } from '../local/trainers/train.ts';

export const CHURN_CSV = fileURLToPath(new URL('../test/fixtures/data/mlc_churn.csv', import.meta.url));

/** One month: the shift's strength, the estimated and the realized accuracy. */
export interface MonthResult {
  month: number;
  /** The weight's exponent: 0 draws customers as they come. */
  shift: number;
  /** Share of the month's customers on the international plan (1 in 10 without a shift). */
  internationalShare: number;
  estimated: number;
  realized: number;
}

const unquote = (cell: string) => cell.replaceAll('"', '');

/** Runs the comparison (deterministic: the same months every run). */
export function cbpeMonths(csvPath = CHURN_CSV, months = 12, rowsPerMonth = 1000): MonthResult[] {
  const table = parseChurn(readFileSync(csvPath, 'utf8'));
  const names = table.header.map(unquote);
  const asTrainer = (rows: string[][]): TrainerTable => ({
    columns: names,
    rows: rows.map((r) => r.map(unquote)),
  });
  const train = table.rows.slice(0, 2000);
  const referenceRows = table.rows.slice(2000, 3000);
  const pool = table.rows.slice(3000);

  const { model } = trainModel(
    parseHyperparameters('logistic', { label: 'churn', positive: 'yes', exclude: 'area_code,state' }),
    asTrainer(train),
  );
  const instances = (rows: string[][]) =>
    rows.map((row) =>
      Object.fromEntries(
        names.map((name, i) => [name, row[i]!.startsWith('"') ? unquote(row[i]!) : Number(row[i])]),
      ),
    );
  const churn = column(table, 'churn');
  const scored = (rows: string[][]): ScoredRows => {
    const scores = Float64Array.from(scoreRows(model, instances(rows)));
    return {
      rowsRead: rows.length,
      scores,
      labels: Uint8Array.from(rows, (row) => (unquote(row[churn]!) === 'yes' ? 1 : 0)),
      segmentIds: null,
      segmentValues: [],
      labelValues: ['no', 'yes'],
      warnings: [],
    };
  };
  const reference = scored(referenceRows);

  // Who becomes more common: heavy day callers, international-plan customers, frequent callers to service.
  const plan = column(table, 'international_plan');
  const minutes = column(table, 'total_day_minutes');
  const service = column(table, 'number_customer_service_calls');
  const score = (row: string[]) =>
    (Number(row[minutes]) - 180) / 55 +
    (unquote(row[plan]!) === 'yes' ? 1.5 : 0) +
    (Number(row[service]) - 1.5) / 1.3;
  const next = random(13);
  const results: MonthResult[] = [];
  for (let month = 0; month < months; month++) {
    const shift = (1.2 * month) / (months - 1);
    const weights = pool.map((row) => Math.exp(shift * score(row)));
    const cumulative: number[] = [];
    let total = 0;
    for (const weight of weights) {
      total += weight;
      cumulative.push(total);
    }
    const rows: string[][] = [];
    for (let i = 0; i < rowsPerMonth; i++) {
      const target = next() * total;
      let low = 0;
      let high = cumulative.length - 1;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (cumulative[middle]! < target) low = middle + 1;
        else high = middle;
      }
      rows.push(pool[low]!);
    }
    const current = scored(rows);
    const { report } = estimateFromRows(reference, current, 0.5, null);
    let correct = 0;
    for (let i = 0; i < current.scores.length; i++) {
      if ((current.scores[i]! >= 0.5 ? 1 : 0) === current.labels[i]) correct++;
    }
    results.push({
      month: month + 1,
      shift,
      internationalShare: rows.filter((row) => unquote(row[plan]!) === 'yes').length / rows.length,
      estimated: report.metrics.accuracy!,
      realized: correct / rows.length,
    });
  }
  return results;
}

/** Mean and max absolute error of the estimate over the months. */
export function estimateErrors(results: readonly MonthResult[]): { mean: number; max: number } {
  const errors = results.map((r) => Math.abs(r.estimated - r.realized));
  return { mean: errors.reduce((a, b) => a + b, 0) / errors.length, max: Math.max(...errors) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = cbpeMonths();
  console.log('month  shift  intl plan  estimated  realized  error');
  for (const r of results) {
    console.log(
      `${String(r.month).padStart(5)}  ${r.shift.toFixed(2)}  ${(r.internationalShare * 100).toFixed(0).padStart(8)}%  ` +
        `${r.estimated.toFixed(4).padStart(9)}  ${r.realized.toFixed(4).padStart(8)}  ${(r.estimated - r.realized).toFixed(4).padStart(6)}`,
    );
  }
  const { mean, max } = estimateErrors(results);
  console.log(`mean absolute error ${mean.toFixed(4)}, max ${max.toFixed(4)}`);
}
