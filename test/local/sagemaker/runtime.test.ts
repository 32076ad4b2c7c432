import { waitUntilEndpointInService } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, ModelError, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../../local/trainers/model.ts';
import { scoreRows } from '../../../local/trainers/model.ts';
import {
  churnLines,
  createEndpoint,
  createModel,
  GBT_IMAGE,
  type Harness,
  readArtifact,
  rejection,
  startHarness,
  trainChurn,
  uploadChurn,
  waitForEndpoint,
} from './harness.ts';

/** Ten churn rows as JSON instances (label dropped) and as headerless CSV in feature order. */
function samples(model: Model) {
  const { header, rows } = churnLines();
  const columns = header.split(',').map((name) => JSON.parse(name) as string);
  const parsed = rows
    .slice(0, 10)
    .map((line) => line.split(',').map((cell) => JSON.parse(cell) as string | number));
  const instances = parsed.map((cells) =>
    Object.fromEntries(
      columns.map((column, i) => [column, cells[i]]).filter(([column]) => column !== 'churn'),
    ),
  );
  const csv = instances
    .map((instance) => model.features.map((feature) => instance[feature.name]).join(','))
    .join('\n');
  return { instances, csv };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe('InvokeEndpoint', () => {
  let harness: Harness;
  let champion: Model;
  let challenger: Model;

  const invoke = (body: string, contentType = 'application/json', extra: Record<string, string> = {}) =>
    harness.runtime.send(
      new InvokeEndpointCommand({
        EndpointName: 'churn',
        ContentType: contentType,
        Body: encoder.encode(body),
        ...extra,
      }),
    );

  /** Sends `count` identical requests, 100 at a time, and counts the variants that answered. */
  async function route(count: number): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    const body = JSON.stringify({ instances: [{ total_day_minutes: 200 }] });
    for (let sent = 0; sent < count; sent += 100) {
      const answers = await Promise.all(
        Array.from({ length: Math.min(100, count - sent) }, () => invoke(body)),
      );
      for (const answer of answers)
        counts[answer.InvokedProductionVariant!] = (counts[answer.InvokedProductionVariant!] ?? 0) + 1;
    }
    return counts;
  }

  beforeAll(async () => {
    harness = await startHarness({ timings: { endpointCreateSeconds: 0, weightsUpdateSeconds: 0 }, seed: 7 });
    await uploadChurn(harness);
    const championArtifact = await trainChurn(harness, 'champion-job');
    const challengerArtifact = await trainChurn(harness, 'challenger-job', GBT_IMAGE);
    champion = await readArtifact(harness, championArtifact);
    challenger = await readArtifact(harness, challengerArtifact);
    await createModel(harness, 'champion', championArtifact);
    await createModel(harness, 'challenger', challengerArtifact, GBT_IMAGE);
    await createEndpoint(
      harness,
      'churn',
      'churn-config',
      [
        { name: 'champion', model: 'champion', weight: 90 },
        { name: 'challenger', model: 'challenger', weight: 10 },
      ],
      [{ name: 'shadow', model: 'challenger', weight: 1 }],
    );
    // The SDK's own waiter works against the emulator too.
    const waited = await waitUntilEndpointInService(
      { client: harness.sagemaker, minDelay: 1, maxDelay: 1, maxWaitTime: 30 },
      { EndpointName: 'churn' },
    );
    expect(waited.state).toBe('SUCCESS');
  });
  afterAll(() => harness.close());

  it('scores JSON instances with the model the variant serves, the same every time', async () => {
    const { instances } = samples(champion);
    const body = JSON.stringify({ instances });
    const answer = await invoke(body, 'application/json', { TargetVariant: 'champion' });
    expect(answer.ContentType).toBe('application/json');
    expect(answer.InvokedProductionVariant).toBe('champion');
    const { predictions } = JSON.parse(decoder.decode(answer.Body)) as { predictions: { score: number }[] };
    expect(predictions).toHaveLength(10);
    for (const { score } of predictions) expect(score >= 0 && score <= 1).toBe(true);
    expect(predictions.map((prediction) => prediction.score)).toEqual(scoreRows(champion, instances));
    const again = await invoke(body, 'application/json', { TargetVariant: 'champion' });
    expect(decoder.decode(again.Body)).toBe(decoder.decode(answer.Body));
  });

  it('scores headerless CSV rows in feature order, one score per line', async () => {
    const { instances, csv } = samples(challenger);
    const answer = await invoke(csv, 'text/csv', { TargetVariant: 'challenger' });
    expect(answer.ContentType).toBe('text/csv');
    const scores = decoder.decode(answer.Body).trimEnd().split('\n').map(Number);
    expect(scores).toEqual(scoreRows(challenger, instances));
    const json = await invoke(csv, 'text/csv', { TargetVariant: 'challenger', Accept: 'application/json' });
    expect(JSON.parse(decoder.decode(json.Body)).predictions[0].score).toBe(scores[0]);
  });

  it('routes requests by CurrentWeight: 10,000 requests at 90/10 within binomial bounds', async () => {
    const before = harness.emulator.stats({ endpoint: 'churn' });
    const counts = await route(10_000);
    // Binomial(10,000, 0.1): mean 1,000, sd 30; ±5 sd fails a correct router once in 3.5 million runs.
    expect(counts.challenger).toBeGreaterThan(850);
    expect(counts.challenger).toBeLessThan(1150);
    expect(counts.champion! + counts.challenger!).toBe(10_000);
    expect(counts.shadow).toBeUndefined();

    const after = harness.emulator.stats({ endpoint: 'churn' });
    const invocations = (stats: typeof after, variant: string) =>
      stats.find((item) => item.variant === variant)?.invocations ?? 0;
    expect(invocations(after, 'challenger') - invocations(before, 'challenger')).toBe(counts.challenger);
    // The shadow variant scored a copy of every request, and its answers were kept, not returned.
    expect(invocations(after, 'shadow') - invocations(before, 'shadow')).toBe(10_000);
    expect(after.find((item) => item.variant === 'shadow')?.shadow).toBe(true);
    expect(harness.emulator.state.shadowResults.at(-1)).toMatchObject({
      endpoint: 'churn',
      variant: 'shadow',
      contentType: 'application/json',
    });
  });

  it('follows new weights after UpdateEndpointWeightsAndCapacities', async () => {
    const { UpdateEndpointWeightsAndCapacitiesCommand } = await import('@aws-sdk/client-sagemaker');
    await harness.sagemaker.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: 'churn',
        DesiredWeightsAndCapacities: [
          { VariantName: 'champion', DesiredWeight: 0 },
          { VariantName: 'challenger', DesiredWeight: 1 },
        ],
      }),
    );
    await waitForEndpoint(harness, 'churn');
    expect(await route(200)).toEqual({ challenger: 200 });
  });

  it('answers with the runtime errors the SDK knows', async () => {
    const notFound = await rejection(
      harness.runtime.send(
        new InvokeEndpointCommand({
          EndpointName: 'nope',
          ContentType: 'text/csv',
          Body: encoder.encode('1'),
        }),
      ),
    );
    expect(notFound).toBeInstanceOf(ValidationError);
    expect(notFound).toMatchObject({
      message: 'Endpoint nope of account 123456789012 not found.',
      $metadata: { httpStatusCode: 400 },
    });

    const badJson = await rejection(
      invoke('{"instances": ', 'application/json', { TargetVariant: 'champion' }),
    );
    expect(badJson).toBeInstanceOf(ModelError);
    expect(badJson).toMatchObject({
      OriginalStatusCode: 400,
      $fault: 'client',
      $metadata: { httpStatusCode: 424 },
    });
    expect(badJson.message).toMatch(
      /^Received client error \(400\) from primary with message "the body is not JSON: /,
    );

    const badType = await rejection(invoke('x', 'application/x-parquet', { TargetVariant: 'champion' }));
    expect(badType).toMatchObject({ name: 'ModelError', OriginalStatusCode: 415 });
    const badCsv = await rejection(invoke('1,2\n', 'text/csv', { TargetVariant: 'champion' }));
    expect(badCsv).toMatchObject({
      name: 'ModelError',
      OriginalMessage: 'CSV row 1: expected 19 fields, found 2',
    });
    const badVariant = await rejection(
      invoke('{"instances": []}', 'application/json', { TargetVariant: 'blue' }),
    );
    expect(badVariant).toBeInstanceOf(ValidationError);

    const [champion4xx] = harness.emulator.stats({ endpoint: 'churn', variant: 'champion' });
    expect(champion4xx!.invocation4XXErrors).toBe(3);
  });

  it('injects model faults and throttling, counted as 5XX errors', async () => {
    const before = harness.emulator.stats({ endpoint: 'churn', variant: 'challenger' })[0]!;
    harness.emulator.injectFaults({ variant: 'challenger', errorRate: 1 });
    const fault = await rejection(invoke('{"instances": [{}]}'));
    expect(fault).toBeInstanceOf(ModelError);
    expect(fault).toMatchObject({
      OriginalStatusCode: 500,
      OriginalMessage: 'injected fault',
      LogStreamArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/churn',
    });
    harness.emulator.clearFaults();

    harness.emulator.injectFaults({ variant: 'challenger', errorRate: 0.2 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 1000 }, () => invoke('{"instances": [{}]}')),
    );
    harness.emulator.clearFaults();
    const failed = outcomes.filter((outcome) => outcome.status === 'rejected').length;
    // Binomial(1,000, 0.2): mean 200, sd 12.6.
    expect(failed).toBeGreaterThan(140);
    expect(failed).toBeLessThan(260);
    const after = harness.emulator.stats({ endpoint: 'churn', variant: 'challenger' })[0]!;
    expect(after.invocation5XXErrors - before.invocation5XXErrors).toBe(failed + 1);
    expect(after.invocations - before.invocations).toBe(1001);

    harness.emulator.injectFaults({ variant: 'challenger', errorRate: 1, kind: 'throttle' });
    const throttled = await rejection(invoke('{"instances": [{}]}'));
    harness.emulator.clearFaults();
    expect(throttled).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
  });

  it('serves per-variant metrics as JSON for local tooling', async () => {
    const response = await fetch(`${harness.emulator.url}/_emulator/metrics?endpoint=churn&variant=champion`);
    const { variants } = (await response.json()) as { variants: Record<string, unknown>[] };
    expect(variants).toEqual([
      expect.objectContaining({
        endpoint: 'churn',
        variant: 'champion',
        shadow: false,
        invocation4XXErrors: 3,
        invocation5XXErrors: 0,
        modelLatency: expect.objectContaining({ count: expect.any(Number), average: expect.any(Number) }),
      }),
    ]);
  });
});
