import { readFileSync } from 'node:fs';
import { type CaptureRecord, jsonInput, jsonOutput, record } from './capture-files.ts';

/** A row of a churn scenario CSV, with the model's score added. */
export type ChurnRow = Record<string, string | number>;

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

/**
 * Capture records of rows, as an endpoint sending `{"instances": [...]}` and answering
 * `{"predictions": [...]}` writes them: 1 to 3 rows a request, the label left out.
 */
export function churnCaptureText(rows: ChurnRow[], time: Date): string {
  const records: CaptureRecord[] = [];
  for (let at = 0, n = 0; at < rows.length; n++) {
    const take = (n % 3) + 1;
    const batch = rows.slice(at, at + take);
    at += take;
    const instances = batch.map(({ churn: _label, score: _score, ...features }) => features);
    records.push(
      record(
        jsonInput({ instances }),
        jsonOutput({ predictions: batch.map((row) => ({ score: row['score'] })) }),
        `event-${time.getTime()}-${n}`,
        time.toISOString(),
      ),
    );
  }
  return `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
}
