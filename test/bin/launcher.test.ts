import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLE } from '../../bin/build-cli.mjs';
import { runCli } from '../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');

function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

describe('bin/driftwatch.mjs', () => {
  it('runs the command from a bundle at least as new as every source, with the worker bundled beside it', async () => {
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const sources = Math.max(...['bin', 'lambdas', 'lib'].map((dir) => newest(join(ROOT, dir))));
    expect(statSync(BUNDLE).mtimeMs).toBeGreaterThan(sources);
    expect(statSync(join(ROOT, 'dist', 'profile-worker.mjs')).isFile()).toBe(true);
  });
});
