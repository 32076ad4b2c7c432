/**
 * `npm run demo`: driftwatch's whole loop on a laptop, on real data (the MLC churn set). The stack is
 * synthesized from local/demo/demo.config.json and runs in the local AWS (local/aws) against the SageMaker
 * emulator (local/sagemaker); see local/demo/scenario.ts for the story. Two scenarios:
 *
 * - promotion: a champion (logistic regression) is deployed; a clean month shows no drift and the
 *   performance check holds; a shifted month drifts (alarm -> SNS) and the champion's accuracy on the new
 *   labelled data falls below 85% (Performance Degraded), so the retraining state machine trains a
 *   challenger (boosted trees), evaluates it with batch transforms, registers it and rolls it out as a
 *   canary (5% -> 25% -> 100%) under generated traffic and labelled feedback: promoted.
 * - rollback: the same, but the challenger's variant fails a share of its requests: the canary rolls back.
 * - live traffic (local/demo/capture-story.ts): Data Capture of two variants, hourly windows checked per
 *   variant; only the canary's shifted hour drifts, and its accuracy estimated before any label (CBPE) falls;
 *   the late labels' realized Performance Degraded starts a retraining (its challenger promoted).
 * - concept drift (local/demo/concept-drift.ts): labelled feedback on the Kinesis stream, the concept flips
 *   with the inputs unchanged, ADWIN fires, an emergency retraining on the recent window is promoted.
 *
 * Reports, timelines and summary.json go to out/demo/.
 */
import { join } from 'node:path';
import { runDemo } from '../local/demo/run.ts';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'out', 'demo');
const started = Date.now();
const say = (line: string) =>
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

const { summary } = await runDemo({ root, out, log: say });
process.stdout.write('\n');
for (const scenario of summary.scenarios) {
  const run = scenario.executions.at(-1);
  say(
    `${scenario.kind}: retraining ${run?.outcome ?? 'not run'}; endpoint ${JSON.stringify(scenario.finalWeights)}; ` +
      `packages ${scenario.packages.map((p) => `v${p.version} ${p.status}`).join(', ')}; ` +
      `${scenario.snsMessages.length} SNS messages; ${scenario.realSeconds.toFixed(1)} s`,
  );
}
if (summary.capture) {
  const drifted = summary.capture.windows.filter((window) => window.driftedFeatures.length > 0);
  say(
    `live traffic: ${summary.capture.captureFiles} capture files, ${summary.capture.windows.length} hourly windows checked; ` +
      `drift in ${drifted.map((window) => `${window.variant} ${window.start.slice(11, 16)}Z`).join(', ') || 'none'}; ` +
      `estimated accuracy before labels ${summary.capture.estimates.map((e) => `${e.variant} ${e.start.slice(11, 16)}Z ${e.accuracy?.toFixed(2) ?? 'withheld'}`).join(', ')}; ` +
      `${summary.capture.realSeconds.toFixed(1)} s`,
  );
  say(
    `live traffic, late labels: realized accuracy ${summary.capture.realized
      .map(
        (view) =>
          `${view.variant} ${view.accuracy.toFixed(3)}${view.breaches > 0 ? ' (below the limit)' : ''}`,
      )
      .join(', ')}`,
  );
  const run =
    summary.capture.retraining.find((execution) => execution.outcome !== 'skipped') ??
    summary.capture.retraining[0];
  say(
    `live traffic, retraining: ${run ? `started by the realized Performance Degraded (trigger ${run.trigger}): ${run.outcome ?? run.status}` : 'not run'}; ` +
      `packages ${summary.capture.packages.map((p) => `v${p.version} ${p.status}`).join(', ')}; endpoint ${JSON.stringify(summary.capture.finalWeights)}`,
  );
}
const concept = summary.conceptDrift;
if (concept) {
  const first = concept.detections[0];
  const run = concept.executions.find((execution) => execution.outcome !== 'skipped');
  say(
    `concept-drift: ${first ? `${first.detector} fired ${first.position - concept.flipAt} outcomes after the flip` : 'no detection'}; ` +
      `emergency retraining ${run?.outcome ?? 'not run'} on ${run?.trainingRows ?? '?'} recent rows; ` +
      `endpoint ${JSON.stringify(concept.finalWeights)}; ${concept.realSeconds.toFixed(1)} s`,
  );
}
say(`reports, timelines and summary.json in ${out}`);
