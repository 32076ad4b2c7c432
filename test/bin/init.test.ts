import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proposeModel } from '../../bin/cli/init-model.ts';
import { profileTable } from '../../lambdas/core/drift/run.ts';
import { fileInput } from '../../lambdas/core/readers/input.ts';
import { validateConfig } from '../../lib/config/validate.ts';
import { runCli, tempDir } from '../helpers/cli.ts';

let dir: string;
let cleanup: () => Promise<void>;
const path = (name: string) => join(dir, name);

/**
 * One column per rule: a row number, an id-named column of distinct whole numbers, a text id, a constant,
 * an empty column, distinct prices and distinct whole amounts (both features), a category, a label, a
 * score and a segment.
 */
function trainingData(rows: number): string {
  const lines = ['row,customer_id,uuid,country,notes,price,amount,plan,x,churn,score,region'];
  for (let i = 0; i < rows; i++) {
    const price = (10 + i * 1.37).toFixed(2);
    const amount = 1000 + ((i * 7919) % 10007);
    lines.push(
      [
        i + 1,
        100_000 + i * 13,
        `u-${(i * 2654435761) % 4294967296}`,
        'FR',
        '',
        price,
        amount,
        ['basic', 'intl', 'family'][i % 3],
        (i % 17) / 3,
        i % 4 === 0 ? 'yes' : 'no',
        ((i % 10) / 10).toFixed(1),
        i % 2 ? 'north' : 'south',
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await writeFile(path('train.csv'), trainingData(300));
});
afterAll(() => cleanup());

describe('proposeModel', () => {
  it('types columns as drift does and excludes each kind of non-feature with its reason', async () => {
    const profile = await profileTable(fileInput(path('train.csv')), { maxCategories: 1_000_000 });
    const proposal = proposeModel(profile, { label: 'churn', score: 'score', segment: 'region' });
    expect(proposal.features).toEqual({
      price: 'numeric',
      amount: 'numeric',
      plan: 'categorical',
      x: 'numeric',
    });
    expect(Object.fromEntries(proposal.exclusions.map(({ column, reason }) => [column, reason]))).toEqual({
      churn: 'the label (--label)',
      score: "the model's score (--score)",
      row: 'id-like: the whole numbers 1 to 300, each once (a row number)',
      customer_id: 'id-like: named like an identifier, each of its 300 whole numbers different',
      uuid: 'id-like: each of its 300 values is different',
      country: 'constant: every value is "FR"',
      notes: 'constant: every value is missing (300 rows)',
    });
  });

  it('does not call a column an identifier on a handful of rows', async () => {
    await writeFile(path('small.csv'), trainingData(10));
    const profile = await profileTable(fileInput(path('small.csv')), { maxCategories: 1_000_000 });
    const proposal = proposeModel(profile, {});
    expect(proposal.features).toHaveProperty('uuid', 'categorical');
    expect(proposal.features).toHaveProperty('row', 'numeric');
  });
});

describe('driftwatch init', () => {
  it('creates a valid config and the baseline profile, and prints the next two commands', async () => {
    const config = path('new/driftwatch.config.json');
    await import('node:fs/promises').then((fs) => fs.mkdir(path('new')));
    const result = await runCli([
      'init',
      path('train.csv'),
      '--name',
      'churn',
      '--label',
      'churn',
      '--score',
      'score',
      '--segment',
      'region',
      '--config',
      config,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('uuid: id-like: each of its 300 values is different');
    expect(result.stdout).toMatch(new RegExp(`npx cdk synth -c config=${config}`));
    expect(result.stdout).toMatch(/aws s3 cp .*churn\.profile\.json ".*\/churn\/baselines\/profile\.json"/);
    const raw = JSON.parse(await readFile(config, 'utf8'));
    const model = validateConfig(raw, config).models[0]!;
    expect(model.segment).toBe('region');
    expect(model.exclude).toEqual(['churn', 'score', 'row', 'customer_id', 'uuid', 'country', 'notes']);
    expect(raw.$schema).toMatch(/driftwatch\.config\.schema\.json$/);
    expect(existsSync(join(path('new'), raw.$schema))).toBe(true);
    // The profile is the baseline the drift check reads: the same data shows no drift against it.
    const drift = await runCli([
      'drift',
      path('new/churn.profile.json'),
      path('train.csv'),
      '--format',
      'json',
    ]);
    expect(drift.code).toBe(0);
    const report = JSON.parse(drift.stdout);
    expect(report.datasetDrift).toBe(false);
    // Each feature once for all rows, then once per segment value.
    const watched = new Set(report.features.map((feature: { feature: string }) => feature.feature));
    expect([...watched]).toEqual(['price', 'amount', 'plan', 'x']);
  });

  it('adds to an existing config and replaces a model only with --force', async () => {
    const config = path('two.config.json');
    const first = await runCli([
      'init',
      path('train.csv'),
      '--name',
      'churn',
      '--label',
      'churn',
      '--config',
      config,
    ]);
    expect(first.code).toBe(0);
    const second = await runCli(['init', path('train.csv'), '--name', 'credit', '-q', '--config', config]);
    expect(second.code).toBe(0);
    expect(second.stdout.split('\n')[0]).toMatch(/^ {2}npx cdk synth/);
    const forced = await runCli([
      'init',
      path('train.csv'),
      '--name',
      'churn',
      '--segment',
      'region',
      '--force',
      '--config',
      config,
    ]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^Replaced model "churn"/);
    const models = validateConfig(JSON.parse(await readFile(config, 'utf8'))).models;
    expect(models.map((model) => [model.name, model.segment])).toEqual([
      ['churn', 'region'],
      ['credit', null],
    ]);
  });
});

describe('driftwatch init refuses, writes nothing and exits non-zero', () => {
  const existing = {
    models: [
      {
        name: 'churn',
        prefixes: { incoming: 'churn/incoming/', golden: 'churn/golden/', baselines: 'churn/baselines/' },
      },
    ],
  };
  const cases: [
    string,
    { args: string[]; config?: unknown; profile?: boolean; code: number; message: RegExp },
  ][] = [
    [
      'a model of the same name',
      {
        args: ['--name', 'churn'],
        config: existing,
        code: 2,
        message: /already has a model "churn" \(models\[0\]\); choose another name, or pass --force/,
      },
    ],
    [
      'an existing profile',
      {
        args: ['--name', 'other'],
        config: existing,
        profile: true,
        code: 2,
        message: /other\.profile\.json exists; pass --force/,
      },
    ],
    [
      'a label the data does not have',
      {
        args: ['--name', 'm', '--label', 'target'],
        code: 2,
        message: /--label: .* has no column "target" \(its columns: row, customer_id/,
      },
    ],
    [
      'a segment the data does not have',
      { args: ['--name', 'm', '--segment', 'zone'], code: 2, message: /--segment: .* has no column "zone"/ },
    ],
    [
      'a name AWS resources cannot take',
      {
        args: ['--name', 'Churn_Model'],
        code: 2,
        message: /models\[0\]\.name: "Churn_Model" is not valid: lower-case letters/,
      },
    ],
    [
      'prefixes that overlap another model',
      {
        args: ['--name', 'churn'],
        config: {
          models: [{ name: 'legacy', prefixes: { incoming: 'churn/', golden: 'l/g/', baselines: 'l/b/' } }],
        },
        code: 2,
        message:
          /models\[1\]\.prefixes\.incoming: "churn\/incoming\/" overlaps models\[0\]\.prefixes\.incoming/,
      },
    ],
    [
      'an invalid config',
      {
        args: ['--name', 'm'],
        config: { models: [], stackName: 'a b' },
        code: 2,
        message: /fix it before adding a model/,
      },
    ],
    [
      'a missing data file',
      { args: ['--name', 'm', '--data', 'missing.csv'], code: 1, message: /missing\.csv: no such file/ },
    ],
  ];

  it.each(cases)('%s', async (name, { args, config, profile, code, message }) => {
    const folder = path(`refuse-${name.replaceAll(' ', '-')}`);
    await import('node:fs/promises').then((fs) => fs.mkdir(folder));
    const configPath = join(folder, 'driftwatch.config.json');
    if (config !== undefined) await writeFile(configPath, JSON.stringify(config));
    if (profile) await writeFile(join(folder, 'other.profile.json'), '{}');
    const data = args.includes('--data')
      ? join(folder, args.splice(args.indexOf('--data'), 2)[1]!)
      : path('train.csv');
    const before = config === undefined ? undefined : await readFile(configPath, 'utf8');
    const result = await runCli(['init', data, ...args, '--config', configPath]);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    if (before === undefined) expect(existsSync(configPath)).toBe(false);
    else expect(await readFile(configPath, 'utf8')).toBe(before);
  });

  it('a table with nothing left to watch', async () => {
    await writeFile(
      path('ids.csv'),
      `id,label\n${Array.from({ length: 30 }, (_, i) => `${i},${i % 2}`).join('\n')}\n`,
    );
    const result = await runCli([
      'init',
      path('ids.csv'),
      '--name',
      'm',
      '--label',
      'label',
      '--config',
      path('ids.config.json'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no column is left to watch/);
    expect(existsSync(path('ids.config.json'))).toBe(false);
  });
});

/** Runs the CDK app as `cdk synth` does, on a config written by `driftwatch init`. */
function synth(config: string, outdir: string): Promise<{ code: number; stderr: string }> {
  const root = new URL('../..', import.meta.url).pathname;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin/app.ts')],
      {
        cwd: root,
        env: {
          ...process.env,
          // The Lambdas' code is not under test here: skip bundling it.
          CDK_CONTEXT_JSON: JSON.stringify({ config, 'aws:cdk:bundling-stacks': [] }),
          CDK_OUTDIR: outdir,
        },
      },
      (error, _stdout, stderr) =>
        resolve({ code: error ? ((error.code as number | undefined) ?? 1) : 0, stderr }),
    );
  });
}

describe('a config written by init', () => {
  it('synthesizes with cdk-nag passing (cdk synth round trip)', { timeout: 300_000 }, async () => {
    await import('node:fs/promises').then((fs) => fs.mkdir(path('synth')));
    const config = path('synth/driftwatch.config.json');
    const written = await runCli([
      'init',
      path('train.csv'),
      '--name',
      'churn',
      '--label',
      'churn',
      '--score',
      'score',
      '--config',
      config,
    ]);
    expect(written.code, written.stderr).toBe(0);
    const outdir = path('cdk.out');
    const result = await synth(config, outdir);
    expect(result.stderr).not.toMatch(/Validation failed|ERROR/);
    expect(result.code, result.stderr).toBe(0);
    // The engine stack and the model stack holding the model's configuration (models as data).
    const { readdir } = await import('node:fs/promises');
    const templates = (await readdir(outdir)).filter((name) => name.endsWith('.template.json'));
    expect(templates).toContain('Driftwatch.template.json');
    const resources = await Promise.all(
      templates.map(async (name) => JSON.parse(await readFile(join(outdir, name), 'utf8')).Resources),
    );
    const parameter = resources
      .flatMap(
        (stackResources) =>
          Object.values(stackResources) as { Type: string; Properties: { Name?: string; Value?: string } }[],
      )
      .find(
        (resource) =>
          resource.Type === 'AWS::SSM::Parameter' && /\/models\/churn$/.test(resource.Properties.Name ?? ''),
      );
    const model = JSON.parse(parameter?.Properties.Value ?? '{}');
    expect(model.prefixes.baselines).toBe('churn/baselines/');
    expect(model.drift.baselineProfile).toBe('profile.json');
  });
});
