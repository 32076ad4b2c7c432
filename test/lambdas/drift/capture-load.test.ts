import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftModelRuntimeConfig, HistoryItem } from '../../../lambdas/shared/contract.ts';
import { capturePath, jsonInput, jsonOutput, record } from '../../helpers/capture-files.ts';
import type { LoadWorkerInput, LoadWorkerResult } from './capture-load-worker.ts';
import { DriftEnvironment, MODEL, SCENARIOS, type Uploaded } from './environment.ts';

/**
 * Load test of the engine's Data Capture windows: capture files of one model arriving in a burst (two
 * variants over four hours, each hour's first part closing early at maxRows), through the real handler over s3rver and
 * dynalite. Every window part is checked once, no row is lost, and the function's heap stays flat.
 * `npm test` sends 2,000 files (the emulators, not the handler, take most of the time);
 * `DRIFTWATCH_CAPTURE_LOAD_FILES=10000 npx vitest run test/lambdas/drift/capture-load.test.ts` the 10,000.
 */

const FILES = Number(process.env['DRIFTWATCH_CAPTURE_LOAD_FILES'] ?? 2_000);
const HOURS = 4;
const ROWS_PER_FILE = 6;
/** Two thirds of a window's rows: each hour's first part closes early, the rest by time. */
const MAX_ROWS = Math.max(500, Math.floor((FILES * ROWS_PER_FILE * 2) / (2 * HOURS * 3)));

const LOAD_MODEL: DriftModelRuntimeConfig = {
  ...MODEL,
  criticalFeatures: [],
  capture: {
    prefix: 'capture/',
    endpoints: ['churn-endpoint'],
    windowMinutes: 60,
    maxRows: MAX_ROWS,
    graceMinutes: 10,
    maxBadShare: 0.01,
    scoreColumn: 'score',
    features: [],
  },
};

const [header, ...lines] = readFileSync(`${SCENARIOS}churn-shifted/current.csv`, 'utf8').trim().split('\n');
const names = header!.split(',').map((name) => name.replaceAll('"', ''));
const rows = lines.map((line) =>
  Object.fromEntries(
    line
      .split(',')
      .map((field, i) => [names[i]!, field.startsWith('"') ? field.slice(1, -1) : Number(field)] as const)
      .filter(([name]) => name !== 'churn'),
  ),
);

/** File `i`: 3 requests of 1, 2 and 3 rows; even files are the canary's. */
function captureFile(i: number, time: Date): string {
  let at = (i * ROWS_PER_FILE) % (rows.length - ROWS_PER_FILE);
  return `${[1, 2, 3]
    .map((n) => {
      const instances = rows.slice(at, at + n);
      at += n;
      return JSON.stringify(
        record(
          jsonInput({ instances }),
          jsonOutput({
            predictions: instances.map((row) => ({ score: (row['total_day_minutes'] as number) / 400 })),
          }),
          `e-${i}-${n}`,
          time.toISOString(),
        ),
      );
    })
    .join('\n')}\n`;
}

let env: DriftEnvironment;

beforeAll(async () => {
  env = await DriftEnvironment.start({ model: LOAD_MODEL, capture: true });
});

afterAll(async () => {
  await env?.stop();
});

describe('Data Capture load', () => {
  it(
    `checks every window of ${FILES} capture files once, loses nothing, and keeps memory flat`,
    async () => {
      const start = Date.UTC(2026, 11, 1, 0, 0, 0);
      const spacing = (HOURS * 3_600_000) / Math.ceil(FILES / 2);
      const objects: Uploaded[] = new Array(FILES);
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < FILES) {
            const i = next++;
            const time = new Date(start + Math.floor(i / 2) * spacing);
            const key = capturePath(
              'capture',
              'churn-endpoint',
              i % 2 ? 'AllTraffic' : 'Canary',
              time,
              `f${i}`,
            );
            objects[i] = await env.upload(key, captureFile(i, time));
          }
        }),
      );

      const worker = new Worker(new URL('./capture-load-worker.ts', import.meta.url), {
        workerData: { objects, concurrency: 8, sampleEvery: Math.ceil(FILES / 10) } satisfies LoadWorkerInput,
        env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' },
        stdout: true,
      });
      worker.stdout.resume();
      const [result] = (await once(worker, 'message')) as [LoadWorkerResult];
      await worker.terminate();
      console.log(
        `capture load: ${FILES} files in ${result.filesMs} ms (${(result.filesMs / FILES).toFixed(1)} ms a file), ` +
          `${result.windowMessages} window checks in ${result.checksMs} ms, heap after GC ` +
          `${result.heapSamples.map((bytes) => (bytes / 2 ** 20).toFixed(1)).join(' ')} MB, after the checks ` +
          `${(result.heapAfterChecks / 2 ** 20).toFixed(1)} MB`,
      );
      expect(result.failedMessages).toBe(0);
      expect(result.deadLetters).toBe(0);

      const history = await env.history();
      expect(history.filter((item) => item.status === 'failed')).toEqual([]);
      const windows = history.filter(
        (item): item is HistoryItem & { window: NonNullable<HistoryItem['window']> } =>
          item.window !== undefined,
      );
      // Every part of every window checked exactly once, at its first version.
      const checks = new Map<string, number>();
      for (const item of windows) {
        const id = `${item.window.variant} ${item.window.start} part ${item.window.part}`;
        checks.set(id, (checks.get(id) ?? 0) + 1);
      }
      expect([...checks.values()].every((count) => count === 1)).toBe(true);
      expect(windows.every((item) => item.window.version === 1)).toBe(true);
      expect(result.windowMessages).toBe(windows.length);
      // Nothing lost: every file and row is in exactly one check.
      expect(windows.reduce((sum, item) => sum + item.window.files, 0)).toBe(FILES);
      expect(windows.reduce((sum, item) => sum + item.window.rows, 0)).toBe(FILES * ROWS_PER_FILE);
      // Windows of a busy hour closed early at maxRows; each variant's hours are windows of their own.
      const early = windows.filter((item) => item.window.closedBy === 'rows');
      expect(early.length).toBe(2 * HOURS);
      expect(early.every((item) => item.window.rows >= MAX_ROWS && item.window.part === 0)).toBe(true);
      expect(new Set(windows.map((item) => `${item.window.variant} ${item.window.start}`)).size).toBe(
        2 * HOURS,
      );

      // Flat memory: after warm-up (the first sample), the heap after GC grows by less than 16 MB however many
      // files went through, and checking windows of thousands of partials leaves it there.
      const [, warm, ...later] = result.heapSamples;
      const ceiling = warm! + 16 * 2 ** 20;
      expect(Math.max(...later)).toBeLessThan(ceiling);
      expect(result.heapAfterChecks).toBeLessThan(ceiling);
    },
    120_000 + FILES * 300,
  );
});
