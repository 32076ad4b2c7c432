/**
 * The demo end to end (`npm run demo` runs the same function): both scenarios in the local AWS on the demo
 * config and the SageMaker emulator, checked by what they left behind, not by the exit code: the events,
 * the history items, the alarms and their SNS messages, the model registry and the endpoint's weights.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CaptureStoryResult } from '../../local/demo/capture-story.ts';
import { runDemo } from '../../local/demo/run.ts';
import type { ScenarioResult } from '../../local/demo/scenario.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'driftwatch-demo-'));
let promotion: ScenarioResult;
let rollback: ScenarioResult;
let capture: CaptureStoryResult;
/** Whether the demo or a test failed: then the output directory (timelines, summary) is kept to tell why. */
let failed = false;

beforeAll(async () => {
  // The concept-drift story has its own test (concept-drift.test.ts).
  const demo = await runDemo({ root: ROOT, out, conceptDrift: false }).catch((error: unknown) => {
    failed = true;
    throw error;
  });
  [promotion, rollback] = demo.results as [ScenarioResult, ScenarioResult];
  capture = demo.capture!;
  // Two cold syntheses (the demo config, the live-traffic story's) bundle the shared functions: minutes on a
  // busy 2-core machine (this hook took 487 s inside `npm test` and 558 s beside it, at load 12-13).
}, 900_000);

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    failed = true;
  });
});

afterAll(() => {
  if (!failed) {
    rmSync(out, { recursive: true, force: true });
    return;
  }
  // A failure on CI explains itself: why each retraining run that did not succeed failed, and where the rest is.
  const runs = [
    ...(promotion?.executions ?? []),
    ...(rollback?.executions ?? []),
    ...(capture?.retraining ?? []),
  ].filter((run) => run.failure);
  for (const run of runs) console.error(`retraining ${run.status}:\n  ${run.failure!.join('\n  ')}`);
  console.error(`demo output kept for diagnosis (timelines, summary.json): ${out}`);
});

const subjects = (result: ScenarioResult) => result.snsMessages.map((message) => message.subject ?? '');

describe('one deployment of two models', () => {
  it('deploys both models with the one engine stack, each story on its own model', () => {
    for (const result of [promotion, rollback]) {
      expect(result.deployment.models).toEqual(['churn', 'churn-eu']);
      const [engine, ...modelStacks] = result.deployment.stacks;
      expect(engine).toBe('Driftwatch');
      expect(modelStacks.length).toBeGreaterThan(0);
      for (const stack of modelStacks) expect(stack).toMatch(/^Driftwatch-Models-[0-9a-f]$/);
    }
    expect([promotion.model, rollback.model]).toEqual(['churn', 'churn-eu']);
  });

  it('runs both models through the one retraining state machine', () => {
    expect(promotion.deployment.stateMachineArn).toMatch(/:stateMachine:Driftwatch-retraining$/);
    expect(rollback.deployment.stateMachineArn).toBe(promotion.deployment.stateMachineArn);
    expect(promotion.executions.map((execution) => execution.model)).toEqual(['churn']);
    expect(rollback.executions.map((execution) => execution.model)).toEqual(['churn-eu']);
  });
});

describe.each(['promotion', 'rollback'] as const)('the %s scenario, up to the canary', (kind) => {
  const result = () => (kind === 'promotion' ? promotion : rollback);
  const model = kind === 'promotion' ? 'churn' : 'churn-eu';

  it('finds no drift in the clean month and drift of the critical features in the shifted one', () => {
    const drift = result().history.filter((item) => item.kind === 'drift');
    expect(drift.map((item) => [item.key, item.status, item.datasetDrift])).toEqual([
      [`${model}/incoming/month-1.csv`, 'succeeded', false],
      [`${model}/incoming/month-2.csv`, 'succeeded', false],
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
      result().alarms.some((change) => change.alarm === `Driftwatch-${model}-Page` && change.to === 'ALARM'),
    ).toBe(true);
    // The notifier's page (not AWS's alarm message): the model and its signals, opened by the critical drift.
    const pages = subjects(result()).filter((subject) => subject.startsWith(`driftwatch: ${model}:`));
    expect(pages[0]).toMatch(new RegExp(`^driftwatch: ${model}: .*critical feature`));
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
    expect(subjects(rollback)).toContain('driftwatch: canary of churn-eu rolled back');
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
    expect(rollback.finalModels).toEqual({ AllTraffic: 'churn-eu-v1' });
    expect(rollback.champion).toMatchObject({ modelName: 'churn-eu-v1', variantName: 'AllTraffic' });
  });
});

describe('the live-traffic story (Data Capture)', () => {
  it("checks each variant's hourly window once, and only the shifted canary hour drifts, predictions included", () => {
    expect(capture.captureFiles).toBe(24);
    expect(capture.windows.map((w) => [w.start.slice(11, 16), w.variant, w.files, w.rows])).toEqual([
      [expect.any(String), 'AllTraffic', 6, 480],
      [expect.any(String), 'Canary', 6, 300],
      [expect.any(String), 'AllTraffic', 6, 480],
      [expect.any(String), 'Canary', 6, 300],
    ]);
    const drifted = capture.windows.filter((w) => w.driftedFeatures.length > 0);
    expect(drifted.map((w) => w.variant)).toEqual(['Canary']);
    expect(drifted[0]!.start).toBe(capture.windows[3]!.start);
    expect(drifted[0]!.driftedFeatures).toEqual(expect.arrayContaining(['international_plan', 'score']));
    // Measured breaches come from the late labels, one per variant under the floor (see below).
    expect([...new Set(capture.events.map((event) => event.detailType))].sort()).toEqual([
      'Drift Detected',
      'Performance Degraded',
      'Performance Estimated Degraded',
    ]);
    expect(capture.alarms).toContainEqual({ alarm: 'Driftwatch-churn-Page', to: 'ALARM' });
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.capture.windows).toHaveLength(4);
    expect(existsSync(join(out, 'capture', 'timeline.txt'))).toBe(true);
  });

  it('estimates accuracy falling on the shifted canary hour before any label arrives (CBPE), without paging', () => {
    expect(capture.estimates.map((e) => [e.variant, e.withheld])).toEqual([
      ['AllTraffic', null],
      ['Canary', null],
      ['AllTraffic', null],
      ['Canary', null],
    ]);
    const [first, canaryBefore, second, canaryShifted] = capture.estimates;
    // Like the golden customers: about the champion's accuracy, above the 0.85 floor.
    for (const estimate of [first!, canaryBefore!, second!]) {
      expect(estimate.accuracy).toBeGreaterThan(0.85);
      expect(estimate.breaches).toEqual([]);
    }
    // The shifted canary hour: its scores alone say accuracy fell below the floor.
    expect(canaryShifted!.accuracy).toBeLessThan(0.85);
    expect(canaryShifted!.accuracy!).toBeLessThan(canaryBefore!.accuracy! - 0.03);
    expect(canaryShifted!.breaches).toEqual(['accuracy']);
    // Its own alarm and event, before any measured Performance Degraded (that needs the labels).
    expect(capture.alarms).toContainEqual({ alarm: 'Driftwatch-churn-PerformanceEstimated', to: 'ALARM' });
    const types = capture.events.map((event) => event.detailType);
    expect(types).toContain('Performance Estimated Degraded');
    expect(types.indexOf('Performance Estimated Degraded')).toBeLessThan(
      types.indexOf('Performance Degraded'),
    );
  });

  it('joins the late labels of the shifted hour: the realized accuracy confirms the canary dropped', () => {
    const [all, canary] = capture.realized;
    expect(all).toMatchObject({ variant: 'AllTraffic', joined: 480, captured: 480 });
    expect(canary).toMatchObject({ variant: 'Canary', joined: 300, captured: 300 });
    expect(canary!.accuracy).toBeLessThan(all!.accuracy - 0.03);
    expect(canary!.start).toBe(capture.windows[3]!.start);
    // The canary's realized accuracy breaches the 0.85 floor the estimate predicted it would.
    expect(canary!.accuracy).toBeLessThan(0.85);
    expect(capture.events.map((event) => event.detailType)).toContain('Performance Degraded');
  });

  it('retrains on the realized breach only: one run started after the measured Performance Degraded ends on evidence', () => {
    const degraded = capture.events.filter((event) => event.detailType === 'Performance Degraded');
    const firstDegraded = degraded.map((event) => event.time).sort()[0]!;
    // Neither the drifted window nor the estimate starts a run (triggers: performance only).
    expect(capture.retraining.length).toBeGreaterThan(0);
    for (const run of capture.retraining) {
      // The whole run on failure: its `failure` says which state failed and why.
      expect(run).toMatchObject({ trigger: 'performance', status: 'SUCCEEDED' });
      expect(run.startedAt >= firstDegraded).toBe(true);
    }
    // One breach per variant under the floor: one run retrains, the others are skipped while it runs.
    expect(capture.retraining).toHaveLength(degraded.length);
    const runs = capture.retraining.filter((run) => run.outcome !== 'skipped');
    expect(runs).toHaveLength(1);
    expect(['promoted', 'rejected', 'rolled-back']).toContain(runs[0]!.outcome);
    // The challenger beats the registered champion on the holdout and in the canary: promoted, served alone.
    expect(runs[0]!.outcome).toBe('promoted');
    expect(capture.packages.map((p) => [p.version, p.status])).toEqual([
      [1, 'Approved'],
      [2, 'Approved'],
    ]);
    const [variant, ...others] = Object.keys(capture.finalWeights);
    expect(others).toEqual([]);
    expect(variant).toMatch(/^v\d{8}-\d{6}$/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.capture.retraining).toEqual(capture.retraining);
  });
});
