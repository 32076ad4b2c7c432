/**
 * Step Functions state machines of the template, executed by aws-local-stepfunctions from the resolved
 * `DefinitionString`. Before running, the definition is adapted to the local world, keeping its meaning:
 * `Wait` states wait on the local clock (they become pass-through tasks that sleep on it), task states
 * without a timeout get none (the library's default is 60 real seconds), and retries do not pause.
 *
 * Task resources run locally: Lambda functions (by ARN or `arn:aws:states:::lambda:invoke`) in their
 * worker threads, `sns:publish`, `events:putEvents`, `sqs:sendMessage`, `states:startExecution` (also
 * `.sync` and `.sync:2`) and DynamoDB `getItem`/`putItem`/`updateItem`/`deleteItem` on the local services;
 * anything else (SageMaker, say) by a handler the caller supplies, by state name or by resource ARN.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
} from 'aws-local-stepfunctions';
import type { PutEventsEntry, PutEventsResult } from './apis/eventbridge.ts';
import type { Clock } from './clock.ts';
import { LocalServiceError } from './errors.ts';
import type { InvocationResult } from './functions.ts';
import type { MetricInput } from './metrics.ts';
import type { MessageAttributeValue } from './queue.ts';
import type { LocalIdentity } from './template.ts';
import type { Timeline } from './timeline.ts';

type Definition = ConstructorParameters<typeof StateMachine>[0];
type Json = Parameters<StateMachine['run']>[0];
type EventLog = Awaited<ReturnType<ReturnType<StateMachine['run']>['eventLogs']['next']>>['value'];

/** Starts executions: what EventBridge targets, schedules and `states:startExecution` tasks call. */
export interface StepFunctionsExecutor {
  startExecution(
    stateMachineArn: string,
    input: string,
    options?: { name?: string },
  ): Promise<{ executionArn: string; startDate: Date }>;
}

/** A task handler by state name, as aws-local-stepfunctions takes them: the task's effective input in. */
export type TaskResourceLocalHandler = (input: Json) => Promise<Json> | Json;

/** A task handler by resource ARN (e.g. `arn:aws:states:::sagemaker:createTrainingJob.sync`). */
export type ServiceIntegration = (
  input: Json,
  task: { stateName: string; resource: string; executionArn: string; clock: Clock },
) => Promise<Json> | Json;

/** A state machine as the template declares it, resolved. */
export interface StateMachineDefinition {
  logicalId: string;
  name: string;
  arn: string;
  roleArn?: string;
  definition: Record<string, unknown>;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  /** Local clock times. */
  startDate: number;
  stopDate?: number;
  /** The execution's event log (aws-local-stepfunctions' events). */
  events: EventLog[];
  /** Resolves when the execution ends. */
  done: Promise<ExecutionRecord>;
}

/** What the executor needs of the rest of the local AWS. */
export interface StepFunctionsServices {
  clock: Clock;
  timeline: Timeline;
  identity: LocalIdentity;
  invokeFunction(nameOrArn: string, payload: unknown): Promise<InvocationResult | undefined>;
  publish(input: {
    topicArn: string;
    message: string;
    subject?: string;
    messageAttributes?: Record<string, MessageAttributeValue>;
  }): string;
  putEvents(entries: PutEventsEntry[]): PutEventsResult[];
  sendMessage(
    queueUrl: string,
    body: string,
    options: { delaySeconds?: number; messageAttributes?: Record<string, MessageAttributeValue> },
  ): { messageId: string; md5OfBody: string };
  putMetrics(data: MetricInput[]): void;
  /** Status-change events (`aws.states`), put on the default bus. */
  putEvent(entry: PutEventsEntry): void;
  dynamodb?: DynamoDBClient;
  /**
   * Checks that the state machine's role may make a task's call (IAM enforcement); throws the task's
   * error when not.
   */
  authorize?(stateMachineArn: string, resource: string, input: Json): Promise<void>;
  taskResourceLocalHandlers?: Record<string, TaskResourceLocalHandler>;
  serviceIntegrations?: Record<string, ServiceIntegration>;
}

/** Longest task timeout a Node timer can hold (~24.8 days): "no timeout", as in Step Functions. */
const NO_TIMEOUT_SECONDS = 2_147_483;
const WAIT_RESOURCE = 'arn:aws:states:::local:wait';

/** A task resource nothing local can run: fails the execution (it cannot be caught or retried). */
class UnsupportedResourceError extends Error {
  override readonly name = 'LocalAws.UnsupportedResource';
  get isCatchable() {
    return false;
  }
  get isRetryable() {
    return false;
  }
}

/** A task failed the way its service fails: `name` is the Step Functions error, `message` the cause. */
export class TaskFailedError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

interface WaitSpec {
  Seconds?: number;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
}

interface PreparedMachine {
  source: StateMachineDefinition;
  machine: StateMachine;
  /** Task states by name: their resource. */
  tasks: Map<string, string>;
  waits: Map<string, WaitSpec>;
  retryIntervalOverrides: Record<string, number>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads `$.a.b[0]` (and `$$.` from the context object); enough for `SecondsPath` and `TimestampPath`. */
function readPath(path: string, input: unknown, context: unknown): unknown {
  const [root, rest] = path.startsWith('$$') ? [context, path.slice(2)] : [input, path.slice(1)];
  let value: unknown = root;
  for (const part of rest.match(/\.[^.[]+|\[\d+\]/g) ?? []) {
    const key = part.startsWith('[') ? Number(part.slice(1, -1)) : part.slice(1);
    value = (value as Record<string | number, unknown> | undefined)?.[key];
  }
  return value;
}

/** Adapts a definition (in place, recursively through Parallel branches and Map processors). */
function adapt(
  states: Record<string, Record<string, unknown>>,
  prepared: Pick<PreparedMachine, 'tasks' | 'waits' | 'retryIntervalOverrides'>,
): void {
  for (const [name, state] of Object.entries(states)) {
    if (state['Type'] === 'Wait') {
      const { Seconds, SecondsPath, Timestamp, TimestampPath, Type: _, ...rest } = state;
      prepared.waits.set(name, { Seconds, SecondsPath, Timestamp, TimestampPath } as WaitSpec);
      states[name] = { ...rest, Type: 'Task', Resource: WAIT_RESOURCE, TimeoutSeconds: NO_TIMEOUT_SECONDS };
      prepared.tasks.set(name, WAIT_RESOURCE);
      continue;
    }
    if (state['Type'] === 'Task') {
      prepared.tasks.set(name, String(state['Resource']));
      if (state['TimeoutSeconds'] === undefined && state['TimeoutSecondsPath'] === undefined) {
        state['TimeoutSeconds'] = NO_TIMEOUT_SECONDS;
      }
    }
    if (Array.isArray(state['Retry'])) prepared.retryIntervalOverrides[name] = 0;
    for (const branch of Array.isArray(state['Branches']) ? state['Branches'] : []) {
      if (isObject(branch) && isObject(branch['States'])) adapt(branch['States'] as never, prepared);
    }
    for (const key of ['Iterator', 'ItemProcessor']) {
      const processor = state[key];
      if (isObject(processor) && isObject(processor['States'])) adapt(processor['States'] as never, prepared);
    }
  }
}

const httpMetadata = (requestId: string) => ({
  SdkHttpMetadata: { AllHttpHeaders: {}, HttpHeaders: {}, HttpStatusCode: 200 },
  SdkResponseMetadata: { RequestId: requestId },
});

/**
 * The local Step Functions.
 *
 * @example
 * ```ts
 * const { executionArn } = await stepFunctions.startExecution(arn, JSON.stringify({ model: 'churn' }));
 * const record = await stepFunctions.execution(executionArn)!.done;
 * ```
 */
export class LocalStepFunctions implements StepFunctionsExecutor {
  private readonly machines = new Map<string, PreparedMachine>();
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly aborts = new Set<() => void>();
  private readonly services: StepFunctionsServices;

  constructor(definitions: readonly StateMachineDefinition[], services: StepFunctionsServices) {
    this.services = services;
    for (const source of definitions) {
      // aws-local-stepfunctions sets the context's StartTime to the real time: read the local clock's instead.
      const definition = JSON.parse(
        JSON.stringify(source.definition).replaceAll(
          '$$.Execution.StartTime',
          () => '$$.Execution.LocalStartTime',
        ),
      ) as Record<string, unknown>;
      const prepared = {
        tasks: new Map<string, string>(),
        waits: new Map<string, WaitSpec>(),
        retryIntervalOverrides: {},
      };
      if (isObject(definition['States'])) adapt(definition['States'] as never, prepared);
      const machine = new StateMachine(definition as unknown as Definition, {
        validationOptions: { checkArn: false },
      });
      this.machines.set(source.arn, { source, machine, ...prepared });
    }
  }

  has(stateMachineArn: string): boolean {
    return this.machines.has(stateMachineArn);
  }

  /** Every execution so far, oldest first. */
  executions(): ExecutionRecord[] {
    return [...this.records.values()];
  }

  execution(executionArn: string): ExecutionRecord | undefined {
    return this.records.get(executionArn);
  }

  async startExecution(
    stateMachineArn: string,
    input: string,
    options: { name?: string } = {},
  ): Promise<{ executionArn: string; startDate: Date }> {
    const prepared = this.machines.get(stateMachineArn);
    if (!prepared)
      throw new LocalServiceError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${stateMachineArn}'`,
      );
    const { clock, timeline, identity } = this.services;
    const name = options.name ?? randomUUID();
    const machineName = prepared.source.name;
    const executionArn = `arn:${identity.partition}:states:${identity.region}:${identity.accountId}:execution:${machineName}:${name}`;
    if (this.records.has(executionArn)) {
      throw new LocalServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    let parsed: Json;
    try {
      parsed = JSON.parse(input) as Json;
    } catch {
      throw new LocalServiceError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
    }
    const startDate = clock.now();
    const context = {
      Execution: {
        Id: executionArn,
        Name: name,
        RoleArn: prepared.source.roleArn ?? '',
        StartTime: new Date(startDate).toISOString(),
        LocalStartTime: new Date(startDate).toISOString(),
      },
      StateMachine: { Id: stateMachineArn, Name: machineName },
    };
    const run = prepared.machine.run(parsed, {
      overrides: {
        taskResourceLocalHandlers: this.handlers(prepared, executionArn, parsed, context),
        retryIntervalOverrides: prepared.retryIntervalOverrides,
      },
      context,
    });
    this.aborts.add(run.abort);
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn,
      name,
      status: 'RUNNING',
      input,
      startDate,
      events: [],
      done: undefined as unknown as Promise<ExecutionRecord>,
    };
    this.records.set(executionArn, record);
    timeline.record({ type: 'execution-started', stateMachine: machineName, executionArn, input });
    this.statusChanged(record);
    const logs = (async () => {
      for await (const event of run.eventLogs) record.events.push(event);
    })();
    record.done = clock.activity.track(
      run.result
        .then(
          (output) => this.finish(record, { status: 'SUCCEEDED', output: JSON.stringify(output) }),
          (error: unknown) => this.finish(record, describeFailure(error)),
        )
        .then(async (finished) => {
          this.aborts.delete(run.abort);
          await logs;
          return finished;
        }),
    );
    return { executionArn, startDate: new Date(startDate) };
  }

  /** Aborts every running execution (when the local AWS stops). */
  abortAll(): void {
    for (const abort of this.aborts) abort();
    this.aborts.clear();
  }

  private finish(
    record: ExecutionRecord,
    outcome: { status: Exclude<ExecutionStatus, 'RUNNING'>; output?: string; error?: string; cause?: string },
  ): ExecutionRecord {
    const { clock, timeline } = this.services;
    Object.assign(record, outcome, { stopDate: clock.now() });
    timeline.record({
      type: 'execution-finished',
      stateMachine: this.machines.get(record.stateMachineArn)!.source.name,
      executionArn: record.executionArn,
      status: outcome.status,
      ...(record.output === undefined ? {} : { output: record.output }),
      ...(record.error === undefined ? {} : { error: record.error }),
      ...(record.cause === undefined ? {} : { cause: record.cause }),
    });
    this.statusChanged(record);
    return record;
  }

  private statusChanged(record: ExecutionRecord): void {
    const metric = {
      RUNNING: 'ExecutionsStarted',
      SUCCEEDED: 'ExecutionsSucceeded',
      FAILED: 'ExecutionsFailed',
      TIMED_OUT: 'ExecutionsTimedOut',
      ABORTED: 'ExecutionsAborted',
    }[record.status];
    const dimensions = { StateMachineArn: record.stateMachineArn };
    const data: MetricInput[] = [
      { namespace: 'AWS/States', name: metric, dimensions, value: 1, unit: 'Count' },
    ];
    if (record.stopDate !== undefined) {
      data.push({
        namespace: 'AWS/States',
        name: 'ExecutionTime',
        dimensions,
        value: record.stopDate - record.startDate,
        unit: 'Milliseconds',
      });
    }
    this.services.putMetrics(data);
    this.services.putEvent({
      Source: 'aws.states',
      DetailType: 'Step Functions Execution Status Change',
      Resources: [record.executionArn],
      Detail: JSON.stringify({
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: record.startDate,
        stopDate: record.stopDate ?? null,
        input: record.input,
        output: record.output ?? null,
        ...(record.error === undefined ? {} : { error: record.error, cause: record.cause ?? null }),
      }),
    });
  }

  private handlers(
    prepared: PreparedMachine,
    executionArn: string,
    input: Json,
    context: Record<string, unknown>,
  ): Record<string, TaskResourceLocalHandler> {
    const handlers: Record<string, TaskResourceLocalHandler> = {};
    const { taskResourceLocalHandlers = {}, serviceIntegrations = {} } = this.services;
    for (const [stateName, resource] of prepared.tasks) {
      const own = taskResourceLocalHandlers[stateName];
      const wait = prepared.waits.get(stateName);
      if (wait)
        handlers[stateName] = (taskInput) =>
          this.wait(wait, taskInput, {
            ...context,
            Execution: { ...(context['Execution'] as object), Input: input },
          });
      else {
        const integration = serviceIntegrations[resource];
        const run: TaskResourceLocalHandler =
          own ??
          (integration
            ? (taskInput) =>
                integration(taskInput, { stateName, resource, executionArn, clock: this.services.clock })
            : (taskInput) => this.builtIn(resource, taskInput));
        const { authorize } = this.services;
        handlers[stateName] = authorize
          ? async (taskInput) => {
              await authorize(prepared.source.arn, resource, taskInput);
              return run(taskInput);
            }
          : run;
      }
    }
    return handlers;
  }

  private async wait(spec: WaitSpec, input: Json, context: unknown): Promise<Json> {
    const { clock } = this.services;
    let ms = 0;
    if (spec.Seconds !== undefined) ms = spec.Seconds * 1000;
    else if (spec.SecondsPath !== undefined) ms = Number(readPath(spec.SecondsPath, input, context)) * 1000;
    else {
      const timestamp = spec.Timestamp ?? readPath(spec.TimestampPath ?? '$', input, context);
      ms = Date.parse(String(timestamp)) - clock.now();
    }
    if (Number.isFinite(ms) && ms > 0) await clock.sleep(ms);
    return input;
  }

  private async builtIn(anyPartition: string, input: Json): Promise<Json> {
    const services = this.services;
    const resource = anyPartition.replace(/^arn:[^:]+:/, 'arn:aws:');
    const parameters = (isObject(input) ? input : {}) as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
    const requestId = randomUUID();
    if (/^arn:[^:]+:lambda:/.test(resource)) return this.invokeFunction(resource, input);
    switch (resource) {
      case 'arn:aws:states:::lambda:invoke': {
        const payload = await this.invokeFunction(
          String(parameters['FunctionName']),
          (parameters['Payload'] ?? null) as Json,
        );
        return {
          ExecutedVersion: '$LATEST',
          Payload: payload,
          ...httpMetadata(requestId),
          StatusCode: 200,
        } as Json;
      }
      case 'arn:aws:states:::sns:publish': {
        const messageId = this.call(() =>
          services.publish({
            topicArn: String(parameters['TopicArn'] ?? parameters['TargetArn']),
            message: text(parameters['Message']),
            ...(typeof parameters['Subject'] === 'string' ? { subject: parameters['Subject'] } : {}),
            ...(isObject(parameters['MessageAttributes'])
              ? {
                  messageAttributes: parameters['MessageAttributes'] as Record<string, MessageAttributeValue>,
                }
              : {}),
          }),
        );
        return { MessageId: messageId, ...httpMetadata(requestId) } as Json;
      }
      case 'arn:aws:states:::events:putEvents': {
        const entries = (Array.isArray(parameters['Entries']) ? parameters['Entries'] : []) as Record<
          string,
          unknown
        >[];
        const results = services.putEvents(
          entries.map((entry) => ({ ...entry, Detail: text(entry['Detail']) }) as PutEventsEntry),
        );
        const failed = results.filter((result) => 'ErrorCode' in result).length;
        if (failed > 0)
          throw new TaskFailedError(
            'EventBridge.FailedEntry',
            JSON.stringify({ Entries: results, FailedEntryCount: failed }),
          );
        return { Entries: results, FailedEntryCount: 0 } as Json;
      }
      case 'arn:aws:states:::sqs:sendMessage': {
        const sent = this.call(() =>
          services.sendMessage(String(parameters['QueueUrl']), text(parameters['MessageBody']), {
            ...(typeof parameters['DelaySeconds'] === 'number'
              ? { delaySeconds: parameters['DelaySeconds'] }
              : {}),
            ...(isObject(parameters['MessageAttributes'])
              ? {
                  messageAttributes: parameters['MessageAttributes'] as Record<string, MessageAttributeValue>,
                }
              : {}),
          }),
        );
        return {
          MessageId: sent.messageId,
          MD5OfMessageBody: sent.md5OfBody,
          ...httpMetadata(requestId),
        } as Json;
      }
      case 'arn:aws:states:::states:startExecution':
      case 'arn:aws:states:::states:startExecution.sync':
      case 'arn:aws:states:::states:startExecution.sync:2': {
        const started = await this.startExecution(
          String(parameters['StateMachineArn']),
          text(parameters['Input'] ?? {}),
          {
            ...(typeof parameters['Name'] === 'string' ? { name: parameters['Name'] } : {}),
          },
        );
        if (!resource.includes('.sync')) {
          return { ExecutionArn: started.executionArn, StartDate: started.startDate.toISOString() } as Json;
        }
        const record = await this.records.get(started.executionArn)!.done;
        if (record.status !== 'SUCCEEDED') {
          throw new TaskFailedError(
            'States.TaskFailed',
            JSON.stringify({
              ExecutionArn: record.executionArn,
              Status: record.status,
              Error: record.error,
              Cause: record.cause,
            }),
          );
        }
        return {
          ExecutionArn: record.executionArn,
          StateMachineArn: record.stateMachineArn,
          Name: record.name,
          Status: record.status,
          StartDate: record.startDate,
          StopDate: record.stopDate,
          Input: resource.endsWith(':2') ? JSON.parse(record.input) : record.input,
          Output: resource.endsWith(':2') ? JSON.parse(record.output ?? 'null') : record.output,
        } as Json;
      }
    }
    const dynamo = /^arn:aws:states:::dynamodb:(getItem|putItem|updateItem|deleteItem)$/.exec(resource);
    if (dynamo && services.dynamodb) {
      const Command = {
        getItem: GetItemCommand,
        putItem: PutItemCommand,
        updateItem: UpdateItemCommand,
        deleteItem: DeleteItemCommand,
      }[dynamo[1] as 'getItem'];
      try {
        const { $metadata: _, ...output } = await services.dynamodb.send(new Command(parameters as never));
        return output as Json;
      } catch (error) {
        throw new TaskFailedError(`DynamoDB.${(error as Error).name}`, (error as Error).message);
      }
    }
    throw new UnsupportedResourceError(
      `no local integration runs the task resource ${resource}: pass serviceIntegrations["${resource}"] or a taskResourceLocalHandlers entry`,
    );
  }

  private call<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      if (error instanceof LocalServiceError) throw new TaskFailedError(error.code, error.message);
      throw error;
    }
  }

  private async invokeFunction(nameOrArn: string, payload: Json): Promise<Json> {
    const result = await this.services.invokeFunction(nameOrArn, payload);
    if (!result)
      throw new TaskFailedError('Lambda.ResourceNotFoundException', `Function not found: ${nameOrArn}`);
    if (result.status === 'failed') {
      const error = result.error ?? { errorType: 'Error', errorMessage: '', trace: [] };
      throw new TaskFailedError(
        error.errorType,
        JSON.stringify({ errorMessage: error.errorMessage, errorType: error.errorType, trace: error.trace }),
      );
    }
    return result.payload as Json;
  }
}

/** How aws-local-stepfunctions reports the end of an execution, as Step Functions statuses. */
function describeFailure(error: unknown): {
  status: Exclude<ExecutionStatus, 'RUNNING' | 'SUCCEEDED'>;
  error?: string;
  cause?: string;
} {
  if (error instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT', error: 'States.Timeout' };
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  if (error instanceof ExecutionError) {
    const cause = (error as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const nested = (cause as Error & { cause?: unknown }).cause;
      return {
        status: 'FAILED',
        error: cause.name,
        cause: typeof nested === 'string' ? nested : cause.message,
      };
    }
  }
  return { status: 'FAILED', error: 'States.Runtime', cause: String((error as Error)?.message ?? error) };
}
