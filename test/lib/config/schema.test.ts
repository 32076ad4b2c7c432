/**
 * The JSON Schema editors use must say what the validator says: good and bad configs go through both, and
 * where a rule can be stated in JSON Schema the verdicts agree. It is generated, never edited: a stale file
 * fails here.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA_FILE, configJsonSchema, type JsonSchema } from '../../../lib/config/json-schema.ts';
import { configProblems, rawConfig } from '../../helpers/cdk.ts';

type Raw = ReturnType<typeof rawConfig>;
type Json = Record<string, unknown>;

const schema = configJsonSchema();
const ajv = new Ajv({ allErrors: true, strict: false });
const schemaAccepts = ajv.compile(schema);

const endpointPerformance = {
  schedule: 'rate(1 day)',
  goldenDataset: 'latest.csv',
  labelColumn: 'label',
  positiveClass: 'yes',
  limits: [{ metric: 'accuracy', min: 0.85 }],
};
const retraining = {
  triggers: ['drift', 'performance'],
  monthlyBudgetUsd: 100,
  instanceType: 'ml.m5.xlarge',
  instancePricePerHourUsd: 0.23,
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-train:1.0',
};
const model = (raw: Raw) => raw.models[0] as Json;
const drift = (raw: Raw) => model(raw)['drift'] as Json;

/** Changes of the small valid config: `true` when the result is still valid. */
const good: [string, (raw: Raw) => void][] = [
  ['as is', () => {}],
  [
    'a full pipeline',
    (raw) =>
      Object.assign(model(raw), {
        endpointName: 'churn-prod',
        performance: endpointPerformance,
        retraining,
        canary: { steps: [10, 100] },
      }),
  ],
  ['s3-managed encryption', (raw) => Object.assign(raw, { encryption: 's3-managed', logRetentionDays: 365 })],
  ['a PSI method with a threshold', (raw) => Object.assign(drift(raw), { method: 'psi:0.2', driftShare: 1 })],
  ['the $schema key', (raw) => Object.assign(raw, { $schema: './driftwatch.config.schema.json' })],
  ['no features declared', (raw) => Object.assign(model(raw), { features: {}, drift: {} })],
];

/** Changes that make the config invalid, and whether JSON Schema can express the rule broken. */
const bad: [string, (raw: Raw) => void, 'schema' | 'validator only'][] = [
  ['an unknown root field', (raw) => Object.assign(raw, { modles: [] }), 'schema'],
  ['a misspelt model field', (raw) => Object.assign(model(raw), { drfit: {} }), 'schema'],
  ['a stack name with a space', (raw) => Object.assign(raw, { stackName: 'my stack' }), 'schema'],
  ['an unknown encryption', (raw) => Object.assign(raw, { encryption: 'aes' }), 'schema'],
  ['a log retention CloudWatch refuses', (raw) => Object.assign(raw, { logRetentionDays: 42 }), 'schema'],
  ['a reports prefix without /', (raw) => Object.assign(raw, { reportsPrefix: 'reports' }), 'schema'],
  [
    'a malformed email',
    (raw) => Object.assign(raw, { alerts: { emails: ['oncall.example.com'] } }),
    'schema',
  ],
  ['a duplicate email', (raw) => Object.assign(raw, { alerts: { emails: ['a@b.io', 'a@b.io'] } }), 'schema'],
  [
    'an http endpoint',
    (raw) => Object.assign(raw, { alerts: { httpsEndpoints: ['http://x.io'] } }),
    'schema',
  ],
  [
    'credentials in an endpoint',
    (raw) => Object.assign(raw, { alerts: { httpsEndpoints: ['https://u:p@x.io'] } }),
    'validator only',
  ],
  ['no models', (raw) => Object.assign(raw, { models: [] }), 'schema'],
  ['no models field', (raw) => Reflect.deleteProperty(raw, 'models'), 'schema'],
  ['a model name with capitals', (raw) => Object.assign(model(raw), { name: 'Churn' }), 'schema'],
  [
    'a prefix with a leading /',
    (raw) => Object.assign(model(raw), { prefixes: { incoming: '/c/', golden: 'g/', baselines: 'b/' } }),
    'schema',
  ],
  [
    'a prefix with a wildcard',
    (raw) => Object.assign(model(raw), { prefixes: { incoming: 'c/*/', golden: 'g/', baselines: 'b/' } }),
    'schema',
  ],
  [
    'a feature of unknown type',
    (raw) => Object.assign(model(raw), { features: { amount: 'text' } }),
    'schema',
  ],
  ['a drift share of 0', (raw) => Object.assign(drift(raw), { driftShare: 0 }), 'schema'],
  ['a drift share as text', (raw) => Object.assign(drift(raw), { driftShare: '0.5' }), 'schema'],
  ['a fractional object size', (raw) => Object.assign(drift(raw), { maxObjectBytes: 1.5 }), 'schema'],
  ["a timeout past Lambda's limit", (raw) => Object.assign(drift(raw), { timeoutSeconds: 901 }), 'schema'],
  [
    'a baseline key with a leading /',
    (raw) => Object.assign(drift(raw), { baselineProfile: '/p.json' }),
    'schema',
  ],
  ['a bad endpoint name', (raw) => Object.assign(model(raw), { endpointName: 'churn_prod' }), 'schema'],
  [
    'an unknown metric',
    (raw) =>
      Object.assign(model(raw), {
        endpointName: 'e',
        performance: { ...endpointPerformance, limits: [{ metric: 'auc', min: 0.7 }] },
      }),
    'schema',
  ],
  [
    'the old name of maxDrop',
    (raw) =>
      Object.assign(model(raw), {
        endpointName: 'e',
        performance: { ...endpointPerformance, limits: [{ metric: 'gini', maxRelativeDrop: 0.05 }] },
      }),
    'schema',
  ],
  [
    'a canary shadow that is not a boolean',
    (raw) => Object.assign(model(raw), { endpointName: 'e', canary: { shadow: 'yes' } }),
    'schema',
  ],
  [
    'an image outside ECR',
    (raw) =>
      Object.assign(model(raw), {
        endpointName: 'e',
        performance: endpointPerformance,
        retraining: { ...retraining, image: 'docker.io/x' },
      }),
    'schema',
  ],
  ['an unknown method', (raw) => Object.assign(drift(raw), { method: 'foo' }), 'validator only'],
  [
    'an undeclared critical feature',
    (raw) => Object.assign(drift(raw), { criticalFeatures: ['income'] }),
    'validator only',
  ],
  ['a segment that is excluded', (raw) => Object.assign(model(raw), { segment: 'label' }), 'validator only'],
  [
    'overlapping prefixes',
    (raw) => Object.assign(model(raw), { prefixes: { incoming: 'c/', golden: 'c/g/', baselines: 'b/' } }),
    'validator only',
  ],
  [
    'retraining without an endpoint',
    (raw) =>
      Object.assign(model(raw), { performance: { ...endpointPerformance, scoreColumn: 's' }, retraining }),
    'validator only',
  ],
  [
    'an unknown time zone',
    (raw) =>
      Object.assign(model(raw), {
        endpointName: 'e',
        performance: { ...endpointPerformance, timezone: 'Mars/Olympus' },
      }),
    'validator only',
  ],
];

function verdicts(change: (raw: Raw) => void) {
  const raw = rawConfig();
  change(raw);
  return { validator: configProblems(raw).length === 0, schema: schemaAccepts(raw) as boolean };
}

describe('driftwatch.config.schema.json', () => {
  it('is the schema the declaration emits (run `npm run docs` after changing lib/config/schema.ts)', () => {
    expect(JSON.parse(readFileSync(CONFIG_SCHEMA_FILE, 'utf8'))).toEqual(schema);
  });

  it.each(good)('accepts what the validator accepts: %s', (_, change) => {
    expect(verdicts(change)).toEqual({ validator: true, schema: true });
  });

  it.each(bad)('rejects what the validator rejects: %s', (_, change, where) => {
    expect(verdicts(change)).toEqual({ validator: false, schema: where === 'validator only' });
  });

  it.each(['driftwatch.config.json', 'local/demo/demo.config.json'])('accepts the shipped %s', (file) => {
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    expect(configProblems(raw)).toEqual([]);
    expect(schemaAccepts(raw), JSON.stringify(schemaAccepts.errors)).toBe(true);
    expect(raw['$schema']).toMatch(/driftwatch\.config\.schema\.json$/);
  });

  it('describes every field and gives the default of every optional one', () => {
    const undocumented: string[] = [];
    const visit = (node: JsonSchema, path: string) => {
      const properties = (node['properties'] ?? {}) as Record<string, JsonSchema>;
      const required = (node['required'] ?? []) as string[];
      for (const [key, field] of Object.entries(properties)) {
        const where = `${path}.${key}`;
        const description = String(field['description'] ?? '');
        if (description === '') undocumented.push(`${where}: no description`);
        const defaulted = 'default' in field || /default|omitted/i.test(description);
        if (!required.includes(key) && !defaulted && key !== '$schema')
          undocumented.push(`${where}: no default`);
        visit(field, where);
        const items = field['items'] as JsonSchema | undefined;
        if (items) visit(items, `${where}[]`);
        for (const variant of (field['anyOf'] ?? []) as JsonSchema[]) visit(variant, where);
      }
    };
    visit(schema, '');
    expect(undocumented).toEqual([]);
  });
});
