import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateTransformJobCommand, DescribeTransformJobCommand } from '@aws-sdk/client-sagemaker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../../../local/trainers/model.ts';
import { scoreRows } from '../../../local/trainers/model.ts';
import {
  BUCKET,
  churnLines,
  createModel,
  type Harness,
  readArtifact,
  rejection,
  startHarness,
  trainChurn,
  uploadChurn,
  waitFor,
} from './harness.ts';

describe('batch transform', () => {
  let harness: Harness;
  let model: Model;
  let instances: Record<string, string | number>[];

  const put = (key: string, body: string | Uint8Array) =>
    harness.aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  const read = async (key: string) =>
    (await harness.aws.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();

  async function transform(
    name: string,
    input: string,
    contentType: string,
    options: { gzip?: boolean; accept?: string } = {},
  ) {
    await harness.sagemaker.send(
      new CreateTransformJobCommand({
        TransformJobName: name,
        ModelName: 'churn',
        TransformInput: {
          DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/${input}` } },
          ContentType: contentType,
          SplitType: 'Line',
          CompressionType: options.gzip ? 'Gzip' : 'None',
        },
        TransformOutput: { S3OutputPath: `s3://${BUCKET}/scores/${name}/`, Accept: options.accept },
        TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
      }),
    );
    return waitFor(
      () => harness.sagemaker.send(new DescribeTransformJobCommand({ TransformJobName: name })),
      (job) => job.TransformJobStatus !== 'InProgress',
    );
  }

  beforeAll(async () => {
    harness = await startHarness();
    await uploadChurn(harness);
    const artifact = await trainChurn(harness, 'churn-job');
    model = await readArtifact(harness, artifact);
    await createModel(harness, 'churn', artifact);
    const { header, rows } = churnLines();
    const columns = header.split(',').map((name) => JSON.parse(name) as string);
    instances = rows.slice(0, 200).map((line) => {
      const cells = line.split(',').map((cell) => JSON.parse(cell) as string | number);
      return Object.fromEntries(
        columns.map((column, i) => [column, cells[i]!]).filter(([column]) => column !== 'churn'),
      );
    });
  });
  afterAll(() => harness.close());

  it('scores every headerless CSV file under the prefix into <file>.out, one score per line', async () => {
    const csv = (part: typeof instances) =>
      `${part.map((instance) => model.features.map((feature) => instance[feature.name]).join(',')).join('\n')}\n`;
    await put('batch/csv/part-0.csv', csv(instances.slice(0, 120)));
    await put('batch/csv/part-1.csv', csv(instances.slice(120)));
    const job = await transform('csv-job', 'batch/csv/', 'text/csv');
    expect(job.TransformJobStatus).toBe('Completed');
    expect(job.TransformEndTime).toBeInstanceOf(Date);
    const scores = [
      ...(await read('scores/csv-job/part-0.csv.out')).trimEnd().split('\n'),
      ...(await read('scores/csv-job/part-1.csv.out')).trimEnd().split('\n'),
    ].map(Number);
    expect(scores).toEqual(scoreRows(model, instances));
    for (const score of scores) expect(score >= 0 && score <= 1).toBe(true);
  });

  it('reads gzip’d JSON Lines and writes JSON Lines when asked', async () => {
    await put(
      'batch/jsonl/rows.jsonl.gz',
      gzipSync(
        instances
          .slice(0, 5)
          .map((instance) => JSON.stringify(instance))
          .join('\n'),
      ),
    );
    const job = await transform('jsonl-job', 'batch/jsonl/rows', 'application/jsonlines', {
      gzip: true,
      accept: 'application/jsonlines',
    });
    expect(job.TransformJobStatus).toBe('Completed');
    const lines = (await read('scores/jsonl-job/rows.jsonl.gz.out')).trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as { score: number }).score)).toEqual(
      scoreRows(model, instances.slice(0, 5)),
    );
  });

  it('fails on a malformed file, naming it', async () => {
    await put('batch/bad/rows.csv', '1,2,3\n');
    const job = await transform('bad-job', 'batch/bad/', 'text/csv');
    expect(job.TransformJobStatus).toBe('Failed');
    expect(job.FailureReason).toBe(
      'ClientError: s3://ml/batch/bad/rows.csv: CSV row 1: expected 19 fields, found 3',
    );
  });

  it('refuses a transform of an unknown model', async () => {
    const error = await rejection(
      harness.sagemaker.send(
        new CreateTransformJobCommand({
          TransformJobName: 'no-model',
          ModelName: 'missing',
          TransformInput: {
            DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://ml/batch/csv/' } },
          },
          TransformOutput: { S3OutputPath: 's3://ml/scores/' },
          TransformResources: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
        }),
      ),
    );
    expect(error).toMatchObject({
      name: 'ValidationException',
      message: 'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/missing".',
    });
  });
});
