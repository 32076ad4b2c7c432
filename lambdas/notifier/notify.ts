/**
 * The notifier's two jobs. (1) A model's Page alarm went to ALARM: page on-call once per incident (and again
 * every `renotifyMinutes` while it stays open, when set) with a message naming the model, what fired and the
 * latest report. (2) A retraining execution ended: a failed, timed-out or aborted one opens the model's
 * `retraining` signal (and feeds its Page alarm), a succeeded one closes it.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { firedSignals, latestReport, pageDue } from '../core/alerting/incident.ts';
import { composeIncidentMessage } from '../core/alerting/incident-message.ts';
import { NOTIFIER_ENV, PAGE_REASON } from '../shared/contract.ts';

export { NOTIFIER_ENV };

import { markNotified, readIncident, setSignal } from '../shared/incidents.ts';
import { pagePoints, publishMetricPoints } from '../shared/metrics.ts';

export interface NotifierConfig {
  historyTable: string;
  topicArn: string;
  resultsBucket: string;
  dashboardName: string | null;
  renotifyMinutes: number | null;
  alarmNamePrefix: string;
  region: string;
}

export function notifierConfigFromEnvironment(env: NodeJS.ProcessEnv = process.env): NotifierConfig {
  const required = (name: string) => {
    const value = env[name];
    if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
    return value;
  };
  const renotify = env[NOTIFIER_ENV.renotifyMinutes];
  const minutes = renotify === undefined || renotify === '' ? null : Number(renotify);
  if (minutes !== null && !(Number.isInteger(minutes) && minutes > 0))
    throw new Error(`${NOTIFIER_ENV.renotifyMinutes} must be a whole number of minutes, got ${renotify}`);
  return {
    historyTable: required(NOTIFIER_ENV.historyTable),
    topicArn: required(NOTIFIER_ENV.topicArn),
    resultsBucket: required(NOTIFIER_ENV.resultsBucket),
    dashboardName: env[NOTIFIER_ENV.dashboardName] || null,
    renotifyMinutes: minutes,
    alarmNamePrefix: required(NOTIFIER_ENV.alarmNamePrefix),
    region: env['AWS_REGION'] ?? 'us-east-1',
  };
}

export interface NotifierDependencies {
  config: NotifierConfig;
  documents: DynamoDBDocumentClient;
  sns: Pick<SNSClient, 'send'>;
  metrics: Metrics;
  logger: Logger;
  now?: () => Date;
}

/** The parts of EventBridge's `CloudWatch Alarm State Change` event the notifier reads. */
export interface AlarmStateChangeDetail {
  alarmName: string;
  state: { value: string; timestamp?: string };
  configuration?: {
    metrics?: { metricStat?: { metric?: { dimensions?: Record<string, string> } } }[];
  };
}

/** The parts of `Step Functions Execution Status Change` the notifier reads. */
export interface ExecutionStatusDetail {
  executionArn: string;
  status: string;
  input?: string | null;
  output?: string | null;
  error?: string | null;
  cause?: string | null;
}

/** The model of a Page alarm: its metric's `Model` dimension, else its name `<prefix><model>-Page`. */
export function modelOfAlarm(detail: AlarmStateChangeDetail, prefix: string): string | null {
  for (const query of detail.configuration?.metrics ?? []) {
    const model = query.metricStat?.metric?.dimensions?.['Model'];
    if (typeof model === 'string' && model !== '') return model;
  }
  const name = detail.alarmName;
  if (name.startsWith(prefix) && name.endsWith('-Page'))
    return name.slice(prefix.length, -'-Page'.length) || null;
  return null;
}

/** A link to an object of the results bucket in the S3 console. */
export function s3ConsoleUrl(region: string, bucket: string, key: string): string {
  return `https://${region}.console.aws.amazon.com/s3/object/${bucket}?region=${region}&prefix=${encodeURIComponent(key)}`;
}

export type PageOutcome =
  | { status: 'paged'; model: string; why: 'opened' | 'still-open'; messageId: string | undefined }
  | { status: 'suppressed'; model: string; reason: string }
  | { status: 'ignored'; reason: string };

/** A Page alarm changed state: pages when the model's incident calls for it. */
export async function onPageAlarm(
  deps: NotifierDependencies,
  detail: AlarmStateChangeDetail,
): Promise<PageOutcome> {
  const { config, logger } = deps;
  if (detail.state?.value !== 'ALARM') return { status: 'ignored', reason: `state ${detail.state?.value}` };
  const model = modelOfAlarm(detail, config.alarmNamePrefix);
  if (model === null) return { status: 'ignored', reason: `${detail.alarmName} is no model's Page alarm` };
  const now = deps.now?.() ?? new Date();
  const record = await readIncident(deps.documents, config.historyTable, model);
  const due = pageDue(record, now, config.renotifyMinutes);
  if (record === undefined || due === null) {
    const reason =
      record === undefined
        ? 'no incident recorded for the model'
        : `already paged at ${record.notifiedAt} for the incident opened at ${record.openedAt}`;
    logger.info('Page suppressed: one page per incident', { model, reason });
    return { status: 'suppressed', model, reason };
  }
  const report = latestReport(record);
  const message = composeIncidentMessage({
    model,
    fired: firedSignals(record),
    at: record.openedAt!,
    stillOpen: due === 'still-open',
    renotifyMinutes: config.renotifyMinutes,
    ...(report
      ? {
          reportUrl: s3ConsoleUrl(config.region, config.resultsBucket, report.key),
          reportKey: `s3://${config.resultsBucket}/${report.key}`,
        }
      : {}),
    ...(config.dashboardName
      ? {
          dashboardUrl: `https://${config.region}.console.aws.amazon.com/cloudwatch/home?region=${config.region}#dashboards/dashboard/${config.dashboardName}`,
        }
      : {}),
  });
  const published = await deps.sns.send(
    new PublishCommand({
      TopicArn: config.topicArn,
      Subject: message.subject,
      Message: message.body,
      MessageAttributes: {
        model: { DataType: 'String', StringValue: model },
        page: { DataType: 'String', StringValue: due },
      },
    }),
  );
  await markNotified(deps.documents, config.historyTable, model, now.toISOString());
  logger.info('Paged', { model, why: due, messageId: published.MessageId, subject: message.subject });
  return { status: 'paged', model, why: due, messageId: published.MessageId };
}

const FAILED = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/** Whether a succeeded execution's output says it skipped the run (`{"status": "skipped", …}`). */
function skipped(output: string | null | undefined): boolean {
  try {
    return (JSON.parse(output ?? '{}') as { status?: unknown }).status === 'skipped';
  } catch {
    return false;
  }
}

/** A retraining execution ended: opens or closes the model's `retraining` signal. */
export async function onRetrainingStatus(
  deps: NotifierDependencies,
  detail: ExecutionStatusDetail,
): Promise<{ model: string | null; open: boolean | null }> {
  const { config, logger } = deps;
  if (!FAILED.has(detail.status) && detail.status !== 'SUCCEEDED') return { model: null, open: null };
  let model: string | null = null;
  try {
    const input = JSON.parse(detail.input ?? '{}') as { model?: unknown };
    if (typeof input.model === 'string' && input.model !== '') model = input.model;
  } catch {
    model = null;
  }
  if (model === null) {
    // Not one model's execution: the engine's FailedExecutions alarm still counts it.
    logger.warn('Retraining execution without a model in its input', { executionArn: detail.executionArn });
    return { model: null, open: null };
  }
  const open = FAILED.has(detail.status);
  if (!open && skipped(detail.output)) {
    // A run skipped by the lock, cooldown or budget proves nothing: an open failure stays open.
    logger.info('Retraining skipped: signal unchanged', { model, executionArn: detail.executionArn });
    return { model, open: null };
  }
  // The notifier's clock, as every writer of the incident record uses its own (the event arrives within seconds).
  const at = (deps.now?.() ?? new Date()).toISOString();
  const execution = detail.executionArn.split(':').pop() ?? detail.executionArn;
  await setSignal(deps.documents, config.historyTable, model, 'retraining', {
    open,
    detail: open
      ? `execution ${execution} ${detail.status.toLowerCase().replace('_', ' ')}${detail.error ? `: ${detail.error}` : ''}${
          detail.cause ? ` (${detail.cause})` : ''
        }`.slice(0, 500)
      : `execution ${execution} succeeded`,
    at,
  });
  // A model retrained since its concept drift has recovered from it (the emergency run's very purpose).
  if (!open && (await readIncident(deps.documents, config.historyTable, model))?.signals.conceptDrift?.open) {
    await setSignal(deps.documents, config.historyTable, model, 'conceptDrift', {
      open: false,
      detail: `retrained by execution ${execution}`,
      at,
    });
  }
  if (open) {
    deps.metrics.setDefaultDimensions({ Model: model });
    publishMetricPoints(deps.metrics, pagePoints(model, [PAGE_REASON.retrainingFailed]));
  }
  logger.info('Retraining signal', { model, open, status: detail.status, executionArn: detail.executionArn });
  return { model, open };
}
