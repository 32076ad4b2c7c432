/**
 * The demo's story on the churn data, in a {@link DemoWorld}: a champion is trained and deployed, a clean
 * month passes, a shifted month drifts and degrades the champion, the retraining state machine trains a
 * challenger and rolls it out as a canary while a traffic generator calls the endpoint and labelled
 * feedback arrives. `promotion`: the better challenger is promoted. `rollback`: the challenger's variant
 * fails a share of its requests (injected faults), so the canary rolls back.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ListModelPackagesCommand } from '@aws-sdk/client-sagemaker';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { profileToJson } from '../../lambdas/core/drift/profile.ts';
import { profileTable } from '../../lambdas/core/drift/run.ts';
import { fileInput } from '../../lambdas/core/readers/input.ts';
import type { HistoryItem } from '../../lambdas/shared/contract.ts';
import type { ModelStateItem } from '../../lambdas/shared/retraining-contract.ts';
import { loadConfig } from '../../lib/config/load.ts';
import { driftRuntimeConfig } from '../../lib/config/runtime.ts';
import type { ExecutionRecord } from '../aws/step-functions.ts';
import type { TimelineEvent } from '../aws/timeline.ts';
import { deployChampion } from './champion.ts';
import { type DemoData, demoData, type Table, toCsv } from './data.ts';
import { type DemoWorld, driveCanary, startDemoWorld } from './world.ts';

export type ScenarioKind = 'promotion' | 'rollback';

/**
 * The model of each story: the demo deploys two models (demo.config.json) with one engine stack and one
 * retraining state machine; the promotion is told on `churn`, the rollback on `churn-eu`.
 */
export const STORY_MODEL: Record<ScenarioKind, string> = { promotion: 'churn', rollback: 'churn-eu' };
/** Requests the traffic generator sends each minute while a challenger serves. */
const REQUESTS_PER_MINUTE = 250;
/** Share of the challenger's requests that fail in the rollback scenario. */
const ROLLBACK_FAULT_RATE = 0.3;
/** Longest the demo drives a canary, local minutes. */
const MAX_CANARY_MINUTES = 120;

export interface DemoOptions {
  root: string;
  out: string;
  log?: (line: string) => void;
}

export interface PackageView {
  version: number;
  status: string;
  arn: string;
}

/** What a scenario did, for the summary and the tests. */
export interface ScenarioResult {
  kind: ScenarioKind;
  /** The model the story is told on. */
  model: string;
  /** What was deployed: the stacks, and the models whose parameters the engine's functions read. */
  deployment: { stacks: string[]; models: string[]; stateMachineArn: string };
  realSeconds: number;
  events: { time: string; source: string; detailType: string }[];
  history: {
    kind: string;
    status: string;
    key: string;
    datasetDrift?: boolean;
    driftedFeatures?: string[];
    breaches?: number;
    checkedAt: string;
  }[];
  alarms: { time: string; alarm: string; from: string; to: string }[];
  snsMessages: { time: string; topic: string; subject: string | null }[];
  executions: {
    name: string;
    model: string;
    status: string;
    outcome: string | null;
    reason: string | null;
    /** For a run that did not succeed: why (see {@link failureTrail}). */
    failure?: string[];
  }[];
  packages: PackageView[];
  /** Variant name -> weight of the endpoint at the end. */
  finalWeights: Record<string, number>;
  finalModels: Record<string, string>;
  champion: ModelStateItem['champion'] | null;
  challengerVariant: string | null;
  reports: string[];
  timeline: string[];
}

const minute = 60_000;

/** A readable line of a timeline event, or null for the noise (metrics, queue traffic). */
export function describeEvent(event: TimelineEvent): string | null {
  switch (event.type) {
    case 'object-created':
      return `s3 object created s3://${event.bucket}/${event.key} (${event.size} bytes)`;
    case 'event-put':
      if (event.source === 'aws.s3') return null;
      return `event "${event.detailType}" from ${event.source}${event.rules.length ? ` -> rules ${event.rules.join(', ')}` : ''}`;
    case 'function-finished':
      return `lambda ${event.function} ${event.status}${event.error ? `: ${event.error.errorType}: ${event.error.errorMessage.slice(0, 160)}` : ''}`;
    case 'alarm-state':
      return `alarm ${event.alarm}: ${event.from} -> ${event.to}`;
    case 'sns-message':
      return `sns ${event.topic}: ${event.subject ?? event.message.slice(0, 120)}`;
    case 'execution-started':
      return `state machine ${event.stateMachine} started`;
    case 'execution-finished':
      return `state machine ${event.stateMachine} ${event.status}${event.output ? `: ${outcomeOf(event.output)}` : ''}${event.error ? ` (${event.error})` : ''}`;
    case 'schedule-fired':
      return `schedule ${event.schedule} fired${event.error ? `: ${event.error}` : ''}`;
    default:
      return null;
  }
}

/**
 * Why an execution did not succeed, for a failure to explain itself: every state that failed, was retried
 * or had its error caught, in order (`state: Error: cause`, the cause cut at 400 characters), then how the
 * execution ended. Empty for an execution that succeeded.
 */
export function failureTrail(execution: ExecutionRecord): string[] {
  if (execution.status === 'SUCCEEDED' || execution.status === 'RUNNING') return [];
  const cut = (cause: unknown) => {
    const text = typeof cause === 'string' ? cause : JSON.stringify(cause ?? null);
    return text.length > 400 ? `${text.slice(0, 400)}...` : text;
  };
  const trail: string[] = [];
  for (const event of execution.events) {
    if (event.type === 'StateFailed') trail.push(`${event.state.name}: ${event.Error}: ${cut(event.Cause)}`);
    else if (event.type === 'StateRetried')
      trail.push(`${event.state.name}: retried (attempt ${event.retry.attempt})`);
    else if (event.type === 'StateCaught') trail.push(`${event.state.name}: error caught`);
  }
  trail.push(`execution ${execution.status}: ${execution.error ?? ''}: ${cut(execution.cause)}`);
  return trail;
}

function outcomeOf(output: string): string {
  try {
    const parsed = JSON.parse(output) as { status?: string; reason?: string };
    return [parsed.status, parsed.reason].filter(Boolean).join(': ');
  } catch {
    return output.slice(0, 160);
  }
}

/** The promotion and rollback scenarios' config, in the project. */
export const SCENARIO_CONFIG = 'local/demo/demo.config.json';

/** Runs one scenario end to end and returns what happened; the world is stopped at the end. */
export async function runScenario(kind: ScenarioKind, options: DemoOptions): Promise<ScenarioResult> {
  const log = options.log ?? (() => {});
  const realStart = Date.now();
  const configPath = join(options.root, SCENARIO_CONFIG);
  const modelConfig = loadConfig(configPath).models.find((m) => m.name === STORY_MODEL[kind])!;
  const model = driftRuntimeConfig(modelConfig);
  const CHAMPION = {
    model: `${model.name}-v1`,
    config: `${modelConfig.endpointName}-config-1`,
    variant: 'AllTraffic',
  };
  const data: DemoData = demoData(join(options.root, 'test/fixtures/data/mlc_churn.csv'));
  const golden = modelConfig.prefixes.golden;
  const goldenDataset = modelConfig.performance!.goldenDataset!;
  const feedbackPrefix = modelConfig.canary!.feedbackPrefix;
  const endpointName = modelConfig.endpointName!;
  const outDir = join(options.out, kind);
  await mkdir(outDir, { recursive: true });

  // The local clock starts at the wall-clock time: Lambdas read the wall clock, S3 stamps objects with it.
  const world: DemoWorld = await startDemoWorld({
    configPath,
    projectDir: options.root,
    startTime: Math.floor(Date.now() / minute) * minute,
  });
  const { aws, emulator, sagemaker } = world;
  const step = (line: string) => log(`${aws.clock.date().toISOString().slice(0, 16)}Z  [demo] ${line}`);
  const timelineLines: string[] = [];
  const stopListening = aws.timeline.on((event) => {
    const line = describeEvent(event);
    if (line === null) return;
    const text = `${event.time.slice(0, 16)}Z  ${line}`;
    timelineLines.push(text);
    // The feedback files of every minute of the canary stay in timeline.txt, not on the terminal.
    if (event.type === 'object-created' && event.key.includes('/feedback/')) return;
    log(text);
  });
  try {
    step(`[${kind}] local AWS up (${aws.stacks.length} stack), SageMaker emulator at ${emulator.url}`);
    const landing = String(aws.outputs['LandingBucketName']);
    const results = String(aws.outputs['ResultsBucketName']);
    const historyTable = String(aws.outputs['HistoryTableName']);
    const stateTable = String(aws.outputs['ModelStateTableName']);
    const documents = DynamoDBDocumentClient.from(aws.dynamoDbClient());
    const put = (bucket: string, key: string, table: Table | string) =>
      aws.putObject(bucket, key, typeof table === 'string' ? table : toCsv(table));

    // --- Baseline and champion ------------------------------------------------------------------------
    const trainingPath = join(outDir, 'training.csv');
    await writeFile(trainingPath, toCsv(data.training));
    const profile = await profileTable(fileInput(trainingPath), {
      numeric: model.numeric,
      categorical: model.categorical,
      exclude: model.exclude,
      segment: model.segment,
    });
    await put(landing, model.baselineProfileKey, profileToJson(profile));
    step(`baseline profile of the training window (${profile.rows} rows) at ${model.baselineProfileKey}`);
    await put(landing, `${golden}training-window.csv`, data.training);
    await put(landing, `${golden}${goldenDataset}`, data.golden);
    step(`golden dataset: ${data.golden.rows.length} labelled customers at ${golden}${goldenDataset}`);

    const championPackage = await deployChampion({
      aws,
      sagemaker,
      model: model.name,
      endpointName,
      hyperparameters: modelConfig.retraining!.hyperparameters as Record<string, string>,
      trainingCsv: toCsv(data.training),
      names: CHAMPION,
      packageDescription: 'the first champion (logistic regression on the training window)',
    });
    step(`champion trained (logistic regression): ${championPackage.artifacts}`);
    const champion: ModelStateItem = {
      model: model.name,
      champion: {
        modelName: CHAMPION.model,
        packageArn: championPackage.packageArn,
        variantName: CHAMPION.variant,
        endpointConfigName: CHAMPION.config,
        since: aws.clock.date().toISOString(),
      },
    };
    await documents.send(new PutCommand({ TableName: stateTable, Item: champion }));
    step(
      `endpoint ${endpointName} InService with ${CHAMPION.model} (variant ${CHAMPION.variant}); package ${championPackage.packageArn} Approved`,
    );

    const historyItems = async () =>
      ((
        await documents.send(
          new QueryCommand({
            TableName: historyTable,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `MODEL#${model.name}` },
          }),
        )
      ).Items ?? []) as HistoryItem[];
    const reportHistory = async (key: string) => {
      const item = (await historyItems()).find((candidate) => candidate.key === key);
      if (!item) return step(`no history item for ${key}`);
      if (item.kind === 'drift') {
        step(
          `drift check of ${key}: ${item.datasetDrift ? 'DATASET DRIFT' : 'no dataset drift'}` +
            ` (drift share ${item.driftShare?.toFixed(2)}; drifted: ${item.driftedFeatures?.join(', ') || 'none'})`,
        );
      }
    };
    const reportPerformance = async () => {
      const checks = (await historyItems())
        .filter((item) => item.kind === 'performance')
        .sort((a, b) => a.checkedAt.localeCompare(b.checkedAt));
      const last = checks.at(-1);
      if (!last) return step('no performance check recorded');
      const breaches = last.breaches ?? [];
      step(
        `performance check on ${last.key}: ${last.status}, ${last.evaluatedRows} rows, ` +
          (breaches.length === 0
            ? 'every limit holds'
            : `BREACHED: ${breaches.map((breach) => JSON.stringify(breach)).join('; ')}`),
      );
    };

    // --- A clean month: no drift, the performance check holds ------------------------------------------
    // The model's performance schedule (the engine's Data Capture sweep is a schedule too).
    const performanceSchedule = () =>
      aws.clock
        .pending()
        .find((timer) => timer.label.startsWith('schedule') && !timer.label.includes('CaptureSweep'));
    await put(landing, `${model.incomingPrefix}month-1.csv`, data.cleanMonth);
    const nextCheck = performanceSchedule();
    if (!nextCheck) throw new Error('no performance schedule is pending');
    step(
      `advancing the clock to the scheduled performance check (${new Date(nextCheck.time).toISOString()})`,
    );
    await reportHistory(`${model.incomingPrefix}month-1.csv`);
    await aws.advance(nextCheck.time - aws.clock.now() + 2 * minute);
    await reportPerformance();

    // --- The shifted month, a minute before the next check ----------------------------------------------
    const secondCheck = performanceSchedule()!;
    await aws.advance(secondCheck.time - aws.clock.now() - minute);
    await put(landing, `${golden}${goldenDataset}`, data.shiftedGolden);
    await put(landing, `${golden}month-2-labelled.csv`, data.shiftedTraining);
    step('labelled customers of the shifted month arrive in the golden prefix');
    await put(landing, `${model.incomingPrefix}month-2.csv`, data.shiftedMonth);
    await reportHistory(`${model.incomingPrefix}month-2.csv`);
    step('advancing to the performance check');
    await aws.advance(2 * minute);
    await reportPerformance();

    // --- The canary: traffic and feedback every minute until the run ends ------------------------------
    // One state machine retrains every model; this run is the story's model's.
    const stateMachine = String(aws.outputs['RetrainingStateMachineArn'] ?? '');
    const { challenger: challengerVariant } = await driveCanary(world, {
      endpointName,
      feedbackPrefix,
      oldVariants: [CHAMPION.variant],
      traffic: data.shiftedTraffic,
      customersPerMinute: REQUESTS_PER_MINUTE,
      maxMinutes: MAX_CANARY_MINUTES,
      runName: 'the retraining run',
      onCanaryStart: (challenger) => {
        if (kind !== 'rollback') return;
        emulator.injectFaults({
          endpoint: endpointName,
          variant: challenger,
          errorRate: ROLLBACK_FAULT_RATE,
        });
        step(`fault injection: ${ROLLBACK_FAULT_RATE * 100}% of ${challenger}'s requests fail`);
      },
      onTraffic: (minutes, { weights, byVariant }) => {
        if (minutes % 5 !== 0) return;
        const shares = Object.entries(weights).map(([variant, weight]) => `${variant} ${weight}`);
        step(
          `traffic: ${REQUESTS_PER_MINUTE} requests (weights ${shares.join(', ')}): ${JSON.stringify(byVariant)}`,
        );
      },
    });
    emulator.clearFaults();
    await aws.advance(2 * minute);

    // --- What it all came to ------------------------------------------------------------------------------
    const history = await historyItems();
    const packages = await sagemaker.send(
      new ListModelPackagesCommand({
        ModelPackageGroupName: championPackage.groupName,
        SortBy: 'CreationTime',
        SortOrder: 'Ascending',
      }),
    );
    const endpoint = emulator.state.endpoints.get(endpointName)!;
    const state = await documents.send(
      new QueryCommand({
        TableName: stateTable,
        KeyConditionExpression: '#model = :model',
        ExpressionAttributeNames: { '#model': 'model' },
        ExpressionAttributeValues: { ':model': model.name },
      }),
    );
    const reports: string[] = [];
    const listed = await aws
      .s3Client()
      .send(new ListObjectsV2Command({ Bucket: results, Prefix: `reports/${model.name}/` }));
    for (const object of listed.Contents ?? []) {
      if (!object.Key?.endsWith('.html')) continue;
      const body = await (
        await aws.s3Client().send(new GetObjectCommand({ Bucket: results, Key: object.Key }))
      ).Body!.transformToString();
      const name = object.Key.slice(object.Key.lastIndexOf('/') + 1);
      await writeFile(join(outDir, name), body);
      reports.push(join(kind, name));
    }
    const executions = aws.executions().filter((execution) => execution.stateMachineArn === stateMachine);
    const parameterPath = String(aws.outputs['ModelsParameterPath']);
    const result: ScenarioResult = {
      kind,
      model: model.name,
      deployment: {
        stacks: aws.stacks.map((stack) => stack.stackName),
        models: aws.stacks
          .flatMap((stack) => stack.parameters)
          .filter((parameter) => parameter.name.startsWith(parameterPath))
          .map((parameter) => parameter.name.slice(parameterPath.length))
          .sort(),
        stateMachineArn: stateMachine,
      },
      realSeconds: (Date.now() - realStart) / 1000,
      events: aws.timeline
        .ofType('event-put')
        .filter((event) => event.source !== 'aws.s3')
        .map((event) => ({ time: event.time, source: event.source, detailType: event.detailType })),
      history: history
        .map((item) => ({
          kind: item.kind,
          status: item.status,
          key: item.key,
          checkedAt: item.checkedAt,
          ...(item.datasetDrift === undefined ? {} : { datasetDrift: item.datasetDrift }),
          ...(item.driftedFeatures === undefined ? {} : { driftedFeatures: item.driftedFeatures }),
          ...(item.breaches === undefined ? {} : { breaches: item.breaches.length }),
        }))
        .sort((a, b) => a.checkedAt.localeCompare(b.checkedAt)),
      alarms: aws.timeline
        .ofType('alarm-state')
        .map((event) => ({ time: event.time, alarm: event.alarm, from: event.from, to: event.to })),
      snsMessages: aws.timeline
        .ofType('sns-message')
        .map((event) => ({ time: event.time, topic: event.topic, subject: event.subject ?? null })),
      executions: executions.map((execution) => {
        const output = execution.output ? (JSON.parse(execution.output) as Record<string, unknown>) : {};
        const outcome = (output['outcome'] ?? output) as { status?: string; reason?: string };
        const failure = failureTrail(execution);
        return {
          name: execution.name,
          model: String((JSON.parse(execution.input) as { model?: unknown }).model),
          status: execution.status,
          outcome: outcome.status ?? null,
          reason: outcome.reason ?? null,
          ...(failure.length > 0 && { failure }),
        };
      }),
      packages: (packages.ModelPackageSummaryList ?? []).map((summary) => ({
        version: summary.ModelPackageVersion ?? 0,
        status: summary.ModelApprovalStatus ?? '',
        arn: summary.ModelPackageArn ?? '',
      })),
      finalWeights: Object.fromEntries(
        endpoint.variants.map((variant) => [variant.name, variant.currentWeight]),
      ),
      finalModels: Object.fromEntries(endpoint.variants.map((variant) => [variant.name, variant.modelName])),
      champion: ((state.Items ?? [])[0] as ModelStateItem | undefined)?.champion ?? null,
      challengerVariant,
      reports,
      timeline: timelineLines,
    };
    step(
      `[${kind}] done: endpoint weights ${JSON.stringify(result.finalWeights)}, packages ${result.packages.map((p) => `v${p.version} ${p.status}`).join(', ')}`,
    );
    return result;
  } finally {
    stopListening();
    await world.close();
  }
}
