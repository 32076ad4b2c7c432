import type { IncomingMessage, ServerResponse } from 'node:http';
import { scoreRows } from '../trainers/model.ts';
import { seededRandom } from '../trainers/random.ts';
import { DataCapture } from './capture.ts';
import type { EmulatorContext } from './context.ts';
import type { DeployedVariant, EndpointRecord } from './endpoints.ts';
import { formatScores, PayloadError, parseInstances } from './payload.ts';
import { readBody, send } from './protocol.ts';

/** One call of a variant's model, as CloudWatch's per-variant invocation metrics count it. */
export interface InvocationRecord {
  endpoint: string;
  variant: string;
  shadow: boolean;
  /** Milliseconds since the epoch on the emulator's clock. */
  timestamp: number;
  /** `ok`, or the class of the model's error (`4xx` for a bad payload, `5xx` for an injected fault). */
  outcome: 'ok' | '4xx' | '5xx';
  /** Time spent scoring, in microseconds (CloudWatch's ModelLatency unit); absent for injected faults. */
  modelLatencyMicros?: number;
}

/** What a shadow variant answered: kept for comparison, never returned to the caller. */
export interface ShadowResult {
  endpoint: string;
  variant: string;
  timestamp: number;
  contentType: string;
  body: string;
}

/**
 * A fault to inject into invocations of a variant (of one endpoint, or of any endpoint with a variant of
 * that name). `model-error` makes the model answer `statusCode` (a ModelError to the caller, counted as a
 * 4XX or 5XX error); `throttle` rejects the request before it reaches a model (ThrottlingException).
 */
export interface FaultRule {
  endpoint?: string;
  variant: string;
  /** Share of requests that fail, in [0, 1], drawn with the emulator's seeded generator. */
  errorRate: number;
  /** @default 'model-error' */
  kind?: 'model-error' | 'throttle';
  /** @default 500 */
  statusCode?: number;
}

/** Invocation counts of one variant, as CloudWatch's AWS/SageMaker metrics would sum them. */
export interface VariantStats {
  endpoint: string;
  variant: string;
  shadow: boolean;
  invocations: number;
  invocation4XXErrors: number;
  invocation5XXErrors: number;
  /** Microseconds. Null fields when no call reached the model. */
  modelLatency: { count: number; average: number | null; min: number | null; max: number | null };
}

export interface StatsFilter {
  endpoint?: string;
  variant?: string;
  /** Only invocations at or after this time (milliseconds since the epoch). */
  since?: number;
}

const MAX_SHADOW_RESULTS = 1000;

/** An error of the runtime's REST JSON protocol: the type in `x-amzn-errortype`, the fields in the body. */
class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  readonly type: string;
  readonly status: number;
  readonly fields: Record<string, unknown>;

  constructor(type: string, status: number, message: string, fields: Record<string, unknown> = {}) {
    super(message);
    this.type = type;
    this.status = status;
    this.fields = fields;
  }
}

/**
 * SageMaker Runtime's InvokeEndpoint: routes each request to a production variant at random in proportion
 * to the current weights (or to the `X-Amzn-SageMaker-Target-Variant`), scores it with the variant's model,
 * also scores a copy on every shadow variant, and records per-variant counts and latencies.
 */
export class Runtime {
  private readonly context: EmulatorContext;
  private readonly routing: () => number;
  private readonly faultDraws: () => number;
  private faults: FaultRule[] = [];

  /** Data Capture of the endpoints whose config asks for it. */
  readonly capture: DataCapture;

  constructor(context: EmulatorContext, seed: number) {
    this.context = context;
    this.capture = new DataCapture(context, seed);
    // Separate generators, so injecting faults does not change which variant a request goes to.
    this.routing = seededRandom(seed);
    this.faultDraws = seededRandom(seed ^ 0x5eed);
  }

  injectFaults(rule: FaultRule): void {
    if (!(rule.errorRate >= 0 && rule.errorRate <= 1))
      throw new RangeError(`errorRate must be in [0, 1], got ${rule.errorRate}`);
    this.faults.push(rule);
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Counts per variant, in the order variants were first invoked. */
  stats(filter: StatsFilter = {}): VariantStats[] {
    const byVariant = new Map<string, VariantStats & { latencySum: number }>();
    for (const record of this.context.state.invocations) {
      if (filter.endpoint !== undefined && record.endpoint !== filter.endpoint) continue;
      if (filter.variant !== undefined && record.variant !== filter.variant) continue;
      if (filter.since !== undefined && record.timestamp < filter.since) continue;
      const key = `${record.endpoint}\u0000${record.variant}`;
      let stats = byVariant.get(key);
      if (stats === undefined) {
        stats = {
          endpoint: record.endpoint,
          variant: record.variant,
          shadow: record.shadow,
          invocations: 0,
          invocation4XXErrors: 0,
          invocation5XXErrors: 0,
          modelLatency: { count: 0, average: null, min: null, max: null },
          latencySum: 0,
        };
        byVariant.set(key, stats);
      }
      stats.invocations++;
      if (record.outcome === '4xx') stats.invocation4XXErrors++;
      if (record.outcome === '5xx') stats.invocation5XXErrors++;
      const latency = record.modelLatencyMicros;
      if (latency !== undefined) {
        const summary = stats.modelLatency;
        summary.count++;
        stats.latencySum += latency;
        summary.min = Math.min(summary.min ?? latency, latency);
        summary.max = Math.max(summary.max ?? latency, latency);
        summary.average = stats.latencySum / summary.count;
      }
    }
    return [...byVariant.values()].map(({ latencySum: _, ...stats }) => stats);
  }

  /** Answers `POST /endpoints/{name}/invocations`. */
  async handle(request: IncomingMessage, response: ServerResponse, endpointName: string): Promise<void> {
    const body = await readBody(request);
    try {
      const answer = this.invoke(endpointName, request.headers, body);
      send(response, 200, answer.body, {
        'content-type': answer.contentType,
        'x-amzn-invoked-production-variant': answer.variant,
      });
    } catch (error) {
      if (!(error instanceof RuntimeError)) throw error;
      send(response, error.status, JSON.stringify({ Message: error.message, ...error.fields }), {
        'content-type': 'application/json',
        'x-amzn-errortype': error.type,
      });
    }
  }

  private invoke(endpointName: string, headers: IncomingMessage['headers'], body: Uint8Array) {
    const { accountId, state } = this.context;
    const endpoint = state.endpoints.get(endpointName);
    // An endpoint serves from its first InService until it is deleted, through its updates.
    if (
      endpoint === undefined ||
      endpoint.variants.length === 0 ||
      !['InService', 'Updating'].includes(endpoint.status)
    ) {
      throw new RuntimeError(
        'ValidationError',
        400,
        `Endpoint ${endpointName} of account ${accountId} not found.`,
      );
    }
    const target = header(headers, 'x-amzn-sagemaker-target-variant');
    const variant =
      target === undefined ? this.route(endpoint) : endpoint.variants.find((item) => item.name === target);
    if (variant === undefined) {
      throw new RuntimeError(
        'ValidationError',
        400,
        `Variant ${target} not found for endpoint ${endpointName}.`,
      );
    }
    const contentType = header(headers, 'content-type');
    const accept = header(headers, 'accept');

    const fault = this.faults.find(
      (rule) =>
        rule.variant === variant.name && (rule.endpoint === undefined || rule.endpoint === endpoint.name),
    );
    if (fault !== undefined && this.faultDraws() < fault.errorRate) {
      if (fault.kind === 'throttle') throw new RuntimeError('ThrottlingException', 400, 'Rate exceeded');
      const status = fault.statusCode ?? 500;
      this.record(endpoint, variant, false, status >= 500 ? '5xx' : '4xx');
      throw this.modelError(endpoint, status, 'injected fault');
    }

    let answer: { contentType: string; body: string };
    const started = process.hrtime.bigint();
    try {
      answer = this.score(variant, contentType, accept, body);
    } catch (error) {
      if (!(error instanceof PayloadError)) throw error;
      this.record(endpoint, variant, false, '4xx', started);
      throw this.modelError(endpoint, error.status, error.message);
    }
    this.record(endpoint, variant, false, 'ok', started);
    this.capture.record({
      endpoint,
      variant: variant.name,
      requestContentType: contentType,
      requestBody: body,
      responseContentType: answer.contentType,
      responseBody: answer.body,
      inferenceId: header(headers, 'x-amzn-sagemaker-inference-id'),
    });

    for (const shadow of endpoint.shadowVariants) {
      const shadowStarted = process.hrtime.bigint();
      try {
        const result = this.score(shadow, contentType, accept, body);
        this.record(endpoint, shadow, true, 'ok', shadowStarted);
        state.shadowResults.push({
          endpoint: endpoint.name,
          variant: shadow.name,
          timestamp: this.context.clock.now(),
          ...result,
        });
        if (state.shadowResults.length > MAX_SHADOW_RESULTS) state.shadowResults.shift();
      } catch (error) {
        if (!(error instanceof PayloadError)) throw error;
        this.record(endpoint, shadow, true, '4xx', shadowStarted);
      }
    }
    return { ...answer, variant: variant.name };
  }

  private score(
    variant: DeployedVariant,
    contentType: string | undefined,
    accept: string | undefined,
    body: Uint8Array,
  ) {
    const instances = parseInstances(variant.model, contentType, body);
    return formatScores(accept, contentType, scoreRows(variant.model, instances));
  }

  /** Picks a production variant with probability CurrentWeight / Σ CurrentWeight. */
  private route(endpoint: EndpointRecord): DeployedVariant {
    const total = endpoint.variants.reduce((sum, variant) => sum + variant.currentWeight, 0);
    if (!(total > 0)) {
      throw new RuntimeError(
        'ValidationError',
        400,
        `Endpoint ${endpoint.name} has no production variant with a weight above 0.`,
      );
    }
    let draw = this.routing() * total;
    for (const variant of endpoint.variants) {
      draw -= variant.currentWeight;
      if (draw < 0) return variant;
    }
    // Rounding can leave a sliver past the last variant: it belongs to the last one with weight.
    return endpoint.variants.findLast((variant) => variant.currentWeight > 0)!;
  }

  private record(
    endpoint: EndpointRecord,
    variant: DeployedVariant,
    shadow: boolean,
    outcome: InvocationRecord['outcome'],
    started?: bigint,
  ): void {
    const record: InvocationRecord = {
      endpoint: endpoint.name,
      variant: variant.name,
      shadow,
      timestamp: this.context.clock.now(),
      outcome,
    };
    if (started !== undefined) record.modelLatencyMicros = Number(process.hrtime.bigint() - started) / 1000;
    this.context.state.invocations.push(record);
  }

  /** What SageMaker answers when the model container returns an error status. */
  private modelError(endpoint: EndpointRecord, status: number, message: string): RuntimeError {
    const { region, accountId } = this.context;
    const logGroup = `/aws/sagemaker/Endpoints/${endpoint.name}`;
    const kind = status >= 500 ? 'server' : 'client';
    return new RuntimeError(
      'ModelError',
      424,
      `Received ${kind} error (${status}) from primary with message "${message}". See https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logEventViewer:group=${logGroup} in account ${accountId} for more information.`,
      {
        OriginalStatusCode: status,
        OriginalMessage: message,
        LogStreamArn: `arn:aws:logs:${region}:${accountId}:log-group:${logGroup}`,
      },
    );
  }
}

function header(headers: IncomingMessage['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
