/**
 * The emulator's background work is reported to `onBackground` as it starts: a caller moving its own clock
 * (the demo's local AWS) waits for it, so an endpoint loading its models in real time is InService before
 * that clock moves on, however slow the machine.
 */
import {
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEndpoint,
  createModel,
  type Harness,
  startHarness,
  trainingRequest,
  uploadChurn,
} from './harness.ts';

describe('background work', () => {
  let harness: Harness;
  const work: Promise<void>[] = [];
  const settled = async () => {
    // Work that ends may start more (none does today): wait until nothing new was reported.
    for (let seen = -1; seen !== work.length; ) {
      seen = work.length;
      await Promise.all(work);
    }
  };

  beforeAll(async () => {
    harness = await startHarness({
      timings: { endpointCreateSeconds: 0, endpointUpdateSeconds: 0, weightsUpdateSeconds: 0 },
      onBackground: (promise) => work.push(promise),
    });
    await uploadChurn(harness);
  });
  afterAll(() => harness.close());

  it('reports a training job and an endpoint creation, each done when its promise is', async () => {
    await harness.sagemaker.send(new CreateTrainingJobCommand(trainingRequest('background-job')));
    expect(work).toHaveLength(1);
    await settled();
    const job = await harness.sagemaker.send(
      new DescribeTrainingJobCommand({ TrainingJobName: 'background-job' }),
    );
    expect(job.TrainingJobStatus).toBe('Completed');

    await createModel(harness, 'model', job.ModelArtifacts!.S3ModelArtifacts!);
    await createEndpoint(harness, 'churn', 'churn-config', [
      { name: 'AllTraffic', model: 'model', weight: 1 },
    ]);
    expect(work).toHaveLength(2);
    // No polling: once the reported work is done, the endpoint has loaded its model.
    await settled();
    const endpoint = await harness.sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'churn' }));
    expect(endpoint.EndpointStatus).toBe('InService');
  });
});
