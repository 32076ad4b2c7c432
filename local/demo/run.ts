/**
 * `npm run demo`: both scenarios of {@link runScenario}, one after the other, each in its own local AWS
 * and SageMaker emulator, then the live-traffic and concept-drift stories; the drift reports, the timelines
 * and `summary.json` go to the output directory.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { synthesizeCached } from '../aws/template.ts';
import { type CaptureStoryResult, runCaptureStory, writeCaptureStoryConfig } from './capture-story.ts';
import { CONCEPT_DRIFT_CONFIG, type ConceptDriftStoryResult, runConceptDriftStory } from './concept-drift.ts';
import { runScenario, SCENARIO_CONFIG, type ScenarioKind, type ScenarioResult } from './scenario.ts';

export interface DemoSummary {
  startedAt: string;
  realSeconds: number;
  scenarios: Omit<ScenarioResult, 'timeline'>[];
  /** The live-traffic story (local/demo/capture-story.ts), when run. */
  capture?: Omit<CaptureStoryResult, 'timeline'>;
  /** The concept-drift story (local/demo/concept-drift.ts), when it ran. */
  conceptDrift?: Omit<ConceptDriftStoryResult, 'timeline'>;
}

export interface RunDemoOptions {
  root: string;
  out: string;
  scenarios?: ScenarioKind[];
  /** Run the live-traffic story too. @default true */
  capture?: boolean;
  /** Run the concept-drift story too. @default true */
  conceptDrift?: boolean;
  log?: (line: string) => void;
}

export async function runDemo(options: RunDemoOptions): Promise<{
  summary: DemoSummary;
  results: ScenarioResult[];
  capture: CaptureStoryResult | null;
  conceptDrift?: ConceptDriftStoryResult;
}> {
  const started = Date.now();
  await rm(options.out, { recursive: true, force: true });
  await mkdir(options.out, { recursive: true });
  const results: ScenarioResult[] = [];
  const story = { root: options.root, out: options.out, ...(options.log ? { log: options.log } : {}) };
  await prepareStacks(options);
  for (const kind of options.scenarios ?? (['promotion', 'rollback'] as const)) {
    const result = await runScenario(kind, story);
    await writeFile(join(options.out, kind, 'timeline.txt'), `${result.timeline.join('\n')}\n`);
    results.push(result);
  }
  const capture = options.capture === false ? null : await runCaptureStory(story);
  const conceptDrift = options.conceptDrift === false ? undefined : await runConceptDriftStory(story);
  const summary: DemoSummary = {
    startedAt: new Date(started).toISOString(),
    realSeconds: (Date.now() - started) / 1000,
    scenarios: results.map(({ timeline: _, ...rest }) => rest),
    ...(capture && { capture: (({ timeline: _, ...rest }) => rest)(capture) }),
    ...(conceptDrift ? { conceptDrift: (({ timeline: _, ...rest }) => rest)(conceptDrift) } : {}),
  };
  await writeFile(join(options.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return { summary, results, capture, ...(conceptDrift ? { conceptDrift } : {}) };
}

/**
 * Starts synthesizing every story's stack, one after the other, so that the later stories' stacks are ready
 * when they start: on a first run each synthesis takes seconds, and all but the first overlap the earlier
 * stories. A story asking for a stack still being synthesized waits for that synthesis; a failed one is
 * left to the story that needs it, which synthesizes again and reports the error.
 */
async function prepareStacks(options: RunDemoOptions): Promise<void> {
  const configs: string[] = [];
  if ((options.scenarios ?? ['promotion']).length > 0) {
    configs.push(join(options.root, SCENARIO_CONFIG));
  }
  if (options.capture !== false) {
    configs.push(await writeCaptureStoryConfig(options.root, join(options.out, 'capture')));
  }
  if (options.conceptDrift !== false) {
    configs.push(join(options.root, CONCEPT_DRIFT_CONFIG));
  }
  void (async () => {
    for (const configPath of configs) {
      await synthesizeCached({ configPath, projectDir: options.root }).catch(() => undefined);
    }
  })();
}
