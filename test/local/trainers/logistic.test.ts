import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodedNames } from '../../../local/trainers/encoding.ts';
import { ConvergenceError } from '../../../local/trainers/errors.ts';
import { parseHyperparameters } from '../../../local/trainers/hyperparameters.ts';
import { choleskySolve, fitLogistic, sigmoid } from '../../../local/trainers/logistic.ts';
import { scoreRows } from '../../../local/trainers/model.ts';
import { trainModel } from '../../../local/trainers/train.ts';
import { expectClose } from '../../helpers/close.ts';
import { csvTable } from './table.ts';

interface Golden {
  csv: string;
  encodedNames: string[];
  cases: { l2: number; weights: number[]; intercept: number; firstProbabilities: number[] }[];
}

const golden = JSON.parse(readFileSync(new URL('golden/logistic.json', import.meta.url), 'utf8')) as Golden;
const table = csvTable(golden.csv);
// Newton stops at a step of 1e-8 and scikit-learn's newton-cg at tol 1e-8: agreement to ~1e-7.
const TOLERANCE = { relative: 1e-6, absolute: 1e-7 };

describe('logistic regression against scikit-learn 1.2', () => {
  for (const expected of golden.cases) {
    it(`matches LogisticRegression(C = 1 / (n·λ)) at λ = ${expected.l2}`, () => {
      const parameters = parseHyperparameters('logistic', {
        label: 'label',
        positive: 'yes',
        l2: String(expected.l2),
      });
      const { model } = trainModel(parameters, table);
      expect(model.algorithm).toBe('logistic');
      if (model.algorithm !== 'logistic') return;
      expect(encodedNames(model.features)).toEqual(golden.encodedNames);
      model.weights.forEach((weight, j) => {
        expectClose(weight, expected.weights[j]!, golden.encodedNames[j], TOLERANCE);
      });
      expectClose(model.intercept, expected.intercept, 'intercept', TOLERANCE);
      const rows = table.rows
        .slice(0, 5)
        .map((row) => Object.fromEntries(table.columns.map((c, i) => [c, row[i]])));
      scoreRows(model, rows).forEach((score, i) => {
        expectClose(score, expected.firstProbabilities[i]!, `probability of row ${i + 1}`, TOLERANCE);
      });
    });
  }

  it('reaches the same optimum by gradient descent, more slowly', () => {
    const expected = golden.cases[1]!;
    const parameters = parseHyperparameters('logistic', {
      label: 'label',
      positive: 'yes',
      l2: String(expected.l2),
      solver: 'gd',
      epochs: '3000',
      learning_rate: '1',
    });
    const { model } = trainModel(parameters, table);
    if (model.algorithm !== 'logistic') throw new Error('expected a logistic model');
    model.weights.forEach((weight, j) => {
      expectClose(weight, expected.weights[j]!, golden.encodedNames[j], { relative: 1e-4, absolute: 1e-5 });
    });
  });
});

describe('fitLogistic', () => {
  it('has zero gradient at its solution (finite differences of the objective)', () => {
    // y depends on x through a noisy threshold, so the optimum is finite even with a tiny penalty.
    const x = Float64Array.from([-2, -1, -0.5, 0, 0.3, 0.5, 1, 1.5, 2, -1.2]);
    const y = Uint8Array.from([0, 0, 1, 0, 1, 0, 1, 1, 1, 0]);
    const l2 = 0.05;
    const fit = fitLogistic(x, 10, 1, y, {
      l2,
      solver: 'newton',
      epochs: 50,
      learningRate: 0.1,
      tolerance: 1e-12,
    });
    const objective = (w: number, b: number) => {
      let loss = 0;
      for (let i = 0; i < 10; i++) {
        const p = sigmoid(w * x[i]! + b);
        loss -= y[i] === 1 ? Math.log(p) : Math.log(1 - p);
      }
      return loss / 10 + (l2 / 2) * w * w;
    };
    const w = fit.weights[0]!;
    const b = fit.intercept;
    const h = 1e-6;
    expect(Math.abs((objective(w + h, b) - objective(w - h, b)) / (2 * h))).toBeLessThan(1e-8);
    expect(Math.abs((objective(w, b + h) - objective(w, b - h)) / (2 * h))).toBeLessThan(1e-8);
    expectClose(fit.objective, objective(w, b), 'objective');
  });

  it('starts at the share of positives, so nothing to learn takes one step', () => {
    const x = new Float64Array(8);
    const y = Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0]);
    const fit = fitLogistic(x, 8, 1, y, {
      l2: 1,
      solver: 'newton',
      epochs: 50,
      learningRate: 0.1,
      tolerance: 1e-10,
    });
    expectClose(sigmoid(fit.intercept), 0.25, 'base rate');
    expect(fit.iterations).toBe(1);
  });

  it('refuses a singular system: collinear one-hot inputs without a penalty', () => {
    const x = Float64Array.from([1, 0, 0, 1, 1, 0, 0, 1]);
    const y = Uint8Array.from([1, 0, 0, 1]);
    expect(() =>
      fitLogistic(x, 4, 2, y, { l2: 0, solver: 'newton', epochs: 5, learningRate: 0.1, tolerance: 1e-10 }),
    ).toThrow(ConvergenceError);
  });

  it('solves symmetric positive definite systems by Cholesky', () => {
    // [[4, 2], [2, 3]] x = [2, 1] → x = [0.5, 0]
    const solution = choleskySolve(Float64Array.from([4, 0, 2, 3]), 2, Float64Array.from([2, 1]));
    expectClose(solution[0]!, 0.5, 'x0');
    expectClose(solution[1]!, 0, 'x1');
  });
});
