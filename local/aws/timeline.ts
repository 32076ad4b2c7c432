/**
 * What happened in the local AWS, in order: objects created, events routed, invocations and their results,
 * metrics, alarm state changes, SNS messages, executions, schedules. Tests assert on it; the local CLI
 * prints it.
 */

/** An EMF metric value or a value the local runtime computed (Lambda Errors, SQS queue depth). */
export interface TimelineMetric {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  value: number;
  unit?: string;
}

/** The kinds of timeline entries and what each carries. */
export type TimelineEntry =
  | { type: 'object-created'; bucket: string; key: string; size: number; etag: string | null; reason: string }
  | { type: 'event-put'; bus: string; source: string; detailType: string; eventId: string; rules: string[] }
  | { type: 'event-delivered'; rule: string; target: string; eventId: string; error?: string }
  | { type: 'message-sent'; queue: string; messageId: string }
  | {
      type: 'message-dead-lettered';
      queue: string;
      deadLetterQueue: string;
      messageId: string;
      receiveCount: number;
    }
  | { type: 'function-invoked'; function: string; requestId: string; trigger: string }
  | {
      type: 'function-finished';
      function: string;
      requestId: string;
      status: 'succeeded' | 'failed';
      durationMs: number;
      result?: unknown;
      error?: { errorType: string; errorMessage: string };
      /** stdout and stderr lines other than EMF documents. */
      logs: string[];
    }
  | ({ type: 'metric'; source: string } & TimelineMetric)
  | { type: 'alarm-state'; alarm: string; from: string; to: string; reason: string }
  | {
      type: 'sns-message';
      topic: string;
      messageId: string;
      subject?: string;
      message: string;
      deliveries: string[];
    }
  | { type: 'execution-started'; stateMachine: string; executionArn: string; input: string }
  | {
      type: 'execution-finished';
      stateMachine: string;
      executionArn: string;
      status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
      output?: string;
      error?: string;
      cause?: string;
    }
  | { type: 'schedule-fired'; schedule: string; target: string; scheduledTime: string; error?: string }
  /** A call IAM or KMS refused (local mode enforces the template's policies). */
  | { type: 'access-denied'; principal: string; action: string; resource: string; reason: string };

/** A timeline entry with its local clock time and position. */
export type TimelineEvent = TimelineEntry & {
  /** Local clock time, ISO 8601. */
  time: string;
  sequence: number;
};

export type TimelineType = TimelineEntry['type'];

/**
 * An append-only record of {@link TimelineEvent}s.
 *
 * @example
 * ```ts
 * timeline.ofType('alarm-state').filter((change) => change.to === 'ALARM');
 * ```
 */
export class Timeline {
  readonly events: TimelineEvent[] = [];
  private readonly listeners = new Set<(event: TimelineEvent) => void>();
  private readonly now: () => number;

  constructor(now: () => number) {
    this.now = now;
  }

  record(entry: TimelineEntry): TimelineEvent {
    const event = { ...entry, time: new Date(this.now()).toISOString(), sequence: this.events.length };
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Calls `listener` for each new entry; returns the function that stops it. */
  on(listener: (event: TimelineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  ofType<T extends TimelineType>(type: T): Extract<TimelineEvent, { type: T }>[] {
    return this.events.filter((event): event is Extract<TimelineEvent, { type: T }> => event.type === type);
  }
}
