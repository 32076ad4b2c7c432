import {
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  UpdateEndpointCommand,
  UpdateEndpointWeightsAndCapacitiesCommand,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/sagemaker/clock.ts';
import type { SageMakerEvent } from '../../../local/sagemaker/context.ts';
import {
  createEndpoint,
  createModel,
  GBT_IMAGE,
  type Harness,
  rejection,
  startHarness,
  trainChurn,
  uploadChurn,
  waitFor,
  waitForEndpoint,
} from './harness.ts';

const ENDPOINT_ARN = 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn';
const IN_PROGRESS = `Cannot update in-progress endpoint "${ENDPOINT_ARN}".`;

describe('endpoints on a manual clock', () => {
  let harness: Harness;
  const clock = new ManualClock(Date.UTC(2024, 5, 1, 12));
  const events: SageMakerEvent[] = [];
  const describeEndpoint = (name = 'churn') =>
    harness.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }));
  /** Advances the clock once the background task waits on it, then waits for the endpoint to settle. */
  const settle = async (seconds: number, name = 'churn') => {
    await waitFor(
      async () => clock.pending,
      (pending) => pending > 0,
    );
    await clock.advance(seconds * 1000);
    return waitForEndpoint(harness, name);
  };

  beforeAll(async () => {
    harness = await startHarness({
      clock,
      timings: { endpointCreateSeconds: 60, endpointUpdateSeconds: 300, weightsUpdateSeconds: 30 },
      onEvent: (event) => events.push(event),
    });
    await uploadChurn(harness);
    await createModel(harness, 'champion', await trainChurn(harness, 'champion-job'));
    await createModel(
      harness,
      'challenger',
      await trainChurn(harness, 'challenger-job', GBT_IMAGE),
      GBT_IMAGE,
    );
  });
  afterAll(() => harness.close());

  it('describes models and endpoint configurations', async () => {
    const model = await harness.sagemaker.send(new DescribeModelCommand({ ModelName: 'challenger' }));
    expect(model).toMatchObject({
      ModelArn: 'arn:aws:sagemaker:us-east-1:123456789012:model/challenger',
      PrimaryContainer: {
        Image: GBT_IMAGE,
        ModelDataUrl: 's3://ml/models/challenger-job/output/model.tar.gz',
      },
      CreationTime: new Date('2024-06-01T12:00:00Z'),
    });
    const unknown = await rejection(
      harness.sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: 'broken',
          ProductionVariants: [
            { VariantName: 'a', ModelName: 'missing', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' },
          ],
        }),
      ),
    );
    expect(unknown).toMatchObject({
      name: 'ValidationException',
      message: 'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/missing".',
    });
  });

  it('creates an endpoint with two variants at 90/10: Creating, then InService', async () => {
    await createEndpoint(harness, 'churn', 'churn-config-1', [
      { name: 'champion', model: 'champion', weight: 0.9 },
      { name: 'challenger', model: 'challenger', weight: 0.1 },
    ]);
    const creating = await describeEndpoint();
    expect(creating).toMatchObject({
      EndpointArn: ENDPOINT_ARN,
      EndpointStatus: 'Creating',
      EndpointConfigName: 'churn-config-1',
    });
    expect(creating.ProductionVariants).toBeUndefined();
    expect(
      (
        await rejection(
          harness.sagemaker.send(
            new UpdateEndpointCommand({ EndpointName: 'churn', EndpointConfigName: 'churn-config-1' }),
          ),
        )
      ).message,
    ).toBe(IN_PROGRESS);

    const endpoint = await settle(60);
    expect(endpoint.EndpointStatus).toBe('InService');
    expect(endpoint.LastModifiedTime).toEqual(new Date('2024-06-01T12:01:00Z'));
    expect(endpoint.ProductionVariants).toEqual([
      expect.objectContaining({
        VariantName: 'champion',
        CurrentWeight: 0.9,
        DesiredWeight: 0.9,
        CurrentInstanceCount: 1,
      }),
      expect.objectContaining({ VariantName: 'challenger', CurrentWeight: 0.1, DesiredWeight: 0.1 }),
    ]);
    expect(endpoint.ProductionVariants![1]!.DeployedImages![0]!.SpecifiedImage).toBe(GBT_IMAGE);
    const config = await harness.sagemaker.send(
      new DescribeEndpointConfigCommand({ EndpointConfigName: 'churn-config-1' }),
    );
    expect(config.ProductionVariants?.map((variant) => variant.InitialVariantWeight)).toEqual([0.9, 0.1]);
  });

  it('shifts weights through Updating, refusing any other change meanwhile', async () => {
    await harness.sagemaker.send(
      new UpdateEndpointWeightsAndCapacitiesCommand({
        EndpointName: 'churn',
        DesiredWeightsAndCapacities: [
          { VariantName: 'champion', DesiredWeight: 0.5 },
          { VariantName: 'challenger', DesiredWeight: 0.5 },
        ],
      }),
    );
    const updating = await describeEndpoint();
    expect(updating.EndpointStatus).toBe('Updating');
    expect(
      updating.ProductionVariants?.map((variant) => [variant.CurrentWeight, variant.DesiredWeight]),
    ).toEqual([
      [0.9, 0.5],
      [0.1, 0.5],
    ]);

    const refusals = await Promise.all([
      rejection(
        harness.sagemaker.send(
          new UpdateEndpointCommand({ EndpointName: 'churn', EndpointConfigName: 'churn-config-1' }),
        ),
      ),
      rejection(
        harness.sagemaker.send(
          new UpdateEndpointWeightsAndCapacitiesCommand({
            EndpointName: 'churn',
            DesiredWeightsAndCapacities: [{ VariantName: 'champion', DesiredWeight: 1 }],
          }),
        ),
      ),
      rejection(harness.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'churn' }))),
    ]);
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({
        name: 'ValidationException',
        message: IN_PROGRESS,
        $metadata: { httpStatusCode: 400 },
      });
    }

    const done = await settle(30);
    expect(done.EndpointStatus).toBe('InService');
    expect(done.ProductionVariants?.map((variant) => [variant.CurrentWeight, variant.DesiredWeight])).toEqual(
      [
        [0.5, 0.5],
        [0.5, 0.5],
      ],
    );
    const unknown = await rejection(
      harness.sagemaker.send(
        new UpdateEndpointWeightsAndCapacitiesCommand({
          EndpointName: 'churn',
          DesiredWeightsAndCapacities: [{ VariantName: 'blue', DesiredWeight: 1 }],
        }),
      ),
    );
    expect(unknown.message).toBe(`The variant(s) "[blue]" is/are not present in endpoint "${ENDPOINT_ARN}".`);
  });

  it('updates to a new configuration: the old variants serve until it is deployed', async () => {
    await harness.sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'churn-config-2',
        ProductionVariants: [
          {
            VariantName: 'challenger',
            ModelName: 'challenger',
            InitialInstanceCount: 2,
            InstanceType: 'ml.m5.large',
            InitialVariantWeight: 1,
          },
        ],
      }),
    );
    await harness.sagemaker.send(
      new UpdateEndpointCommand({ EndpointName: 'churn', EndpointConfigName: 'churn-config-2' }),
    );
    const updating = await describeEndpoint();
    expect(updating).toMatchObject({
      EndpointStatus: 'Updating',
      EndpointConfigName: 'churn-config-1',
      PendingDeploymentSummary: {
        EndpointConfigName: 'churn-config-2',
        ProductionVariants: [{ VariantName: 'challenger', DesiredWeight: 1 }],
      },
    });
    expect(updating.ProductionVariants).toHaveLength(2);

    const done = await settle(300);
    expect(done).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'churn-config-2' });
    expect(done.PendingDeploymentSummary).toBeUndefined();
    expect(done.ProductionVariants).toEqual([
      expect.objectContaining({ VariantName: 'challenger', CurrentWeight: 1, CurrentInstanceCount: 2 }),
    ]);
  });

  it('rolls back an update whose model cannot be loaded, keeping the reason', async () => {
    await harness.sagemaker.send(
      new CreateModelCommand({
        ModelName: 'ghost',
        PrimaryContainer: { Image: GBT_IMAGE, ModelDataUrl: 's3://ml/models/ghost/model.tar.gz' },
      }),
    );
    await harness.sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'ghost-config',
        ProductionVariants: [
          { VariantName: 'ghost', ModelName: 'ghost', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' },
        ],
      }),
    );
    await harness.sagemaker.send(
      new UpdateEndpointCommand({ EndpointName: 'churn', EndpointConfigName: 'ghost-config' }),
    );
    const after = await waitForEndpoint(harness, 'churn');
    expect(after).toMatchObject({ EndpointStatus: 'InService', EndpointConfigName: 'churn-config-2' });
    expect(after.FailureReason).toContain(
      'Failed to download model data for container "container_1" from URL: "s3://ml/models/ghost/model.tar.gz"',
    );

    await harness.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'ghost-config' }));
    await createEndpoint(harness, 'ghost', 'ghost-config-2', [{ name: 'ghost', model: 'ghost', weight: 1 }]);
    const failed = await waitForEndpoint(harness, 'ghost');
    expect(failed.EndpointStatus).toBe('Failed');
    expect(failed.FailureReason).toContain('Failed to download model data');
    const update = await rejection(
      harness.sagemaker.send(
        new UpdateEndpointCommand({ EndpointName: 'ghost', EndpointConfigName: 'ghost-config-2' }),
      ),
    );
    expect(update.message).toBe(
      'Cannot update failed endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ghost".',
    );
  });

  it('deletes endpoints, configs and models, then reports them missing', async () => {
    await harness.sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'churn' }));
    const gone = await rejection(describeEndpoint());
    expect(gone).toMatchObject({
      name: 'ValidationException',
      message: `Could not find endpoint "${ENDPOINT_ARN}".`,
    });
    await harness.sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'churn-config-1' }));
    expect(
      (
        await rejection(
          harness.sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'churn-config-1' })),
        )
      ).message,
    ).toBe(
      'Could not find endpoint configuration "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/churn-config-1".',
    );
    await harness.sagemaker.send(new DeleteModelCommand({ ModelName: 'ghost' }));
    expect(
      (await rejection(harness.sagemaker.send(new DeleteModelCommand({ ModelName: 'ghost' })))).message,
    ).toBe('Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/ghost".');
  });

  it('sent an endpoint state change event at every status change', () => {
    const statuses = events
      .filter(
        (event) =>
          event['detail-type'] === 'SageMaker Endpoint State Change' && event.resources[0] === ENDPOINT_ARN,
      )
      .map((event) => event.detail.EndpointStatus);
    expect(statuses).toEqual([
      'InService',
      'Updating',
      'InService',
      'Updating',
      'InService',
      'Updating',
      'InService',
    ]);
  });
});
