/**
 * The synthesized state machine definition as plain ASL: the template's `DefinitionString` (an `Fn::Join` of
 * text and references) with every reference replaced by a fake but well-formed value, so aws-local-stepfunctions
 * can run the very definition CloudFormation would deploy.
 */
import type { Template } from 'aws-cdk-lib/assertions';

export const FAKE_ACCOUNT = '123456789012';
export const FAKE_REGION = 'us-east-1';

export interface AslState {
  Type: string;
  Resource?: string;
  Next?: string;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  TimeoutSeconds?: number;
  Parameters?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [key: string]: unknown;
}

/** A fake value for a reference to a template resource (`Ref` or `Fn::GetAtt … Arn`). */
function fakeReference(template: Template, logicalId: string, attribute: string | null): string {
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': FAKE_REGION,
    'AWS::AccountId': FAKE_ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  if (pseudo[logicalId]) return pseudo[logicalId]!;
  const resource = template.toJSON()['Resources'][logicalId] as { Type: string } | undefined;
  const type = resource?.Type ?? 'unknown';
  const arn = (service: string, rest: string) => `arn:aws:${service}:${FAKE_REGION}:${FAKE_ACCOUNT}:${rest}`;
  switch (type) {
    case 'AWS::Lambda::Function':
      return arn('lambda', `function:${logicalId}`);
    case 'AWS::DynamoDB::Table':
      return attribute ? arn('dynamodb', `table/${logicalId}`) : logicalId;
    case 'AWS::SNS::Topic':
      return arn('sns', logicalId);
    case 'AWS::IAM::Role':
      return attribute ? `arn:aws:iam::${FAKE_ACCOUNT}:role/${logicalId}` : logicalId;
    default:
      return attribute ? arn('unknown', logicalId) : logicalId;
  }
}

/** Resolves `Fn::Join`, `Ref` and `Fn::GetAtt` into text. */
export function resolveTokens(template: Template, value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if ('Fn::Join' in node) {
      const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
      return parts.map((part) => resolveTokens(template, part)).join(delimiter);
    }
    if ('Ref' in node) return fakeReference(template, node['Ref'] as string, null);
    if ('Fn::GetAtt' in node) {
      const [id, attribute] = node['Fn::GetAtt'] as [string, string];
      return fakeReference(template, id, attribute);
    }
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/** The definition of the one state machine whose logical id starts with `prefix`. */
export function stateMachineDefinition(template: Template, prefix: string): AslDefinition {
  const machines = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).filter(([id]) =>
    id.startsWith(prefix),
  );
  if (machines.length !== 1)
    throw new Error(`expected one state machine ${prefix}*, found ${machines.length}`);
  const [, machine] = machines[0]!;
  return JSON.parse(resolveTokens(template, machine['Properties']['DefinitionString'])) as AslDefinition;
}
