/**
 * Local IAM judges the Kinesis event source mapping of the feedback stream as AWS does when it creates and
 * polls it, as the consumer's role: on a copy of the synthesized assembly with one grant removed, a role
 * that cannot read the stream or send to the on-failure queue fails the deployment (InvalidParameterValueException,
 * as CloudFormation reports it), and a role that cannot decrypt the stream's records deploys but the mapping
 * delivers nothing (its last processing result is a PROBLEM naming kms:Decrypt, the records wait in the
 * stream). With the stack's own role the same reads are allowed (test/local/aws/feedback-stream.test.ts).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type LocalAws, startLocalAws } from '../../../../local/aws/local-aws.ts';
import { synthesizeCached } from '../../../../local/aws/template.ts';

const ROOT = new URL('../../../../', import.meta.url).pathname;
const CONFIG = `${ROOT}local/demo/concept-drift.config.json`;
const START = Date.parse('2025-06-02T09:00:00Z');

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown };
type Resources = Record<
  string,
  { Type: string; Properties: { PolicyDocument?: { Statement: Statement[] } } }
>;

const copies: string[] = [];

/** A copy of the concept-drift assembly whose feedback role has the actions `drop` names removed. */
async function withoutActions(drop: (action: string, statement: Statement) => boolean): Promise<string> {
  const assembly = await synthesizeCached({
    configPath: CONFIG,
    projectDir: ROOT,
    cacheDir: join(ROOT, 'node_modules', '.cache', 'driftwatch-local-aws'),
  });
  const copy = mkdtempSync(join(tmpdir(), 'driftwatch-feedback-mapping-'));
  copies.push(copy);
  cpSync(assembly, copy, { recursive: true });
  const file = join(copy, 'Driftwatch.template.json');
  const template = JSON.parse(readFileSync(file, 'utf8')) as { Resources: Resources };
  let removed = 0;
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy' || !id.startsWith('FeedbackRole')) continue;
    const document = resource.Properties.PolicyDocument!;
    document.Statement = document.Statement.flatMap((statement) => {
      const actions = [statement.Action].flat();
      const kept = actions.filter((action) => !drop(action, statement));
      removed += actions.length - kept.length;
      return kept.length === 0 ? [] : [{ ...statement, Action: kept }];
    });
  }
  expect(removed).toBeGreaterThan(0);
  writeFileSync(file, JSON.stringify(template));
  return copy;
}

let aws: LocalAws | undefined;

afterAll(async () => {
  await aws?.stop();
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
});

describe('the feedback mapping under local IAM', () => {
  it('fails the deployment when the role cannot read the stream', async () => {
    const copy = await withoutActions((action) => action === 'kinesis:GetRecords');
    await expect(startLocalAws({ assemblyDir: copy, startTime: START })).rejects.toThrow(
      /event source mapping of .*Feedback.* on arn:aws:kinesis:.*:stream\/.* would fail to deploy \(InvalidParameterValueException: Cannot access stream .*\): the function's role cannot use the stream: .*not authorized to perform: kinesis:GetRecords/,
    );
  }, 180_000);

  it('fails the deployment when the role cannot send to the on-failure queue', async () => {
    const copy = await withoutActions((action) => action === 'sqs:SendMessage');
    await expect(startLocalAws({ assemblyDir: copy, startTime: START })).rejects.toThrow(
      /would fail to deploy \(InvalidParameterValueException: The provided execution role does not have permissions to call SendMessage on SQS\.\): the function's role cannot use the on-failure destination: .*sqs:SendMessage/,
    );
  }, 180_000);

  it("deploys without kms:Decrypt on the stream's key, but delivers nothing: a PROBLEM naming the key", async () => {
    const copy = await withoutActions((action) => action === 'kms:Decrypt');
    aws = await startLocalAws({ assemblyDir: copy, startTime: START });
    const stream = String(aws.outputs['FeedbackStreamName']);
    const placed = await aws.putRecords(stream, [
      {
        data: JSON.stringify({ model: 'churn', label: 'no', prediction: 0.1, eventTime: START }),
        partitionKey: 'churn',
      },
    ]);
    await expect(aws.drainStream(stream, placed, 3_000)).rejects.toThrow(/not drained/);
    const [source] = aws.streamSources;
    expect(source!.lastProcessingResult).toMatch(
      /^PROBLEM: User: .*assumed-role\/.*Feedback.* is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:.*\(the key of arn:aws:kinesis:.*, needed for kinesis:GetRecords\)/,
    );
    expect(source!.outcomes).toEqual([]);
    const denied = aws.timeline.ofType('access-denied');
    expect(denied.some((entry) => entry.action === 'kms:Decrypt')).toBe(true);
  }, 180_000);
});
