/**
 * The noisy neighbour, on the real protocols: the engine synthesized for two models (its drift function
 * bundled with one injected fault, see noisy-neighbour/poison-drift-handler.ts), run by the local AWS through
 * the landing queue, the routing, the FIFO checks queue and its event source mapping, with s3rver and
 * dynalite behind. Model `flood` drops 500 files (one of them a poison message) and then model `quiet` drops
 * one: quiet's file is checked while flood's backlog is still almost whole, flood never has more than its
 * `drift.maxConcurrency` checks running, and flood's poison message ends in the FIFO dead-letter queue
 * without holding anything of quiet's back.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileToJson } from '../../../lambdas/core/drift/profile.ts';
import { profileTable } from '../../../lambdas/core/drift/run.ts';
import { fileInput } from '../../../lambdas/core/readers/input.ts';
import type { HistoryItem } from '../../../lambdas/shared/contract.ts';
import { validateConfig } from '../../../lib/config/validate.ts';
import { addDriftwatch } from '../../../lib/model-stacks.ts';
import { type LocalAws, startLocalAws } from '../../../local/aws/local-aws.ts';

const FLOOD_FILES = 500;
const FLOOD_CONCURRENCY = 2;
/**
 * The bound this test states: quiet's one file is checked before 10% of flood's 500 are. It waits only for the
 * routing of the landing events queued ahead of it (a catalog lookup and a SendMessage each, 10 per
 * invocation), then starts at once: flood holds at most 2 of the engine's 10 check slots. Without the routing
 * it would wait for all 500 (the landing queue is served in about the order files land).
 */
const FLOOD_CHECKED_BEFORE_QUIET_AT_MOST = FLOOD_FILES / 10;

const config = validateConfig({
  stackName: 'Noisy',
  alerts: { emails: ['oncall@example.com'] },
  models: ['flood', 'quiet'].map((name) => ({
    name,
    prefixes: { incoming: `${name}/incoming/`, golden: `${name}/golden/`, baselines: `${name}/baselines/` },
    features: { x: 'numeric', y: 'numeric', c: 'categorical' },
    drift: { maxConcurrency: name === 'flood' ? FLOOD_CONCURRENCY : 5 },
  })),
});

/** `rows` rows of x, y (numeric) and c (categorical), deterministic from `seed`. */
function csv(rows: number, seed: number): string {
  const lines = ['x,y,c'];
  for (let i = 0; i < rows; i += 1) {
    const u = ((i * 7919 + seed * 104729) % 1000) / 1000;
    lines.push(`${(u * 10).toFixed(3)},${((1 - u) * 5).toFixed(3)},${['a', 'b', 'c'][(i + seed) % 3]}`);
  }
  return `${lines.join('\n')}\n`;
}

let aws: LocalAws;
let outdir: string;
let landing: string;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'driftwatch-noisy-'));
  // Path metadata, as `cdk synth` writes it: the local AWS finds resources by construct path.
  const app = new App({ outdir, context: { 'aws:cdk:enable-path-metadata': true } });
  addDriftwatch(app, config, {
    driftHandlerEntry: new URL('./noisy-neighbour/poison-drift-handler.ts', import.meta.url).pathname,
  });
  app.synth();
  // As many execution environments as the function gets in AWS under this load: flood's 2 checks, quiet's
  // check and the 2 routing invocations.
  aws = await startLocalAws({
    assemblyDir: outdir,
    startTime: Date.parse('2025-06-02T09:00:00Z'),
    maxEnvironmentsPerFunction: 5,
  });
  landing = String(aws.outputs['LandingBucketName']);
  const baseline = join(outdir, 'baseline.csv');
  writeFileSync(baseline, csv(300, 1));
  const profile = profileToJson(
    await profileTable(fileInput(baseline), { numeric: ['x', 'y'], categorical: ['c'], exclude: [] }),
  );
  for (const model of config.models) {
    await aws.putObject(landing, `${model.prefixes.baselines}profile.json`, profile);
  }
}, 600_000);

afterAll(async () => {
  await aws?.stop();
  rmSync(outdir, { recursive: true, force: true });
});

async function history(model: string): Promise<HistoryItem[]> {
  const documents = DynamoDBDocumentClient.from(aws.dynamoDbClient());
  const items: HistoryItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new QueryCommand({
        TableName: String(aws.outputs['HistoryTableName']),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `MODEL#${model}` },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((page.Items ?? []) as HistoryItem[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

describe('noisy neighbour: one model floods the shared drift function', () => {
  it("checks quiet's one file while flood's 500 wait, flood held to its maxConcurrency, its poison message dead-lettered", async () => {
    const checks = aws.queue(aws.resource('Drift/ChecksQueue').name)!;
    expect(checks.fifo).toBe(true);
    // Flood's checks running at once, sampled at every step of the local AWS.
    let floodRunningMax = 0;
    const stopSampling = aws.timeline.on(() => {
      const now = aws.clock.now();
      const running = checks
        .peek()
        .filter((m) => m.messageGroupId?.startsWith('flood#') && m.receiptHandle && m.visibleAt > now).length;
      floodRunningMax = Math.max(floodRunningMax, running);
    });

    const s3 = aws.s3Client();
    const put = (key: string, body: string) =>
      s3.send(new PutObjectCommand({ Bucket: landing, Key: key, Body: body }));
    // Flood's files land 25 at a time, faster than they are checked: a backlog builds up.
    for (let i = 0; i < FLOOD_FILES; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, (_, j) => i + j).map((n) =>
          put(
            `flood/incoming/${n === 7 ? 'poison' : 'file'}-${String(n).padStart(3, '0')}.csv`,
            csv(40, n + 2),
          ),
        ),
      );
    }
    const quietLandedAt = new Date().toISOString();
    await put('quiet/incoming/only.csv', csv(40, 9999));
    await aws.settle();
    stopSampling();

    const checked = async () => (await history('flood')).filter((item) => item.status === 'succeeded');
    const [quiet] = await history('quiet');
    expect(quiet).toMatchObject({ status: 'succeeded', key: 'quiet/incoming/only.csv' });
    const flood = await checked();
    const checkedWhileQuietWaited = flood.filter(
      (item) => item.checkedAt > quietLandedAt && item.checkedAt < quiet!.checkedAt,
    ).length;
    const unchecked = FLOOD_FILES - flood.filter((item) => item.checkedAt < quiet!.checkedAt).length;
    console.info(
      `quiet's file: checked while ${unchecked} of flood's files were still unchecked; ${checkedWhileQuietWaited} of flood's were checked meanwhile`,
    );
    expect(FLOOD_FILES - unchecked).toBeLessThan(FLOOD_CHECKED_BEFORE_QUIET_AT_MOST);
    expect(floodRunningMax).toBe(FLOOD_CONCURRENCY);
    // The poison message holds its own group (flood's files behind it in that group wait) and nothing else.
    const [poison] = checks.peek().filter((m) => m.body.includes('flood/incoming/poison-007.csv'));
    expect(poison?.messageGroupId).toMatch(/^flood#[01]$/);
    const waiting = checks.peek().filter((m) => m !== undefined);
    expect(waiting.every((m) => m.messageGroupId === poison!.messageGroupId)).toBe(true);
    expect(flood.length + waiting.length).toBe(FLOOD_FILES);

    // Retried on the clock (the visibility timeout) until the redrive policy moves it; then its group goes on.
    const deadLetters = aws.queue(aws.resource('Drift/ChecksDeadLetterQueue').name)!;
    for (let i = 0; i < 4 && deadLetters.peek().length === 0; i += 1) {
      await aws.advance(checks.visibilityTimeoutSeconds * 1000);
    }
    const dead = deadLetters.peek();
    expect(dead.map((m) => m.body.includes('flood/incoming/poison-007.csv'))).toEqual([true]);
    await aws.settle();
    expect(await checked()).toHaveLength(FLOOD_FILES - 1);
    expect(checks.peek()).toEqual([]);
  }, 600_000);
});
