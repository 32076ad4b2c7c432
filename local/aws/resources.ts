/**
 * The resources of a synthesized stack, read from its template and made local: S3 buckets (created in
 * s3rver), DynamoDB tables (created in dynalite), SQS queues with their redrive policies and SNS topics
 * with their subscriptions (in memory), and the definitions of functions, event source mappings, rules,
 * alarms, schedules and state machines the rest of the local AWS runs. Types the local AWS has no use for
 * (IAM, KMS, log groups, dashboards, policies) only get names for the resolver.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { type AlarmDefinition, alarmFromProperties } from './alarms.ts';
import type { LocalParameter } from './apis/ssm.ts';
import type { Clock } from './clock.ts';
import { TemplateError } from './errors.ts';
import { type RuleDefinition, ruleFromProperties } from './event-router.ts';
import {
  type EventSourceMappingDefinition,
  eventSourceMappingFromProperties,
} from './event-source-mapping.ts';
import type { FunctionDefinition } from './functions.ts';
import { type StreamResource, streamFromProperties } from './kinesis.ts';
import { LocalQueue, type QueueObserver } from './queue.ts';
import { type ScheduleDefinition, scheduleFromProperties } from './scheduler.ts';
import type { StateMachineDefinition } from './step-functions.ts';
import type { IntrinsicResolver, StackTemplate } from './template.ts';
import { LocalTopic } from './topic.ts';

export interface BucketResource {
  logicalId: string;
  name: string;
  /** `NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled`. */
  eventBridge: boolean;
}

export interface TableResource {
  logicalId: string;
  name: string;
  input: CreateTableCommandInput;
}

/** How a function's asynchronous invocations are retried and where their results go. */
export interface EventInvokeConfig {
  functionName: string;
  /** @default 2 */
  maximumRetryAttempts: number;
  onSuccess?: string;
  onFailure?: string;
}

/** A function that cannot run locally (not Node.js, or no code in the assembly), and why. */
export interface UnavailableFunction {
  definition: FunctionDefinition;
  reason: string;
}

/** Everything of one stack the local AWS runs. */
export interface StackResources {
  stackName: string;
  resolver: IntrinsicResolver;
  buckets: BucketResource[];
  tables: TableResource[];
  queues: LocalQueue[];
  topics: LocalTopic[];
  functions: FunctionDefinition[];
  unavailableFunctions: UnavailableFunction[];
  eventSourceMappings: EventSourceMappingDefinition[];
  /** Kinesis streams (`AWS::Kinesis::Stream`), created in kinesalite. */
  streams: StreamResource[];
  eventInvokeConfigs: EventInvokeConfig[];
  rules: RuleDefinition[];
  alarms: AlarmDefinition[];
  schedules: ScheduleDefinition[];
  stateMachines: StateMachineDefinition[];
  /** SSM parameters (`AWS::SSM::Parameter`), as CloudFormation writes them. */
  parameters: LocalParameter[];
  /** Stack outputs, resolved. */
  outputs: Record<string, unknown>;
  /** Construct path (from `aws:cdk:path` metadata, without the stack name) to logical id. */
  paths: Map<string, string>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a stack's resources through `resolver` and builds the in-memory queues and topics.
 *
 * @throws TemplateError when the template uses something the local AWS cannot resolve
 */
export function readStackResources(
  stack: StackTemplate,
  resolver: IntrinsicResolver,
  options: { clock: Clock; queueObserver?: QueueObserver; dataDir: string },
): StackResources {
  const physical = (id: string) => resolver.physicalResource(id);
  const ids = (type: string) => resolver.resourcesOfType(type);

  const buckets = ids('AWS::S3::Bucket').map((logicalId): BucketResource => {
    const properties = resolver.properties(logicalId);
    const notifications = isObject(properties['NotificationConfiguration'])
      ? properties['NotificationConfiguration']
      : {};
    const eventBridge = isObject(notifications['EventBridgeConfiguration'])
      ? notifications['EventBridgeConfiguration']['EventBridgeEnabled'] === true
      : false;
    return { logicalId, name: physical(logicalId).name, eventBridge };
  });

  const tables = ids('AWS::DynamoDB::Table').map((logicalId): TableResource => {
    const properties = resolver.properties(logicalId);
    const name = physical(logicalId).name;
    const billing = properties['BillingMode'] === 'PAY_PER_REQUEST' ? 'PAY_PER_REQUEST' : 'PROVISIONED';
    const throughput = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };
    const indexes = (key: string) =>
      (Array.isArray(properties[key]) ? properties[key] : []).filter(isObject).map((index) => ({
        IndexName: index['IndexName'],
        KeySchema: index['KeySchema'],
        Projection: index['Projection'] ?? { ProjectionType: 'ALL' },
        ...(billing === 'PROVISIONED' && key === 'GlobalSecondaryIndexes'
          ? { ProvisionedThroughput: index['ProvisionedThroughput'] ?? throughput }
          : {}),
      }));
    const global = indexes('GlobalSecondaryIndexes');
    const local = indexes('LocalSecondaryIndexes');
    return {
      logicalId,
      name,
      input: {
        TableName: name,
        AttributeDefinitions: properties[
          'AttributeDefinitions'
        ] as CreateTableCommandInput['AttributeDefinitions'],
        KeySchema: properties['KeySchema'] as CreateTableCommandInput['KeySchema'],
        BillingMode: billing,
        ...(billing === 'PROVISIONED'
          ? { ProvisionedThroughput: (properties['ProvisionedThroughput'] as never) ?? throughput }
          : {}),
        ...(global.length > 0 ? { GlobalSecondaryIndexes: global as never } : {}),
        ...(local.length > 0 ? { LocalSecondaryIndexes: local as never } : {}),
      },
    };
  });

  const queueResources = ids('AWS::SQS::Queue').map((logicalId) => {
    const properties = resolver.properties(logicalId);
    const resource = physical(logicalId);
    const queue = new LocalQueue({
      name: resource.name,
      arn: resource.arn,
      url: resource.ref,
      clock: options.clock,
      visibilityTimeoutSeconds: Number(properties['VisibilityTimeout'] ?? 30),
      delaySeconds: Number(properties['DelaySeconds'] ?? 0),
      fifo: properties['FifoQueue'] === true || properties['FifoQueue'] === 'true',
      contentBasedDeduplication:
        properties['ContentBasedDeduplication'] === true ||
        properties['ContentBasedDeduplication'] === 'true',
      ...(options.queueObserver ? { observer: options.queueObserver } : {}),
    });
    return { logicalId, properties, queue };
  });
  const queues = queueResources.map(({ queue }) => queue);
  for (const { logicalId, properties, queue } of queueResources) {
    const raw = properties['RedrivePolicy'];
    const policy = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
    if (!isObject(policy)) continue;
    const target = queues.find((candidate) => candidate.arn === policy['deadLetterTargetArn']);
    if (!target) {
      throw new TemplateError(
        `${logicalId}.RedrivePolicy`,
        `no queue has the ARN ${String(policy['deadLetterTargetArn'])}`,
      );
    }
    queue.redrive = { deadLetterQueue: target, maxReceiveCount: Number(policy['maxReceiveCount']) };
  }

  const topics = ids('AWS::SNS::Topic').map((logicalId) => {
    const properties = resolver.properties(logicalId);
    const resource = physical(logicalId);
    const topic = new LocalTopic({
      name: resource.name,
      arn: resource.arn,
      ...(typeof properties['DisplayName'] === 'string' ? { displayName: properties['DisplayName'] } : {}),
    });
    for (const inline of (Array.isArray(properties['Subscription']) ? properties['Subscription'] : []).filter(
      isObject,
    )) {
      topic.subscriptions.push({
        protocol: String(inline['Protocol']),
        endpoint: String(inline['Endpoint']),
        rawMessageDelivery: false,
        filterPolicyScope: 'MessageAttributes',
      });
    }
    return topic;
  });
  for (const logicalId of ids('AWS::SNS::Subscription')) {
    const properties = resolver.properties(logicalId);
    const topic = topics.find((candidate) => candidate.arn === properties['TopicArn']);
    if (!topic) continue;
    const filterPolicy =
      typeof properties['FilterPolicy'] === 'string'
        ? JSON.parse(properties['FilterPolicy'])
        : properties['FilterPolicy'];
    topic.subscriptions.push({
      protocol: String(properties['Protocol']),
      endpoint: String(properties['Endpoint']),
      rawMessageDelivery:
        properties['RawMessageDelivery'] === true || properties['RawMessageDelivery'] === 'true',
      ...(isObject(filterPolicy) ? { filterPolicy } : {}),
      filterPolicyScope:
        properties['FilterPolicyScope'] === 'MessageBody' ? 'MessageBody' : 'MessageAttributes',
    });
  }

  const functions: FunctionDefinition[] = [];
  const unavailableFunctions: UnavailableFunction[] = [];
  for (const logicalId of ids('AWS::Lambda::Function')) {
    const properties = resolver.properties(logicalId);
    const resource = physical(logicalId);
    const environment =
      isObject(properties['Environment']) && isObject(properties['Environment']['Variables'])
        ? Object.fromEntries(
            Object.entries(properties['Environment']['Variables']).map(([name, value]) => [
              name,
              String(value),
            ]),
          )
        : {};
    const logging = isObject(properties['LoggingConfig']) ? properties['LoggingConfig'] : {};
    const runtime = String(properties['Runtime'] ?? '');
    const code = isObject(properties['Code']) ? properties['Code'] : {};
    let codeDir = stack.assetPath(logicalId);
    if (codeDir === undefined && typeof code['ZipFile'] === 'string') {
      codeDir = join(options.dataDir, 'inline-code', logicalId);
      mkdirSync(codeDir, { recursive: true });
      writeFileSync(join(codeDir, 'index.js'), code['ZipFile']);
      // Inline code is CommonJS in Lambda, whatever package.json is above the data directory.
      writeFileSync(join(codeDir, 'package.json'), '{"type":"commonjs"}');
    }
    const definition: FunctionDefinition = {
      logicalId,
      name: resource.name,
      arn: resource.arn,
      handler: String(properties['Handler'] ?? 'index.handler'),
      runtime,
      codeDir: codeDir ?? '',
      timeoutSeconds: Number(properties['Timeout'] ?? 3),
      memoryMb: Number(properties['MemorySize'] ?? 128),
      environment,
      logGroupName:
        typeof logging['LogGroup'] === 'string' ? logging['LogGroup'] : `/aws/lambda/${resource.name}`,
      ...(typeof properties['ReservedConcurrentExecutions'] === 'number'
        ? { reservedConcurrency: properties['ReservedConcurrentExecutions'] }
        : {}),
    };
    if (!runtime.startsWith('nodejs')) {
      unavailableFunctions.push({
        definition,
        reason: `the runtime ${runtime || '(none)'} does not run locally; only Node.js does`,
      });
    } else if (codeDir === undefined) {
      unavailableFunctions.push({
        definition,
        reason: 'its code is not in the cloud assembly (no aws:asset:path, no asset manifest entry)',
      });
    } else functions.push(definition);
  }

  const eventSourceMappings = ids('AWS::Lambda::EventSourceMapping').map((logicalId) =>
    eventSourceMappingFromProperties(logicalId, resolver.properties(logicalId)),
  );
  const streams = ids('AWS::Kinesis::Stream').map((logicalId) => {
    const resource = physical(logicalId);
    return streamFromProperties(logicalId, resource.name, resource.arn, resolver.properties(logicalId));
  });
  const eventInvokeConfigs = ids('AWS::Lambda::EventInvokeConfig').map((logicalId): EventInvokeConfig => {
    const properties = resolver.properties(logicalId);
    const destinations = isObject(properties['DestinationConfig']) ? properties['DestinationConfig'] : {};
    const destination = (key: string) => {
      const value = destinations[key];
      return isObject(value) && typeof value['Destination'] === 'string' ? value['Destination'] : undefined;
    };
    const onSuccess = destination('OnSuccess');
    const onFailure = destination('OnFailure');
    return {
      functionName: String(properties['FunctionName']).split(':').pop()!,
      maximumRetryAttempts: Number(properties['MaximumRetryAttempts'] ?? 2),
      ...(onSuccess === undefined ? {} : { onSuccess }),
      ...(onFailure === undefined ? {} : { onFailure }),
    };
  });
  const rules = ids('AWS::Events::Rule').map((logicalId) => {
    const resource = physical(logicalId);
    return ruleFromProperties(logicalId, resource.name, resource.arn, resolver.properties(logicalId));
  });
  const alarms = ids('AWS::CloudWatch::Alarm').map((logicalId) => {
    const resource = physical(logicalId);
    return alarmFromProperties(logicalId, resource.name, resource.arn, resolver.properties(logicalId));
  });
  const schedules = ids('AWS::Scheduler::Schedule').map((logicalId) => {
    const resource = physical(logicalId);
    return scheduleFromProperties(logicalId, resource.name, resource.arn, resolver.properties(logicalId));
  });
  const parameters = ids('AWS::SSM::Parameter').map((logicalId): LocalParameter => {
    const properties = resolver.properties(logicalId);
    return {
      name: String(properties['Name'] ?? physical(logicalId).name),
      value: String(properties['Value'] ?? ''),
      type: String(properties['Type'] ?? 'String'),
    };
  });
  const stateMachines = ids('AWS::StepFunctions::StateMachine').map((logicalId): StateMachineDefinition => {
    const properties = resolver.properties(logicalId);
    const resource = physical(logicalId);
    let definition: unknown = properties['Definition'];
    if (typeof properties['DefinitionString'] === 'string') {
      definition = JSON.parse(properties['DefinitionString']) as unknown;
    }
    if (!isObject(definition)) throw new TemplateError(logicalId, 'no Definition or DefinitionString');
    const substitutions = isObject(properties['DefinitionSubstitutions'])
      ? properties['DefinitionSubstitutions']
      : {};
    if (Object.keys(substitutions).length > 0) {
      const text = JSON.stringify(definition).replace(/\$\{([^}]+)\}/g, (whole, name: string) =>
        name in substitutions ? String(substitutions[name]).replace(/["\\]/g, '\\$&') : whole,
      );
      definition = JSON.parse(text) as unknown;
    }
    return {
      logicalId,
      name: resource.name,
      arn: resource.arn,
      ...(typeof properties['RoleArn'] === 'string' ? { roleArn: properties['RoleArn'] } : {}),
      definition: definition as Record<string, unknown>,
    };
  });

  const outputs: Record<string, unknown> = {};
  for (const [name, output] of Object.entries(stack.template.Outputs ?? {})) {
    if (output.Condition !== undefined && !resolver.resolve({ Condition: output.Condition })) continue;
    outputs[name] = resolver.resolve(output.Value);
  }

  const paths = new Map<string, string>();
  for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
    const path = resource.Metadata?.['aws:cdk:path'];
    if (typeof path === 'string') paths.set(path.slice(path.indexOf('/') + 1), logicalId);
  }

  return {
    stackName: stack.stackName,
    resolver,
    buckets,
    tables,
    queues,
    topics,
    functions,
    unavailableFunctions,
    eventSourceMappings,
    streams,
    eventInvokeConfigs,
    rules,
    alarms,
    schedules,
    stateMachines,
    parameters,
    outputs,
    paths,
  };
}

/** Creates the tables in DynamoDB (dynalite). TTL, streams, encryption and recovery settings are ignored. */
export async function createTables(client: DynamoDBClient, tables: readonly TableResource[]): Promise<void> {
  for (const table of tables) await client.send(new CreateTableCommand(table.input));
}
