/**
 * `npm run bench`: times `driftwatch drift` against the pandas + scipy reference (bench/reference.py) on
 * generated data, and checks the targets: at least 5x faster than the reference at 1M rows, at most 300 MB
 * peak RSS, and a 5M-row peak RSS within 10% of the 1M one (memory flat in the number of rows).
 *
 * ```sh
 * npm run bench                              # 1M rows both, then 5M rows driftwatch only
 * npm run bench -- --rows 200000 --big 0     # a quick run
 * npm run bench -- --reference-only          # the reference alone (no CLI needed)
 * npm run bench -- --cli path/to/entry.ts    # time another entry point taking the same arguments
 * npm run bench -- --runs 1                  # one run of each program instead of the best of 3
 * npm run bench -- --fdr 0.05                # driftwatch with false discovery control (spec version 2)
 * ```
 *
 * At 1M rows each program runs `--runs` times (3), taking turns; the best wall time of each and the highest
 * peak RSS count, since the machine's speed drifts by 15% and more from one minute to the next.
 *
 * Wall time and peak RSS of each child come from GNU time (`/usr/bin/time -f '%e %M'`, Debian package
 * `time`): the peak resident set of the child process, as wait4 reports it. Exits 0 whatever the verdict,
 * and 1 when a command fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { againstDuckdb, type BenchFormat, FORMATS } from './formats.ts';
import { BENCH_DIR, benchFiles } from './generate.ts';
import { best, type Measurement, megabytes, scientific, seconds, table, verdict } from './print.ts';

const ROOT = join(BENCH_DIR, '..');
const OUT_DIR = join(BENCH_DIR, 'out');
const GNU_TIME = '/usr/bin/time';
const PYTHON = '/usr/bin/python3';
/** The entry point timed; `--cli` swaps it (for instance to try the harness against a stand-in). */
const DEFAULT_CLI = join(ROOT, 'bin', 'driftwatch.mjs');

const TARGET_SPEEDUP = 5;
const TARGET_RSS_MB = 300;
const TARGET_RSS_GROWTH = 0.1;
/** The spec's tolerance (relative 1e-6, absolute 1e-9 near 0) as one number: |a-b| / max(|a|, |b|, 1e-3). */
const TOLERANCE_FLOOR = 1e-3;

/** A failure that ends the benchmark with exit code 1 and one clear line. */
class BenchError extends Error {
  override readonly name = 'BenchError';
}

/** Runs a command under GNU time from the repository root; fails with its stderr tail if it fails. */
function measure(label: string, command: string, args: string[]): Promise<Measurement> {
  mkdirSync(OUT_DIR, { recursive: true });
  const timeFile = join(OUT_DIR, `time-${label.replace(/\W+/g, '-')}.txt`);
  rmSync(timeFile, { force: true });
  const shown = [command, ...args].map((arg) => (arg.startsWith(ROOT) ? relative(ROOT, arg) : arg));
  process.stdout.write(`  running ${label}: ${shown.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(GNU_TIME, ['-f', '%e %M', '-o', timeFile, command, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new BenchError(`${label} failed with exit code ${code}:\n${stderr.trim()}`));
        return;
      }
      const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
      const match = /^([\d.]+) (\d+)$/.exec(lines.at(-1) ?? '');
      if (!match) {
        reject(new BenchError(`${label}: cannot read GNU time's output ${JSON.stringify(lines.at(-1))}`));
        return;
      }
      // %M is in KiB; MB here are 10^6 bytes.
      resolve({ label, wallSeconds: Number(match[1]), peakRssMB: (Number(match[2]) * 1024) / 1e6 });
    });
  });
}

function requireGnuTime(): void {
  const result = existsSync(GNU_TIME) ? spawnSync(GNU_TIME, ['--version'], { encoding: 'utf8' }) : null;
  const text = result ? `${result.stdout}${result.stderr}` : '';
  if (!/GNU/.test(text)) {
    throw new BenchError(
      `the benchmark measures peak RSS with GNU time at ${GNU_TIME}, which is missing: install Debian's \`time\` package (apt-get install time)`,
    );
  }
}

function requirePython(): void {
  const check = spawnSync(PYTHON, ['-c', 'import numpy, pandas, scipy'], { encoding: 'utf8' });
  if (check.status !== 0) {
    throw new BenchError(
      `the reference needs ${PYTHON} with numpy, pandas and scipy (apt-get install python3-scipy python3-pandas): ${check.stderr.trim()}`,
    );
  }
}

/** Null when the CLI starts; otherwise why not. */
/** Why the CLI does not start, or null. Run before timing: the launcher then builds its bundle, if stale. */
function cliProblem(cli: string): string | null {
  if (!existsSync(cli)) return `${relative(ROOT, cli)} does not exist`;
  const result = spawnSync(process.execPath, [cli, '--version'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status === 0) return null;
  return (result.stderr || result.stdout).trim().split('\n').slice(0, 6).join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Comparing the two reports

interface Entry {
  feature: string;
  segment: unknown;
  type: string;
  method: string;
  score: number;
  drifted: boolean;
  missing: { baseline: number; current: number };
  tests: Record<string, Record<string, number>>;
  sampled?: boolean;
}

interface Report {
  rows: { baseline: number; current: number };
  driftShare: number;
  features: Entry[];
  metadata?: { timings?: Record<string, number> };
}

interface Worst {
  relative: number;
  absolute: number;
  /** Feature with the largest relative difference. */
  where: string;
}

interface Comparison {
  /** `ks.statistic` etc. -> worst difference over unsampled entries and over sampled ones. */
  numbers: Map<string, { exact?: Worst; sampled?: Worst }>;
  mismatches: string[];
  sampledFeatures: string[];
}

function relativeDifference(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), TOLERANCE_FLOOR);
}

function compareReports(driftwatch: Report, reference: Report): Comparison {
  const numbers: Comparison['numbers'] = new Map();
  const mismatches: string[] = [];
  const sampledFeatures: string[] = [];
  const note = (key: string, group: 'exact' | 'sampled', a: number, b: number, where: string) => {
    const slot = numbers.get(key) ?? {};
    numbers.set(key, slot);
    const relative = relativeDifference(a, b);
    const worst = slot[group] ?? { relative: -1, absolute: 0, where };
    slot[group] = {
      relative: Math.max(relative, worst.relative),
      absolute: Math.max(Math.abs(a - b), worst.absolute),
      where: relative > worst.relative ? where : worst.where,
    };
  };
  if (JSON.stringify(driftwatch.rows) !== JSON.stringify(reference.rows)) {
    mismatches.push(`rows: ${JSON.stringify(driftwatch.rows)} vs ${JSON.stringify(reference.rows)}`);
  }
  const key = (e: Entry) => `${e.feature}@${JSON.stringify(e.segment)}`;
  const ours = new Map(driftwatch.features.map((e) => [key(e), e]));
  for (const expected of reference.features) {
    const actual = ours.get(key(expected));
    if (!actual) {
      mismatches.push(`${expected.feature}: missing from the driftwatch report`);
      continue;
    }
    ours.delete(key(expected));
    for (const field of ['type', 'method', 'drifted'] as const) {
      if (actual[field] !== expected[field])
        mismatches.push(`${expected.feature}: ${field} ${actual[field]} vs ${expected[field]}`);
    }
    if (JSON.stringify(actual.missing) !== JSON.stringify(expected.missing)) {
      mismatches.push(
        `${expected.feature}: missing ${JSON.stringify(actual.missing)} vs ${JSON.stringify(expected.missing)}`,
      );
    }
    const group = actual.sampled ? 'sampled' : 'exact';
    if (actual.sampled) sampledFeatures.push(expected.feature);
    note('score', group, actual.score, expected.score, expected.feature);
    for (const [test, values] of Object.entries(expected.tests)) {
      for (const [name, value] of Object.entries(values)) {
        const other = actual.tests[test]?.[name];
        if (typeof other !== 'number') {
          mismatches.push(`${expected.feature}: no tests.${test}.${name}`);
          continue;
        }
        note(name === 'value' ? test : `${test}.${name}`, group, other, value, expected.feature);
      }
    }
  }
  for (const extra of ours.values()) mismatches.push(`${extra.feature}: only in the driftwatch report`);
  return { numbers, mismatches, sampledFeatures };
}

// ---------------------------------------------------------------------------------------------------------
// Printing

function phases(report: Report): string {
  const timings = report.metadata?.timings;
  if (!timings) return '';
  return Object.entries(timings)
    .map(([name, value]) =>
      /MB$/.test(name)
        ? `${name.replace(/MB$/, '')} ${value.toFixed(0)} MB`
        : `${name} ${(value / 1000).toFixed(2)} s`,
    )
    .join(', ');
}

function readReport(path: string): Report {
  return JSON.parse(readFileSync(path, 'utf8')) as Report;
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      big: { type: 'string', default: '5000000' },
      threads: { type: 'string' },
      runs: { type: 'string', default: '3' },
      'reference-only': { type: 'boolean', default: false },
      cli: { type: 'string' },
      fdr: { type: 'string' },
      formats: { type: 'string', default: FORMATS.join(',') },
      'formats-only': { type: 'boolean', default: false },
    },
  });
  const rows = Number(values.rows.replaceAll('_', ''));
  const bigRows = Number(values.big.replaceAll('_', ''));
  if (!Number.isInteger(rows) || rows < 1)
    throw new BenchError(`--rows: expected a whole number >= 1, got ${values.rows}`);
  if (!Number.isInteger(bigRows) || bigRows < 0)
    throw new BenchError(`--big: expected a whole number >= 0 (0 skips), got ${values.big}`);
  // Without --threads the command uses its default (the machine's cores, at most 3).
  const threadsFlag = values.threads === undefined ? [] : ['--threads', values.threads];
  // --fdr Q times the version 2 decision (p-values of every method, Wasserstein permutations included).
  const fdrFlag = values.fdr === undefined ? [] : ['--fdr', values.fdr];
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new BenchError(`--runs: expected a whole number >= 1, got ${values.runs}`);
  const referenceOnly = values['reference-only'];
  const cli = values.cli === undefined ? DEFAULT_CLI : resolve(values.cli);

  const formats = values.formats === 'none' ? [] : values.formats.split(',');
  for (const format of formats) {
    if (!(FORMATS as readonly string[]).includes(format))
      throw new BenchError(`--formats: expected some of ${FORMATS.join(',')} or none, got ${format}`);
  }
  const formatsOnly = values['formats-only'];

  requireGnuTime();
  if (!formatsOnly) requirePython();
  if (!referenceOnly) {
    const problem = cliProblem(cli);
    if (problem) {
      throw new BenchError(
        `the driftwatch CLI does not start (${relative(ROOT, cli)}):\n${problem}\n(run with --reference-only to time the reference alone)`,
      );
    }
  }

  const log = (line: string) => process.stdout.write(`  ${line}\n`);
  if (!formatsOnly) await againstPandas();
  if (formats.length > 0) {
    await againstDuckdb({
      rows,
      bigRows,
      runs,
      formats: formats as BenchFormat[],
      log,
      drift: (label, baseline, current, out) =>
        measure(label, process.execPath, [
          relative(ROOT, cli),
          'drift',
          relative(ROOT, baseline),
          relative(ROOT, current),
          '--format',
          'json',
          '--out',
          relative(ROOT, out),
          ...threadsFlag,
        ]),
      scan: (label, baseline, current) =>
        measure(label, process.execPath, [
          'bench/duckdb-scan.ts',
          '--threads',
          '2',
          relative(ROOT, baseline),
          relative(ROOT, current),
        ]),
    });
  }

  async function againstPandas(): Promise<void> {
    const label = rows.toLocaleString('en-US');
    process.stdout.write(
      `\n== ${label} rows x 20 features (16 numeric, 4 categorical), baseline vs shifted current\n`,
    );
    const files = await benchFiles(rows, log);
    const base = relative(ROOT, files.baseline);
    const cur = relative(ROOT, files.current);
    const referenceOut = join(OUT_DIR, 'reference.json');
    const driftwatchOut = join(OUT_DIR, 'driftwatch.json');

    // Each program runs `runs` times, taking turns, so a slow spell of the machine hits both: the best wall
    // time of each counts (and the highest peak RSS).
    const driftwatchRuns: Measurement[] = [];
    const referenceRuns: Measurement[] = [];
    for (let run = 1; run <= runs; run++) {
      const suffix = runs > 1 ? ` (run ${run} of ${runs})` : '';
      if (!referenceOnly) {
        rmSync(driftwatchOut, { force: true });
        driftwatchRuns.push(
          await measure(`driftwatch${suffix}`, process.execPath, [
            relative(ROOT, cli),
            'drift',
            base,
            cur,
            '--format',
            'json',
            '--out',
            relative(ROOT, driftwatchOut),
            ...threadsFlag,
            ...fdrFlag,
          ]),
        );
      }
      rmSync(referenceOut, { force: true });
      referenceRuns.push(
        await measure(`reference${suffix}`, PYTHON, [
          'bench/reference.py',
          base,
          cur,
          '--out',
          relative(ROOT, referenceOut),
        ]),
      );
    }
    const driftwatch = driftwatchRuns.length > 0 ? best(driftwatchRuns) : undefined;
    const reference = best(referenceRuns);
    const wallTimes = (list: Measurement[]) => list.map((m) => seconds(m.wallSeconds)).join(', ');
    if (runs > 1) {
      process.stdout.write(
        `
  wall times: ${driftwatch ? `driftwatch ${wallTimes(driftwatchRuns)}; ` : ''}reference ${wallTimes(referenceRuns)}
`,
      );
    }
    const referenceReport = readReport(referenceOut);

    const rowsTable = [
      [
        '',
        'wall time',
        'peak RSS',
        'time ratio (reference / driftwatch)',
        'RSS ratio (reference / driftwatch)',
      ],
    ];
    if (driftwatch) {
      rowsTable.push([
        'driftwatch',
        seconds(driftwatch.wallSeconds),
        megabytes(driftwatch.peakRssMB),
        '1.0x',
        '1.0x',
      ]);
    }
    rowsTable.push([
      'pandas + scipy',
      seconds(reference.wallSeconds),
      megabytes(reference.peakRssMB),
      driftwatch ? `${(reference.wallSeconds / driftwatch.wallSeconds).toFixed(1)}x` : '-',
      driftwatch ? `${(reference.peakRssMB / driftwatch.peakRssMB).toFixed(1)}x` : '-',
    ]);
    process.stdout.write(`\n${table(rowsTable)}\n\n  reference phases: ${phases(referenceReport)}\n`);

    if (!driftwatch) {
      process.stdout.write('\n(reference only: the driftwatch CLI was not run, so there is no verdict)\n');
      return;
    }

    const driftwatchReport = readReport(driftwatchOut);
    const driftwatchPhases = phases(driftwatchReport);
    if (driftwatchPhases) process.stdout.write(`  driftwatch phases: ${driftwatchPhases}\n`);
    const comparison = compareReports(driftwatchReport, referenceReport);
    const numberRows = [
      [
        'number',
        'max rel. diff, exact entries',
        'max rel. diff, sampled entries',
        'max abs. diff (sampled)',
        'worst feature',
      ],
    ];
    for (const [name, { exact, sampled }] of comparison.numbers) {
      const worst = sampled && (!exact || sampled.relative > exact.relative) ? sampled : exact;
      numberRows.push([
        name,
        scientific(exact?.relative),
        scientific(sampled?.relative),
        scientific(sampled?.absolute),
        worst?.where ?? '-',
      ]);
    }
    process.stdout.write(
      `\nAgreement with the reference (|a - b| / max(|a|, |b|, 1e-3), so the spec's tolerance is 1e-6):\n${table(numberRows)}\n` +
        `  sampled entries (a side above the sample cap: KS and Wasserstein on a uniform sample, numeric PSI and\n` +
        `  Jensen-Shannon on the sample's decile edges): ${comparison.sampledFeatures.join(', ') || 'none'}\n` +
        `  categorical tests, missing counts and rows are exact at any size.\n`,
    );
    if (comparison.mismatches.length > 0) {
      process.stdout.write(
        `  differences in non-numeric fields:\n${comparison.mismatches.map((m) => `    ${m}`).join('\n')}\n`,
      );
    }

    let big: Measurement | undefined;
    if (bigRows > 0) {
      const bigLabel = bigRows.toLocaleString('en-US');
      process.stdout.write(`\n== ${bigLabel} rows, driftwatch only\n`);
      const bigFiles = await benchFiles(bigRows, log);
      big = await measure(`driftwatch-${bigRows}`, process.execPath, [
        relative(ROOT, cli),
        'drift',
        relative(ROOT, bigFiles.baseline),
        relative(ROOT, bigFiles.current),
        '--format',
        'json',
        '--out',
        relative(ROOT, join(OUT_DIR, `driftwatch-${bigRows}.json`)),
        ...threadsFlag,
      ]);
      process.stdout.write(
        `\n${table([
          ['', 'wall time', 'peak RSS', `RSS vs ${label} rows`],
          [
            `driftwatch ${bigLabel}`,
            seconds(big.wallSeconds),
            megabytes(big.peakRssMB),
            `${(big.peakRssMB / driftwatch.peakRssMB).toFixed(2)}x`,
          ],
        ])}\n`,
      );
    }

    const speedup = reference.wallSeconds / driftwatch.wallSeconds;
    const lines = [
      verdict(
        speedup >= TARGET_SPEEDUP,
        `${speedup.toFixed(1)}x faster than pandas + scipy at ${label} rows (target >= ${TARGET_SPEEDUP}x)`,
      ),
      verdict(
        driftwatch.peakRssMB <= TARGET_RSS_MB,
        `peak RSS ${megabytes(driftwatch.peakRssMB)} at ${label} rows (target <= ${TARGET_RSS_MB} MB)`,
      ),
    ];
    if (big) {
      const growth = big.peakRssMB / driftwatch.peakRssMB - 1;
      lines.push(
        verdict(
          big.peakRssMB <= TARGET_RSS_MB,
          `peak RSS ${megabytes(big.peakRssMB)} at ${bigRows.toLocaleString('en-US')} rows (target <= ${TARGET_RSS_MB} MB)`,
        ),
        verdict(
          growth <= TARGET_RSS_GROWTH,
          `RSS ${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}% from ${label} to ${bigRows.toLocaleString('en-US')} rows (target within ${TARGET_RSS_GROWTH * 100}%)`,
        ),
      );
    }
    const exactWorst = Math.max(0, ...[...comparison.numbers.values()].map((n) => n.exact?.relative ?? 0));
    lines.push(
      verdict(
        exactWorst <= 1e-6 && comparison.mismatches.length === 0,
        `unsampled numbers within the spec's tolerance (worst ${scientific(exactWorst)}), same types, methods, decisions and missing counts`,
      ),
    );
    process.stdout.write(`\nVerdict:\n${lines.join('\n')}\n`);
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
