import {
  CreateModelCommand,
  CreateModelPackageCommand,
  type CreateModelPackageCommandInput,
  CreateModelPackageGroupCommand,
  DescribeModelCommand,
  DescribeModelPackageCommand,
  DescribeModelPackageGroupCommand,
  ListModelPackageGroupsCommand,
  ListModelPackagesCommand,
  type ListModelPackagesCommandInput,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/sagemaker/clock.ts';
import type { SageMakerEvent } from '../../../local/sagemaker/context.ts';
import { type Harness, LOGISTIC_IMAGE, rejection, startHarness } from './harness.ts';

const GROUP_ARN = 'arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn';
const packageArn = (version: number) =>
  `arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/${version}`;

describe('model registry', () => {
  let harness: Harness;
  const clock = new ManualClock(Date.UTC(2024, 5, 1));
  const events: SageMakerEvent[] = [];

  const createPackage = async (version: number, extra: Partial<CreateModelPackageCommandInput> = {}) => {
    await clock.advance(60_000);
    return harness.sagemaker.send(
      new CreateModelPackageCommand({
        ModelPackageGroupName: 'churn',
        ModelPackageDescription: `retrained model ${version}`,
        InferenceSpecification: {
          Containers: [
            { Image: LOGISTIC_IMAGE, ModelDataUrl: `s3://ml/models/job-${version}/output/model.tar.gz` },
          ],
          SupportedContentTypes: ['application/json', 'text/csv'],
          SupportedResponseMIMETypes: ['application/json', 'text/csv'],
        },
        CustomerMetadataProperties: { trainingJob: `job-${version}` },
        ModelMetrics: {
          ModelQuality: {
            Statistics: {
              ContentType: 'application/json',
              S3Uri: `s3://ml/models/job-${version}/metrics.json`,
            },
          },
        },
        ...extra,
      }),
    );
  };

  beforeAll(async () => {
    harness = await startHarness({ clock, onEvent: (event) => events.push(event) });
  });
  afterAll(() => harness.close());

  it('creates, describes and lists groups', async () => {
    const created = await harness.sagemaker.send(
      new CreateModelPackageGroupCommand({
        ModelPackageGroupName: 'churn',
        ModelPackageGroupDescription: 'churn models',
      }),
    );
    expect(created.ModelPackageGroupArn).toBe(GROUP_ARN);
    await clock.advance(1000);
    await harness.sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'fraud' }));
    expect(
      await harness.sagemaker.send(
        new DescribeModelPackageGroupCommand({ ModelPackageGroupName: GROUP_ARN }),
      ),
    ).toMatchObject({
      ModelPackageGroupName: 'churn',
      ModelPackageGroupDescription: 'churn models',
      ModelPackageGroupStatus: 'Completed',
      CreationTime: new Date('2024-06-01T00:00:00Z'),
    });
    const listed = await harness.sagemaker.send(
      new ListModelPackageGroupsCommand({ SortBy: 'CreationTime', SortOrder: 'Descending' }),
    );
    expect(listed.ModelPackageGroupSummaryList?.map((group) => group.ModelPackageGroupName)).toEqual([
      'fraud',
      'churn',
    ]);
    const filtered = await harness.sagemaker.send(new ListModelPackageGroupsCommand({ NameContains: 'CHU' }));
    expect(filtered.ModelPackageGroupSummaryList?.map((group) => group.ModelPackageGroupName)).toEqual([
      'churn',
    ]);

    const duplicate = await rejection(
      harness.sagemaker.send(new CreateModelPackageGroupCommand({ ModelPackageGroupName: 'churn' })),
    );
    expect(duplicate).toMatchObject({
      name: 'ValidationException',
      message: `Model Package Group already exists: ${GROUP_ARN}`,
    });
  });

  it('numbers package versions 1, 2, 3 pending manual approval', async () => {
    const arns = [];
    for (const version of [1, 2, 3]) arns.push((await createPackage(version)).ModelPackageArn);
    expect(arns).toEqual([packageArn(1), packageArn(2), packageArn(3)]);
    const described = await harness.sagemaker.send(
      new DescribeModelPackageCommand({ ModelPackageName: packageArn(2) }),
    );
    expect(described).toMatchObject({
      ModelPackageGroupName: 'churn',
      ModelPackageVersion: 2,
      ModelPackageArn: packageArn(2),
      ModelPackageStatus: 'Completed',
      ModelApprovalStatus: 'PendingManualApproval',
      CustomerMetadataProperties: { trainingJob: 'job-2' },
      InferenceSpecification: { Containers: [{ ModelDataUrl: 's3://ml/models/job-2/output/model.tar.gz' }] },
      ModelMetrics: { ModelQuality: { Statistics: { S3Uri: 's3://ml/models/job-2/metrics.json' } } },
      CreationTime: new Date('2024-06-01T00:02:01Z'),
    });
    // A retry with the same client token gets the same package instead of a fourth version.
    const first = await createPackage(4, { ClientToken: 'retrain-run-4' });
    const retry = await createPackage(4, { ClientToken: 'retrain-run-4' });
    expect(retry.ModelPackageArn).toBe(first.ModelPackageArn);
    expect(first.ModelPackageArn).toBe(packageArn(4));
  });

  it('changes approval status and metadata, sending the state change event', async () => {
    events.length = 0;
    await harness.sagemaker.send(
      new UpdateModelPackageCommand({
        ModelPackageArn: packageArn(3),
        ModelApprovalStatus: 'Approved',
        ApprovalDescription: 'beat the champion on validation AUC',
        CustomerMetadataProperties: { approvedBy: 'retraining-pipeline' },
        CustomerMetadataPropertiesToRemove: ['trainingJob'],
      }),
    );
    await harness.sagemaker.send(
      new UpdateModelPackageCommand({ ModelPackageArn: packageArn(1), ModelApprovalStatus: 'Rejected' }),
    );
    expect(
      await harness.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: packageArn(3) })),
    ).toMatchObject({
      ModelApprovalStatus: 'Approved',
      ApprovalDescription: 'beat the champion on validation AUC',
      CustomerMetadataProperties: { approvedBy: 'retraining-pipeline' },
    });
    expect(
      events.map((event) => [event['detail-type'], event.resources[0], event.detail.ModelApprovalStatus]),
    ).toEqual([
      ['SageMaker Model Package State Change', packageArn(3), 'Approved'],
      ['SageMaker Model Package State Change', packageArn(1), 'Rejected'],
    ]);
    const invalid = await rejection(
      harness.sagemaker.send(
        new UpdateModelPackageCommand({
          ModelPackageArn: packageArn(2),
          ModelApprovalStatus: 'Maybe' as 'Approved',
        }),
      ),
    );
    expect(invalid.message).toContain("Value 'Maybe' at 'modelApprovalStatus' failed to satisfy constraint");
  });

  it('lists packages by group and status, sorted by creation time', async () => {
    const list = (input: ListModelPackagesCommandInput) =>
      harness.sagemaker.send(new ListModelPackagesCommand(input));
    const newestFirst = await list({
      ModelPackageGroupName: 'churn',
      SortBy: 'CreationTime',
      SortOrder: 'Descending',
    });
    expect(newestFirst.ModelPackageSummaryList?.map((item) => item.ModelPackageVersion)).toEqual([
      4, 3, 2, 1,
    ]);
    const approved = await list({
      ModelPackageGroupName: 'churn',
      ModelApprovalStatus: 'Approved',
      SortOrder: 'Descending',
      MaxResults: 1,
    });
    expect(approved.ModelPackageSummaryList).toEqual([
      expect.objectContaining({
        ModelPackageArn: packageArn(3),
        ModelApprovalStatus: 'Approved',
        ModelPackageStatus: 'Completed',
      }),
    ]);
    const firstPage = await list({ ModelPackageGroupName: GROUP_ARN, MaxResults: 3 });
    expect(firstPage.ModelPackageSummaryList?.map((item) => item.ModelPackageVersion)).toEqual([1, 2, 3]);
    const secondPage = await list({
      ModelPackageGroupName: GROUP_ARN,
      MaxResults: 3,
      NextToken: firstPage.NextToken,
    });
    expect(secondPage.ModelPackageSummaryList?.map((item) => item.ModelPackageVersion)).toEqual([4]);
    expect(secondPage.NextToken).toBeUndefined();
    const recent = await list({
      ModelPackageGroupName: 'churn',
      CreationTimeAfter: new Date('2024-06-01T00:03:30Z'),
    });
    expect(recent.ModelPackageSummaryList?.map((item) => item.ModelPackageVersion)).toEqual([4]);
    expect((await list({ ModelPackageGroupName: 'fraud' })).ModelPackageSummaryList).toEqual([]);
  });

  it('deploys a model straight from a package', async () => {
    await harness.sagemaker.send(
      new CreateModelCommand({
        ModelName: 'from-registry',
        PrimaryContainer: { ModelPackageName: packageArn(3) },
      }),
    );
    const model = await harness.sagemaker.send(new DescribeModelCommand({ ModelName: 'from-registry' }));
    expect(model.PrimaryContainer?.ModelPackageName).toBe(packageArn(3));
    expect(harness.emulator.state.models.get('from-registry')?.modelDataUrl).toBe(
      's3://ml/models/job-3/output/model.tar.gz',
    );
  });

  it('reports unknown groups and packages', async () => {
    expect(
      (
        await rejection(
          harness.sagemaker.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: 'nope' })),
        )
      ).message,
    ).toBe('ModelPackageGroup nope does not exist.');
    expect(
      (
        await rejection(
          harness.sagemaker.send(new DescribeModelPackageCommand({ ModelPackageName: packageArn(9) })),
        )
      ).message,
    ).toBe(`ModelPackage ${packageArn(9)} does not exist.`);
    expect((await rejection(createPackage(5, { ModelPackageGroupName: 'nope' }))).name).toBe(
      'ValidationException',
    );
  });
});
