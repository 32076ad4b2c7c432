/**
 * The demo end to end (`npm run demo` runs the same function): both scenarios in the local AWS on the demo
 * config and the SageMaker emulator, checked by what they left behind, not by the exit code: the events,
 * the history items, the alarms and their SNS messages, the model registry and the endpoint's weights.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../local/demo/run.ts';
import type { ScenarioResult } from '../../local/demo/scenario.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'driftwatch-demo-'));
let promotion: ScenarioResult;
let rollback: ScenarioResult;

beforeAll(async () => {
  const { results } = await runDemo({ root: ROOT, out });
  [promotion, rollback] = results as [ScenarioResult, ScenarioResult];
  // A cold synthesis bundles the 8 shared functions: minutes on a busy 2-core machine.
}, 300_000);

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

const subjects = (result: ScenarioResult) => result.snsMessages.map((message) => message.subject ?? '');

describe.each(['promotion', 'rollback'] as const)('the %s scenario, up to the canary', (kind) => {
  const result = () => (kind === 'promotion' ? promotion : rollback);

  it('finds no drift in the clean month and drift of the critical features in the shifted one', () => {
    const drift = result().history.filter((item) => item.kind === 'drift');
    expect(drift.map((item) => [item.key, item.status, item.datasetDrift])).toEqual([
      ['churn/incoming/month-1.csv', 'succeeded', false],
      ['churn/incoming/month-2.csv', 'succeeded', false],
    ]);
    expect(drift[1]!.driftedFeatures).toEqual(
      expect.arrayContaining(['international_plan', 'total_day_charge']),
    );
    const detected = result().events.filter((event) => event.detailType === 'Drift Detected');
    expect(detected).toHaveLength(1);
    expect(detected[0]!.source).toBe('driftwatch');
  });

  it('holds the accuracy floor before the shift and breaches it after (Performance Degraded)', () => {
    const checks = result().history.filter((item) => item.kind === 'performance');
    expect(checks.map((item) => [item.status, item.breaches])).toEqual([
      ['succeeded', 0],
      ['succeeded', 1],
    ]);
    const degraded = result().events.filter((event) => event.detailType === 'Performance Degraded');
    expect(degraded).toHaveLength(1);
    const drifted = result().events.find((event) => event.detailType === 'Drift Detected')!;
    expect(degraded[0]!.time >= drifted.time).toBe(true);
  });

  it("turns the model's one paging alarm to ALARM (critical drift, then the accuracy floor) and pages once, naming what fired", () => {
    expect(
      result().alarms.some((change) => change.alarm === 'Driftwatch-churn-Page' && change.to === 'ALARM'),
    ).toBe(true);
    // The notifier's page (not AWS's alarm message): the model and its signals, opened by the critical drift.
    const pages = subjects(result()).filter((subject) => subject.startsWith('driftwatch: churn:'));
    expect(pages[0]).toMatch(/^driftwatch: churn: .*critical feature/);
  });

  it('writes the HTML drift reports and the summary', () => {
    expect(result().reports.sort()).toEqual([`${kind}/month-1.csv.html`, `${kind}/month-2.csv.html`]);
    for (const report of result().reports)
      expect(readFileSync(join(out, report), 'utf8')).toMatch(/^<!doctype html>/i);
    expect(existsSync(join(out, kind, 'timeline.txt'))).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.scenarios.map((scenario: { kind: string }) => scenario.kind)).toEqual([
      'promotion',
      'rollback',
    ]);
  });
});

describe('promotion', () => {
  it('runs the retraining once, started by Performance Degraded, and promotes the challenger', () => {
    expect(promotion.executions).toEqual([
      expect.objectContaining({ status: 'SUCCEEDED', outcome: 'promoted' }),
    ]);
    expect(subjects(promotion)).toContain('driftwatch: new model of churn promoted');
  });

  it('approves the challenger as version 2 next to the first champion', () => {
    expect(promotion.packages.map((p) => [p.version, p.status])).toEqual([
      [1, 'Approved'],
      [2, 'Approved'],
    ]);
  });

  it('serves the challenger only and records it as the champion', () => {
    const variant = promotion.challengerVariant!;
    expect(variant).toMatch(/^v\d{8}-\d{6}$/);
    expect(promotion.finalWeights).toEqual({ [variant]: 1 });
    expect(promotion.finalModels[variant]).toBe(`churn-${variant.slice(1)}`);
    expect(promotion.champion).toMatchObject({
      modelName: `churn-${variant.slice(1)}`,
      variantName: variant,
      packageArn: promotion.packages[1]!.arn,
    });
  });
});

describe('rollback', () => {
  it('rolls the canary back when the challenger fails requests', () => {
    expect(rollback.executions).toEqual([
      expect.objectContaining({ status: 'SUCCEEDED', outcome: 'rolled-back' }),
    ]);
    expect(subjects(rollback)).toContain('driftwatch: canary of churn rolled back');
  });

  it('rejects the challenger package and keeps the first champion approved', () => {
    expect(rollback.packages.map((p) => [p.version, p.status])).toEqual([
      [1, 'Approved'],
      [2, 'Rejected'],
    ]);
  });

  it('serves the champion alone again, the challenger variant removed', () => {
    expect(rollback.challengerVariant).not.toBeNull();
    expect(rollback.finalWeights).toEqual({ AllTraffic: 1 });
    expect(rollback.finalModels).toEqual({ AllTraffic: 'churn-v1' });
    expect(rollback.champion).toMatchObject({ modelName: 'churn-v1', variantName: 'AllTraffic' });
  });
});
