import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DIMENSION, METRIC, METRIC_NAMESPACE, REASON_DIMENSION } from '../lambdas/shared/contract.ts';
import type { DriftDetector } from './drift-detector.ts';
import { DRIFT_METRICS_MODEL_VARIABLE } from './drift-metrics.ts';
import { metricSearch } from './metric-factory.ts';
import type { PerformanceMonitor } from './performance-monitor.ts';

export interface ModelDashboardProps {
  detector: DriftDetector;
  performance: PerformanceMonitor;
  retraining?: sfn.IStateMachine;
  /** Alarms of the engine shown at the top. @default none */
  alarms?: readonly cloudwatch.IAlarm[];
  /** @default `<stack name>` */
  dashboardName?: string;
  /** Time range shown when the dashboard opens. @default 2 weeks */
  defaultRange?: Duration;
}

const FULL = 24;
const HALF = 12;
const THIRD = 8;
const HEIGHT = 6;

/**
 * ONE CloudWatch dashboard for every model, with a model selector (a dashboard variable listing the models
 * that emitted metrics): the selected model's pages by reason, drift share, feature drift scores, files
 * checked and failed, performance metrics and checks, estimated performance of capture windows; and the shared engine (functions, queues, retraining
 * executions, engine alarms). A model added later appears in the selector without a deployment.
 */
export class ModelDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ModelDashboardProps) {
    super(scope, id);
    const { detector, performance } = props;
    const metrics = detector.metrics;
    const period = metrics.period;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? Stack.of(this).stackName,
      defaultInterval: props.defaultRange ?? Duration.days(14),
      variables: [
        new cloudwatch.DashboardVariable({
          id: 'model',
          label: 'Model',
          type: cloudwatch.VariableType.PATTERN,
          inputType: cloudwatch.VariableInputType.SELECT,
          value: DRIFT_METRICS_MODEL_VARIABLE,
          values: cloudwatch.Values.fromSearch(
            `{${METRIC_NAMESPACE},${DIMENSION.model}} MetricName="${METRIC.filesChecked.name}"`,
            DIMENSION.model,
          ),
          defaultValue: cloudwatch.DefaultValue.FIRST,
          visible: true,
        }),
      ],
    });
    const model = DRIFT_METRICS_MODEL_VARIABLE;
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          '# driftwatch\nPick a model above. Its configuration is its SSM parameter; its reports are under the ' +
          "results bucket's reports prefix, `<model>/`.",
        width: FULL,
        height: 2,
      }),
    );
    if (props.alarms && props.alarms.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({
          title: 'Engine alarms',
          alarms: [...props.alarms],
          width: FULL,
          height: 3,
        }),
      );
    }
    const search = (name: string, dimensions: string[], filters: string[], statistic: string) =>
      metricSearch(
        dimensions,
        [`MetricName="${name}"`, `${DIMENSION.model}="${model}"`, ...filters],
        statistic,
        period,
      );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'What paged (by reason)',
        left: [search(METRIC.pageReason.name, [DIMENSION.model, REASON_DIMENSION], [], 'Sum')],
        width: HALF,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dataset drift share',
        left: [metrics.datasetDriftShare()],
        leftYAxis: { min: 0, max: 1 },
        width: HALF,
        height: HEIGHT,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Feature drift scores (whole dataset)',
        left: [metrics.featureDriftScores()],
        width: HALF,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Files checked and failed, drift and critical drift',
        left: [metrics.filesChecked(), metrics.fileErrors()],
        right: [metrics.datasetDrift(), metrics.criticalFeatureDrift()],
        width: HALF,
        height: HEIGHT,
      }),
    );
    // A Data Capture window's drift per endpoint variant: the canary's inputs beside production's.
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Live traffic: drift share by endpoint variant (capture windows)',
        left: [search(METRIC.datasetDriftShare.name, [DIMENSION.model, DIMENSION.variant], [], 'Maximum')],
        leftYAxis: { min: 0, max: 1 },
        width: HALF,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Live traffic: feature drift scores by endpoint variant',
        left: [
          search(
            METRIC.featureDriftScore.name,
            [DIMENSION.model, DIMENSION.variant, DIMENSION.feature],
            [],
            'Maximum',
          ),
        ],
        width: HALF,
        height: HEIGHT,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Performance metrics (every metric and segment)',
        left: [
          search(
            METRIC.performanceMetric.name,
            [DIMENSION.model, DIMENSION.metric, DIMENSION.segment],
            [],
            'Minimum',
          ),
        ],
        width: HALF,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Performance checks, failures and breaches',
        left: [
          performance.metrics.checks(),
          performance.metrics.checkErrors(),
          performance.metrics.breaches(),
        ],
        width: HALF,
        height: HEIGHT,
      }),
    );
    // Estimates (CBPE, before labels) beside the measurements, never on the same graph.
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Estimated performance before labels (CBPE: accuracy, every variant and segment)',
        left: [
          search(
            METRIC.estimatedPerformanceMetric.name,
            [DIMENSION.model, DIMENSION.metric, DIMENSION.segment, DIMENSION.variant],
            [`${DIMENSION.metric}="accuracy"`],
            'Minimum',
          ),
        ],
        width: HALF,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Estimated breaches, withheld estimates, labels of predictions never captured',
        left: [
          search(METRIC.estimatedPerformanceBreaches.name, [DIMENSION.model], [], 'Sum'),
          search(METRIC.estimatesWithheld.name, [DIMENSION.model], [], 'Sum'),
        ],
        // Counted once per label file: a sampling rate below 100% makes it large by design.
        right: [search(METRIC.uncapturedLabels.name, [DIMENSION.model], [], 'Sum')],
        width: HALF,
        height: HEIGHT,
      }),
    );
    const queues: sqs.IQueue[] = [detector.queue, detector.deadLetterQueue];
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Engine: drift and performance functions',
        left: [
          detector.function.metricDuration({ period, statistic: 'p90' }),
          performance.function.metricDuration({ period, statistic: 'p90' }),
        ],
        right: [
          detector.function.metricErrors({ period, statistic: 'Sum' }),
          performance.function.metricErrors({ period, statistic: 'Sum' }),
        ],
        width: THIRD,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Engine: landing queue and dead-letter queue',
        left: queues.map((queue) =>
          queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        ),
        right: [detector.queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' })],
        width: THIRD,
        height: HEIGHT,
      }),
      new cloudwatch.GraphWidget({
        title: 'Engine: retraining executions',
        left: props.retraining
          ? [
              props.retraining.metricStarted({ period, statistic: 'Sum' }),
              props.retraining.metricSucceeded({ period, statistic: 'Sum' }),
              props.retraining.metricFailed({ period, statistic: 'Sum' }),
            ]
          : [],
        width: THIRD,
        height: HEIGHT,
      }),
    );
  }
}
