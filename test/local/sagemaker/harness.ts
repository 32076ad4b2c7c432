import { readFileSync } from 'node:fs';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  DescribeEndpointCommand,
  type DescribeEndpointCommandOutput,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { parseS3Uri } from '../../../local/sagemaker/s3.ts';
import {
  type SageMakerEmulator,
  type SageMakerEmulatorOptions,
  startSageMakerEmulator,
} from '../../../local/sagemaker/server.ts';
import { unpackModel } from '../../../local/trainers/artifact.ts';
import type { Model } from '../../../local/trainers/model.ts';
import { AwsEmulators, EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../../helpers/aws-emulators.ts';

export const BUCKET = 'ml';
export const ROLE = 'arn:aws:iam::123456789012:role/driftwatch-sagemaker';
export const LOGISTIC_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/driftwatch-logistic:latest';
export const GBT_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/driftwatch-gbt:latest';

/** s3rver with the `ml` bucket, the SageMaker emulator on it, and real SDK clients pointed at both. */
export interface Harness {
  aws: AwsEmulators;
  emulator: SageMakerEmulator;
  sagemaker: SageMakerClient;
  runtime: SageMakerRuntimeClient;
  close(): Promise<void>;
}

export async function startHarness(options: Omit<SageMakerEmulatorOptions, 's3'> = {}): Promise<Harness> {
  const aws = await AwsEmulators.start({ buckets: [BUCKET], tables: [] });
  const emulator = await startSageMakerEmulator({ s3: aws.s3, ...options });
  // One attempt: a test sees each error as the service sent it, not after the SDK's retries.
  const client = { region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 };
  const sagemaker = new SageMakerClient({ ...client, endpoint: emulator.url });
  const runtime = new SageMakerRuntimeClient({ ...client, endpoint: emulator.runtimeUrl });
  return {
    aws,
    emulator,
    sagemaker,
    runtime,
    async close() {
      sagemaker.destroy();
      runtime.destroy();
      await emulator.close();
      await aws.stop();
    },
  };
}

/** The churn fixture's lines: the header and the data rows. */
export function churnLines(): { header: string; rows: string[] } {
  const [header, ...rows] = readFileSync('test/fixtures/data/mlc_churn.csv', 'utf8').trimEnd().split('\n');
  return { header: header!, rows };
}

/**
 * Uploads the churn fixture as `churn/train/part-0.csv` (4 rows in 5) and `churn/validation/part-0.csv`
 * (every fifth row), the split of test/local/trainers.
 */
export async function uploadChurn(harness: Harness): Promise<void> {
  const { header, rows } = churnLines();
  const parts = {
    train: rows.filter((_, i) => i % 5 !== 4),
    validation: rows.filter((_, i) => i % 5 === 4),
  };
  for (const [channel, lines] of Object.entries(parts)) {
    await harness.aws.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `churn/${channel}/part-0.csv`,
        Body: `${header}\n${lines.join('\n')}\n`,
      }),
    );
  }
}

export function trainingRequest(
  name: string,
  overrides: Partial<CreateTrainingJobCommandInput> = {},
): CreateTrainingJobCommandInput {
  const channel = (channelName: string) => ({
    ChannelName: channelName,
    ContentType: 'text/csv',
    DataSource: {
      S3DataSource: {
        S3DataType: 'S3Prefix' as const,
        S3Uri: `s3://${BUCKET}/churn/${channelName}/`,
        S3DataDistributionType: 'FullyReplicated' as const,
      },
    },
  });
  return {
    TrainingJobName: name,
    AlgorithmSpecification: { TrainingImage: LOGISTIC_IMAGE, TrainingInputMode: 'File' },
    RoleArn: ROLE,
    HyperParameters: { label: 'churn', positive: 'yes' },
    InputDataConfig: [channel('train'), channel('validation')],
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/models/` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    ...overrides,
  };
}

/** Polls (in real time) until `done` holds for what `probe` returns. */
export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function waitForTrainingJob(
  harness: Harness,
  name: string,
): Promise<DescribeTrainingJobCommandOutput> {
  return waitFor(
    () => harness.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name })),
    (job) => !['InProgress', 'Stopping'].includes(job.TrainingJobStatus!),
  );
}

export function waitForEndpoint(harness: Harness, name: string): Promise<DescribeEndpointCommandOutput> {
  return waitFor(
    () => harness.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name })),
    (endpoint) => !['Creating', 'Updating'].includes(endpoint.EndpointStatus!),
  );
}

/** Trains a model on the uploaded churn data and returns its artifact's URI once Completed. */
export async function trainChurn(harness: Harness, name: string, image = LOGISTIC_IMAGE): Promise<string> {
  await harness.sagemaker.send(
    new CreateTrainingJobCommand(
      trainingRequest(name, { AlgorithmSpecification: { TrainingImage: image, TrainingInputMode: 'File' } }),
    ),
  );
  const job = await waitForTrainingJob(harness, name);
  if (job.TrainingJobStatus !== 'Completed')
    throw new Error(`training ${name} ended ${job.TrainingJobStatus}: ${job.FailureReason}`);
  return job.ModelArtifacts!.S3ModelArtifacts!;
}

export async function readArtifact(harness: Harness, uri: string): Promise<Model> {
  const { bucket, key } = parseS3Uri(uri);
  const object = await harness.aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return unpackModel(await object.Body!.transformToByteArray());
}

export async function objectExists(harness: Harness, uri: string): Promise<boolean> {
  const { bucket, key } = parseS3Uri(uri);
  try {
    await harness.aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

export interface VariantSpec {
  name: string;
  model: string;
  weight: number;
}

/** CreateModel for each artifact, an endpoint config of the variants, and CreateEndpoint (not waited for). */
export async function createEndpoint(
  harness: Harness,
  endpoint: string,
  config: string,
  variants: VariantSpec[],
  shadow: VariantSpec[] = [],
): Promise<void> {
  const asVariant = (variant: VariantSpec) => ({
    VariantName: variant.name,
    ModelName: variant.model,
    InitialInstanceCount: 1,
    InstanceType: 'ml.m5.large' as const,
    InitialVariantWeight: variant.weight,
  });
  await harness.sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: config,
      ProductionVariants: variants.map(asVariant),
      ShadowProductionVariants: shadow.length > 0 ? shadow.map(asVariant) : undefined,
    }),
  );
  await harness.sagemaker.send(
    new CreateEndpointCommand({ EndpointName: endpoint, EndpointConfigName: config }),
  );
}

export async function createModel(
  harness: Harness,
  name: string,
  artifact: string,
  image = LOGISTIC_IMAGE,
): Promise<void> {
  await harness.sagemaker.send(
    new CreateModelCommand({
      ModelName: name,
      ExecutionRoleArn: ROLE,
      PrimaryContainer: { Image: image, ModelDataUrl: artifact },
    }),
  );
}

/** The error a promise rejects with (failing the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}
