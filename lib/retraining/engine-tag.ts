import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/**
 * The tag every SageMaker job and model the retraining machine creates carries, valued with the engine's
 * stack name. The machine's grants on `training-job/*`, `transform-job/*` and `model/*` hold only for
 * resources with it (attribute-based access control): the names are data (model name + run id), so a name
 * prefix could not scope the grant without one statement per model, and the engine's policy must not change
 * when a model is added.
 */
export const ENGINE_TAG = 'driftwatch:engine';

/** The SageMaker resource types whose grants the tag scopes. */
const TAGGED_TYPES = ['training-job', 'transform-job', 'model'] as const;

/** Actions that create a resource (or tag it on creation): judged on the request's tags. */
const CREATING = /^sagemaker:(Create\w+|AddTags)$/;

/** The ARN pattern of a resource type, as the CDK tasks write it (a Fn::Join ending in `:<type>/*`). */
function typeOf(resource: unknown): (typeof TAGGED_TYPES)[number] | undefined {
  const text = JSON.stringify(resource);
  return TAGGED_TYPES.find((type) => text.includes(`:${type}/*`));
}

/** The tag of the engine, as the `Tags` of a SageMaker create call. */
export function engineTags(engineName: string): { [key: string]: string } {
  return { [ENGINE_TAG]: engineName };
}

/**
 * Rewrites the SageMaker statements a CDK task grants on its resource type so that they hold only for the
 * engine's resources: creating (and tagging on creation) requires the request to carry the engine tag;
 * describing and stopping requires the resource to carry it. Other statements of the task (PassRole, the
 * `.sync` integration's EventBridge rule, `ListTags`, which has no resource-level permission) are kept.
 *
 * @returns the task, for chaining
 */
export function scopeToEngineTag<T extends sfn.TaskStateBase>(task: T, engineName: string): T {
  // The policies a task grants the machine's role; the state machine reads them when it is built, after this.
  const policies = (task as unknown as { taskPolicies?: iam.PolicyStatement[] }).taskPolicies;
  if (policies === undefined) throw new Error(`${task.node.path}: the task grants no policies to scope`);
  const rewritten = policies.flatMap((statement) => {
    const json = statement.toStatementJson() as { Action?: string | string[]; Resource?: unknown };
    const actions = ([] as string[]).concat(json.Action ?? []);
    const resources = ([] as unknown[]).concat(json.Resource ?? []);
    const type = resources.length === 1 ? typeOf(resources[0]) : undefined;
    if (type === undefined || !actions.every((action) => action.startsWith('sagemaker:'))) return [statement];
    const creating = actions.filter((action) => CREATING.test(action));
    // Tags on a create call are authorized as sagemaker:AddTags too; CDK grants it for jobs, not for models.
    if (
      creating.some((action) => action.startsWith('sagemaker:Create')) &&
      !creating.includes('sagemaker:AddTags')
    )
      creating.push('sagemaker:AddTags');
    const existing = actions.filter((action) => !CREATING.test(action));
    return [
      ...(creating.length > 0
        ? [
            new iam.PolicyStatement({
              actions: creating,
              resources: statement.resources,
              conditions: { StringEquals: { [`aws:RequestTag/${ENGINE_TAG}`]: engineName } },
            }),
          ]
        : []),
      ...(existing.length > 0
        ? [
            new iam.PolicyStatement({
              actions: existing,
              resources: statement.resources,
              conditions: { StringEquals: { [`aws:ResourceTag/${ENGINE_TAG}`]: engineName } },
            }),
          ]
        : []),
    ];
  });
  policies.splice(0, policies.length, ...rewritten);
  return task;
}
