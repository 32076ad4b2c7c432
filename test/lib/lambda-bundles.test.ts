import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DRIFT_HANDLER_ENTRY } from '../../lib/drift-detector.ts';
import { FEEDBACK_HANDLER_ENTRY } from '../../lib/feedback-stream.ts';
import { NOTIFIER_HANDLER_ENTRY } from '../../lib/incident-notifier.ts';
import { handlerName, SHIPPED_HANDLERS } from '../../lib/lambda-bundles.ts';
import { PERFORMANCE_HANDLER_ENTRY } from '../../lib/performance-monitor.ts';
import { retrainingHandlerEntry } from '../../lib/retraining-pipeline.ts';
import { tempDir } from '../helpers/cli.ts';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

/** A fresh instance of the module, as a new synthesis process has (its builds of this process forgotten). */
async function freshBundles(): Promise<typeof import('../../lib/lambda-bundles.ts')> {
  vi.resetModules();
  return import('../../lib/lambda-bundles.ts');
}

async function runHandler(bundleDir: string, version: number): Promise<unknown> {
  const module = (await import(`${pathToFileURL(join(bundleDir, 'index.mjs')).href}?v=${version}`)) as {
    handler: () => Promise<unknown>;
  };
  return module.handler();
}

describe('Lambda bundles', () => {
  it('ships every handler the constructs deploy in the one shared build', () => {
    const entries = [
      DRIFT_HANDLER_ENTRY,
      PERFORMANCE_HANDLER_ENTRY,
      NOTIFIER_HANDLER_ENTRY,
      FEEDBACK_HANDLER_ENTRY,
      ...(['plan', 'costGate', 'prepareInputs', 'evaluate', 'register', 'canaryDecision'] as const).map(
        retrainingHandlerEntry,
      ),
    ];
    expect(entries.map(handlerName).sort()).toEqual([...SHIPPED_HANDLERS].sort());
  });

  it('builds a handler into index.mjs with its source map, keeps the build, and rebuilds when an input changes', async () => {
    const source = join(dir, 'source');
    mkdirSync(source, { recursive: true });
    const entry = join(source, 'handler.ts');
    const dependency = join(source, 'answer.ts');
    const cache = join(dir, 'cache');
    writeFileSync(
      entry,
      "import { answer } from './answer.ts';\nexport const handler = async () => answer;\n",
    );
    writeFileSync(dependency, 'export const answer: number = 41;\n');

    const first = (await freshBundles()).handlerBundle(entry, cache);
    expect(existsSync(join(first, 'index.mjs.map'))).toBe(true);
    expect(readFileSync(join(first, 'index.mjs'), 'utf8')).toContain('createRequire');
    expect(await runHandler(first, 1)).toBe(41);

    // Kept: another process with nothing changed uses the same files (a marker in the kept build survives).
    writeFileSync(join(first, 'marker'), 'kept');
    const again = (await freshBundles()).handlerBundle(entry, cache);
    expect(again).toBe(first);
    expect(existsSync(join(again, 'marker'))).toBe(true);

    // An input esbuild read changed: built again, with the new code.
    writeFileSync(dependency, 'export const answer: number = 42;\n');
    const rebuilt = (await freshBundles()).handlerBundle(entry, cache);
    expect(existsSync(join(rebuilt, 'marker'))).toBe(false);
    expect(await runHandler(rebuilt, 2)).toBe(42);
  });

  it('fails with the entry and esbuild error when a handler does not build', async () => {
    const entry = join(dir, 'broken', 'handler.ts');
    mkdirSync(join(dir, 'broken'), { recursive: true });
    writeFileSync(entry, "import { missing } from './nowhere.ts';\nexport const handler = () => missing;\n");
    const { handlerBundle } = await freshBundles();
    expect(() => handlerBundle(entry, join(dir, 'cache'))).toThrow(
      /bundling the Lambda handlers .*broken\/handler\.ts failed: .*Could not resolve "\.\/nowhere\.ts"/s,
    );
  });
});
