import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { MetricName } from '../lambdas/core/performance/metrics.ts';
import type { DriftDetector } from './drift-detector.ts';
import type { PerformanceMonitor } from './performance-monitor.ts';

export interface ModelDashboardProps {
  detector: DriftDetector;
  /** Alarms shown at the top of the dashboard. @default none */
  alarms?: readonly cloudwatch.IAlarm[];
  /** @default `<stack name>-<model>` */
  dashboardName?: string;
  /** Time range shown when the dashboard opens. @default 2 weeks */
  defaultRange?: Duration;
}

const FULL = 24;
const HALF = 12;
const THIRD = 8;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard per model: its alarms, the drift share over time against its threshold, every
 * feature's drift score (found by SEARCH, so features need not be listed), files checked and failed, the
 * drift Lambda's duration and errors, and the queues' depth.
 */
export class ModelDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ModelDashboardProps) {
    super(scope, id);
    const { detector } = props;
    const { model, metrics } = detector;
    const period = metrics.period;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? `${Stack.of(this).stackName}-${model.name}`,
      defaultInterval: props.defaultRange ?? Duration.days(14),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# driftwatch: ${model.name}\n` +
          `Incoming files under \`${model.incomingPrefix}\` are compared with \`${model.baselineProfileKey}\`. ` +
          `The dataset drifts when ${Math.round(model.driftShare * 1000) / 10}% of features drift` +
          (model.criticalFeatures.length > 0
            ? `; critical features: ${model.criticalFeatures.join(', ')}.`
            : '.'),
        width: FULL,
        height: 2,
      }),
    );
    if (props.alarms && props.alarms.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms',
          alarms: [...props.alarms],
          width: FULL,
          height: 3,
        }),
      );
    }
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Dataset drift share',
        left: [metrics.datasetDriftShare().with({ label: 'Share of drifted features' })],
        leftYAxis: { min: 0, max: 1, showUnits: false },
        leftAnnotations: [{ value: model.driftShare, label: 'Drift threshold', color: cloudwatch.Color.RED }],
        width: HALF,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dataset and critical feature drift (1 = drifted)',
        left: [
          metrics.datasetDrift().with({ label: 'Dataset drift' }),
          metrics.criticalFeatureDrift().with({ label: 'Critical feature drift' }),
        ],
        leftYAxis: { min: 0, max: 1, showUnits: false },
        width: HALF,
        height: HEIGHT,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Feature drift scores (whole dataset)',
        left: [metrics.featureDriftScores()],
        leftYAxis: { min: 0, showUnits: false },
        width: HALF,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Drifted features by segment (1 = drifted)',
        left: [metrics.featureDrifted()],
        leftYAxis: { min: 0, max: 1, showUnits: false },
        width: HALF,
        height: HEIGHT,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Files',
        left: [
          metrics.filesChecked().with({ label: 'Checked' }),
          metrics.fileErrors().with({ label: 'Could not be checked' }),
        ],
        right: [metrics.rowsChecked().with({ label: 'Rows checked' })],
        width: THIRD,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Drift Lambda',
        left: [
          detector.function.metricDuration({ period, statistic: 'p50', label: 'Duration p50' }),
          detector.function.metricDuration({ period, statistic: 'Maximum', label: 'Duration max' }),
        ],
        right: [
          detector.function.metricErrors({ period, statistic: 'Sum', label: 'Errors' }),
          detector.function.metricThrottles({ period, statistic: 'Sum', label: 'Throttles' }),
        ],
        width: THIRD,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Queues',
        left: [
          detector.queue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: 'Maximum',
            label: 'Waiting',
          }),
          detector.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: 'Maximum',
            label: 'Dead letters',
          }),
        ],
        right: [
          detector.queue.metricApproximateAgeOfOldestMessage({
            period,
            statistic: 'Maximum',
            label: 'Oldest (s)',
          }),
        ],
        width: THIRD,
        height: HEIGHT,
      }),
    );
  }

  /**
   * Adds the model's performance checks: for each metric with a limit, its history for the whole golden
   * dataset and every segment (found by SEARCH, so segments need not be listed) against the limits; the
   * relative drops against the baseline when a limit has `maxDrop`; checks, failures and breaches; and the
   * Lambda's duration and errors.
   *
   * @example
   * ```ts
   * dashboard.addPerformanceWidgets(monitor, Object.values(alerting.alarmOnPerformanceMonitor(monitor)).flat());
   * ```
   */
  addPerformanceWidgets(monitor: PerformanceMonitor, alarms: readonly cloudwatch.IAlarm[] = []): void {
    const { model, metrics } = monitor;
    const scoredBy =
      model.scoring.kind === 'endpoint'
        ? `scored by endpoint \`${model.scoring.endpointName}\``
        : `scores in column \`${model.scoring.scoreColumn}\``;
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `## Performance on the golden dataset\n\`${model.goldenDatasetKey}\`, ${scoredBy}, compared with ` +
          `\`${model.baselineReportKey}\`. Segments: ${model.segmentColumn === null ? 'none' : `\`${model.segmentColumn}\``}.`,
        width: FULL,
        height: 2,
      }),
    );
    if (alarms.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({
          title: 'Performance alarms',
          alarms: [...alarms],
          width: FULL,
          height: 3,
        }),
      );
    }
    const limited = [...new Set(model.limits.map((limit) => limit.metric))];
    const graphs = limited.map((metric: MetricName) => {
      const annotations: cloudwatch.HorizontalAnnotation[] = [];
      for (const limit of model.limits.filter((candidate) => candidate.metric === metric)) {
        const where = limit.segment ? ` (${limit.segment})` : '';
        if (limit.min !== undefined) {
          annotations.push({ value: limit.min, label: `min${where}`, color: cloudwatch.Color.RED });
        }
        if (limit.max !== undefined) {
          annotations.push({ value: limit.max, label: `max${where}`, color: cloudwatch.Color.RED });
        }
      }
      return new cloudwatch.GraphWidget({
        title: `${metric} by segment`,
        left: [metrics.valueBySegment(metric)],
        leftYAxis: { showUnits: false },
        leftAnnotations: annotations,
        width: HALF,
        height: HEIGHT,
      });
    });
    const drops = model.limits.filter((limit) => limit.maxDrop !== undefined);
    if (drops.length > 0) {
      graphs.push(
        new cloudwatch.GraphWidget({
          title: 'Relative drop against the baseline report',
          left: drops.map((limit) =>
            metrics
              .drop(limit.metric, limit.segment ?? null)
              .with({ label: `${limit.metric} (${limit.segment ?? 'all rows'})` }),
          ),
          leftYAxis: { showUnits: false },
          leftAnnotations: drops.map((limit) => ({
            value: limit.maxDrop!,
            label: `max drop ${limit.metric}${limit.segment ? ` (${limit.segment})` : ''}`,
            color: cloudwatch.Color.RED,
          })),
          width: HALF,
          height: HEIGHT,
        }),
      );
    }
    for (let i = 0; i < graphs.length; i += 2) this.dashboard.addWidgets(...graphs.slice(i, i + 2));
    const period = metrics.period;
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Performance checks',
        left: [
          metrics.checks().with({ label: 'Checked' }),
          metrics.checkErrors().with({ label: 'Failed' }),
          metrics.breaches().with({ label: 'Limits breached' }),
        ],
        right: [metrics.rowsEvaluated().with({ label: 'Rows evaluated' })],
        width: HALF,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Performance Lambda',
        left: [monitor.function.metricDuration({ period, statistic: 'Maximum', label: 'Duration max' })],
        right: [
          monitor.function.metricErrors({ period, statistic: 'Sum', label: 'Errors' }),
          monitor.function.metricThrottles({ period, statistic: 'Sum', label: 'Throttles' }),
        ],
        width: HALF,
        height: HEIGHT,
      }),
    );
  }
}
