/**
 * What the deployed pieces agree on: metric names and dimensions, event shapes, history items and the
 * environment a handler reads. Declared once here and imported by the handlers (which emit), the constructs
 * in lib/ (which alarm and draw dashboards) and the tests. No AWS SDK imports: plain data only.
 */
import { compactTime } from '../core/drift/capture-window.ts';
import type { MethodSetting } from '../core/drift/options.ts';
import type { FeatureType } from '../core/drift/types.ts';
import type { LimitKind, PerformanceLimit } from '../core/performance/limits.ts';
import type { MetricName } from '../core/performance/metrics.ts';

/** CloudWatch namespace of every driftwatch metric. */
export const METRIC_NAMESPACE = 'Driftwatch';

/** Dimension names. Every metric has `Model`; feature metrics add `Feature`; segment metrics add `Segment`. */
export const DIMENSION = {
  model: 'Model',
  feature: 'Feature',
  /** `column=value` of a segment, or `all` for whole-dataset values. */
  segment: 'Segment',
  /** Performance metrics: the report's metric key, e.g. `accuracy`, `gini`. */
  metric: 'Metric',
  /** A Data Capture window's drift and estimated performance: `<endpoint>/<variant>` (`my-endpoint/Canary`). */
  variant: 'Variant',
} as const;

/** Segment dimension value of whole-dataset metrics. */
export const WHOLE_DATASET_SEGMENT = 'all';

/**
 * The `Segment` dimension value of a report entry: `column=value`, or {@link WHOLE_DATASET_SEGMENT} for a
 * whole-dataset entry. History items list drifted segments the same way.
 *
 * @example
 * ```ts
 * segmentDimensionValue({ column: 'state', value: 'KS' }); // 'state=KS'
 * segmentDimensionValue(null); // 'all'
 * ```
 */
export function segmentDimensionValue(segment: { column: string; value: string } | null): string {
  return segment === null ? WHOLE_DATASET_SEGMENT : `${segment.column}=${segment.value}`;
}

/** Metric names, with their unit (CloudWatch unit names). */
export const METRIC = {
  /** Share of drifted features of one file, 0-1 (dimensions Model, Segment=all). */
  datasetDriftShare: { name: 'DatasetDriftShare', unit: 'None' },
  /** 1 when the dataset drifted, else 0 (Model). */
  datasetDrift: { name: 'DatasetDrift', unit: 'Count' },
  /** The decision score of a feature (Model, Feature, Segment). */
  featureDriftScore: { name: 'FeatureDriftScore', unit: 'None' },
  /** 1 when the feature drifted, else 0 (Model, Feature, Segment). */
  featureDrifted: { name: 'FeatureDrifted', unit: 'Count' },
  /** 1 when any critical feature drifted in a file, else 0 (Model). */
  criticalFeatureDrift: { name: 'CriticalFeatureDrift', unit: 'Count' },
  /** Files checked successfully (Model). */
  filesChecked: { name: 'FilesChecked', unit: 'Count' },
  /** Files that could not be checked: bad input, schema mismatch, too large, no baseline (Model). */
  fileErrors: { name: 'FileErrors', unit: 'Count' },
  /** Rows read from a checked file (Model). */
  rowsChecked: { name: 'RowsChecked', unit: 'Count' },
  /** The value of one metric of a performance report, whole dataset or segment (Model, Metric, Segment). */
  performanceMetric: { name: 'PerformanceMetric', unit: 'None' },
  /**
   * Relative degradation of a metric against the baseline report, for each `maxDrop` limit checked
   * (Model, Metric, Segment); 0.05 = 5% worse.
   */
  performanceDrop: { name: 'PerformanceDrop', unit: 'None' },
  /** Performance checks that stored a report (Model). */
  performanceChecks: { name: 'PerformanceChecks', unit: 'Count' },
  /** Performance checks that could not complete: bad golden file, endpoint errors, missing data (Model). */
  performanceCheckErrors: { name: 'PerformanceCheckErrors', unit: 'Count' },
  /** Limits breached by one performance check (Model). */
  performanceBreaches: { name: 'PerformanceBreaches', unit: 'Count' },
  /**
   * 1 per check or event that finds a signal of the model's incident open (Model): drift or critical-feature
   * drift persisting (M of the last N checks), a file sent to the dead-letter queue, a breached performance
   * limit, a failed performance check, a failed retraining. The model's one paging alarm watches it and its
   * state change wakes the notifier, which pages once per incident; {@link METRIC.pageReason} says which.
   */
  page: { name: 'Page', unit: 'Count' },
  /** The same events, by what broke (Model, Reason): drawn on the dashboard, not alarmed on. */
  pageReason: { name: 'PageReason', unit: 'Count' },
  /** Concept drift detections on the labelled feedback stream, every cohort (Model). */
  conceptDriftDetections: { name: 'ConceptDriftDetections', unit: 'Count' },
  /** Labelled feedback records applied to the model's detectors (Model). */
  feedbackOutcomes: { name: 'FeedbackOutcomes', unit: 'Count' },
  /** Feedback records that could not be applied: unparseable, unknown model (Model; `_unrouted` when none). */
  feedbackRejected: { name: 'FeedbackRejected', unit: 'Count' },
  /** Records of a retried or duplicated batch already applied, skipped (Model). */
  feedbackDuplicates: { name: 'FeedbackDuplicates', unit: 'Count' },
  /** Seconds from a record entering the stream to its detection being put (Model). */
  conceptDriftLatency: { name: 'ConceptDriftDetectionLatency', unit: 'Seconds' },
  /** Rows of the golden dataset evaluated by one performance check (Model). */
  performanceRows: { name: 'PerformanceRowsEvaluated', unit: 'Count' },
  /**
   * A metric CBPE estimated for a Data Capture window without labels (Model, Metric, Segment, Variant):
   * never mixed with {@link METRIC.performanceMetric}, which is measured against labels.
   */
  estimatedPerformanceMetric: { name: 'EstimatedPerformanceMetric', unit: 'None' },
  /** Limits an estimate breached, per estimated window (Model); 0 for a window that breached none. */
  estimatedPerformanceBreaches: { name: 'EstimatedPerformanceBreaches', unit: 'Count' },
  /** Windows whose estimate was withheld: no usable reference, another model serving (Model). */
  estimatesWithheld: { name: 'EstimatesWithheld', unit: 'Count' },
  /**
   * Labels of a label file whose id matched no captured prediction of any window the file may label (Model):
   * one point per label file, once every such window is joined.
   */
  uncapturedLabels: { name: 'UncapturedLabels', unit: 'Count' },
} as const;

/** What broke, as the `Reason` dimension of {@link METRIC.pageReason} names it. */
export const PAGE_REASON = {
  drift: 'DatasetDrift',
  criticalFeature: 'CriticalFeatureDrift',
  fileError: 'FileError',
  performanceLimit: 'PerformanceLimit',
  performanceCheck: 'PerformanceCheckFailed',
  /** A file's message failed its last delivery: SQS moved it to the dead-letter queue. */
  deadLetter: 'DeadLetter',
  /** A retraining execution of the model failed, timed out or was aborted. */
  retrainingFailed: 'RetrainingFailed',
  conceptDrift: 'ConceptDrift',
  cohortRate: 'CohortRateChanged',
} as const;

/** Model name of the failure records of files under no model's prefix (model names start with a letter). */
export const UNROUTED_MODEL = '_unrouted';

/** Dimension of {@link METRIC.pageReason}. */
export const REASON_DIMENSION = 'Reason';

/** EventBridge source of driftwatch's own events. */
export const EVENT_SOURCE = 'driftwatch';

export const DETAIL_TYPE = {
  driftDetected: 'Drift Detected',
  performanceDegraded: 'Performance Degraded',
  conceptDriftDetected: 'Concept Drift Detected',
  /** A limit breached by a CBPE estimate of a Data Capture window (labels not arrived): not a measurement. */
  performanceEstimatedDegraded: 'Performance Estimated Degraded',
} as const;

/**
 * Detail of a `Concept Drift Detected` event: a detector on the error stream of a model (or one cohort of it)
 * signalled a drift, or a rate monitor found a cohort's rate away from its baseline.
 */
export interface ConceptDriftDetectedDetail {
  model: string;
  /** `conceptDrift` when the model retrains on it (a detector's drift, not a rate monitor's). */
  retrainingTrigger?: 'conceptDrift';
  /** The cohort (`attribute`=`value`), or null for the whole model. */
  cohort: { attribute: string; value: string } | null;
  /** `adwin`, `ddm`, `page-hinkley`, or `rate:<monitor name>`. */
  detector: string;
  /** 0-based position of the outcome in the cohort's stream at which it was signalled. */
  position: number;
  /** Error rate (or monitored rate) before the change and recent (null: the detector keeps no window). */
  errorRateBefore: number;
  errorRateAfter: number | null;
  /** Outcomes in the window the detector kept (ADWIN), else null. */
  windowLength: number | null;
  /** Event time of the first outcome of that window (ISO), or null. */
  windowStart: string | null;
  /** Event time of the outcome that triggered the detection. */
  eventTime: string;
  /** When the record entered the stream (ISO) and when the detection was made. */
  arrivedAt: string;
  detectedAt: string;
  /** The segment to retrain on: the cohort when its attribute is the model's segment column. */
  segment?: { column: string; value: string };
}

/** Detail of a `Drift Detected` event: put when the dataset drifted or a critical feature drifted. */
export interface DriftDetectedDetail {
  model: string;
  /**
   * The retraining this event starts, by the model's retraining triggers (absent: none). The shared engine's
   * one rule starts the shared state machine on it, so models that do not retrain start no execution.
   */
  retrainingTrigger?: 'drift' | 'criticalFeatureDrift';
  bucket: string;
  key: string;
  versionId: string | null;
  /** S3 key of the JSON report in the results bucket. */
  reportKey: string;
  datasetDrift: boolean;
  driftShare: number;
  /** Whole-dataset features that drifted. */
  driftedFeatures: string[];
  /** Critical features (from config) among them. */
  criticalFeatures: string[];
  /** Segments with at least one drifted feature, and which features drifted there. */
  driftedSegments: { column: string; value: string; features: string[] }[];
  /** A Data Capture window's check: which endpoint, variant and period (absent for a dropped file). */
  window?: CaptureWindowLabel;
}

/** What a Data Capture window's report, history item and event are labelled with. */
export interface CaptureWindowLabel {
  endpoint: string;
  variant: string;
  /** ISO 8601 start (inclusive) and end (exclusive) of the window. */
  start: string;
  end: string;
  /** 0, or the part of the period after the window closed early at `maxRows`. */
  part: number;
  /** 1 for the window's first check; each late file's re-check adds one. */
  version: number;
  /**
   * Why this check: the window ended (`time`), reached `maxRows` (`rows`), a file came after its check
   * (`late`), or its failed check was moved back from the dead-letter queue (`redrive`).
   */
  closedBy: 'time' | 'rows' | 'late' | 'redrive';
  files: number;
  /** Rows checked; records left out as bad are counted in `badRecords`. */
  rows: number;
  badRecords: number;
  /** The first bad record of the window's files, by file order. */
  firstBadRecord: { key: string; line: number; reason: string } | null;
}

/** Names the engine's Data Capture flow shares with its infrastructure. */
export const CAPTURE = {
  /** Key prefix of the partial profiles in the results bucket: `<prefix><model>/<endpoint>/<variant>/<window>/`. */
  partialsPrefix: 'capture-partials/',
  /**
   * Key prefix of the fitted CBPE calibrators in the results bucket: `<prefix><model>/<reference id>.json`,
   * one per version of a model's reference, fitted once and reused by every window.
   */
  calibratorsPrefix: 'capture-calibrators/',
  /** The capture table's index of open window parts by due time. */
  dueIndex: 'due',
  /** `dueShard` of every open part: the due index's one partition. */
  openShard: 'open',
  /**
   * Key prefix (results bucket) of which labels of a label file each window's join matched:
   * `<prefix><model>/<label file id>/<window start>.bits.gz`, ORed once every window of the file is joined.
   */
  labelMatchesPrefix: 'ground-truth-matches/',
  /** How often the engine sweeps for windows to close. */
  sweepSchedule: 'rate(5 minutes)',
  /** The message the sweep schedule puts on the drift queue. */
  sweepMessage: { driftwatch: 'capture-sweep' },
} as const;

/** Settings of a model's Data Capture windows (the model config's `capture`, prefixes absolute). */
export interface CaptureRuntimeConfig {
  prefix: string;
  endpoints: string[];
  windowMinutes: number;
  maxRows: number;
  graceMinutes: number;
  maxBadShare: number;
  scoreColumn: string;
  /** Names of a CSV payload's fields in order: the model's declared features (empty: `_c0`, `_c1`, …). */
  features: string[];
  /** Performance estimated before labels (CBPE) of each window; absent: none (no `performance`, or off). */
  estimate?: CaptureEstimateRuntimeConfig;
  /** Delayed labels joined to each window's predictions (absent: none). */
  groundTruth?: GroundTruthRuntimeConfig;
}

/** How a model's windows are judged as a binary classifier: `performance`'s settings, shared by estimates and joins. */
interface WindowPerformanceSettings {
  positiveClass: string;
  classes: string[] | null;
  threshold: number;
  segmentColumn: string | null;
  limits: PerformanceLimit[];
}

/** How a model's capture windows get their CBPE estimate (see `lambdas/drift/capture-estimate.ts`). */
export interface CaptureEstimateRuntimeConfig extends WindowPerformanceSettings {
  /** Key (landing bucket) of the labelled, scored table the calibrator is fitted on. */
  referenceKey: string;
  /** The column of the reference holding the model's score. */
  referenceScoreColumn: string;
  /**
   * The SageMaker model that scored the reference; null: the champion's (the endpoint's variant taking the
   * most traffic) when the calibrator is first fitted on this version of the reference.
   */
  referenceModel: string | null;
  labelColumn: string;
  /** The model's baseline performance report (landing bucket), for `maxDrop` limits. */
  baselineReportKey: string;
}

/** Settings of a model's ground-truth joins (the model config's `capture.groundTruth` and `performance`). */
export interface GroundTruthRuntimeConfig extends WindowPerformanceSettings {
  prefix: string;
  idColumn: string;
  labelColumn: string;
  /** The label tables' column of when a label was known; absent, null (or an empty cell): the file's arrival. */
  timeColumn?: string | null;
  settleMinutes: number;
  maxDelayHours: number;
  /** The model's baseline performance report in the landing bucket (for `maxDrop`); null without `performance`. */
  baselineReportKey: string | null;
  /** The model has `conceptDrift`: each join's new outcomes go to the engine's feedback stream. */
  feedback: boolean;
}

/**
 * History table: one item per check. Partition key `pk` = `MODEL#<name>`, sort key `sk` =
 * `<kind>#<ISO time>#<object key>`, so a model's drift history is one Query in time order.
 */
export interface HistoryItem {
  pk: string;
  sk: string;
  model: string;
  kind: 'drift' | 'performance' | 'retraining' | 'estimate' | 'labels';
  status: 'succeeded' | 'failed';
  /** ISO 8601 time the check finished. */
  checkedAt: string;
  bucket: string;
  key: string;
  versionId: string | null;
  etag: string | null;
  /** Present on success. */
  reportKey?: string;
  htmlReportKey?: string;
  rows?: { baseline: number; current: number };
  datasetDrift?: boolean;
  driftShare?: number;
  driftedFeatures?: string[];
  driftedSegments?: string[];
  /** Performance checks: the run's id (the schedule's execution id, else the Lambda request id). */
  runId?: string;
  /** Performance checks, on success: rows evaluated and rows skipped for a missing label or score. */
  evaluatedRows?: number;
  skippedRows?: number;
  /** Performance checks, on success: every limit the report breached. */
  breaches?: PerformanceBreachSummary[];
  /** Performance checks, on success: the baseline report compared with (null: none yet). */
  baselineReportKey?: string | null;
  /** Performance checks, on success: true when this run stored its report as the model's baseline. */
  baselineCreated?: boolean;
  /** Present on failure: the error's class name and its one-line message (never data rows). */
  error?: { name: string; message: string };
  /** A Data Capture window's check: its endpoint, variant, period and files. */
  window?: CaptureWindowLabel;
  /** Estimates (`kind` `estimate`): true; the metrics are CBPE's expectations, not measurements. */
  estimated?: true;
  /** Estimates: why none was made for the window (null: it was). */
  withheld?: EstimateWithheld | null;
  /** Estimates: the estimated whole-window metrics. */
  metrics?: Partial<Record<MetricName, number | null>>;
  /** A window's realized performance: the model that served its variant then (null: unknown). */
  servingModel?: string | null;
  /** Label files (`kind` `labels`): its labels counted once every window it may label was joined. */
  labelFile?: LabelFileTally;
}

/**
 * One label file's labels, counted once every capture window it may label was joined: how many matched a
 * captured prediction of one of them, and how many none (a prediction never captured: sampled out, older
 * than `maxDelayHours`, of another endpoint, or a wrong id).
 */
export interface LabelFileTally {
  model: string;
  labelFile: { key: string; versionId: string | null; arrivedAt: string };
  /** The windows the file may label (ISO starts of the first and last). */
  windows: number;
  firstWindow: string;
  lastWindow: string;
  /** Label records read (bad ones excluded), distinct ids among them, and their labels (one per row). */
  records: number;
  ids: number;
  labels: number;
  /** Labels whose id matched a captured prediction of one of the windows. */
  matched: number;
  /** Labels (and ids) that matched none. */
  uncaptured: number;
  uncapturedIds: number;
  /** Records replaced by a later record of the same id in the file. */
  duplicates: number;
  countedAt: string;
  /** When a window joined again after the count (a late capture file) changed it: the counts are as of then. */
  recountedAt?: string;
  reportKey: string;
}

/** Key of a label file's tally report: `<prefix><model>/ground-truth-files/<label file id>.json`. */
export function labelFileReportKey(reportsPrefix: string, model: string, fileId: string): string {
  return `${reportsPrefix}${model}/ground-truth-files/${fileId}.json`;
}

/** Why a window got no estimate: named in its report and history item, counted in `EstimatesWithheld`. */
export interface EstimateWithheld {
  /**
   * `no-reference` (the reference is missing or unreadable), `one-class-reference` (its labels hold one
   * class), `model-changed` (the variant serves another model than the one that scored the reference),
   * `serving-model-unknown` (the endpoint or variant could not be described), `no-scores` (no row scored),
   * `failed` (anything else about the data, e.g. an unreadable baseline performance report).
   */
  code:
    | 'no-reference'
    | 'one-class-reference'
    | 'model-changed'
    | 'serving-model-unknown'
    | 'no-scores'
    | 'failed';
  reason: string;
}

export function historyKey(model: string, kind: HistoryItem['kind'], checkedAt: string, objectKey: string) {
  return { pk: `MODEL#${model}`, sk: `${kind}#${checkedAt}#${objectKey}` };
}

/** What the drift Lambda needs to know of its model, passed as JSON in the `MODEL_CONFIG` variable. */
export interface DriftModelRuntimeConfig {
  name: string;
  /** The model's retraining triggers, when it retrains (set by the shared engine from the model's config). */
  retrainingTriggers?: string[];
  /** Key prefix of incoming data files (ends with `/`). */
  incomingPrefix: string;
  /** Key of the baseline profile made by `driftwatch profile` (JSON, optionally .gz). */
  baselineProfileKey: string;
  numeric: string[];
  categorical: string[];
  exclude: string[];
  segment: string | null;
  method: MethodSetting | null;
  featureMethods: Record<string, MethodSetting>;
  driftShare: number;
  criticalFeatures: string[];
  /** FDR level of drift spec version 2, or null for version 1 decisions. */
  fdr: number | null;
  /** Version 2: the smallest KS D and chi-square Cramér's V that count as drift. */
  minEffect: { ks: number; chi2: number };
  /** Page when M of the last N checks drifted (for the engine's paging; the check itself ignores it). */
  persistence: { m: number; n: number };
  /** Objects larger than this are refused with a failure record. */
  maxObjectBytes: number;
  /** gzip inputs that expand past this are refused. */
  maxDecompressedBytes: number;
  /** The endpoints' Data Capture, checked per window (absent: the model has no capture). */
  capture?: CaptureRuntimeConfig;
}

/**
 * Key of a drift report in the results bucket: `<prefix><model>/<ISO time>/<file name>.<extension>`, the file
 * name being the last segment of the checked object's key.
 *
 * @example
 * ```ts
 * driftReportKey('reports/', 'churn', '2025-01-02T03:04:05.000Z', 'incoming/day 1.csv', 'json');
 * // 'reports/churn/2025-01-02T03:04:05.000Z/day 1.csv.json'
 * ```
 */
export function driftReportKey(
  reportsPrefix: string,
  model: string,
  checkedAt: string,
  objectKey: string,
  extension: 'json' | 'html',
): string {
  const fileName = objectKey.slice(objectKey.lastIndexOf('/') + 1);
  return `${reportsPrefix}${model}/${checkedAt}/${fileName}.${extension}`;
}

/** Key of a capture window's performance report: `<prefix><model>/capture-windows/<endpoint>/<variant>/<window start, compact>/<name>.json`. */
export function captureWindowReportKey(
  reportsPrefix: string,
  model: string,
  window: { endpoint: string; variant: string; start: Date },
  name: 'estimated' | 'realized',
): string {
  return `${reportsPrefix}${model}/capture-windows/${window.endpoint}/${window.variant}/${compactTime(window.start)}/${name}.json`;
}

/**
 * Detail of a `Performance Estimated Degraded` event: one per limit a capture window's CBPE estimate
 * breached. An expectation from the scores, not a measurement: it starts a retraining only when the model's
 * `retraining.triggers` name `estimatedPerformance`.
 */
export interface PerformanceEstimatedDegradedDetail extends PerformanceBreachSummary {
  model: string;
  estimated: true;
  /** `estimatedPerformance` when the model retrains on estimates (absent: no retraining starts). */
  retrainingTrigger?: 'estimatedPerformance';
  drop: number | null;
  endpoint: string;
  variant: string;
  /** The window estimated (its version says which re-check). */
  window: CaptureWindowLabel;
  /** S3 key of the estimated report in the results bucket ({@link captureWindowReportKey}). */
  reportKey: string;
  checkedAt: string;
}

/** Environment variables of the drift Lambda. */
export const DRIFT_ENV = {
  modelConfig: 'MODEL_CONFIG',
  dataBucket: 'DATA_BUCKET',
  resultsBucket: 'RESULTS_BUCKET',
  /** Prefix of reports in the results bucket; reports go to `<prefix><model>/<ISO time>/<file name>.json|html`. */
  reportsPrefix: 'REPORTS_PREFIX',
  historyTable: 'HISTORY_TABLE',
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  eventBusName: 'EVENT_BUS_NAME',
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  /** Table of Data Capture windows and their files (optional: without it, capture files are recorded as failed). */
  captureTable: 'CAPTURE_TABLE',
  /** The drift queue itself: the capture sweep sends one message per window due there. */
  queueUrl: 'QUEUE_URL',
  /** The FIFO queue the landing events are routed to, by model (see `lambdas/drift/route.ts`). */
  checksQueueUrl: 'CHECKS_QUEUE_URL',
  /** The landing queue's `maxReceiveCount`: the delivery after which SQS dead-letters a message. */
  maxReceiveCount: 'MAX_RECEIVE_COUNT',
  /** The engine's feedback stream (when a model has `conceptDrift`): outcomes of ground-truth joins go there. */
  feedbackStreamName: 'FEEDBACK_STREAM_NAME',
} as const;

/** Environment variables of the notifier Lambda. */
export const NOTIFIER_ENV = {
  historyTable: 'HISTORY_TABLE',
  topicArn: 'TOPIC_ARN',
  resultsBucket: 'RESULTS_BUCKET',
  dashboardName: 'DASHBOARD_NAME',
  /** Minutes between re-notifications of an open incident; empty: none. */
  renotifyMinutes: 'RENOTIFY_MINUTES',
  /** Names of the Page alarms: `<prefix><model>-Page`. */
  alarmNamePrefix: 'ALARM_NAME_PREFIX',
} as const;

/** One breached limit, as history items and `Performance Degraded` events name it. */
export interface PerformanceBreachSummary {
  metric: MetricName;
  /** The segment, or null for the whole dataset. */
  segment: { column: string; value: string } | null;
  limitKind: LimitKind;
  /** The report's value of the metric. */
  value: number;
  /** The bound: the min, the max, or the max drop (a share: 0.05 = 5%). */
  limit: number;
  /** The baseline report's value of the metric; null without a baseline. */
  baseline: number | null;
}

/**
 * Detail of a `Performance Degraded` event: one per breached limit of a scheduled performance check.
 *
 * @example
 * ```json
 * {"model": "credit", "metric": "gini", "segment": {"column": "tier", "value": "subprime"}, "value": 0.4397,
 *  "limit": 0.05, "limitKind": "maxDrop", "baseline": 0.5252, "drop": 0.1629,
 *  "reportKey": "reports/credit/performance/2025-01-02T03:04:05.000Z.json", ...}
 * ```
 */
export interface PerformanceDegradedDetail extends PerformanceBreachSummary {
  model: string;
  /** `performance` when the model retrains on degraded performance (absent: no retraining starts). */
  retrainingTrigger?: 'performance';
  /**
   * The relative degradation against the baseline (maxDrop only; null for min and max, and when the
   * baseline is 0, where it is infinite).
   */
  drop: number | null;
  /** S3 key of the JSON report in the results bucket. */
  reportKey: string;
  /** The golden dataset checked: bucket, key and version. */
  bucket: string;
  key: string;
  versionId: string | null;
  /** ISO 8601 time the check finished. */
  checkedAt: string;
  runId: string;
  /** Realized performance of a Data Capture window (labels joined to its predictions); absent for a golden check. */
  window?: CaptureWindowLabel;
  /**
   * A window's realized performance: the SageMaker model that served its variant then (recorded with the
   * window's first capture file; null: unknown). A breach of a model no longer serving the variant starts
   * no retraining.
   */
  servingModel?: string | null;
}

/** How the performance Lambda obtains the scores of the golden dataset. */
export type PerformanceScoring =
  | {
      kind: 'column';
      /** The column of the golden dataset holding the model's score. */
      scoreColumn: string;
    }
  | {
      kind: 'endpoint';
      /** SageMaker endpoint answering `InvokeEndpoint`. */
      endpointName: string;
      /** Request and response format: see `lambdas/performance/score-with-endpoint.ts`. */
      contentType: EndpointContentType;
      /** The model's features, in the order of the config; sent for each row, in this order for CSV. */
      features: { name: string; type: FeatureType }[];
      /** Most rows per request (fewer when the payload would reach the 6 MB limit). */
      batchRows: number;
      /** Most requests in flight at once. */
      maxConcurrency: number;
    };

/** Payload formats of `InvokeEndpoint` requests. */
export type EndpointContentType = 'application/json' | 'text/csv';

/** What the performance Lambda needs to know of its model, passed as JSON in the `MODEL_CONFIG` variable. */
export interface PerformanceModelRuntimeConfig {
  name: string;
  /** The model's retraining triggers, when it retrains (set by the shared engine from the model's config). */
  retrainingTriggers?: string[];
  /** Key of the golden (labelled) dataset in the data bucket. */
  goldenDatasetKey: string;
  /** Key of the baseline performance report in the data bucket: written by the first successful run. */
  baselineReportKey: string;
  labelColumn: string;
  /** Label value of the positive class. */
  positiveClass: string;
  /** The only labels allowed; null: any label (all but the positive one are negative). */
  classes: string[] | null;
  /** A row is predicted positive when its score is >= this. */
  threshold: number;
  /** Column whose values segment limits refer to; null: whole dataset only. */
  segmentColumn: string | null;
  limits: PerformanceLimit[];
  scoring: PerformanceScoring;
  /** gzip golden datasets that expand past this are refused. */
  maxDecompressedBytes: number;
}

/**
 * Input of the performance Lambda, as its EventBridge Scheduler schedule sends it. `executionId` and
 * `scheduledTime` are the Scheduler's context attributes; a hand-made invocation may leave them out.
 *
 * @example
 * ```json
 * {"model": "churn", "executionId": "1b9b2bd7-…", "scheduledTime": "2025-01-02T05:00:00Z"}
 * ```
 */
export interface PerformanceCheckEvent {
  model: string;
  executionId?: string;
  scheduledTime?: string;
}

/**
 * Key of a performance report in the results bucket: `<prefix><model>/performance/<ISO time>.json`.
 *
 * @example
 * ```ts
 * performanceReportKey('reports/', 'churn', '2025-01-02T03:04:05.000Z');
 * // 'reports/churn/performance/2025-01-02T03:04:05.000Z.json'
 * ```
 */
export function performanceReportKey(reportsPrefix: string, model: string, checkedAt: string): string {
  return `${reportsPrefix}${model}/performance/${checkedAt}.json`;
}

/** Environment variables of the performance Lambda. */
export const PERFORMANCE_ENV = {
  modelConfig: 'MODEL_CONFIG',
  /** The landing bucket: golden datasets and baseline reports. */
  dataBucket: 'DATA_BUCKET',
  resultsBucket: 'RESULTS_BUCKET',
  /** Prefix of reports in the results bucket; see {@link performanceReportKey}. */
  reportsPrefix: 'REPORTS_PREFIX',
  historyTable: 'HISTORY_TABLE',
  eventBusName: 'EVENT_BUS_NAME',
} as const;
