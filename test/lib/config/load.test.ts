import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigValidationError } from '../../../lib/config/errors.ts';
import { loadConfig } from '../../../lib/config/load.ts';
import { rawConfig } from '../../helpers/cdk.ts';
import { tempDir } from '../../helpers/cli.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

function loadError(path: string): ConfigValidationError {
  try {
    loadConfig(path);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error;
    throw error;
  }
  throw new Error(`${path} loaded`);
}

describe('loadConfig', () => {
  it('reads and validates a file', async () => {
    const path = join(dir, 'ok.json');
    await writeFile(path, JSON.stringify(rawConfig()));
    expect(loadConfig(path).models[0]!.name).toBe('churn');
  });

  it('names a missing file', () => {
    const error = loadError(join(dir, 'missing.json'));
    expect(error.message).toBe(
      `${join(dir, 'missing.json')}: 1 problem\n  - (file): cannot be read: no such file`,
    );
  });

  it('says where the JSON is broken', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{\n  "models": []\n  "alerts": {}\n}');
    const error = loadError(path);
    expect(error.source).toBe(path);
    expect(error.problems[0]!.message).toMatch(/^\(file\): is not valid JSON: .*line 3 column 3/);
  });

  it('names the file in validation errors', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, JSON.stringify({ models: [] }));
    expect(loadError(path).message).toBe(`${path}: 1 problem\n  - models: must have at least 1 entry`);
  });
});
