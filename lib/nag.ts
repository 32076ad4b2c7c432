/**
 * Acknowledgements of cdk-nag AwsSolutions findings, recorded with CDK's own `Validations` API so the
 * constructs need no cdk-nag import. Every acknowledgement carries the reason a reviewer reads.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges rule `AwsSolutions-<rule>` (e.g. `S1`, `IAM5[Resource::*]`) on `scope` and its children. */
export function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${rule}`, reason });
}

/** Metadata type of the wildcard grants a construct acknowledges, with their actions (read by the tests). */
export const WILDCARD_METADATA = 'driftwatch:wildcard-grant';

/** One acknowledged wildcard grant: the resource as cdk-nag names it, and every action granted on it. */
export interface WildcardGrant {
  resource: string;
  actions: string[];
}

/**
 * Acknowledges the IAM5 (wildcard) finding of one resource ARN (`*` included), by the id cdk-nag gives it:
 * the ARN with each reference flattened to `<LogicalId.Attribute>`. Only that ARN is acknowledged; any
 * other wildcard is still reported. `actions` names every action the construct is granted on it: a test
 * compares them with the synthesized policies, so an acknowledgement cannot hide a grant it does not name.
 */
export function acknowledgeWildcardResource(
  scope: IConstruct,
  arn: string,
  actions: readonly string[],
  reason: string,
): void {
  const resource = flatten(Stack.of(scope).resolve(arn));
  acknowledge(scope, `IAM5[Resource::${resource}]`, reason);
  scope.node.addMetadata(WILDCARD_METADATA, {
    resource,
    actions: [...actions].sort(),
  } satisfies WildcardGrant);
}

/** Actions X-Ray active tracing grants a function on `*` (they have no resource-level permissions). */
export const XRAY_FUNCTION_ACTIONS = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

/** Acknowledges the X-Ray grants active tracing adds to a function's role (see {@link XRAY_FUNCTION_ACTIONS}). */
export function acknowledgeXRay(role: Parameters<typeof acknowledgeWildcardResource>[0]): void {
  acknowledgeWildcardResource(
    role,
    '*',
    XRAY_FUNCTION_ACTIONS,
    'X-Ray PutTraceSegments and PutTelemetryRecords (active tracing) have no resource-level permissions.',
  );
}

/** cdk-nag's rendering of a resolved CloudFormation value (its `flattenCfnReference`, not exported). */
function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const value = node as Record<string, unknown>;
    if ('Fn::Join' in value) {
      const [delimiter, items] = value['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if ('Fn::Sub' in value) return flatten(value['Fn::Sub']);
    if ('Fn::GetAtt' in value) {
      const [resource, attribute] = value['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if ('Fn::ImportValue' in value) return flatten(value['Fn::ImportValue']);
    if ('Ref' in value) return `<${flatten(value['Ref'])}>`;
  }
  return JSON.stringify(node);
}
