/**
 * Shared pieces of the CDK tests: a small valid config, a stack to put constructs in, and readers of the
 * synthesized template. Every test file synthesizes once (in `beforeAll`), because bundling takes seconds.
 */
import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';
import type { ConfigError } from '../../lambdas/core/errors.ts';
import { ConfigValidationError } from '../../lib/config/errors.ts';
import type { DriftwatchConfig } from '../../lib/config/model-config.ts';
import { validateConfig } from '../../lib/config/validate.ts';

/** Context that skips asset bundling: for tests of constructs whose Lambda code is not under test. */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

/**
 * A fresh app for a test. CDK's built-in CloudFormation validation (seconds of WASM per synth) is left to the
 * app test, which runs `bin/app.ts` as `cdk synth` does.
 */
export function testApp(options: { bundle?: boolean } = {}): App {
  return new App({ context: options.bundle ? {} : SKIP_BUNDLING, builtinCloudFormationValidation: false });
}

/** A fresh stack in a fresh app, environment-agnostic like the real one. */
export function testStack(options: { bundle?: boolean } = {}): Stack {
  return new Stack(testApp(options), 'Test');
}

/** A small valid config file (parsed JSON): one model with declared features. Each call returns a new copy. */
export function rawConfig(): Record<string, unknown> & { models: Record<string, unknown>[] } {
  return {
    alerts: { emails: ['oncall@example.com'], httpsEndpoints: ['https://hooks.example.com/driftwatch'] },
    models: [
      {
        name: 'churn',
        prefixes: { incoming: 'churn/incoming/', golden: 'churn/golden/', baselines: 'churn/baselines/' },
        features: { amount: 'numeric', plan: 'categorical', calls: 'numeric' },
        exclude: ['label'],
        segment: 'region',
        drift: { criticalFeatures: ['amount'], featureMethods: { plan: 'chi2:0.01' } },
      },
    ],
  };
}

export function testConfig(raw: unknown = rawConfig()): DriftwatchConfig {
  return validateConfig(raw, 'test.config.json');
}

/** The problems `validateConfig` finds in `raw` (none: an empty list). */
export function configProblems(raw: unknown): readonly ConfigError[] {
  try {
    validateConfig(raw, 'test.config.json');
    return [];
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
}

/** An IAM statement as it appears in a synthesized template. */
export interface TemplateStatement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: Record<string, unknown>;
}

/** Every statement of the `AWS::IAM::Policy` resources whose logical id starts with `prefix`. */
export function policyStatements(template: Template, prefix = ''): TemplateStatement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => id.startsWith(prefix))
    .flatMap(([, policy]) => policy['Properties']['PolicyDocument']['Statement'] as TemplateStatement[]);
}

export function actionsOf(statement: TemplateStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The one resource of `type` in the template, or a failure naming how many there were. */
export function onlyResource(
  template: Template,
  type: string,
): { id: string; properties: Record<string, unknown> } {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, properties: resource['Properties'] ?? {} };
}

/** The statement of a check's role (drift or performance) that writes its history items. */
export const WRITE_HISTORY_STATEMENT = {
  Sid: 'WriteHistory',
  Action: 'dynamodb:PutItem',
  Resource: { 'Fn::GetAtt': [expect.stringMatching(/^History/), 'Arn'] },
  Condition: undefined,
};

/** The statement of a check's role that puts events on the default bus, as source `driftwatch` only. */
export const PUT_DRIFTWATCH_EVENTS_STATEMENT = {
  Sid: 'PutDriftwatchEvents',
  Action: 'events:PutEvents',
  Resource: {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':events:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        ':event-bus/default',
      ],
    ],
  },
  Condition: { StringEquals: { 'events:source': 'driftwatch' } },
};

/** The statement that lets a check's role use the test stack's KMS key `Key`. */
export const KMS_KEY_STATEMENT = {
  Sid: undefined,
  Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
  Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
  Condition: undefined,
};

/** The tracing statement of a Lambda's role: X-Ray has no resource-level permissions, so it is on "*". */
export const XRAY_TRACING_STATEMENT = {
  Sid: undefined,
  Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
  Resource: '*',
  Condition: undefined,
};
