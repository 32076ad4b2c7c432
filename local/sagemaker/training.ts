import type {
  CreateTrainingJobRequest,
  DescribeTrainingJobResponse,
  SecondaryStatus,
  SecondaryStatusTransition,
  TrainingJobStatus,
} from '@aws-sdk/client-sagemaker';
import { InputError } from '../../lambdas/core/errors.ts';
import { ObjectNotFoundError } from '../../lambdas/shared/s3-input.ts';
import { packModel } from '../trainers/artifact.ts';
import { readChannel, type Table } from '../trainers/dataset.ts';
import { HyperparameterError, TrainingDataError } from '../trainers/errors.ts';
import { parseHyperparameters } from '../trainers/hyperparameters.ts';
import type { Algorithm } from '../trainers/model.ts';
import { trainModel } from '../trainers/train.ts';
import type { EmulatorContext } from './context.ts';
import { requireMembers, SageMakerApiError, validationError } from './protocol.ts';
import { joinS3, parseS3Uri, prefixInputs, putBytes, S3UriError } from './s3.ts';
import type { Operations } from './server.ts';

export interface TrainingJobRecord {
  name: string;
  arn: string;
  request: CreateTrainingJobRequest;
  status: TrainingJobStatus;
  secondaryStatus: SecondaryStatus;
  transitions: SecondaryStatusTransition[];
  failureReason?: string;
  creationTime: Date;
  lastModifiedTime: Date;
  startTime?: Date;
  endTime?: Date;
  /** Where the artifact is (written once the job completes). */
  artifactUri: string;
  finalMetrics: { MetricName: string; Value: number; Timestamp: Date }[];
}

/**
 * The algorithm a training image stands for: its repository name (the path's last part, without tag or
 * digest) containing `logistic` or `gbt`. Undefined for any other image.
 *
 * @example algorithmForImage('123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-gbt:1') // 'gbt'
 */
export function algorithmForImage(image: string): Algorithm | undefined {
  const repository = image.slice(image.lastIndexOf('/') + 1).replace(/[@:].*$/, '');
  if (repository.includes('logistic')) return 'logistic';
  if (repository.includes('gbt')) return 'gbt';
  return undefined;
}

/** Why a job failed, already in SageMaker's words (`ClientError: …`, `AlgorithmError: …`). */
class JobFailure extends Error {
  override readonly name = 'JobFailure';
}

/** Raised at a checkpoint of a job someone stopped. */
class JobStopped extends Error {
  override readonly name = 'JobStopped';
}

/** User errors are `ClientError`s on SageMaker; anything the trainer itself got wrong is an `AlgorithmError`. */
function failureReason(error: unknown): string {
  if (error instanceof JobFailure) return error.message;
  const clientErrors = [HyperparameterError, TrainingDataError, InputError, ObjectNotFoundError, S3UriError];
  const message = error instanceof Error ? error.message : String(error);
  // The job's role may not read its data or write its output (S3 or KMS refused it): the user's to fix.
  const refused = /AccessDenied|KMS/.test((error as { name?: string } | undefined)?.name ?? '');
  return refused || clientErrors.some((type) => error instanceof type)
    ? `ClientError: ${message}`
    : `AlgorithmError: ${message}`;
}

function describe(job: TrainingJobRecord): DescribeTrainingJobResponse {
  const { request } = job;
  const seconds =
    job.startTime && job.endTime
      ? Math.round((job.endTime.getTime() - job.startTime.getTime()) / 1000)
      : undefined;
  return {
    TrainingJobName: job.name,
    TrainingJobArn: job.arn,
    TrainingJobStatus: job.status,
    SecondaryStatus: job.secondaryStatus,
    FailureReason: job.failureReason,
    ModelArtifacts: job.status === 'Completed' ? { S3ModelArtifacts: job.artifactUri } : undefined,
    HyperParameters: request.HyperParameters,
    AlgorithmSpecification: request.AlgorithmSpecification,
    RoleArn: request.RoleArn,
    InputDataConfig: request.InputDataConfig,
    OutputDataConfig: request.OutputDataConfig,
    ResourceConfig: request.ResourceConfig,
    StoppingCondition: request.StoppingCondition,
    CreationTime: job.creationTime,
    TrainingStartTime: job.startTime,
    TrainingEndTime: job.endTime,
    LastModifiedTime: job.lastModifiedTime,
    SecondaryStatusTransitions: job.transitions,
    FinalMetricDataList: job.finalMetrics.length > 0 ? job.finalMetrics : undefined,
    TrainingTimeInSeconds: seconds,
    BillableTimeInSeconds: seconds,
  };
}

/** Training jobs: CreateTrainingJob runs a local trainer in the background, through the real statuses. */
export function trainingOperations(context: EmulatorContext): Operations {
  const { state } = context;

  const find = (name: unknown) => {
    const job = typeof name === 'string' ? state.trainingJobs.get(name) : undefined;
    if (job === undefined) throw validationError('Requested resource not found.');
    return job;
  };

  const enter = (job: TrainingJobRecord, status: SecondaryStatus, message: string) => {
    const now = context.now();
    const last = job.transitions.at(-1);
    if (last !== undefined && last.EndTime === undefined) last.EndTime = now;
    job.transitions.push({ Status: status, StartTime: now, StatusMessage: message });
    job.secondaryStatus = status;
    job.lastModifiedTime = now;
  };

  const finish = (job: TrainingJobRecord, status: 'Completed' | 'Failed' | 'Stopped', message: string) => {
    enter(job, status, message);
    const now = context.now();
    job.transitions.at(-1)!.EndTime = now;
    job.status = status;
    job.endTime = now;
    job.startTime ??= now;
    context.emit('SageMaker Training Job State Change', job.arn, { ...describe(job) });
  };

  const checkpoint = (job: TrainingJobRecord) => {
    if (job.status === 'Stopping') throw new JobStopped();
  };

  async function channel(job: TrainingJobRecord, name: string): Promise<Table | undefined> {
    const config = job.request.InputDataConfig?.find((item) => item.ChannelName === name);
    if (config === undefined) return undefined;
    const source = config.DataSource?.S3DataSource;
    if (source?.S3Uri === undefined || source.S3DataType !== 'S3Prefix') {
      throw new JobFailure(
        `ClientError: channel ${name}: the emulator reads S3DataSource of S3DataType S3Prefix only`,
      );
    }
    const inputs = await prefixInputs(context.s3As(job.request.RoleArn), source.S3Uri);
    if (inputs.length === 0)
      throw new JobFailure(`ClientError: channel ${name}: no objects under ${source.S3Uri}`);
    return readChannel(name, inputs);
  }

  async function run(job: TrainingJobRecord): Promise<void> {
    try {
      await context.sleep(context.timings.trainingStartSeconds);
      checkpoint(job);
      job.startTime = context.now();
      const image = job.request.AlgorithmSpecification?.TrainingImage ?? '';
      const algorithm = algorithmForImage(image);
      if (algorithm === undefined) {
        throw new JobFailure(
          `ClientError: the emulator has no trainer for image ${JSON.stringify(image)}: its repository name must contain "logistic" or "gbt"`,
        );
      }
      const parameters = parseHyperparameters(algorithm, job.request.HyperParameters ?? {});
      enter(job, 'Downloading', 'Downloading input data');
      const train = await channel(job, 'train');
      if (train === undefined) throw new JobFailure('ClientError: the job has no "train" channel');
      const validation = await channel(job, 'validation');
      checkpoint(job);
      enter(job, 'Training', 'Training image download completed. Training in progress.');
      const result = trainModel(parameters, train, validation);
      await context.sleep(context.timings.trainingSeconds);
      checkpoint(job);
      enter(job, 'Uploading', 'Uploading generated training model');
      await putBytes(
        context.s3As(job.request.RoleArn),
        parseS3Uri(job.artifactUri),
        packModel(result.model),
        'application/x-gzip',
      );
      const now = context.now();
      job.finalMetrics = result.metrics.map((metric) => ({
        MetricName: metric.name,
        Value: metric.value,
        Timestamp: now,
      }));
      finish(job, 'Completed', 'Training job completed');
    } catch (error) {
      if (context.closing) return;
      if (error instanceof JobStopped) {
        finish(job, 'Stopped', 'Training job stopped');
        return;
      }
      job.failureReason = failureReason(error);
      finish(job, 'Failed', `Training job failed. ${job.failureReason}`);
    }
  }

  return {
    CreateTrainingJob(input) {
      const request = requireMembers<CreateTrainingJobRequest>(
        input,
        'TrainingJobName',
        'AlgorithmSpecification',
        'RoleArn',
        'OutputDataConfig',
        'ResourceConfig',
        'StoppingCondition',
      );
      const name = request.TrainingJobName!;
      const arn = context.arn('training-job', name);
      if (state.trainingJobs.has(name)) {
        throw new SageMakerApiError(
          'ResourceInUse',
          `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${arn})`,
        );
      }
      if (request.AlgorithmSpecification?.TrainingImage === undefined) {
        throw validationError(
          'AlgorithmSpecification.TrainingImage is required: the emulator does not run AlgorithmName',
        );
      }
      const outputPath = request.OutputDataConfig?.S3OutputPath;
      if (outputPath === undefined || !outputPath.startsWith('s3://')) {
        throw validationError(
          `OutputDataConfig.S3OutputPath must be an s3:// URI, got ${JSON.stringify(outputPath)}`,
        );
      }
      const now = context.now();
      const job: TrainingJobRecord = {
        name,
        arn,
        request,
        status: 'InProgress',
        secondaryStatus: 'Starting',
        transitions: [
          { Status: 'Starting', StartTime: now, StatusMessage: 'Preparing the instances for training' },
        ],
        creationTime: now,
        lastModifiedTime: now,
        artifactUri: joinS3(outputPath, name, 'output', 'model.tar.gz'),
        finalMetrics: [],
      };
      state.trainingJobs.set(name, job);
      context.background(() => run(job));
      return { TrainingJobArn: arn };
    },

    DescribeTrainingJob(input) {
      requireMembers(input, 'TrainingJobName');
      return describe(find(input.TrainingJobName));
    },

    StopTrainingJob(input) {
      requireMembers(input, 'TrainingJobName');
      const job = find(input.TrainingJobName);
      if (job.status !== 'InProgress') {
        throw validationError(
          `The request was rejected because the training job is in status ${job.status}.`,
        );
      }
      job.status = 'Stopping';
      enter(job, 'Stopping', 'Stopping the training job');
      return {};
    },
  };
}
