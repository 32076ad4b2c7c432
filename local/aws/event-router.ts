/**
 * EventBridge on the local AWS: the rules of the template (`AWS::Events::Rule` with an `EventPattern` and
 * `Targets`) match the events S3 sends for created objects in buckets with EventBridge notifications on,
 * the events handlers put (`Drift Detected`, `Performance Degraded`) and the events of the local services
 * (Step Functions status changes). Each matching target receives the event, or the text its `Input`,
 * `InputPath` or `InputTransformer` makes of it.
 */
import { randomUUID } from 'node:crypto';
import type { PutEventsEntry, PutEventsResult } from './apis/eventbridge.ts';
import { matchesEventPattern, validateEventPattern } from './event-pattern.ts';
import type { LocalIdentity } from './template.ts';

/** An event as EventBridge delivers it. */
export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

export interface InputTransformer {
  InputPathsMap?: Record<string, string>;
  InputTemplate: string;
}

/** One target of a rule, resolved. */
export interface RuleTarget {
  id: string;
  arn: string;
  input?: string;
  inputPath?: string;
  inputTransformer?: InputTransformer;
  deadLetterArn?: string;
}

/** A rule as the template declares it, resolved. */
export interface RuleDefinition {
  logicalId: string;
  name: string;
  arn: string;
  /** Bus name (`default` when the rule names none). */
  bus: string;
  enabled: boolean;
  eventPattern?: Record<string, unknown>;
  scheduleExpression?: string;
  targets: RuleTarget[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The bus name of a `EventBusName` value: a name or an event bus ARN. */
export function busNameOf(value: unknown): string {
  if (typeof value !== 'string' || value === '') return 'default';
  const arn = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(value);
  return arn ? arn[1]! : value;
}

/**
 * Reads an `AWS::Events::Rule`'s resolved properties.
 *
 * @throws EventPatternError when its pattern is not valid
 */
export function ruleFromProperties(
  logicalId: string,
  name: string,
  arn: string,
  properties: Record<string, unknown>,
): RuleDefinition {
  const pattern = properties['EventPattern'];
  const parsed = typeof pattern === 'string' ? (JSON.parse(pattern) as unknown) : pattern;
  if (parsed !== undefined) validateEventPattern(parsed);
  const targets = (Array.isArray(properties['Targets']) ? properties['Targets'] : []).filter(isObject);
  return {
    logicalId,
    name,
    arn,
    bus: busNameOf(properties['EventBusName']),
    enabled: properties['State'] === undefined || properties['State'] === 'ENABLED',
    ...(isObject(parsed) ? { eventPattern: parsed } : {}),
    ...(typeof properties['ScheduleExpression'] === 'string'
      ? { scheduleExpression: properties['ScheduleExpression'] }
      : {}),
    targets: targets.map((target) => ({
      id: String(target['Id']),
      arn: String(target['Arn']),
      ...(typeof target['Input'] === 'string' ? { input: target['Input'] } : {}),
      ...(typeof target['InputPath'] === 'string' ? { inputPath: target['InputPath'] } : {}),
      ...(isObject(target['InputTransformer'])
        ? { inputTransformer: target['InputTransformer'] as unknown as InputTransformer }
        : {}),
      ...(isObject(target['DeadLetterConfig']) && typeof target['DeadLetterConfig']['Arn'] === 'string'
        ? { deadLetterArn: target['DeadLetterConfig']['Arn'] }
        : {}),
    })),
  };
}

/** The value at a JSONPath of the simple kind EventBridge allows (`$`, `$.detail.object.key`, `$.resources[0]`). */
export function jsonPathValue(path: string, value: unknown): unknown {
  if (path === '$') return value;
  let current = value;
  for (const part of path.replace(/^\$/, '').match(/\.[^.[]+|\[\d+\]/g) ?? []) {
    const key = part.startsWith('[') ? Number(part.slice(1, -1)) : part.slice(1);
    current = (current as Record<string | number, unknown> | undefined)?.[key];
    if (current === undefined) return undefined;
  }
  return current;
}

/**
 * What a target receives: the constant `Input`, the value at `InputPath`, the `InputTransformer`'s
 * template filled in, or the whole event. In a JSON template a placeholder inside quotes takes the value's
 * text, elsewhere its JSON; a path that is missing gives an empty string inside quotes and `null` elsewhere.
 *
 * @example
 * ```ts
 * targetInput({ inputTransformer: { InputPathsMap: { key: '$.detail.object.key' },
 *   InputTemplate: '{"file": "<key>"}' } } as RuleTarget, event, rule); // '{"file": "churn/incoming/a.csv"}'
 * ```
 */
export function targetInput(
  target: RuleTarget,
  event: BusEvent,
  rule: { name: string; arn: string },
): string {
  if (target.input !== undefined) return target.input;
  if (target.inputPath !== undefined) return JSON.stringify(jsonPathValue(target.inputPath, event) ?? null);
  if (!target.inputTransformer) return JSON.stringify(event);
  const values: Record<string, unknown> = {
    'aws.events.rule-arn': rule.arn,
    'aws.events.rule-name': rule.name,
    'aws.events.event.ingestion-time': event.time,
    'aws.events.event': event,
    'aws.events.event.json': event,
  };
  for (const [name, path] of Object.entries(target.inputTransformer.InputPathsMap ?? {})) {
    values[name] = jsonPathValue(path, event);
  }
  const template = target.inputTransformer.InputTemplate;
  const json = /^\s*[{["]/.test(template);
  let output = '';
  let inString = false;
  for (let i = 0; i < template.length; i += 1) {
    const char = template[i]!;
    if (json && char === '"' && template[i - 1] !== '\\') inString = !inString;
    if (char === '<') {
      const end = template.indexOf('>', i);
      const name = end > 0 ? template.slice(i + 1, end) : '';
      if (name in values) {
        const value = values[name];
        if (!json) output += typeof value === 'string' ? value : JSON.stringify(value ?? '');
        else if (inString) {
          const text = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
          output += JSON.stringify(text).slice(1, -1);
        } else output += JSON.stringify(value ?? null);
        i = end;
        continue;
      }
    }
    output += char;
  }
  return output;
}

/** Delivers what a rule sends to one target; throws when the target cannot take it. */
export type TargetDelivery = (
  target: RuleTarget,
  input: string,
  event: BusEvent,
  rule: RuleDefinition,
) => void;

/**
 * Matches events against the rules and hands each matching target its input.
 *
 * @example
 * ```ts
 * const router = new EventRouter(rules, identity, () => clock.now(), deliver, timeline);
 * router.putEvents([{ Source: 'driftwatch', DetailType: 'Drift Detected', Detail: '{}' }]);
 * ```
 */
export class EventRouter {
  readonly rules: readonly RuleDefinition[];
  private readonly identity: LocalIdentity;
  private readonly now: () => number;
  private readonly deliver: TargetDelivery;
  private readonly observe: (event: BusEvent, bus: string, matched: RuleDefinition[]) => void;

  constructor(options: {
    rules: readonly RuleDefinition[];
    identity: LocalIdentity;
    now: () => number;
    deliver: TargetDelivery;
    /** Called for every event put, with the rules it matched. */
    observe?: (event: BusEvent, bus: string, matched: RuleDefinition[]) => void;
  }) {
    this.rules = options.rules;
    this.identity = options.identity;
    this.now = options.now;
    this.deliver = options.deliver;
    this.observe = options.observe ?? (() => {});
  }

  /** Builds an event as EventBridge does for `PutEvents` entries and for service events. */
  event(fields: {
    source: string;
    detailType: string;
    detail: unknown;
    resources?: string[];
    time?: number;
  }): BusEvent {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': fields.detailType,
      source: fields.source,
      account: this.identity.accountId,
      time: new Date(fields.time ?? this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.identity.region,
      resources: fields.resources ?? [],
      detail: fields.detail,
    };
  }

  /** `PutEvents`: checks each entry as EventBridge does, then routes it. */
  putEvents(entries: readonly PutEventsEntry[]): PutEventsResult[] {
    return entries.map((entry) => {
      if (
        typeof entry.Source !== 'string' ||
        typeof entry.DetailType !== 'string' ||
        typeof entry.Detail !== 'string'
      ) {
        return {
          ErrorCode: 'InvalidArgument',
          ErrorMessage: 'Parameters Source, DetailType and Detail are required.',
        };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail);
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (!isObject(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      const event = this.event({
        source: entry.Source,
        detailType: entry.DetailType,
        detail,
        ...(entry.Resources ? { resources: entry.Resources } : {}),
        ...(typeof entry.Time === 'number' ? { time: entry.Time * 1000 } : {}),
      });
      this.route(event, busNameOf(entry.EventBusName));
      return { EventId: event.id };
    });
  }

  /** Sends `event` to the targets of every enabled rule of `bus` whose pattern it matches. */
  route(event: BusEvent, bus = 'default'): RuleDefinition[] {
    const matched = this.rules.filter(
      (rule) =>
        rule.enabled &&
        rule.bus === bus &&
        rule.eventPattern &&
        matchesEventPattern(rule.eventPattern, event),
    );
    this.observe(event, bus, matched);
    for (const rule of matched) this.sendToTargets(rule, event);
    return matched;
  }

  /** Sends `event` to every target of `rule` (also used by scheduled rules). */
  sendToTargets(rule: RuleDefinition, event: BusEvent): void {
    for (const target of rule.targets) this.deliver(target, targetInput(target, event, rule), event, rule);
  }
}

/** What s3rver reports for a created object (an S3 event notification record). */
export interface S3NotificationRecord {
  eventName: string;
  s3: {
    bucket: { name: string };
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer?: string };
  };
}

const REASONS: Record<string, string> = {
  'ObjectCreated:Put': 'PutObject',
  'ObjectCreated:Copy': 'CopyObject',
  'ObjectCreated:Post': 'POST Object',
  'ObjectCreated:CompleteMultipartUpload': 'CompleteMultipartUpload',
};

/**
 * The EventBridge `Object Created` event S3 sends for a notification record, or undefined for other
 * events (removals). The key is not URL-encoded (EventBridge events carry keys as they are); the version
 * id is there only when the record has one (s3rver does not version).
 */
export function objectCreatedDetail(
  record: S3NotificationRecord,
  sequencer: string,
  requester: string,
): { detail: Record<string, unknown>; reason: string } | undefined {
  if (!record.eventName.startsWith('ObjectCreated:')) return undefined;
  const object = record.s3.object;
  const reason =
    record.eventName === 'ObjectCreated:Post' && object.eTag?.includes('-')
      ? 'CompleteMultipartUpload'
      : (REASONS[record.eventName] ?? 'PutObject');
  return {
    reason,
    detail: {
      version: '0',
      bucket: { name: record.s3.bucket.name },
      object: {
        key: object.key,
        size: object.size ?? 0,
        ...(object.eTag === undefined ? {} : { etag: object.eTag.replaceAll('"', '') }),
        ...(object.versionId === undefined ? {} : { 'version-id': object.versionId }),
        sequencer,
      },
      'request-id': randomUUID().replaceAll('-', '').slice(0, 16).toUpperCase(),
      requester,
      'source-ip-address': '127.0.0.1',
      reason,
    },
  };
}
