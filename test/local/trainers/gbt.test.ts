import { describe, expect, it } from 'vitest';
import { fitBoostedTrees, treeValue } from '../../../local/trainers/gbt.ts';
import { parseHyperparameters } from '../../../local/trainers/hyperparameters.ts';
import { seededRandom } from '../../../local/trainers/random.ts';
import { trainModel } from '../../../local/trainers/train.ts';
import { csvTable } from './table.ts';

/** An XOR of two signs: no linear model does better than chance, a depth-2 tree gets it all. */
function xorTable(rows: number, seed: number): string {
  const random = seededRandom(seed);
  const lines = ['a,b,y'];
  for (let i = 0; i < rows; i++) {
    const a = random() * 2 - 1;
    const b = random() * 2 - 1;
    lines.push(`${a.toFixed(4)},${b.toFixed(4)},${a * b > 0 ? 1 : 0}`);
  }
  return lines.join('\n');
}

const accuracyOf = (metrics: { name: string; value: number }[]) =>
  metrics.find((metric) => metric.name === 'validation:accuracy')!.value;

describe('gradient-boosted trees', () => {
  const train = csvTable(xorTable(800, 1));
  const validation = csvTable(xorTable(400, 2));

  it('learns an interaction that logistic regression cannot', () => {
    const trees = trainModel(parseHyperparameters('gbt', { label: 'y', num_round: '30' }), train, validation);
    const linear = trainModel(parseHyperparameters('logistic', { label: 'y' }), train, validation);
    expect(accuracyOf(trees.metrics)).toBeGreaterThan(0.95);
    expect(accuracyOf(linear.metrics)).toBeLessThan(0.65);
  });

  it('is deterministic for a seed and draws different subsamples for another', () => {
    const grow = (seed: string) =>
      trainModel(parseHyperparameters('gbt', { label: 'y', num_round: '5', subsample: '0.5', seed }), train)
        .model;
    expect(JSON.stringify(grow('7'))).toBe(JSON.stringify(grow('7')));
    expect(JSON.stringify(grow('7'))).not.toBe(JSON.stringify(grow('8')));
  });

  it('grows stumps at depth 1 and routes x <= threshold to the left', () => {
    const x = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const y = Uint8Array.from([0, 0, 0, 1, 1, 1]);
    const { trees } = fitBoostedTrees(x, 6, 1, y, {
      rounds: 1,
      maxDepth: 1,
      eta: 1,
      l2: 0,
      minChildWeight: 0,
      subsample: 1,
      maxBins: 32,
      seed: 0,
    });
    const tree = trees[0]!;
    expect(tree.feature).toEqual([0, -1, -1]);
    expect(tree.threshold[0]).toBe(3);
    expect(treeValue(tree, [3], 0)).toBeLessThan(0);
    expect(treeValue(tree, [3.5], 0)).toBeGreaterThan(0);
  });
});
