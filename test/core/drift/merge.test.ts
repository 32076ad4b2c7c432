import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeDriftReport } from '../../../lambdas/core/drift/compute.ts';
import { mergeTableProfiles } from '../../../lambdas/core/drift/merge.ts';
import { type DriftOptions, resolveColumnOptions } from '../../../lambdas/core/drift/options.ts';
import type { TableProfile } from '../../../lambdas/core/drift/profile.ts';
import { profileInOnePass } from '../../../lambdas/core/drift/run.ts';
import { binEdgesOf } from '../../../lambdas/core/drift/table-accumulator.ts';
import type { TableInput } from '../../../lambdas/core/readers/input.ts';
import { expectJsonClose, type Json } from '../../helpers/compare-json.ts';

/**
 * Merge exactness: the drift report of a window checked by merging the partial profiles of its files
 * equals the report of one file holding the same rows, within the drift spec's tolerance (relative 1e-6,
 * absolute 1e-9), while the sample cap is not reached.
 */
const [header, ...lines] = readFileSync(new URL('../../fixtures/data/mlc_churn.csv', import.meta.url), 'utf8')
  .trimEnd()
  .split('\n');

const table = (name: string, rows: string[]): TableInput => ({
  name,
  open: async function* () {
    yield new TextEncoder().encode(`${header}\n${rows.join('\n')}\n`);
  },
});

async function reports(options: DriftOptions, cuts: number[]) {
  const resolved = resolveColumnOptions(options);
  const baseline = await profileInOnePass(table('baseline.csv', lines.slice(0, 2000)), resolved, {
    name: 'baseline.csv',
  });
  const current = lines.slice(2000);
  const context = (name: string) => ({
    name,
    expected: { columns: new Set(baseline.features), source: baseline.name },
    edges: binEdgesOf(baseline),
  });
  const profile = (name: string, rows: string[]) =>
    profileInOnePass(table(name, rows), resolved, context(name));
  const whole = await profile('window.csv', current);
  const parts: TableProfile[] = [];
  let start = 0;
  for (const [i, end] of [...cuts, current.length].entries()) {
    parts.push(await profile(`part-${i}.csv`, current.slice(start, end)));
    start = end;
  }
  const merged = mergeTableProfiles(parts, { name: 'window.csv' });
  const report = (profile: TableProfile) => {
    const { metadata: _, ...rest } = computeDriftReport(baseline, profile, options, resolved, new Map());
    return rest as unknown as Json;
  };
  return { whole, parts, merged, wholeReport: report(whole), mergedReport: report(merged) };
}

describe('merged partial profiles', () => {
  it('give the report of one file with the same rows (numeric, categorical, segments)', async () => {
    const { whole, merged, wholeReport, mergedReport } = await reports(
      { segment: 'area_code' },
      [1, 400, 1777, 2500],
    );
    expect(merged.rows).toBe(whole.rows);
    expect(merged.features).toEqual(whole.features);
    for (const [name, feature] of whole.whole) {
      const other = merged.whole.get(name)!;
      expect(other.sample, name).toEqual(feature.sample);
      expect(other.binCounts, name).toEqual(feature.binCounts);
      expect(other.categories, name).toEqual(feature.categories);
      expect([other.present, other.missing, other.min, other.max]).toEqual([
        feature.present,
        feature.missing,
        feature.min,
        feature.max,
      ]);
    }
    expectJsonClose(mergedReport, wholeReport, 'report', { keyOrder: true });
  });

  it('keep exactness with Wasserstein forced and a single part', async () => {
    const { wholeReport, mergedReport } = await reports({ method: { method: 'wasserstein' } }, []);
    expectJsonClose(mergedReport, wholeReport, 'report', { keyOrder: true });
  });

  it('past the sample cap, keep a uniform sample of the cap from every part', async () => {
    const { parts } = await reports({}, [1000, 2000]);
    const merged = mergeTableProfiles(parts, { sampleCap: 500 });
    const feature = merged.whole.get('total_day_minutes')!;
    expect(feature.numericCount).toBe(3000);
    expect(feature.sample.length).toBe(500);
    // Sorted, and every value one of the window's.
    for (let i = 1; i < feature.sample.length; i++)
      expect(feature.sample[i]!).toBeGreaterThanOrEqual(feature.sample[i - 1]!);
    expect(feature.min).toBeLessThanOrEqual(feature.sample[0]!);
  });

  it('refuse parts profiled with other options', async () => {
    const resolved = resolveColumnOptions({});
    const a = await profileInOnePass(table('a.csv', lines.slice(0, 10)), resolved, { name: 'a.csv' });
    const b = await profileInOnePass(table('b.csv', lines.slice(0, 10)), resolveColumnOptions({ seed: 7 }), {
      name: 'b.csv',
    });
    expect(() => mergeTableProfiles([a, b])).toThrow(/b\.csv was profiled with other column options/);
    expect(() => mergeTableProfiles([])).toThrow(RangeError);
  });
});
