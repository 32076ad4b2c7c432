#!/usr/bin/env node
// The `driftwatch` command: runs the bundle of bin/driftwatch.ts (see build-cli.mjs), rebuilt when a source
// is newer, or the TypeScript sources themselves when the bundle cannot be built.
import { enableCompileCache } from 'node:module';

// Node keeps V8's compiled code of the bundle on disk (its compile cache, under the system's temporary
// directory), so a run does not compile the command again: about 0.2 s of CPU per thread, on every run.
enableCompileCache?.();

const { freshBundle } = await import('./build-cli.mjs');
const { startEarlyWorker } = await import('./early-worker.mjs');

const bundle = await freshBundle();
if (bundle !== null)
  startEarlyWorker(
    new URL(`file://${bundle.replace(/[^/]*$/, 'profile-worker.mjs')}`),
    process.argv.slice(2),
  );
await import(bundle === null ? './driftwatch.ts' : new URL(`file://${bundle}`).href);
