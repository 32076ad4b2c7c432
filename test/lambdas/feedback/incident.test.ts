import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  closeQuietConceptDrift,
  detectionLine,
  openConceptDrift,
} from '../../../lambdas/feedback/incident.ts';
import type { ConceptDriftDetectedDetail } from '../../../lambdas/shared/contract.ts';

/** The incident item behind the commands the feedback consumer sends: GetItem, and UpdateItem of one signal. */
function fakeDocuments(item: Record<string, unknown> = {}) {
  const writes: { signal: unknown; state: Record<string, unknown> }[] = [];
  const documents = {
    writes,
    async send(command: unknown) {
      if (command instanceof GetCommand) return { Item: item };
      if (command instanceof UpdateCommand) {
        const { ExpressionAttributeNames: names, ExpressionAttributeValues: values } = command.input;
        if (names?.['#signal'] !== undefined)
          writes.push({ signal: names['#signal'], state: values![':state'] });
        return {};
      }
      throw new Error(`unexpected ${String(command)}`);
    },
  };
  return documents;
}

const detail = (model: string, detectedAt: string): ConceptDriftDetectedDetail => ({
  model,
  cohort: { attribute: 'area_code', value: 'area_code_415' },
  detector: 'adwin',
  position: 1151,
  errorRateBefore: 0.0981,
  errorRateAfter: 0.1724,
  windowLength: 300,
  windowStart: null,
  eventTime: detectedAt,
  arrivedAt: detectedAt,
  detectedAt,
});

describe("concept drift in the model's incident", () => {
  it('opens the conceptDrift signal of each model once per batch, named by its latest detection', async () => {
    const documents = fakeDocuments();
    await openConceptDrift(documents as unknown as DynamoDBDocumentClient, 'history', [
      detail('churn', '2026-12-07T04:00:00.000Z'),
      detail('churn', '2026-12-07T04:01:00.000Z'),
      detail('fraud', '2026-12-07T04:02:00.000Z'),
    ]);
    expect(documents.writes.map((write) => [write.signal, write.state['open'], write.state['at']])).toEqual([
      ['signal:conceptDrift', true, '2026-12-07T04:01:00.000Z'],
      ['signal:conceptDrift', true, '2026-12-07T04:02:00.000Z'],
    ]);
    expect(detectionLine(detail('churn', 'x'))).toBe(
      'adwin on area_code=area_code_415: rate 0.098 -> 0.172 at outcome 1151',
    );
  });

  it('closes the signal once the quiet time passed since the last detection, not before', async () => {
    const open = { 'signal:conceptDrift': { open: true, detail: 'adwin', at: '2026-12-07T04:00:00.000Z' } };
    const hour = 3_600_000;
    const early = fakeDocuments(open);
    expect(
      await closeQuietConceptDrift(
        early as never,
        'history',
        'churn',
        hour,
        Date.parse('2026-12-07T04:30:00Z'),
      ),
    ).toBe(false);
    expect(early.writes).toEqual([]);
    const late = fakeDocuments(open);
    expect(
      await closeQuietConceptDrift(
        late as never,
        'history',
        'churn',
        hour,
        Date.parse('2026-12-07T05:00:01Z'),
      ),
    ).toBe(true);
    expect(late.writes[0]!.state).toMatchObject({
      open: false,
      detail: 'no concept drift detected since 2026-12-07T04:00:00.000Z',
    });
    const none = fakeDocuments({});
    expect(await closeQuietConceptDrift(none as never, 'history', 'churn', hour, Date.now())).toBe(false);
  });
});
