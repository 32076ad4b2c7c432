/**
 * The first champion of a demo story, deployed as a team would before driftwatch: trained by a SageMaker job,
 * served by an endpoint, registered as an Approved package in the model's group (`<stack>-<model>`).
 */
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { LocalAws } from '../aws/local-aws.ts';

/** The image of every demo champion: the emulator trains and serves logistic regression for it. */
export const CHAMPION_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/local-logistic:latest';
/** The role the team's own jobs and models run as: outside the stack. */
export const DEMO_ROLE = 'arn:aws:iam::123456789012:role/driftwatch-demo-sagemaker';

/** Polls until `done`, every 20 ms, for at most a minute. */
export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface ChampionOptions {
  aws: LocalAws;
  sagemaker: SageMakerClient;
  model: string;
  endpointName: string;
  hyperparameters: Record<string, string>;
  /** The training data, as CSV. */
  trainingCsv: string;
  /** Names of the serving model, its endpoint config and variant. */
  names: { model: string; config: string; variant: string };
  /** Description of the Approved package. */
  packageDescription: string;
}

/**
 * Trains, serves and registers the first champion; returns its artefact and package.
 *
 * Retraining scores the holdout with a copy of the champion run as the engine's SageMaker role, which reads
 * only the engine's run files: a champion whose artefact is in another bucket needs that bucket to grant the
 * role read access (docs/deploy.md). The demo writes it where the role may read it.
 */
export async function deployChampion(
  options: ChampionOptions,
): Promise<{ artifacts: string; packageArn: string | null; groupName: string }> {
  const { aws, sagemaker, model, names } = options;
  const artifacts = await trainChampion(options);
  await sagemaker.send(
    new CreateModelCommand({
      ModelName: names.model,
      ExecutionRoleArn: DEMO_ROLE,
      PrimaryContainer: { Image: CHAMPION_IMAGE, ModelDataUrl: artifacts },
    }),
  );
  await sagemaker.send(
    new CreateEndpointConfigCommand({
      EndpointConfigName: names.config,
      ProductionVariants: [
        {
          VariantName: names.variant,
          ModelName: names.model,
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 1,
          InitialVariantWeight: 1,
        },
      ],
    }),
  );
  await sagemaker.send(
    new CreateEndpointCommand({ EndpointName: options.endpointName, EndpointConfigName: names.config }),
  );
  await waitFor(
    () => sagemaker.send(new DescribeEndpointCommand({ EndpointName: options.endpointName })),
    (value) => value.EndpointStatus === 'InService' || value.EndpointStatus === 'Failed',
    'the endpoint',
  );
  return {
    artifacts,
    ...(await registerChampion(aws, sagemaker, model, artifacts, options.packageDescription)),
  };
}

/**
 * Trains the champion (logistic regression) with a SageMaker job on the training CSV, written under the
 * model's `retraining/<model>/champion-1/` in the results bucket; returns the artefact's S3 URI.
 */
export async function trainChampion(
  options: Pick<ChampionOptions, 'aws' | 'sagemaker' | 'model' | 'hyperparameters' | 'trainingCsv'> & {
    /** @default `<model>-champion-1` */
    jobName?: string;
  },
): Promise<string> {
  const { aws, sagemaker, model } = options;
  const results = String(aws.outputs['ResultsBucketName']);
  const prefix = `retraining/${model}/champion-1/`;
  await aws.putObject(results, `${prefix}train/train.csv`, options.trainingCsv);
  const jobName = options.jobName ?? `${model}-champion-1`;
  await sagemaker.send(
    new CreateTrainingJobCommand({
      TrainingJobName: jobName,
      AlgorithmSpecification: { TrainingImage: CHAMPION_IMAGE, TrainingInputMode: 'File' },
      RoleArn: DEMO_ROLE,
      HyperParameters: options.hyperparameters,
      InputDataConfig: [
        {
          ChannelName: 'train',
          ContentType: 'text/csv',
          DataSource: {
            S3DataSource: {
              S3DataType: 'S3Prefix',
              S3Uri: `s3://${results}/${prefix}train/`,
              S3DataDistributionType: 'FullyReplicated',
            },
          },
        },
      ],
      OutputDataConfig: { S3OutputPath: `s3://${results}/${prefix}output/` },
      ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    }),
  );
  const job = await waitFor(
    () => sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: jobName })),
    (value) => ['Completed', 'Failed', 'Stopped'].includes(value.TrainingJobStatus ?? ''),
    'the champion training job',
  );
  if (job.TrainingJobStatus !== 'Completed') throw new Error(`champion training: ${job.FailureReason}`);
  return job.ModelArtifacts!.S3ModelArtifacts!;
}

/** Registers the champion, Approved, in the model's package group (`<stack>-<model>`, created here). */
export async function registerChampion(
  aws: LocalAws,
  sagemaker: SageMakerClient,
  model: string,
  artifacts: string,
  description: string,
): Promise<{ packageArn: string | null; groupName: string }> {
  const groupName = `${aws.stacks[0]!.stackName}-${model}`;
  await sagemaker.send(
    new CreateModelPackageGroupCommand({
      ModelPackageGroupName: groupName,
      ModelPackageGroupDescription: `driftwatch demo: ${model}`,
    }),
  );
  const created = await sagemaker.send(
    new CreateModelPackageCommand({
      ModelPackageGroupName: groupName,
      ModelPackageDescription: description,
      InferenceSpecification: {
        Containers: [{ Image: CHAMPION_IMAGE, ModelDataUrl: artifacts }],
        SupportedContentTypes: ['text/csv', 'application/json'],
        SupportedResponseMIMETypes: ['text/csv', 'application/json'],
      },
      ModelApprovalStatus: 'Approved',
    }),
  );
  return { packageArn: created.ModelPackageArn ?? null, groupName };
}
