/**
 * The consumer's batch logic with in-memory ports: versioned writes that conflict, stores and buses that
 * fail, and what is reported back to Lambda. The same code against DynamoDB, EventBridge and SQS emulators
 * is tested in test/local/aws/feedback-stream.test.ts.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { FeedbackSettings } from '../../../lambdas/core/concept-drift/feedback.ts';
import {
  type CohortStore,
  type FeedbackPorts,
  processFeedbackBatch,
  type RejectedRecord,
  type StoredCohort,
} from '../../../lambdas/feedback/consumer.ts';
import type { ConceptDriftDetectedDetail } from '../../../lambdas/shared/contract.ts';
import { staticCatalog } from '../../../lambdas/shared/model-catalog.ts';

const settings: FeedbackSettings = {
  name: 'fraud',
  model: 'fraud',
  positiveClass: '1',
  threshold: 0.5,
  cohorts: ['country'],
  maxCohortsPerAttribute: 10,
  detectors: [{ method: 'adwin', parameters: {} }],
  rateMonitors: [],
  renotifyAfterMs: 3_600_000,
  segmentColumn: 'country',
  retrains: true,
  segmentRetraining: true,
};

/** A store whose reads and writes interleave like DynamoDB's under concurrent writers. */
function memoryStore(options: { failPuts?: number } = {}) {
  const items = new Map<string, StoredCohort>();
  let failPuts = options.failPuts ?? 0;
  let conflicts = 0;
  const store: CohortStore = {
    async get(model, cohort) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      const item = items.get(`${model}/${cohort}`);
      return item ? structuredClone(item) : undefined;
    },
    async put(next, expected) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      if (failPuts > 0) {
        failPuts--;
        throw new Error('ProvisionedThroughputExceededException');
      }
      const key = `${next.state.model}/${next.state.cohort}`;
      if (items.get(key)?.version !== expected) {
        conflicts++;
        return false;
      }
      items.set(key, structuredClone(next));
      return true;
    },
  };
  return { store, items, conflicts: () => conflicts };
}

function ports(store: CohortStore, overrides: Partial<FeedbackPorts> = {}) {
  const events: ConceptDriftDetectedDetail[] = [];
  const rejected: RejectedRecord[] = [];
  const value: FeedbackPorts = {
    catalog: staticCatalog(settings),
    store,
    putEvents: async (details) => {
      events.push(...details);
    },
    reject: async (records) => {
      rejected.push(...records);
    },
    now: () => 2_000_000_000_000,
    pause: async () => {},
    ...overrides,
  };
  return { ports: value, events, rejected };
}

/** A Kinesis event of one shard: outcomes `from`..`from+n-1`, error rate `errorRate`. */
function batch(
  shard: number,
  from: number,
  n: number,
  errorRate: number,
  extra: string[] = [],
): KinesisStreamEvent {
  const data = Array.from({ length: n }, (_, i) => {
    const wrong = ((from + i) * 7919) % 100 < errorRate * 100;
    return JSON.stringify({
      model: 'fraud',
      label: 1,
      prediction: wrong ? 0.1 : 0.9,
      cohort: { country: (from + i) % 2 ? 'FR' : 'DE' },
      eventTime: 1_700_000_000_000 + (from + i) * 1000,
    });
  });
  return {
    Records: [...data, ...extra].map((text, i) => ({
      eventID: `shardId-00000000000${shard}:${String(from + i).padStart(30, '0')}`,
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:1:stream/s',
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'fraud',
        sequenceNumber: String(from + i).padStart(30, '0'),
        data: Buffer.from(text).toString('base64'),
        approximateArrivalTimestamp: 1_999_999_999.5,
      },
    })),
  };
}

describe('processFeedbackBatch', () => {
  it('never loses an update when batches of two shards write the same states at once', async () => {
    const { store, items, conflicts } = memoryStore();
    const { ports: p } = ports(store);
    // One batch at a time per shard (as the mapping runs them), the two shards at once.
    const shard = async (id: number) => {
      const failures = [];
      for (let i = 0; i < 4; i++)
        failures.push(
          ...(await processFeedbackBatch(batch(id, (id * 4 + i) * 100, 100, 0.1), p)).batchItemFailures,
        );
      return failures;
    };
    expect((await Promise.all([shard(0), shard(1)])).flat()).toEqual([]);
    expect(items.get('fraud/*')!.state.n).toBe(800);
    expect(items.get('fraud/country=FR')!.state.n + items.get('fraud/country=DE')!.state.n).toBe(800);
    expect(conflicts()).toBeGreaterThan(0);
  });

  it('sends unparseable records to the failure port with the reason and applies the others', async () => {
    const { store, items } = memoryStore();
    const { ports: p, rejected } = ports(store);
    const result = await processFeedbackBatch(
      batch(0, 0, 10, 0, [
        'nope',
        '{"model":"fraud","label":1}',
        '{"model":"other","label":1,"prediction":1}',
      ]),
      p,
    );
    expect(result.batchItemFailures).toEqual([]);
    expect(
      rejected.map((record) => [record.reason, record.model]),
      JSON.stringify(rejected),
    ).toEqual([
      [expect.stringMatching(/^not JSON/), null],
      ['prediction: missing', 'fraud'],
      ['model: "other" is not a configured model with a conceptDrift section', 'other'],
    ]);
    expect(result.counts.get('fraud')!.rejected).toBe(1);
    expect(result.unrouted).toBe(2);
    expect(items.get('fraud/*')!.state.n).toBe(10);
  });

  it('with a parallelization factor above 1, refuses records not keyed by their model instead of skipping them as applied', async () => {
    // Two batches of one shard, keyed by customer (two lanes), done out of order: the later one first.
    const keyed = (event: KinesisStreamEvent, key: string) => {
      for (const record of event.Records) record.kinesis.partitionKey = key;
      return event;
    };
    const early = keyed(batch(0, 0, 50, 0.1), 'customer-7');
    const late = keyed(batch(0, 50, 50, 0.1), 'customer-9');

    // Factor 1 (the mapping never does this): the earlier batch would be skipped as already applied.
    const unsafe = memoryStore();
    await processFeedbackBatch(late, ports(unsafe.store).ports);
    const dropped = await processFeedbackBatch(early, ports(unsafe.store).ports);
    // Every outcome counted as a duplicate twice (the whole model and its cohort), none applied.
    expect(dropped.counts.get('fraud')).toMatchObject({ applied: 0, duplicates: 50 * 2 });

    const { store, items } = memoryStore();
    const { ports: p, rejected } = ports(store, { parallelizationFactor: 4 });
    for (const event of [late, early]) {
      const result = await processFeedbackBatch(event, p);
      expect(result.batchItemFailures).toEqual([]);
      expect(result.counts.get('fraud')).toMatchObject({ applied: 0, duplicates: 0, rejected: 50 });
    }
    expect(rejected).toHaveLength(100);
    expect(rejected[0]!.reason).toBe(
      'partitionKey: "customer-9" is not the model\'s name "fraud": the stream is read with a parallelization ' +
        "factor of 4, which keeps records in order per partition key only, so a model's outcomes must all be " +
        'put with its name as the partition key (put it again so)',
    );
    expect(rejected.map((record) => record.partitionKey)).toContain('customer-7');
    expect(items.size).toBe(0);

    // Keyed by the model, the same records are applied, each once.
    for (const event of [keyed(batch(0, 0, 50, 0.1), 'fraud'), keyed(batch(0, 50, 50, 0.1), 'fraud')])
      await processFeedbackBatch(event, p);
    expect(items.get('fraud/*')!.state.n).toBe(100);
  });

  it('reports the first record for a retry when a state cannot be written, and the retry applies each outcome once', async () => {
    const { store, items } = memoryStore({ failPuts: 1 });
    const { ports: p } = ports(store);
    const event = batch(0, 0, 50, 0.1);
    const failed = await processFeedbackBatch(event, p);
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.kinesis.sequenceNumber }]);
    const retried = await processFeedbackBatch(event, p);
    expect(retried.batchItemFailures).toEqual([]);
    const again = await processFeedbackBatch(event, p);
    expect(again.counts.get('fraud')!.duplicates).toBe(50 * 2);
    expect(items.get('fraud/*')!.state.n).toBe(50);
  });

  it('keeps a detection whose event could not be put and puts it with the next batch (at least once)', async () => {
    const { store, items } = memoryStore();
    let failing = true;
    const { ports: p, events } = ports(store, {
      putEvents: async (details) => {
        if (failing) throw new Error('EventBridge is down');
        events.push(...details);
      },
    });
    const flip = [batch(0, 0, 1500, 0.02), batch(0, 1500, 1500, 0.5)];
    await processFeedbackBatch(flip[0]!, p);
    const broken = await processFeedbackBatch(flip[1]!, p);
    expect(broken.batchItemFailures).toHaveLength(1);
    expect(items.get('fraud/*')!.pending.length).toBeGreaterThan(0);
    failing = false;
    await processFeedbackBatch(flip[1]!, p);
    const whole = events.filter((event) => event.cohort === null);
    expect(whole).toHaveLength(1);
    expect(whole[0]).toMatchObject({ model: 'fraud', detector: 'adwin', retrainingTrigger: 'conceptDrift' });
    expect(items.get('fraud/*')!.pending).toEqual([]);
    // A cohort of the segment column retrains that segment.
    const cohort = events.find((event) => event.cohort !== null)!;
    expect(cohort.segment).toEqual({ column: 'country', value: cohort.cohort!.value });
    expect(cohort.retrainingTrigger).toBe('conceptDrift');
  });
});
