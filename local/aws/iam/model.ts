/**
 * The access-control facts of the synthesized stacks, read generically from their resolved templates:
 * each role's identity policies (inline `Policies`, `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy`
 * attached to it), the resource policies (bucket, queue, topic and Lambda permissions), the KMS key
 * policies, and which resources are encrypted with which key. Nothing here knows driftwatch's constructs:
 * a template with other roles and resources is read the same way.
 */
import type { IntrinsicResolver } from '../template.ts';

/** An IAM policy document as the template declares it (resolved). */
export interface PolicyDocument {
  Version?: string;
  Statement: Record<string, unknown>[] | Record<string, unknown>;
}

export interface RoleModel {
  arn: string;
  name: string;
  /** Where it comes from, for messages: `<stack>/<logical id>`. */
  source: string;
  policies: { name: string; document: PolicyDocument }[];
}

/** The access-control model of all local stacks. */
export interface IamModel {
  accountId: string;
  region: string;
  partition: string;
  /** Roles by ARN. */
  roles: Map<string, RoleModel>;
  /** Resource policies by the ARN of the resource they are attached to (bucket, queue, topic, function). */
  resourcePolicies: Map<string, PolicyDocument>;
  /** Key policies by key ARN. */
  keyPolicies: Map<string, PolicyDocument>;
  /** Key ARN (or id) by the ARN of the resource encrypted with it: buckets, queues, topics, tables, streams. */
  encryption: Map<string, string>;
  /** The role a function runs as, by function ARN. */
  functionRoles: Map<string, string>;
  /** The role a state machine runs as, by state machine ARN. */
  stateMachineRoles: Map<string, string>;
  /** The role EventBridge uses for a rule's target, by `<rule ARN> <target ARN>`. */
  ruleTargetRoles: Map<string, string>;
  /** The role a schedule's target is called with, by schedule ARN. */
  scheduleRoles: Map<string, string>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asDocument = (value: unknown): PolicyDocument | undefined =>
  isObject(value) && value['Statement'] !== undefined ? (value as unknown as PolicyDocument) : undefined;

const strings = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string');

/** An empty model for the given identity. */
export function emptyIamModel(identity: { accountId: string; region: string; partition: string }): IamModel {
  return {
    ...identity,
    roles: new Map(),
    resourcePolicies: new Map(),
    keyPolicies: new Map(),
    encryption: new Map(),
    functionRoles: new Map(),
    stateMachineRoles: new Map(),
    ruleTargetRoles: new Map(),
    scheduleRoles: new Map(),
  };
}

/** Adds one stack's roles, policies, keys and encrypted resources to `model`. */
export function addStackToModel(model: IamModel, resolver: IntrinsicResolver): IamModel {
  const ids = (type: string) => resolver.resourcesOfType(type);
  const physical = (id: string) => resolver.physicalResource(id);
  const source = (id: string) => `${resolver.stackName}/${id}`;
  const keyArn = (value: unknown): string | undefined => {
    if (typeof value !== 'string') return undefined;
    // A key of the stacks is referenced by id or ARN; an alias (aws/s3, alias/...) is AWS-managed.
    if (value.startsWith('alias/') || value.includes(':alias/')) return undefined;
    return value.startsWith('arn:')
      ? value
      : `arn:${model.partition}:kms:${model.region}:${model.accountId}:key/${value}`;
  };

  const roleByRef = new Map<string, RoleModel>();
  for (const id of ids('AWS::IAM::Role')) {
    const role = physical(id);
    const properties = resolver.properties(id);
    const policies: RoleModel['policies'] = [];
    for (const inline of Array.isArray(properties['Policies']) ? properties['Policies'] : []) {
      const document = isObject(inline) ? asDocument(inline['PolicyDocument']) : undefined;
      if (document)
        policies.push({ name: String((inline as Record<string, unknown>)['PolicyName']), document });
    }
    const model_: RoleModel = { arn: role.arn, name: role.name, source: source(id), policies };
    model.roles.set(role.arn, model_);
    roleByRef.set(role.name, model_);
    roleByRef.set(role.arn, model_);
    for (const managed of strings(properties['ManagedPolicyArns'])) {
      // AWS managed policies are not in the template: their grants are unknown locally.
      if (!managed.includes(':aws:policy/')) continue;
      model_.policies.push({ name: managed, document: { Statement: [] } });
    }
  }
  const attach = (documentValue: unknown, name: string, roles: unknown) => {
    const document = asDocument(documentValue);
    if (!document) return;
    for (const ref of strings(roles)) roleByRef.get(ref)?.policies.push({ name, document });
  };
  for (const id of ids('AWS::IAM::Policy')) {
    const properties = resolver.properties(id);
    attach(properties['PolicyDocument'], String(properties['PolicyName'] ?? id), properties['Roles']);
  }
  for (const id of ids('AWS::IAM::ManagedPolicy')) {
    const properties = resolver.properties(id);
    attach(properties['PolicyDocument'], source(id), properties['Roles']);
  }
  // Managed policies attached by ARN on the role (customer managed, in this template).
  for (const id of ids('AWS::IAM::ManagedPolicy')) {
    const arn = physical(id).ref;
    for (const roleId of ids('AWS::IAM::Role')) {
      if (strings(resolver.properties(roleId)['ManagedPolicyArns']).includes(arn)) {
        const document = asDocument(resolver.properties(id)['PolicyDocument']);
        if (document) model.roles.get(physical(roleId).arn)?.policies.push({ name: source(id), document });
      }
    }
  }

  const merge = (arn: string, document: PolicyDocument | undefined) => {
    if (!document) return;
    const existing = model.resourcePolicies.get(arn);
    const statements = (doc: PolicyDocument) =>
      Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
    model.resourcePolicies.set(arn, {
      Version: '2012-10-17',
      Statement: [...(existing ? statements(existing) : []), ...statements(document)],
    });
  };
  for (const id of ids('AWS::S3::BucketPolicy')) {
    const properties = resolver.properties(id);
    merge(`arn:${model.partition}:s3:::${properties['Bucket']}`, asDocument(properties['PolicyDocument']));
  }
  const byRefOrArn = (type: string, value: string) =>
    ids(type)
      .map(physical)
      .find((resource) => resource.ref === value || resource.arn === value);
  for (const id of ids('AWS::SQS::QueuePolicy')) {
    const properties = resolver.properties(id);
    for (const queue of strings(properties['Queues'])) {
      const resource = byRefOrArn('AWS::SQS::Queue', queue);
      if (resource) merge(resource.arn, asDocument(properties['PolicyDocument']));
    }
  }
  for (const id of ids('AWS::SNS::TopicPolicy')) {
    const properties = resolver.properties(id);
    for (const topic of strings(properties['Topics'])) merge(topic, asDocument(properties['PolicyDocument']));
  }
  for (const id of ids('AWS::SNS::TopicInlinePolicy')) {
    const properties = resolver.properties(id);
    merge(String(properties['TopicArn']), asDocument(properties['PolicyDocument']));
  }
  // A topic without a policy of its own has SNS's default one: the owner account may publish.
  for (const id of ids('AWS::SNS::Topic')) {
    const topic = physical(id).arn;
    if (model.resourcePolicies.has(topic)) continue;
    model.resourcePolicies.set(topic, {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: '__default_statement_ID',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: ['SNS:Publish', 'SNS:Subscribe', 'SNS:GetTopicAttributes', 'SNS:ListSubscriptionsByTopic'],
          Resource: topic,
          Condition: { StringEquals: { 'AWS:SourceOwner': model.accountId } },
        },
      ],
    });
  }
  for (const id of ids('AWS::Lambda::Permission')) {
    const properties = resolver.properties(id);
    const fn = String(properties['FunctionName']);
    const resource = byRefOrArn('AWS::Lambda::Function', fn.replace(/:\$LATEST$/, ''));
    const arn = resource?.arn ?? fn;
    const principal = String(properties['Principal']);
    const conditions: Record<string, Record<string, string>> = {};
    if (typeof properties['SourceArn'] === 'string')
      conditions['ArnLike'] = { 'aws:SourceArn': properties['SourceArn'] };
    if (typeof properties['SourceAccount'] === 'string')
      conditions['StringEquals'] = { 'aws:SourceAccount': properties['SourceAccount'] };
    merge(arn, {
      Statement: [
        {
          Sid: id,
          Effect: 'Allow',
          Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
          Action: properties['Action'],
          Resource: arn,
          ...(Object.keys(conditions).length > 0 ? { Condition: conditions } : {}),
        },
      ],
    });
  }

  for (const id of ids('AWS::KMS::Key')) {
    const document = asDocument(resolver.properties(id)['KeyPolicy']);
    if (document) model.keyPolicies.set(physical(id).arn, document);
  }
  for (const id of ids('AWS::S3::Bucket')) {
    const encryption = resolver.properties(id)['BucketEncryption'];
    const rules =
      isObject(encryption) && Array.isArray(encryption['ServerSideEncryptionConfiguration'])
        ? encryption['ServerSideEncryptionConfiguration']
        : [];
    for (const rule of rules.filter(isObject)) {
      const byDefault = rule['ServerSideEncryptionByDefault'];
      if (!isObject(byDefault) || !String(byDefault['SSEAlgorithm']).startsWith('aws:kms')) continue;
      const key = keyArn(byDefault['KMSMasterKeyID']);
      if (key) model.encryption.set(physical(id).arn, key);
    }
  }
  for (const [type, property] of [
    ['AWS::SQS::Queue', 'KmsMasterKeyId'],
    ['AWS::SNS::Topic', 'KmsMasterKeyId'],
  ] as const) {
    for (const id of ids(type)) {
      const key = keyArn(resolver.properties(id)[property]);
      if (key) model.encryption.set(physical(id).arn, key);
    }
  }
  for (const id of ids('AWS::Kinesis::Stream')) {
    const encryption = resolver.properties(id)['StreamEncryption'];
    const key = isObject(encryption) ? keyArn(encryption['KeyId']) : undefined;
    if (key) model.encryption.set(physical(id).arn, key);
  }
  for (const id of ids('AWS::DynamoDB::Table')) {
    const sse = resolver.properties(id)['SSESpecification'];
    const key = isObject(sse) ? keyArn(sse['KMSMasterKeyId']) : undefined;
    if (key) model.encryption.set(physical(id).arn, key);
  }

  for (const id of ids('AWS::Lambda::Function')) {
    const role = resolver.properties(id)['Role'];
    if (typeof role === 'string') model.functionRoles.set(physical(id).arn, role);
  }
  for (const id of ids('AWS::StepFunctions::StateMachine')) {
    const role = resolver.properties(id)['RoleArn'];
    if (typeof role === 'string') model.stateMachineRoles.set(physical(id).arn, role);
  }
  for (const id of ids('AWS::Events::Rule')) {
    const properties = resolver.properties(id);
    for (const target of (Array.isArray(properties['Targets']) ? properties['Targets'] : []).filter(
      isObject,
    )) {
      if (typeof target['RoleArn'] === 'string')
        model.ruleTargetRoles.set(`${physical(id).arn} ${target['Arn']}`, target['RoleArn']);
    }
  }
  for (const id of ids('AWS::Scheduler::Schedule')) {
    const target = resolver.properties(id)['Target'];
    if (isObject(target) && typeof target['RoleArn'] === 'string')
      model.scheduleRoles.set(physical(id).arn, target['RoleArn']);
  }
  return model;
}
