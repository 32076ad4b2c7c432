import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.ts';

const APP = new URL('../../bin/app.ts', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

/** Runs the CDK app as `cdk synth` does: context and output directory from the environment. */
function synth(context: Record<string, string>, outdir: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [APP],
      { cwd: ROOT, env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir } },
      (error, _stdout, stderr) =>
        resolve({ code: error ? ((error.code as number | undefined) ?? 1) : 0, stderr }),
    );
  });
}

describe('bin/app.ts', () => {
  it('prints every config problem and exits 2 without synthesizing', async () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ encryption: 'none', models: [{ name: 'Bad' }] }));
    const result = await synth({ config }, join(dir, 'bad.out'));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${config}: 3 problems`);
    expect(result.stderr).toContain('  - encryption: string "none" is not one of kms, s3-managed');
    expect(result.stderr).toContain('  - models[0].name: "Bad" is not valid');
    expect(result.stderr).toContain('  - models[0].prefixes: is required');
  });

  it('synthesizes the example config with cdk-nag and CloudFormation validation passing', async () => {
    const outdir = join(dir, 'cdk.out');
    const result = await synth({}, outdir);
    expect(result.stderr).not.toMatch(/Validation failed|ERROR/);
    expect(result.code).toBe(0);
    const template = JSON.parse(readFileSync(join(outdir, 'Driftwatch.template.json'), 'utf8'));
    expect(Object.keys(template.Resources).length).toBeGreaterThan(40);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
    expect(
      report.pluginReports.flatMap((plugin: { violations?: unknown[] }) => plugin.violations ?? []),
    ).toEqual([]);
    // The engine and one stack per model shard: the example's two models.
    const stacks = readdirSync(outdir).filter((name) => name.endsWith('.template.json'));
    expect(stacks.filter((name) => name.startsWith('Driftwatch-Models-')).length).toBeGreaterThanOrEqual(1);
    // Bundling the 8 shared functions and CloudFormation's validation take a minute on a busy 2-core machine.
  }, 240_000);
});
