import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { DriftDetector } from './drift-detector.ts';

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
}
