/**
 * `npm run cost`: synthesizes 1, 10 and 200 models (copies of the example churn model with every section)
 * and prints resources per stack, resources per model, synth time and the idle cost per model at the list
 * prices below (us-east-1, as of the writing of this script). Idle: no file checked, no schedule fired.
 *
 * Synth time is measured twice: the templates alone (in process), and the whole `cdk synth` a user runs
 * (`bin/app.ts` in its own process, as `cdk.json` says: config validation, every stack, cdk-nag over every
 * stack, the Lambda code bundled by esbuild). `--templates-only` skips the latter.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeApp } from '../local/aws/template.ts';
import { manyModelsConfig, manyModelsJson, synthesize } from './many-models.ts';

const ROOT = new URL('../', import.meta.url).pathname;

/** Seconds of a whole `cdk synth` of `config` (the app of cdk.json, nag and bundling included). */
async function cdkSynthSeconds(count: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'driftwatch-cost-'));
  try {
    const configPath = join(dir, 'driftwatch.config.json');
    writeFileSync(configPath, JSON.stringify(manyModelsJson(count)));
    const started = performance.now();
    await synthesizeApp({ configPath, outdir: join(dir, 'cdk.out'), projectDir: ROOT });
    return (performance.now() - started) / 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const templatesOnly = process.argv.includes('--templates-only');

/** USD per month, AWS list prices (us-east-1). */
const PRICES = {
  /** A standard-resolution alarm, per metric it evaluates (a metric-math alarm pays each metric). */
  alarmPerMetric: 0.1,
  /** A dashboard past the account's first 3 (free tier). */
  dashboard: 3,
  /** A customer-managed KMS key. */
  kmsKey: 1,
  /** An advanced-tier SSM parameter; standard parameters (<= 4 KB) are free. */
  advancedParameter: 0.05,
  /** EventBridge Scheduler schedules, Step Functions state machines, Lambda functions, SQS queues, SageMaker
   * package groups, DynamoDB on-demand tables and IAM cost nothing while idle. */
  idleFree: 0,
} as const;

type Resource = { Type: string; Properties?: Record<string, unknown> };

function idleCost(resources: Resource[]): number {
  let usd = 0;
  for (const resource of resources) {
    switch (resource.Type) {
      case 'AWS::CloudWatch::Alarm': {
        const metrics = (resource.Properties?.['Metrics'] as { MetricStat?: unknown }[] | undefined) ?? null;
        usd += PRICES.alarmPerMetric * (metrics === null ? 1 : metrics.filter((m) => m.MetricStat).length);
        break;
      }
      case 'AWS::CloudWatch::Dashboard':
        usd += PRICES.dashboard;
        break;
      case 'AWS::KMS::Key':
        usd += PRICES.kmsKey;
        break;
      case 'AWS::SSM::Parameter':
        if (Buffer.byteLength(String(resource.Properties?.['Value'] ?? '')) > 4096)
          usd += PRICES.advancedParameter;
        break;
    }
  }
  return usd;
}

const money = (usd: number) => `$${usd.toFixed(2)}`;
console.log('prices assumed (USD/month):', JSON.stringify(PRICES));
for (const count of [1, 10, 200]) {
  const config = manyModelsConfig(count);
  const started = performance.now();
  const templates = synthesize(config);
  const seconds = (performance.now() - started) / 1000;
  const stacks = Object.entries(templates).map(([name, template]) => ({
    name,
    resources: Object.values(template.Resources) as Resource[],
  }));
  const engine = stacks.find((stack) => stack.name === config.stackName)!;
  const modelStacks = stacks.filter((stack) => stack !== engine);
  const modelResources = modelStacks.flatMap((stack) => stack.resources);
  const perStack = stacks.map((stack) => stack.resources.length);
  const whole = templatesOnly
    ? ''
    : `, cdk synth ${(await cdkSynthSeconds(count)).toFixed(1)} s (cdk-nag and bundling included)`;
  console.log(
    `\n${count} model(s): ${stacks.length} stacks, synth ${seconds.toFixed(1)} s (templates only)${whole}`,
  );
  console.log(`  resources per stack: ${stacks.map((s) => `${s.name} ${s.resources.length}`).join(', ')}`);
  console.log(`  largest stack: ${Math.max(...perStack)} resources (limit 500)`);
  console.log(
    `  resources per model: ${(modelResources.filter((r) => r.Type !== 'AWS::CDK::Metadata').length / count).toFixed(2)}`,
  );
  console.log(
    `  idle cost: engine ${money(idleCost(engine.resources))}/month (dashboard counted as paid), ` +
      `per model ${money(idleCost(modelResources) / count)}/month`,
  );
}
