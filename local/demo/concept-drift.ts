/**
 * The concept-drift story of the demo, in its own {@link DemoWorld} on local/demo/concept-drift.config.json:
 * a churn model is deployed; its labelled feedback streams through Kinesis at 1,000 outcomes a second of
 * event time; halfway the concept flips (customers with a voice-mail plan now churn when they did not, and the
 * other way round) while the inputs stay the same, so a drift check sees nothing. ADWIN on the error stream
 * fires within a few hundred outcomes, the `Concept Drift Detected` event starts an emergency retraining (no
 * cooldown) on the rows of the window ADWIN kept, the challenger beats the champion on the new labels, and
 * the canary, judged by the always-valid sequential test, promotes it.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ListModelPackagesCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ConceptDriftDetectedDetail } from '../../lambdas/shared/contract.ts';
import type { ModelStateItem } from '../../lambdas/shared/retraining-contract.ts';
import { loadConfig } from '../../lib/config/load.ts';
import { deployChampion } from './champion.ts';
import { column, instances, parseChurn, random, type Table, toCsv } from './data.ts';
import { type DemoOptions, describeEvent } from './scenario.ts';
import { driveCanary, startDemoWorld } from './world.ts';

const CHAMPION = { model: 'churn-v1', config: 'churn-prod-config-1', variant: 'AllTraffic' };
/** Outcomes before and after the flip, one millisecond of event time apart (1,000 a second). */
const BEFORE_FLIP = 1200;
const AFTER_FLIP = 1300;
const REQUESTS_PER_MINUTE = 120;
const MAX_CANARY_MINUTES = 90;
const minute = 60_000;

/** What the story did, for the summary and the end-to-end test. */
export interface ConceptDriftStoryResult {
  kind: 'concept-drift';
  realSeconds: number;
  /** Position (0-based, in the model's stream) of the first outcome after the flip. */
  flipAt: number;
  /** The `Concept Drift Detected` events, in the order they were put. */
  detections: ConceptDriftDetectedDetail[];
  /** Seconds from the detecting record entering the stream to the event (the consumer's measure). */
  detectionLatencySeconds: number | null;
  /** Seconds (real) from the first record put to the last one applied. */
  streamSeconds: number;
  /** The emergency run: its trigger, training window and rows, and outcome. */
  executions: {
    status: string;
    trigger: string;
    outcome: string | null;
    reason: string | null;
    trainingSince: string | null;
    trainingRows: number | null;
  }[];
  packages: { version: number; status: string }[];
  finalWeights: Record<string, number>;
  champion: ModelStateItem['champion'] | null;
  timeline: string[];
}

/** The new concept: customers with a voice-mail plan churn when they did not, and the other way round. */
function flipConcept(table: Table): Table {
  const plan = column(table, 'voice_mail_plan');
  const churn = column(table, 'churn');
  return {
    header: table.header,
    rows: table.rows.map((row) => {
      if (row[plan] !== '"yes"') return row;
      const copy = [...row];
      copy[churn] = row[churn] === '"yes"' ? '"no"' : '"yes"';
      return copy;
    }),
  };
}

/** The table with an `event_time` column (ISO), one millisecond apart from `start`. */
function withEventTimes(table: Table, start: number): Table {
  return {
    header: [...table.header, '"event_time"'],
    rows: table.rows.map((row, i) => [...row, new Date(start + i).toISOString()]),
  };
}

/** The story's config, in the project. */
export const CONCEPT_DRIFT_CONFIG = 'local/demo/concept-drift.config.json';

export async function runConceptDriftStory(options: DemoOptions): Promise<ConceptDriftStoryResult> {
  const log = options.log ?? (() => {});
  const realStart = Date.now();
  const configPath = join(options.root, CONCEPT_DRIFT_CONFIG);
  const modelConfig = loadConfig(configPath).models[0]!;
  const endpointName = modelConfig.endpointName!;
  const golden = modelConfig.prefixes.golden;
  const outDir = join(options.out, 'concept-drift');
  await mkdir(outDir, { recursive: true });

  const all = parseChurn(readFileSync(join(options.root, 'test/fixtures/data/mlc_churn.csv'), 'utf8'));
  const next = random(11);
  const shuffled = all.rows
    .map((row) => ({ row, key: next() }))
    .sort((a, b) => a.key - b.key)
    .map(({ row }) => row);
  const part = (from: number, to: number): Table => ({ header: all.header, rows: shuffled.slice(from, to) });
  const training = part(0, 2000);
  const before = part(2000, 2000 + BEFORE_FLIP);
  const after = flipConcept(part(2000 + BEFORE_FLIP, 2000 + BEFORE_FLIP + AFTER_FLIP));
  const holdout = flipConcept(part(4500, 5000));
  const traffic = flipConcept(part(2000 + BEFORE_FLIP, 2000 + BEFORE_FLIP + AFTER_FLIP));

  const world = await startDemoWorld({
    configPath,
    projectDir: options.root,
    startTime: Math.floor(Date.now() / minute) * minute,
  });
  const { aws, emulator, sagemaker, runtime } = world;
  const step = (line: string) =>
    log(`${aws.clock.date().toISOString().slice(0, 16)}Z  [demo] [concept-drift] ${line}`);
  const timeline: string[] = [];
  const stopListening = aws.timeline.on((event) => {
    const line = describeEvent(event);
    if (line === null) return;
    const text = `${event.time.slice(0, 16)}Z  ${line}`;
    timeline.push(text);
    if (event.type === 'object-created' && event.key.includes('/feedback/')) return;
    if (event.type === 'function-finished' && event.function.includes('Feedback')) return;
    log(text);
  });
  try {
    const landing = String(aws.outputs['LandingBucketName']);
    const results = String(aws.outputs['ResultsBucketName']);
    const stateTable = String(aws.outputs['ModelStateTableName']);
    const stream = String(aws.outputs['FeedbackStreamName']);
    const documents = DynamoDBDocumentClient.from(aws.dynamoDbClient());
    // The outcomes happened half an hour ago; their labels arrive now.
    const eventStart = aws.clock.now() - 30 * minute;

    // --- The champion, trained on the old concept -------------------------------------------------------
    const championPackage = await deployChampion({
      aws,
      sagemaker,
      model: modelConfig.name,
      endpointName,
      hyperparameters: modelConfig.retraining!.hyperparameters as Record<string, string>,
      trainingCsv: toCsv(withEventTimes(training, eventStart - 86_400_000)),
      names: CHAMPION,
      packageDescription: 'the champion (logistic regression, old concept)',
    });
    await documents.send(
      new PutCommand({
        TableName: stateTable,
        Item: {
          model: modelConfig.name,
          // A run finished an hour ago: an ordinary trigger would wait out the 24-hour cooldown.
          lastRunAt: new Date(aws.clock.now() - 60 * minute).toISOString(),
          champion: {
            modelName: CHAMPION.model,
            packageArn: championPackage.packageArn,
            variantName: CHAMPION.variant,
            endpointConfigName: CHAMPION.config,
            since: aws.clock.date().toISOString(),
          },
        } satisfies ModelStateItem,
      }),
    );
    step(
      `champion ${CHAMPION.model} serves ${endpointName}; the last retraining ended an hour ago (cooldown 24 h)`,
    );

    // --- Labelled data: the stream's rows with their event times, and the new holdout ---------------------
    const labelled = withEventTimes(
      { header: all.header, rows: [...before.rows, ...after.rows] },
      eventStart,
    );
    await aws.putObject(landing, `${golden}labelled-feedback.csv`, toCsv(labelled));
    await aws.putObject(landing, `${golden}${modelConfig.performance!.goldenDataset}`, toCsv(holdout));
    step(
      `labelled rows of the last half hour (${labelled.rows.length}, column event_time) and a holdout of ${holdout.rows.length} in ${golden}`,
    );
    // The clock passes the wall clock (S3 stamps the uploads with it), so the run sees the labelled file.
    await aws.advance(Math.max(2 * minute, Date.now() - aws.clock.now() + minute));

    // --- The feedback stream: the champion's predictions and their labels --------------------------------
    const streamRows = [...before.rows, ...after.rows];
    const streamTable: Table = { header: all.header, rows: streamRows };
    const rows = instances(streamTable, ['churn']);
    const truth = streamTable.rows.map((row) => row[column(streamTable, 'churn')]!.replaceAll('"', ''));
    const areaCode = column(streamTable, 'area_code');
    const scores: number[] = [];
    for (let i = 0; i < rows.length; i += 500) {
      const response = await runtime.send(
        new InvokeEndpointCommand({
          EndpointName: endpointName,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: JSON.stringify({ instances: rows.slice(i, i + 500) }),
        }),
      );
      const body = JSON.parse(new TextDecoder().decode(response.Body)) as {
        predictions: { score: number }[];
      };
      scores.push(...body.predictions.map((prediction) => prediction.score));
    }
    const records = scores.map((score, i) => ({
      data: JSON.stringify({
        model: modelConfig.name,
        predictionId: `p-${i}`,
        prediction: score,
        label: truth[i],
        cohort: { area_code: streamTable.rows[i]![areaCode]!.replaceAll('"', '') },
        eventTime: new Date(eventStart + i).toISOString(),
      }),
      partitionKey: modelConfig.name,
    }));
    step(
      `${records.length} labelled outcomes on the Kinesis stream ${stream}; the concept flips at outcome ${BEFORE_FLIP} (inputs unchanged)`,
    );
    const streamStart = Date.now();
    const placed = await aws.putRecords(stream, records);
    await aws.drainStream(stream, placed);
    const streamSeconds = (Date.now() - streamStart) / 1000;

    const detections = aws
      .executions()
      .map((execution) => JSON.parse(execution.input) as { trigger: { type: string; detail: unknown } })
      .filter((input) => input.trigger.type === 'conceptDrift')
      .map((input) => input.trigger.detail as ConceptDriftDetectedDetail);
    const first = detections[0];
    if (first)
      step(
        `ADWIN fired at outcome ${first.position} (${first.position - BEFORE_FLIP} after the flip): error rate ${first.errorRateBefore} -> ${first.errorRateAfter}, window of ${first.windowLength} from ${first.windowStart}`,
      );

    // --- The emergency run's canary: traffic and labelled feedback every minute ---------------------------
    const stateMachine = String(aws.outputs['RetrainingStateMachineArn'] ?? '');
    await driveCanary(world, {
      endpointName,
      feedbackPrefix: modelConfig.canary!.feedbackPrefix,
      oldVariants: [CHAMPION.variant],
      traffic,
      customersPerMinute: REQUESTS_PER_MINUTE,
      maxMinutes: MAX_CANARY_MINUTES,
      runName: 'the emergency run',
    });

    // What each run trained on: its manifest (prepare-inputs writes it beside the training data).
    const s3 = aws.s3Client();
    const manifests = new Map<string, { trainingSince: string | null; trainingRows: number | null }>();
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: results, Prefix: `retraining/${modelConfig.name}/` }),
    );
    for (const object of listed.Contents ?? []) {
      if (!object.Key?.endsWith('/manifest.json')) continue;
      const text = await (
        await s3.send(new GetObjectCommand({ Bucket: results, Key: object.Key }))
      ).Body!.transformToString();
      manifests.set(object.Key.split('/').at(-2)!, JSON.parse(text));
    }
    const executions = aws
      .executions()
      .filter((execution) => execution.stateMachineArn === stateMachine)
      .map((execution) => {
        const input = JSON.parse(execution.input) as { trigger: { type: string } };
        const output = execution.output ? (JSON.parse(execution.output) as Record<string, unknown>) : {};
        const outcome = (output['outcome'] ?? output) as { status?: string; reason?: string; runId?: string };
        const runId = outcome.runId ?? (output['runId'] as string | undefined);
        const manifest =
          (runId ? manifests.get(runId) : undefined) ??
          (outcome.status === 'promoted' && manifests.size === 1 ? [...manifests.values()][0] : undefined);
        return {
          status: execution.status,
          trigger: input.trigger.type,
          outcome: outcome.status ?? null,
          reason: outcome.reason ?? null,
          trainingSince: manifest?.trainingSince ?? null,
          trainingRows: manifest?.trainingRows ?? null,
        };
      });
    const packages = await sagemaker.send(
      new ListModelPackagesCommand({
        ModelPackageGroupName: championPackage.groupName,
        SortBy: 'CreationTime',
        SortOrder: 'Ascending',
      }),
    );
    const state = await documents.send(
      new GetCommand({
        TableName: stateTable,
        Key: { model: modelConfig.name },
      }),
    );
    const finalEndpoint = emulator.state.endpoints.get(endpointName)!;
    const latency = aws.metrics
      .query(
        {
          namespace: 'Driftwatch',
          name: 'ConceptDriftDetectionLatency',
          dimensions: { Model: modelConfig.name },
        },
        0,
        Number.POSITIVE_INFINITY,
      )
      .flatMap((datum) => datum.values ?? []);
    const result: ConceptDriftStoryResult = {
      kind: 'concept-drift',
      realSeconds: (Date.now() - realStart) / 1000,
      flipAt: BEFORE_FLIP,
      detections,
      detectionLatencySeconds: latency.length > 0 ? Math.max(...latency) : null,
      streamSeconds,
      executions,
      packages: (packages.ModelPackageSummaryList ?? []).map((summary) => ({
        version: summary.ModelPackageVersion ?? 0,
        status: summary.ModelApprovalStatus ?? '',
      })),
      finalWeights: Object.fromEntries(finalEndpoint.variants.map((v) => [v.name, v.currentWeight])),
      champion: (state.Item as ModelStateItem | undefined)?.champion ?? null,
      timeline,
    };
    const run = executions.find((execution) => execution.outcome !== 'skipped') ?? executions[0];
    step(
      `done: emergency run ${run?.outcome ?? 'not run'} (trained on ${run?.trainingRows ?? '?'} rows since ${run?.trainingSince ?? '?'}); endpoint ${JSON.stringify(result.finalWeights)}`,
    );
    await writeFile(join(outDir, 'timeline.txt'), `${timeline.join('\n')}\n`);
    return result;
  } finally {
    stopListening();
    await world.close();
  }
}
