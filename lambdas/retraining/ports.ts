/**
 * What the retraining handlers need from AWS, as small interfaces: the handlers take them as arguments, the
 * Lambda entry points pass the AWS implementations (./aws.ts), and the tests pass in-memory fakes or adapters
 * to local emulators. Each method maps to one or two AWS calls.
 */
import type { ChampionRecord, ModelStateItem } from '../shared/retraining-contract.ts';

export interface StoredObject {
  key: string;
  etag: string | null;
  versionId: string | null;
  lastModified: Date;
  size: number;
}

export interface ObjectStore {
  /** Every object under `prefix` (paginated ListObjectsV2). */
  list(bucket: string, prefix: string): Promise<StoredObject[]>;
  getText(
    bucket: string,
    key: string,
  ): Promise<{ text: string; etag: string | null; versionId: string | null }>;
  putText(bucket: string, key: string, text: string, contentType: string): Promise<{ etag: string | null }>;
  copy(from: { bucket: string; key: string }, to: { bucket: string; key: string }): Promise<void>;
}

export interface ModelStateStore {
  get(model: string): Promise<ModelStateItem | undefined>;
  /** Adds to the month's spend; spend recorded for another month is replaced. */
  addSpend(model: string, month: string, usd: number): Promise<void>;
  setChampion(model: string, champion: ChampionRecord): Promise<void>;
}

export type ApprovalStatus = 'PendingManualApproval' | 'Approved' | 'Rejected';

export interface ModelPackageInput {
  groupName: string;
  description: string;
  image: string;
  modelDataUrl: string;
  /** S3 URI of the evaluation JSON (ModelMetrics.ModelQuality.Statistics). */
  metricsUri: string;
  /** Lineage, each value at most 256 characters (SageMaker's limit). */
  metadata: Record<string, string>;
}

export interface ModelRegistry {
  createPackage(input: ModelPackageInput): Promise<{ arn: string; version: number | null }>;
  setStatus(arn: string, status: ApprovalStatus, description: string): Promise<void>;
}

export interface VariantTraffic {
  invocations: number;
  errors5xx: number;
  meanLatencyMicros: number | null;
}

export interface VariantMetricsSource {
  /** AWS/SageMaker Invocations, Invocation5XXErrors (sums) and ModelLatency (mean) of one variant. */
  get(endpoint: string, variant: string, start: Date, end: Date): Promise<VariantTraffic>;
}
