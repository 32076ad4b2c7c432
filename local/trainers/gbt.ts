import { sigmoid } from './logistic.ts';
import { seededRandom } from './random.ts';

/** Options of {@link fitBoostedTrees}. */
export interface BoostedTreesOptions {
  /** Number of trees. */
  rounds: number;
  /** Depth of each tree (1 = stumps). */
  maxDepth: number;
  /** Shrinkage applied to every leaf value. */
  eta: number;
  /** L2 penalty λ on leaf values: a leaf is −G / (H + λ). */
  l2: number;
  /** Smallest hessian sum (≈ rows · p(1−p)) a child may have. */
  minChildWeight: number;
  /** Share of rows each tree is grown on, drawn with the seeded generator. */
  subsample: number;
  /** Most candidate thresholds per input: quantiles of its values. */
  maxBins: number;
  seed: number;
}

/**
 * One regression tree in flat arrays, node 0 the root. A node with `feature[i] === -1` is a leaf worth
 * `value[i]`; otherwise a row goes to `left[i]` when its input `feature[i]` is ≤ `threshold[i]`, else to
 * `right[i]`.
 */
export interface Tree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
}

export interface BoostedTreesFit {
  /** The starting margin, logit of the share of positives. */
  intercept: number;
  trees: Tree[];
}

/** The margin a tree adds for one encoded row starting at `offset` of `x`. */
export function treeValue(tree: Tree, x: ArrayLike<number>, offset: number): number {
  let node = 0;
  while (tree.feature[node] !== -1) {
    node = x[offset + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  }
  return tree.value[node]!;
}

/** Candidate thresholds of each input and every row's bin: bin k holds values in (t[k−1], t[k]]. */
function binInputs(x: Float64Array, n: number, d: number, maxBins: number) {
  const thresholds: Float64Array[] = [];
  const bins: Uint16Array[] = [];
  const column = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) column[i] = x[i * d + j]!;
    const sorted = column.slice().sort();
    const cuts: number[] = [];
    for (let k = 1; k <= maxBins; k++) {
      const value = sorted[Math.min(n - 1, Math.max(0, Math.floor((k * n) / maxBins) - 1))]!;
      // The largest value is no threshold: nothing would go right of it.
      if (value < sorted[n - 1]! && (cuts.length === 0 || value > cuts[cuts.length - 1]!)) cuts.push(value);
    }
    const t = Float64Array.from(cuts);
    const b = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      let low = 0;
      let high = t.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (t[mid]! < column[i]!) low = mid + 1;
        else high = mid;
      }
      b[i] = low;
    }
    thresholds.push(t);
    bins.push(b);
  }
  return { thresholds, bins };
}

/**
 * Gradient-boosted regression trees on the log loss (Friedman's gradient boosting with XGBoost's
 * second-order leaf values and split gain): each tree fits the gradient g = p − y and hessian h = p(1−p) of
 * the current margins, splits where GL²/(HL+λ) + GR²/(HR+λ) − G²/(H+λ) is largest over the binned
 * thresholds, and its leaves are −η·G/(H+λ). Deterministic for a given seed (only row subsampling draws).
 *
 * @param x row-major n × d encoded inputs
 * @param y 1 for the positive class, 0 otherwise
 */
export function fitBoostedTrees(
  x: Float64Array,
  n: number,
  d: number,
  y: Uint8Array,
  options: BoostedTreesOptions,
): BoostedTreesFit {
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i]!;
  const share = Math.min(Math.max(positives / n, 1e-12), 1 - 1e-12);
  const intercept = Math.log(share / (1 - share));
  const { thresholds, bins } = binInputs(x, n, d, options.maxBins);
  const random = seededRandom(options.seed);
  const margin = new Float64Array(n).fill(intercept);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const trees: Tree[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < n; i++) {
      const p = sigmoid(margin[i]!);
      g[i] = p - y[i]!;
      h[i] = p * (1 - p);
    }
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (options.subsample >= 1 || random() < options.subsample) rows.push(i);
    const tree: Tree = { feature: [], threshold: [], left: [], right: [], value: [] };
    growNode(tree, Int32Array.from(rows), 0, { g, h, thresholds, bins, d, options });
    trees.push(tree);
    for (let i = 0; i < n; i++) margin[i]! += treeValue(tree, x, i * d);
  }
  return { intercept, trees };
}

interface GrowContext {
  g: Float64Array;
  h: Float64Array;
  thresholds: Float64Array[];
  bins: Uint16Array[];
  d: number;
  options: BoostedTreesOptions;
}

/** Adds the node for `rows` (and its subtree) to `tree`, returning its index. */
function growNode(tree: Tree, rows: Int32Array, depth: number, context: GrowContext): number {
  const { g, h, options } = context;
  let gSum = 0;
  let hSum = 0;
  for (const i of rows) {
    gSum += g[i]!;
    hSum += h[i]!;
  }
  const node = tree.feature.length;
  tree.feature.push(-1);
  tree.threshold.push(0);
  tree.left.push(-1);
  tree.right.push(-1);
  tree.value.push((-options.eta * gSum) / (hSum + options.l2));
  if (depth >= options.maxDepth || hSum < 2 * options.minChildWeight) return node;

  const parentScore = (gSum * gSum) / (hSum + options.l2);
  let bestGain = 1e-12;
  let bestFeature = -1;
  let bestBin = -1;
  for (let j = 0; j < context.d; j++) {
    const cuts = context.thresholds[j]!.length;
    if (cuts === 0) continue;
    const gHist = new Float64Array(cuts + 1);
    const hHist = new Float64Array(cuts + 1);
    const bin = context.bins[j]!;
    for (const i of rows) {
      gHist[bin[i]!]! += g[i]!;
      hHist[bin[i]!]! += h[i]!;
    }
    let gLeft = 0;
    let hLeft = 0;
    for (let k = 0; k < cuts; k++) {
      gLeft += gHist[k]!;
      hLeft += hHist[k]!;
      const hRight = hSum - hLeft;
      if (hLeft < options.minChildWeight || hRight < options.minChildWeight) continue;
      const gRight = gSum - gLeft;
      const gain =
        (gLeft * gLeft) / (hLeft + options.l2) + (gRight * gRight) / (hRight + options.l2) - parentScore;
      if (gain > bestGain) {
        bestGain = gain;
        bestFeature = j;
        bestBin = k;
      }
    }
  }
  if (bestFeature < 0) return node;

  const bin = context.bins[bestFeature]!;
  const leftRows = rows.filter((i) => bin[i]! <= bestBin);
  const rightRows = rows.filter((i) => bin[i]! > bestBin);
  tree.feature[node] = bestFeature;
  tree.threshold[node] = context.thresholds[bestFeature]![bestBin]!;
  tree.value[node] = 0;
  tree.left[node] = growNode(tree, leftRows, depth + 1, context);
  tree.right[node] = growNode(tree, rightRows, depth + 1, context);
  return node;
}
