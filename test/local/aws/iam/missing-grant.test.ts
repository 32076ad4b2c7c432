/**
 * Local mode enforces the template's IAM: a copy of the synthesized assembly with one grant the drift
 * function needs removed (writing its history item) runs, and exactly that call fails as on AWS, with
 * AccessDeniedException naming the role, the action and the table.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileToJson } from '../../../../lambdas/core/drift/profile.ts';
import { profileTable } from '../../../../lambdas/core/drift/run.ts';
import { fileInput } from '../../../../lambdas/core/readers/input.ts';
import { loadConfig } from '../../../../lib/config/load.ts';
import { driftRuntimeConfig } from '../../../../lib/config/runtime.ts';
import { type LocalAws, startLocalAws } from '../../../../local/aws/local-aws.ts';
import { synthesizeCached } from '../../../../local/aws/template.ts';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const CONFIG = `${ROOT}driftwatch.config.json`;
const CHURN_CSV = `${ROOT}test/fixtures/data/mlc_churn.csv`;
const model = driftRuntimeConfig(loadConfig(CONFIG).models.find((candidate) => candidate.name === 'churn')!);

let aws: LocalAws;
let copy: string;

beforeAll(async () => {
  const assembly = await synthesizeCached({
    configPath: CONFIG,
    projectDir: ROOT,
    cacheDir: join(ROOT, 'node_modules', '.cache', 'driftwatch-local-aws'),
  });
  copy = mkdtempSync(join(tmpdir(), 'driftwatch-missing-grant-'));
  cpSync(assembly, copy, { recursive: true });
  const file = join(copy, 'Driftwatch.template.json');
  const template = JSON.parse(readFileSync(file, 'utf8')) as {
    Resources: Record<
      string,
      { Type: string; Properties: { PolicyDocument?: { Statement: { Sid?: string }[] } } }
    >;
  };
  // The shared drift role's history grant, found by what it is, not by a construct id.
  const [policyId] = Object.entries(template.Resources).find(
    ([id, resource]) =>
      resource.Type === 'AWS::IAM::Policy' &&
      id.startsWith('DriftRole') &&
      resource.Properties.PolicyDocument!.Statement.some((statement) => statement.Sid === 'WriteHistory'),
  )!;
  const document = template.Resources[policyId]!.Properties.PolicyDocument!;
  document.Statement = document.Statement.filter((statement) => statement.Sid !== 'WriteHistory');
  writeFileSync(file, JSON.stringify(template));
  aws = await startLocalAws({ assemblyDir: copy, startTime: Date.parse('2025-06-02T09:00:00Z') });
  const profile = await profileTable(fileInput(CHURN_CSV), {
    numeric: model.numeric,
    categorical: model.categorical,
    exclude: model.exclude,
    segment: model.segment,
  });
  await aws.putObject(
    String(aws.outputs['LandingBucketName']),
    model.baselineProfileKey,
    profileToJson(profile),
  );
}, 180_000);

afterAll(async () => {
  await aws?.stop();
  rmSync(copy, { recursive: true, force: true });
});

describe('a template without the drift role history grant, in local mode', () => {
  it('denies the history write, and only it, naming the role, the action and the table', async () => {
    const csv = readFileSync(CHURN_CSV, 'utf8').split('\n').slice(0, 300).join('\n');
    await aws.putObject(
      String(aws.outputs['LandingBucketName']),
      `${model.incomingPrefix}day.csv`,
      `${csv}\n`,
    );
    const denied = aws.timeline.ofType('access-denied');
    expect(denied.length).toBeGreaterThan(0);
    const table = String(aws.outputs['HistoryTableName']);
    for (const event of denied) {
      expect(event).toMatchObject({
        action: 'dynamodb:PutItem',
        resource: `arn:aws:dynamodb:us-east-1:123456789012:table/${table}`,
      });
      expect(event.principal).toMatch(/assumed-role\/Driftwatch-DriftRole/);
      expect(event.reason).toMatch(/no identity-based policy allows the dynamodb:PutItem action/);
    }
    // The report was written (its grant is there); the failed record is retried, as SQS would.
    const drift = aws.resource('Drift/Function').name;
    const runs = aws.timeline.ofType('function-finished').filter((event) => event.function === drift);
    expect(runs.length).toBeGreaterThan(0);
    const logs = runs.flatMap((run) => run.logs).join('\n');
    expect(logs).toMatch(/AccessDeniedException/);
  });
});
