import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { describe, expect, it } from 'vitest';
import { ConfigError, ValueError } from '../../../lambdas/core/errors.ts';
import type { CellValue, TableSink } from '../../../lambdas/core/readers/types.ts';
import {
  type BatchContext,
  csvPayloadFormat,
  EndpointInvocationError,
  EndpointResponseError,
  type EndpointScoringOptions,
  EndpointScoringSink,
  isRetryableEndpointError,
  jsonPayloadFormat,
  parseScores,
  type Timing,
  withRetries,
} from '../../../lambdas/performance/score-with-endpoint.ts';

const CONTEXT: BatchContext = { endpointName: 'churn-prod', batch: 2, firstRow: 11, rows: 3 };

describe('payload formats', () => {
  it('writes JSON instances with the features in order and null for missing values', () => {
    const format = jsonPayloadFormat(['plan', 'calls', 'note "x"']);
    const rows = [format.row(['gold', 3, null]), format.row([null, 2.5, 'a,b'])];
    const body = format.body(rows);
    expect(JSON.parse(body)).toEqual({
      instances: [
        { plan: 'gold', calls: 3, 'note "x"': null },
        { plan: null, calls: 2.5, 'note "x"': 'a,b' },
      ],
    });
    const rowBytes = rows.reduce((sum, row) => sum + Buffer.byteLength(row), 0);
    expect(Buffer.byteLength(body)).toBe(rowBytes + format.overheadBytes(2));
  });

  it('writes headerless CSV lines with RFC 4180 quoting and empty fields for missing values', () => {
    const format = csvPayloadFormat();
    const rows = [
      format.row(['gold', 3, null]),
      format.row(['say "hi"', 2.5, 'a,b']),
      format.row(['', true, 'x\ny']),
    ];
    const body = format.body(rows);
    expect(body).toBe('gold,3,\n"say ""hi""",2.5,"a,b"\n"",true,"x\ny"\n');
    const rowBytes = rows.reduce((sum, row) => sum + Buffer.byteLength(row), 0);
    expect(Buffer.byteLength(body)).toBe(rowBytes + format.overheadBytes(3));
  });
});

describe('parseScores', () => {
  it('reads {"predictions": [{"score": s}]} and bare numbers', () => {
    expect([
      ...parseScores('{"predictions":[{"score":0.25},{"score":1},0]}', 'application/json', CONTEXT),
    ]).toEqual([0.25, 1, 0]);
  });

  it('reads one score per line of text/csv, blank trailing lines ignored', () => {
    expect([...parseScores('0.1\r\n0.2\n0.3\n\n', 'text/csv', CONTEXT)]).toEqual([0.1, 0.2, 0.3]);
  });

  it.each([
    [
      '{"predictions":[{"score":0.1}]}',
      'application/json',
      /batch 2 \(rows 11-13\): 3 rows sent, 1 score returned/,
    ],
    ['0.1\n0.2\n0.3\n0.4\n', 'text/csv', /3 rows sent, 4 scores returned/],
    [
      '{"predictions":[{"score":0.1},{"score":-0.1},{"score":0.3}]}',
      'application/json',
      /score of row 12 is not/,
    ],
    [
      '{"predictions":[{"score":0.1},{"score":null},{"score":0.3}]}',
      'application/json',
      /score of row 12 is not/,
    ],
    ['{"predictions":[{"p":0.1},{"score":0.2},{"score":0.3}]}', 'application/json', /score of row 11 is not/],
    ['0.1\nNaN\n0.3\n', 'text/csv', /score of row 12 is not a number in \[0, 1\]/],
    ['0.1\n\n0.3\n', 'text/csv', /score of row 12/],
    ['{"scores":[]}', 'application/json', /no "predictions" array/],
    ['not json', 'application/json', /not JSON/],
  ] as const)('refuses %j (%s)', (body, contentType, message) => {
    expect(() => parseScores(body, contentType, CONTEXT)).toThrow(EndpointResponseError);
    expect(() => parseScores(body, contentType, CONTEXT)).toThrow(message);
  });
});

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
}

describe('retries', () => {
  it.each([
    ['ThrottlingException', 400, true],
    ['ModelNotReadyException', 429, true],
    ['ServiceUnavailable', 503, true],
    ['InternalFailure', 500, true],
    ['SomethingNew', 502, true],
    ['ModelError', 424, false],
    ['ValidationError', 400, false],
  ] as const)('%s (HTTP %d) is retryable: %s', (name, status, retryable) => {
    expect(isRetryableEndpointError(sdkError(name, status))).toBe(retryable);
  });

  it('waits a jittered, doubling, capped delay between attempts and gives up after the last', async () => {
    const waits: number[] = [];
    const timing: Timing = { sleep: async (ms) => void waits.push(ms), random: () => 0.5 };
    let calls = 0;
    const attempt = withRetries(
      async () => {
        calls++;
        throw sdkError('ThrottlingException', 400);
      },
      { attempts: 5, baseDelayMs: 100, maxDelayMs: 500 },
      timing,
      { giveUp: (error, attempts) => new EndpointInvocationError(CONTEXT, attempts, error) },
    );
    await expect(attempt).rejects.toThrow(
      'endpoint churn-prod, batch 2 (rows 11-13): ThrottlingException (HTTP 400) after 5 attempts: ThrottlingException happened',
    );
    expect(calls).toBe(5);
    expect(waits).toEqual([50, 100, 200, 250]);
  });

  it('does not retry what cannot succeed', async () => {
    let calls = 0;
    const attempt = withRetries(
      async () => {
        calls++;
        throw sdkError('ModelError', 424);
      },
      { attempts: 5, baseDelayMs: 1, maxDelayMs: 1 },
      { sleep: async () => {}, random: () => 0 },
      { giveUp: (error, attempts) => new EndpointInvocationError(CONTEXT, attempts, error) },
    );
    await expect(attempt).rejects.toMatchObject({
      name: 'EndpointInvocationError',
      attempts: 1,
      errorName: 'ModelError',
    });
    expect(calls).toBe(1);
  });
});

/** A target sink recording the rows replayed into it. */
class RecordingTarget implements TableSink {
  readonly columns: string[] = [];
  readonly rows: CellValue[][] = [];
  private row: CellValue[] = [null, null, null];
  column(name: string): number {
    this.columns.push(name);
    return this.columns.length - 1;
  }
  bytes(): void {
    throw new Error('the sink replays values only');
  }
  value(index: number, value: CellValue): void {
    this.row[index] = value;
  }
  endRow(): void {
    this.rows.push(this.row);
    this.row = [null, null, null];
  }
}

interface FakeCall {
  rows: Record<string, unknown>[];
  resolve: () => void;
}

/** A SageMaker Runtime client answering each call when the test says so, score = x / 100. */
function fakeClient() {
  const calls: FakeCall[] = [];
  let inFlight = 0;
  let peak = 0;
  const client = {
    send: (command: { input: { Body: Uint8Array } }) => {
      const rows = (
        JSON.parse(Buffer.from(command.input.Body).toString('utf8')) as {
          instances: Record<string, unknown>[];
        }
      ).instances;
      inFlight++;
      peak = Math.max(peak, inFlight);
      return new Promise((resolve) => {
        calls.push({
          rows,
          resolve: () => {
            inFlight--;
            const predictions = rows.map((row) => ({ score: (row['x'] as number) / 100 }));
            resolve({ Body: Buffer.from(JSON.stringify({ predictions })) });
          },
        });
      });
    },
  } as unknown as Pick<SageMakerRuntimeClient, 'send'>;
  return { client, calls, peak: () => peak };
}

function options(
  client: Pick<SageMakerRuntimeClient, 'send'>,
  extra: Partial<EndpointScoringOptions> = {},
): EndpointScoringOptions {
  return {
    client,
    endpointName: 'm',
    contentType: 'application/json',
    features: [{ name: 'x', type: 'numeric' }],
    labelColumn: 'y',
    segmentColumn: 's',
    fields: { label: 'labelColumn', segment: 'segmentColumn', features: 'features', classes: 'classes' },
    batchRows: 2,
    maxConcurrency: 2,
    ...extra,
  };
}

/** Pushes rows (x, y, s) through the sink as a JSON Lines reader would. */
function push(sink: EndpointScoringSink, rows: [number, string | null, string][]) {
  const x = sink.column('x');
  const y = sink.column('y');
  const s = sink.column('s');
  for (const [xValue, yValue, sValue] of rows) {
    sink.value(x, xValue);
    sink.value(y, yValue);
    sink.value(s, sValue);
    sink.endRow();
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('EndpointScoringSink', () => {
  it('replays scored rows in file order although batches finish in another order', async () => {
    const fake = fakeClient();
    const target = new RecordingTarget();
    const sink = new EndpointScoringSink(options(fake.client), target);
    push(sink, [
      [10, 'a', 'p'],
      [20, null, 'q'],
      [30, 'b', 'p'],
      [40, 'a', 'q'],
      [50, 'b', 'p'],
      [60, 'a', 'q'],
    ]);
    expect(target.columns).toEqual(['y', '(endpoint score)', 's']);
    // The unlabelled row is replayed at once, unscored; two full batches are in flight, the last waits for finish.
    expect(target.rows).toEqual([[null, null, 'q']]);
    expect(fake.calls.map((call) => call.rows.map((row) => row['x']))).toEqual([
      [10, 30],
      [40, 50],
    ]);
    const finished = sink.finish();
    await flush();
    fake.calls[1]!.resolve();
    await flush();
    expect(target.rows).toHaveLength(1);
    fake.calls[0]!.resolve();
    await flush();
    await flush();
    fake.calls[2]!.resolve();
    expect(await finished).toMatchObject({ rowsRead: 6, rowsScored: 5, batches: 3 });
    expect(target.rows).toEqual([
      [null, null, 'q'],
      ['a', 0.1, 'p'],
      ['b', 0.3, 'p'],
      ['a', 0.4, 'q'],
      ['b', 0.5, 'p'],
      ['a', 0.6, 'q'],
    ]);
    expect(fake.peak()).toBe(2);
  });

  it('holds the reader back while four batches (twice maxConcurrency) wait', async () => {
    const fake = fakeClient();
    const sink = new EndpointScoringSink(options(fake.client), new RecordingTarget());
    push(
      sink,
      Array.from({ length: 8 }, (_, i): [number, string, string] => [i, 'a', 'p']),
    );
    let ready = false;
    const waiting = sink.ready().then(() => {
      ready = true;
    });
    await flush();
    expect(ready).toBe(false);
    expect(fake.calls).toHaveLength(2);
    fake.calls[0]!.resolve();
    await waiting;
    expect(ready).toBe(true);
    for (let i = 1; i < 4; i++) {
      await flush();
      fake.calls[i]!.resolve();
    }
    await sink.finish();
  });

  it('cuts a batch before the payload would pass the byte limit', async () => {
    const fake = fakeClient();
    // {"instances":[{"x":10},{"x":20}]} is 33 bytes: at 30, two rows no longer fit.
    const sink = new EndpointScoringSink(
      options(fake.client, { batchRows: 10, maxPayloadBytes: 30 }),
      new RecordingTarget(),
    );
    push(sink, [
      [10, 'a', 'p'],
      [20, 'a', 'p'],
      [30, 'a', 'p'],
    ]);
    const finished = sink.finish();
    for (let i = 0; i < 3; i++) {
      await flush();
      fake.calls[i]?.resolve();
    }
    expect(await finished).toMatchObject({ batches: 3 });
    expect(fake.calls.map((call) => call.rows.length)).toEqual([1, 1, 1]);
  });

  it('refuses a row too large for any payload', () => {
    const fake = fakeClient();
    const sink = new EndpointScoringSink(
      options(fake.client, { maxPayloadBytes: 20 }),
      new RecordingTarget(),
    );
    expect(() => push(sink, [[123456789, 'a', 'p']])).toThrow(ValueError);
  });

  it('fails the read with the first batch error, and starts no queued batch', async () => {
    let calls = 0;
    const client = {
      send: async () => {
        calls++;
        throw Object.assign(new Error('bad input'), {
          name: 'ModelError',
          $metadata: { httpStatusCode: 424 },
        });
      },
    } as unknown as Pick<SageMakerRuntimeClient, 'send'>;
    const sink = new EndpointScoringSink(options(client, { maxConcurrency: 1 }), new RecordingTarget());
    push(
      sink,
      Array.from({ length: 6 }, (_, i): [number, string, string] => [i, 'a', 'p']),
    );
    await expect(sink.ready()).rejects.toThrow(/endpoint m, batch 1 \(rows 1-2\): ModelError \(HTTP 424\)/);
    await expect(sink.finish()).rejects.toBeInstanceOf(EndpointInvocationError);
    await sink.close();
    expect(calls).toBe(1);
  });

  it('fails the pass, without an unhandled rejection, when the target refuses a replayed row', async () => {
    const fake = fakeClient();
    class Refusing extends RecordingTarget {
      override value(index: number, value: CellValue): void {
        if (value === 'q') throw new ValueError('segment column "s" has more than 1 distinct values');
        super.value(index, value);
      }
    }
    const sink = new EndpointScoringSink(options(fake.client), new Refusing());
    push(sink, [
      [10, 'a', 'q'],
      [20, 'a', 'q'],
      [30, 'a', 'p'],
    ]);
    fake.calls[0]!.resolve();
    await flush();
    await expect(sink.ready()).rejects.toThrow(/more than 1 distinct values/);
    await expect(sink.finish()).rejects.toBeInstanceOf(ValueError);
    await sink.close();
  });

  it('names the columns the file lacks', async () => {
    const sink = new EndpointScoringSink(options(fakeClient().client), new RecordingTarget());
    sink.column('y');
    sink.column('s');
    await expect(sink.finish()).rejects.toThrow(
      new ConfigError('features', 'the endpoint\'s feature "x" is not in the file (columns: y, s)'),
    );
  });
});
