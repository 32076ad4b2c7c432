// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings, not JavaScript templates.
/**
 * A small hand-written cloud assembly for the local AWS tests that do not need driftwatch's own template:
 * an S3 bucket with EventBridge notifications, a queue with a dead-letter queue and an event source mapping,
 * inline Node.js functions, a rule, a topic with queue subscriptions, alarms, a schedule and a state
 * machine with a Wait state. Starting the local AWS on it takes no synthesis.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The worker function: returns what it received, fails on a body containing "fail" (reported per message
 * with ReportBatchItemFailures) and prints one EMF document per invocation.
 */
const WORKER_CODE = `
exports.handler = async (event, context) => {
  const records = event.Records ?? [];
  console.log(JSON.stringify({
    _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: 'Fixture', Dimensions: [['Kind']], Metrics: [{ Name: 'Handled', Unit: 'Count' }] }] },
    Kind: 'worker', Handled: records.length,
  }));
  console.info('handled', records.length, 'records in', context.functionName);
  if (event.explode) throw new TypeError('asked to explode');
  const failed = records.filter((record) => record.body.includes('fail')).map((record) => ({ itemIdentifier: record.messageId }));
  return event.Records ? { batchItemFailures: failed } : { echo: event, region: process.env.AWS_REGION, table: process.env.TABLE };
};
`;

function template() {
  const sub = (text: string) => ({ 'Fn::Sub': text });
  return {
    Parameters: { Stage: { Type: 'String', Default: 'test' } },
    Conditions: { IsTest: { 'Fn::Equals': [{ Ref: 'Stage' }, 'test'] } },
    Resources: {
      Data: {
        Type: 'AWS::S3::Bucket',
        Properties: { NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } },
      },
      Table: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          TableName: sub('${AWS::StackName}-items'),
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        },
      },
      DeadLetters: { Type: 'AWS::SQS::Queue', Properties: {} },
      Work: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          VisibilityTimeout: 60,
          RedrivePolicy: {
            deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetters', 'Arn'] },
            maxReceiveCount: 2,
          },
        },
      },
      // EventBridge may send the uploads rule's events to the work queue (local mode enforces IAM).
      WorkPolicy: {
        Type: 'AWS::SQS::QueuePolicy',
        Properties: {
          Queues: [{ Ref: 'Work' }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: { 'Fn::GetAtt': ['Work', 'Arn'] },
                Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['UploadsToWork', 'Arn'] } } },
              },
            ],
          },
        },
      },
      // The role EventBridge starts the machine with, and the one the Scheduler invokes the worker with.
      EventsRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          },
          Policies: [
            {
              PolicyName: 'start',
              PolicyDocument: {
                Statement: [
                  { Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: 'Machine' } },
                ],
              },
            },
          ],
        },
      },
      SchedulerRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'scheduler.amazonaws.com' },
                Action: 'sts:AssumeRole',
              },
            ],
          },
          Policies: [
            {
              PolicyName: 'invoke',
              PolicyDocument: {
                Statement: [
                  {
                    Effect: 'Allow',
                    Action: 'lambda:InvokeFunction',
                    Resource: { 'Fn::GetAtt': ['Worker', 'Arn'] },
                  },
                ],
              },
            },
          ],
        },
      },
      Notifications: { Type: 'AWS::SQS::Queue', Properties: {} },
      Topic: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: 'fixture' } },
      TopicToQueue: {
        Type: 'AWS::SNS::Subscription',
        Properties: {
          TopicArn: { Ref: 'Topic' },
          Protocol: 'sqs',
          Endpoint: { 'Fn::GetAtt': ['Notifications', 'Arn'] },
          RawMessageDelivery: true,
        },
      },
      TopicToEmail: {
        Type: 'AWS::SNS::Subscription',
        Properties: { TopicArn: { Ref: 'Topic' }, Protocol: 'email', Endpoint: 'team@example.com' },
      },
      Worker: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Runtime: 'nodejs24.x',
          Handler: 'index.handler',
          Timeout: 10,
          MemorySize: 256,
          Code: { ZipFile: WORKER_CODE },
          Environment: {
            Variables: {
              TABLE: { Ref: 'Table' },
              STAGE: { 'Fn::If': ['IsTest', 'test', { Ref: 'AWS::NoValue' }] },
            },
          },
        },
      },
      Python: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Runtime: 'python3.13',
          Handler: 'index.handler',
          Code: { ZipFile: 'def handler(e, c): return e' },
        },
      },
      WorkMapping: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: { 'Fn::GetAtt': ['Work', 'Arn'] },
          FunctionName: { Ref: 'Worker' },
          BatchSize: 5,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        },
      },
      UploadsToWork: {
        Type: 'AWS::Events::Rule',
        Properties: {
          EventPattern: {
            source: ['aws.s3'],
            'detail-type': ['Object Created'],
            detail: { bucket: { name: [{ Ref: 'Data' }] }, object: { key: [{ prefix: 'in/' }] } },
          },
          Targets: [
            {
              Id: 'Work',
              Arn: { 'Fn::GetAtt': ['Work', 'Arn'] },
              InputTransformer: {
                InputPathsMap: { key: '$.detail.object.key', size: '$.detail.object.size' },
                InputTemplate: '{"file": "<key>", "bytes": <size>}',
              },
            },
          ],
        },
      },
      OrdersToMachine: {
        Type: 'AWS::Events::Rule',
        Properties: {
          EventPattern: { source: ['fixture'], 'detail-type': ['Order Placed'] },
          Targets: [
            {
              Id: 'Machine',
              Arn: { Ref: 'Machine' },
              RoleArn: { 'Fn::GetAtt': ['EventsRole', 'Arn'] },
              InputPath: '$.detail',
            },
          ],
        },
      },
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          StateMachineName: 'fixture-machine',
          DefinitionString: {
            'Fn::Join': [
              '',
              [
                '{"StartAt":"Bake","States":{"Bake":{"Type":"Wait","SecondsPath":"$.bakeSeconds","Next":"Echo"},',
                '"Echo":{"Type":"Task","Resource":"',
                { 'Fn::GetAtt': ['Worker', 'Arn'] },
                '","Parameters":{"order.$":"$.order","started.$":"$$.Execution.StartTime"},"ResultPath":"$.echo","Next":"Publish"},',
                '"Publish":{"Type":"Task","Resource":"arn:',
                { Ref: 'AWS::Partition' },
                ':states:::sns:publish","Parameters":{"TopicArn":"',
                { Ref: 'Topic' },
                '","Message.$":"$.order"},"ResultPath":null,"End":true}}}',
              ],
            ],
          },
        },
      },
      Hourly: {
        Type: 'AWS::Scheduler::Schedule',
        Properties: {
          ScheduleExpression: 'cron(0 * * * ? *)',
          ScheduleExpressionTimezone: 'Europe/Paris',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: { 'Fn::GetAtt': ['Worker', 'Arn'] },
            RoleArn: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
            Input: '{"scheduled":"<aws.scheduler.scheduled-time>","id":"<aws.scheduler.execution-id>"}',
          },
        },
      },
      WorkerErrors: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: 'fixture-worker-errors',
          AlarmDescription: 'The worker failed',
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'Worker' } }],
          Statistic: 'Sum',
          Period: 300,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'Topic' }],
        },
      },
      DeadLetterDepth: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: 'fixture-dead-letters',
          Metrics: [
            {
              Id: 'visible',
              ReturnData: false,
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/SQS',
                  MetricName: 'ApproximateNumberOfMessagesVisible',
                  Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeadLetters', 'QueueName'] } }],
                },
                Period: 60,
                Stat: 'Maximum',
              },
            },
            { Id: 'total', Expression: 'FILL(visible, 0) * 1', ReturnData: true },
          ],
          EvaluationPeriods: 1,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'breaching',
          OKActions: [{ Ref: 'Topic' }],
        },
      },
    },
    Outputs: {
      BucketName: { Value: { Ref: 'Data' } },
      WorkQueueUrl: { Value: { Ref: 'Work' }, Export: { Name: 'fixture-work-queue' } },
      Stage: { Value: { 'Fn::Select': [1, { 'Fn::Split': ['-', 'stage-test'] }] }, Condition: 'IsTest' },
    },
  };
}

/** Writes the assembly to a new temporary directory and returns it. */
export function writeFixtureAssembly(): string {
  const dir = mkdtempSync(join(tmpdir(), 'driftwatch-fixture-assembly-'));
  writeFileSync(join(dir, 'Fixture.template.json'), JSON.stringify(template(), null, 1));
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      version: '55.0.0',
      artifacts: {
        Fixture: {
          type: 'aws:cloudformation:stack',
          environment: 'aws://unknown-account/unknown-region',
          properties: { templateFile: 'Fixture.template.json' },
          displayName: 'Fixture',
        },
      },
    }),
  );
  return dir;
}
