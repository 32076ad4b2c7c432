/**
 * `npm run demo`: the local drift check on real data (the MLC churn set), end to end through the same core
 * the Lambdas run. A training month becomes the baseline profile; a clean month shows no drift; a month in
 * which more customers take the international plan and talk longer by day shows drift. Reports go to
 * out/demo/.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { profileFromJson, profileToJson } from '../lambdas/core/drift/profile.ts';
import { profileTable, runDrift } from '../lambdas/core/drift/run.ts';
import type { DriftReport } from '../lambdas/core/drift/types.ts';
import { fileInput } from '../lambdas/core/readers/input.ts';
import { renderHtmlReport } from '../lambdas/core/report/html.ts';
import { renderTextReport } from '../lambdas/core/report/text.ts';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'out', 'demo');
const started = Date.now();
const say = (line: string) =>
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

/** Deterministic pseudo-random numbers, so every run of the demo tells the same story. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The churn file has quoted fields but no commas inside them, so a plain split is enough here. */
function split(text: string): { header: string[]; rows: string[][] } {
  const [head, ...lines] = text.trim().split(/\r?\n/);
  return { header: head!.split(','), rows: lines.map((line) => line.split(',')) };
}

function toCsv(header: string[], rows: string[][]): string {
  return `${[header, ...rows].map((row) => row.join(',')).join('\n')}\n`;
}

function shiftMonth(header: string[], rows: string[][]): string[][] {
  const at = (name: string) => header.indexOf(`"${name}"`);
  const plan = at('international_plan');
  const dayMinutes = at('total_day_minutes');
  const dayCharge = at('total_day_charge');
  const next = random(7);
  return rows.map((row) => {
    const copy = [...row];
    if (next() < 0.3) {
      copy[plan] = '"yes"';
      const minutes = Number(copy[dayMinutes]) * 1.25;
      copy[dayMinutes] = minutes.toFixed(1);
      copy[dayCharge] = (minutes * 0.17).toFixed(2);
    }
    return copy;
  });
}

async function check(name: string, baseline: string, file: string): Promise<DriftReport> {
  const report = await runDrift(
    { kind: 'profile', profile: profileFromJson(await readFile(baseline, 'utf8'), baseline) },
    fileInput(file),
    {},
  );
  await writeFile(join(out, `${name}.json`), JSON.stringify(report, null, 2));
  await writeFile(join(out, `${name}.html`), renderHtmlReport(report, { title: `driftwatch demo: ${name}` }));
  const drifted = report.features.filter((f) => f.segment === null && f.drifted).map((f) => f.feature);
  say(
    `${name}: ${report.datasetDrift ? 'DATASET DRIFT' : 'no dataset drift'} ` +
      `(${drifted.length} of ${report.features.filter((f) => f.segment === null).length} features drifted` +
      `${drifted.length ? `: ${drifted.join(', ')}` : ''}) -> out/demo/${name}.html`,
  );
  return report;
}

await mkdir(out, { recursive: true });
const { header, rows } = split(await readFile(join(root, 'test/fixtures/data/mlc_churn.csv'), 'utf8'));
say(`loaded mlc_churn.csv: ${rows.length} customers, ${header.length - 1} features + churn label`);
const training = rows.slice(0, 2500);
const clean = rows.slice(2500);
await writeFile(join(out, 'training.csv'), toCsv(header, training));
await writeFile(join(out, 'month-clean.csv'), toCsv(header, clean));
await writeFile(join(out, 'month-shifted.csv'), toCsv(header, shiftMonth(header, clean)));

const profile = await profileTable(fileInput(join(out, 'training.csv')), {
  exclude: ['churn'],
  segment: 'area_code',
});
const profilePath = join(out, 'baseline.profile.json');
await writeFile(profilePath, profileToJson(profile));
say(
  `baseline profile: ${profile.rows} rows, ${profile.features.length} features, ${profile.segments.length} segments of area_code`,
);

await check('month-clean', profilePath, join(out, 'month-clean.csv'));
const shifted = await check('month-shifted', profilePath, join(out, 'month-shifted.csv'));
process.stdout.write(
  `\n${renderTextReport({ ...shifted, features: shifted.features.filter((f) => f.segment === null) }, { color: Boolean(process.stdout.isTTY) })}\n`,
);
say('done');
