import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import {
  CopyObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateModelPackageCommand,
  type SageMakerClient,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import { SSMClient } from '@aws-sdk/client-ssm';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { retrainingRuntimeConfig } from '../../lib/config/runtime.ts';
import { ConfigError } from '../core/errors.ts';
import { catalogFromEnvironment, type ModelCatalog } from '../shared/model-catalog.ts';
import {
  type ModelStateItem,
  RETRAINING_ENV,
  type RetrainingRuntimeConfig,
} from '../shared/retraining-contract.ts';
import type {
  ModelRegistry,
  ModelStateStore,
  ObjectStore,
  StoredObject,
  VariantMetricsSource,
} from './ports.ts';

const unquote = (etag: string | undefined) => (etag === undefined ? null : etag.replace(/^"(.*)"$/, '$1'));

/** `s3://bucket/key` -> parts. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match) throw new ConfigError('s3Uri', `${JSON.stringify(uri)} is not an s3://bucket/key URI`);
  return { bucket: match[1]!, key: match[2]! };
}

export function s3ObjectStore(s3: S3Client): ObjectStore {
  return {
    async list(bucket, prefix) {
      const objects: StoredObject[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const item of page.Contents ?? []) {
          objects.push({
            key: item.Key!,
            etag: unquote(item.ETag),
            versionId: null,
            lastModified: item.LastModified ?? new Date(0),
            size: item.Size ?? 0,
          });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return objects;
    },
    async getText(bucket, key) {
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return {
        text: (await response.Body?.transformToString('utf8')) ?? '',
        etag: unquote(response.ETag),
        versionId: response.VersionId ?? null,
      };
    },
    async putText(bucket, key, text, contentType) {
      const response = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: contentType }),
      );
      return { etag: unquote(response.ETag) };
    },
    async copy(from, to) {
      await s3.send(
        new CopyObjectCommand({
          Bucket: to.bucket,
          Key: to.key,
          CopySource: `${from.bucket}/${from.key.split('/').map(encodeURIComponent).join('/')}`,
        }),
      );
    },
  };
}

export function dynamoModelStateStore(documents: DynamoDBDocumentClient, tableName: string): ModelStateStore {
  return {
    async get(model) {
      const response = await documents.send(new GetCommand({ TableName: tableName, Key: { model } }));
      return response.Item as ModelStateItem | undefined;
    },
    async addSpend(model, month, usd) {
      // Same month: add. Another month (or none): start over. Two conditional writes, no read-modify-write race.
      try {
        await documents.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { model },
            UpdateExpression: 'SET spendUsd = spendUsd + :usd',
            ConditionExpression: 'spendMonth = :month',
            ExpressionAttributeValues: { ':usd': usd, ':month': month },
          }),
        );
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        await documents.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { model },
            UpdateExpression: 'SET spendUsd = :usd, spendMonth = :month',
            ExpressionAttributeValues: { ':usd': usd, ':month': month },
          }),
        );
      }
    },
    async setChampion(model, champion) {
      await documents.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { model },
          UpdateExpression: 'SET champion = :champion',
          ExpressionAttributeValues: { ':champion': champion },
        }),
      );
    },
  };
}

export function sageMakerModelRegistry(sagemaker: SageMakerClient): ModelRegistry {
  return {
    async createPackage(input) {
      const response = await sagemaker.send(
        new CreateModelPackageCommand({
          ModelPackageGroupName: input.groupName,
          ModelPackageDescription: input.description.slice(0, 1024),
          InferenceSpecification: {
            Containers: [{ Image: input.image, ModelDataUrl: input.modelDataUrl }],
            SupportedContentTypes: ['text/csv'],
            SupportedResponseMIMETypes: ['text/csv'],
          },
          ModelApprovalStatus: 'PendingManualApproval',
          ModelMetrics: {
            ModelQuality: { Statistics: { ContentType: 'application/json', S3Uri: input.metricsUri } },
          },
          CustomerMetadataProperties: input.metadata,
        }),
      );
      const arn = response.ModelPackageArn!;
      const version = Number(/\/(\d+)$/.exec(arn)?.[1]);
      return { arn, version: Number.isFinite(version) ? version : null };
    },
    async setStatus(arn, status, description) {
      await sagemaker.send(
        new UpdateModelPackageCommand({
          ModelPackageArn: arn,
          ModelApprovalStatus: status,
          ApprovalDescription: description.slice(0, 1024),
        }),
      );
    },
  };
}

export function cloudWatchVariantMetrics(cloudwatch: CloudWatchClient): VariantMetricsSource {
  return {
    async get(endpoint, variant, start, end) {
      const dimensions = [
        { Name: 'EndpointName', Value: endpoint },
        { Name: 'VariantName', Value: variant },
      ];
      const query = (id: string, metric: string, stat: string): MetricDataQuery => ({
        Id: id,
        MetricStat: {
          Metric: { Namespace: 'AWS/SageMaker', MetricName: metric, Dimensions: dimensions },
          Period: 60,
          Stat: stat,
        },
      });
      const response = await cloudwatch.send(
        new GetMetricDataCommand({
          StartTime: start,
          EndTime: end,
          MetricDataQueries: [
            query('invocations', 'Invocations', 'Sum'),
            query('errors', 'Invocation5XXErrors', 'Sum'),
            query('latency', 'ModelLatency', 'Average'),
            query('samples', 'ModelLatency', 'SampleCount'),
          ],
        }),
      );
      const values = (id: string) =>
        response.MetricDataResults?.find((result) => result.Id === id)?.Values ?? [];
      const sum = (id: string) => values(id).reduce((total, value) => total + value, 0);
      // The mean over the window: per-minute averages weighted by their sample counts.
      const latency = values('latency');
      const samples = values('samples');
      let weighted = 0;
      let count = 0;
      latency.forEach((value, i) => {
        const n = samples[i] ?? 0;
        weighted += value * n;
        count += n;
      });
      return {
        invocations: sum('invocations'),
        errors5xx: sum('errors'),
        meanLatencyMicros: count > 0 ? weighted / count : null,
      };
    },
  };
}

/** What a retraining Lambda reads from its environment. */
export interface RetrainingEnvironment {
  config: RetrainingRuntimeConfig;
  dataBucket: string;
  workBucket: string;
  stateTable: string;
}

export function retrainingEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): RetrainingEnvironment {
  const read = (name: string) => {
    const value = env[name];
    if (!value) throw new ConfigError(name, 'the environment variable is not set');
    return value;
  };
  return {
    config: JSON.parse(read(RETRAINING_ENV.modelConfig)) as RetrainingRuntimeConfig,
    dataBucket: read(RETRAINING_ENV.dataBucket),
    workBucket: read(RETRAINING_ENV.workBucket),
    stateTable: read(RETRAINING_ENV.stateTable),
  };
}

let catalog: ModelCatalog<RetrainingRuntimeConfig> | undefined;

/**
 * The environment of a run of `model` in the shared retraining functions: the model's retraining config
 * from its parameter (`MODELS_PARAMETER_PATH`, cached), or `MODEL_CONFIG` for a one-model function.
 *
 * @throws ConfigError when no configured model with a retraining section has that name
 */
export async function retrainingEnvironmentFor(
  model: unknown,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<RetrainingEnvironment> {
  const read = (name: string) => {
    const value = env[name];
    if (!value) throw new ConfigError(name, 'the environment variable is not set');
    return value;
  };
  catalog ??= catalogFromEnvironment<RetrainingRuntimeConfig>(env, {
    parseStatic: (text) => JSON.parse(text) as RetrainingRuntimeConfig,
    toRuntime: (config, stackName) =>
      config.retraining && config.performance && config.endpointName
        ? retrainingRuntimeConfig(config, stackName)
        : undefined,
    ssm: () => new SSMClient({}),
  });
  const found = typeof model === 'string' ? await catalog.get(model) : undefined;
  if (found === undefined) {
    const known = (await catalog.all()).map((entry) => entry.name);
    throw new ConfigError(
      'model',
      `no model ${JSON.stringify(model ?? null)} with a retraining section is configured (known: ${known.join(', ') || 'none'})`,
    );
  }
  return {
    config: found,
    dataBucket: read(RETRAINING_ENV.dataBucket),
    workBucket: read(RETRAINING_ENV.workBucket),
    stateTable: read(RETRAINING_ENV.stateTable),
  };
}
