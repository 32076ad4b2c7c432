/**
 * Decides whether a caller may make a call, as AWS would, with a maintained IAM policy simulator
 * (`@cloud-copilot/iam-simulate`): the caller's identity policies and the resource's policy (bucket, queue,
 * topic, function), and for data encrypted with a key of the stacks, the KMS actions the service performs
 * for the caller against the key policy and the caller's identity policies.
 *
 * Callers are roles of the stacks (functions, state machines, schedules and rule targets with a role) or
 * AWS services acting for a resource (EventBridge delivering to a queue, CloudWatch publishing an alarm).
 * A role that is not in the stacks has no known policies: it is denied, with a message saying so.
 */
import { createHash } from 'node:crypto';
import { runSimulation, typeForContextKey } from '@cloud-copilot/iam-simulate';
import type { IamModel, PolicyDocument } from './model.ts';
import type { AccessRequest } from './requests.ts';

/** Who makes a call. */
export type Caller =
  | { kind: 'role'; roleArn: string }
  | { kind: 'service'; service: string; sourceArn?: string; sourceAccount?: string };

/** A refused call: the error code AWS answers with and its message. */
export class AccessDeniedError extends Error {
  override readonly name = 'AccessDeniedError';
  readonly request: AccessRequest & { principal: string };
  /** The KMS action that was refused, when the call failed on the key. */
  readonly kmsAction: string | undefined;

  constructor(message: string, request: AccessRequest & { principal: string }, kmsAction?: string) {
    super(message);
    this.request = request;
    this.kmsAction = kmsAction;
  }

  get isKms(): boolean {
    return this.kmsAction !== undefined;
  }
}

/** One decision, as recorded for tests and the timeline. */
export interface AccessDecision {
  principal: string;
  action: string;
  resource: string;
  allowed: boolean;
  reason?: string;
}

type SimulationResult = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

const arrayKeys = new Map<string, Promise<boolean>>();

/** Whether a condition key is multivalued (`ArrayOf...`) in the service authorization reference. */
function isArrayKey(key: string): Promise<boolean> {
  let known = arrayKeys.get(key);
  if (!known) {
    known = typeForContextKey(key).then(
      (type) => String(type).startsWith('ArrayOf'),
      () => false,
    );
    arrayKeys.set(key, known);
  }
  return known;
}

/**
 * A policy as AWS evaluates it for a request whose multivalued keys carry one value each: a single-valued
 * operator on such a key (`StringEquals` on `events:source`, as EventBridge's own examples write it)
 * matches when that one value matches. The simulator refuses single-valued operators on multivalued keys
 * outright, so they are read as `ForAnyValue:` here, which is the same test for a one-value set.
 */
async function forSingleValues(
  policy: PolicyDocument,
  context: Record<string, string | string[]>,
): Promise<PolicyDocument> {
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  const rewritten = await Promise.all(
    statements.map(async (statement) => {
      const condition = statement['Condition'] as Record<string, Record<string, unknown>> | undefined;
      if (!condition) return statement;
      const next: Record<string, Record<string, unknown>> = {};
      for (const [operator, keys] of Object.entries(condition)) {
        for (const [key, value] of Object.entries(keys)) {
          const single = typeof context[key] === 'string';
          const setOperator = /^For(All|Any)Value:/.test(operator);
          const target =
            single && !setOperator && !operator.endsWith('IfExists') && (await isArrayKey(key))
              ? `ForAnyValue:${operator}`
              : operator;
          next[target] = { ...next[target], [key]: value };
        }
      }
      return { ...statement, Condition: next };
    }),
  );
  return { ...policy, Statement: rewritten };
}

/**
 * Evaluates one request with the simulator.
 *
 * @throws Error when the simulator refuses the input (an unknown action, a resource of the wrong type):
 * that is a bug of the request table or of a policy, never a denial to hide
 */
export async function simulate(input: {
  principal: string;
  action: string;
  resource: string;
  accountId: string;
  identityPolicies: PolicyDocument[];
  resourcePolicy?: PolicyDocument | undefined;
  context: Record<string, string | string[]>;
}): Promise<SimulationResult> {
  const context = Object.fromEntries(
    await Promise.all(
      Object.entries(input.context).map(async ([key, value]) => [
        key,
        typeof value === 'string' && (await isArrayKey(key)) ? [value] : value,
      ]),
    ),
  ) as Record<string, string | string[]>;
  const identityPolicies = await Promise.all(
    input.identityPolicies.map((policy) => forSingleValues(policy, input.context)),
  );
  const resourcePolicy = input.resourcePolicy && (await forSingleValues(input.resourcePolicy, input.context));
  const result = await runSimulation(
    {
      request: {
        principal: input.principal,
        action: input.action,
        resource: { resource: input.resource, accountId: input.accountId },
        contextVariables: context,
      },
      identityPolicies: identityPolicies.map((policy, index) => ({ name: `policy${index}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(
      `the IAM simulator refused ${input.action} on ${input.resource}: ${JSON.stringify(result.errors)}`,
    );
  }
  return result.overallResult as SimulationResult;
}

/** The resource a resource policy is attached to: an object's bucket, a qualified function's function. */
function policyHolder(resource: string): string {
  if (resource.startsWith('arn:aws:s3:::') || /^arn:[^:]+:s3:::/.test(resource)) {
    return resource.replace(/^(arn:[^:]+:s3:::[^/]+).*$/, '$1');
  }
  if (/^arn:[^:]+:lambda:/.test(resource)) return resource.replace(/^(.*:function:[^:]+).*$/, '$1');
  if (/^arn:[^:]+:dynamodb:/.test(resource)) return resource.replace(/^(.*:table\/[^/]+).*$/, '$1');
  return resource;
}

export class Authorizer {
  readonly model: IamModel;
  readonly decisions: AccessDecision[] = [];
  private readonly keys = new Map<string, string>();
  private readonly cache = new Map<string, Promise<string | undefined>>();
  private readonly observe: ((decision: AccessDecision) => void) | undefined;

  constructor(model: IamModel, options: { observe?: (decision: AccessDecision) => void } = {}) {
    this.model = model;
    this.observe = options.observe;
  }

  /** The access key id the local clients of `roleArn` sign with (stable per role). */
  accessKeyFor(roleArn: string): string {
    const id = `ASIA${createHash('sha256').update(roleArn).digest('hex').slice(0, 16).toUpperCase()}`;
    this.keys.set(id, roleArn);
    return id;
  }

  /** The role whose clients sign with `accessKeyId`; undefined for other keys (the operator's). */
  roleOfAccessKey(accessKeyId: string): string | undefined {
    return this.keys.get(accessKeyId);
  }

  /** The principal ARN of a caller, as AWS names it in its messages. */
  principalOf(caller: Caller): string {
    if (caller.kind === 'service') return caller.service;
    const name = caller.roleArn.split('/').pop();
    return `arn:${this.model.partition}:sts::${caller.roleArn.split(':')[4]}:assumed-role/${name}/driftwatch-local`;
  }

  /**
   * Checks every request of one call, in order.
   *
   * @throws AccessDeniedError for the first request AWS would refuse
   */
  async check(caller: Caller, requests: readonly AccessRequest[]): Promise<void> {
    for (const request of requests) {
      const denial = await this.decide(caller, request);
      if (denial !== undefined) {
        const principal = this.principalOf(caller);
        const kms = denial.startsWith('kms:') ? denial.split(' ')[0] : undefined;
        throw new AccessDeniedError(
          kms === undefined ? denial : denial.slice(kms.length + 1),
          { ...request, principal },
          kms,
        );
      }
    }
  }

  /** undefined when allowed, else the message (prefixed with the KMS action when the key refused). */
  private decide(caller: Caller, request: AccessRequest): Promise<string | undefined> {
    const cacheKey = JSON.stringify([caller, request]);
    let decision = this.cache.get(cacheKey);
    if (!decision) {
      decision = this.evaluate(caller, request);
      this.cache.set(cacheKey, decision);
    }
    return decision;
  }

  private async evaluate(caller: Caller, request: AccessRequest): Promise<string | undefined> {
    const principal = this.principalOf(caller);
    const record = (action: string, resource: string, reason?: string) => {
      const decision: AccessDecision = {
        principal,
        action,
        resource,
        allowed: reason === undefined,
        ...(reason === undefined ? {} : { reason }),
      };
      this.decisions.push(decision);
      this.observe?.(decision);
    };
    const identity = this.identityPolicies(caller);
    if (identity === 'unknown-role') {
      const roleArn = (caller as { roleArn: string }).roleArn;
      const reason =
        `User: ${principal} is not authorized to perform: ${request.action} on resource: ${request.resource}: ` +
        `the role ${roleArn} is not declared in the local stacks, so local mode cannot know its permissions ` +
        '(create the resource under a role of the stack, or deploy and test against the real account)';
      record(request.action, request.resource, reason);
      return reason;
    }
    const context = this.context(caller, request.context);
    const holder = policyHolder(request.resource);
    const result = await simulate({
      principal,
      action: request.action,
      resource: request.resource,
      accountId: this.accountOf(request.resource),
      identityPolicies: identity,
      // A call on a key itself (kms:*) is judged by the key policy.
      resourcePolicy: this.model.keyPolicies.get(request.resource) ?? this.model.resourcePolicies.get(holder),
      context,
    });
    if (result !== 'Allowed') {
      const reason = this.message(principal, request.action, request.resource, result, caller);
      record(request.action, request.resource, reason);
      return reason;
    }
    record(request.action, request.resource);
    const key = this.model.encryption.get(holder);
    const keyPolicy = key === undefined ? undefined : this.model.keyPolicies.get(key);
    if (key === undefined || keyPolicy === undefined) return undefined;
    const service = request.action.split(':')[0];
    for (const kmsAction of request.kmsActions ?? []) {
      const kmsResult = await simulate({
        principal,
        action: kmsAction,
        resource: key,
        accountId: this.accountOf(key),
        identityPolicies: identity,
        resourcePolicy: keyPolicy,
        context: {
          ...this.context(caller, {}),
          'kms:ViaService': `${service}.${this.model.region}.amazonaws.com`,
          'kms:CallerAccount': this.model.accountId,
        },
      });
      if (kmsResult !== 'Allowed') {
        const reason = `${kmsAction} ${this.message(principal, kmsAction, key, kmsResult, caller)} (the key of ${holder}, needed for ${request.action})`;
        record(kmsAction, key, reason);
        return reason;
      }
      record(kmsAction, key);
    }
    return undefined;
  }

  private identityPolicies(caller: Caller): PolicyDocument[] | 'unknown-role' {
    if (caller.kind === 'service') return [];
    const role = this.model.roles.get(caller.roleArn);
    return role ? role.policies.map((policy) => policy.document) : 'unknown-role';
  }

  private accountOf(resource: string): string {
    const account = resource.split(':')[4];
    return account && /^\d{12}$/.test(account) ? account : this.model.accountId;
  }

  /** Condition keys every request has: the deployed world is reached over TLS, from this account. */
  private context(
    caller: Caller,
    extra: Record<string, string | string[]> | undefined,
  ): Record<string, string | string[]> {
    const base: Record<string, string | string[]> = {
      'aws:SecureTransport': 'true',
      'aws:CurrentTime': new Date().toISOString(),
      'aws:RequestedRegion': this.model.region,
    };
    if (caller.kind === 'role') {
      base['aws:PrincipalArn'] = caller.roleArn;
      base['aws:PrincipalAccount'] = caller.roleArn.split(':')[4] ?? this.model.accountId;
      base['aws:PrincipalType'] = 'AssumedRole';
    } else {
      base['aws:PrincipalServiceName'] = caller.service;
      if (caller.sourceArn !== undefined) base['aws:SourceArn'] = caller.sourceArn;
      base['aws:SourceAccount'] = caller.sourceAccount ?? this.model.accountId;
      base['aws:SourceOwner'] = caller.sourceAccount ?? this.model.accountId;
    }
    return { ...base, ...extra };
  }

  private message(
    principal: string,
    action: string,
    resource: string,
    result: SimulationResult,
    caller: Caller,
  ): string {
    const why =
      result === 'ExplicitlyDenied'
        ? 'with an explicit deny in a policy'
        : caller.kind === 'service'
          ? 'because no resource-based policy allows the service'
          : action.startsWith('kms:')
            ? 'because the key policy and the identity-based policies do not both allow it'
            : `because no identity-based policy allows the ${action} action`;
    return `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
  }
}
