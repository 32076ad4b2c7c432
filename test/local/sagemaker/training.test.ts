import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  ResourceInUse,
  SageMakerServiceException,
  StopTrainingJobCommand,
} from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../local/sagemaker/clock.ts';
import type { SageMakerEvent } from '../../../local/sagemaker/context.ts';
import {
  GBT_IMAGE,
  type Harness,
  objectExists,
  readArtifact,
  rejection,
  startHarness,
  trainingRequest,
  uploadChurn,
  waitFor,
  waitForTrainingJob,
} from './harness.ts';

const metric = (job: { FinalMetricDataList?: { MetricName?: string; Value?: number }[] }, name: string) =>
  job.FinalMetricDataList?.find((item) => item.MetricName === name)?.Value;

describe('training jobs on the system clock', () => {
  let harness: Harness;
  const events: SageMakerEvent[] = [];

  beforeAll(async () => {
    harness = await startHarness({ onEvent: (event) => events.push(event) });
    await uploadChurn(harness);
  });
  afterAll(() => harness.close());

  it('trains logistic regression on the churn data through the real statuses', async () => {
    const created = await harness.sagemaker.send(
      new CreateTrainingJobCommand(trainingRequest('churn-logistic-1')),
    );
    expect(created.TrainingJobArn).toBe(
      'arn:aws:sagemaker:us-east-1:123456789012:training-job/churn-logistic-1',
    );

    const job = await waitForTrainingJob(harness, 'churn-logistic-1');
    expect(job.TrainingJobStatus).toBe('Completed');
    expect(job.SecondaryStatus).toBe('Completed');
    expect(job.SecondaryStatusTransitions?.map((transition) => transition.Status)).toEqual([
      'Starting',
      'Downloading',
      'Training',
      'Uploading',
      'Completed',
    ]);
    expect(job.TrainingStartTime).toBeInstanceOf(Date);
    expect(job.TrainingEndTime!.getTime()).toBeGreaterThanOrEqual(job.TrainingStartTime!.getTime());
    expect(job.HyperParameters).toEqual({ label: 'churn', positive: 'yes' });

    const artifact = job.ModelArtifacts?.S3ModelArtifacts;
    expect(artifact).toBe('s3://ml/models/churn-logistic-1/output/model.tar.gz');
    expect(await objectExists(harness, artifact!)).toBe(true);
    const model = await readArtifact(harness, artifact!);
    expect(model).toMatchObject({
      format: 'driftwatch-model',
      version: 1,
      algorithm: 'logistic',
      label: 'churn',
      positive: 'yes',
    });
    expect(model.features).toHaveLength(19);

    // Majority class: 0.856 on this split; scikit-learn's LogisticRegression gets 0.866 / AUC 0.83.
    expect(metric(job, 'validation:accuracy')).toBeGreaterThan(0.86);
    expect(metric(job, 'validation:auc')).toBeGreaterThan(0.8);
    expect(metric(job, 'train:logloss')).toBeLessThan(0.35);

    const event = events.find((item) => item.resources[0] === created.TrainingJobArn);
    expect(event).toMatchObject({
      source: 'aws.sagemaker',
      'detail-type': 'SageMaker Training Job State Change',
      detail: { TrainingJobName: 'churn-logistic-1', TrainingJobStatus: 'Completed' },
    });
  });

  it('trains boosted trees when the image is a gbt image', async () => {
    const request = trainingRequest('churn-gbt-1', {
      AlgorithmSpecification: { TrainingImage: GBT_IMAGE, TrainingInputMode: 'File' },
    });
    await harness.sagemaker.send(new CreateTrainingJobCommand(request));
    const job = await waitForTrainingJob(harness, 'churn-gbt-1');
    expect(job.TrainingJobStatus).toBe('Completed');
    expect((await readArtifact(harness, job.ModelArtifacts!.S3ModelArtifacts!)).algorithm).toBe('gbt');
    expect(metric(job, 'validation:accuracy')).toBeGreaterThan(0.92);
  });

  it.each([
    [
      'an image without a trainer',
      {
        AlgorithmSpecification: {
          TrainingImage: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1',
          TrainingInputMode: 'File' as const,
        },
      },
      'ClientError: the emulator has no trainer for image "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1": its repository name must contain "logistic" or "gbt"',
    ],
    [
      'a missing label column',
      { HyperParameters: { label: 'churned', positive: 'yes' } },
      'ClientError: train channel: label column "churned" is not in the data (columns: state, account_length,',
    ],
    [
      'a bad hyperparameter',
      { HyperParameters: { label: 'churn', l2: '-1' } },
      'ClientError: hyperparameter l2: must be >= 0, got -1',
    ],
    [
      'an empty train prefix',
      {
        InputDataConfig: [
          {
            ChannelName: 'train',
            DataSource: { S3DataSource: { S3DataType: 'S3Prefix' as const, S3Uri: 's3://ml/nothing-here/' } },
          },
        ],
      },
      'ClientError: channel train: no objects under s3://ml/nothing-here/',
    ],
  ])('fails a job with %s, saying why', async (_, overrides, reason) => {
    const name = `failing-${Math.random().toString(36).slice(2, 8)}`;
    await harness.sagemaker.send(new CreateTrainingJobCommand(trainingRequest(name, overrides)));
    const job = await waitForTrainingJob(harness, name);
    expect(job.TrainingJobStatus).toBe('Failed');
    expect(job.SecondaryStatus).toBe('Failed');
    expect(job.FailureReason).toContain(reason);
    expect(job.ModelArtifacts).toBeUndefined();
    expect(job.TrainingEndTime).toBeInstanceOf(Date);
  });

  it('answers with the errors of the real service', async () => {
    const missing = await rejection(
      harness.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: 'nope' })),
    );
    expect(missing).toBeInstanceOf(SageMakerServiceException);
    expect(missing).toMatchObject({
      name: 'ValidationException',
      message: 'Requested resource not found.',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });

    const duplicate = await rejection(
      harness.sagemaker.send(new CreateTrainingJobCommand(trainingRequest('churn-logistic-1'))),
    );
    expect(duplicate).toBeInstanceOf(ResourceInUse);
    expect(duplicate.message).toContain('a training job with this name already exists');

    const noRole = await rejection(
      harness.sagemaker.send(
        new CreateTrainingJobCommand({
          ...trainingRequest('no-role'),
          RoleArn: undefined as unknown as string,
        }),
      ),
    );
    expect(noRole).toMatchObject({
      name: 'ValidationException',
      message:
        "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
    });

    const stopDone = await rejection(
      harness.sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: 'churn-logistic-1' })),
    );
    expect(stopDone.message).toBe(
      'The request was rejected because the training job is in status Completed.',
    );
  });
});

describe('training jobs on a manual clock', () => {
  let harness: Harness;
  const clock = new ManualClock(Date.UTC(2024, 5, 1, 12));

  beforeAll(async () => {
    harness = await startHarness({ clock, timings: { trainingStartSeconds: 30, trainingSeconds: 120 } });
    await uploadChurn(harness);
  });
  afterAll(() => harness.close());

  const describeJob = (name: string) =>
    harness.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));

  it('moves Starting → Training → Completed as the clock advances, with its timestamps', async () => {
    await harness.sagemaker.send(new CreateTrainingJobCommand(trainingRequest('timed')));
    expect(await describeJob('timed')).toMatchObject({
      TrainingJobStatus: 'InProgress',
      SecondaryStatus: 'Starting',
    });
    expect((await describeJob('timed')).CreationTime).toEqual(new Date('2024-06-01T12:00:00Z'));

    await clock.advance(30_000);
    // Reading the data takes real time; then the job waits out its 120 s of training on the clock.
    await waitFor(
      () => describeJob('timed'),
      (job) => job.SecondaryStatus === 'Training',
    );
    await waitFor(
      async () => clock.pending,
      (pending) => pending === 1,
    );
    expect((await describeJob('timed')).TrainingJobStatus).toBe('InProgress');

    await clock.advance(120_000);
    const job = await waitForTrainingJob(harness, 'timed');
    expect(job).toMatchObject({
      TrainingJobStatus: 'Completed',
      TrainingStartTime: new Date('2024-06-01T12:00:30Z'),
      TrainingEndTime: new Date('2024-06-01T12:02:30Z'),
      TrainingTimeInSeconds: 120,
    });
  });

  it('stops a job: InProgress/Stopping, then Stopped at its next checkpoint', async () => {
    await harness.sagemaker.send(new CreateTrainingJobCommand(trainingRequest('stopped')));
    await clock.advance(30_000);
    await waitFor(
      async () => clock.pending,
      (pending) => pending === 1,
    );
    await harness.sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: 'stopped' }));
    expect(await describeJob('stopped')).toMatchObject({
      TrainingJobStatus: 'Stopping',
      SecondaryStatus: 'Stopping',
    });
    await clock.advance(120_000);
    const job = await waitForTrainingJob(harness, 'stopped');
    expect(job).toMatchObject({ TrainingJobStatus: 'Stopped', SecondaryStatus: 'Stopped' });
    expect(job.ModelArtifacts).toBeUndefined();
  });
});
