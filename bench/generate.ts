/**
 * Benchmark data: a baseline and a shifted current CSV of N rows x 20 features (16 numeric with varied
 * distributions, some with missing values; 4 categorical with 3 to 50 levels), written to
 * `bench/data/base-N.csv` and `bench/data/cur-N.csv`. Deterministic (seeded), and cached: a second call with
 * the same N and generator version reuses the files.
 *
 * ```sh
 * node bench/generate.ts 1000000 5000000
 * ```
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** Bump when the generated content changes, so cached files are rewritten. */
const GENERATOR_VERSION = 1;
const ROWS_PER_CHUNK = 16_384;

export const BENCH_DIR = new URL('.', import.meta.url).pathname;
export const DATA_DIR = join(BENCH_DIR, 'data');

export interface BenchFiles {
  baseline: string;
  current: string;
  rows: number;
  /** Bytes of each file. */
  bytes: { baseline: number; current: number };
  /** False when the files came from the cache. */
  generated: boolean;
}

/** sfc32: a small, fast generator with a 128-bit state; plenty for benchmark data. */
class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next32();
  }

  next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in (0, 1]: safe under `Math.log`. */
  uniform(): number {
    return (this.next32() + 1) / 4294967296;
  }

  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + sd * z;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spareNormal = r * Math.sin(theta);
    return mean + sd * r * Math.cos(theta);
  }

  exponential(scale: number): number {
    return -scale * Math.log(this.uniform());
  }

  /** Knuth's method; fine for the small means used here. */
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.uniform();
    while (p > limit) {
      k++;
      p *= this.uniform();
    }
    return k;
  }

  integer(low: number, highExclusive: number): number {
    return low + Math.floor((this.next32() / 4294967296) * (highExclusive - low));
  }
}

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

/** `x.toFixed(decimals)`, faster: integer arithmetic and one padStart. */
function fixed(x: number, decimals: number): string {
  const scale = POW10[decimals]!;
  const scaled = Math.round(Math.abs(x) * scale);
  const whole = Math.floor(scaled / scale);
  const sign = x < 0 && scaled !== 0 ? '-' : '';
  if (decimals === 0) return sign + whole;
  return sign + whole + '.' + String(scaled - whole * scale).padStart(decimals, '0');
}

/** Picks labels by weight with a cumulative table. */
class Categorical {
  private readonly labels: string[];
  private readonly cumulative: Float64Array;

  constructor(labels: string[], weights: number[]) {
    this.labels = labels;
    const total = weights.reduce((sum, w) => sum + w, 0);
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    weights.forEach((w, i) => {
      sum += w / total;
      this.cumulative[i] = sum;
    });
    this.cumulative[weights.length - 1] = 1;
  }

  pick(random: Random): string {
    const u = random.next32() / 4294967296;
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.cumulative[mid]! > u) high = mid;
      else low = mid + 1;
    }
    return this.labels[low]!;
  }
}

const labels = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);
const zipf = (count: number, exponent: number) =>
  Array.from({ length: count }, (_, i) => 1 / (i + 1) ** exponent);

export const HEADER = [
  'normal',
  'lognormal',
  'exponential',
  'uniform',
  'visits',
  'bimodal',
  'pareto',
  'percent',
  'sensor_a',
  'erlang',
  'skewed',
  'sensor_b',
  'amount',
  'rating',
  'z_score',
  'epoch',
  'tier',
  'channel',
  'state',
  'product',
];

/**
 * One side's row generator. `shift` 0 is the baseline; the current side (shift 1) moves about half of the
 * features by amounts a drift check should notice, and leaves the rest alone.
 */
function rowWriter(random: Random, shift: number): () => string {
  const tier = new Categorical(['low', 'medium', 'high'], shift ? [5, 3, 2] : [6, 3, 1]);
  const channel = new Categorical(labels('ch_', 10), zipf(10, 0.8));
  const state = new Categorical(labels('S', 25), shift ? zipf(25, 0.3) : zipf(25, 0.6));
  const product = new Categorical(labels('product_', 50), zipf(50, 1.1));
  const missing = (value: string, rate: number, token: string) => (random.uniform() <= rate ? token : value);
  return () => {
    const bimodal = random.uniform() <= 0.3 + 0.1 * shift ? random.normal(-2, 0.5) : random.normal(3, 1);
    const cells = [
      fixed(random.normal(50 + shift, 10), 3),
      fixed(Math.exp(random.normal(3, 0.8)), 3),
      fixed(random.exponential(2 * (1 + 0.2 * shift)), 4),
      fixed(random.uniform(), 5),
      String(random.poisson(3 + 0.5 * shift)),
      fixed(bimodal, 2),
      fixed(1 / random.uniform() ** (1 / 3), 3),
      String(random.integer(0, 101)),
      missing(fixed(random.normal(20, 5), 2), 0.05, ''),
      fixed(random.exponential(1) + random.exponential(1), 4),
      fixed(random.uniform() ** 2, 4),
      missing(fixed(random.normal(-5 + 0.5 * shift, 2), 2), 0.2, 'NA'),
      missing(fixed(Math.exp(random.normal(6 + 0.05 * shift, 1.2)), 2), 0.01, 'NaN'),
      String(random.integer(0, 6)),
      fixed(random.normal(0, 1), 6),
      String(1_600_000_000 + random.integer(0, 100_000_000)),
      tier.pick(random),
      channel.pick(random),
      state.pick(random),
      missing(product.pick(random), 0.01, ''),
    ];
    return cells.join(',');
  };
}

function writeCsv(path: string, rows: number, seed: number, shift: number): number {
  const temporary = `${path}.partial`;
  const fd = openSync(temporary, 'w');
  let bytes = 0;
  try {
    const next = rowWriter(new Random(seed), shift);
    bytes += writeSync(fd, `${HEADER.join(',')}\n`);
    const chunk: string[] = new Array(ROWS_PER_CHUNK);
    for (let done = 0; done < rows; ) {
      const count = Math.min(ROWS_PER_CHUNK, rows - done);
      for (let i = 0; i < count; i++) chunk[i] = next();
      chunk.length = count;
      bytes += writeSync(fd, `${chunk.join('\n')}\n`);
      done += count;
    }
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  return bytes;
}

interface CacheStamp {
  version: number;
  rows: number;
  bytes: { baseline: number; current: number };
}

interface WriteJob {
  path: string;
  rows: number;
  seed: number;
  shift: number;
}

/** Writes one file in a worker thread, so baseline and current are generated in parallel. */
function writeCsvInWorker(job: WriteJob): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    let bytes: number | undefined;
    worker.once('message', (message: number) => {
      bytes = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code === 0 && bytes !== undefined) resolve(bytes);
      else reject(new Error(`generating ${job.path} failed (worker exit code ${code})`));
    });
  });
}

/** The benchmark files for `rows` rows, generated unless an up-to-date copy is cached in bench/data/. */
export async function benchFiles(rows: number, log: (line: string) => void = () => {}): Promise<BenchFiles> {
  if (!Number.isInteger(rows) || rows < 1)
    throw new RangeError(`rows must be a whole number >= 1, got ${rows}`);
  mkdirSync(DATA_DIR, { recursive: true });
  const baseline = join(DATA_DIR, `base-${rows}.csv`);
  const current = join(DATA_DIR, `cur-${rows}.csv`);
  const stampPath = join(DATA_DIR, `stamp-${rows}.json`);
  if (existsSync(stampPath) && existsSync(baseline) && existsSync(current)) {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8')) as CacheStamp;
    if (
      stamp.version === GENERATOR_VERSION &&
      stamp.rows === rows &&
      statSync(baseline).size === stamp.bytes.baseline &&
      statSync(current).size === stamp.bytes.current
    ) {
      return { baseline, current, rows, bytes: stamp.bytes, generated: false };
    }
  }
  const started = performance.now();
  const [baselineBytes, currentBytes] = await Promise.all([
    writeCsvInWorker({ path: baseline, rows, seed: 20_240_001, shift: 0 }),
    writeCsvInWorker({ path: current, rows, seed: 20_240_002, shift: 1 }),
  ]);
  const bytes = { baseline: baselineBytes, current: currentBytes };
  const stamp: CacheStamp = { version: GENERATOR_VERSION, rows, bytes };
  writeFileSync(stampPath, `${JSON.stringify(stamp)}\n`);
  const seconds = (performance.now() - started) / 1000;
  const mb = (bytes.baseline + bytes.current) / 1e6;
  log(`generated ${rows.toLocaleString('en-US')} rows x 2 (${mb.toFixed(0)} MB) in ${seconds.toFixed(1)} s`);
  return { baseline, current, rows, bytes, generated: true };
}

if (!isMainThread) {
  const job = workerData as WriteJob;
  parentPort!.postMessage(writeCsv(job.path, job.rows, job.seed, job.shift));
} else if (import.meta.main) {
  const sizes = process.argv.slice(2).map((arg) => Number(arg.replaceAll('_', '')));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    process.stderr.write('usage: node bench/generate.ts ROWS [ROWS ...]\n');
    process.exit(2);
  }
  for (const rows of sizes) {
    const files = await benchFiles(rows, (line) => process.stdout.write(`${line}\n`));
    if (!files.generated) process.stdout.write(`cached: ${files.baseline}, ${files.current}\n`);
  }
}
