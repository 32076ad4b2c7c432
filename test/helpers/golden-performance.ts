import { readFileSync } from 'node:fs';
import type { PerformanceMetrics } from '../../lambdas/core/performance/metrics.ts';

/**
 * Typed access to test/fixtures/golden/performance.json, written by scripts/golden/performance.py from
 * scikit-learn 1.2: per case the labels (1 positive, 0 negative), the scores, the threshold and sklearn's
 * metrics.
 */

export interface MetricCase {
  name: string;
  labels: number[];
  scores: number[];
  threshold: number;
  metrics: PerformanceMetrics;
}

export interface GoldenPerformance {
  generator: { sklearn: string; numpy: string; seed: number; logLossEpsilon: number };
  cases: MetricCase[];
}

let cache: GoldenPerformance | undefined;

export function goldenPerformance(): GoldenPerformance {
  cache ??= JSON.parse(
    readFileSync(new URL('../fixtures/golden/performance.json', import.meta.url), 'utf8'),
  ) as GoldenPerformance;
  return cache;
}
