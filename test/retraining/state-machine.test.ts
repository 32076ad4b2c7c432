/**
 * Executions of the synthesized retraining state machine with aws-local-stepfunctions: every Task state runs
 * a local handler from the fake AWS world (test/helpers/fake-sagemaker.ts), Lambda states run the real
 * handlers against it, Wait states and retry pauses take no time.
 */

import { Template } from 'aws-cdk-lib/assertions';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RetrainingEnvironment } from '../../lambdas/retraining/aws.ts';
import type {
  RetrainingExecutionInput,
  RetrainingRuntimeConfig,
} from '../../lambdas/shared/retraining-contract.ts';
import { DriftwatchStack } from '../../lib/driftwatch-stack.ts';
import { type RetrainingPipeline, retrainingRuntimeConfig } from '../../lib/retraining-pipeline.ts';
import { type AslDefinition, stateMachineDefinition } from '../helpers/asl.ts';
import { testApp, testConfig } from '../helpers/cdk.ts';
import { FakeAwsWorld } from '../helpers/fake-sagemaker.ts';
import { retrainingRawConfig } from '../helpers/retraining-config.ts';

// aws-local-stepfunctions sets $$.Execution.StartTime to the real start, so the data is dated relative to now.
const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);
const thisMonth = () => new Date().toISOString().slice(0, 7);
/** The run id, challenger model and variant of the run that trained first in `world`. */
function challengerOf(world: FakeAwsWorld) {
  const model = world.trainingJobs[0]!.name;
  const runId = model.slice('churn-'.length);
  return { model, runId, variant: `v${runId}` };
}
const CHAMPION = { configName: 'churn-prod-config-1', variant: 'AllTraffic', model: 'churn-v1' };

let definition: AslDefinition;
let pipeline: RetrainingPipeline;
let functionIds: Record<string, string>;
/** The churn model as the shared functions read it from its parameter. */
let runtimeConfig: RetrainingRuntimeConfig;

beforeAll(() => {
  const config = testConfig(retrainingRawConfig());
  const app = testApp();
  const stack = new DriftwatchStack(app, 'Driftwatch', { config });
  const template = Template.fromStack(stack);
  definition = stateMachineDefinition(template, 'RetrainingStateMachine');
  pipeline = stack.retraining;
  runtimeConfig = retrainingRuntimeConfig(config.models[0]!, config.stackName);
  functionIds = Object.fromEntries(
    Object.entries(pipeline.functions).map(([name, fn]) => [
      name,
      stack.getLogicalId(fn.node.defaultChild as CfnFunction),
    ]),
  );
});

/** The holdout row `i`: label alternates, region A then B. */
const holdoutLabel = (i: number) => i % 2;

function holdoutCsv(rows = 40): string {
  let csv = 'amount,plan,calls,label,region\n';
  for (let i = 0; i < rows; i++)
    csv += `${10 + i},${i % 3 === 0 ? 'pro' : 'basic'},${i % 7},${holdoutLabel(i)},${i < rows / 2 ? 'A' : 'B'}\n`;
  return csv;
}

/** Champion: right on 3 rows of 4; the challenger: right on every row, unless `worse`. */
function scorer(worse = false) {
  return (model: string, i: number) => {
    const label = holdoutLabel(i);
    const right = label === 1 ? 0.8 : 0.2;
    const wrong = 1 - right;
    if (model === CHAMPION.model) return i % 4 === 0 ? wrong : right;
    if (worse) return i % 2 === 0 ? wrong : right;
    return label === 1 ? 0.9 : 0.1;
  };
}

function newWorld(options: { shadow?: boolean; worse?: boolean } = {}): FakeAwsWorld {
  const config = structuredClone(runtimeConfig);
  config.canary.shadow = options.shadow ?? false;
  const environment: RetrainingEnvironment = {
    config,
    dataBucket: 'landing',
    workBucket: 'results',
    stateTable: 'model-state',
  };
  const world = new FakeAwsWorld({ environment, endpoint: CHAMPION, scorer: scorer(options.worse) });
  world.s3.put('landing', 'churn/golden/holdout.csv', holdoutCsv(), daysAgo(60));
  world.s3.put('landing', 'churn/golden/2025-01-10.csv', holdoutCsv(100), daysAgo(5));
  world.s3.put('landing', 'churn/golden/2024-06-01.csv', holdoutCsv(10), daysAgo(200));
  return world;
}

interface Run {
  visited: string[];
  output: unknown;
  error: Error | null;
}

async function execute(
  world: FakeAwsWorld,
  input: RetrainingExecutionInput,
  name = 'run-1',
  region = 'us-east-1',
  account = '123456789012',
): Promise<Run> {
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  const waits = Object.fromEntries(
    Object.entries(definition.States)
      .filter(([, state]) => state.Type === 'Wait')
      .map(([state]) => [state, 0]),
  );
  const retries = Object.fromEntries(
    Object.entries(definition.States)
      .filter(([, state]) => state.Retry)
      .map(([state]) => [state, 0]),
  );
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: world.handlers(definition, functionIds),
      waitTimeOverrides: waits,
      retryIntervalOverrides: retries,
    },
    context: {
      Execution: {
        Id: `arn:aws:states:${region}:${account}:execution:Driftwatch-churn-retraining:${name}`,
        Name: name,
        Input: input as never,
      },
    },
  });
  const visited: string[] = [];
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type === 'StateEntered') visited.push(event.state.name);
      if (process.env['DEBUG_SFN'] && (event.type === 'StateExited' || event.type === 'StateFailed'))
        console.log(
          event.state.name,
          JSON.stringify(event.type === 'StateExited' ? event.state.output : event).slice(0, 1500),
        );
    }
  })();
  let output: unknown = null;
  let error: Error | null = null;
  try {
    output = await execution.result;
  } catch (caught) {
    error = caught as Error;
  }
  await collect;
  if (process.env['DEBUG_SFN'] && error) console.log(visited.join(' > '), error);
  return { visited, output, error };
}

const driftTrigger: RetrainingExecutionInput = {
  model: 'churn',
  trigger: {
    type: 'drift',
    detail: { model: 'churn', key: 'churn/incoming/day.csv', driftShare: 0.6, datasetDrift: true },
  },
};

const count = (visited: string[], state: string) => visited.filter((name) => name === state).length;

describe('the retraining state machine', () => {
  it('has a Retry, a Catch and a timeout on every Task', () => {
    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Task') continue;
      expect(state.Retry?.length, name).toBeGreaterThan(0);
      expect(state.Catch?.length, name).toBeGreaterThan(0);
      expect(state.TimeoutSeconds, name).toBeGreaterThan(0);
    }
  });

  it('promotes a better challenger through every canary step', async () => {
    const world = newWorld();
    const { visited, output, error } = await execute(world, driftTrigger);
    expect(error).toBeNull();
    expect(output).toMatchObject({ status: 'promoted' });
    expect(visited.slice(0, 9)).toEqual([
      'Start',
      'Plan',
      'TriggerConfigured?',
      'AcquireLock',
      'CostGate',
      'WithinBudget?',
      'ReadRegion',
      'ImagesInRegion?',
      'PrepareInputs',
    ]);
    for (const state of [
      'TrainChallenger',
      'CreateChallengerModel',
      'ScoreHoldoutWithChampion',
      'ScoreHoldoutWithChallenger',
      'EvaluateChallenger',
      'RegisterCandidate',
      'CreateCanaryEndpointConfig',
      'UpdateEndpointToCanary',
      'CreatePromotedEndpointConfig',
      'UpdateEndpointToChallenger',
      'ApproveCandidate',
      'RecordPromotion',
      'Notify',
      'ReleaseLock',
      'ChallengerPromoted',
    ]) {
      expect(visited, state).toContain(state);
    }
    expect(count(visited, 'ShiftTraffic')).toBe(3);
    expect(count(visited, 'JudgeCanary')).toBe(3);
    expect(visited).not.toContain('RestoreChampionWeights');
    const { model: CHALLENGER_MODEL, runId, variant: CHALLENGER_VARIANT } = challengerOf(world);
    expect(world.weightChanges).toEqual([
      { AllTraffic: 95, [CHALLENGER_VARIANT]: 5 },
      { AllTraffic: 75, [CHALLENGER_VARIANT]: 25 },
      { AllTraffic: 0, [CHALLENGER_VARIANT]: 100 },
    ]);
    expect(world.weights()).toEqual({ [CHALLENGER_VARIANT]: 100 });
    expect(world.endpoint.variants.map((v) => v.model)).toEqual([CHALLENGER_MODEL]);
    expect(world.packages).toHaveLength(1);
    expect(world.packages[0]).toMatchObject({ status: 'Approved' });
    expect(world.packages[0]!.metadata).toMatchObject({
      trigger: 'drift',
      trainingJob: CHALLENGER_MODEL,
      evaluation: 'accepted',
      dataFiles: '1',
    });
    expect(world.packages[0]!.metadata['dataEtags']).toMatch(/^2025-01-10\.csv=etag-\d+$/);
    expect(world.state.get('churn')).toMatchObject({
      spendMonth: thisMonth(),
      champion: {
        modelName: CHALLENGER_MODEL,
        variantName: CHALLENGER_VARIANT,
        packageArn: world.packages[0]!.arn,
      },
    });
    expect(world.state.get('churn')!.runningExecution).toBeUndefined();
    const [job] = world.trainingJobs;
    expect(job!.parameters).toMatchObject({
      TrainingJobName: CHALLENGER_MODEL,
      ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1 },
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
      HyperParameters: { max_depth: '5' },
      InputDataConfig: [
        {
          ChannelName: 'train',
          DataSource: { S3DataSource: { S3Uri: `s3://results/retraining/churn/${runId}/train/` } },
        },
      ],
    });
    expect(world.messages.at(-1)!.subject).toBe('driftwatch: new model of churn promoted');
  });

  it('rejects a challenger that does not beat the champion, and leaves the endpoint alone', async () => {
    const world = newWorld({ worse: true });
    const { visited, output, error } = await execute(world, driftTrigger);
    expect(error).toBeNull();
    expect(output).toMatchObject({ status: 'rejected' });
    expect(visited.slice(visited.indexOf('EvaluateChallenger'))).toEqual([
      'EvaluateChallenger',
      'RegisterCandidate',
      'ChallengerAccepted?',
      'RejectCandidate',
      'RecordRejection',
      'Notify',
      'ReleaseLock',
      'RouteOutcome',
      'ChallengerRejected',
    ]);
    expect(world.packages[0]).toMatchObject({ status: 'Rejected' });
    expect(world.packages[0]!.statusReason).toMatch(/rocAuc .* does not beat the champion/);
    expect(world.calls).not.toContain('SageMaker.UpdateEndpoint');
    expect(world.calls).not.toContain('SageMaker.CreateEndpointConfig');
    expect(world.endpoint.configName).toBe(CHAMPION.configName);
    expect(world.weights()).toEqual({ AllTraffic: 100 });
    expect(world.messages.at(-1)!.message).toMatch(/was rejected at evaluation/);
    expect(world.state.get('churn')!.runningExecution).toBeUndefined();
  });

  it('rolls a worse canary back: champion at 100%, challenger removed, package Rejected, on-call paged', async () => {
    const world = newWorld();
    world.traffic = (_variant, role) =>
      role === 'challenger'
        ? { invocations: 200, errors5xx: 20, meanLatencyMicros: 100 }
        : { invocations: 3800, errors5xx: 0, meanLatencyMicros: 100 };
    const { visited, output, error } = await execute(world, driftTrigger);
    expect(error).toBeNull();
    expect(output).toMatchObject({ status: 'rolled-back' });
    expect(count(visited, 'ShiftTraffic')).toBe(1);
    const { variant: CHALLENGER_VARIANT } = challengerOf(world);
    expect(visited.slice(visited.indexOf('JudgeCanary'))).toEqual(
      expect.arrayContaining([
        'CanaryVerdict',
        'RecordCanaryRollback',
        'RollbackNeeded?',
        'RestoreChampionWeights',
        'RestoreChampionEndpoint',
        'RejectAfterRollback',
        'Notify',
        'ReleaseLock',
        'CanaryRolledBack',
      ]),
    );
    expect(world.weightChanges).toEqual([
      { AllTraffic: 95, [CHALLENGER_VARIANT]: 5 },
      { AllTraffic: 1, [CHALLENGER_VARIANT]: 0 },
    ]);
    expect(world.endpoint.configName).toBe(CHAMPION.configName);
    expect(world.weights()).toEqual({ AllTraffic: 100 });
    expect(world.packages[0]).toMatchObject({ status: 'Rejected' });
    expect(world.messages.at(-1)).toMatchObject({ subject: 'driftwatch: canary of churn rolled back' });
    expect(world.messages.at(-1)!.message).toMatch(/5XX rate 10% is above the max 1%/);
    expect(world.state.get('churn')!.champion).toBeUndefined();
  });

  it('fails a run whose training job fails, releasing the lock and notifying', async () => {
    const world = newWorld();
    world.trainingFailure = 'CapacityError: Unable to provision requested ML compute capacity.';
    const { visited, error } = await execute(world, driftTrigger);
    expect(error).toBeInstanceOf(ExecutionError);
    expect(visited.slice(visited.indexOf('TrainChallenger'))).toEqual([
      'TrainChallenger',
      'ImagesInAccount?',
      'RecordFailure',
      'Notify',
      'ReleaseLock',
      'RouteOutcome',
      'RetrainingFailed',
    ]);
    expect(world.state.get('churn')!.runningExecution).toBeUndefined();
    expect(world.messages.at(-1)!.message).toMatch(/CapacityError/);
    expect(world.calls).not.toContain('SageMaker.UpdateEndpoint');
    expect(world.weights()).toEqual({ AllTraffic: 100 });
  });

  it("names the repository-policy fix when a job fails and the model's images are in another account", async () => {
    const world = newWorld();
    world.trainingFailure = 'ClientError: Cannot pull image: access denied';
    const { visited, error } = await execute(world, driftTrigger, 'run-1', 'us-east-1', '210987654321');
    expect(error).toBeInstanceOf(ExecutionError);
    expect(visited).toContain('RecordForeignImageFailure');
    const { message } = world.messages.at(-1)!;
    expect(message).toMatch(/Cannot pull image/);
    expect(message).toMatch(
      /images are in ECR of account 123456789012, not this stack's \(210987654321\).*ecr:BatchGetImage.*SageMaker role \(arn:aws:iam::\d+:role\//,
    );
    expect(world.state.get('churn')!.runningExecution).toBeUndefined();
  });

  it("names the grant to add when the champion's copy cannot read the serving model's artefact", async () => {
    const world = newWorld();
    world.transformFailure = (model) =>
      model.endsWith('-champion')
        ? 'ClientError: Failed to download model data for container "container_1"'
        : undefined;
    const { visited, error } = await execute(world, driftTrigger);
    expect(error).toBeInstanceOf(ExecutionError);
    expect(visited).toContain('RecordChampionScoringFailure');
    const { message } = world.messages.at(-1)!;
    expect(message).toMatch(/Failed to download model data/);
    expect(message).toMatch(
      new RegExp(
        `SageMaker role \\(arn:aws:iam::\\d+:role/[^)]+\\) and reads the serving model's artefact s3://models/${CHAMPION.model}/model.tar.gz.*s3:GetObject`,
      ),
    );
    expect(world.state.get('churn')!.runningExecution).toBeUndefined();
  });

  it('scores the champion with a copy of the serving model created under its own SageMaker role', async () => {
    const world = newWorld();
    await execute(world, driftTrigger);
    const { runId } = challengerOf(world);
    const champion = world.transformJobs.find((job) => job.name.endsWith('-champion'))!;
    // Not the serving model (it runs under its own role, made outside the stack, with no grant on the run).
    expect(champion.model).not.toBe(CHAMPION.model);
    expect(champion.model).toBe(`churn-${runId}-champion`);
    const copy = world.models.get(champion.model)!;
    const challenger = world.models.get(challengerOf(world).model)!;
    expect(copy).toEqual({
      image: world.championImage,
      modelDataUrl: `s3://models/${CHAMPION.model}/model.tar.gz`,
      executionRoleArn: challenger.executionRoleArn,
    });
    expect(copy.executionRoleArn).not.toBe('arn:aws:iam::123456789012:role/serving');
  });

  it('stops before scoring when the serving model runs an image not in its config, naming the setting', async () => {
    const world = newWorld();
    world.championImage = '999999999999.dkr.ecr.eu-west-1.amazonaws.com/other:1';
    const { visited, error } = await execute(world, driftTrigger);
    expect(error).toBeInstanceOf(ExecutionError);
    expect(visited).toContain('RecordForeignChampionImage');
    expect(visited).not.toContain('ScoreHoldoutWithChampion');
    expect(world.messages.at(-1)!.message).toMatch(/other:1.*set retraining\.championImage/);
    expect(world.state.get('churn')!.runningExecution).toBeUndefined();
  });

  it('stops before training when the stack runs in another region than its ECR images, naming the fix', async () => {
    const world = newWorld();
    const { visited, error } = await execute(world, driftTrigger, 'run-1', 'eu-west-1');
    expect(error).toBeInstanceOf(ExecutionError);
    expect(visited).toContain('RecordImageRegion');
    expect(visited).not.toContain('PrepareInputs');
    expect(world.messages.at(-1)!.message).toMatch(/runs in eu-west-1.*images are in us-east-1: copy them/);
    expect(world.state.get('churn')!.runningExecution).toBeUndefined();
  });

  it('waits and retries an update refused with "Cannot update in-progress endpoint"', async () => {
    const world = newWorld();
    world.refuseUpdates = 1;
    const { visited, output, error } = await execute(world, driftTrigger);
    expect(error).toBeNull();
    expect(output).toMatchObject({ status: 'promoted' });
    expect(count(visited, 'UpdateEndpointToCanary')).toBe(2);
    expect(visited).toEqual(
      expect.arrayContaining(['CanaryRefused', 'CanaryRetryChange?', 'CanaryBackoff', 'CanaryWait']),
    );
    // After the refusal the endpoint was Updating: it was described until InService before the second try.
    const retried = visited.lastIndexOf('UpdateEndpointToCanary');
    expect(visited.slice(retried - 2, retried)).toEqual(['CanaryDescribe', 'CanaryReady?']);
    expect(world.weights()).toEqual({ [challengerOf(world).variant]: 100 });
  });

  it('skips a second trigger while a run is in progress', async () => {
    const world = newWorld();
    let finishTraining = () => {};
    world.trainingGate = new Promise((resolve) => {
      finishTraining = resolve;
    });
    const first = execute(world, driftTrigger, 'run-1');
    // The second run starts while the first is training.
    while (world.trainingJobs.length === 0 && !world.calls.includes('SageMaker.CreateTrainingJob')) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const second = await execute(
      world,
      { model: 'churn', trigger: { type: 'performance', detail: { model: 'churn' } } },
      'run-2',
    );
    finishTraining();
    const done = await first;
    expect(done.output).toMatchObject({ status: 'promoted' });
    expect(second.error).toBeNull();
    expect(second.output).toEqual({
      status: 'skipped',
      reason: expect.stringMatching(/another retraining of churn is in progress: .*:run-1$/),
    });
    expect(second.visited).toEqual([
      'Start',
      'Plan',
      'TriggerConfigured?',
      'AcquireLock',
      'ReadModelState',
      'WhySkipped?',
      'SkippedRunInProgress',
      'RetrainingSkipped',
    ]);
    expect(world.trainingJobs).toHaveLength(1);
  });

  it('skips a run within the cooldown unless forced', async () => {
    const world = newWorld();
    world.state.set('churn', {
      model: 'churn',
      lastRunAt: new Date(Date.now() - 2 * 3_600_000).toISOString(),
    });
    const skipped = await execute(world, driftTrigger);
    expect(skipped.output).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/within the cooldown of 24 h/),
    });
    expect(skipped.visited).toContain('SkippedCoolingDown');
    const forced = await execute(
      world,
      { model: 'churn', trigger: { type: 'manual', force: true } },
      'run-2',
    );
    expect(forced.output).toMatchObject({ status: 'promoted' });
  });

  it('refuses a run the budget cannot pay for, with a notification', async () => {
    const world = newWorld();
    world.state.set('churn', { model: 'churn', spendMonth: thisMonth(), spendUsd: 49.9 });
    const { visited, output, error } = await execute(world, driftTrigger);
    expect(error).toBeNull();
    expect(output).toMatchObject({ status: 'refused' });
    expect(visited).toEqual([
      'Start',
      'Plan',
      'TriggerConfigured?',
      'AcquireLock',
      'CostGate',
      'WithinBudget?',
      'RecordBudgetRefusal',
      'Notify',
      'ReleaseLock',
      'RouteOutcome',
      'RetrainingSkipped',
    ]);
    expect(world.messages[0]!.message).toMatch(
      new RegExp(`would exceed the ${thisMonth()} budget of \\$50.00: \\$49.90 already spent`),
    );
    expect(world.trainingJobs).toHaveLength(0);
    expect(world.state.get('churn')).toMatchObject({ spendUsd: 49.9 });
    expect(world.state.get('churn')!.runningExecution).toBeUndefined();
  });

  it('in shadow mode mirrors traffic to the challenger, then replaces the production variant', async () => {
    const world = newWorld({ shadow: true });
    const { visited, output, error } = await execute(world, driftTrigger);
    expect(error).toBeNull();
    expect(output).toMatchObject({ status: 'promoted' });
    expect(visited).toContain('CreateShadowEndpointConfig');
    expect(visited).not.toContain('ShiftTraffic');
    expect(count(visited, 'JudgeCanary')).toBe(1);
    const { model, runId, variant } = challengerOf(world);
    expect(world.configs.get(`churn-prod-${runId}-canary`)!.ShadowProductionVariants?.[0]?.ModelName).toBe(
      model,
    );
    expect(world.weights()).toEqual({ [variant]: 100 });
    expect(world.packages[0]).toMatchObject({ status: 'Approved' });
  });
});
