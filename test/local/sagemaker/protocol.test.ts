import { ListTrainingJobsCommand } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/sagemaker/clock.ts';
import { toWireJson } from '../../../local/sagemaker/protocol.ts';
import { algorithmForImage } from '../../../local/sagemaker/training.ts';
import { type Harness, rejection, startHarness } from './harness.ts';

describe('the wire protocols', () => {
  let harness: Harness;
  const post = (target: string | undefined, body: string) =>
    fetch(harness.emulator.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        ...(target ? { 'x-amz-target': target } : {}),
      },
      body,
    });

  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  it('answers unsigned AWS JSON 1.1 requests with epoch-second timestamps', async () => {
    const created = await post('SageMaker.CreateModelPackageGroup', '{"ModelPackageGroupName":"raw"}');
    expect(created.status).toBe(200);
    expect(created.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(created.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    const described = await post('SageMaker.DescribeModelPackageGroup', '{"ModelPackageGroupName":"raw"}');
    const body = (await described.json()) as { CreationTime: unknown };
    expect(typeof body.CreationTime).toBe('number');
    expect(Math.abs((body.CreationTime as number) * 1000 - Date.now())).toBeLessThan(60_000);
  });

  it('names an operation it does not implement, through the SDK too', async () => {
    const raw = await post('SageMaker.ListTrainingJobs', '{}');
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({
      __type: 'UnknownOperationException',
      message: 'The SageMaker emulator does not implement "SageMaker.ListTrainingJobs"',
    });
    const error = await rejection(harness.sagemaker.send(new ListTrainingJobsCommand({})));
    expect(error).toMatchObject({
      name: 'UnknownOperationException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    expect(error.message).toContain('SageMaker.ListTrainingJobs');
  });

  it('refuses a body that is not a JSON object, and routes nothing else', async () => {
    const bad = await post('SageMaker.DescribeModel', '[1]');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { __type: string }).__type).toBe('SerializationException');
    const missing = await post(undefined, '{}');
    expect(((await missing.json()) as { __type: string }).__type).toBe('UnknownOperationException');
    const other = await fetch(`${harness.emulator.url}/models`, { method: 'GET' });
    expect(other.status).toBe(404);
  });

  it('sends runtime errors with x-amzn-errortype and a Message', async () => {
    const response = await fetch(`${harness.emulator.runtimeUrl}/endpoints/none/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: '1',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('ValidationError');
    expect(await response.json()).toEqual({ Message: 'Endpoint none of account 123456789012 not found.' });
  });
});

describe('helpers', () => {
  it('encodes dates as epoch seconds, nested too', () => {
    expect(toWireJson({ a: new Date(1500), b: [{ c: new Date(0) }], d: 'x' })).toBe(
      '{"a":1.5,"b":[{"c":0}],"d":"x"}',
    );
  });

  it('picks the trainer from the image repository name', () => {
    expect(algorithmForImage('123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-logistic:3')).toBe(
      'logistic',
    );
    expect(algorithmForImage('123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-gbt@sha256:abc')).toBe(
      'gbt',
    );
    // The tag does not count, only the repository.
    expect(algorithmForImage('registry/xgboost:logistic')).toBeUndefined();
  });

  it('wakes manual-clock sleepers in due order, and only when due', async () => {
    const clock = new ManualClock(0);
    const woke: string[] = [];
    void clock.sleep(200).then(() => woke.push('late'));
    void clock.sleep(100).then(() => woke.push('early'));
    await clock.sleep(0);
    await clock.advance(99);
    expect(woke).toEqual([]);
    await clock.advance(200);
    expect(woke).toEqual(['early', 'late']);
    expect(clock.now()).toBe(299);
    const aborted = new AbortController();
    const sleeping = clock.sleep(10, aborted.signal);
    aborted.abort(new Error('closing'));
    await expect(sleeping).rejects.toThrow('closing');
    expect(clock.pending).toBe(0);
  });
});
