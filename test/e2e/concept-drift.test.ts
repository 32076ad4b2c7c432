/**
 * The concept-drift story of the demo end to end (`npm run demo` runs it after the two scenarios): labelled
 * feedback on the Kinesis stream, a concept flip with the inputs unchanged, ADWIN's detection, the emergency
 * retraining on the recent window (no cooldown) and the canary's promotion, checked by what they left behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConceptDriftStoryResult, runConceptDriftStory } from '../../local/demo/concept-drift.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), 'driftwatch-concept-'));
let story: ConceptDriftStoryResult;

beforeAll(async () => {
  story = await runConceptDriftStory({ root: ROOT, out });
  // A cold synthesis bundles the shared functions: minutes on a busy 2-core machine.
}, 420_000);

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

describe('the concept-drift story', () => {
  it("fires ADWIN on the whole model's error stream within a few hundred outcomes of the flip", () => {
    const whole = story.detections.filter((detection) => detection.cohort === null);
    expect(whole).toHaveLength(1);
    const [detection] = whole;
    expect(detection).toMatchObject({ model: 'churn', detector: 'adwin', retrainingTrigger: 'conceptDrift' });
    expect(detection!.position).toBeGreaterThan(story.flipAt);
    expect(detection!.position - story.flipAt).toBeLessThan(400);
    expect(detection!.errorRateAfter!).toBeGreaterThan(detection!.errorRateBefore);
    expect(story.detectionLatencySeconds).not.toBeNull();
    expect(story.detectionLatencySeconds!).toBeLessThan(60);
  });

  it('starts exactly one emergency run, within the cooldown of the last one, on the rows of the window ADWIN kept', () => {
    const runs = story.executions.filter((execution) => execution.trigger === 'conceptDrift');
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run).toMatchObject({ status: 'SUCCEEDED', outcome: 'promoted' });
    expect(run!.trainingSince).toBe(story.detections[0]!.windowStart);
    // The rows since the window's start: every flipped one (1,300) and the part of the 1,200 before the flip
    // that ADWIN's first cut kept, not the whole half hour.
    expect(run!.trainingRows!).toBeGreaterThanOrEqual(1300);
    expect(run!.trainingRows!).toBeLessThan(2500);
  });

  it('promotes the challenger after the canary: it serves all traffic, registered and approved', () => {
    expect(Object.values(story.finalWeights)).toEqual([1]);
    const [variant] = Object.keys(story.finalWeights);
    expect(story.champion?.variantName).toBe(variant);
    expect(story.packages.map((p) => p.status)).toEqual(['Approved', 'Approved']);
  });
});
