import { gunzipSync } from 'node:zlib';
import type {
  CreateTransformJobRequest,
  DescribeTransformJobResponse,
  TransformJobStatus,
} from '@aws-sdk/client-sagemaker';
import { scoreRows } from '../trainers/model.ts';
import type { EmulatorContext } from './context.ts';
import { findModel, loadModel, ModelLoadError } from './models.ts';
import { formatScores, PayloadError, parseInstances } from './payload.ts';
import { requireMembers, SageMakerApiError, validationError } from './protocol.ts';
import { getBytes, joinS3, listKeys, parseS3Uri, putBytes } from './s3.ts';
import type { Operations } from './server.ts';

export interface TransformJobRecord {
  name: string;
  arn: string;
  request: CreateTransformJobRequest;
  status: TransformJobStatus;
  failureReason?: string;
  creationTime: Date;
  startTime?: Date;
  endTime?: Date;
}

/** A transform job that cannot finish, with SageMaker's `ClientError: …` reason. */
class TransformFailure extends Error {
  override readonly name = 'TransformFailure';
}

function describe(job: TransformJobRecord): DescribeTransformJobResponse {
  const { request } = job;
  return {
    TransformJobName: job.name,
    TransformJobArn: job.arn,
    TransformJobStatus: job.status,
    FailureReason: job.failureReason,
    ModelName: request.ModelName,
    MaxConcurrentTransforms: request.MaxConcurrentTransforms,
    MaxPayloadInMB: request.MaxPayloadInMB,
    BatchStrategy: request.BatchStrategy,
    Environment: request.Environment,
    TransformInput: request.TransformInput,
    TransformOutput: request.TransformOutput,
    TransformResources: request.TransformResources,
    DataProcessing: request.DataProcessing,
    CreationTime: job.creationTime,
    TransformStartTime: job.startTime,
    TransformEndTime: job.endTime,
  };
}

/**
 * Batch transform: scores every object under the input prefix (one instance per line, in the input
 * content type, gzip'd when CompressionType is Gzip) and writes `<S3OutputPath>/<input name>.out`, one
 * score per line in the output Accept type (text/csv by default).
 */
export function transformOperations(context: EmulatorContext): Operations {
  const { state } = context;

  async function run(job: TransformJobRecord): Promise<void> {
    const { TransformInput: input, TransformOutput: output } = job.request;
    try {
      await context.sleep(context.timings.transformSeconds);
      job.startTime = context.now();
      const record = findModel(context, job.request.ModelName);
      const model = await loadModel(context, record);
      // A transform job has no role of its own: it reads and writes as its model's execution role.
      const s3 = context.s3As(record.request.ExecutionRoleArn);
      const source = input?.DataSource?.S3DataSource;
      if (source?.S3DataType !== 'S3Prefix' || source.S3Uri === undefined) {
        throw new TransformFailure(
          'ClientError: the emulator reads S3DataSource of S3DataType S3Prefix only',
        );
      }
      const location = parseS3Uri(source.S3Uri);
      const keys = await listKeys(s3, location);
      if (keys.length === 0) throw new TransformFailure(`ClientError: no objects under ${source.S3Uri}`);
      // Outputs are named after the input's key below the prefix's folder, as SageMaker names them.
      const folder = location.key.slice(0, location.key.lastIndexOf('/') + 1);
      for (const key of keys) {
        let bytes = await getBytes(s3, { bucket: location.bucket, key });
        if (input?.CompressionType === 'Gzip') bytes = gunzipSync(bytes);
        let answer: { contentType: string; body: string };
        try {
          const scores = scoreRows(model, parseInstances(model, input?.ContentType ?? 'text/csv', bytes));
          answer = formatScores(output?.Accept ?? 'text/csv', input?.ContentType, scores);
        } catch (error) {
          if (!(error instanceof PayloadError)) throw error;
          throw new TransformFailure(`ClientError: s3://${location.bucket}/${key}: ${error.message}`);
        }
        const target = parseS3Uri(joinS3(output!.S3OutputPath!, `${key.slice(folder.length)}.out`));
        await putBytes(s3, target, answer.body, answer.contentType);
      }
      job.status = 'Completed';
    } catch (error) {
      if (context.closing) return;
      job.status = 'Failed';
      job.failureReason =
        error instanceof TransformFailure
          ? error.message
          : `ClientError: ${error instanceof ModelLoadError ? error.message : String(error)}`;
    }
    job.endTime = context.now();
    job.startTime ??= job.endTime;
    context.emit('SageMaker Transform Job State Change', job.arn, { ...describe(job) });
  }

  return {
    CreateTransformJob(input) {
      const request = requireMembers<CreateTransformJobRequest>(
        input,
        'TransformJobName',
        'ModelName',
        'TransformInput',
        'TransformOutput',
        'TransformResources',
      );
      const name = request.TransformJobName!;
      const arn = context.arn('transform-job', name);
      if (state.transformJobs.has(name)) {
        throw new SageMakerApiError(
          'ResourceInUse',
          `Job name must be unique within an AWS account and region, and a job with this name already exists (${arn})`,
        );
      }
      findModel(context, request.ModelName);
      if (!request.TransformOutput?.S3OutputPath?.startsWith('s3://')) {
        throw validationError('TransformOutput.S3OutputPath must be an s3:// URI.');
      }
      const job: TransformJobRecord = {
        name,
        arn,
        request,
        status: 'InProgress',
        creationTime: context.now(),
      };
      state.transformJobs.set(name, job);
      context.background(() => run(job));
      return { TransformJobArn: arn };
    },

    DescribeTransformJob(input) {
      requireMembers(input, 'TransformJobName');
      const job = state.transformJobs.get(input.TransformJobName as string);
      if (job === undefined)
        throw validationError(`Could not find requested job with name ${String(input.TransformJobName)}`);
      return describe(job);
    },
  };
}
