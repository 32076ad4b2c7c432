/**
 * Many models, one deployment: 200 models synthesize with no stack past 500 resources, and adding a model
 * (or removing one) changes only that model's resources.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_MODEL_PARAMETER_BYTES } from '../../lambdas/shared/model-catalog.ts';
import { MAX_RESOURCES_PER_STACK, modelParameterValue } from '../../lib/model-stacks.ts';
import { manyModelsConfig, synthesize, type Templates } from '../../scripts/many-models.ts';

let two00: Templates;
let two01: Templates;
let one99: Templates;
let synthSeconds: number;

beforeAll(() => {
  const config = manyModelsConfig(201);
  const started = performance.now();
  two00 = synthesize({ ...config, models: config.models.slice(0, 200) });
  synthSeconds = (performance.now() - started) / 1000;
  two01 = synthesize(config);
  one99 = synthesize({
    ...config,
    models: config.models.filter((model) => model.name !== 'churn-100').slice(0, 199),
  });
}, 300_000);

describe('200 models in one deployment', () => {
  it('synthesize in under 2 minutes with no stack past 500 resources', () => {
    expect(synthSeconds).toBeLessThan(120);
    for (const [name, template] of Object.entries(two00)) {
      expect(Object.keys(template.Resources).length, name).toBeLessThanOrEqual(MAX_RESOURCES_PER_STACK);
    }
    const modelResources = Object.entries(two00)
      .filter(([name]) => name !== 'Driftwatch')
      .reduce((sum, [, template]) => sum + Object.keys(template.Resources).length, 0);
    // Each churn copy has every section: parameter, page alarm, two schedules, package group.
    expect(modelResources).toBe(200 * 5);
  });

  it('hold 100 declared features per model in the model parameter', () => {
    const config = manyModelsConfig(1, 100);
    const bytes = Buffer.byteLength(modelParameterValue(config.models[0]!));
    expect(bytes).toBeLessThan(MAX_MODEL_PARAMETER_BYTES);
  });
});

describe('adding or removing a model', () => {
  it('adding model 201 changes no resource of the first 200, and adds only its own', () => {
    for (const [name, template] of Object.entries(two00)) {
      const after = two01[name]!;
      for (const [id, resource] of Object.entries(template.Resources)) {
        expect(after.Resources[id], `${name}/${id}`).toEqual(resource);
      }
    }
    const added = Object.entries(two01).flatMap(([name, template]) =>
      Object.keys(template.Resources)
        .filter((id) => two00[name]?.Resources[id] === undefined)
        .map((id) => id),
    );
    expect(added.length).toBe(5);
    for (const id of added) expect(id).toMatch(/^churn200/);
  });

  it('removing a model removes only its resources', () => {
    for (const [name, template] of Object.entries(two00)) {
      const after = one99[name];
      for (const [id, resource] of Object.entries(template.Resources)) {
        if (id.startsWith('churn100')) {
          expect(after?.Resources[id], `${name}/${id}`).toBeUndefined();
          continue;
        }
        expect(after?.Resources[id], `${name}/${id}`).toEqual(resource);
      }
    }
  });
});
