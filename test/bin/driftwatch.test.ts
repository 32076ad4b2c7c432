import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftReport } from '../../lambdas/core/drift/types.ts';
import { runCli, tempDir } from '../helpers/cli.ts';

let dir: string;
let cleanup: () => Promise<void>;
const path = (name: string) => join(dir, name);

/** A small deterministic table: x numeric, plan categorical, id excluded, region a segment. */
function table(rows: number, shift: number): string {
  const lines = ['id,x,plan,region'];
  for (let i = 0; i < rows; i++) {
    const x = ((i * 37) % 101) / 10 + shift;
    const plan = i % 3 === 0 || (shift > 0 && i % 3 === 1) ? 'intl' : 'basic';
    lines.push(`${i},${x.toFixed(2)},${plan},${i % 2 ? 'north' : 'south'}`);
  }
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await writeFile(path('base.csv'), table(400, 0));
  await writeFile(path('same.csv'), table(400, 0));
  await writeFile(path('shifted.csv'), table(400, 3));
});
afterAll(() => cleanup());

describe('driftwatch --help', () => {
  it('lists the commands', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/drift \[options\] <baseline> <current>/);
    expect(result.stdout).toMatch(/profile \[options\] <file>/);
  });
});

describe('driftwatch drift', () => {
  it('prints the spec report as JSON, with no drift for identical data', async () => {
    const result = await runCli([
      'drift',
      path('base.csv'),
      path('same.csv'),
      '--format',
      'json',
      '--exclude',
      'id',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as DriftReport;
    expect(report.rows).toEqual({ baseline: 400, current: 400 });
    expect(report.datasetDrift).toBe(false);
    expect(report.features.map((f) => [f.feature, f.type, f.method])).toEqual([
      ['x', 'numeric', 'ks'],
      ['plan', 'categorical', 'chi2'],
      ['region', 'categorical', 'chi2'],
    ]);
    const x = report.features[0]!;
    expect(x.tests).toMatchObject({
      ks: { statistic: 0, pValue: 1 },
      psi: { value: 0 },
      wasserstein: { value: 0 },
    });
  });

  it('detects a shift, tests segments, and exits 3 with --fail-on-drift', async () => {
    const result = await runCli([
      'drift',
      path('base.csv'),
      path('shifted.csv'),
      '--format',
      'json',
      '--exclude',
      'id',
      '--segment',
      'region',
      '--fail-on-drift',
    ]);
    expect(result.code).toBe(3);
    const report = JSON.parse(result.stdout) as DriftReport;
    expect(report.datasetDrift).toBe(true);
    expect(report.driftShare).toBe(1);
    const segments = report.features.filter((f) => f.segment !== null);
    expect(segments.map((f) => `${f.feature}@${f.segment!.value}`)).toEqual([
      'x@north',
      'plan@north',
      'x@south',
      'plan@south',
    ]);
    expect(segments.every((f) => f.drifted)).toBe(true);
  });

  it('writes text, json and html reports to --out', async () => {
    for (const format of ['text', 'json', 'html']) {
      const out = path(`report.${format}`);
      const result = await runCli([
        'drift',
        path('base.csv'),
        path('shifted.csv'),
        '--exclude',
        'id',
        '--format',
        format,
        '--out',
        out,
      ]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe('');
      const body = await readFile(out, 'utf8');
      if (format === 'html') expect(body).toMatch(/^<!DOCTYPE html>/i);
      if (format === 'json') expect(JSON.parse(body).datasetDrift).toBe(true);
      if (format === 'text') expect(body).toMatch(/plan/);
    }
  });

  it('gives the same numbers from a profile as from the data file', async () => {
    const profile = path('base.profile.json.gz');
    const built = await runCli([
      'profile',
      path('base.csv'),
      '-o',
      profile,
      '--exclude',
      'id',
      '--segment',
      'region',
    ]);
    expect(built.code).toBe(0);
    expect(built.stderr).toMatch(/profiled 400 rows, 2 features, 2 segments of region/);
    const fromProfile = await runCli(['drift', profile, path('shifted.csv'), '--format', 'json']);
    const fromData = await runCli([
      'drift',
      path('base.csv'),
      path('shifted.csv'),
      '--format',
      'json',
      '--exclude',
      'id',
      '--segment',
      'region',
    ]);
    expect(fromProfile.code).toBe(0);
    const strip = (text: string) => {
      const report = JSON.parse(text) as DriftReport;
      delete report.metadata;
      return report;
    };
    expect(strip(fromProfile.stdout)).toEqual(strip(fromData.stdout));
  });
});

describe('bad input gives one clear line, a non-zero exit and no report', () => {
  const cases: [string, string | Buffer, string[], RegExp, number][] = [
    [
      'ragged.csv',
      'id,x,plan,region\n1,2,a,n\n2,3,b\n',
      [],
      /ragged\.csv: line 3.*expected 4 fields, found 3/,
      1,
    ],
    [
      'quote.csv',
      'id,x,plan,region\n1,2,"open,n\n2,3,b,s\n',
      [],
      /quote\.csv: line 2, column 3.*unterminated/i,
      1,
    ],
    ['empty.csv', '', [], /empty\.csv: .*empty/i, 1],
    ['missing-col.csv', 'id,x,plan\n1,2,a\n', [], /missing-col\.csv.*"region".*missing/, 1],
    [
      'latin1.csv',
      Buffer.from('id,x,plan,region\n1,2,caf\xe9,n\n', 'latin1'),
      [],
      /latin1\.csv: line 2, column 3.*UTF-8/i,
      1,
    ],
    ['unknown-flag.csv', table(10, 0), ['--numeric', 'nope'], /--numeric: no column "nope"/, 2],
    [
      'bomb.csv.gz',
      gzipSync(Buffer.alloc(5_000_000, 0x41)),
      ['--max-decompressed-bytes', '1MB'],
      /bomb\.csv\.gz: .*limit of 1000000 bytes/,
      1,
    ],
    [
      'declared.csv',
      'id,x,plan,region\n1,abc,a,n\n',
      ['--numeric', 'x'],
      /declared\.csv: line 2, column 2 \("x"\): .*not a number/,
      1,
    ],
  ];
  it.each(cases)('%s', async (name, content, flags, message, code) => {
    await writeFile(path(name), content);
    const out = path(`${name}.report.json`);
    const result = await runCli([
      'drift',
      path('base.csv'),
      path(name),
      '--format',
      'json',
      '--out',
      out,
      ...flags,
    ]);
    expect(result.code).toBe(code);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });
});
