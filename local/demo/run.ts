/**
 * `npm run demo`: both scenarios of {@link runScenario}, one after the other, each in its own local AWS
 * and SageMaker emulator, then the live-traffic and concept-drift stories; the drift reports, the timelines
 * and `summary.json` go to the output directory.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
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
  /** Stories run at once (their lines still print in story order). @default 2, or 1 on a one-core machine */
  parallel?: number;
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
  await prepareStacks(options);
  const story = (log: (line: string) => void) => ({ root: options.root, out: options.out, log });
  const results: ScenarioResult[] = [];
  let captureResult: CaptureStoryResult | undefined;
  let conceptDriftResult: ConceptDriftStoryResult | undefined;
  const stories: Story[] = (options.scenarios ?? (['promotion', 'rollback'] as const)).map(
    (kind, index) => async (log) => {
      const result = await runScenario(kind, story(log));
      await writeFile(join(options.out, kind, 'timeline.txt'), `${result.timeline.join('\n')}\n`);
      results[index] = result;
    },
  );
  if (options.capture !== false) {
    stories.push(async (log) => {
      captureResult = await runCaptureStory(story(log));
    });
  }
  if (options.conceptDrift !== false) {
    stories.push(async (log) => {
      conceptDriftResult = await runConceptDriftStory(story(log));
    });
  }
  await runInStoryOrder(stories, options.parallel ?? Math.min(2, availableParallelism()), options.log);
  const summary: DemoSummary = {
    startedAt: new Date(started).toISOString(),
    realSeconds: (Date.now() - started) / 1000,
    scenarios: results.map(({ timeline: _, ...rest }) => rest),
    ...(captureResult && { capture: (({ timeline: _, ...rest }) => rest)(captureResult) }),
    ...(conceptDriftResult ? { conceptDrift: (({ timeline: _, ...rest }) => rest)(conceptDriftResult) } : {}),
  };
  await writeFile(join(options.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return {
    summary,
    results,
    capture: captureResult ?? null,
    ...(conceptDriftResult ? { conceptDrift: conceptDriftResult } : {}),
  };
}

type Story = (log: (line: string) => void) => Promise<void>;

/**
 * Runs the stories a few at a time (each in its own local AWS and emulator; one story keeps about one core
 * busy) and prints their lines as if they ran one after the other: the first unfinished story's lines as
 * they come, a later story's once every story before it has finished. Every story runs to its end; the
 * first error is thrown then.
 */
async function runInStoryOrder(
  stories: Story[],
  parallel: number,
  print: (line: string) => void = () => {},
): Promise<void> {
  const buffers = stories.map(() => [] as string[]);
  const finished = stories.map(() => false);
  const errors: unknown[] = [];
  let shown = 0;
  let next = 0;
  const lane = async () => {
    while (next < stories.length) {
      const index = next++;
      try {
        await stories[index]!((line) => (index === shown ? print(line) : buffers[index]!.push(line)));
      } catch (error) {
        errors.push(error);
      }
      finished[index] = true;
      while (shown < stories.length && finished[shown]) {
        shown++;
        for (const line of buffers[shown]?.splice(0) ?? []) print(line);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, lane));
  if (errors.length > 0) throw errors[0];
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
