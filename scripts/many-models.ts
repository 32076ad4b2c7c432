/**
 * Configs of many models (copies of the example churn model, every section) and the templates of their
 * deployment: used by `npm run cost` and the tests of sharding.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import type { DriftwatchConfig } from '../lib/config/model-config.ts';
import { validateConfig } from '../lib/config/validate.ts';
import { addDriftwatch } from '../lib/model-stacks.ts';

export type Templates = Record<string, { Resources: Record<string, unknown> }>;

const example = JSON.parse(readFileSync(new URL('../driftwatch.config.json', import.meta.url), 'utf8')) as {
  models: Record<string, unknown>[];
};

/** `count` copies of the example churn model (every section), each with its own name and prefixes. */
export function manyModelsConfig(count: number, features = 0): DriftwatchConfig {
  return validateConfig(manyModelsJson(count, features));
}

/** {@link manyModelsConfig} as the config file would hold it (not validated). */
export function manyModelsJson(count: number, features = 0): Record<string, unknown> {
  const churn = example.models.find((model) => model['name'] === 'churn')!;
  const models = Array.from({ length: count }, (_, i) => {
    const name = `churn-${String(i).padStart(3, '0')}`;
    // biome-ignore lint/suspicious/noExplicitAny: a copy of the JSON config, edited as JSON
    const model = structuredClone(churn) as Record<string, any>;
    model['name'] = name;
    model['endpointName'] = `${name}-prod`;
    model['prefixes'] = {
      incoming: `${name}/incoming/`,
      golden: `${name}/golden/`,
      baselines: `${name}/baselines/`,
    };
    if (features > 0) {
      model['features'] = Object.fromEntries(
        Array.from({ length: features }, (_, f) => [
          `feature_${String(f).padStart(3, '0')}`,
          f % 4 === 0 ? 'categorical' : 'numeric',
        ]),
      );
      model['drift'] = { ...model['drift'], criticalFeatures: ['feature_001'], featureMethods: {} };
    }
    if (model['canary']) model['canary'] = { ...model['canary'], feedbackPrefix: `${name}/feedback/` };
    return model;
  });
  return { ...example, models };
}

/** Every stack's template of the deployment of `config`, by stack name. */
export function synthesize(config: DriftwatchConfig): Templates {
  // Lambda code is not bundled: the templates are what is counted.
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  } as never);
  addDriftwatch(app, config);
  const assembly = app.synth();
  return Object.fromEntries(
    assembly.stacks.map((stack) => [stack.stackName, stack.template as Templates[string]]),
  );
}
