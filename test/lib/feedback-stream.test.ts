import { readFileSync } from 'node:fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../lib/config/validate.ts';
import { addDriftwatch } from '../../lib/model-stacks.ts';
import { actionsOf, policyStatements, testApp } from '../helpers/cdk.ts';

const raw = JSON.parse(readFileSync('local/demo/concept-drift.config.json', 'utf8'));

function synth(config: unknown) {
  const app = testApp();
  const { engine, modelStacks } = addDriftwatch(app, validateConfig(config));
  return { app, engine, template: Template.fromStack(engine), modelStacks };
}

describe('the feedback stream of the engine', () => {
  const { app, engine, template, modelStacks } = synth(raw);

  it('is one encrypted stream, one consumer behind a mapping with window, bisect, retries and partial batches', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 2,
      RetentionPeriodHours: 24,
      StreamEncryption: { EncryptionType: 'KMS' },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      ParallelizationFactor: 1,
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'model', KeyType: 'HASH' },
        { AttributeName: 'cohort', KeyType: 'RANGE' },
      ],
    });
  });

  it('tells the consumer the parallelization factor, which the mapping declares', () => {
    const parallel = synth({ ...raw, feedbackStream: { ...raw.feedbackStream, parallelizationFactor: 4 } });
    parallel.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ParallelizationFactor: 4 });
    parallel.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FEEDBACK_PARALLELIZATION_FACTOR: '4' }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FEEDBACK_PARALLELIZATION_FACTOR: '1' }) },
    });
    expect(() =>
      validateConfig({ ...raw, feedbackStream: { ...raw.feedbackStream, parallelizationFactor: 11 } }),
    ).toThrow(/feedbackStream\.parallelizationFactor/);
  });

  it('starts retraining on Concept Drift Detected, and adds no resource to the model', () => {
    const rules = template.findResources('AWS::Events::Rule');
    // Schedule rules (the capture sweep) have no pattern.
    const patterns = Object.values(rules).map((rule) =>
      JSON.stringify(rule['Properties']['EventPattern'] ?? {}),
    );
    expect(patterns.some((pattern) => pattern.includes('Concept Drift Detected'))).toBe(true);
    const [stack] = [...modelStacks.values()];
    const counts = Object.keys(Template.fromStack(stack!).toJSON()['Resources']).length;
    expect(counts).toBeLessThanOrEqual(6);
    expect(engine.feedback).toBeDefined();
  });

  it('lets the drift function put the outcomes of ground-truth joins on the stream, and nothing more', () => {
    const statements = policyStatements(template, 'DriftRole');
    const put = statements.find((statement) => statement.Sid === 'PutJoinedOutcomesOnFeedbackStream')!;
    expect(actionsOf(put)).toEqual(['kinesis:PutRecords']);
    expect(put.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FeedbackStream/), 'Arn'] });
    const encrypt = statements.find((statement) => statement.Sid === 'EncryptFeedbackRecords')!;
    expect(actionsOf(encrypt)).toEqual(['kms:GenerateDataKey']);
    const drift = Object.values(template.findResources('AWS::Lambda::Function')).find((fn) =>
      fn['Properties']['Description']?.startsWith('driftwatch: drift checks'),
    )!;
    expect(drift['Properties']['Environment']['Variables']['FEEDBACK_STREAM_NAME']).toEqual({
      Ref: expect.stringMatching(/^FeedbackStream/),
    });
  });

  it('alarms on the failure queue and on a consumer behind its stream, engine-wide', () => {
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm['Properties']['AlarmName'],
    );
    expect(names).toEqual(
      expect.arrayContaining(['Driftwatch-FeedbackFailures', 'Driftwatch-FeedbackIteratorAge']),
    );
  });

  it('is cdk-nag clean', () => {
    const violations = new AwsSolutionsChecks(app, { verbose: true }).validateScope(app).violations;
    expect(violations.map((violation) => violation.ruleName)).toEqual([]);
  });

  it('is not deployed when no model has a conceptDrift section', () => {
    const plain = structuredClone(raw);
    delete plain.models[0].conceptDrift;
    plain.models[0].retraining.triggers = ['drift'];
    synth(plain).template.resourceCountIs('AWS::Kinesis::Stream', 0);
  });
});
