/**
 * The demo's live-traffic story: the churn model's endpoint has Data Capture on, with two variants
 * (`AllTraffic` and a `Canary`). Two hours of traffic are replayed through the SageMaker emulator, which
 * writes real capture files into the landing bucket; the engine profiles each file as it lands and, when
 * its sweep finds the hourly windows over, checks each variant's window by merging its files. In the first
 * hour both variants see customers like the training window's; in the second the canary gets the shifted
 * customers (more international callers, longer day minutes), so only the canary's window drifts, its
 * inputs and its predictions alike, and pages. Then the labels of the shifted hour arrive late
 * (`capture-labels.ts`): the engine joins them to the hour's captured predictions, and the realized accuracy
 * of each variant confirms the canary's drop, and the canary's realized `Performance Degraded` starts a
 * retraining: a challenger trained on the labelled customers (the training window and the late-labelled hour),
 * evaluated against the registered champion and, when better, rolled out as a canary under labelled traffic.
 *
 * Self-contained: its own world and a copy of the demo config with `capture`, and retraining on `performance`
 * only: a drifted window or an estimate (no labels yet) does not start a run, the measured breach does.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeEndpointCommand,
  ListModelPackagesCommand,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { profileToJson } from '../../lambdas/core/drift/profile.ts';
import { profileTable } from '../../lambdas/core/drift/run.ts';
import { fileInput } from '../../lambdas/core/readers/input.ts';
import type { CaptureWindowLabel, HistoryItem } from '../../lambdas/shared/contract.ts';
import type { ModelStateItem } from '../../lambdas/shared/retraining-contract.ts';
import { loadConfig } from '../../lib/config/load.ts';
import { driftRuntimeConfig } from '../../lib/config/runtime.ts';
import { ManualClock } from '../sagemaker/clock.ts';
import { unpackModel } from '../trainers/artifact.ts';
import { scoreRows } from '../trainers/model.ts';
import { deliverLateLabels, type RealizedView } from './capture-labels.ts';
import { CHAMPION_IMAGE, DEMO_ROLE as ROLE, registerChampion, trainChampion, waitFor } from './champion.ts';
import { column, demoData, instances, type Table, toCsv } from './data.ts';
import { describeEvent, failureTrail } from './scenario.ts';
import { driveCanary, startDemoWorld } from './world.ts';

const minute = 60_000;
const hour = 60 * minute;
/** Requests per variant per hour, one every ten minutes of the endpoint's clock: six capture files. */
const REQUESTS_PER_HOUR = 6;
/**
 * The retraining's canary: half the traffic, then all, judged every minute on labelled customers. The
 * shifted customers it serves are few (300, sent again and again), on which the challenger is right 87%
 * of the time and the champion 83%. At 600 labelled customers a minute, 10 to a request, the sequential
 * test tells them apart in a median 5 minutes, 13 at the 99th percentile, and no canary of 2,000 simulated
 * (`decideCanaryStep` on those accuracies) reached the config's 30-minute deadline, where an inconclusive
 * canary is rolled back. As first written (10% of 120 a minute, 3-minute bakes) 81% of them did: the
 * story's outcome then hung on the emulator's seeded routing.
 */
const CANARY_STEPS = [50, 100];
const CANARY_BAKE_MINUTES = 1;
const CANARY_CUSTOMERS_PER_MINUTE = 600;
/** Customers a request: the canary's traffic in 60 requests a minute, each routed by the weights. */
const CANARY_CUSTOMERS_PER_REQUEST = 10;
/** The most local minutes the story drives the canary (the config's 30-minute deadline comes first). */
const MAX_CANARY_MINUTES = 90;

/** One checked window, as the story reports it. */
export interface WindowView {
  variant: string;
  start: string;
  files: number;
  rows: number;
  datasetDrift: boolean;
  driftedFeatures: string[];
}

/** One window's estimate, as the story reports it. */
export interface EstimateView {
  variant: string;
  start: string;
  /** Estimated accuracy, null when withheld. */
  accuracy: number | null;
  /** Limits the estimate breached (`metric` of each). */
  breaches: string[];
  withheld: string | null;
}

export interface CaptureStoryResult {
  realSeconds: number;
  /** Capture files the endpoint wrote. */
  captureFiles: number;
  windows: WindowView[];
  /** Each window's estimated performance, before any label (CBPE). */
  estimates: EstimateView[];
  /** The realized performance of the shifted hour, per variant, once its labels came. */
  realized: RealizedView[];
  /** driftwatch's events (`Drift Detected`, `Performance Estimated Degraded`, `Performance Degraded`). */
  events: { time: string; detailType: string }[];
  /**
   * The retraining state machine's runs, in start order: the trigger's type (and detail type), when it
   * started (local clock), its status and outcome (`skipped` for a trigger the config does not retrain on).
   */
  retraining: {
    trigger: string;
    startedAt: string;
    status: string;
    outcome: string | null;
    reason: string | null;
    /** For a run that did not succeed: why (see {@link failureTrail}). */
    failure?: string[];
  }[];
  /** The model package group after the story: the registered champion, and the challenger if registered. */
  packages: { version: number; status: string }[];
  /** The endpoint's variants and weights at the end. */
  finalWeights: Record<string, number>;
  alarms: { alarm: string; to: string }[];
  timeline: string[];
}

/**
 * Writes the story's config (the demo config with the endpoint's capture, retraining on a measured breach
 * only) as `driftwatch.config.json` in the story's output directory, and returns its path.
 */
export async function writeCaptureStoryConfig(root: string, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const raw = JSON.parse(await readFile(join(root, 'local/demo/demo.config.json'), 'utf8'));
  // Only the story's model: the demo config's second model has no golden data here (its scheduled check
  // would fail and page on the side).
  const churn = raw.models[0];
  raw.models = [churn];
  churn.capture = {
    prefix: 'churn/capture/',
    windowMinutes: 60,
    graceMinutes: 10,
    groundTruth: { prefix: 'churn/ground-truth/', settleMinutes: 0 },
  };
  churn.retraining.triggers = ['performance'];
  // A two-step canary, judged every minute: the story's run ends in seconds of real time.
  churn.canary = { ...churn.canary, steps: CANARY_STEPS, bakeMinutes: CANARY_BAKE_MINUTES };
  // Performance: its limits for the windows' estimates; its golden dataset holds the champion's scores
  // (the calibrator's reference). No scheduled check runs during the story.
  const {
    contentType: _type,
    batchRows: _rows,
    maxConcurrency: _concurrency,
    ...performance
  } = churn.performance;
  churn.performance = { ...performance, schedule: 'rate(30 days)', scoreColumn: 'score' };
  const configPath = join(outDir, 'driftwatch.config.json');
  await writeFile(configPath, JSON.stringify(raw, null, 2));
  return configPath;
}

export async function runCaptureStory(options: {
  root: string;
  out: string;
  log?: (line: string) => void;
}): Promise<CaptureStoryResult> {
  const log = options.log ?? (() => {});
  const realStart = Date.now();
  const outDir = join(options.out, 'capture');
  const configPath = await writeCaptureStoryConfig(options.root, outDir);
  const modelConfig = loadConfig(configPath).models[0]!;
  const model = driftRuntimeConfig(modelConfig);
  const endpointName = modelConfig.endpointName!;
  const data = demoData(join(options.root, 'test/fixtures/data/mlc_churn.csv'));

  // The endpoint's clock starts three hours ago, so the replayed hours are over when the engine sweeps.
  const now = Date.now();
  const firstHour = Math.floor(now / hour) * hour - 3 * hour;
  const endpointClock = new ManualClock(firstHour);
  const world = await startDemoWorld({
    configPath,
    projectDir: options.root,
    startTime: Math.floor(now / minute) * minute,
    sageMakerClock: endpointClock,
  });
  const { aws, emulator, sagemaker, runtime } = world;
  const step = (line: string) => log(`${aws.clock.date().toISOString().slice(0, 16)}Z  [capture] ${line}`);
  const timeline: string[] = [];
  const stopListening = aws.timeline.on((event) => {
    const line = describeEvent(event);
    // Capture files and their partial profiles are counted, not listed.
    if (line === null || (event.type === 'object-created' && /(^|\/)capture(-partials)?\//.test(event.key)))
      return;
    timeline.push(`${event.time.slice(0, 16)}Z  ${line}`);
    // The canary's feedback files of every minute stay in timeline.txt, not on the terminal.
    if (event.type === 'object-created' && event.key.includes('/feedback/')) return;
    if (event.type !== 'function-finished') log(`${event.time.slice(0, 16)}Z  ${line}`);
  });
  try {
    const landing = String(aws.outputs['LandingBucketName']);
    const documents = DynamoDBDocumentClient.from(aws.dynamoDbClient());

    // --- The champion, and a baseline profile of the training window WITH its scores -----------------
    // Where the engine's SageMaker role may read it (see champion.ts): the challenger's evaluation scores
    // the holdout with a copy of the champion.
    const artifactUri = await trainChampion({
      aws,
      sagemaker,
      model: model.name,
      hyperparameters: modelConfig.retraining!.hyperparameters,
      trainingCsv: toCsv(data.training),
      jobName: 'churn-capture-champion',
    });
    const [, artifactBucket, artifactKey] = /^s3:\/\/([^/]+)\/(.+)$/.exec(artifactUri)!;
    const artifact = await aws
      .s3Client()
      .send(new GetObjectCommand({ Bucket: artifactBucket, Key: artifactKey }))
      .then((response) => response.Body!.transformToByteArray());
    const scores = scoreRows(unpackModel(artifact), instances(data.training, model.exclude));
    const scored: Table = {
      header: [...data.training.header, 'score'],
      rows: data.training.rows.map((row, i) => [...row, String(scores[i])]),
    };
    const trainingPath = join(outDir, 'training-scored.csv');
    await writeFile(trainingPath, toCsv(scored));
    const profile = await profileTable(fileInput(trainingPath), {
      numeric: model.numeric,
      categorical: model.categorical,
      exclude: model.exclude,
      segment: model.segment,
    });
    await aws.putObject(landing, model.baselineProfileKey, profileToJson(profile));
    step(`baseline profile of the training window with the champion's scores (${profile.rows} rows)`);
    await uploadScoredReference(aws, landing, modelConfig, data, unpackModel(artifact), model.exclude, step);

    await sagemaker.send(
      new CreateModelCommand({
        ModelName: 'churn-capture-v1',
        ExecutionRoleArn: ROLE,
        PrimaryContainer: { Image: CHAMPION_IMAGE, ModelDataUrl: artifactUri },
      }),
    );
    const variant = (name: string, weight: number) => ({
      VariantName: name,
      ModelName: 'churn-capture-v1',
      InstanceType: 'ml.m5.large' as const,
      InitialInstanceCount: 1,
      InitialVariantWeight: weight,
    });
    await sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'churn-capture-config',
        ProductionVariants: [variant('AllTraffic', 9), variant('Canary', 1)],
        DataCaptureConfig: {
          EnableCapture: true,
          InitialSamplingPercentage: 100,
          DestinationS3Uri: `s3://${landing}/${modelConfig.capture!.prefix.replace(/\/$/, '')}`,
          CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
          CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
        },
      }),
    );
    await sagemaker.send(
      new CreateEndpointCommand({ EndpointName: endpointName, EndpointConfigName: 'churn-capture-config' }),
    );
    await waitFor(
      () => sagemaker.send(new DescribeEndpointCommand({ EndpointName: endpointName })),
      (value) => value.EndpointStatus === 'InService',
      'the endpoint',
    );
    step(`endpoint ${endpointName} InService: AllTraffic and Canary, Data Capture of every request`);
    const championPackage = await registerChampion(
      aws,
      sagemaker,
      model.name,
      artifactUri,
      'the champion (logistic regression on the training window), live with capture',
    );
    await documents.send(
      new PutCommand({
        TableName: String(aws.outputs['ModelStateTableName']),
        Item: {
          model: model.name,
          champion: {
            modelName: 'churn-capture-v1',
            packageArn: championPackage.packageArn,
            variantName: 'AllTraffic',
            endpointConfigName: 'churn-capture-config',
            since: aws.clock.date().toISOString(),
          },
        } satisfies ModelStateItem,
      }),
    );
    // What a retraining trains on: the labelled files of the golden prefix (the golden dataset is the holdout).
    await aws.putObject(landing, `${modelConfig.prefixes.golden}training-window.csv`, toCsv(data.training));
    step(
      `champion registered Approved in ${championPackage.groupName}; its training window in ${modelConfig.prefixes.golden}`,
    );

    // --- Two hours of traffic, replayed on the endpoint's clock ---------------------------------------
    const clean = instances(data.cleanMonth, model.exclude);
    const shifted = instances(data.shiftedMonth, model.exclude);
    const send = async (target: string, rows: Record<string, string | number>[]) => {
      await runtime.send(
        new InvokeEndpointCommand({
          EndpointName: endpointName,
          TargetVariant: target,
          ContentType: 'application/json',
          Body: new TextEncoder().encode(JSON.stringify({ instances: rows })),
        }),
      );
    };
    const perRequest = { AllTraffic: 80, Canary: 50 };
    for (const [h, canaryRows] of [clean.slice(500), shifted].entries()) {
      for (let i = 0; i < REQUESTS_PER_HOUR; i++) {
        await send('AllTraffic', clean.slice(i * perRequest.AllTraffic, (i + 1) * perRequest.AllTraffic));
        await send('Canary', canaryRows.slice(i * perRequest.Canary, (i + 1) * perRequest.Canary));
        await endpointClock.advance(hour / REQUESTS_PER_HOUR);
      }
      step(
        `hour ${h + 1} (${new Date(firstHour + h * hour).toISOString().slice(11, 16)}Z) replayed: AllTraffic customers like the training window's, Canary ${h === 0 ? 'the same' : 'SHIFTED customers'}`,
      );
    }
    await emulator.flushCapture();
    await aws.settle();
    const captureFiles = aws.timeline
      .ofType('object-created')
      .filter((event) => event.key.startsWith(modelConfig.capture!.prefix)).length;
    step(
      `${captureFiles} capture files written under ${modelConfig.capture!.prefix}, each profiled on arrival`,
    );

    // --- The engine's sweep closes the windows that are over, and checks each once ---------------------
    await aws.advance(6 * minute);
    const history = ((
      await documents.send(
        new QueryCommand({
          TableName: String(aws.outputs['HistoryTableName']),
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `MODEL#${model.name}` },
        }),
      )
    ).Items ?? []) as (HistoryItem & { window?: CaptureWindowLabel })[];
    const windows: WindowView[] = history
      .filter((item) => item.kind === 'drift' && item.window !== undefined && item.status === 'succeeded')
      .map((item) => ({
        variant: item.window!.variant,
        start: item.window!.start,
        files: item.window!.files,
        rows: item.window!.rows,
        datasetDrift: item.datasetDrift ?? false,
        driftedFeatures: item.driftedFeatures ?? [],
      }))
      .sort((a, b) => a.start.localeCompare(b.start) || a.variant.localeCompare(b.variant));
    for (const window of windows) {
      step(
        `window ${window.start.slice(11, 16)}Z ${window.variant}: ${window.files} files, ${window.rows} rows: ` +
          `${window.datasetDrift ? 'DATASET DRIFT' : window.driftedFeatures.length > 0 ? 'DRIFT' : 'no drift'}` +
          `${window.driftedFeatures.length > 0 ? ` of ${window.driftedFeatures.join(', ')}` : ''}`,
      );
    }
    const estimates = await estimatedBeforeLabels(history, step);
    // --- The labels of the shifted hour arrive late: realized accuracy per variant --------------------
    const churnAt = column(data.cleanMonth, 'churn');
    const requestLabels = (table: Table, size: number) =>
      Array.from({ length: REQUESTS_PER_HOUR }, (_, i) =>
        // The labelling job writes `performance`'s classes: yes for a customer who churned.
        table.rows.slice(i * size, (i + 1) * size).map((row) => (row[churnAt] === '"yes"' ? 'yes' : 'no')),
      );
    // The labelling job writes the hour's labelled customers to the golden prefix too: training data.
    await aws.putObject(
      landing,
      `${modelConfig.prefixes.golden}labelled-${new Date(firstHour + hour).toISOString().slice(0, 13)}.csv`,
      toCsv({
        header: data.cleanMonth.header,
        rows: [
          ...data.cleanMonth.rows.slice(0, REQUESTS_PER_HOUR * perRequest.AllTraffic),
          ...data.shiftedMonth.rows.slice(0, REQUESTS_PER_HOUR * perRequest.Canary),
        ],
      }),
    );
    const realized = await deliverLateLabels({
      aws,
      model: model.name,
      reportsPrefix: loadConfig(configPath).reportsPrefix,
      endpoint: endpointName,
      capturePrefix: modelConfig.capture!.prefix,
      groundTruthPrefix: modelConfig.capture!.groundTruth!.prefix,
      hourStart: firstHour + hour,
      labels: {
        AllTraffic: requestLabels(data.cleanMonth, perRequest.AllTraffic),
        Canary: requestLabels(data.shiftedMonth, perRequest.Canary),
      },
      step,
    });

    // --- The realized breach started a retraining: its canary gets traffic and labels every minute ---------
    const stateMachine = String(aws.outputs['RetrainingStateMachineArn'] ?? '');
    await driveCanary(world, {
      endpointName,
      feedbackPrefix: loadConfig(configPath).models[0]!.canary!.feedbackPrefix!,
      // The story's own variants: the retraining's canary serves the challenger beside AllTraffic.
      oldVariants: ['AllTraffic', 'Canary'],
      traffic: data.shiftedTraffic,
      customersPerMinute: CANARY_CUSTOMERS_PER_MINUTE,
      customersPerRequest: CANARY_CUSTOMERS_PER_REQUEST,
      maxMinutes: MAX_CANARY_MINUTES,
    });
    const retraining = aws
      .executions()
      .filter((execution) => execution.stateMachineArn === stateMachine)
      .sort((a, b) => a.startDate - b.startDate)
      .map((execution) => {
        const input = JSON.parse(execution.input) as { trigger: { type: string } };
        const output = execution.output ? (JSON.parse(execution.output) as Record<string, unknown>) : {};
        const outcome = (output['outcome'] ?? output) as { status?: string; reason?: string };
        const failure = failureTrail(execution);
        return {
          trigger: input.trigger.type,
          startedAt: new Date(execution.startDate).toISOString(),
          status: execution.status,
          outcome: outcome.status ?? null,
          reason: outcome.reason ?? null,
          ...(failure.length > 0 && { failure }),
        };
      });
    for (const execution of retraining.filter((run) => run.failure)) {
      for (const line of execution.failure!) {
        const text = `retraining started ${execution.startedAt.slice(11, 16)}Z ${execution.status}: ${line}`;
        timeline.push(`${aws.clock.date().toISOString().slice(0, 16)}Z  ${text}`);
        step(text);
      }
    }
    const packages =
      (
        await sagemaker.send(
          new ListModelPackagesCommand({
            ModelPackageGroupName: championPackage.groupName,
            SortBy: 'CreationTime',
            SortOrder: 'Ascending',
          }),
        )
      ).ModelPackageSummaryList?.map((summary) => ({
        version: summary.ModelPackageVersion ?? 0,
        status: summary.ModelApprovalStatus ?? '',
      })) ?? [];
    const finalWeights = Object.fromEntries(
      (emulator.state.endpoints.get(endpointName)?.variants ?? []).map((v) => [v.name, v.currentWeight]),
    );
    // Both variants' realized accuracy breached the floor: one run retrains, the other is skipped as a duplicate.
    const run =
      retraining.find(
        (execution) => execution.trigger === 'performance' && execution.outcome !== 'skipped',
      ) ?? retraining.find((execution) => execution.trigger === 'performance');
    step(
      run
        ? `retraining started by the realized Performance Degraded: ${run.outcome ?? run.status}` +
            (run.outcome === 'promoted'
              ? ' - the challenger beat the champion on the holdout and held up in the canary'
              : run.reason
                ? ` - ${run.reason}`
                : '') +
            `; endpoint ${JSON.stringify(finalWeights)}`
        : 'no retraining started by the realized Performance Degraded',
    );

    const events = aws.timeline
      .ofType('event-put')
      .filter((event) => event.source === 'driftwatch')
      .map((event) => ({ time: event.time, detailType: event.detailType }));
    const alarms = aws.timeline.ofType('alarm-state').map((event) => ({ alarm: event.alarm, to: event.to }));
    const result: CaptureStoryResult = {
      realSeconds: (Date.now() - realStart) / 1000,
      captureFiles,
      windows,
      estimates,
      realized,
      events,
      retraining,
      packages,
      finalWeights,
      alarms,
      timeline,
    };
    return result;
  } finally {
    stopListening();
    // Written whatever happened: a story that failed leaves its timeline (and the failures in it) behind.
    await writeFile(join(outDir, 'timeline.txt'), `${timeline.join('\n')}\n`);
    await world.close();
  }
}

/**
 * The calibrator's reference: the golden customers (labelled, before the shift) with the champion's scores,
 * as the model's golden dataset (`performance.scoreColumn` is `score`, so the engine takes it as reference).
 */
async function uploadScoredReference(
  aws: Awaited<ReturnType<typeof startDemoWorld>>['aws'],
  landing: string,
  modelConfig: ReturnType<typeof loadConfig>['models'][number],
  data: ReturnType<typeof demoData>,
  champion: ReturnType<typeof unpackModel>,
  exclude: readonly string[],
  step: (line: string) => void,
): Promise<void> {
  const scores = scoreRows(champion, instances(data.golden, exclude));
  const scored: Table = {
    header: [...data.golden.header, 'score'],
    rows: data.golden.rows.map((row, i) => [...row, String(scores[i])]),
  };
  const key = `${modelConfig.prefixes.golden}${modelConfig.performance!.goldenDataset}`;
  await aws.putObject(landing, key, toCsv(scored));
  step(
    `reference for estimates before labels: ${scored.rows.length} golden customers with the champion's scores (${key})`,
  );
}

/**
 * "Estimated accuracy falling before any label": each window's CBPE estimate, from its scores alone, as the
 * engine recorded it when it checked the window (history items of kind `estimate`).
 */
async function estimatedBeforeLabels(
  history: readonly HistoryItem[],
  step: (line: string) => void,
): Promise<EstimateView[]> {
  const estimates: EstimateView[] = history
    .filter((item) => item.kind === 'estimate' && item.window !== undefined)
    .map((item) => ({
      variant: item.window!.variant,
      start: item.window!.start,
      accuracy: item.metrics?.accuracy ?? null,
      breaches: (item.breaches ?? []).map((breach) => breach.metric),
      withheld: item.withheld?.reason ?? null,
    }))
    .sort((a, b) => a.start.localeCompare(b.start) || a.variant.localeCompare(b.variant));
  for (const estimate of estimates) {
    step(
      `window ${estimate.start.slice(11, 16)}Z ${estimate.variant}: ` +
        (estimate.accuracy === null
          ? `estimate withheld: ${estimate.withheld}`
          : `estimated accuracy ${estimate.accuracy.toFixed(3)} before any label` +
            (estimate.breaches.length > 0
              ? ` - BELOW its limit: Performance Estimated Degraded (an estimate: no page)`
              : '')),
    );
  }
  return estimates;
}
