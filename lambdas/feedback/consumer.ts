/**
 * One batch of the feedback stream (one shard's records, in order): records are parsed, their outcomes
 * applied to the model's state and to each cohort's, each state read and written back with a version
 * check, and every detection put as a `Concept Drift Detected` event. The AWS calls are behind the small
 * ports below (./aws.ts implements them), so the tests can run this against the local emulators.
 *
 * What happens to each record:
 * - it cannot be parsed, or names no model with a `conceptDrift` section: it goes to the failure queue with
 *   the reason (and its data), and is counted; the batch goes on;
 * - it was applied before (a retried or duplicated batch): skipped, by the last sequence number per shard
 *   each state keeps;
 * - the mapping's parallelization factor is above 1 and its partition key is not its model's name: it goes
 *   to the failure queue with the reason. Lambda then processes batches of one shard at once and keeps order
 *   only per partition key; with the model as the key, each model's records (and so each of its states)
 *   still arrive in order, one batch at a time, so the last sequence number per shard stays exact. With any
 *   other key, a later batch could be applied first and the earlier one skipped as already applied;
 * - a state cannot be written (throttling, an outage): the first such record's sequence number is reported
 *   as the batch item failure, so Lambda retries from there (bisecting the batch) and, after its retries,
 *   sends the range to the on-failure destination. Records after it that were applied are skipped then.
 */
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import {
  applyOutcomes,
  type CohortSignal,
  type CohortState,
  cohortsOf,
  FeedbackRecordError,
  type FeedbackSettings,
  feedbackOutcome,
  parseCohortKey,
  parseFeedbackRecord,
  type StreamOutcome,
  WHOLE_MODEL,
} from '../core/concept-drift/feedback.ts';
import type { ConceptDriftDetectedDetail } from '../shared/contract.ts';
import type { ModelCatalog } from '../shared/model-catalog.ts';

/** A cohort's stored state, its version (for the conditional write) and the detections not yet put. */
export interface StoredCohort {
  state: CohortState;
  version: number;
  pending: ConceptDriftDetectedDetail[];
}

export interface CohortStore {
  get(model: string, cohort: string): Promise<StoredCohort | undefined>;
  /**
   * Writes `next` if the stored version is still `expected` (undefined: no item yet); false when another
   * writer got there first.
   */
  put(next: StoredCohort, expected: number | undefined): Promise<boolean>;
}

/** A record that could not be applied, for the failure queue. */
export interface RejectedRecord {
  reason: string;
  model: string | null;
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  arrivedAt: string;
  /** The record's data, base64, as it arrived (cut to 200 KB). */
  data: string;
}

export interface FeedbackPorts {
  catalog: ModelCatalog<FeedbackSettings>;
  store: CohortStore;
  putEvents(details: readonly ConceptDriftDetectedDetail[]): Promise<void>;
  reject(records: readonly RejectedRecord[]): Promise<void>;
  now(): number;
  /** Waits before a retry after a write conflict. @default a short random pause */
  pause?(attempt: number): Promise<void>;
  /**
   * The event source mapping's `ParallelizationFactor`: above 1, a record's partition key must be its
   * model's name. @default 1
   */
  parallelizationFactor?: number;
}

/** What a batch did, per model, for metrics and logs. */
export interface ModelCounts {
  applied: number;
  duplicates: number;
  rejected: number;
  detections: number;
  /** Detections within the quiet time of an earlier one: counted, not reported. */
  quieted: number;
  /** Outcomes whose cohort value was beyond `maxCohortsPerAttribute` (counted for the whole model only). */
  cohortOverflow: number;
  /** Seconds from each detection's record entering the stream to its event. */
  latencies: number[];
  /** Detections that page (all of them) by reason. */
  pages: { conceptDrift: number; cohortRate: number };
}

export interface BatchResult extends KinesisStreamBatchResponse {
  counts: Map<string, ModelCounts>;
  /** Records rejected because they name no configured model. */
  unrouted: number;
  conflicts: number;
}

/** Write attempts of one state before the batch is reported failed from its first record. */
const MAX_WRITE_ATTEMPTS = 12;
/** Cohort states updated at once. */
const COHORT_CONCURRENCY = 8;
const DATA_LIMIT = 200 * 1024;

const emptyCounts = (): ModelCounts => ({
  applied: 0,
  duplicates: 0,
  rejected: 0,
  detections: 0,
  quieted: 0,
  cohortOverflow: 0,
  latencies: [],
  pages: { conceptDrift: 0, cohortRate: 0 },
});

export async function processFeedbackBatch(
  event: KinesisStreamEvent,
  ports: FeedbackPorts,
): Promise<BatchResult> {
  const counts = new Map<string, ModelCounts>();
  const countsOf = (model: string) => {
    const entry = counts.get(model) ?? emptyCounts();
    counts.set(model, entry);
    return entry;
  };
  const rejected: RejectedRecord[] = [];
  let unrouted = 0;
  const byModel = new Map<string, { settings: FeedbackSettings; outcomes: StreamOutcome[] }>();
  for (const record of event.Records) {
    const { kinesis } = record;
    const arrivedAt = Math.round(kinesis.approximateArrivalTimestamp * 1000);
    try {
      const parsed = parseFeedbackRecord(Buffer.from(kinesis.data, 'base64').toString('utf8'));
      const settings = await ports.catalog.get(parsed.model);
      if (!settings)
        throw new FeedbackRecordError(
          `model: ${JSON.stringify(parsed.model)} is not a configured model with a conceptDrift section`,
          parsed.model,
        );
      const factor = ports.parallelizationFactor ?? 1;
      if (factor > 1 && kinesis.partitionKey !== settings.model)
        throw new FeedbackRecordError(
          `partitionKey: ${JSON.stringify(kinesis.partitionKey)} is not the model's name ${JSON.stringify(settings.model)}: ` +
            `the stream is read with a parallelization factor of ${factor}, which keeps records in order per partition ` +
            "key only, so a model's outcomes must all be put with its name as the partition key (put it again so)",
          settings.model,
        );
      const group = byModel.get(settings.model) ?? { settings, outcomes: [] };
      byModel.set(settings.model, group);
      group.outcomes.push({
        shardId: shardOf(record),
        sequenceNumber: kinesis.sequenceNumber,
        arrivedAt,
        outcome: feedbackOutcome(parsed, settings, arrivedAt),
      });
    } catch (error) {
      if (!(error instanceof FeedbackRecordError)) throw error;
      const model = error.model !== null && (await ports.catalog.get(error.model)) ? error.model : null;
      if (model === null) unrouted++;
      else countsOf(model).rejected++;
      rejected.push({
        reason: error.message,
        model: error.model,
        shardId: shardOf(record),
        sequenceNumber: kinesis.sequenceNumber,
        partitionKey: kinesis.partitionKey,
        arrivedAt: new Date(arrivedAt).toISOString(),
        data: kinesis.data.length > DATA_LIMIT ? kinesis.data.slice(0, DATA_LIMIT) : kinesis.data,
      });
    }
  }
  // Nothing is dropped: when the failure queue cannot take them, the batch is retried from the first one.
  const failed: string[] = [];
  if (rejected.length > 0) {
    try {
      await ports.reject(rejected);
    } catch {
      failed.push(rejected[0]!.sequenceNumber);
    }
  }

  let conflicts = 0;
  const update = async (
    settings: FeedbackSettings,
    cohort: string,
    outcomes: StreamOutcome[],
  ): Promise<CohortState | null> => {
    const counts = countsOf(settings.model);
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const stored = await ports.store.get(settings.model, cohort);
      const result = applyOutcomes(stored?.state, settings, cohort, outcomes);
      const fresh = result.signals.map((signal) => detailOf(settings, cohort, signal, ports.now()));
      const pending = [...(stored?.pending ?? []), ...fresh];
      let version = stored?.version ?? 0;
      if (result.applied > 0 || stored === undefined) {
        const next: StoredCohort = { state: result.state, version: version + 1, pending };
        if (!(await ports.store.put(next, stored?.version))) {
          conflicts++;
          await (ports.pause ?? randomPause)(attempt);
          continue;
        }
        version++;
      }
      counts.applied += result.applied;
      counts.duplicates += result.duplicates;
      counts.quieted += result.quieted;
      if (pending.length > 0) {
        // At least once: put, then clear; a failure to clear only means the events are put again.
        await ports.putEvents(pending);
        for (const detail of fresh) {
          counts.detections++;
          counts.latencies.push((Date.parse(detail.detectedAt) - Date.parse(detail.arrivedAt)) / 1000);
          if (detail.detector.startsWith('rate:')) counts.pages.cohortRate++;
          else counts.pages.conceptDrift++;
        }
        await ports.store.put({ state: result.state, version: version + 1, pending: [] }, version);
      }
      return result.state;
    }
    throw new Error(`${settings.model} ${cohort}: ${MAX_WRITE_ATTEMPTS} conflicting writes in a row`);
  };

  for (const { settings, outcomes } of byModel.values()) {
    const first = outcomes[0]!.sequenceNumber;
    try {
      // The whole model first: it admits the cohort values the cohorts' states may be created for.
      const whole = await update(settings, WHOLE_MODEL, outcomes);
      const admitted = whole?.cohortValues ?? {};
      const cohorts = new Map<string, StreamOutcome[]>();
      for (const item of outcomes) {
        const { cohorts: keys, overflow } = cohortsOf(item.outcome, settings, admitted);
        countsOf(settings.model).cohortOverflow += overflow;
        for (const key of keys) {
          const list = cohorts.get(key) ?? [];
          list.push(item);
          cohorts.set(key, list);
        }
      }
      const queue = [...cohorts.entries()];
      const errors: unknown[] = [];
      await Promise.all(
        Array.from({ length: Math.min(COHORT_CONCURRENCY, queue.length) }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) {
            try {
              await update(settings, next[0], next[1]);
            } catch (error) {
              errors.push(error);
            }
          }
        }),
      );
      if (errors.length > 0) throw errors[0];
    } catch (error) {
      if (error instanceof FeedbackRecordError) throw error;
      failed.push(first);
    }
  }
  // One shard per batch: retrying from the earliest failed record retries everything after it, and the
  // states skip what they already applied.
  const earliest = failed.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0];
  return {
    batchItemFailures: earliest === undefined ? [] : [{ itemIdentifier: earliest }],
    counts,
    unrouted,
    conflicts,
  };
}

/** The shard of a record: the event id is `shardId-…:sequenceNumber`. */
function shardOf(record: KinesisStreamRecord): string {
  const id = record.eventID ?? '';
  const colon = id.lastIndexOf(':');
  return colon > 0 ? id.slice(0, colon) : 'shard';
}

async function randomPause(attempt: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 10 * 2 ** attempt)));
}

/** The event of a detection. */
export function detailOf(
  settings: FeedbackSettings,
  cohort: string,
  signal: CohortSignal,
  now: number,
): ConceptDriftDetectedDetail {
  const parsed = parseCohortKey(cohort);
  const segment =
    parsed !== null && parsed.attribute === settings.segmentColumn
      ? { column: parsed.attribute, value: parsed.value }
      : undefined;
  const round = (value: number) => Math.round(value * 1e6) / 1e6;
  return {
    model: settings.model,
    // A cohort's detection retrains that segment (with segment retraining on); otherwise only the whole
    // model's detections start a run, and a cohort's page (its run would be the whole model's again).
    ...(settings.retrains &&
    signal.kind === 'detector' &&
    (parsed === null || (segment !== undefined && settings.segmentRetraining))
      ? { retrainingTrigger: 'conceptDrift' as const }
      : {}),
    cohort: parsed,
    detector: signal.detector,
    position: signal.position,
    errorRateBefore: round(signal.before),
    errorRateAfter: signal.after === null ? null : round(signal.after),
    windowLength: signal.windowLength,
    windowStart: signal.windowStart === null ? null : new Date(signal.windowStart).toISOString(),
    eventTime: new Date(signal.eventTime).toISOString(),
    arrivedAt: new Date(signal.arrivedAt).toISOString(),
    detectedAt: new Date(now).toISOString(),
    ...(segment ? { segment } : {}),
  };
}
