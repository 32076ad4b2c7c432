/** Named errors of the local AWS: each names the template resource, expression or request at fault. */

/** The CDK app could not be synthesized: its exit code and what it printed on stderr. */
export class SynthesisError extends Error {
  override readonly name = 'SynthesisError';
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(command: string, exitCode: number | null, stderr: string) {
    super(
      `${command} exited with ${exitCode ?? 'a signal'}:\n${stderr.trim().split('\n').slice(-20).join('\n')}`,
    );
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Something in the template the local AWS cannot read: an unknown intrinsic, resource or attribute. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  /** Where: a logical id, optionally with the property path (`DriftchurnFunction.Environment`). */
  readonly location: string;

  constructor(location: string, reason: string) {
    super(`${location}: ${reason}`);
    this.location = location;
  }
}

/** A `rate(...)`, `cron(...)` or `at(...)` expression that is not valid, or a time zone Intl does not know. */
export class ScheduleExpressionError extends Error {
  override readonly name = 'ScheduleExpressionError';
  readonly expression: string;

  constructor(expression: string, reason: string) {
    super(`${JSON.stringify(expression)}: ${reason}`);
    this.expression = expression;
  }
}

/** An EventBridge event pattern (or SNS filter policy) that is not valid. */
export class EventPatternError extends Error {
  override readonly name = 'EventPatternError';
  /** JSON path of the bad part of the pattern, e.g. `detail.object.key[0]`. */
  readonly path: string;

  constructor(path: string, reason: string) {
    super(`event pattern ${path === '' ? '(root)' : path}: ${reason}`);
    this.path = path;
  }
}

/** A CloudWatch metric math expression the local evaluator cannot parse or does not implement. */
export class MetricMathError extends Error {
  override readonly name = 'MetricMathError';
  readonly expression: string;

  constructor(expression: string, reason: string) {
    super(`metric math ${JSON.stringify(expression)}: ${reason}`);
    this.expression = expression;
  }
}

/**
 * An API error of a local service, answered to the SDK in the protocol's error format: `code` is the AWS
 * error code (`QueueDoesNotExist`, `NotFound`), `sender` tells whether the caller (true) or the service is
 * at fault.
 */
export class LocalServiceError extends Error {
  override readonly name = 'LocalServiceError';
  readonly code: string;
  readonly status: number;
  readonly sender: boolean;
  /** The error code of the service's older query protocol, for JSON services that are query-compatible. */
  readonly queryCode?: string;

  constructor(
    code: string,
    message: string,
    options: { status?: number; sender?: boolean; queryCode?: string } = {},
  ) {
    super(message);
    this.code = code;
    this.status = options.status ?? 400;
    this.sender = options.sender ?? true;
    if (options.queryCode !== undefined) this.queryCode = options.queryCode;
  }
}
