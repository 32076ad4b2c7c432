import { describe, expect, it } from 'vitest';
import { runDrift } from '../../../lambdas/core/drift/run.ts';
import { decideWithFdr, explain } from '../../../lambdas/core/drift/significance.ts';
import type { FeatureDrift } from '../../../lambdas/core/drift/types.ts';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import { benjaminiHochberg } from '../../../lambdas/core/stats/fdr.ts';

function entry(feature: string, segment: string | null, pValue: number, effect: number): FeatureDrift {
  return {
    feature,
    segment: segment === null ? null : { column: 'region', value: segment },
    type: 'numeric',
    missing: { baseline: 0, current: 0 },
    method: 'ks',
    score: pValue,
    threshold: 0.05,
    drifted: pValue < 0.05,
    tests: {
      ks: { statistic: effect, pValue },
      psi: { value: 0 },
      jensenShannon: { value: 0 },
      wasserstein: { value: 0 },
    },
    count: { baseline: 100, current: 100 },
    sampled: false,
    pValue,
    effect,
    minEffect: 0.1,
  };
}

describe('decideWithFdr', () => {
  it('adjusts the whole-dataset entries and the (feature, segment) pairs as two families', () => {
    const entries = [
      entry('a', null, 0.01, 0.3),
      entry('b', null, 0.04, 0.3),
      entry('a', 'north', 0.01, 0.3),
      entry('b', 'north', 0.2, 0.3),
      entry('a', 'south', 0.3, 0.3),
      entry('b', 'south', 0.9, 0.3),
    ];
    decideWithFdr(entries, 0.05);
    expect(entries.slice(0, 2).map((e) => e.pValueAdjusted)).toEqual(benjaminiHochberg([0.01, 0.04]));
    expect(entries.slice(2).map((e) => e.pValueAdjusted)).toEqual(benjaminiHochberg([0.01, 0.2, 0.3, 0.9]));
    // a@north: raw 0.01, adjusted 0.04 among four pairs: still drifted; b overall: 0.04 -> 0.04.
    expect(entries.map((e) => e.drifted)).toEqual([true, true, true, false, false, false]);
  });

  it('needs both: significant after adjustment and an effect of at least the minimum', () => {
    const entries = [
      entry('small', null, 1e-9, 0.05),
      entry('large', null, 1e-9, 0.25),
      entry('noisy', null, 0.3, 0.4),
      entry('many', 'x', 0.01, 0.2),
      ...Array.from({ length: 9 }, (_, i) => entry(`f${i}`, 'x', 0.5, 0.01)),
    ];
    decideWithFdr(entries, 0.05);
    const [small, large, noisy, many] = entries;
    expect([small!.significant, small!.drifted]).toEqual([true, false]);
    expect(small!.reason).toBe(
      'not counted: significant (adjusted p 1.5e-9 ≤ 0.05) but D 0.05 < minimum effect 0.1',
    );
    expect(large!.drifted).toBe(true);
    expect(large!.reason).toBe('drifted: adjusted p 1.5e-9 ≤ 0.05 and D 0.25 ≥ minimum effect 0.1');
    expect(noisy!.drifted).toBe(false);
    expect(noisy!.reason).toBe(
      'not counted: D 0.4 ≥ minimum effect 0.1 but not significant, adjusted p 0.3 > 0.05',
    );
    // Significant alone (0.01), not among ten pairs (adjusted 0.1).
    expect(many!.pValueAdjusted).toBeCloseTo(0.1, 12);
    expect(many!.drifted).toBe(false);
    expect(many!.reason).toContain('raw p 0.01: significant alone, not among this many tests');
    expect(explain(entries[4]!, 0.05)).toMatch(
      /^no drift: adjusted p 0\.5 > 0\.05, D 0\.01 < minimum effect 0\.1$/,
    );
  });
});

const LARGE = new URL('../../fixtures/scenarios/large-150k/', import.meta.url).pathname;

describe('minimum effect on 150,000 gzip rows per side', () => {
  // Very slight shifts: at this size KS and chi-square find them (p < 0.05), but D and Cramér's V are tiny.
  const run = (options: object) =>
    runDrift(
      { kind: 'data', input: fileInput(`${LARGE}baseline.csv.gz`) },
      fileInput(`${LARGE}current.csv.gz`),
      {
        method: { method: 'ks' },
        features: { device: { method: 'chi2' }, country: { method: 'chi2' } },
        ...options,
      },
    );

  it('reports significant but tiny differences without counting them as drift', async () => {
    const v1 = await run({});
    const byName = (report: typeof v1) => new Map(report.features.map((e) => [e.feature, e]));
    const old = byName(v1);
    // Version 1: a p-value below 0.05 is drift, however small the difference.
    expect(['latency_ms', 'amount', 'device'].map((f) => old.get(f)!.drifted)).toEqual([true, true, true]);
    expect(v1.metadata?.specVersion).toBe(1);
    expect(old.get('latency_ms')!.pValue).toBeUndefined();

    const v2 = await run({ fdr: 0.05 });
    const now = byName(v2);
    expect(v2.metadata?.specVersion).toBe(2);
    for (const feature of ['latency_ms', 'amount', 'device']) {
      const e = now.get(feature)!;
      expect(e.significant, feature).toBe(true);
      expect(e.effect!, feature).toBeLessThan(0.02);
      expect(e.drifted, feature).toBe(false);
      expect(e.reason, feature).toMatch(
        /^not counted: significant .* but (D|Cramér's V) 0\.0\d+ < minimum effect 0\.1$/,
      );
    }
    expect(v2.features.some((e) => e.drifted)).toBe(false);

    // With no minimum effect, significance alone decides again.
    const bare = byName(await run({ fdr: 0.05, minEffect: { ks: 0, chi2: 0 } }));
    expect(['latency_ms', 'amount', 'device'].map((f) => bare.get(f)!.drifted)).toEqual([true, true, true]);
  }, 60_000);

  it('refuses a minimum effect without --fdr, and an FDR level outside (0, 1]', async () => {
    await expect(run({ minEffect: { ks: 0.2 } })).rejects.toThrow(ConfigError);
    await expect(run({ fdr: 0 })).rejects.toThrow(/FDR level in \(0, 1\]/);
    await expect(run({ fdr: 0.05, minEffect: { ks: 2 } })).rejects.toThrow(/--min-effect\.ks/);
  });
});
