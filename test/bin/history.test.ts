import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelState } from '../../bin/cli/aws.ts';
import {
  type LineageEntry,
  lineageEntry,
  readLineage,
  renderLineageText,
} from '../../bin/cli/commands/history.ts';
import { runCli, tempDir } from '../helpers/cli.ts';
import {
  type DeployedStack,
  MODEL,
  PACKAGE_GROUP,
  STATE_TABLE,
  seedRegistry,
  startDeployedStack,
  writeStackConfig,
} from './deployed-stack.ts';

let stack: DeployedStack;
let packageArns: string[];
let dir: string;
let cleanup: () => Promise<void>;
let configPath: string;

const cli = (...args: string[]) =>
  runCli(['history', ...args, '--config', configPath, '--endpoint-url', stack.endpointUrl], {
    env: stack.cliEnv,
  });

beforeAll(async () => {
  stack = await startDeployedStack();
  ({ packageArns } = await seedRegistry(stack));
  ({ dir, cleanup } = await tempDir());
  configPath = await writeStackConfig(dir);
});
afterAll(async () => {
  await stack.close();
  await cleanup();
});

describe('the lineage of a model', () => {
  it('lists every version oldest first with what the register Lambda stored, the champion marked', async () => {
    const state = await readModelState(stack.aws.documents, STATE_TABLE, MODEL);
    expect(state?.champion?.packageArn).toBe(packageArns[1]);
    const entries = await readLineage(stack.sagemaker, PACKAGE_GROUP, state?.champion);
    expect(entries.map((entry) => [entry.version, entry.approvalStatus, entry.champion])).toEqual([
      [1, 'Approved', false],
      [2, 'Approved', true],
      [3, 'Rejected', false],
    ]);
    expect(entries[0]).toEqual({
      version: 1,
      packageArn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/Dw-churn/1',
      approvalStatus: 'Approved',
      approvalDescription: 'rocAuc 0.81 beats 0.78 by 0.03',
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      champion: false,
      runId: '20240501-030000',
      execution: 'arn:aws:states:us-east-1:123456789012:execution:Dw-retraining:20240501-030000',
      trigger: { type: 'schedule', reason: 'scheduled retraining' },
      segment: null,
      trainingJob: {
        name: 'churn-20240501-030000',
        arn: 'arn:aws:sagemaker:us-east-1:123456789012:training-job/churn-20240501-030000',
      },
      modelData: 's3://ml/models/20240501-030000/output/model.tar.gz',
      data: {
        trainingUri: 's3://results/retraining/churn/20240501-030000/train/',
        fileCount: 2,
        etags: { '2024-04-20.csv': 'aaa111', '2024-04-27.csv': 'bbb222' },
        etagsTruncated: false,
        manifestUri: 's3://results/retraining/churn/20240501-030000/train/manifest.json',
        holdout: { key: 'churn/golden/holdout.csv', etag: 'hhh999' },
      },
      metrics: {
        primaryMetric: 'rocAuc',
        challenger: 0.81,
        champion: 0.78,
        evaluation: 'accepted',
        reason: 'rocAuc 0.81 beats 0.78 by 0.03',
        reportUri: 's3://results/retraining/churn/20240501-030000/evaluation.json',
      },
    } satisfies LineageEntry);
    expect(entries[1]!.trigger).toEqual({
      type: 'drift',
      reason: 'data drift in churn/incoming/2024-05-31.csv (drift share 0.6)',
    });
    expect(entries[2]).toMatchObject({
      trigger: { type: 'manual', reason: 'manual start: new labels' },
      approvalDescription: 'rocAuc 0.80 does not beat 0.84 by 0.005',
      metrics: { challenger: 0.8, champion: 0.84, evaluation: 'rejected' },
    });
  });

  it('reads packages without lineage, and ETag lists SageMaker cut at 256 characters', () => {
    const bare = lineageEntry(
      {
        ModelPackageArn: 'arn:aws:sagemaker:us-east-1:1:model-package/g/4',
        ModelPackageVersion: 4,
        ModelApprovalStatus: 'PendingManualApproval',
        InferenceSpecification: { Containers: [{ Image: 'i', ModelDataUrl: 's3://b/m.tar.gz' }] },
      },
      null,
    );
    expect(bare).toMatchObject({
      trigger: null,
      trainingJob: null,
      modelData: 's3://b/m.tar.gz',
      champion: false,
    });
    expect(bare.metrics).toEqual({
      primaryMetric: null,
      challenger: null,
      champion: null,
      evaluation: null,
      reason: null,
      reportUri: null,
    });
    const cut = lineageEntry(
      {
        ModelPackageArn: 'arn:aws:sagemaker:us-east-1:1:model-package/g/5',
        CustomerMetadataProperties: { dataEtags: 'a.csv=e1 b=c.csv=e2 d.csv=e…', championScore: 'null' },
      },
      'ARN:AWS:SAGEMAKER:US-EAST-1:1:MODEL-PACKAGE/G/5',
    );
    expect(cut.data.etags).toEqual({ 'a.csv': 'e1', 'b=c.csv': 'e2' });
    expect(cut.data.etagsTruncated).toBe(true);
    expect(cut.metrics.champion).toBeNull();
    expect(cut.champion).toBe(true);
  });

  it('says so when the group has no versions', () => {
    expect(renderLineageText('churn', 'Dw-churn', [], undefined)).toBe(
      'churn: no versions in package group Dw-churn yet\n',
    );
  });
});

describe('driftwatch history', () => {
  it('prints the lineage as a JSON array', async () => {
    const result = await cli(MODEL, '--format', 'json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const entries = JSON.parse(result.stdout) as LineageEntry[];
    expect(entries.map((entry) => entry.version)).toEqual([1, 2, 3]);
    expect(entries.filter((entry) => entry.champion).map((entry) => entry.packageArn)).toEqual([
      packageArns[1],
    ]);
  });

  it('prints a table with the champion starred, then each version with its data and ETags', async () => {
    const result = await cli(MODEL, '--format', 'text');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(
      'churn: 3 versions in package group Dw-churn; champion: version 2 since 2024-06-01T03:00:00.000Z',
    );
    expect(lines[2]).toBe(
      '   VERSION  STATUS    CREATED               TRIGGER   CHALLENGER VS CHAMPION  TRAINING JOB',
    );
    const time = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`;
    expect(lines[3]).toMatch(
      new RegExp(
        `^   1        Approved  ${time}  schedule  rocAuc 0\\.81 vs 0\\.78     churn-20240501-030000$`,
      ),
    );
    expect(lines[4]).toMatch(
      new RegExp(
        `^\\*  2        Approved  ${time}  drift     rocAuc 0\\.84 vs 0\\.81     churn-20240601-030000$`,
      ),
    );
    expect(lines[5]).toMatch(
      new RegExp(
        `^   3        Rejected  ${time}  manual    rocAuc 0\\.8 vs 0\\.84      churn-20240701-030000$`,
      ),
    );
    expect(result.stdout).toContain(
      'version 2 (champion): arn:aws:sagemaker:us-east-1:123456789012:model-package/Dw-churn/2\n' +
        '  trigger        data drift in churn/incoming/2024-05-31.csv (drift share 0.6)\n',
    );
    expect(result.stdout).toContain(
      '  training data  s3://results/retraining/churn/20240501-030000/train/ (2 files)\n' +
        '    file         2024-04-20.csv  ETag aaa111\n' +
        '    file         2024-04-27.csv  ETag bbb222\n',
    );
    expect(result.stdout).toContain(
      '  training data  s3://results/retraining/churn/20240601-030000/train/ (1 file)\n',
    );
    expect(result.stdout).toContain('  holdout        churn/golden/holdout.csv  ETag hhh999\n');
    expect(result.stdout).toContain('  approval       Rejected: rocAuc 0.80 does not beat 0.84 by 0.005\n');
  });

  it('names the model it does not know, on one line', async () => {
    const result = await cli('nope');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`driftwatch: ${configPath}: has no model "nope" (models: churn, fraud)\n`);
  });

  it('names the package group it cannot list', async () => {
    const result = await cli('fraud', '--format', 'json');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'driftwatch: ListModelPackages Dw-fraud: ValidationException: ModelPackageGroup Dw-fraud does not exist.\n',
    );
  });
});
