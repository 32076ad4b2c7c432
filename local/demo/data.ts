/**
 * The demo's data, cut from the MLC churn set (5,000 customers, label `churn` yes/no): a training window,
 * a labelled golden dataset, a clean month and a shifted month. The shift is a realistic one: more
 * customers take the international plan and they talk longer by day, and (the concept drift) those heavy
 * international callers now churn much more often, so a model trained before the shift loses accuracy on
 * the new labelled data.
 */
import { readFileSync } from 'node:fs';

/** Deterministic pseudo-random numbers, so every run of the demo tells the same story. */
export function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export interface Table {
  header: string[];
  rows: string[][];
}

/** The churn file has quoted fields but no commas inside them, so a plain split is enough here. */
export function parseChurn(text: string): Table {
  const [head, ...lines] = text.trim().split(/\r?\n/);
  return { header: head!.split(','), rows: lines.map((line) => line.split(',')) };
}

export function toCsv(table: Table): string {
  return `${[table.header, ...table.rows].map((row) => row.join(',')).join('\n')}\n`;
}

/** Index of a (quoted) column. */
export function column(table: Table, name: string): number {
  const at = table.header.indexOf(`"${name}"`);
  if (at < 0) throw new Error(`no column ${name}`);
  return at;
}

/**
 * The shifted month: 30% more customers on the international plan with 25% longer day minutes (and the
 * matching charge), and among international-plan customers with long days most now churn.
 */
export function shiftMonth(table: Table, seed = 7): Table {
  const plan = column(table, 'international_plan');
  const dayMinutes = column(table, 'total_day_minutes');
  const dayCharge = column(table, 'total_day_charge');
  const churn = column(table, 'churn');
  const next = random(seed);
  const rows = table.rows.map((row) => {
    const copy = [...row];
    if (next() < 0.3) {
      copy[plan] = '"yes"';
      const minutes = Number(copy[dayMinutes]) * 1.25;
      copy[dayMinutes] = minutes.toFixed(1);
      copy[dayCharge] = (minutes * 0.17).toFixed(2);
    }
    if (copy[plan] === '"yes"' && Number(copy[dayMinutes]) > 200 && next() < 0.9) copy[churn] = '"yes"';
    return copy;
  });
  return { header: table.header, rows };
}

export interface DemoData {
  /** What the champion is trained on (and the baseline profile is computed from). */
  training: Table;
  /** Labelled data before the shift: the first golden dataset, the performance check's reference. */
  golden: Table;
  /** A month of new customers like the training window. */
  cleanMonth: Table;
  /** The next month, shifted (see {@link shiftMonth}). */
  shiftedMonth: Table;
  /** Labelled customers of the shifted month: the new golden dataset (and holdout of the retraining). */
  shiftedGolden: Table;
  /** More labelled customers of the shifted month: what the challenger trains on. */
  shiftedTraining: Table;
  /** Customers of the shifted month whose labels arrive during the canary (the traffic generator's). */
  shiftedTraffic: Table;
}

/** Splits the churn file: 2,000 training rows, 500 golden, 1,000 for the clean month, 1,500 shifted. */
export function demoData(csvPath: string): DemoData {
  const table = parseChurn(readFileSync(csvPath, 'utf8'));
  const slice = (from: number, to: number): Table => ({
    header: table.header,
    rows: table.rows.slice(from, to),
  });
  const shifted = shiftMonth(slice(3500, 5000));
  const part = (from: number, to: number): Table => ({
    header: table.header,
    rows: shifted.rows.slice(from, to),
  });
  return {
    training: slice(0, 2000),
    golden: slice(2000, 2500),
    cleanMonth: slice(2500, 3500),
    shiftedMonth: part(0, 1500),
    shiftedGolden: part(0, 500),
    shiftedTraining: part(500, 1200),
    shiftedTraffic: part(1200, 1500),
  };
}

/** The rows as objects of feature values (unquoted), without the label: InvokeEndpoint's instances. */
export function instances(table: Table, exclude: readonly string[]): Record<string, string | number>[] {
  const names = table.header.map((name) => name.replaceAll('"', ''));
  return table.rows.map((row) => {
    const instance: Record<string, string | number> = {};
    names.forEach((name, i) => {
      if (exclude.includes(name)) return;
      const raw = row[i] ?? '';
      instance[name] = raw.startsWith('"') ? raw.replaceAll('"', '') : Number(raw);
    });
    return instance;
  });
}

/** The labels of the rows (`yes`/`no`). */
export function labels(table: Table, label = 'churn'): string[] {
  const at = column(table, label);
  return table.rows.map((row) => row[at]!.replaceAll('"', ''));
}
