/**
 * The live-traffic story's last step: the labels of the shifted hour arrive late, as a labelling job would
 * upload them (SageMaker's ground-truth records, one per captured request, under the hour of the
 * predictions), and the engine's sweep joins them to the hour's captured predictions: the realized accuracy
 * of each variant confirms what drift suggested, and the canary's breaches the model's limit.
 *
 * A step of its own, so the story can run it after its drift windows (and after an estimate step).
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { compactTime } from '../../lambdas/core/drift/capture-window.ts';
import { captureWindowReportKey } from '../../lambdas/shared/contract.ts';
import type { LocalAws } from '../aws/local-aws.ts';

/** What the realized performance of one variant's window was. */
export interface RealizedView {
  variant: string;
  start: string;
  joined: number;
  captured: number;
  accuracy: number;
  breaches: number;
}

/**
 * Uploads the labels of `hourStart`'s captured requests (their labels given per variant, one array per request,
 * in the order the requests were sent), lets the sweep join them, and reads each variant's realized report.
 */
export async function deliverLateLabels(options: {
  aws: LocalAws;
  model: string;
  reportsPrefix: string;
  endpoint: string;
  capturePrefix: string;
  groundTruthPrefix: string;
  hourStart: number;
  labels: Record<string, string[][]>;
  step: (line: string) => void;
}): Promise<RealizedView[]> {
  const { aws, endpoint, capturePrefix, groundTruthPrefix, hourStart } = options;
  const landing = String(aws.outputs['LandingBucketName']);
  const results = String(aws.outputs['ResultsBucketName']);
  const s3 = aws.s3Client();
  const folder = new Date(hourStart).toISOString().slice(0, 13).replace(/[-T]/g, '/');
  const lines: string[] = [];
  for (const [variant, requests] of Object.entries(options.labels)) {
    // The hour's capture records, in time order: the n-th is the n-th request sent to the variant.
    const listed = await s3.send(
      new ListObjectsV2Command({
        Bucket: landing,
        Prefix: `${capturePrefix}${endpoint}/${variant}/${folder}/`,
      }),
    );
    const records: { eventId: string; time: string }[] = [];
    for (const object of listed.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: landing, Key: object.Key! }));
      for (const line of (await body.Body!.transformToString()).split('\n')) {
        if (line.trim() === '') continue;
        const { eventMetadata } = JSON.parse(line) as {
          eventMetadata: { eventId: string; inferenceTime: string };
        };
        records.push({ eventId: eventMetadata.eventId, time: eventMetadata.inferenceTime });
      }
    }
    records.sort((a, b) => a.time.localeCompare(b.time));
    records.forEach((record, i) => {
      const labels = requests[i];
      if (labels === undefined) return;
      lines.push(
        JSON.stringify({
          groundTruthData: { data: JSON.stringify(labels), encoding: 'JSON' },
          eventMetadata: { eventId: record.eventId },
          eventVersion: '0',
        }),
      );
    });
  }
  const key = `${groundTruthPrefix}${folder}/labels-${compactTime(new Date(hourStart))}.jsonl`;
  await aws.putObject(landing, key, `${lines.join('\n')}\n`);
  options.step(
    `labels of the ${new Date(hourStart).toISOString().slice(11, 16)}Z hour arrive late: ${lines.length} ground-truth records under ${groundTruthPrefix}`,
  );
  // The next sweep joins them with the hour's captured predictions.
  await aws.advance(6 * 60_000);
  const views: RealizedView[] = [];
  for (const variant of Object.keys(options.labels)) {
    const reportKey = captureWindowReportKey(
      options.reportsPrefix,
      options.model,
      { endpoint, variant, start: new Date(hourStart) },
      'realized',
    );
    const body = await s3
      .send(new GetObjectCommand({ Bucket: results, Key: reportKey }))
      .catch(async (error) => {
        // Say why: the join's failure record, when there is one.
        const history = await DynamoDBDocumentClient.from(aws.dynamoDbClient()).send(
          new QueryCommand({
            TableName: String(aws.outputs['HistoryTableName']),
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `MODEL#${options.model}` },
          }),
        );
        const failed = (history.Items ?? [])
          .filter((item) => item['status'] === 'failed')
          .map((item) => item['error']);
        throw new Error(
          `no realized report ${reportKey} (${(error as Error).name}); failures: ${JSON.stringify(failed)}`,
        );
      });
    const report = JSON.parse(await body.Body!.transformToString()) as {
      metrics: { accuracy: number };
      groundTruth: { joined: number; captured: number };
      breaches: unknown[];
    };
    const view: RealizedView = {
      variant,
      start: new Date(hourStart).toISOString(),
      joined: report.groundTruth.joined,
      captured: report.groundTruth.captured,
      accuracy: report.metrics.accuracy,
      breaches: report.breaches.length,
    };
    views.push(view);
    options.step(
      `realized performance ${view.start.slice(11, 16)}Z ${variant}: accuracy ${view.accuracy.toFixed(3)} on ` +
        `${view.joined} of ${view.captured} predictions labelled${view.breaches > 0 ? ': BELOW THE LIMIT' : ''}`,
    );
  }
  return views;
}
