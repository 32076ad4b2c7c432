#!/usr/bin/env node
// The `driftwatch` command: runs the bundle of bin/driftwatch.ts (see build-cli.mjs), rebuilt when a source
// is newer, or the TypeScript sources themselves when the bundle cannot be built.
import { freshBundle } from './build-cli.mjs';
import { startEarlyWorker } from './early-worker.mjs';

const bundle = await freshBundle();
if (bundle !== null)
  startEarlyWorker(
    new URL(`file://${bundle.replace(/[^/]*$/, 'profile-worker.mjs')}`),
    process.argv.slice(2),
  );
await import(bundle === null ? './driftwatch.ts' : new URL(`file://${bundle}`).href);
