import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DriftwatchStack } from '../../lib/driftwatch-stack.ts';
import { actionsOf, policyStatements, testApp, testConfig } from '../helpers/cdk.ts';
import { retrainingRawConfig } from '../helpers/retraining-config.ts';

let stack: DriftwatchStack;
let template: Template;

beforeAll(() => {
  stack = new DriftwatchStack(testApp(), 'Driftwatch', { config: testConfig(retrainingRawConfig()) });
  template = Template.fromStack(stack);
});

const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as never);

describe('RetrainingPipeline', () => {
  it('lets the state machine pass only the SageMaker role, only to SageMaker', () => {
    const pipeline = stack.retraining.get('churn')!;
    const machineRole = logicalId(pipeline.stateMachine.role as never).replace(/[0-9A-F]{8}$/, '');
    const passes = policyStatements(template, machineRole).filter((s) =>
      actionsOf(s).includes('iam:PassRole'),
    );
    expect(passes.length).toBeGreaterThan(0);
    const sageMakerRole = logicalId(pipeline.sageMakerRole);
    for (const statement of passes) {
      expect(statement.Resource).toEqual({ 'Fn::GetAtt': [sageMakerRole, 'Arn'] });
      expect(statement.Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
      });
    }
    // No other policy of the stack may pass any role.
    const all = policyStatements(template).filter((s) => actionsOf(s).includes('iam:PassRole'));
    expect(all).toHaveLength(passes.length);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Principal: { Service: 'sagemaker.amazonaws.com' } }],
      },
    });
  });

  it('logs every level without execution data, traces with X-Ray, and is named by convention', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'Driftwatch-churn-retraining',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'Driftwatch-model-state',
      KeySchema: [{ AttributeName: 'model', KeyType: 'HASH' }],
    });
    template.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', {
      ModelPackageGroupName: 'Driftwatch-churn',
    });
  });

  it('starts on the configured events and schedule', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')).map((r) => r['Properties']);
    const patterns = rules
      .map((rule) => rule['EventPattern'])
      .filter((p) => p['source']?.[0] === 'driftwatch');
    expect(patterns).toEqual([
      {
        source: ['driftwatch'],
        'detail-type': ['Drift Detected'],
        detail: { model: ['churn'], datasetDrift: [true] },
      },
      { source: ['driftwatch'], 'detail-type': ['Performance Degraded'], detail: { model: ['churn'] } },
    ]);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(30 days)' });
  });

  it('alarms on failed, timed-out and aborted executions', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a['Properties'],
    );
    const failed = alarms.find(
      (alarm) => alarm['AlarmName'] === 'Driftwatch-churn-StateMachine-FailedExecutions',
    );
    expect(failed).toBeDefined();
    expect(failed!['AlarmDescription']).toMatch(/Runbook/);
    expect(JSON.stringify(failed!['Metrics'])).toContain('ExecutionsFailed');
    expect(JSON.stringify(failed!['Metrics'])).toContain('ExecutionsTimedOut');
  });
});
