/**
 * EventBridge Scheduler on the local clock: every enabled `AWS::Scheduler::Schedule` (and every
 * EventBridge rule with a `ScheduleExpression`) fires when the clock passes its next time, in its time
 * zone, between its start and end dates. The target's `Input` gets the Scheduler's context attributes
 * (`<aws.scheduler.scheduled-time>`, `<aws.scheduler.execution-id>`, `<aws.scheduler.schedule-arn>`,
 * `<aws.scheduler.attempt-number>`) filled in. As in EventBridge Scheduler, a rate schedule without a
 * `StartDate` fires as soon as it exists (when the local AWS starts), then every period.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, ClockTimer } from './clock.ts';
import { nextFireTime, parseScheduleExpression, type ScheduleExpression } from './schedule-expression.ts';
import type { Timeline } from './timeline.ts';

/** One schedule's target, resolved. */
export interface ScheduleTarget {
  arn: string;
  input?: string;
  roleArn?: string;
  /** `EventBridgeParameters` of a target that is an event bus. */
  eventBridgeParameters?: { DetailType: string; Source: string };
}

export interface ScheduleDefinition {
  logicalId: string;
  name: string;
  arn: string;
  expression: string;
  timeZone: string;
  enabled: boolean;
  startDate?: number;
  endDate?: number;
  target: ScheduleTarget;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads an `AWS::Scheduler::Schedule`'s resolved properties. */
export function scheduleFromProperties(
  logicalId: string,
  name: string,
  arn: string,
  properties: Record<string, unknown>,
): ScheduleDefinition {
  const target = isObject(properties['Target']) ? properties['Target'] : {};
  const date = (value: unknown) => (typeof value === 'string' ? Date.parse(value) : undefined);
  const start = date(properties['StartDate']);
  const end = date(properties['EndDate']);
  return {
    logicalId,
    name,
    arn,
    expression: String(properties['ScheduleExpression']),
    timeZone:
      typeof properties['ScheduleExpressionTimezone'] === 'string'
        ? properties['ScheduleExpressionTimezone']
        : 'UTC',
    enabled: properties['State'] !== 'DISABLED',
    ...(start === undefined ? {} : { startDate: start }),
    ...(end === undefined ? {} : { endDate: end }),
    target: {
      arn: String(target['Arn']),
      ...(typeof target['Input'] === 'string' ? { input: target['Input'] } : {}),
      ...(typeof target['RoleArn'] === 'string' ? { roleArn: target['RoleArn'] } : {}),
      ...(isObject(target['EventBridgeParameters'])
        ? {
            eventBridgeParameters: target[
              'EventBridgeParameters'
            ] as ScheduleTarget['eventBridgeParameters'] & object,
          }
        : {}),
    },
  };
}

/** The target input with the Scheduler's context attributes filled in. */
export function scheduledInput(
  input: string | undefined,
  context: { scheduleArn: string; scheduledTime: string; executionId: string; attemptNumber: number },
): string | undefined {
  if (input === undefined) return undefined;
  return input
    .replaceAll('<aws.scheduler.schedule-arn>', context.scheduleArn)
    .replaceAll('<aws.scheduler.scheduled-time>', context.scheduledTime)
    .replaceAll('<aws.scheduler.execution-id>', context.executionId)
    .replaceAll('<aws.scheduler.attempt-number>', String(context.attemptNumber));
}

/** Fires a schedule's target; the local AWS decides how by its ARN. */
export type ScheduleFire = (
  schedule: ScheduleDefinition,
  input: string | undefined,
  context: { scheduledTime: string; executionId: string },
) => Promise<void> | void;

/**
 * Keeps one clock timer per enabled schedule, re-armed after each fire.
 *
 * @example
 * ```ts
 * const scheduler = new LocalScheduler(schedules, clock, fire, timeline);
 * scheduler.start();
 * await clock.advance(24 * 3_600_000);
 * ```
 */
export class LocalScheduler {
  readonly schedules: readonly ScheduleDefinition[];
  private readonly clock: Clock;
  private readonly fire: ScheduleFire;
  private readonly timeline: Timeline;
  private readonly parsed = new Map<string, ScheduleExpression>();
  private readonly timers = new Map<string, ClockTimer>();
  private readonly createdAt: number;

  constructor(
    schedules: readonly ScheduleDefinition[],
    clock: Clock,
    fire: ScheduleFire,
    timeline: Timeline,
  ) {
    this.schedules = schedules;
    this.clock = clock;
    this.fire = fire;
    this.timeline = timeline;
    this.createdAt = clock.now();
    for (const schedule of schedules)
      this.parsed.set(schedule.arn, parseScheduleExpression(schedule.expression));
  }

  /** Arms every enabled schedule. */
  start(): void {
    for (const schedule of this.schedules) if (schedule.enabled) this.arm(schedule, this.clock.now() - 1);
  }

  stop(): void {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }

  /** The next fire time of a schedule, if armed. */
  next(scheduleName: string): number | undefined {
    const schedule = this.schedules.find((candidate) => candidate.name === scheduleName);
    return schedule ? this.timers.get(schedule.arn)?.time : undefined;
  }

  private arm(schedule: ScheduleDefinition, after: number): void {
    const expression = this.parsed.get(schedule.arn)!;
    const time = nextFireTime(expression, after, {
      timeZone: schedule.timeZone,
      // A rate schedule without a start date starts when it is created.
      start: schedule.startDate ?? (expression.kind === 'rate' ? this.createdAt : undefined),
      ...(schedule.endDate === undefined ? {} : { end: schedule.endDate }),
    });
    if (time === undefined) {
      this.timers.delete(schedule.arn);
      return;
    }
    this.timers.set(
      schedule.arn,
      this.clock.at(time, () => this.fired(schedule, time), `schedule ${schedule.name}`),
    );
  }

  private async fired(schedule: ScheduleDefinition, time: number): Promise<void> {
    this.arm(schedule, time);
    const scheduledTime = new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const executionId = randomUUID();
    const input = scheduledInput(schedule.target.input, {
      scheduleArn: schedule.arn,
      scheduledTime,
      executionId,
      attemptNumber: 1,
    });
    try {
      await this.fire(schedule, input, { scheduledTime, executionId });
      this.timeline.record({
        type: 'schedule-fired',
        schedule: schedule.name,
        target: schedule.target.arn,
        scheduledTime,
      });
    } catch (error) {
      this.timeline.record({
        type: 'schedule-fired',
        schedule: schedule.name,
        target: schedule.target.arn,
        scheduledTime,
        error: String((error as Error)?.message ?? error),
      });
    }
  }
}
