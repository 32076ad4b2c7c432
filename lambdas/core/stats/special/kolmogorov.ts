/**
 * Distribution of the one-sample two-sided Kolmogorov-Smirnov statistic D_n, as scipy 1.10 computes it:
 * `scipy.stats.kstwo.sf(d, n)` → `kolmogn(n, d, cdf=False)` (scipy/stats/_ksstats.py), which follows
 * Simard & L'Ecuyer (2011) in choosing between
 * - the Ruben-Gambino closed forms at the ends (d <= 1/n, d >= 1 - 1/n),
 * - the exact one-sided Smirnov tail doubled (d >= 0.5, or a far tail), Cephes `smirnov`,
 * - Durbin's matrix method in Marsaglia-Tsang-Wang form, for small n·d²,
 * - Pomeranz's recursion, for moderate n·d² with n <= 140,
 * - the Pelz-Good asymptotic series, for large n.
 * `ks_2samp` uses it for its asymptotic p-value, kstwo.sf(D, round(m·n / (m + n))).
 *
 * The thresholds and the float operations follow scipy's code, so the branch taken is the same and the
 * result agrees to ~1e-13 relative or better; where scipy uses numpy's longdouble for scaling or BLAS for
 * a matrix product the last bits may differ, far inside the 1e-6 the drift spec asks for.
 */

const EP128 = 2 ** 128;
const EM128 = 2 ** -128;
const MIN_LOG = -708;
const DBL_EPSILON = 2 ** -52;
/** ln(2^-1075): exp of anything below is 0 (Cephes MINLOG). */
const CEPHES_MINLOG = -745.1332191019412;
/** Above this n, Cephes' smirnov switches to an approximation instead of summing n terms. */
const SMIRNOV_MAX_COMPUTE_N = 1_000_000;

const PI_SQUARED = Math.PI ** 2;
const PI_FOUR = Math.PI ** 4;
const PI_SIX = Math.PI ** 6;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const LOG_2PI = Math.log(2 * Math.PI);
const SQRT3 = Math.sqrt(3);
/** B_2j / (2j (2j - 1)) for j = 8..1: Stirling's series for ln(n! / n^n), highest order first. */
const STIRLING_COEFFICIENTS = [
  -0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417,
  -0.0005952380952380953, 0.0007936507936507937, -0.002777777777777778, 0.08333333333333333,
];

/** x · 2^exponent without overflowing the power of two on the way. */
function ldexp(x: number, exponent: number): number {
  let y = x;
  let e = exponent;
  while (e > 1000) {
    y *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    y *= 2 ** -1000;
    e += 1000;
  }
  return y * 2 ** e;
}

function clipProbability(p: number): number {
  return Math.min(Math.max(p, 0), 1);
}

/** ln(n! / n^n) by Stirling's series, with n·ln(n) removed up front to avoid cancellation. */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  let series = 0;
  for (const coefficient of STIRLING_COEFFICIENTS) series = series * (rn / n) + coefficient;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * series;
}

/** floor(n·x) and the fractional part of n·x computed exactly (Dekker's product), like Cephes' modNX. */
function splitProduct(n: number, x: number): { floor: number; fraction: number } {
  const high = n * x;
  const low = exactProductError(n, x, high);
  let floor = Math.floor(high);
  if (floor === high && low < 0) floor -= 1;
  let fraction = high - floor + low;
  if (fraction >= 1) {
    floor += 1;
    fraction = 0;
  }
  return { floor, fraction: Math.max(fraction, 0) };
}

/** The rounding error of a·b = product, exactly (Veltkamp splitting; no FMA in JavaScript). */
function exactProductError(a: number, b: number, product: number): number {
  const split = 134217729; // 2^27 + 1
  const ta = split * a;
  const aHigh = ta - (ta - a);
  const aLow = a - aHigh;
  const tb = split * b;
  const bHigh = tb - (tb - b);
  const bLow = b - bHigh;
  return aHigh * bHigh - product + aHigh * bLow + aLow * bHigh + aLow * bLow;
}

/**
 * The one-sided Smirnov tail Pr(D_n^+ >= x) (`scipy.special.smirnov(n, x)`), exact.
 *
 * Cephes sums the Birnbaum-Tingey series x · Σ_{v=0}^{⌊n(1-x)⌋} C(n, v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v)
 * in double-double arithmetic with separately tracked exponents. Every term is positive, so plain doubles
 * in log space do nearly as well: the two bases are formed from the exact fractional part of n·x, and
 * ln C(n, v) and the sum are accumulated with Neumaier's compensated summation (a plain running sum of
 * ln C(n, v), which reaches ~n, loses ~1e-9 relative by n = 250,000). What remains is the rounding of the
 * bases amplified by the exponent n - v: about n·1e-16 relative, 3e-11 at n = 250,000. Cephes switches to the complementary
 * sum when x is below 0.5/sqrt(n) to get the CDF accurately; for the survival function the direct sum is
 * accurate everywhere, so only it is used (the kstwo path never calls smirnov there anyway).
 *
 * @example smirnovSurvival(5, 0.5) // 0.056 (to ~1e-16)
 */
export function smirnovSurvival(n: number, x: number): number {
  if (!(n > 0 && Number.isInteger(n) && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const { floor: nxFloor, fraction: alpha } = splitProduct(n, x);
  if (nxFloor === 0 || (nxFloor === 1 && alpha === 0)) {
    // x <= 1/n: the CDF is x (1 + x)^(n-1).
    return clipProbability(1 - x * Math.exp((n - 1) * Math.log1p(x)));
  }
  if (-2 * n * x * x < CEPHES_MINLOG) return 0;
  if (nxFloor >= n - 1) return clipProbability((1 - x) ** n);
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    // p ~ exp(-(6nx + 1)^2 / 18n)
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return clipProbability(logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp));
  }
  const terms = n - nxFloor;
  const middle = Math.floor(n / 2);
  // v = 0: (1 - x)^n / x.
  const logBinomial = new CompensatedSum();
  const sum = new CompensatedSum();
  sum.add(Math.exp(n * Math.log1p(-x)) / x);
  for (let v = 1; v < terms; v++) {
    logBinomial.add(Math.log((n - v + 1) / v));
    // 1 - x - v/n and x + v/n from the exact split n·x = nxFloor + alpha.
    const below = (n - nxFloor - v - alpha) / n;
    const above = (nxFloor + v + alpha) / n;
    const term = Math.exp(logBinomial.value() + (n - v) * Math.log(below) + (v - 1) * Math.log(above));
    sum.add(term);
    // Cephes' early exit: the remaining terms cannot change the sum.
    if (term !== 0) {
      if (4 * (terms - v) * term < DBL_EPSILON * sum.value() && v !== terms - 1) break;
    } else if (v > middle) {
      break;
    }
  }
  return clipProbability(x * sum.value());
}

/** Neumaier's compensated summation: the running rounding error is kept and added back at the end. */
class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(x: number): void {
    const t = this.sum + x;
    if (Math.abs(this.sum) >= Math.abs(x)) this.compensation += this.sum - t + x;
    else this.compensation += x - t + this.sum;
    this.sum = t;
  }

  value(): number {
    return this.sum + this.compensation;
  }
}

/** Durbin's matrix method (Marsaglia, Tsang & Wang 2003) for Pr(D_n <= d), scaled to avoid overflow. */
function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;

  // H: first column v, last row v reversed, and 1/(i-j+1)! on and below the superdiagonal.
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1]! *= fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  let matrix = new Float64Array(m * m);
  for (let i = 1; i < m; i++) for (let row = i - 1; row < m; row++) matrix[row * m + i] = w[row - i + 1]!;
  for (let row = 0; row < m; row++) matrix[row * m] = v[row]!;
  for (let column = 0; column < m; column++) matrix[(m - 1) * m + column] = v[m - 1 - column]!;

  // H^n by repeated squaring, rescaling by 2^-128 whenever the entry we need grows past 2^128.
  let power = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let exponent = 0;
  let matrixExponent = 0;
  const centre = (k - 1) * m + (k - 1);
  for (let remaining = n; remaining > 0; remaining = Math.floor(remaining / 2)) {
    if (remaining % 2 === 1) {
      power = multiplySquare(power, matrix, m);
      exponent += matrixExponent;
    }
    matrix = multiplySquare(matrix, matrix, m);
    matrixExponent *= 2;
    if (Math.abs(matrix[centre]!) > EP128) {
      for (let i = 0; i < matrix.length; i++) matrix[i]! /= EP128;
      matrixExponent += 128;
    }
  }
  // Multiply by n! / n^n, keeping p away from underflow.
  let p = power[centre]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= EP128;
      exponent -= 128;
    }
  }
  return exponent === 0 ? p : ldexp(p, exponent);
}

function multiplySquare(a: Float64Array, b: Float64Array, m: number): Float64Array<ArrayBuffer> {
  const product = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) product[i * m + j]! += aik * b[k * m + j]!;
    }
  }
  return product;
}

/** Interval of row i of Pomeranz's V matrix that can be non-zero (`_pomeranz_compute_j1j2`). */
function pomeranzInterval(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Full discrete convolution, like np.convolve(a, b). */
function convolve(a: Float64Array, b: Float64Array): Float64Array {
  const result = new Float64Array(a.length + b.length - 1);
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    for (let j = 0; j < b.length; j++) result[i + j]! += ai * b[j]!;
  }
  return result;
}

/** Pomeranz's recursion (1974) for Pr(D_n <= x): each row a convolution with Poisson-like weights. */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const powerCount = 2 * (ll + 1);
  // (g/n)^m / m!, (2g/n)^m / m!, ((1-2g)/n)^m / m!
  const gPowers = new Float64Array(powerCount);
  const twoGPowers = new Float64Array(powerCount);
  const oneMinusTwoGPowers = new Float64Array(powerCount);
  gPowers[0] = 1;
  twoGPowers[0] = 1;
  oneMinusTwoGPowers[0] = 1;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let m = 1; m < powerCount; m++) {
    gPowers[m] = (gPowers[m - 1]! * gOverN) / m;
    twoGPowers[m] = (twoGPowers[m - 1]! * twoGOverN) / m;
    oneMinusTwoGPowers[m] = (oneMinusTwoGPowers[m - 1]! * oneMinusTwoGOverN) / m;
  }

  // Two rows, swapped each step; v0Start / v1Start are the column each row's storage starts at.
  let v0 = new Float64Array(powerCount);
  let v1 = new Float64Array(powerCount);
  v1[0] = 1;
  let v0Start = 0;
  let v1Start = 0;
  let exponent = 0;
  let [j1, j2] = pomeranzInterval(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [v0, v1] = [v1, v0];
    [v0Start, v1Start] = [v1Start, v0Start];
    v1.fill(0);
    [j1, j2] = pomeranzInterval(i, n, ll, ceilf, roundf);
    const powers = i === 1 || i === 2 * n + 1 ? gPowers : i % 2 === 1 ? twoGPowers : oneMinusTwoGPowers;
    const length = j2 - k1 + 1;
    if (length > 0) {
      // subarray() clamps and wraps indexes exactly like the Python slices it replaces.
      const conv = convolve(v0.subarray(k1 - v0Start, k1 - v0Start + length), powers.subarray(0, length));
      const convStart = j1 - k1;
      v1.set(conv.subarray(convStart, convStart + j2 - j1 + 1));
      let largest = Number.NEGATIVE_INFINITY;
      for (const value of v1) if (value > largest) largest = value;
      if (largest > 0 && largest < EM128) {
        for (let j = 0; j < v1.length; j++) v1[j]! *= EP128;
        exponent -= 128;
      }
      v1Start = v0Start + j1 - k1;
    }
  }
  // Multiply by n!.
  let answer = v1.at(n - v1Start)!;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(answer) > EP128) {
      answer *= EM128;
      exponent += 128;
    }
    answer *= m;
  }
  return exponent === 0 ? answer : ldexp(answer, exponent);
}

/** The Pelz-Good (1976) asymptotic series for Pr(D_n <= x), 0 < x < 1. */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const zSquared = z ** 2;
  const zThree = z ** 3;
  const zFour = z ** 4;
  const zSix = z ** 6;
  const qlog = -PI_SQUARED / 8 / zSquared;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);

  const k1a = -zSquared;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * zSix + 2 * zFour;
  const k2b = ((2 * zFour - 5 * zSquared) * PI_SQUARED) / 4;
  const k2c = (PI_FOUR * (1 - 2 * zSquared)) / 16;
  const k3d = (PI_SIX * (5 - 30 * zSquared)) / 64;
  const k3c = (PI_FOUR * (-60 * zSquared + 212 * zFour)) / 16;
  const k3b = (PI_SQUARED * (135 * zFour - 96 * zSix)) / 4;
  const k3a = -30 * zSix - 90 * z ** 8;

  // Horner scheme over odd m = 2k - 1 of Σ c_m q^(m^2).
  const terms = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const mSquared = m ** 2;
    const mFour = m ** 4;
    const mSix = m ** 6;
    const qPower = q ** (8 * k);
    const coefficients = [
      1,
      k1a + k1b * mSquared,
      k2a + k2b * mSquared + k2c * mFour,
      k3a + k3b * mSquared + k3c * mFour + k3d * mSix,
    ];
    for (let i = 0; i < 4; i++) terms[i] = terms[i]! * qPower + coefficients[i]!;
  }
  const divisors = [z, 6 * zFour, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) terms[i] = (terms[i]! * q * SQRT2PI) / divisors[i]!;

  // The remaining sums over all k of K_2 and K_3, computed directly (numpy sums them pairwise; <= 8 terms).
  q = Math.exp(-PI_SQUARED / 2 / zSquared);
  const sqrt3z = SQRT3 * z;
  const k2Terms: number[] = [];
  const k3Terms: number[] = [];
  for (let k = maxk; k > 0; k--) {
    const kSquared = k ** 2;
    const kPi = Math.PI * k;
    const qPower = q ** kSquared;
    k2Terms.push(kSquared * qPower);
    k3Terms.push((sqrt3z + kPi) * (sqrt3z - kPi) * kSquared * qPower);
  }
  terms[2]! += numpySum(k2Terms) * ((PI_SQUARED * SQRT2PI) / (-36 * zThree));
  terms[3]! += numpySum(k3Terms) * ((PI_SQUARED * SQRT2PI) / (216 * zSix));
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += terms[i]! / n ** (i / 2);
  return sum;
}

/** np.sum's order for the short arrays above (sequential below 8 values, 8 accumulators up to 128). */
function numpySum(values: number[]): number {
  if (values.length < 8) return values.reduce((sum, value) => sum + value, 0);
  const r = values.slice(0, 8);
  let i = 8;
  for (; i < values.length - (values.length % 8); i += 8) for (let j = 0; j < 8; j++) r[j]! += values[i + j]!;
  let sum = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
  for (; i < values.length; i++) sum += values[i]!;
  return sum;
}

/** `_kolmogn(n, x, cdf=False)`: Pr(D_n > x) with Simard & L'Ecuyer's choice of method. */
function kolmogornSurvival(n: number, x: number): number {
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    // Ruben-Gambino: Pr(D_n <= x) = n!/n^n (2t - 1)^n for 1/2n <= x <= 1/n.
    if (t <= 0.5) return 1;
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= i * (1 / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clipProbability(1 - cdf);
  }
  if (t >= n - 1) return clipProbability(2 * (1 - x) ** n); // Ruben-Gambino at the top end
  if (x >= 0.5) return clipProbability(2 * smirnovSurvival(n, x)); // the two one-sided tails are disjoint

  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 0.754693) return clipProbability(1 - durbinMatrixCdf(n, x));
    if (nxSquared <= 4) return clipProbability(1 - pomeranzCdf(n, x));
    return clipProbability(2 * smirnovSurvival(n, x)); // Miller's approximation
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clipProbability(2 * smirnovSurvival(n, x));
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? durbinMatrixCdf(n, x) : pelzGoodCdf(n, x);
  return clipProbability(1 - cdf);
}

/**
 * Survival function of the two-sided one-sample Kolmogorov-Smirnov statistic, Pr(D_n > d) for a sample of
 * size n: `scipy.stats.kstwo.sf(d, n)`. 1 at or below the support's lower end 1/(2n), 0 from 1 on.
 *
 * @example kolmogorovSmirnovSurvival(0.3, 10) // 0.27053557479999946, as scipy's kstwo.sf(0.3, 10)
 */
export function kolmogorovSmirnovSurvival(d: number, n: number): number {
  if (!(n >= 1 && Number.isInteger(n)) || Number.isNaN(d)) return Number.NaN;
  if (d <= 0.5 / n) return 1;
  if (d >= 1) return 0;
  return kolmogornSurvival(n, d);
}
