/**
 * What the deployed pieces agree on: metric names and dimensions, event shapes, history items and the
 * environment a handler reads. Declared once here and imported by the handlers (which emit), the constructs
 * in lib/ (which alarm and draw dashboards) and the tests. No AWS SDK imports: plain data only.
 */
import type { MethodSetting } from '../core/drift/options.ts';

/** CloudWatch namespace of every driftwatch metric. */
export const METRIC_NAMESPACE = 'Driftwatch';

/** Dimension names. Every metric has `Model`; feature metrics add `Feature`; segment metrics add `Segment`. */
export const DIMENSION = {
  model: 'Model',
  feature: 'Feature',
  /** `column=value` of a segment, or `all` for whole-dataset values. */
  segment: 'Segment',
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
} as const;

/** EventBridge source of driftwatch's own events. */
export const EVENT_SOURCE = 'driftwatch';

export const DETAIL_TYPE = {
  driftDetected: 'Drift Detected',
  performanceDegraded: 'Performance Degraded',
} as const;

/** Detail of a `Drift Detected` event: put when the dataset drifted or a critical feature drifted. */
export interface DriftDetectedDetail {
  model: string;
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
}

/**
 * History table: one item per check. Partition key `pk` = `MODEL#<name>`, sort key `sk` =
 * `<kind>#<ISO time>#<object key>`, so a model's drift history is one Query in time order.
 */
export interface HistoryItem {
  pk: string;
  sk: string;
  model: string;
  kind: 'drift' | 'performance' | 'retraining';
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
  /** Present on failure: the error's class name and its one-line message (never data rows). */
  error?: { name: string; message: string };
}

export function historyKey(model: string, kind: HistoryItem['kind'], checkedAt: string, objectKey: string) {
  return { pk: `MODEL#${model}`, sk: `${kind}#${checkedAt}#${objectKey}` };
}

/** What the drift Lambda needs to know of its model, passed as JSON in the `MODEL_CONFIG` variable. */
export interface DriftModelRuntimeConfig {
  name: string;
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
  /** Objects larger than this are refused with a failure record. */
  maxObjectBytes: number;
  /** gzip inputs that expand past this are refused. */
  maxDecompressedBytes: number;
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
} as const;
