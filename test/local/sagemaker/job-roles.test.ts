/**
 * SageMaker's jobs reach S3 as the role they run as, judged by local IAM from the synthesized template: a
 * training job of the engine's SageMaker role reads the run files it is granted and nothing else, and fails
 * as on AWS (a ClientError naming the refusal) when its data is elsewhere.
 */
import { readFileSync } from 'node:fs';
import { CreateTrainingJobCommand, DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoWorld, startDemoWorld } from '../../../local/demo/world.ts';
import { LOGISTIC_IMAGE, trainingRequest, waitFor } from './harness.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
let world: DemoWorld;
let results: string;
let sageMakerRole: string;

beforeAll(async () => {
  world = await startDemoWorld({ configPath: `${ROOT}local/demo/demo.config.json`, projectDir: ROOT });
  results = String(world.aws.outputs['ResultsBucketName']);
  sageMakerRole = String(world.aws.outputs['RetrainingSageMakerRoleArn']);
  const csv = readFileSync(`${ROOT}test/fixtures/data/mlc_churn.csv`, 'utf8').split('\n');
  const body = `${csv.slice(0, 400).join('\n')}\n`;
  for (const prefix of ['retraining/churn/run-1/train/', 'somewhere-else/train/'])
    await world.aws.putObject(results, `${prefix}part-0.csv`, body);
}, 180_000);

afterAll(() => world?.close());

async function train(name: string, roleArn: string, dataPrefix: string, outputPrefix: string) {
  const request = trainingRequest(name, { RoleArn: roleArn });
  request.AlgorithmSpecification = { TrainingImage: LOGISTIC_IMAGE, TrainingInputMode: 'File' };
  request.InputDataConfig = [
    {
      ChannelName: 'train',
      ContentType: 'text/csv',
      DataSource: {
        S3DataSource: {
          S3DataType: 'S3Prefix',
          S3Uri: `s3://${results}/${dataPrefix}`,
          S3DataDistributionType: 'FullyReplicated',
        },
      },
    },
  ];
  request.OutputDataConfig = { S3OutputPath: `s3://${results}/${outputPrefix}` };
  await world.sagemaker.send(new CreateTrainingJobCommand(request));
  return waitFor(
    () => world.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name })),
    (job) => ['Completed', 'Failed', 'Stopped'].includes(job.TrainingJobStatus ?? ''),
    60_000,
  );
}

describe("SageMaker jobs in local mode run as their role's IAM", () => {
  it("let the engine's SageMaker role train on its run files and write its artefact", async () => {
    const job = await train(
      'churn-allowed',
      sageMakerRole,
      'retraining/churn/run-1/train/',
      'retraining/churn/run-1/output/',
    );
    expect(job.FailureReason).toBeUndefined();
    expect(job.TrainingJobStatus).toBe('Completed');
  });

  it('fail a job whose data is outside what the role may read, naming the refusal', async () => {
    const job = await train(
      'churn-refused',
      sageMakerRole,
      'somewhere-else/train/',
      'retraining/churn/run-2/output/',
    );
    expect(job.TrainingJobStatus).toBe('Failed');
    expect(job.FailureReason).toMatch(/^ClientError: .*not authorized to perform: s3:ListBucket/);
  });

  it('fail a job that may read its data but not write its artefact where it was told to', async () => {
    const job = await train(
      'churn-unwritable',
      sageMakerRole,
      'retraining/churn/run-1/train/',
      'somewhere-else/output/',
    );
    expect(job.TrainingJobStatus).toBe('Failed');
    expect(job.FailureReason).toMatch(/not authorized to perform: s3:PutObject/);
  });
});
