import { ConvergenceError } from './errors.ts';

/** Options of {@link fitLogistic}. */
export interface LogisticOptions {
  /** L2 penalty λ on the weights (not the intercept): the objective is mean log loss + λ/2 · ‖w‖². */
  l2: number;
  /** `newton` (IRLS with a backtracking line search, for a few hundred inputs at most) or `gd`. */
  solver: 'newton' | 'gd';
  /** Most Newton iterations, or the number of gradient-descent steps. */
  epochs: number;
  /** Step size of gradient descent; unused by Newton. */
  learningRate: number;
  /** Newton stops once no coefficient moves by more than this. */
  tolerance: number;
}

export interface LogisticFit {
  weights: Float64Array;
  intercept: number;
  /** Iterations (Newton) or steps (gradient descent) taken. */
  iterations: number;
  /** The objective at the solution. */
  objective: number;
}

/** The logistic function, computed without overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** ln(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** The linear predictor z = Xw + b of every row. */
function margins(x: Float64Array, n: number, d: number, weights: Float64Array, intercept: number) {
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = intercept;
    const offset = i * d;
    for (let j = 0; j < d; j++) sum += x[offset + j]! * weights[j]!;
    z[i] = sum;
  }
  return z;
}

/** Mean log loss + λ/2 ‖w‖², with the loss of a row written as softplus(z) − y·z. */
function objective(z: Float64Array, y: Uint8Array, weights: Float64Array, l2: number): number {
  let loss = 0;
  for (let i = 0; i < z.length; i++) loss += softplus(z[i]!) - y[i]! * z[i]!;
  let norm = 0;
  for (const w of weights) norm += w * w;
  return loss / z.length + (l2 / 2) * norm;
}

/**
 * Fits an L2-regularised logistic regression: minimises (1/n) Σ log loss + λ/2 ‖w‖² over the weights w and
 * an unpenalised intercept b (the objective of scikit-learn's `LogisticRegression(C = 1 / (n·λ))`). Starts
 * from w = 0 and b = logit(share of positives), so a model with nothing to learn is already optimal. Fully
 * deterministic: no random start, no shuffling.
 *
 * Newton's method solves (H) δ = g by Cholesky at every step, where H = Xᵀ diag(p(1−p)) X / n + λI; with
 * λ > 0 the objective is strictly convex and the step halving keeps each step a descent, so it converges in
 * a handful of iterations. Gradient descent takes `epochs` plain full-batch steps.
 *
 * @param x row-major n × d inputs (already standardised / one-hot encoded)
 * @param y 1 for the positive class, 0 otherwise
 * @throws ConvergenceError when the Hessian is singular (λ = 0 with collinear inputs) or the loss is not finite.
 */
export function fitLogistic(
  x: Float64Array,
  n: number,
  d: number,
  y: Uint8Array,
  options: LogisticOptions,
): LogisticFit {
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i]!;
  const share = Math.min(Math.max(positives / n, 1e-12), 1 - 1e-12);
  const weights = new Float64Array(d);
  let intercept = Math.log(share / (1 - share));
  const solve = options.solver === 'newton' ? newtonStep : gradientStep;
  let iterations = 0;
  let current = objective(margins(x, n, d, weights, intercept), y, weights, options.l2);
  while (iterations < options.epochs) {
    iterations++;
    const step = solve(x, n, d, y, weights, intercept, options);
    intercept = step.intercept;
    weights.set(step.weights);
    current = step.objective;
    if (!Number.isFinite(current)) {
      throw new ConvergenceError(
        `the loss is ${current} after ${iterations} iterations: lower learning_rate`,
      );
    }
    if (options.solver === 'newton' && step.change <= options.tolerance) break;
  }
  return { weights, intercept, iterations, objective: current };
}

interface Step {
  weights: Float64Array;
  intercept: number;
  objective: number;
  /** Largest change of a coefficient. */
  change: number;
}

/** The gradient of the objective: [∂/∂w (d values), ∂/∂b], and the probabilities it was computed from. */
function gradient(
  x: Float64Array,
  n: number,
  d: number,
  y: Uint8Array,
  weights: Float64Array,
  intercept: number,
  l2: number,
) {
  const z = margins(x, n, d, weights, intercept);
  const p = z.map(sigmoid);
  const g = new Float64Array(d + 1);
  for (let i = 0; i < n; i++) {
    const residual = p[i]! - y[i]!;
    const offset = i * d;
    for (let j = 0; j < d; j++) g[j]! += residual * x[offset + j]!;
    g[d]! += residual;
  }
  for (let j = 0; j <= d; j++) g[j]! /= n;
  for (let j = 0; j < d; j++) g[j]! += l2 * weights[j]!;
  return { g, p };
}

function gradientStep(
  x: Float64Array,
  n: number,
  d: number,
  y: Uint8Array,
  weights: Float64Array,
  intercept: number,
  options: LogisticOptions,
): Step {
  const { g } = gradient(x, n, d, y, weights, intercept, options.l2);
  const next = new Float64Array(d);
  let change = 0;
  for (let j = 0; j < d; j++) {
    next[j] = weights[j]! - options.learningRate * g[j]!;
    change = Math.max(change, Math.abs(options.learningRate * g[j]!));
  }
  const nextIntercept = intercept - options.learningRate * g[d]!;
  change = Math.max(change, Math.abs(options.learningRate * g[d]!));
  const value = objective(margins(x, n, d, next, nextIntercept), y, next, options.l2);
  return { weights: next, intercept: nextIntercept, objective: value, change };
}

function newtonStep(
  x: Float64Array,
  n: number,
  d: number,
  y: Uint8Array,
  weights: Float64Array,
  intercept: number,
  options: LogisticOptions,
): Step {
  const { g, p } = gradient(x, n, d, y, weights, intercept, options.l2);
  // The Hessian over [w, b], the intercept as an input that is always 1; only its lower triangle is filled.
  const size = d + 1;
  const h = new Float64Array(size * size);
  const row = new Float64Array(size);
  row[d] = 1;
  for (let i = 0; i < n; i++) {
    const s = p[i]! * (1 - p[i]!);
    if (s === 0) continue;
    row.set(x.subarray(i * d, i * d + d));
    for (let a = 0; a < size; a++) {
      const sa = s * row[a]!;
      if (sa === 0) continue;
      const offset = a * size;
      for (let b = 0; b <= a; b++) h[offset + b]! += sa * row[b]!;
    }
  }
  for (let a = 0; a < size * size; a++) h[a]! /= n;
  for (let j = 0; j < d; j++) h[j * size + j]! += options.l2;
  const delta = choleskySolve(h, size, g);

  const before = objective(margins(x, n, d, weights, intercept), y, weights, options.l2);
  let slope = 0;
  for (let j = 0; j < size; j++) slope += g[j]! * delta[j]!;
  let t = 1;
  for (let halvings = 0; ; halvings++) {
    const next = new Float64Array(d);
    for (let j = 0; j < d; j++) next[j] = weights[j]! - t * delta[j]!;
    const nextIntercept = intercept - t * delta[d]!;
    const value = objective(margins(x, n, d, next, nextIntercept), y, next, options.l2);
    // Armijo: accept a step that decreases the objective by a fair share of what the slope promises.
    if (value <= before - 1e-4 * t * slope || halvings === 30) {
      let change = 0;
      for (let j = 0; j < size; j++) change = Math.max(change, Math.abs(t * delta[j]!));
      return { weights: next, intercept: nextIntercept, objective: value, change };
    }
    t /= 2;
  }
}

/**
 * Solves A x = b for a symmetric positive definite A given by its lower triangle (row-major, size × size).
 * @throws ConvergenceError when A is not positive definite.
 */
export function choleskySolve(a: Float64Array, size: number, b: Float64Array): Float64Array {
  const l = new Float64Array(size * size);
  let largest = 0;
  for (let i = 0; i < size; i++) largest = Math.max(largest, Math.abs(a[i * size + i]!));
  // A pivot this far below the diagonal is rounding noise: the matrix is singular to working precision.
  const smallest = largest * 1e-13;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * size + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * size + k]! * l[j * size + k]!;
      if (i === j) {
        if (!(sum > smallest)) {
          throw new ConvergenceError(
            'the Hessian is singular (collinear or constant inputs without an L2 penalty): set l2 > 0',
          );
        }
        l[i * size + i] = Math.sqrt(sum);
      } else {
        l[i * size + j] = sum / l[j * size + j]!;
      }
    }
  }
  const solution = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i * size + k]! * solution[k]!;
    solution[i] = sum / l[i * size + i]!;
  }
  for (let i = size - 1; i >= 0; i--) {
    let sum = solution[i]!;
    for (let k = i + 1; k < size; k++) sum -= l[k * size + i]! * solution[k]!;
    solution[i] = sum / l[i * size + i]!;
  }
  return solution;
}
